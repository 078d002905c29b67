/* End to end on the emulator: static grants through the userspace netfront
 * (nf_static.h). Both negotiation outcomes: both guests register their
 * buffer pools, or only the sender does; traffic byte-exact either way, and
 * netbackd's counters show that a registered guest's packets cost no grant
 * copy at all (its only grant copies are the ADD lists going in and their
 * statuses coming back: 2 per ADD, 2 ADDs — RX pool, TX pool — per queue). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/datapath/dp_env.h"
#include "tests/datapath/dp_guest.h"

#define QUEUES 2
#define PKTS 300
#define POOL_PAGES 512          /* 256 TX + 256 RX pages per queue */
#define REGISTER_COPIES (QUEUES * 2 * 2)

static int suite_setup(void **state)
{
    return dp_suite_setup(state, "--max-queues 2");
}

static int suite_teardown(void **state)
{
    return dp_suite_teardown(state);
}

/* Sends PKTS frames of 60..~9000 bytes (SG chains past a page) from a new
 * guest to another; returns the flow (checked byte-exact) for counters. */
static struct dp_flow *run(void **state, bool tx_static, bool rx_static, unsigned *a, unsigned *b)
{
    struct dp_suite *s = dp_suite_or_skip(state);
    struct dp_env *e = &s->env;
    struct dp_flow *f = dp_flow_new();

    *a = s->next_domid++;
    *b = s->next_domid++;
    assert_int_equal(dp_guest_add(e, *a, 0, NULL), 0);
    assert_int_equal(dp_guest_add(e, *b, 0, NULL), 0);
    f->n = PKTS;
    for (unsigned i = 0; i < f->n; i++)
        f->sizes[i] = 60 + (i * 2971) % 9000;
    f->queues = QUEUES;
    f->udp_flows = true;        /* spread over both queues, matched by sequence */
    f->tx_static_grants = tx_static;
    f->rx_static_grants = rx_static;
    dp_guest_mac(*a, 0, f->tx_mac);
    dp_guest_mac(*b, 0, f->rx_mac);
    pid_t rx = dp_spawn(e, *b, dp_guest_recv, f);
    pid_t tx = dp_spawn(e, *a, dp_guest_send, f);
    int txs = dp_wait(tx, 120), rxs = dp_wait(rx, 60);
    if (f->err[0])
        printf("# %s\n", f->err);
    if (f->bad)
        printf("# %u bad, first #%d (%u bytes)\n", f->bad, f->first_bad, f->first_bad_len);
    assert_int_equal(txs, 0);
    assert_int_equal(rxs, 0);
    assert_int_equal(f->received, f->n);
    assert_int_equal(f->bad, 0);
    assert_int_equal(f->duplicates, 0);
    assert_int_equal(f->queues_connected, QUEUES);
    return f;
}

static void datapath_static_grants_both_guests_no_grant_copy(void **state)
{
    unsigned a, b;
    struct dp_flow *f = run(state, true, true, &a, &b);
    struct dp_env *e = &((struct dp_suite *)*state)->env;

    assert_int_equal(f->tx_static_pages, QUEUES * POOL_PAGES);
    assert_int_equal(f->rx_static_pages, QUEUES * POOL_PAGES);
    assert_int_equal(dp_vif_counter(e, a, 0, "tx_packets"), PKTS);
    assert_int_equal(dp_vif_counter(e, b, 0, "rx_packets"), PKTS);
    assert_int_equal(dp_vif_counter(e, a, 0, "gcopy_ops"), REGISTER_COPIES);
    assert_int_equal(dp_vif_counter(e, b, 0, "gcopy_ops"), REGISTER_COPIES);
    assert_true(dp_vif_counter(e, a, 0, "sgrant_copies") >= PKTS);
    assert_true(dp_vif_counter(e, b, 0, "sgrant_copies") >= PKTS);
    /* both closed: every page mapped was unmapped */
    assert_int_equal(dp_vif_counter(e, a, 0, "sgrant_maps"), QUEUES * POOL_PAGES);
    assert_int_equal(dp_vif_counter(e, a, 0, "sgrant_unmaps"), QUEUES * POOL_PAGES);
    assert_int_equal(dp_vif_counter(e, b, 0, "sgrant_unmaps"), QUEUES * POOL_PAGES);
    dp_flow_free(f);
}

static void datapath_static_grants_only_sender_registers(void **state)
{
    unsigned a, b;
    struct dp_flow *f = run(state, true, false, &a, &b);
    struct dp_env *e = &((struct dp_suite *)*state)->env;

    assert_int_equal(f->tx_static_pages, QUEUES * POOL_PAGES);
    assert_int_equal(f->rx_static_pages, 0);
    assert_int_equal(dp_vif_counter(e, a, 0, "gcopy_ops"), REGISTER_COPIES);
    /* the receiver without them: at least one grant copy per packet */
    assert_true(dp_vif_counter(e, b, 0, "gcopy_ops") >= PKTS);
    assert_int_equal(dp_vif_counter(e, b, 0, "sgrant_copies"), 0);
    assert_int_equal(dp_vif_counter(e, b, 0, "sgrant_maps"), 0);
    dp_flow_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(datapath_static_grants_both_guests_no_grant_copy),
        cmocka_unit_test(datapath_static_grants_only_sender_registers),
    };
    return cmocka_run_group_tests(tests, suite_setup, suite_teardown);
}
