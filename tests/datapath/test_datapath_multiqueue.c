/* End to end on the emulator with multi-queue vifs: netbackd offers 4
 * queues, both guests ask for 4 (keys under queue-N/), the sender spreads
 * packets over its TX queues and 64 flows; every packet must arrive once,
 * byte for byte, and every queue must have carried traffic both ways. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/datapath/dp_env.h"
#include "tests/datapath/dp_guest.h"

#define QUEUES 4

static int suite_setup(void **state)
{
    return dp_suite_setup(state, "--max-queues 4");
}

static int suite_teardown(void **state)
{
    return dp_suite_teardown(state);
}

static void run(void **state, unsigned queues, unsigned n, uint32_t size_step)
{
    struct dp_suite *s = dp_suite_or_skip(state);
    struct dp_env *e = &s->env;
    unsigned g[2];
    dp_suite_guests(s, g, 2);
    unsigned a = g[0], b = g[1];
    struct dp_flow *f = dp_flow_new();
    f->queues = queues;
    f->udp_flows = true;
    f->n = n;
    for (unsigned i = 0; i < n; i++)
        f->sizes[i] = 60 + (i * size_step) % 9000;
    dp_guest_mac(a, 0, f->tx_mac);
    dp_guest_mac(b, 0, f->rx_mac);
    pid_t rx = dp_spawn(e, b, dp_guest_recv, f);
    pid_t tx = dp_spawn(e, a, dp_guest_send, f);
    int txs = dp_wait(tx, 300), rxs = dp_wait(rx, 60);
    if (f->err[0])
        printf("# %s\n", f->err);
    for (unsigned q = 0; q < queues; q++)
        printf("# queue %u: sent %llu, received %llu\n", q, (unsigned long long)f->tx_per_queue[q],
               (unsigned long long)f->rx_per_queue[q]);
    assert_int_equal(txs, 0);
    assert_int_equal(rxs, 0);
    assert_int_equal(f->queues_connected, queues);
    assert_int_equal(f->received, n);
    assert_int_equal(f->duplicates, 0);
    assert_int_equal(f->bad, 0);
    for (unsigned i = 0; i < n; i++)
        assert_int_equal(f->seen[i], 1);
    for (unsigned q = 0; q < queues; q++) {
        assert_true(f->tx_per_queue[q] > 0);
        assert_true(f->rx_per_queue[q] > 0);
    }
    /* The backend's view: the vif runs `queues` queues. */
    assert_int_equal(dp_xs_read_long(e, "/local/domain/%u/device/vif/0/multi-queue-num-queues", b),
                     queues);
    assert_true(dp_xs_exists(e, "/local/domain/%u/device/vif/0/queue-%u/tx-ring-ref", b, queues - 1));
    dp_flow_free(f);
    dp_guest_destroy(e, a);
    dp_guest_destroy(e, b);
}

static void datapath_4_queues_every_queue_byte_exact(void **state) { run(state, QUEUES, 400, 211); }
static void datapath_2_queues_every_queue_byte_exact(void **state) { run(state, 2, 200, 997); }

int main(void)
{
    if (getenv("DP_FILTER"))
        cmocka_set_test_filter(getenv("DP_FILTER"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(datapath_4_queues_every_queue_byte_exact),
        cmocka_unit_test(datapath_2_queues_every_queue_byte_exact),
    };
    return cmocka_run_group_tests(tests, suite_setup, suite_teardown);
}
