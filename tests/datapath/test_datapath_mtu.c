/* End to end on the emulator: the backend `mtu` key bounds what reaches a
 * guest. As Linux's bridge does before handing a frame to a vif
 * (is_skb_forwardable), a frame of up to mtu + 14 + 4 bytes is delivered
 * and a longer one is dropped and counted (rx_drop_mtu); a GSO frame is
 * judged by its segments (headers + gso_size), so a large one whose
 * segments fit arrives whole. The key is honoured live, garbage means
 * 1500, and a frontend without feature-sg gets at most 1500 (Linux's
 * xenvif_carrier_on). Every delivered frame is checked byte for byte. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend/netfront/nf_frame.h"
#include "tests/datapath/dp_env.h"
#include "tests/datapath/dp_guest.h"

#define MAX_FRAMES 8
#define MARKER_SEQ 999u
#define SIP 0x0a000001u
#define DIP 0x0a000002u
#define TCP_HDRS 54u                    /* Ethernet + IPv4 + TCP, no options */

/* One frame the sender sends: a numbered pattern frame, or (gso_size != 0)
 * a TCP/IPv4 GSO frame of len bytes with that MSS. */
struct frame {
    uint32_t len;
    uint16_t gso_size;
    bool delivered;                     /* what the test expects */
};

struct plan {
    struct frame f[MAX_FRAMES];
    unsigned n;
    bool rx_no_sg;
    uint16_t rx_vid;                    /* receiver is a trunk: frames come tagged with it */
    const char *set_mtu;                /* written to b's backend mtu key once b is
                                           connected, before anything is sent */
    long long set_mtu_means;            /* ... and the mtu netbackd should apply */
    bool set_by_netbackctl;             /* set_mtu through `netbackctl vif-set --mtu` */
    uint8_t a_mac[6], b_mac[6];
    /* ---- written by the guests ---- */
    int rx_ready;
    int go;                             /* parent: send now */
    unsigned nrx;                       /* frames received before the marker */
    int got[MAX_FRAMES];                /* index into f of each, in order; -1 unknown */
    uint16_t got_gso_size[MAX_FRAMES];
    bool got_exact[MAX_FRAMES];
    bool got_tagged[MAX_FRAMES];        /* carried rx_vid's tag (removed before the match) */
    bool marker_seen;
    char err[160];
};

static int suite_setup(void **state)
{
    return dp_suite_setup(state, NULL);
}

static int suite_teardown(void **state)
{
    return dp_suite_teardown(state);
}

/* Frame i of the plan, built the same way by sender and receiver. */
static void build(const struct plan *p, unsigned i, uint8_t *buf)
{
    const struct frame *f = &p->f[i];

    if (f->gso_size)
        nf_build_tcp4(buf, f->len, p->b_mac, p->a_mac, htonl(SIP), htonl(DIP), i * 100000u, true);
    else
        nf_pattern_fill(buf, f->len, p->b_mac, p->a_mac, i);
}

static int sender(void *arg)
{
    struct plan *p = arg;
    struct nf_config cfg;
    static uint8_t bufs[MAX_FRAMES + 1][65536];
    struct nf_txpkt t[MAX_FRAMES + 1];

    nf_config_init(&cfg);
    struct netfront *nf = dp_netfront_up(&cfg);
    if (!nf)
        return 70;
    if (!dp_wait_flag(&p->go, 1, 60))
        return 71;
    memset(t, 0, sizeof(t));
    for (unsigned i = 0; i < p->n; i++) {
        build(p, i, bufs[i]);
        t[i].data = bufs[i];
        t[i].len = p->f[i].len;
        if (p->f[i].gso_size) {
            t[i].flags = NETTXF_csum_blank | NETTXF_data_validated;
            t[i].n_extras = 1;
            t[i].extras[0].type = XEN_NETIF_EXTRA_TYPE_GSO;
            t[i].extras[0].u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
            t[i].extras[0].u.gso.size = p->f[i].gso_size;
        }
    }
    /* a unicast marker last, on the same queue: once it arrives, every
     * frame before it was delivered or dropped */
    nf_pattern_fill(bufs[p->n], 60, p->b_mac, p->a_mac, MARKER_SEQ);
    t[p->n].data = bufs[p->n];
    t[p->n].len = 60;
    for (unsigned done = 0; done < p->n + 1;) {
        unsigned k = netfront_tx_burst(nf, 0, t + done, p->n + 1 - done);
        done += k;
        if (!k)
            dp_tx_drain(nf, 0, 5);
    }
    if (dp_tx_drain(nf, 0, 30))
        return 72;
    netfront_close(nf);
    netfront_free(nf);
    return 0;
}

/* Which plan frame buf is (by length and content), or -1. */
static int identify(const struct plan *p, const uint8_t *buf, uint32_t len, bool *exact)
{
    static uint8_t want[65536];

    for (unsigned i = 0; i < p->n; i++) {
        if (p->f[i].len != len)
            continue;
        build(p, i, want);
        *exact = !memcmp(want, buf, len);
        return (int)i;
    }
    return -1;
}

