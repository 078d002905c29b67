/* End to end on the emulator: the control ring (feature-ctrl-ring) driven by
 * netfront. Every request gets the protocol's status, every XSA-270 bound is
 * refused, and a Toeplitz configuration steers RX: each packet arrives on
 * mapping[hash % size] with a hash extra whose value this test recomputes
 * with its own Toeplitz (checked against the RSS reference vector). */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "backend/netfront/nf_frame.h"
#include "tests/datapath/dp_env.h"
#include "tests/datapath/dp_guest.h"

#define QUEUES 4
#define FLOWS 64
#define PKTS 256

/* The RSS specification's key and first IPv4 vector. */
static const uint8_t RSS_KEY[40] = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};

static uint32_t toeplitz(const uint8_t *key, const uint8_t *in, unsigned len)
{
    uint32_t hash = 0, window = (uint32_t)key[0] << 24 | key[1] << 16 | key[2] << 8 | key[3];
    for (unsigned i = 0; i < len; i++) {
        for (int b = 7; b >= 0; b--) {
            if (in[i] >> b & 1)
                hash ^= window;
            unsigned next = i + 4 < 40 ? key[i + 4] : 0;
            window = window << 1 | (next >> b & 1);
        }
    }
    return hash;
}

enum { R_FLAGS_NO_ALG, R_GET_FLAGS, R_BAD_FLAGS, R_BAD_ALG, R_GET_MAP_SIZE, R_BIG_MAP_SIZE, R_MAP_SIZE,
       R_MAP_BAD_QUEUE, R_MAP_PAST_END, R_MAP_OVERFLOW, R_MAP_TOO_LONG, R_MAP_OK, R_BIG_KEY,
       R_GREF_SIZE, R_UNKNOWN, R_ALG, R_FLAGS, R_KEY, R_COUNT };

struct ctrl_case {
    uint8_t a_mac[6], b_mac[6];
    int b_ready;
    bool has_ctrl;
    int rc[R_COUNT];
    uint32_t status[R_COUNT], data[R_COUNT];
    /* steering */
    unsigned received, bad_hash, wrong_queue, no_hash;
    unsigned per_queue[QUEUES];
};

static const uint32_t MAPPING[QUEUES] = {3, 2, 1, 0};

static uint32_t flow_src(unsigned k)
{
    return htonl(0x0a020001u | (k % FLOWS) << 8);
}

static void req(struct netfront *nf, struct ctrl_case *c, int slot, uint16_t type, uint32_t d0,
                uint32_t d1, uint32_t d2)
{
    c->rc[slot] = netfront_ctrl(nf, type, d0, d1, d2, &c->status[slot], &c->data[slot], 60000);
}

static void configure(struct netfront *nf, struct ctrl_case *c)
{
    uint32_t gref;
    uint32_t *page = netfront_ctrl_page(nf, &gref);
    req(nf, c, R_FLAGS_NO_ALG, XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS, 0, 0, 0);
    req(nf, c, R_BAD_ALG, XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM, 7, 0, 0);
    req(nf, c, R_ALG, XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM,
        XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ, 0, 0);
    req(nf, c, R_GET_FLAGS, XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS, 0, 0, 0);
    req(nf, c, R_BAD_FLAGS, XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, 1u << 4, 0, 0);
    req(nf, c, R_FLAGS, XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, XEN_NETIF_CTRL_HASH_TYPE_IPV4, 0, 0);
    memcpy(page, RSS_KEY, sizeof(RSS_KEY));
    req(nf, c, R_KEY, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, gref, sizeof(RSS_KEY), 0);
    req(nf, c, R_BIG_KEY, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, gref, 41, 0);
    req(nf, c, R_GET_MAP_SIZE, XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE, 0, 0, 0);
    req(nf, c, R_BIG_MAP_SIZE, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, 129, 0, 0);
    req(nf, c, R_MAP_SIZE, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, QUEUES, 0, 0);
    page[0] = 0;
    page[1] = QUEUES;                  /* a queue that doesn't exist */
    req(nf, c, R_MAP_BAD_QUEUE, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, gref, 2, 0);
    page[1] = 1;
    req(nf, c, R_MAP_PAST_END, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, gref, 2, QUEUES - 1);
    req(nf, c, R_MAP_OVERFLOW, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, gref, 2, 0xffffffffu);
    req(nf, c, R_MAP_TOO_LONG, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, gref, 129, 0);
    memcpy(page, MAPPING, sizeof(MAPPING));
    req(nf, c, R_MAP_OK, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, gref, QUEUES, 0);
    req(nf, c, R_GREF_SIZE, XEN_NETIF_CTRL_TYPE_GET_GREF_MAPPING_SIZE, 0, 0, 0);
    req(nf, c, R_UNKNOWN, 99, 0, 0, 0);
}

