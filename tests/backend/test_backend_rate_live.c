/* TX rate limiting end to end: raw scripted frontends on the emulator,
 * netbackd as a child, the backend `rate` key ("bytes,usecs") written by
 * the test as a toolstack would, live, while a guest sends.
 *
 * No timing is asserted: the windows are 4000 s long, so within a test the
 * credit is exactly what the key granted and the number of frames netbackd
 * takes (tx_packets; the sender's OKAY responses) is exact. Frames beyond
 * the credit stay on the sender's ring, unconsumed and unanswered.
 *
 * Domain 1 sends 60-byte frames to domain 2's MAC, numbered from 0; domain
 * 2 checks every one byte-exact and in order. Domain 1 may also send
 * 10-byte requests (too short: dropped, answered with an error), which
 * consume credit too. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include <xenctrl.h>
#include <xenstore.h>
#include <xen/io/netif.h>

#include <jansson.h>

#include "tests/backend/nbd_testenv.h"
#include "tests/backend/raw_front.h"
#include "tests/lib/simenv.h"

#define DOM_TX 1
#define DOM_RX 2
#define FRAME_LEN 60u
#define SHORT_LEN 10u                 /* below ETH_HLEN: a drop */
#define UNLIMITED (-2)                /* vif_rate_bytes() without a limit */
#define TX0 2u
#define RX0 (TX0 + RAW_FE_TX_PAGES)
#define NR_PAGES (RX0 + RAW_FE_RX_PAGES)
#define LONG_WINDOW_US "4000000000"   /* ~67 minutes: never ends in a test */
#define QUIET_MS 300                  /* how long "nothing more moves" is watched */

static const uint8_t rx_mac[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, DOM_RX };

/* Parent <-> guests, in shared memory (read and written with __atomic). */
struct shared {
    unsigned target;       /* parent: frames the sender must have queued */
    unsigned short_target; /* parent: short requests to queue before those */
    int stop;              /* parent: finish (sender waits for answers first) */
    int tx_ready, rx_ready;
    unsigned queued;       /* sender: frames pushed */
    unsigned short_queued; /* sender: short requests pushed */
    unsigned ok, bad;      /* sender: TX responses */
    unsigned received;     /* receiver: frames in order, byte-exact */
    int rx_error;          /* receiver: first wrong frame's seq + 1 */
};

static unsigned ld(const unsigned *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static void st(unsigned *p, unsigned v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

static int guest_sender(void *arg)
{
    struct shared *sh = arg;
    struct raw_fe f = { .domid = DOM_TX };
    uint8_t frame[FRAME_LEN];
    unsigned ok = 0, bad = 0;
    int rc;

    if ((rc = raw_fe_connect(&f, NR_PAGES, 0)))
        return rc;
    __atomic_store_n(&sh->tx_ready, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE)) {
        unsigned target = ld(&sh->target), q = ld(&sh->queued);
        unsigned starget = ld(&sh->short_target), sq = ld(&sh->short_queued);
        if (sq < starget && !RING_FULL(&f.tx)) {
            memset(frame, 0xee, sizeof(frame));
            while (sq < starget && !RING_FULL(&f.tx)) {
                raw_fe_queue_tx(&f, TX0, frame, SHORT_LEN);
                sq++;
            }
            raw_fe_push_tx(&f);
            st(&sh->short_queued, sq);
        }
        if (sq == starget && q < target && !RING_FULL(&f.tx)) {
            while (q < target && !RING_FULL(&f.tx)) {
                raw_fe_frame(frame, FRAME_LEN, rx_mac, DOM_TX, q++);
                raw_fe_queue_tx(&f, TX0, frame, FRAME_LEN);
            }
            raw_fe_push_tx(&f);
            st(&sh->queued, q);
        }
        if (raw_fe_reap_tx(&f, &ok, &bad)) {
            st(&sh->ok, ok);
            st(&sh->bad, bad);
        } else {
            usleep(500);
        }
    }
    raw_fe_close(&f);
    return 0;
}

static int guest_receiver(void *arg)
{
    struct shared *sh = arg;
    struct raw_fe f = { .domid = DOM_RX };
    uint8_t want[FRAME_LEN];
    unsigned seq = 0;
    int rc;

    if ((rc = raw_fe_connect(&f, NR_PAGES, 0)))
        return rc;
    raw_fe_post_rx_all(&f, RX0);
    __atomic_store_n(&sh->rx_ready, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE)) {
        const uint8_t *data;
        unsigned len;
        int got = raw_fe_next_rx(&f, RX0, &data, &len);

        if (!got) {
            usleep(500);
            continue;
        }
        raw_fe_frame(want, FRAME_LEN, rx_mac, DOM_TX, seq);
        if (got < 0 || len != FRAME_LEN || memcmp(data, want, FRAME_LEN)) {
            __atomic_store_n(&sh->rx_error, (int)seq + 1, __ATOMIC_RELEASE);
            break;
        }
        st(&sh->received, ++seq);
        raw_fe_post_rx_all(&f, RX0);
    }
    raw_fe_close(&f);
    return 0;
}

