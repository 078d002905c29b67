/* TX rate limiting: the credit arithmetic, with the clock in the test's hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "backend/rate.h"

#define MS 1000000ull

static void nbd_rate_take_unlimited(void **state)
{
    struct nbd_rate r = { 0 };

    for (int i = 0; i < 1000; i++)
        assert_int_equal(nbd_rate_take(&r, NBD_RATE_UNLIMITED, 0, 5, 65535), 0);
}

/* A fresh queue starts with one window's credit; each window adds one more,
 * up to max(bytes, 128 KiB). */
static void nbd_rate_take_first_window(void **state)
{
    struct nbd_rate r = { 0 };
    uint64_t t = 10 * MS;

    assert_int_equal(nbd_rate_take(&r, 100000, 1000, t, 65535), 0);
    assert_int_equal(r.credit, 100000 - 65535);
    /* out of credit: try again when the window ends */
    assert_int_equal(nbd_rate_take(&r, 100000, 1000, t, 65535), t + MS);
    assert_int_equal(nbd_rate_take(&r, 100000, 1000, t + MS - 1, 65535), t + MS);
    /* 34465 + 100000 capped at the 128 KiB floor */
    assert_int_equal(nbd_rate_take(&r, 100000, 1000, t + MS, 65535), 0);
    assert_int_equal(r.credit, NBD_RATE_BURST_FLOOR - 65535);
}

/* A 64 KiB packet always passes once enough windows went by, although one
 * window's credit is far smaller. */
static void nbd_rate_take_big_packet_passes_eventually(void **state)
{
    struct nbd_rate r = { 0 };
    uint64_t t = 3 * MS, retry;
    unsigned windows = 0;

    while ((retry = nbd_rate_take(&r, 1000, 1000, t, 65535)) != 0) {
        assert_int_equal(retry, t + MS);
        t = retry;
        windows++;
        assert_true(windows < 100);
    }
    assert_int_equal(windows, 65);   /* 1000 to start + 65 windows of 1000 */
    assert_int_equal(r.credit, 66000 - 65535);
}

/* Credit never grows past max(bytes, floor), however long the guest idled. */
static void nbd_rate_take_cap(void **state)
{
    struct nbd_rate r = { 0 };

    assert_int_equal(nbd_rate_take(&r, 500000, 1000, 1000 * MS, 1), 0);
    assert_int_equal(r.credit, 500000 - 1);
    assert_int_equal(nbd_rate_take(&r, 500000, 1000, 999999 * MS, 0), 0);
    assert_int_equal(r.credit, 500000);
    /* with a small rate the cap is the floor */
    struct nbd_rate s = { 0 };
    assert_int_equal(nbd_rate_take(&s, 10, 1000, 1 * MS, 0), 0);
    assert_int_equal(nbd_rate_take(&s, 10, 1000, 999999 * MS, 0), 0);
    assert_int_equal(s.credit, NBD_RATE_BURST_FLOOR);
}

/* A lowered key clips the credit to the new bytes at once (Linux's rate
 * watch: remaining_credit = credit_bytes when no credit timer is pending). */
static void nbd_rate_take_live_change(void **state)
{
    struct nbd_rate r = { 0 };

    assert_int_equal(nbd_rate_take(&r, 1000000, 1000, 5 * MS, 0), 0);
    assert_int_equal(r.credit, 1000000);
    assert_int_equal(nbd_rate_take(&r, 1000, 1000, 5 * MS, 0), 0);
    assert_int_equal(r.credit, 1000);
    /* the window did not restart: the retry is at the old window's end */
    assert_int_equal(nbd_rate_take(&r, 1000, 1000, 5 * MS, 1001), 6 * MS);
    assert_true(r.limited);
}

/* A queue waiting for credit when the key changes gets one window of the
 * new rate at once and a new window from now (Linux fires the pending
 * credit timer, which adds credit_bytes); the cap is the new key's. */
static void nbd_rate_take_change_while_limited(void **state)
{
    struct nbd_rate r = { 0 };
    uint64_t t = 7 * MS;

    assert_int_equal(nbd_rate_take(&r, 180, 4000000000u, t, 60), 0);
    assert_int_equal(nbd_rate_take(&r, 180, 4000000000u, t, 60), 0);
    assert_int_equal(nbd_rate_take(&r, 180, 4000000000u, t, 60), 0);
    assert_int_equal(nbd_rate_take(&r, 180, 4000000000u, t, 60), t + 4000000000000ull);
    /* still waiting, later: no credit until the window ends */
    assert_int_equal(nbd_rate_take(&r, 180, 4000000000u, t + 5 * MS, 60), t + 4000000000000ull);
    /* the key goes to 600 bytes: 600 now, window restarts at t + 6 ms */
    assert_int_equal(nbd_rate_take(&r, 600, 4000000000u, t + 6 * MS, 60), 0);
    assert_int_equal(r.credit, 540);
    assert_int_equal(r.stamp_ns, t + 6 * MS);
    for (int i = 0; i < 9; i++)
        assert_int_equal(nbd_rate_take(&r, 600, 4000000000u, t + 6 * MS, 60), 0);
    assert_int_equal(nbd_rate_take(&r, 600, 4000000000u, t + 6 * MS, 60),
                     t + 6 * MS + 4000000000000ull);
}

