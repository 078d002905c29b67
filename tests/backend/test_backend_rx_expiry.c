/* The RX drain timeout's age test: what the worker's burst drops as
 * expired, with the clocks in the test's hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "backend/rx_expiry.h"

#define MS 1000000ull
#define DRAIN (10000 * MS)

static void nbd_rx_expired_older_than_timeout(void **state)
{
    uint64_t enq = 5000 * MS;

    assert_true(nbd_rx_expired(enq, enq + DRAIN + 1, DRAIN));
    assert_true(nbd_rx_expired(0, DRAIN + 1, DRAIN));
}

static void nbd_rx_expired_young_entry(void **state)
{
    uint64_t enq = 5000 * MS;

    assert_false(nbd_rx_expired(enq, enq, DRAIN));
    assert_false(nbd_rx_expired(enq, enq + 1, DRAIN));
    assert_false(nbd_rx_expired(enq, enq + DRAIN, DRAIN));   /* exactly the timeout: kept */
}

/* Seen on real Xen under QEMU (e2e `sizes`): the worker read its clock,
 * then another thread enqueued a packet stamped a little later; the
 * unsigned age wrapped and the packet was dropped as expired. */
static void nbd_rx_expired_stamped_after_the_burst_clock(void **state)
{
    uint64_t now = 5000 * MS;

    assert_false(nbd_rx_expired(now + 1, now, DRAIN));
    assert_false(nbd_rx_expired(now + 3 * MS, now, DRAIN));
    assert_false(nbd_rx_expired(UINT64_MAX, now, DRAIN));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nbd_rx_expired_older_than_timeout),
        cmocka_unit_test(nbd_rx_expired_young_entry),
        cmocka_unit_test(nbd_rx_expired_stamped_after_the_burst_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
