/* The TX datapath under load, against raw scripted frontends on the
 * emulator with netbackd as a child: grant-copy batching (one call for up
 * to 64 small packets, counted by tx_gcopy_calls) and back-pressure when
 * the queue's packet pool is empty (requests stay on the ring, no error
 * responses, nothing dropped for want of a buffer).
 *
 * Domain 1 sends broadcast frames numbered 0..N-1, domain 2 (the only
 * other port of the bridge) receives them and checks each byte-exact and
 * in order. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <xenctrl.h>
#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenstore.h>
#include <xen/io/netif.h>
#include <xen/io/xenbus.h>

#include "backend/vif_nodes.h"
#include "tests/backend/nbd_testenv.h"
#include "tests/backend/raw_front.h"
#include "tests/lib/simenv.h"

#define DOM_TX 1
#define DOM_RX 2
#define FRAME_LEN 60u
#define TX_AREAS 256u                            /* one 64-byte area per TX slot */
#define TX_PAGES (TX_AREAS * 64 / 4096)            /* 4 */
#define RX_PAGES 256u                            /* one page per RX slot */
#define NR_PAGES (2 + TX_PAGES + RX_PAGES)         /* tx ring, rx ring, data */
#define TX0 2
#define RX0 (TX0 + TX_PAGES)
#define POOL 64                                    /* pool_packets (its minimum) */
#define BATCH_PKTS 200u
#define FLOOD_PKTS 1000u

/* ---- the raw frontend (tests/backend/raw_front.c) ---- */

/* no control ring, no feature-sg: page 2 on is data */
static int fe_connect(struct raw_fe *f)
{
    return raw_fe_connect(f, NR_PAGES, 0);
}

/* Frame number seq: broadcast from DOM_TX, seq in bytes 14-15, then a
 * pattern of seq. */
static void make_frame(uint8_t *p, unsigned seq)
{
    static const uint8_t src[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, DOM_TX };

    memset(p, 0xff, 6);
    memcpy(p + 6, src, 6);
    p[12] = 0x88;   /* an ethertype nobody parses */
    p[13] = 0xb5;
    p[14] = (uint8_t)(seq >> 8);
    p[15] = (uint8_t)seq;
    for (unsigned i = 16; i < FRAME_LEN; i++)
        p[i] = (uint8_t)(seq * 31 + i * 7);
}

/* Queues frame seq in the next TX slot (not yet pushed). */
static void queue_frame(struct raw_fe *f, unsigned seq)
{
    RING_IDX i = f->tx.req_prod_pvt;
    unsigned area = i % TX_AREAS;
    uint16_t off = (uint16_t)(area % 64 * 64);

    make_frame(raw_fe_page(f, TX0 + area / 64) + off, seq);
    *RING_GET_REQUEST(&f->tx, i) = (netif_tx_request_t){
        .gref = f->refs[TX0 + area / 64], .offset = off, .id = (uint16_t)area, .size = FRAME_LEN };
    f->tx.req_prod_pvt = i + 1;
}

static void push_tx(struct raw_fe *f)
{
    int notify;

    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&f->tx, notify);
    if (notify)
        xenevtchn_notify(f->xce, f->port);
}

/* Takes the TX responses there are; every one must be OKAY and in ring
 * order. Returns how many, or -1 on a bad one. */
static int reap_tx(struct raw_fe *f)
{
    int n = 0;

    while (RING_HAS_UNCONSUMED_RESPONSES(&f->tx)) {
        xen_rmb();
        netif_tx_response_t r = *RING_GET_RESPONSE(&f->tx, f->tx.rsp_cons);
        if (r.status != NETIF_RSP_OKAY || r.id != f->tx.rsp_cons % TX_AREAS)
            return -1;
        f->tx.rsp_cons++;
        n++;
    }
    return n;
}

/* Sends frames 0..total-1, as fast as the ring lets it (one push per
 * ring-full), and waits for all responses. 0 or an exit code. */
static int send_all(struct raw_fe *f, unsigned total)
{
    uint64_t deadline = nbd_test_now_ms() + 3 * NBD_TEST_WAIT_MS;
    unsigned seq = 0, answered = 0;

    while (answered < total) {
        int n;

        while (seq < total && !RING_FULL(&f->tx))
            queue_frame(f, seq++);
        push_tx(f);
        if ((n = reap_tx(f)) < 0)
            return 20;
        answered += (unsigned)n;
        if (!n) {
            if (nbd_test_now_ms() > deadline)
                return 21;
            usleep(200);
        }
    }
    return 0;
}

