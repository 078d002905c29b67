/* ring/mcast_filter: the per-vif multicast list, bounded at 64 like Linux. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "ring/mcast_filter.h"

static void mac(uint8_t a[6], unsigned i)
{
    a[0] = 0x01; a[1] = 0x00; a[2] = 0x5e;
    a[3] = (uint8_t)(i >> 16); a[4] = (uint8_t)(i >> 8); a[5] = (uint8_t)i;
}

static void netif_mcast_add_contains_del(void **state)
{
    (void)state;
    struct netif_mcast_filter f;
    uint8_t a[6], b[6];
    netif_mcast_init(&f);
    mac(a, 1);
    mac(b, 2);
    assert_false(netif_mcast_contains(&f, a));
    assert_int_equal(netif_mcast_add(&f, a), 0);
    assert_true(netif_mcast_contains(&f, a));
    assert_false(netif_mcast_contains(&f, b));
    assert_int_equal(netif_mcast_del(&f, b), -ENOENT);
    assert_int_equal(netif_mcast_del(&f, a), 0);
    assert_false(netif_mcast_contains(&f, a));
    assert_int_equal(f.n, 0);
}

static void netif_mcast_add_overflow(void **state)
{
    (void)state;
    struct netif_mcast_filter f;
    uint8_t a[6];
    netif_mcast_init(&f);
    for (unsigned i = 0; i < NETIF_MCAST_MAX; i++) {
        mac(a, i);
        assert_int_equal(netif_mcast_add(&f, a), 0);
    }
    assert_int_equal(f.n, 64);
    mac(a, 1000);
    assert_int_equal(netif_mcast_add(&f, a), -ENOSPC);
    assert_false(netif_mcast_contains(&f, a));
    /* an address already there still "adds" without taking room */
    mac(a, 5);
    assert_int_equal(netif_mcast_add(&f, a), 0);
    /* freeing one entry makes room again; the others stay */
    assert_int_equal(netif_mcast_del(&f, a), 0);
    mac(a, 1000);
    assert_int_equal(netif_mcast_add(&f, a), 0);
    for (unsigned i = 0; i < NETIF_MCAST_MAX; i++) {
        mac(a, i);
        assert_int_equal(netif_mcast_contains(&f, a), i != 5);
    }
}

static void netif_mcast_add_duplicate(void **state)
{
    (void)state;
    struct netif_mcast_filter f;
    uint8_t a[6];
    netif_mcast_init(&f);
    mac(a, 7);
    assert_int_equal(netif_mcast_add(&f, a), 0);
    assert_int_equal(netif_mcast_add(&f, a), 0);
    assert_int_equal(f.n, 1);
}

static void netif_mcast_pass_rules(void **state)
{
    (void)state;
    struct netif_mcast_filter f;
    uint8_t sub[6], other[6];
    static const uint8_t ucast[6] = { 0x02, 0, 0, 0, 0, 1 };
    static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    netif_mcast_init(&f);
    mac(sub, 1);
    mac(other, 2);
    assert_int_equal(netif_mcast_add(&f, sub), 0);
    assert_true(netif_mcast_pass(&f, ucast));
    assert_true(netif_mcast_pass(&f, bcast));
    assert_true(netif_mcast_pass(&f, sub));
    assert_false(netif_mcast_pass(&f, other));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(netif_mcast_add_contains_del),
        cmocka_unit_test(netif_mcast_add_overflow),
        cmocka_unit_test(netif_mcast_add_duplicate),
        cmocka_unit_test(netif_mcast_pass_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