static int ctrl_receiver(void *arg)
{
    struct ctrl_case *c = arg;
    struct nf_config cfg;
    nf_config_init(&cfg);
    cfg.ctrl_ring = true;
    cfg.num_queues = QUEUES;
    struct netfront *nf = dp_netfront_up(&cfg);
    if (!nf)
        return 90;
    c->has_ctrl = netfront_has_ctrl(nf);
    if (!c->has_ctrl || netfront_num_queues(nf) != QUEUES)
        return 91;
    configure(nf, c);
    __atomic_store_n(&c->b_ready, 1, __ATOMIC_RELEASE);
    uint8_t *mem = malloc(8 * (size_t)NF_MAX_PKT);
    struct nf_rxpkt rx[8];
    for (int i = 0; i < 8; i++) {
        rx[i].buf = mem + (size_t)i * NF_MAX_PKT;
        rx[i].cap = NF_MAX_PKT;
    }
    for (double last = dp_now_s(); c->received < PKTS && dp_now_s() - last < DP_QUIET_S;) {
        int got = 0;
        for (unsigned q = 0; q < QUEUES; q++) {
            int n = netfront_rx_burst(nf, q, rx, 8);
            for (int i = 0; i < n; i++) {
                const uint8_t *f = rx[i].buf;
                c->received++;
                c->per_queue[q]++;
                if (!rx[i].has_hash) {
                    c->no_hash++;
                    continue;
                }
                uint32_t want = toeplitz(RSS_KEY, f + 14 + 12, 8);   /* IPv4 src, dst */
                if (rx[i].hash != want || rx[i].hash_type != _XEN_NETIF_CTRL_HASH_TYPE_IPV4 ||
                    rx[i].hash_alg != XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ)
                    c->bad_hash++;
                if (MAPPING[want % QUEUES] != q)
                    c->wrong_queue++;
            }
            got += n > 0 ? n : 0;
        }
        if (got)
            last = dp_now_s();
        else
            netfront_wait(nf, 0, NF_WAIT_EVENT, 2);
    }
    free(mem);
    netfront_close(nf);
    netfront_free(nf);
    return 0;
}

static int flow_sender(void *arg)
{
    struct ctrl_case *c = arg;
    struct nf_config cfg;
    nf_config_init(&cfg);
    struct netfront *nf = dp_netfront_up(&cfg);
    if (!nf)
        return 95;
    if (!dp_wait_flag(&c->b_ready, 1, 60))
        return 96;
    uint8_t frame[200];
    for (unsigned k = 0; k < PKTS;) {
        nf_build_udp4(frame, sizeof(frame), c->b_mac, c->a_mac, flow_src(k), htonl(0x0a000002), k,
                      false, NULL, NULL);
        struct nf_txpkt p = {.data = frame, .len = sizeof(frame)};
        if (netfront_tx_burst(nf, 0, &p, 1) == 1) {
            k++;
            if (k % 32 == 0) {
                struct timespec ts = {0, 2000000};   /* stay well inside the receiver's ring */
                nanosleep(&ts, NULL);
            }
        } else {
            netfront_wait(nf, 0, NF_WAIT_EVENT, 10);
        }
    }
    dp_tx_drain(nf, 0, 30);
    netfront_close(nf);
    netfront_free(nf);
    return 0;
}

static int suite_setup(void **state)
{
    return dp_suite_setup(state, "--max-queues 4");
}

static int suite_teardown(void **state)
{
    return dp_suite_teardown(state);
}

