/* Event storms (XSA-332) against raw scripted frontends on the emulator,
 * netbackd as a child: one guest hammers its event channel without ever
 * giving netbackd work, another keeps its TX ring full of requests that
 * are invalid but not fatal (10 bytes, shorter than an Ethernet header:
 * dropped with an error, vif kept). Meanwhile a third guest sends frames
 * to a fourth, which must receive every one byte-exact and in order.
 *
 * Asserted: the others' traffic completes in full; the event stormer was
 * paced (spurious_events: a worker that found nothing to do after 64
 * events in a row backs off before re-enabling the channel, as Linux's
 * lateeoi spurious-event delay does); the request flooder's every request
 * was answered with an error and counted (tx_drop_too_short equals the
 * errors it saw); neither stormer's vif was disabled. No timing asserted:
 * waits are deadlines on a hang. */
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

#define DOM_STORM 1     /* notifies, never any work */
#define DOM_TX 2
#define DOM_RX 3
#define DOM_FLOOD 4     /* ring full of too-short requests */
#define FRAME_LEN 60u
#define BAD_LEN 10u
#define FRAMES 1000u
#define HELLO_SEQ 0xffffu
#define TX0 2u
#define RX0 (TX0 + RAW_FE_TX_PAGES)
#define NR_PAGES (RX0 + RAW_FE_RX_PAGES)
#define GUEST_DEADLINE_MS (6 * NBD_TEST_WAIT_MS)

static const uint8_t rx_mac[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, DOM_RX };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* Parent <-> guests, in shared memory (read and written with __atomic). */
struct shared {
    int stop;                       /* parent: stormers finish */
    int ready[5];                   /* by domid: connected (and storming) */
    unsigned long long notifies;    /* event stormer */
    unsigned flood_errors, flood_ok; /* request flooder's responses */
    unsigned sent_ok, sent_bad;     /* sender's responses */
    unsigned received;              /* receiver: in order, byte-exact */
    int rx_error;                   /* receiver: first wrong frame's seq + 1 */
};

static bool stopped(struct shared *sh) { return __atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE); }
static void ready(struct shared *sh, unsigned dom) { __atomic_store_n(&sh->ready[dom], 1, __ATOMIC_RELEASE); }

static int guest_event_stormer(void *arg)
{
    struct shared *sh = arg;
    struct raw_fe f = { .domid = DOM_STORM };
    unsigned long long n = 0;
    int rc;

    if ((rc = raw_fe_connect(&f, NR_PAGES, 0)))
        return rc;
    ready(sh, DOM_STORM);
    while (!stopped(sh)) {
        for (int i = 0; i < 256; i++)
            if (xenevtchn_notify(f.xce, f.port) == 0)
                n++;
        __atomic_store_n(&sh->notifies, n, __ATOMIC_RELEASE);
    }
    raw_fe_close(&f);
    return 0;
}

static int guest_request_flooder(void *arg)
{
    struct shared *sh = arg;
    struct raw_fe f = { .domid = DOM_FLOOD };
    unsigned ok = 0, bad = 0;
    uint8_t junk[BAD_LEN];
    uint64_t deadline;
    int rc;

    if ((rc = raw_fe_connect(&f, NR_PAGES, 0)))
        return rc;
    memset(junk, 0xee, sizeof(junk));
    ready(sh, DOM_FLOOD);
    while (!stopped(sh)) {
        while (!RING_FULL(&f.tx))
            raw_fe_queue_tx(&f, TX0, junk, BAD_LEN);
        raw_fe_push_tx(&f);
        xenevtchn_notify(f.xce, f.port);   /* whether asked or not */
        if (raw_fe_reap_tx(&f, &ok, &bad)) {
            __atomic_store_n(&sh->flood_ok, ok, __ATOMIC_RELEASE);
            __atomic_store_n(&sh->flood_errors, bad, __ATOMIC_RELEASE);
        }
    }
    /* every request pushed gets its answer */
    deadline = nbd_test_now_ms() + NBD_TEST_WAIT_MS;
    while (f.tx.rsp_cons != f.tx.req_prod_pvt && nbd_test_now_ms() < deadline)
        if (!raw_fe_reap_tx(&f, &ok, &bad))
            usleep(1000);
    __atomic_store_n(&sh->flood_ok, ok, __ATOMIC_RELEASE);
    __atomic_store_n(&sh->flood_errors, bad, __ATOMIC_RELEASE);
    if (f.tx.rsp_cons != f.tx.req_prod_pvt)
        return 20;
    raw_fe_close(&f);
    return 0;
}

