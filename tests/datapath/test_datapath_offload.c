/* End to end on the emulator, offloads: a guest sends one TCP/IPv4 or
 * TCP/IPv6 GSO packet (GSO extra, csum_blank, SG). A receiving guest that
 * negotiated GSO gets it whole with the GSO extra; one that did not gets
 * MSS-sized segments whose headers and checksums are right (recomputed
 * here) and whose payloads are exactly the original stream. Checksum
 * offload for IPv6 both ways (feature-ipv6-csum-offload asked or not), for
 * a receiver that takes one family's blank checksums and not the other's
 * (Linux keeps NETIF_F_IP_CSUM and NETIF_F_IPV6_CSUM apart), and
 * data_validated passed on only when the sender said so. */
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
#define HDRS4 (14 + 20 + 20)
#define HDRS6 (14 + 40 + 20)
#define CSUM_PAYLOAD 1000             /* a csum-only (no GSO) case's TCP payload */
#define MAX_LEN (HDRS6 + SEGS * MSS)
#define TCP_SEQ0 1000000u
#define MAX_RX 64

struct gso_case {
    uint8_t tx_mac[6], rx_mac[6];
    bool v6;                        /* TCP/IPv6 instead of TCP/IPv4 */
    bool gso;                       /* a GSO packet (else one csum_blank frame) */
    bool full_csum;                 /* sent with its checksum complete, no csum_blank */
    uint16_t tx_flags;              /* NETTXF_* of the packet */
    bool rx_gso;                    /* receiver writes feature-gso-tcpv4/6 */
    bool rx_no_ipv6_csum;           /* receiver doesn't write feature-ipv6-csum-offload */
    bool rx_no_ipv4_csum;           /* receiver writes feature-no-csum-offload=1 */
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
    bool equal_but_csum;            /* ... except the TCP checksum field */
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

static size_t hdrs(const struct gso_case *c)
{
    return c->v6 ? HDRS6 : HDRS4;
}

static size_t frame_len(const struct gso_case *c)
{
    return hdrs(c) + (c->gso ? SEGS * MSS : CSUM_PAYLOAD);
}

static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static uint32_t get16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t get32(const uint8_t *p) { return get16(p) << 16 | get16(p + 2); }

/* fd00::1 -> fd00::2 */
static void ip6_addr(uint8_t *a, uint8_t last)
{
    memset(a, 0, 16);
    a[0] = 0xfd;
    a[15] = last;
}

/* The IPv6 pseudo-header sum for a TCP segment of tcplen bytes. */
static uint32_t pseudo6(const uint8_t *ip6, uint32_t tcplen)
{
    uint8_t tail[8] = { (uint8_t)(tcplen >> 24), (uint8_t)(tcplen >> 16), (uint8_t)(tcplen >> 8),
                        (uint8_t)tcplen, 0, 0, 0, 6 };
    return nf_csum_add(nf_csum_add(0, ip6 + 8, 32), tail, 8);
}

/* An Ethernet/IPv6/TCP frame of len bytes carrying stream bytes from
 * tcp_seq (as nf_build_tcp4 does for IPv4); partial: the checksum field
 * holds the pseudo-header sum (csum_blank / GSO). */
static void build_tcp6(uint8_t *buf, size_t len, const uint8_t dst[6], const uint8_t src[6],
                       uint32_t tcp_seq, bool partial)
{
    uint8_t *ip = buf + 14, *tcp = ip + 40;
    uint32_t tcplen = (uint32_t)(len - 54);

    memcpy(buf, dst, 6);
    memcpy(buf + 6, src, 6);
    put16(buf + 12, 0x86dd);
    memset(ip, 0, 40);
    ip[0] = 0x60;
    put16(ip + 4, tcplen);
    ip[6] = 6;      /* TCP */
    ip[7] = 64;
    ip6_addr(ip + 8, 1);
    ip6_addr(ip + 24, 2);
    memset(tcp, 0, 20);
    put16(tcp, 40000);
    put16(tcp + 2, 5001);
    tcp[4] = (uint8_t)(tcp_seq >> 24); tcp[5] = (uint8_t)(tcp_seq >> 16);
    tcp[6] = (uint8_t)(tcp_seq >> 8); tcp[7] = (uint8_t)tcp_seq;
    tcp[11] = 1;
    tcp[12] = 5 << 4;
    tcp[13] = 0x18;
    put16(tcp + 14, 65535);
    for (uint32_t i = 20; i < tcplen; i++)
        tcp[i] = nf_stream_byte(tcp_seq + i - 20);
    uint32_t ps = pseudo6(ip, tcplen);
    put16(tcp + 16, partial ? nf_csum_fold(ps) : (uint16_t)~nf_csum_fold(nf_csum_add(ps, tcp, tcplen)));
}

/* For a TCP/IPv6 frame: right payload length and TCP checksum? Its
 * sequence number and payload (NULL if not such a frame). */
static const uint8_t *tcp6_payload(const uint8_t *buf, size_t len, bool *csum_ok,
                                   uint32_t *tcp_seq, size_t *plen)
{
    const uint8_t *ip = buf + 14, *tcp = ip + 40;

    *csum_ok = false;
    if (len < 74 || get16(buf + 12) != 0x86dd || ip[6] != 6 || get16(ip + 4) != len - 54)
        return NULL;
    *csum_ok = nf_csum_fold(nf_csum_add(pseudo6(ip, (uint32_t)(len - 54)), tcp, len - 54)) == 0xffff;
    *tcp_seq = get32(tcp + 4);
    *plen = len - 74;
    return tcp + 20;
}

static void build_gso(const struct gso_case *c, uint8_t *buf)
{
    if (c->v6)
        build_tcp6(buf, frame_len(c), c->rx_mac, c->tx_mac, TCP_SEQ0, !c->full_csum);
    else
        nf_build_tcp4(buf, frame_len(c), c->rx_mac, c->tx_mac, htonl(0x0a000001),
                      htonl(0x0a000002), TCP_SEQ0, !c->full_csum);
}

static int gso_sender(void *arg)
{
    struct gso_case *c = arg;
    struct nf_config cfg;
    nf_config_init(&cfg);
    struct netfront *nf = dp_netfront_up(&cfg);
    if (!nf)
        return 40;
    if (!dp_wait_flag(&c->rx_ready, 1, 60))
        return 41;
    uint8_t *frame = malloc(MAX_LEN);
    if (!frame)
        return 43;
    build_gso(c, frame);
    struct nf_txpkt p;
    memset(&p, 0, sizeof(p));
    p.data = frame;
    p.len = (uint32_t)frame_len(c);
    p.flags = c->tx_flags;
    if (c->gso) {
        p.n_extras = 1;
        p.extras[0].type = XEN_NETIF_EXTRA_TYPE_GSO;
        p.extras[0].u.gso.type = c->v6 ? XEN_NETIF_GSO_TYPE_TCPV6 : XEN_NETIF_GSO_TYPE_TCPV4;
        p.extras[0].u.gso.size = MSS;
    }
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
    cfg.no_ipv6_csum_offload = c->rx_no_ipv6_csum;
    cfg.no_csum_offload = c->rx_no_ipv4_csum;
    struct netfront *nf = dp_netfront_up(&cfg);
    if (!nf)
        return 50;
    uint8_t *mem = malloc(4 * (size_t)NF_MAX_PKT + MAX_LEN);
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
    /* TSO needs the checksum offload of its family too */
    bool takes_gso = c->rx_gso && !(c->v6 ? c->rx_no_ipv6_csum : c->rx_no_ipv4_csum);
    unsigned want = c->gso && !takes_gso ? SEGS : 1;
    size_t sent_len = frame_len(c);
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
            if (k == 0 && rx[i].len == sent_len) {
                size_t cs = hdrs(c) - 4;    /* TCP checksum: 16 bytes into the 20-byte header */
                c->whole_equal = !memcmp(rx[i].buf, sent, sent_len);
                c->equal_but_csum = !memcmp(rx[i].buf, sent, cs) &&
                                    !memcmp(rx[i].buf + cs + 2, sent + cs + 2, sent_len - cs - 2);
            }
            size_t plen = 0;
            const uint8_t *pl;
            if (c->v6) {
                pl = tcp6_payload(rx[i].buf, rx[i].len, &c->csum_ok[k], &c->tcp_seq[k], &plen);
            } else {
                /* both the TCP checksum and the IPv4 header checksum */
                c->csum_ok[k] = nf_l4_csum_ok(rx[i].buf, rx[i].len) &&
                                nf_csum_fold(nf_csum_add(0, rx[i].buf + 14, 20)) == 0xffff;
                pl = nf_tcp4_payload(rx[i].buf, rx[i].len, &c->tcp_seq[k], &plen);
            }
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

/* Runs case *proto (copied into shared memory) between two fresh guests. */
static struct gso_case *run_case(void **state, const struct gso_case *proto)
{
    struct dp_suite *s = dp_suite_or_skip(state);
    struct dp_env *e = &s->env;
    unsigned g[2];
    dp_suite_guests(s, g, 2);
    unsigned a = g[0], b = g[1];
    struct gso_case *c = dp_shared_alloc(sizeof(*c));
    *c = *proto;
    dp_guest_mac(a, 0, c->tx_mac);
    dp_guest_mac(b, 0, c->rx_mac);
    pid_t rx = dp_spawn(e, b, gso_receiver, c);
    pid_t tx = dp_spawn(e, a, gso_sender, c);
    assert_int_equal(dp_wait(tx, 60), 0);
    assert_int_equal(dp_wait(rx, 60), 0);
    /* The packet's data slots (4 KiB each) were each answered OKAY (+ a
     * NULL for a GSO extra). */
    assert_int_equal(c->tx_rsp_ok, (frame_len(c) + 4095) / 4096);
    assert_int_equal(c->tx_rsp_error, 0);
    return c;
}

static struct gso_case *run_gso(void **state, bool v6, bool rx_gso)
{
    struct gso_case proto = { .v6 = v6, .gso = true, .rx_gso = rx_gso,
                              .tx_flags = NETTXF_csum_blank | NETTXF_data_validated };
    return run_case(state, &proto);
}

static void gso_whole(void **state, bool v6)
{
    struct gso_case *c = run_gso(state, v6, true);
    assert_int_equal(c->n, 1);
    assert_int_equal(c->len[0], frame_len(c));
    assert_int_equal(c->gso_type[0], v6 ? XEN_NETIF_GSO_TYPE_TCPV6 : XEN_NETIF_GSO_TYPE_TCPV4);
    assert_int_equal(c->gso_size[0], MSS);
    assert_true(c->flags[0] & NETRXF_csum_blank);
    assert_true(c->whole_equal);
    assert_true(c->payload_ok[0]);
    dp_shared_free(c, sizeof(*c));
}

static void gso_segmented(void **state, bool v6)
{
    struct gso_case *c = run_gso(state, v6, false);
    assert_int_equal(c->n, SEGS);
    uint32_t next = TCP_SEQ0;
    for (unsigned k = 0; k < c->n; k++) {
        assert_int_equal(c->gso_type[k], 0);
        assert_int_equal(c->len[k], hdrs(c) + MSS);
        assert_true(c->csum_ok[k]);
        assert_true(c->payload_ok[k]);
        assert_int_equal(c->tcp_seq[k], next);
        assert_int_equal(c->payload_len[k], MSS);
        next += c->payload_len[k];
    }
    assert_int_equal(next, TCP_SEQ0 + SEGS * MSS);
    dp_shared_free(c, sizeof(*c));
}

static void datapath_gso_to_gso_guest_arrives_whole_with_extra(void **state) { gso_whole(state, false); }
static void datapath_gso_to_guest_without_gso_is_segmented(void **state) { gso_segmented(state, false); }
static void datapath_gso_tcpv6_to_gso_guest_arrives_whole_with_extra(void **state) { gso_whole(state, true); }
static void datapath_gso_tcpv6_to_guest_without_gso_is_segmented(void **state) { gso_segmented(state, true); }

/* One TCP/IPv6 frame sent checksum-blank: a receiver that wrote
 * feature-ipv6-csum-offload gets it as sent (partial sum, csum_blank and
 * data_validated, as Linux flags a partial packet); one that didn't gets
 * it with the checksum completed, right when recomputed, no csum_blank. */
static void datapath_ipv6_csum_blank_to_guest_with_offload(void **state)
{
    struct gso_case proto = { .v6 = true, .tx_flags = NETTXF_csum_blank };
    struct gso_case *c = run_case(state, &proto);
    assert_int_equal(c->n, 1);
    assert_true(c->whole_equal);
    assert_int_equal(c->flags[0] & (NETRXF_csum_blank | NETRXF_data_validated),
                     NETRXF_csum_blank | NETRXF_data_validated);
    assert_false(c->csum_ok[0]);    /* still only the pseudo-header sum */
    dp_shared_free(c, sizeof(*c));
}

static void datapath_ipv6_csum_blank_completed_for_guest_without_offload(void **state)
{
    struct gso_case proto = { .v6 = true, .tx_flags = NETTXF_csum_blank, .rx_no_ipv6_csum = true };
    struct gso_case *c = run_case(state, &proto);
    assert_int_equal(c->n, 1);
    assert_int_equal(c->len[0], frame_len(c));
    assert_false(c->flags[0] & NETRXF_csum_blank);
    assert_true(c->csum_ok[0]);
    assert_true(c->payload_ok[0]);
    assert_false(c->whole_equal);
    assert_true(c->equal_but_csum);
    dp_shared_free(c, sizeof(*c));
}

/* A receiver that takes IPv4 blank checksums but not IPv6 ones (the Linux
 * netfront's default before feature-ipv6-csum-offload, and Windows PV
 * drivers configured so) gets IPv4 frames as sent, csum_blank and
 * data_validated, and an IPv4 GSO packet whole (TSO needs only IPv4
 * checksum offload); IPv6 ones completed (datapath_ipv6_csum_blank_
 * completed_for_guest_without_offload). And the other way round. */
static void csum_blank_one_family(void **state, bool v6, bool rx_takes_it)
{
    struct gso_case proto = { .v6 = v6, .tx_flags = NETTXF_csum_blank,
                              .rx_no_ipv6_csum = v6 != rx_takes_it,
                              .rx_no_ipv4_csum = v6 == rx_takes_it };
    struct gso_case *c = run_case(state, &proto);
    assert_int_equal(c->n, 1);
    assert_int_equal(c->len[0], frame_len(c));
    assert_true(c->payload_ok[0]);
    if (rx_takes_it) {
        assert_true(c->whole_equal);
        assert_int_equal(c->flags[0] & (NETRXF_csum_blank | NETRXF_data_validated),
                         NETRXF_csum_blank | NETRXF_data_validated);
        assert_false(c->csum_ok[0]);    /* still only the pseudo-header sum */
    } else {
        assert_false(c->flags[0] & NETRXF_csum_blank);
        assert_true(c->csum_ok[0]);
        assert_true(c->equal_but_csum);
    }
    dp_shared_free(c, sizeof(*c));
}

static void datapath_ipv4_csum_blank_to_guest_without_ipv6_offload(void **state)
{
    csum_blank_one_family(state, false, true);
}

static void datapath_ipv6_csum_blank_to_guest_with_ipv6_offload_only(void **state)
{
    csum_blank_one_family(state, true, true);
}

static void datapath_ipv4_csum_blank_completed_for_guest_with_ipv6_offload_only(void **state)
{
    csum_blank_one_family(state, false, false);
}

static void gso_one_family(void **state, bool v6, bool rx_takes_it)
{
    struct gso_case proto = { .v6 = v6, .gso = true, .rx_gso = true,
                              .tx_flags = NETTXF_csum_blank | NETTXF_data_validated,
                              .rx_no_ipv6_csum = v6 != rx_takes_it,
                              .rx_no_ipv4_csum = v6 == rx_takes_it };
    struct gso_case *c = run_case(state, &proto);
    if (rx_takes_it) {
        assert_int_equal(c->n, 1);
        assert_int_equal(c->gso_type[0], v6 ? XEN_NETIF_GSO_TYPE_TCPV6 : XEN_NETIF_GSO_TYPE_TCPV4);
        assert_true(c->whole_equal);
    } else {
        assert_int_equal(c->n, SEGS);
        for (unsigned k = 0; k < c->n; k++) {
            assert_int_equal(c->gso_type[k], 0);
            assert_true(c->csum_ok[k]);
            assert_true(c->payload_ok[k]);
        }
    }
    dp_shared_free(c, sizeof(*c));
}

static void datapath_gso_to_guest_without_ipv6_offload_arrives_whole(void **state)
{
    gso_one_family(state, false, true);
}

static void datapath_gso_tcpv6_to_guest_without_ipv6_offload_is_segmented(void **state)
{
    gso_one_family(state, true, false);
}

/* data_validated is the sender's word, passed on honestly: a complete
 * frame sent with NETTXF_data_validated arrives with NETRXF_data_validated,
 * the same frame sent without it arrives with no flag (Linux: TX
 * data_validated = CHECKSUM_UNNECESSARY, which RX turns into
 * data_validated; a plain frame is CHECKSUM_NONE). */
static void data_validated(void **state, bool v6, bool flag)
{
    struct gso_case proto = { .v6 = v6, .full_csum = true,
                              .tx_flags = flag ? NETTXF_data_validated : 0 };
    struct gso_case *c = run_case(state, &proto);
    assert_int_equal(c->n, 1);
    assert_true(c->whole_equal);
    assert_true(c->csum_ok[0]);
    assert_int_equal(c->flags[0] & (NETRXF_csum_blank | NETRXF_data_validated),
                     flag ? NETRXF_data_validated : 0);
    dp_shared_free(c, sizeof(*c));
}

static void datapath_data_validated_passed_on(void **state) { data_validated(state, false, true); }
static void datapath_data_validated_not_invented(void **state) { data_validated(state, false, false); }
static void datapath_data_validated_passed_on_ipv6(void **state) { data_validated(state, true, true); }

int main(void)
{
    if (getenv("DP_FILTER"))
        cmocka_set_test_filter(getenv("DP_FILTER"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(datapath_gso_to_gso_guest_arrives_whole_with_extra),
        cmocka_unit_test(datapath_gso_to_guest_without_gso_is_segmented),
        cmocka_unit_test(datapath_gso_tcpv6_to_gso_guest_arrives_whole_with_extra),
        cmocka_unit_test(datapath_gso_tcpv6_to_guest_without_gso_is_segmented),
        cmocka_unit_test(datapath_ipv6_csum_blank_to_guest_with_offload),
        cmocka_unit_test(datapath_ipv6_csum_blank_completed_for_guest_without_offload),
        cmocka_unit_test(datapath_ipv4_csum_blank_to_guest_without_ipv6_offload),
        cmocka_unit_test(datapath_ipv6_csum_blank_to_guest_with_ipv6_offload_only),
        cmocka_unit_test(datapath_ipv4_csum_blank_completed_for_guest_with_ipv6_offload_only),
        cmocka_unit_test(datapath_gso_to_guest_without_ipv6_offload_arrives_whole),
        cmocka_unit_test(datapath_gso_tcpv6_to_guest_without_ipv6_offload_is_segmented),
        cmocka_unit_test(datapath_data_validated_passed_on),
        cmocka_unit_test(datapath_data_validated_not_invented),
        cmocka_unit_test(datapath_data_validated_passed_on_ipv6),
    };
    return cmocka_run_group_tests(tests, suite_setup, suite_teardown);
}