/* Removing the limit (no key: unlimited) forgets the state: a new limit starts with
 * one window's credit, whatever was spent before. */
static void nbd_rate_take_unlimited_then_limited_again(void **state)
{
    struct nbd_rate r = { 0 };

    assert_int_equal(nbd_rate_take(&r, 100, 1000000, 1 * MS, 100), 0);
    assert_int_not_equal(nbd_rate_take(&r, 100, 1000000, 1 * MS, 60), 0);
    assert_int_equal(nbd_rate_take(&r, NBD_RATE_UNLIMITED, 0, 2 * MS, 60), 0);
    assert_false(r.limited);
    assert_int_equal(nbd_rate_take(&r, 100, 1000000, 3 * MS, 60), 0);
    assert_int_equal(r.credit, 40);
}

/* A zero-length request costs nothing and passes even with no credit. */
static void nbd_rate_take_zero_length_edge(void **state)
{
    struct nbd_rate r = { 0 };

    assert_int_equal(nbd_rate_take(&r, 60, 1000, 1 * MS, 60), 0);
    assert_int_equal(r.credit, 0);
    assert_int_equal(nbd_rate_take(&r, 60, 1000, 1 * MS, 0), 0);
    /* exactly the credit passes, one byte more waits */
    assert_int_equal(nbd_rate_take(&r, 60, 1000, 2 * MS, 61), 3 * MS);
    assert_int_equal(nbd_rate_take(&r, 60, 1000, 3 * MS, 120), 0);
    assert_int_equal(r.credit, 0);
}

/* "0,N" (Linux parses it: credit_bytes 0) passes nothing but zero-length
 * requests, however long the queue waits; the retry is not once per
 * window (no credit can come) but when the key changes. A later key
 * applies as any change while waiting. */
static void nbd_rate_take_zero_bytes_passes_nothing(void **state)
{
    struct nbd_rate r = { 0 };
    uint64_t retry;

    assert_int_equal(nbd_rate_take(&r, 0, 1000, 1 * MS, 0), 0);
    retry = nbd_rate_take(&r, 0, 1000, 1 * MS, 14);
    assert_int_equal(retry, 1 * MS + NBD_RATE_MAX_WINDOW_US * 1000u);   /* not in 1 ms */
    assert_true(retry < (uint64_t)INT64_MAX);
    for (uint64_t t = 2 * MS; t < 1000000 * MS; t *= 3)
        assert_int_not_equal(nbd_rate_take(&r, 0, 1000, t, 1), 0);
    assert_int_equal(r.credit, 0);
    assert_int_equal(nbd_rate_take(&r, 0, 0, 5 * MS, 1), 5 * MS + NBD_RATE_MAX_WINDOW_US * 1000u);
    /* a rate again: one window of it at once */
    assert_int_equal(nbd_rate_take(&r, 100, 1000, 6 * MS, 60), 0);
    assert_int_equal(r.credit, 40);
}

/* Windows below 1 ms (usecs 0 included, which Linux accepts) count as
 * 1 ms; a window of 2^64-1 us neither overflows nor ends. */
static void nbd_rate_take_window_bounds(void **state)
{
    struct nbd_rate r = { 0 };

    assert_int_equal(nbd_rate_take(&r, 100, 0, 10 * MS, 100), 0);
    assert_int_equal(nbd_rate_take(&r, 100, 0, 10 * MS, 1), 11 * MS);
    assert_int_equal(nbd_rate_take(&r, 100, 0, 11 * MS, 100), 0);
    struct nbd_rate s = { 0 };
    assert_int_equal(nbd_rate_take(&s, 100, 999, 10 * MS, 100), 0);
    assert_int_equal(nbd_rate_take(&s, 100, 999, 10 * MS, 1), 11 * MS);
    struct nbd_rate u = { 0 };
    assert_int_equal(nbd_rate_take(&u, 100, UINT64_MAX, 10 * MS, 100), 0);
    uint64_t retry = nbd_rate_take(&u, 100, UINT64_MAX, 10 * MS, 1);
    assert_int_equal(retry, 10 * MS + NBD_RATE_MAX_WINDOW_US * 1000u);
    assert_true(retry < (uint64_t)INT64_MAX);
    assert_int_equal(nbd_rate_take(&u, 100, UINT64_MAX, retry - 1, 1), retry);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nbd_rate_take_unlimited),
        cmocka_unit_test(nbd_rate_take_first_window),
        cmocka_unit_test(nbd_rate_take_big_packet_passes_eventually),
        cmocka_unit_test(nbd_rate_take_cap),
        cmocka_unit_test(nbd_rate_take_live_change),
        cmocka_unit_test(nbd_rate_take_change_while_limited),
        cmocka_unit_test(nbd_rate_take_unlimited_then_limited_again),
        cmocka_unit_test(nbd_rate_take_zero_length_edge),
        cmocka_unit_test(nbd_rate_take_zero_bytes_passes_nothing),
        cmocka_unit_test(nbd_rate_take_window_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
