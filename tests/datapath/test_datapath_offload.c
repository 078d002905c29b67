/* End to end on the emulator, offloads: a guest sends one TCP/IPv4 GSO
 * packet (GSO extra, csum_blank, SG). A receiving guest that negotiated GSO
 * gets it whole with the GSO extra; one that did not gets MSS-sized
 * segments whose headers and checksums are right (recomputed here) and whose
 * payloads are exactly the original stream. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend/netfront/nf_frame.h"
#include "tests/datapath/dp_env.h"
#include "tests/datapath/dp_guest.h"

#define MSS 1448
#define SEGS 10
#define HDRS (14 + 20 + 20)
#define GSO_LEN (HDRS + SEGS * MSS)
#define TCP_SEQ0 1000000u
#define MAX_RX 64

struct gso_case {
    uint8_t tx_mac[6], rx_mac[6];
    bool rx_gso;                    /* receiver writes feature-gso-tcpv4 */
    int rx_ready, sent;
    /* receiver's findings */
    unsigned n;
    uint32_t len[MAX_RX];
    uint16_t flags[MAX_RX], gso_type[MAX_RX], gso_size[MAX_RX];
    bool csum_ok[MAX_RX];
    uint32_t tcp_seq[MAX_RX];
    uint32_t payload_len[MAX_RX];
    bool payload_ok[MAX_RX];
    bool whole_equal;               /* first packet == the frame as sent */
    uint64_t tx_rsp_ok, tx_rsp_error;
};

static int suite_setup(void **state)
{
    return dp_suite_setup(state, NULL);
}

static int suite_teardown(void **state)
{
    return dp_suite_teardown(state);
}

static void build_gso(const struct gso_case *c, uint8_t *buf)
{
    nf_build_tcp4(buf, GSO_LEN, c->rx_mac, c->tx_mac, htonl(0x0a000001), htonl(0x0a000002),
                  TCP_SEQ0, true);
}

static int gso_sender(void *arg)
{
    struct gso_case *c = arg;
    struct nf_config cfg;
    nf_config_init(&cfg);
    struct netfront *nf = dp_netfront_up(&cfg);
    if (!nf)
        return 40;
    if (!dp_wait_flag(&c->rx_ready, 1, 30))
        return 41;
    uint8_t *frame = malloc(GSO_LEN);
    if (!frame)
        return 43;
    build_gso(c, frame);
    struct nf_txpkt p;
    memset(&p, 0, sizeof(p));
    p.data = frame;
    p.len = GSO_LEN;
    p.flags = NETTXF_csum_blank | NETTXF_data_validated;
    p.n_extras = 1;
    p.extras[0].type = XEN_NETIF_EXTRA_TYPE_GSO;
    p.extras[0].u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
    p.extras[0].u.gso.size = MSS;
    int status = netfront_tx_burst(nf, 0, &p, 1) == 1 ? 0 : 42;
    dp_tx_drain(nf, 0, 30);
    struct nf_stats s;
    netfront_get_stats(nf, &s);
    c->tx_rsp_ok = s.tx_rsp_ok;
    c->tx_rsp_error = s.tx_rsp_error;
    __atomic_store_n(&c->sent, 1, __ATOMIC_RELEASE);
    netfront_close(nf);
    netfront_free(nf);
    free(frame);
    return status;
}

