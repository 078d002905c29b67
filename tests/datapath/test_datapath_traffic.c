/* End to end on the emulator: netfront guests (child processes) exchange
 * packets through netbackd; every packet is checked byte for byte. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/datapath/dp_env.h"
#include "tests/datapath/dp_guest.h"

#define SWEEP_COUNT 300

/* The random sweeps' seed: DP_SEED, else a fixed one. */
static uint32_t sweep_seed(void)
{
    const char *seed = getenv("DP_SEED");
    return seed ? (uint32_t)strtoul(seed, NULL, 0) : 0x5eed2026u;
}

static int suite_setup(void **state)
{
    printf("# random sizes: seed 0x%x (set DP_SEED to replay)\n", sweep_seed());
    return dp_suite_setup(state, NULL);
}

static int suite_teardown(void **state)
{
    return dp_suite_teardown(state);
}

static struct dp_env *env_or_skip(void **state)
{
    return &dp_suite_or_skip(state)->env;
}

/* Two fresh guests with one vif each. */
static void two_guests(void **state, unsigned *a, unsigned *b)
{
    unsigned g[2];
    dp_suite_guests(*state, g, 2);
    *a = g[0];
    *b = g[1];
}

static void flow_between(struct dp_flow *f, unsigned from, unsigned to)
{
    dp_guest_mac(from, 0, f->tx_mac);
    dp_guest_mac(to, 0, f->rx_mac);
}

/* Runs the flow from guest `from` to guest `to` and asserts every packet
 * arrived intact and every TX request was answered OKAY. */
static void run_flow(struct dp_env *e, struct dp_flow *f, unsigned from, unsigned to)
{
    pid_t rx = dp_spawn(e, to, dp_guest_recv, f);
    pid_t tx = dp_spawn(e, from, dp_guest_send, f);
    int txs = dp_wait(tx, 300);
    int rxs = dp_wait(rx, 60);
    if (f->err[0])
        printf("# %s\n", f->err);
    if (f->first_bad >= 0)
        printf("# first bad packet: #%d, %u bytes (expected %u)\n", f->first_bad, f->first_bad_len,
               f->sizes[f->first_bad]);
    if (txs || rxs || f->bad || f->received != f->n) {
        char out[4096];
        printf("# receiver rx_errors %llu; netbackd says:\n", (unsigned long long)f->rx_errors);
        if (dp_run(e, 0, out, sizeof(out), "netbackctl --ctl %s/netbackd.sock stats", e->dir) == 0)
            printf("%s", out);
    }
    assert_int_equal(txs, 0);
    assert_int_equal(rxs, 0);
    assert_int_equal(f->received, f->n);
    assert_int_equal(f->bad, 0);
    /* Every data slot is answered OKAY (one response per request, by id). */
    assert_int_equal(f->tx_rsp_ok, f->tx_slots);
    assert_int_equal(f->tx_rsp_error + f->tx_rsp_dropped, 0);
}

static const uint32_t boundary_sizes[] = {14, 15, 60, 1514, 1515, 4095, 4096, 4097, 8192, 65535};

static void boundary(void **state, bool reverse)
{
    struct dp_env *e = env_or_skip(state);
    unsigned a, b;
    two_guests(state, &a, &b);
    struct dp_flow *f = dp_flow_new();
    size_t nb = sizeof(boundary_sizes) / sizeof(boundary_sizes[0]);
    f->n = (unsigned)nb;
    memcpy(f->sizes, boundary_sizes, sizeof(boundary_sizes));
    unsigned from = reverse ? b : a, to = reverse ? a : b;
    flow_between(f, from, to);
    run_flow(e, f, from, to);
    dp_flow_free(f);
}

static void datapath_boundary_sizes_a_to_b(void **state) { boundary(state, false); }
static void datapath_boundary_sizes_b_to_a(void **state) { boundary(state, true); }