static int receiver(void *arg)
{
    struct plan *p = arg;
    struct nf_config cfg;
    static uint8_t buf[NF_MAX_PKT];
    struct nf_rxpkt r = {.buf = buf, .cap = sizeof(buf)};

    nf_config_init(&cfg);
    cfg.no_sg = p->rx_no_sg;
    struct netfront *nf = dp_netfront_up(&cfg);
    if (!nf)
        return 60;
    __atomic_store_n(&p->rx_ready, 1, __ATOMIC_RELEASE);
    for (double last = dp_now_s(); dp_now_s() - last < DP_QUIET_S;) {
        if (netfront_rx_burst(nf, 0, &r, 1) != 1) {
            netfront_wait(nf, 0, NF_WAIT_EVENT, 20);
            continue;
        }
        last = dp_now_s();
        bool tagged = false;
        if (p->rx_vid && r.len >= 18 && buf[12] == 0x81 && buf[13] == 0x00 &&
            ((buf[14] << 8 | buf[15]) & 0xfff) == p->rx_vid) {
            memmove(buf + 12, buf + 16, r.len - 16);
            r.len -= 4;
            tagged = true;
        }
        uint64_t seq;
        if (r.len == 60 && nf_pattern_check(buf, r.len, &seq) && seq == MARKER_SEQ) {
            p->marker_seen = true;
            break;
        }
        if (p->nrx == MAX_FRAMES) {
            snprintf(p->err, sizeof(p->err), "more frames than sent");
            return 61;
        }
        bool exact = false;
        p->got[p->nrx] = identify(p, buf, r.len, &exact);
        p->got_exact[p->nrx] = exact;
        p->got_tagged[p->nrx] = tagged;
        p->got_gso_size[p->nrx] = r.gso_type ? r.gso_size : 0;
        p->nrx++;
    }
    netfront_close(nf);
    netfront_free(nf);
    return p->marker_seen ? 0 : 62;
}

struct mtu_wait {
    struct dp_env *e;
    unsigned domid;
    long long want;
};

static bool mtu_is(void *arg)
{
    struct mtu_wait *w = arg;
    return dp_vif_mtu(w->e, w->domid, 0) == w->want;
}

static void wait_mtu(struct dp_env *e, unsigned domid, long long want)
{
    struct mtu_wait w = {e, domid, want};
    dp_eventually(mtu_is, &w, 60);
    assert_int_equal(dp_vif_mtu(e, domid, 0), want);
}

/* Two new guests: a (the sender, whose vif-add gets a_args) and b (b_args),
 * once netbackd applies b_mtu to b. Returns the suite's host. */
static struct dp_env *guests(void **state, const char *a_args, const char *b_args,
                             long long b_mtu, unsigned *a, unsigned *b)
{
    struct dp_suite *s = dp_suite_or_skip(state);

    *a = s->next_domid++;
    *b = s->next_domid++;
    assert_int_equal(dp_guest_add(&s->env, *a, 0, a_args), 0);
    assert_int_equal(dp_guest_add(&s->env, *b, 0, b_args), 0);
    wait_mtu(&s->env, *b, b_mtu);
    return &s->env;
}

/* Runs the plan from a to b; asserts that exactly the frames marked
 * delivered arrived, in order, byte-exact (GSO ones with their gso_size),
 * and that b's rx_drop_mtu grew by the others. */
static void run(struct dp_env *e, struct plan *p, unsigned a, unsigned b)
{
    long long drops_before = dp_vif_counter(e, b, 0, "rx_drop_mtu");
    unsigned want_drops = 0, k = 0;

    dp_guest_mac(a, 0, p->a_mac);
    dp_guest_mac(b, 0, p->b_mac);
    pid_t rx = dp_spawn(e, b, receiver, p);
    pid_t tx = dp_spawn(e, a, sender, p);
    if (dp_wait_flag(&p->rx_ready, 1, 60) && p->set_mtu) {
        char path[96];
        snprintf(path, sizeof(path), "/local/domain/0/backend/vif/%u/0/mtu", b);
        if (p->set_by_netbackctl)
            assert_int_equal(dp_run(e, 0, NULL, 0, "netbackctl vif-set --domid %u --devid 0 "
                                    "--mtu %s", b, p->set_mtu), 0);
        else
            assert_true(dp_xs_write(e, path, p->set_mtu));
        wait_mtu(e, b, p->set_mtu_means);
        /* the guest's read-only copy says what the backend applies */
        assert_int_equal(dp_xs_read_long(e, "/local/domain/%u/device/vif/0/mtu", b),
                         p->set_mtu_means);
    }
    __atomic_store_n(&p->go, 1, __ATOMIC_RELEASE);
    int txs = dp_wait(tx, 120), rxs = dp_wait(rx, 120);
    if (p->err[0])
        printf("# %s\n", p->err);
    assert_int_equal(txs, 0);
    assert_int_equal(rxs, 0);
    for (unsigned i = 0; i < p->n; i++) {
        if (!p->f[i].delivered) {
            want_drops++;
            continue;
        }
        if (k >= p->nrx)
            fail_msg("frame %u (%u bytes) not delivered", i, p->f[i].len);
        assert_int_equal(p->got[k], (int)i);
        assert_true(p->got_exact[k]);
        assert_int_equal(p->got_tagged[k], p->rx_vid != 0);
        assert_int_equal(p->got_gso_size[k], p->f[i].gso_size);
        k++;
    }
    assert_int_equal(p->nrx, k);
    if (drops_before < 0)
        drops_before = 0;
    assert_int_equal(dp_vif_counter(e, b, 0, "rx_drop_mtu") - drops_before, want_drops);
}