/* ---- parent side ---- */

static bool wait_unsigned(const unsigned *p, unsigned want)
{
    uint64_t deadline = nbd_test_now_ms() + 2 * NBD_TEST_WAIT_MS;

    while (ld(p) < want && nbd_test_now_ms() < deadline)
        usleep(2000);
    return ld(p) == want;
}

/* netbackd's view of vif1.0's rate: bytes, UNLIMITED, or -1 (no vif). */
static long long vif_rate_bytes(struct nbd_testenv *w)
{
    json_t *v = nbd_test_vif(w, "vif1.0");
    json_t *r = v ? json_object_get(v, "rate") : NULL;
    long long b = !r ? -1 : json_is_null(r) ? UNLIMITED
                : json_integer_value(json_object_get(r, "bytes"));

    json_decref(v);
    return b;
}

/* Writes the key (NULL: removes it) and waits until netbackd applied it. */
static void set_rate(struct nbd_testenv *w, const char *value, long long applied_bytes)
{
    const char *path = "/local/domain/0/backend/vif/1/0/rate";
    uint64_t deadline = nbd_test_now_ms() + NBD_TEST_WAIT_MS;

    if (value)
        assert_true(xs_write(w->xsh, XBT_NULL, path, value, (unsigned)strlen(value)));
    else
        assert_true(xs_rm(w->xsh, XBT_NULL, path));
    while (vif_rate_bytes(w) != applied_bytes && nbd_test_now_ms() < deadline)
        usleep(2000);
    assert_int_equal(vif_rate_bytes(w), applied_bytes);
}

/* Sends up to total frames and asserts that exactly `taken` of them (in
 * all) were taken, answered OKAY and delivered, and that nothing more
 * moves: the rest stay on the ring. */
static void send_expect(struct nbd_testenv *w, struct shared *sh, unsigned total, unsigned taken)
{
    st(&sh->target, total);
    assert_true(wait_unsigned(&sh->queued, total));
    assert_int_equal(nbd_test_wait_counter(w, "vif1.0", "tx_packets", taken), taken);
    assert_true(wait_unsigned(&sh->ok, taken));
    assert_true(wait_unsigned(&sh->received, taken));
    if (taken < total) {
        usleep(QUIET_MS * 1000);
        assert_int_equal(nbd_test_vif_counter(w, "vif1.0", "tx_packets"), taken);
        assert_int_equal(ld(&sh->ok), taken);
        assert_int_equal(ld(&sh->received), taken);
    }
    assert_int_equal(ld(&sh->bad), 0);
    assert_int_equal(__atomic_load_n(&sh->rx_error, __ATOMIC_ACQUIRE), 0);
}

/* Starts the receiver and the sender; returns once both are connected. */
static void start_guests(struct nbd_testenv *w, struct shared *sh, pid_t *rx, pid_t *tx)
{
    uint64_t deadline = nbd_test_now_ms() + 2 * NBD_TEST_WAIT_MS;

    *rx = simenv_spawn(w->env, DOM_RX, guest_receiver, sh);
    *tx = simenv_spawn(w->env, DOM_TX, guest_sender, sh);
    assert_true(*rx > 0 && *tx > 0);
    while ((!__atomic_load_n(&sh->tx_ready, __ATOMIC_ACQUIRE) ||
            !__atomic_load_n(&sh->rx_ready, __ATOMIC_ACQUIRE)) && nbd_test_now_ms() < deadline)
        usleep(2000);
    assert_true(sh->tx_ready && sh->rx_ready);
}

/* The key written live changes the limit at once, both ways:
 *  - absent: unlimited (5 frames);
 *  - "180,<long window>": a fresh limit grants one window, 180 bytes =
 *    exactly 3 frames; the 4th waits (tx_rate_waits) and stays on the ring;
 *  - "600,...": a queue waiting for credit gets one window of the new rate
 *    at once (Linux fires the pending credit timer on a rate change): the
 *    7 waiting frames go, 180 bytes are left, so of 10 more exactly 3 go;
 *  - removed: unlimited again, everything waiting goes;
 *  - "0,1000": parsed as Linux does (xen_net_read_rate): a credit of 0
 *    bytes, nothing passes however long it waits;
 *  - "1x,1000": garbage, unlimited (Linux: "Traffic unlimited").
 * Every frame arrives byte-exact and in order; no error response. */