static uint32_t xorshift(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

static void sweep(void **state, bool reverse)
{
    struct dp_env *e = env_or_skip(state);
    unsigned a, b;
    two_guests(state, &a, &b);
    struct dp_flow *f = dp_flow_new();
    uint32_t r = sweep_seed() + (reverse ? 1 : 0);
    f->n = SWEEP_COUNT;
    for (unsigned i = 0; i < f->n; i++)
        f->sizes[i] = 14 + xorshift(&r) % (65535 - 14 + 1);
    unsigned from = reverse ? b : a, to = reverse ? a : b;
    flow_between(f, from, to);
    run_flow(e, f, from, to);
    dp_flow_free(f);
}

static void datapath_random_sizes_a_to_b(void **state) { sweep(state, false); }
static void datapath_random_sizes_b_to_a(void **state) { sweep(state, true); }

static void sg(void **state, unsigned slots)
{
    struct dp_env *e = env_or_skip(state);
    unsigned a, b;
    two_guests(state, &a, &b);
    struct dp_flow *f = dp_flow_new();
    /* 17 slots of 1000 bytes (the last one shorter), or one slot of 1000. */
    f->slot_size = 1000;
    f->n = 8;
    for (unsigned i = 0; i < f->n; i++)
        f->sizes[i] = (slots - 1) * 1000 + 100 + i;
    flow_between(f, a, b);
    run_flow(e, f, a, b);
    dp_flow_free(f);
}

static void datapath_sg_1_slot(void **state) { sg(state, 1); }
static void datapath_sg_17_slots(void **state) { sg(state, 17); }

static void datapath_csum_blank_completed_for_guest_without_offload(void **state)
{
    struct dp_env *e = env_or_skip(state);
    unsigned a, b;
    two_guests(state, &a, &b);
    struct dp_flow *f = dp_flow_new();
    f->udp_csum_blank = true;
    f->rx_cfg.no_csum_offload = true;
    f->n = 40;
    for (unsigned i = 0; i < f->n; i++)
        f->sizes[i] = 42 + i * 397;        /* 42 .. 15 525 bytes, odd and even lengths */
    flow_between(f, a, b);
    run_flow(e, f, a, b);
    assert_int_equal(f->rx_csum_blank_seen, 0);
    dp_flow_free(f);
}

static void datapath_close_and_reconnect(void **state)
{
    struct dp_env *e = env_or_skip(state);
    unsigned a, b;
    two_guests(state, &a, &b);
    struct dp_flow *f = dp_flow_new();
    f->n = 60;
    for (unsigned i = 0; i < f->n; i++)
        f->sizes[i] = 60 + i * 50;
    f->pause_at = 30;
    f->rx_reconnect = true;
    flow_between(f, a, b);
    run_flow(e, f, a, b);
    assert_int_equal(f->state_after_close, 6);       /* XenbusStateClosed */
    assert_int_equal(f->state_after_reconnect, 4);   /* XenbusStateConnected */
    dp_flow_free(f);
}

struct gone {
    struct dp_env *e;
    unsigned domid;
};

static bool vif_gone(void *arg)
{
    struct gone *g = arg;
    return !dp_vif_listed(g->e, g->domid, 0, NULL) &&
           !dp_xs_exists(g->e, "/local/domain/0/backend/vif/%u/0", g->domid);
}

static void datapath_guest_killed_mid_traffic(void **state)
{
    struct dp_env *e = env_or_skip(state);
    unsigned a, victim, c = 0;
    two_guests(state, &a, &victim);
    dp_suite_guests(*state, &c, 1);

    /* A streams to the victim; once packets flow, the victim is killed. */
    struct dp_flow *stream = dp_flow_new();
    stream->n = 0;
    stream->sizes[0] = 1514;
    flow_between(stream, a, victim);
    pid_t rx = dp_spawn(e, victim, dp_guest_recv, stream);
    pid_t tx = dp_spawn(e, a, dp_guest_send, stream);
    assert_true(dp_wait_at_least(&stream->received, 200, 60));
    kill(rx, SIGKILL);
    assert_int_equal(dp_wait(rx, 60), 128 + SIGKILL);
    assert_int_equal(dp_guest_destroy(e, victim), 0);

    struct gone g = {e, victim};
    assert_true(dp_eventually(vif_gone, &g, 60));
    __atomic_store_n(&stream->stop, 1, __ATOMIC_RELEASE);
    assert_int_equal(dp_wait(tx, 60), 0);
    assert_int_equal(waitpid(e->netbackd, NULL, WNOHANG), 0);   /* daemon alive */

    /* The survivors still exchange packets byte-exact. */
    struct dp_flow *f = dp_flow_new();
    f->n = 50;
    for (unsigned i = 0; i < f->n; i++)
        f->sizes[i] = 64 + i * 100;
    flow_between(f, a, c);
    run_flow(e, f, a, c);
    dp_flow_free(f);
    dp_flow_free(stream);
}

int main(void)
{
    if (getenv("DP_FILTER"))   /* run one test: DP_FILTER=<name pattern> */
        cmocka_set_test_filter(getenv("DP_FILTER"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(datapath_boundary_sizes_a_to_b),
        cmocka_unit_test(datapath_boundary_sizes_b_to_a),
        cmocka_unit_test(datapath_random_sizes_a_to_b),
        cmocka_unit_test(datapath_random_sizes_b_to_a),
        cmocka_unit_test(datapath_sg_1_slot),
        cmocka_unit_test(datapath_sg_17_slots),
        cmocka_unit_test(datapath_csum_blank_completed_for_guest_without_offload),
        cmocka_unit_test(datapath_close_and_reconnect),
        cmocka_unit_test(datapath_guest_killed_mid_traffic),
    };
    return cmocka_run_group_tests(tests, suite_setup, suite_teardown);
}