/* A plan of the n frames f (shared memory: dp_shared_free it). */
static struct plan *plan_of(const struct frame *f, unsigned n)
{
    struct plan *p = dp_shared_alloc(sizeof(*p));

    assert_true(n <= MAX_FRAMES);
    memset(p, 0, sizeof(*p));
    memcpy(p->f, f, n * sizeof(*f));
    p->n = n;
    return p;
}
#define PLAN(...) plan_of((const struct frame[]){__VA_ARGS__}, \
                          sizeof((const struct frame[]){__VA_ARGS__}) / sizeof(struct frame))

/* mtu 1400: 1418 bytes (mtu + Ethernet header + a VLAN tag's room, Linux's
 * limit) and 1414 arrive, 1419 and 1500 don't; GSO frames of 4 KiB whose
 * segments are 54 + 1000 and 54 + 1364 = 1418 bytes arrive whole, one whose
 * segments would be 1419 bytes doesn't. */
static void datapath_mtu_limit_exact_and_gso_segments(void **state)
{
    unsigned a, b;
    struct dp_env *e = guests(state, NULL, "--mtu 1400", 1400, &a, &b);
    struct plan *p = PLAN({1418, 0, true}, {1419, 0, false}, {1414, 0, true}, {1500, 0, false},
                          {TCP_HDRS + 4 * 1000, 1000, true},
                          {TCP_HDRS + 3 * 1365, 1365, false},
                          {TCP_HDRS + 3 * 1364, 1364, true});
    run(e, p, a, b);
    dp_shared_free(p, sizeof(*p));
}

/* The key changed while the guest is connected (by `netbackctl vif-set`,
 * then by hand) applies to the next frame and to the frontend's mtu node:
 * 1400 -> 9000 lets 9018 bytes through (not 9019); garbage then means 1500
 * (logged), as an unusable value leaves a Linux vif at its default. */
static void datapath_mtu_live_change_and_garbage(void **state)
{
    unsigned a, b;
    struct dp_env *e = guests(state, NULL, "--mtu 1400", 1400, &a, &b);
    struct plan *p = PLAN({9018, 0, true}, {9019, 0, false}, {1419, 0, true});

    p->set_mtu = "9000";
    p->set_mtu_means = 9000;
    p->set_by_netbackctl = true;
    run(e, p, a, b);
    dp_shared_free(p, sizeof(*p));

    p = PLAN({9018, 0, false}, {1518, 0, true}, {1519, 0, false});
    p->set_mtu = "9000x";
    p->set_mtu_means = 1500;
    run(e, p, a, b);
    dp_shared_free(p, sizeof(*p));
}

/* A frontend without feature-sg takes one slot per frame: its vif's mtu is
 * at most 1500 whatever the key says, so 1519 bytes are an mtu drop (not
 * an RX-path no_sg drop). */
static void datapath_mtu_without_sg_is_at_most_1500(void **state)
{
    unsigned a, b;
    struct dp_env *e = guests(state, NULL, "--mtu 9000", 9000, &a, &b);
    struct plan *p = PLAN({1518, 0, true}, {1519, 0, false}, {9018, 0, false});

    p->rx_no_sg = true;
    run(e, p, a, b);
    assert_int_equal(dp_vif_counter(e, b, 0, "rx_drop_no_sg"), 0);
    dp_shared_free(p, sizeof(*p));
}

/* On a trunk port the VLAN tag is the bridge's (Linux keeps it outside the
 * frame with vlan_filtering): a frame from an access port of VLAN 10 that
 * is mtu + 18 bytes untagged arrives tagged, 4 bytes longer; one byte more
 * does not. The untagged limit itself stays mtu + 18 for every port. */
static void datapath_mtu_trunk_tag_comes_on_top(void **state)
{
    unsigned a, b;
    struct dp_env *e = guests(state, "--bridge xenbr0.10", "--bridge xenbr0:10 --mtu 1400", 1400,
                              &a, &b);
    struct plan *p = PLAN({1418, 0, true}, {1419, 0, false}, {1000, 0, true});

    p->rx_vid = 10;
    run(e, p, a, b);
    dp_shared_free(p, sizeof(*p));
}

int main(void)
{
    if (getenv("DP_FILTER"))
        cmocka_set_test_filter(getenv("DP_FILTER"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(datapath_mtu_limit_exact_and_gso_segments),
        cmocka_unit_test(datapath_mtu_live_change_and_garbage),
        cmocka_unit_test(datapath_mtu_without_sg_is_at_most_1500),
        cmocka_unit_test(datapath_mtu_trunk_tag_comes_on_top),
    };
    return cmocka_run_group_tests(tests, suite_setup, suite_teardown);
}