static void toeplitz_matches_rss_reference_vector(void **state)
{
    (void)state;
    /* 66.9.149.187 -> 161.142.100.80: 0x323e8fc2 (IPv4 only) */
    const uint8_t in[8] = {66, 9, 149, 187, 161, 142, 100, 80};
    assert_int_equal(toeplitz(RSS_KEY, in, 8), 0x323e8fc2);
}

static void netfront_ctrl_statuses_bounds_and_toeplitz_steering(void **state)
{
    struct dp_suite *s = dp_suite_or_skip(state);
    struct dp_env *e = &s->env;
    unsigned g[2];
    dp_suite_guests(s, g, 2);
    unsigned a = g[0], b = g[1];
    struct ctrl_case *c = dp_shared_alloc(sizeof(*c));
    memset(c, 0, sizeof(*c));
    dp_guest_mac(a, 0, c->a_mac);
    dp_guest_mac(b, 0, c->b_mac);
    pid_t rx = dp_spawn(e, b, ctrl_receiver, c);
    pid_t tx = dp_spawn(e, a, flow_sender, c);
    assert_int_equal(dp_wait(tx, 120), 0);
    assert_int_equal(dp_wait(rx, 120), 0);
    assert_true(c->has_ctrl);
    for (int i = 0; i < R_COUNT; i++)
        assert_int_equal(c->rc[i], 0);
    const uint32_t ok = XEN_NETIF_CTRL_STATUS_SUCCESS, inval = XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
    /* as Linux: no hash types to offer while no algorithm is chosen */
    assert_int_equal(c->status[R_FLAGS_NO_ALG], XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED);
    assert_int_equal(c->status[R_GET_FLAGS], ok);
    assert_int_equal(c->data[R_GET_FLAGS],
                     XEN_NETIF_CTRL_HASH_TYPE_IPV4 | XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP |
                     XEN_NETIF_CTRL_HASH_TYPE_IPV6 | XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP);
    assert_int_equal(c->status[R_BAD_ALG], inval);
    assert_int_equal(c->status[R_ALG], ok);
    assert_int_equal(c->status[R_BAD_FLAGS], inval);
    assert_int_equal(c->status[R_FLAGS], ok);
    assert_int_equal(c->status[R_KEY], ok);
    /* netif.h's code for a key that is too long (Linux says INVALID_PARAMETER) */
    assert_int_equal(c->status[R_BIG_KEY], XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW);
    assert_int_equal(c->status[R_GET_MAP_SIZE], ok);
    assert_int_equal(c->data[R_GET_MAP_SIZE], 128);
    assert_int_equal(c->status[R_BIG_MAP_SIZE], inval);
    assert_int_equal(c->status[R_MAP_SIZE], ok);
    /* XSA-270: entry >= num_queues, off + len past the table, overflowing */
    assert_int_equal(c->status[R_MAP_BAD_QUEUE], inval);
    assert_int_equal(c->status[R_MAP_PAST_END], inval);
    assert_int_equal(c->status[R_MAP_OVERFLOW], inval);
    assert_int_equal(c->status[R_MAP_TOO_LONG], XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW);
    assert_int_equal(c->status[R_MAP_OK], ok);
    /* static grants: one table per queue, a slot each for TX and RX */
    assert_int_equal(c->status[R_GREF_SIZE], ok);
    assert_int_equal(c->data[R_GREF_SIZE], 512);
    assert_int_equal(c->status[R_UNKNOWN], XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED);
    /* steering */
    for (unsigned q = 0; q < QUEUES; q++)
        printf("# queue %u received %u\n", q, c->per_queue[q]);
    assert_int_equal(c->received, PKTS);
    assert_int_equal(c->no_hash, 0);
    assert_int_equal(c->bad_hash, 0);
    assert_int_equal(c->wrong_queue, 0);
    unsigned used = 0;
    for (unsigned q = 0; q < QUEUES; q++)
        used += c->per_queue[q] > 0;
    assert_int_equal(used, QUEUES);
    dp_shared_free(c, sizeof(*c));
}

int main(void)
{
    if (getenv("DP_FILTER"))
        cmocka_set_test_filter(getenv("DP_FILTER"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(toeplitz_matches_rss_reference_vector),
        cmocka_unit_test(netfront_ctrl_statuses_bounds_and_toeplitz_steering),
    };
    return cmocka_run_group_tests(tests, suite_setup, suite_teardown);
}