/* Sends FRAMES frames to DOM_RX's MAC and takes every answer. */
static int guest_sender(void *arg)
{
    struct shared *sh = arg;
    struct raw_fe f = { .domid = DOM_TX };
    uint64_t deadline = nbd_test_now_ms() + GUEST_DEADLINE_MS;
    uint8_t frame[FRAME_LEN];
    unsigned seq = 0, ok = 0, bad = 0;
    int rc;

    if ((rc = raw_fe_connect(&f, NR_PAGES, 0)))
        return rc;
    ready(sh, DOM_TX);
    while (ok + bad < FRAMES) {
        if (seq < FRAMES && !RING_FULL(&f.tx)) {
            while (seq < FRAMES && !RING_FULL(&f.tx)) {
                raw_fe_frame(frame, FRAME_LEN, rx_mac, DOM_TX, seq++);
                raw_fe_queue_tx(&f, TX0, frame, FRAME_LEN);
            }
            raw_fe_push_tx(&f);
        }
        if (!raw_fe_reap_tx(&f, &ok, &bad)) {
            if (nbd_test_now_ms() > deadline)
                return 21;
            usleep(200);
        }
    }
    __atomic_store_n(&sh->sent_ok, ok, __ATOMIC_RELEASE);
    __atomic_store_n(&sh->sent_bad, bad, __ATOMIC_RELEASE);
    raw_fe_close(&f);
    return bad ? 22 : 0;
}

/* Says hello (one broadcast, so the bridge learns our MAC), then receives
 * FRAMES frames from DOM_TX, byte-exact and in order. */
static int guest_receiver(void *arg)
{
    struct shared *sh = arg;
    struct raw_fe f = { .domid = DOM_RX };
    uint64_t deadline = nbd_test_now_ms() + GUEST_DEADLINE_MS;
    uint8_t frame[FRAME_LEN];
    unsigned seq = 0;
    int rc;

    if ((rc = raw_fe_connect(&f, NR_PAGES, 0)))
        return rc;
    raw_fe_post_rx_all(&f, RX0);
    raw_fe_frame(frame, FRAME_LEN, bcast, DOM_RX, HELLO_SEQ);
    raw_fe_queue_tx(&f, TX0, frame, FRAME_LEN);
    raw_fe_push_tx(&f);
    ready(sh, DOM_RX);
    while (seq < FRAMES) {
        const uint8_t *data;
        unsigned len;
        int got = raw_fe_next_rx(&f, RX0, &data, &len);

        if (!got) {
            if (nbd_test_now_ms() > deadline)
                return 30;
            usleep(200);
            continue;
        }
        raw_fe_frame(frame, FRAME_LEN, rx_mac, DOM_TX, seq);
        if (got < 0 || len != FRAME_LEN || memcmp(data, frame, FRAME_LEN)) {
            __atomic_store_n(&sh->rx_error, (int)seq + 1, __ATOMIC_RELEASE);
            return 31;
        }
        __atomic_store_n(&sh->received, ++seq, __ATOMIC_RELEASE);
        raw_fe_post_rx_all(&f, RX0);
    }
    raw_fe_reap_tx(&f, NULL, NULL);
    raw_fe_close(&f);
    return 0;
}

/* ---- parent ---- */