/* Posts every free RX slot (one page each; the page index is the id). */
static void post_rx(struct raw_fe *f)
{
    int notify;

    while (!RING_FULL(&f->rx)) {
        RING_IDX i = f->rx.req_prod_pvt;
        netif_rx_request_t *req = RING_GET_REQUEST(&f->rx, i);
        req->id = (uint16_t)(i % RX_PAGES);
        req->gref = f->refs[RX0 + i % RX_PAGES];
        f->rx.req_prod_pvt = i + 1;
    }
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&f->rx, notify);
    if (notify)
        xenevtchn_notify(f->xce, f->port);
}

/* Receives frames 0..total-1, each byte-exact and in order. */
static int receive_all(struct raw_fe *f, unsigned total)
{
    uint64_t deadline = nbd_test_now_ms() + 3 * NBD_TEST_WAIT_MS;
    uint8_t want[FRAME_LEN];
    unsigned seq = 0;

    post_rx(f);
    while (seq < total) {
        if (!RING_HAS_UNCONSUMED_RESPONSES(&f->rx)) {
            if (nbd_test_now_ms() > deadline)
                return 30;
            usleep(200);
            continue;
        }
        xen_rmb();
        netif_rx_response_t r = *RING_GET_RESPONSE(&f->rx, f->rx.rsp_cons);
        f->rx.rsp_cons++;
        if (r.status != (int16_t)FRAME_LEN || (r.flags & NETRXF_more_data) ||
            r.id >= RX_PAGES || r.offset + FRAME_LEN > 4096)
            return 31;
        make_frame(want, seq);
        if (memcmp(raw_fe_page(f, RX0 + r.id) + r.offset, want, FRAME_LEN))
            return 32;
        seq++;
        post_rx(f);
    }
    return 0;
}

/* ---- guests ---- */

struct sync {
    int ready[2];    /* guest -> parent: connected */
    int go[2];       /* parent -> guest */
};

struct guest_arg {
    struct sync *s;
    unsigned total;
};

/* Connects, says ready, waits for go, receives arg->total frames. */
static int guest_receiver(void *p)
{
    struct guest_arg *a = p;
    struct raw_fe f = { .domid = DOM_RX };
    int rc;

    if ((rc = fe_connect(&f)))
        return rc;
    if (write(a->s->ready[1], "r", 1) != 1 || !nbd_test_wait_byte(a->s->go[0]))
        return 10;
    if ((rc = receive_all(&f, a->total)))
        return rc;
    raw_fe_close(&f);
    return 0;
}

/* Connects, waits for go, sends arg->total frames. */
static int guest_sender(void *p)
{
    struct guest_arg *a = p;
    struct raw_fe f = { .domid = DOM_TX };
    int rc;

    if ((rc = fe_connect(&f)))
        return rc;
    if (!nbd_test_wait_byte(a->s->go[0]))
        return 10;
    if ((rc = send_all(&f, a->total)))
        return rc;
    raw_fe_close(&f);
    return 0;
}

/* Connects, waits for go, sends arg->total frames with ONE push, then
 * takes their responses. */
static int guest_one_push(void *p)
{
    struct guest_arg *a = p;
    struct raw_fe f = { .domid = DOM_TX };
    uint64_t deadline;
    unsigned answered = 0;
    int rc, n;

    if ((rc = fe_connect(&f)))
        return rc;
    if (!nbd_test_wait_byte(a->s->go[0]))
        return 10;
    for (unsigned seq = 0; seq < a->total; seq++)
        queue_frame(&f, seq);
    push_tx(&f);
    deadline = nbd_test_now_ms() + NBD_TEST_WAIT_MS;
    while (answered < a->total) {
        if ((n = reap_tx(&f)) < 0)
            return 20;
        answered += (unsigned)n;
        if (!n && nbd_test_now_ms() > deadline)
            return 21;
        if (!n)
            usleep(200);
    }
    raw_fe_close(&f);
    return 0;
}

/* ---- fixture ---- */

/* A receiver in DOM_RX and a sender in DOM_TX, each moving total
 * frames; pair_start returns once the receiver is connected. */
struct pair {
    struct sync rs, ss;
    struct guest_arg ra, sa;
    pid_t rx, tx;
};

static void pair_start(struct nbd_testenv *w, struct pair *p, unsigned total, int (*sender)(void *))
{
    nbd_test_pipes_open(p->rs.ready, p->rs.go);
    nbd_test_pipes_open(p->ss.ready, p->ss.go);
    p->ra = (struct guest_arg){ &p->rs, total };
    p->sa = (struct guest_arg){ &p->ss, total };
    p->rx = simenv_spawn(w->env, DOM_RX, guest_receiver, &p->ra);
    p->tx = simenv_spawn(w->env, DOM_TX, sender, &p->sa);
    assert_true(nbd_test_wait_byte(p->rs.ready[0]));
}