static int gso_receiver(void *arg)
{
    struct gso_case *c = arg;
    struct nf_config cfg;
    nf_config_init(&cfg);
    cfg.no_gso = !c->rx_gso;
    struct netfront *nf = dp_netfront_up(&cfg);
    if (!nf)
        return 50;
    uint8_t *mem = malloc(4 * (size_t)NF_MAX_PKT + GSO_LEN);
    if (!mem)
        return 51;
    uint8_t *sent = mem + 4 * (size_t)NF_MAX_PKT;
    build_gso(c, sent);
    struct nf_rxpkt rx[4];
    for (int i = 0; i < 4; i++) {
        rx[i].buf = mem + (size_t)i * NF_MAX_PKT;
        rx[i].cap = NF_MAX_PKT;
    }
    __atomic_store_n(&c->rx_ready, 1, __ATOMIC_RELEASE);
    unsigned want = c->rx_gso ? 1 : SEGS;
    for (double last = dp_now_s(); c->n < want && dp_now_s() - last < DP_QUIET_S;) {
        int n = netfront_rx_burst(nf, 0, rx, 4);
        if (n <= 0) {
            netfront_wait(nf, 0, NF_WAIT_EVENT, 20);
            continue;
        }
        last = dp_now_s();
        for (int i = 0; i < n && c->n < MAX_RX; i++) {
            unsigned k = c->n++;
            c->len[k] = rx[i].len;
            c->flags[k] = rx[i].flags;
            c->gso_type[k] = rx[i].gso_type;
            c->gso_size[k] = rx[i].gso_size;
            /* both the TCP checksum and the IPv4 header checksum */
            c->csum_ok[k] = nf_l4_csum_ok(rx[i].buf, rx[i].len) &&
                            nf_csum_fold(nf_csum_add(0, rx[i].buf + 14, 20)) == 0xffff;
            if (k == 0)
                c->whole_equal = rx[i].len == GSO_LEN && !memcmp(rx[i].buf, sent, GSO_LEN);
            size_t plen = 0;
            const uint8_t *pl = nf_tcp4_payload(rx[i].buf, rx[i].len, &c->tcp_seq[k], &plen);
            c->payload_len[k] = (uint32_t)plen;
            c->payload_ok[k] = pl != NULL;
            for (size_t b = 0; pl && b < plen; b++)
                if (pl[b] != nf_stream_byte(c->tcp_seq[k] + (uint32_t)b))
                    c->payload_ok[k] = false;
        }
    }
    netfront_close(nf);
    netfront_free(nf);
    free(mem);
    return 0;
}

static struct gso_case *run_gso(void **state, bool rx_gso)
{
    struct dp_suite *s = dp_suite_or_skip(state);
    struct dp_env *e = &s->env;
    unsigned g[2];
    dp_suite_guests(s, g, 2);
    unsigned a = g[0], b = g[1];
    struct gso_case *c = dp_shared_alloc(sizeof(*c));
    memset(c, 0, sizeof(*c));
    c->rx_gso = rx_gso;
    dp_guest_mac(a, 0, c->tx_mac);
    dp_guest_mac(b, 0, c->rx_mac);
    pid_t rx = dp_spawn(e, b, gso_receiver, c);
    pid_t tx = dp_spawn(e, a, gso_sender, c);
    assert_int_equal(dp_wait(tx, 60), 0);
    assert_int_equal(dp_wait(rx, 60), 0);
    /* The GSO packet took 4 data slots; each answered OKAY (+ a NULL for the extra). */
    assert_int_equal(c->tx_rsp_ok, (GSO_LEN + 4095) / 4096);
    assert_int_equal(c->tx_rsp_error, 0);
    return c;
}

static void datapath_gso_to_gso_guest_arrives_whole_with_extra(void **state)
{
    struct gso_case *c = run_gso(state, true);
    assert_int_equal(c->n, 1);
    assert_int_equal(c->len[0], GSO_LEN);
    assert_int_equal(c->gso_type[0], XEN_NETIF_GSO_TYPE_TCPV4);
    assert_int_equal(c->gso_size[0], MSS);
    assert_true(c->flags[0] & NETRXF_csum_blank);
    assert_true(c->whole_equal);
    assert_true(c->payload_ok[0]);
    dp_shared_free(c, sizeof(*c));
}

static void datapath_gso_to_guest_without_gso_is_segmented(void **state)
{
    struct gso_case *c = run_gso(state, false);
    assert_int_equal(c->n, SEGS);
    uint32_t next = TCP_SEQ0;
    for (unsigned k = 0; k < c->n; k++) {
        assert_int_equal(c->gso_type[k], 0);
        assert_int_equal(c->len[k], HDRS + MSS);
        assert_true(c->csum_ok[k]);
        assert_true(c->payload_ok[k]);
        assert_int_equal(c->tcp_seq[k], next);
        assert_int_equal(c->payload_len[k], MSS);
        next += c->payload_len[k];
    }
    assert_int_equal(next, TCP_SEQ0 + SEGS * MSS);
    dp_shared_free(c, sizeof(*c));
}

int main(void)
{
    if (getenv("DP_FILTER"))
        cmocka_set_test_filter(getenv("DP_FILTER"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(datapath_gso_to_gso_guest_arrives_whole_with_extra),
        cmocka_unit_test(datapath_gso_to_guest_without_gso_is_segmented),
    };
    return cmocka_run_group_tests(tests, suite_setup, suite_teardown);
}