static bool wait_ready(struct shared *sh, unsigned dom)
{
    uint64_t deadline = nbd_test_now_ms() + 2 * NBD_TEST_WAIT_MS;

    while (!__atomic_load_n(&sh->ready[dom], __ATOMIC_ACQUIRE) && nbd_test_now_ms() < deadline)
        usleep(2000);
    return __atomic_load_n(&sh->ready[dom], __ATOMIC_ACQUIRE);
}

static void nbd_queue_event_storm_does_not_starve_others(void **state)
{
    NBD_TEST_NEED_WORLD(state);
    struct shared *sh = nbd_test_shared(sizeof(*sh));

    pid_t rx = simenv_spawn(w->env, DOM_RX, guest_receiver, sh);
    assert_true(wait_ready(sh, DOM_RX));
    /* the hello went through: the bridge knows DOM_RX's MAC */
    assert_int_equal(nbd_test_wait_counter(w, "vif3.0", "tx_packets", 1), 1);

    pid_t storm = simenv_spawn(w->env, DOM_STORM, guest_event_stormer, sh);
    pid_t flood = simenv_spawn(w->env, DOM_FLOOD, guest_request_flooder, sh);
    assert_true(wait_ready(sh, DOM_STORM));
    assert_true(wait_ready(sh, DOM_FLOOD));
    /* both storms are on before the traffic starts */
    assert_true(nbd_test_wait_counter(w, "vif1.0", "notify_recv", 100) >= 100);
    assert_true(nbd_test_wait_counter(w, "vif4.0", "tx_drop_too_short", 512) >= 512);

    pid_t tx = simenv_spawn(w->env, DOM_TX, guest_sender, sh);
    int txs = simenv_wait(tx), rxs = simenv_wait(rx);
    printf("# sender %d, receiver %d; received %u, first bad %d\n", txs, rxs,
           __atomic_load_n(&sh->received, __ATOMIC_ACQUIRE), sh->rx_error);
    /* the storm was paced while it lasted */
    long long paced = nbd_test_wait_counter(w, "vif1.0", "spurious_events", 1);
    __atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
    int storms = simenv_wait(storm), floods = simenv_wait(flood);
    printf("# stormer: %llu notifies, %lld paced; flooder: %u errors\n",
           (unsigned long long)sh->notifies, paced, sh->flood_errors);

    assert_int_equal(txs, 0);
    assert_int_equal(rxs, 0);
    assert_int_equal(storms, 0);
    assert_int_equal(floods, 0);
    assert_int_equal(sh->received, FRAMES);
    assert_int_equal(sh->sent_ok, FRAMES);
    assert_int_equal(nbd_test_vif_counter(w, "vif2.0", "tx_packets"), FRAMES);
    assert_int_equal(nbd_test_vif_counter(w, "vif3.0", "rx_packets"), FRAMES);
    assert_true(paced >= 1);
    assert_int_equal(nbd_test_vif_counter(w, "vif1.0", "tx_packets"), 0);
    /* the flooder: every request answered with an error and counted */
    assert_int_equal(sh->flood_ok, 0);
    assert_true(sh->flood_errors >= 512);
    assert_int_equal(nbd_test_vif_counter(w, "vif4.0", "tx_drop_too_short"), sh->flood_errors);
    assert_int_equal(nbd_test_vif_counter(w, "vif4.0", "tx_packets"), 0);
    /* nobody was disabled: storms are not protocol errors */
    for (unsigned d = 1; d <= 4; d++) {
        char name[16];
        snprintf(name, sizeof(name), "vif%u.0", d);
        assert_false(nbd_test_vif_disabled(w, name));
        assert_int_equal(nbd_test_vif_counter(w, name, "tx_errors"), 0);
    }
    munmap(sh, sizeof(*sh));
}

static int setup(void **state)
{
    *state = nbd_testenv_start_xenbr0(4, 1, NULL);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(nbd_queue_event_storm_does_not_starve_others, setup,
                                        nbd_testenv_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