static void pair_close(struct pair *p)
{
    nbd_test_pipes_close(p->rs.ready, p->rs.go);
    nbd_test_pipes_close(p->ss.ready, p->ss.go);
}

/* ---- tests ---- */

/* 200 small frames published with one push: the TX side gathers them into
 * 64-segment grant-copy calls, so at most ceil(200/64)+1 calls; every frame
 * arrives byte-exact and in order. */
static void nbd_tx_burst_batches_grant_copies(void **state)
{
    NBD_TEST_NEED_WORLD(state);
    struct pair p;
    pair_start(w, &p, BATCH_PKTS, guest_one_push);
    assert_int_equal(write(p.rs.go[1], "g", 1), 1);
    assert_int_equal(write(p.ss.go[1], "g", 1), 1);
    assert_int_equal(simenv_wait(p.tx), 0);
    assert_int_equal(simenv_wait(p.rx), 0);

    long long calls = nbd_test_vif_counter(w, "vif1.0", "tx_gcopy_calls");
    assert_int_equal(nbd_test_vif_counter(w, "vif1.0", "tx_packets"), BATCH_PKTS);
    assert_int_equal(nbd_test_vif_counter(w, "vif1.0", "gcopy_ops"), BATCH_PKTS);
    assert_true(calls >= 1);
    assert_true(calls <= (long long)(BATCH_PKTS + 63) / 64 + 1);
    assert_int_equal(nbd_test_vif_counter(w, "vif2.0", "rx_packets"), BATCH_PKTS);
    assert_int_equal(nbd_test_vif_counter(w, "vif2.0", "rx_gcopy_calls"),
                     nbd_test_vif_counter(w, "vif2.0", "gcopy_calls"));
    pair_close(&p);
}

/* A 64-buffer pool and a sender that outpaces its receiver: while the
 * receiver posts nothing, netbackd takes exactly the 64 frames it has
 * buffers for and leaves the rest on the sender's ring (no error
 * response, no tx_drop_no_buffer); once the receiver drains, all frames
 * arrive byte-exact and in order, none dropped anywhere. */
static void nbd_tx_burst_pool_backpressure(void **state)
{
    NBD_TEST_NEED_WORLD(state);
    struct pair p;
    pair_start(w, &p, FLOOD_PKTS, guest_sender);
    assert_int_equal(write(p.ss.go[1], "g", 1), 1);
    /* the pool runs dry with every buffer in the receiver's backlog */
    assert_true(nbd_test_wait_counter(w, "vif1.0", "tx_pool_waits", 1) >= 1);
    assert_int_equal(nbd_test_wait_counter(w, "vif1.0", "tx_packets", POOL), POOL);
    assert_int_equal(nbd_test_vif_counter(w, "vif1.0", "tx_drop_no_buffer"), 0);
    assert_int_equal(nbd_test_vif_counter(w, "vif2.0", "rx_packets"), 0);
    /* now the receiver drains and the sender gets going again */
    assert_int_equal(write(p.rs.go[1], "g", 1), 1);
    assert_int_equal(simenv_wait(p.tx), 0);
    assert_int_equal(simenv_wait(p.rx), 0);

    assert_int_equal(nbd_test_vif_counter(w, "vif1.0", "tx_packets"), FLOOD_PKTS);
    assert_int_equal(nbd_test_vif_counter(w, "vif1.0", "tx_drop_no_buffer"), 0);
    assert_int_equal(nbd_test_vif_counter(w, "vif1.0", "tx_errors"), 0);
    assert_int_equal(nbd_test_vif_counter(w, "vif2.0", "rx_packets"), FLOOD_PKTS);
    assert_int_equal(nbd_test_vif_counter(w, "vif2.0", "rx_drop_backlog_full"), 0);
    pair_close(&p);
}

/* A private emulator and netbackd per test (fresh counters); teardown
 * stops them even when an assert ended the test early. */
static int setup_default(void **state)
{
    *state = nbd_testenv_start_xenbr0(2, 1, NULL);
    return 0;
}

static int setup_tiny_pool(void **state)
{
    char conf[128];

    /* drain timeout out of reach: the 64 frames wait in the backlog */
    snprintf(conf, sizeof(conf), "netbackd: { pool_packets = %d; rx_drain_timeout_ms = 600000; };\n",
             POOL);
    *state = nbd_testenv_start_xenbr0(2, 1, conf);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(nbd_tx_burst_batches_grant_copies, setup_default, nbd_testenv_teardown),
        cmocka_unit_test_setup_teardown(nbd_tx_burst_pool_backpressure, setup_tiny_pool, nbd_testenv_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