static void nbd_tx_burst_rate_key_live(void **state)
{
    NBD_TEST_NEED_WORLD(state);
    struct shared *sh = nbd_test_shared(sizeof(*sh));
    pid_t rx, tx;

    start_guests(w, sh, &rx, &tx);

    assert_int_equal(vif_rate_bytes(w), UNLIMITED);
    send_expect(w, sh, 5, 5);
    assert_int_equal(nbd_test_vif_counter(w, "vif1.0", "tx_rate_waits"), 0);

    set_rate(w, "180," LONG_WINDOW_US, 180);
    send_expect(w, sh, 15, 8);
    assert_true(nbd_test_vif_counter(w, "vif1.0", "tx_rate_waits") >= 1);

    set_rate(w, "600," LONG_WINDOW_US, 600);
    send_expect(w, sh, 15, 15);
    send_expect(w, sh, 25, 18);

    set_rate(w, NULL, UNLIMITED);
    send_expect(w, sh, 25, 25);

    set_rate(w, "180," LONG_WINDOW_US, 180);
    set_rate(w, "0,1000", 0);
    send_expect(w, sh, 35, 25);
    set_rate(w, "1x,1000", UNLIMITED);
    send_expect(w, sh, 35, 35);

    assert_int_equal(nbd_test_vif_counter(w, "vif1.0", "tx_errors"), 0);
    assert_int_equal(nbd_test_vif_counter(w, "vif2.0", "rx_packets"), 35);
    __atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
    assert_int_equal(simenv_wait(tx), 0);
    assert_int_equal(simenv_wait(rx), 0);
    munmap(sh, sizeof(*sh));
}

/* Every request consumed costs its first slot's size, as in Linux's
 * xenvif_tx_build_gops (the credit is taken before the request is even
 * looked at): with 180 bytes of credit, 12 too-short requests of 10 bytes
 * (dropped, answered with an error) leave room for exactly one 60-byte
 * frame of the 5 sent after them; the other 4 stay on the ring. */
static void nbd_tx_burst_rate_charges_dropped_requests(void **state)
{
    NBD_TEST_NEED_WORLD(state);
    struct shared *sh = nbd_test_shared(sizeof(*sh));
    pid_t rx, tx;

    set_rate(w, "180," LONG_WINDOW_US, 180);
    start_guests(w, sh, &rx, &tx);

    st(&sh->short_target, 12);
    assert_true(wait_unsigned(&sh->short_queued, 12));
    assert_int_equal(nbd_test_wait_counter(w, "vif1.0", "tx_drop_too_short", 12), 12);
    assert_true(wait_unsigned(&sh->bad, 12));
    st(&sh->target, 5);
    assert_true(wait_unsigned(&sh->queued, 5));
    assert_int_equal(nbd_test_wait_counter(w, "vif1.0", "tx_packets", 1), 1);
    assert_true(wait_unsigned(&sh->ok, 1));
    assert_true(wait_unsigned(&sh->received, 1));
    usleep(QUIET_MS * 1000);
    assert_int_equal(nbd_test_vif_counter(w, "vif1.0", "tx_packets"), 1);
    assert_int_equal(nbd_test_vif_counter(w, "vif1.0", "tx_drop_too_short"), 12);
    assert_int_equal(ld(&sh->ok), 1);
    assert_int_equal(ld(&sh->bad), 12);
    assert_int_equal(ld(&sh->received), 1);
    assert_true(nbd_test_vif_counter(w, "vif1.0", "tx_rate_waits") >= 1);

    /* the rest goes once the limit is lifted */
    set_rate(w, NULL, UNLIMITED);
    assert_int_equal(nbd_test_wait_counter(w, "vif1.0", "tx_packets", 5), 5);
    assert_true(wait_unsigned(&sh->received, 5));
    assert_int_equal(__atomic_load_n(&sh->rx_error, __ATOMIC_ACQUIRE), 0);
    assert_int_equal(nbd_test_vif_counter(w, "vif1.0", "tx_errors"), 0);
    __atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
    assert_int_equal(simenv_wait(tx), 0);
    assert_int_equal(simenv_wait(rx), 0);
    munmap(sh, sizeof(*sh));
}

static int setup(void **state)
{
    *state = nbd_testenv_start_xenbr0(2, 1, NULL);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(nbd_tx_burst_rate_key_live, setup, nbd_testenv_teardown),
        cmocka_unit_test_setup_teardown(nbd_tx_burst_rate_charges_dropped_requests, setup,
                                        nbd_testenv_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
