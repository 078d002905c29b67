/* netbackd's optional features against a raw, scripted frontend on the
 * emulator: the control ring (hash algorithm, flags, mapping bounds,
 * static-grant table size), multicast control (subscriptions and the
 * 64-entry bound), a rogue TX producer index disabling only that vif, and
 * the worker mode switch from the control socket. The guest side builds
 * requests by hand on real shared rings; netbackd runs as a child. */
#include <errno.h>
#include <poll.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <xenctrl.h>
#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenstore.h>
#include <xen/io/netif.h>
#include <xen/io/xenbus.h>

#include "backend/ctl_client.h"
#include "backend/vif_nodes.h"
#include "tests/backend/nbd_testenv.h"
#include "tests/backend/raw_front.h"
#include "tests/lib/simenv.h"


#define NR_PAGES 6
#define STALL_MS 200    /* the daemon's rx_stall_timeout_ms in this test */
/* Its rx_drain_timeout_ms: short for the expiry test, which has a netbackd
 * of its own; long for the others, whose queued frames must outlive a
 * loaded valgrind run's pause between the stall and the guest's recovery. */
#define DRAIN_MS 3000
#define DRAIN_LONG_MS 600000


/* ---- the raw frontend (tests/backend/raw_front.c) ---- */

static int fe_connect(struct raw_fe *f, bool ctrl, bool mcast)
{
    return raw_fe_connect(f, NR_PAGES, RAW_FE_CTRL_RING | RAW_FE_SG | (ctrl ? RAW_FE_CTRL : 0) |
                                           (mcast ? RAW_FE_MCAST : 0));
}

/* Waits for n TX responses; returns the first data slot's status. */
static int tx_responses(struct raw_fe *f, unsigned n, int16_t *status)
{
    uint64_t deadline = nbd_test_now_ms() + NBD_TEST_WAIT_MS;
    unsigned got = 0;

    while (got < n) {
        if (!RING_HAS_UNCONSUMED_RESPONSES(&f->tx)) {
            if (nbd_test_now_ms() > deadline)
                return -ETIMEDOUT;
            usleep(1000);
            continue;
        }
        xen_rmb();
        status[got++] = RING_GET_RESPONSE(&f->tx, f->tx.rsp_cons)->status;
        f->tx.rsp_cons++;
    }
    return 0;
}

/* ---- guests ---- */

static int guest_ctrl(void *arg)
{
    struct raw_fe f = { .domid = 1, .devid = 0 };
    struct xen_netif_ctrl_response r;
    int rc;

    (void)arg;
    if ((rc = fe_connect(&f, true, false)))
        return rc;
    /* no algorithm yet: hashing is not on (netif.h) */
    if (raw_fe_ctrl_call(&f, XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS, 0, 0, 0, &r) ||
        r.status != XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED)
        return 20;
    if (raw_fe_ctrl_call(&f, XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM,
                  XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ, 0, 0, &r) ||
        r.status != XEN_NETIF_CTRL_STATUS_SUCCESS)
        return 21;
    if (raw_fe_ctrl_call(&f, XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS, 0, 0, 0, &r) ||
        r.status != XEN_NETIF_CTRL_STATUS_SUCCESS ||
        r.data != (XEN_NETIF_CTRL_HASH_TYPE_IPV4 | XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP |
                   XEN_NETIF_CTRL_HASH_TYPE_IPV6 | XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP))
        return 29;
    if (raw_fe_ctrl_call(&f, XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, XEN_NETIF_CTRL_HASH_TYPE_IPV4, 0, 0, &r) ||
        r.status != XEN_NETIF_CTRL_STATUS_SUCCESS)
        return 22;
    if (raw_fe_ctrl_call(&f, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, 8, 0, 0, &r) ||
        r.status != XEN_NETIF_CTRL_STATUS_SUCCESS)
        return 23;
    /* a mapping entry naming a queue that doesn't exist (XSA-270): the
     * table page holds queue 1, the vif has one queue */
    uint32_t *table = (uint32_t *)((char *)f.pages + 3 * 4096);
    table[0] = 1;
    if (raw_fe_ctrl_call(&f, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, f.refs[3], 1, 0, &r) ||
        r.status != XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER)
        return 24;
    table[0] = 0;
    if (raw_fe_ctrl_call(&f, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, f.refs[3], 1, 0, &r) ||
        r.status != XEN_NETIF_CTRL_STATUS_SUCCESS)
        return 25;
    /* offset + length past the table */
    if (raw_fe_ctrl_call(&f, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, f.refs[3], 2, 7, &r) ||
        r.status != XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER)
        return 26;
    /* static grants are offered (test_backend_static_grants.c uses them) */
    if (raw_fe_ctrl_call(&f, XEN_NETIF_CTRL_TYPE_GET_GREF_MAPPING_SIZE, 0, 0, 0, &r) ||
        r.status != XEN_NETIF_CTRL_STATUS_SUCCESS || r.data != 512)
        return 27;
    if (raw_fe_ctrl_call(&f, XEN_NETIF_CTRL_TYPE_INVALID, 0, 0, 0, &r) ||
        r.status != XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED)
        return 28;
    raw_fe_close(&f);
    return 0;
}

static int guest_mcast(void *arg)
{
    struct raw_fe f = { .domid = 2, .devid = 0 };
    int16_t st[2];
    int rc;

    (void)arg;
    if ((rc = fe_connect(&f, false, true)))
        return rc;
    /* 64 subscriptions fit (Linux's bound) ... */
    for (unsigned i = 0; i < 64; i++) {
        const uint8_t addr[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, (uint8_t)i };
        raw_fe_mcast(&f, XEN_NETIF_EXTRA_TYPE_MCAST_ADD, addr);
        if (tx_responses(&f, 2, st) || st[0] != NETIF_RSP_OKAY || st[1] != NETIF_RSP_NULL)
            return 30;
    }
    /* ... the 65th is answered with an error, the extra with NULL */
    const uint8_t extra[6] = { 0x01, 0x00, 0x5e, 0x00, 0x01, 0x00 };
    raw_fe_mcast(&f, XEN_NETIF_EXTRA_TYPE_MCAST_ADD, extra);
    if (tx_responses(&f, 2, st) || st[0] != NETIF_RSP_ERROR || st[1] != NETIF_RSP_NULL)
        return 31;
    /* after a removal there is room again */
    const uint8_t first[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x00 };
    raw_fe_mcast(&f, XEN_NETIF_EXTRA_TYPE_MCAST_DEL, first);
    if (tx_responses(&f, 2, st) || st[0] != NETIF_RSP_OKAY)
        return 32;
    raw_fe_mcast(&f, XEN_NETIF_EXTRA_TYPE_MCAST_ADD, extra);
    if (tx_responses(&f, 2, st) || st[0] != NETIF_RSP_OKAY)
        return 33;
    raw_fe_close(&f);
    return 0;
}

/* Publishes a TX producer index 1000 requests ahead: impossible. */
static int guest_rogue(void *arg)
{
    struct raw_fe f = { .domid = 3, .devid = 0 };
    int rc;

    (void)arg;
    if ((rc = fe_connect(&f, false, false)))
        return rc;
    f.tx.sring->req_prod = f.tx.req_prod_pvt + 1000;
    xenevtchn_notify(f.xce, f.port);
    /* stay until the test has seen the verdict */
    sleep(30);
    return 0;
}

struct stall_sync {
    int go[2];       /* parent -> stalled guest: post more buffers */
};

#define BIG_FRAME 5000u   /* two RX slots */

/* A guest that keeps exactly one RX buffer posted while the next packet
 * needs two (XSA-392), then recovers when told to. */
static int guest_stalled(void *arg)
{
    struct stall_sync *sync = arg;
    struct raw_fe f = { .domid = 4, .devid = 0 };
    uint64_t deadline;
    char c;
    int rc;

    if ((rc = fe_connect(&f, false, false)))
        return rc;
    raw_fe_post_rx(&f, 3, 1);
    if (read(sync->go[0], &c, 1) != 1)
        return 40;
    raw_fe_post_rx(&f, 4, 1);
    deadline = nbd_test_now_ms() + NBD_TEST_WAIT_MS;
    while (f.rx.sring->rsp_prod - f.rx.rsp_cons < 2) {
        if (nbd_test_now_ms() > deadline)
            return 41;
        usleep(1000);
    }
    xen_rmb();
    netif_rx_response_t r0 = *RING_GET_RESPONSE(&f.rx, f.rx.rsp_cons);
    netif_rx_response_t r1 = *RING_GET_RESPONSE(&f.rx, f.rx.rsp_cons + 1);
    f.rx.rsp_cons += 2;
    if (r0.status != 4096 || !(r0.flags & NETRXF_more_data) || r1.status != BIG_FRAME - 4096 ||
        (r1.flags & NETRXF_more_data))
        return 42;
    /* the frame arrived whole: check its first and last bytes */
    const uint8_t *p0 = raw_fe_page(&f, 3), *p1 = raw_fe_page(&f, 4);
    if (p0[0] != 0xff || p0[6] != 0x00 || p0[11] != 5 || p1[BIG_FRAME - 4096 - 1] != 0xa5)
        return 43;
    raw_fe_close(&f);
    return 0;
}

/* Sends one BIG_FRAME broadcast over two TX slots. */
static int guest_big_sender(void *arg)
{
    struct raw_fe f = { .domid = (unsigned)(uintptr_t)arg, .devid = 0 };
    int16_t st[2];
    int notify, rc;

    if ((rc = fe_connect(&f, false, false)))
        return rc;
    uint8_t *a = raw_fe_page(&f, 3), *b = raw_fe_page(&f, 4);
    memset(a, 0xa5, 4096);
    memset(b, 0xa5, 4096);
    memset(a, 0xff, 6);
    const uint8_t src[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x05 };
    memcpy(a + 6, src, 6);
    a[12] = 0x88;   /* an ethertype nobody parses */
    a[13] = 0xb5;
    netif_tx_request_t *r0 = RING_GET_REQUEST(&f.tx, f.tx.req_prod_pvt);
    *r0 = (netif_tx_request_t){ .gref = f.refs[3], .offset = 0, .flags = NETTXF_more_data,
                                .id = 0, .size = BIG_FRAME };
    netif_tx_request_t *r1 = RING_GET_REQUEST(&f.tx, f.tx.req_prod_pvt + 1);
    *r1 = (netif_tx_request_t){ .gref = f.refs[4], .offset = 0, .flags = 0, .id = 1,
                                .size = BIG_FRAME - 4096 };
    f.tx.req_prod_pvt += 2;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&f.tx, notify);
    if (notify)
        xenevtchn_notify(f.xce, f.port);
    if (tx_responses(&f, 2, st) || st[0] != NETIF_RSP_OKAY || st[1] != NETIF_RSP_OKAY)
        return 50;
    raw_fe_close(&f);
    return 0;
}

/* Starts guest (domain rx_dom, its vif on xenbr0), waits until its vif is
 * Connected, then has domain tx_dom send it one BIG_FRAME broadcast and
 * exit. Returns the receiving guest. */
static pid_t receiver_sent_big_frame(struct nbd_testenv *w, unsigned rx_dom, int (*guest)(void *),
                                     void *arg, unsigned tx_dom)
{
    pid_t rx = simenv_spawn(w->env, rx_dom, guest, arg), tx;

    assert_true(rx > 0);
    assert_true(nbd_test_wait_be_state(w->xsh, rx_dom, 0, XenbusStateConnected));
    tx = simenv_spawn(w->env, tx_dom, guest_big_sender, (void *)(uintptr_t)tx_dom);
    assert_true(tx > 0);
    assert_int_equal(simenv_wait(tx), 0);
    return rx;
}

/* ---- fixture ---- */

static struct nbd_testenv *start(unsigned drain_ms)
{
    char conf[128];

    snprintf(conf, sizeof(conf),
             "netbackd: { rx_stall_timeout_ms = %d; rx_drain_timeout_ms = %u; };\n",
             STALL_MS, drain_ms);
    return nbd_testenv_start_xenbr0(10, 1, conf);
}

static int setup(void **state)
{
    *state = start(DRAIN_LONG_MS);
    return 0;
}

static int setup_short_drain(void **state)
{
    *state = start(DRAIN_MS);
    return 0;
}

/* ---- tests ---- */

static void nbd_ctrl_poll_hash_requests_and_bounds(void **state)
{
    NBD_TEST_NEED_WORLD(state);
    pid_t g = simenv_spawn(w->env, 1, guest_ctrl, NULL);

    assert_true(g > 0);
    assert_int_equal(simenv_wait(g), 0);
    assert_int_equal(nbd_test_vif_counter(w, "vif1.0", "ctrl_requests"), 10);
}

static void nbd_tx_burst_multicast_subscriptions(void **state)
{
    NBD_TEST_NEED_WORLD(state);
    pid_t g = simenv_spawn(w->env, 2, guest_mcast, NULL);

    assert_true(g > 0);
    assert_int_equal(simenv_wait(g), 0);
    assert_int_equal(nbd_test_vif_counter(w, "vif2.0", "mcast_add"), 66);
    assert_int_equal(nbd_test_vif_counter(w, "vif2.0", "mcast_del"), 1);
    assert_int_equal(nbd_test_vif_counter(w, "vif2.0", "mcast_overflow"), 1);
}

static void nbd_tx_burst_rogue_producer_disables_only_that_vif(void **state)
{
    NBD_TEST_NEED_WORLD(state);
    pid_t g = simenv_spawn(w->env, 3, guest_rogue, NULL);
    json_t *v;

    assert_true(g > 0);
    assert_true(nbd_test_wait_vif_disabled(w, "vif3.0"));
    v = nbd_test_vif(w, "vif3.0");
    assert_non_null(v);
    assert_true(json_is_true(json_object_get(v, "disabled")));
    assert_string_equal(json_string_value(json_object_get(v, "disable_reason")),
                        "tx queue 0: ring_overflow");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(v, "totals"), "tx_errors")), 1);
    json_decref(v);
    /* the toolstack learns why from the error node */
    char *err = NULL;
    for (uint64_t deadline = nbd_test_now_ms() + NBD_TEST_WAIT_MS; !err && nbd_test_now_ms() < deadline; usleep(10000))
        err = xs_read(w->xsh, XBT_NULL, "/local/domain/0/error/backend/vif/3/0/error", NULL);
    assert_non_null(err);
    assert_string_equal(err, "71 tx queue 0: ring_overflow");   /* EPROTO */
    free(err);
    /* the others are untouched */
    v = nbd_test_vif(w, "vif2.0");
    assert_non_null(v);
    assert_false(json_is_true(json_object_get(v, "disabled")));
    json_decref(v);
    kill(g, SIGKILL);
    simenv_wait(g);
}

static void nbd_vif_set_mode_from_control_socket(void **state)
{
    NBD_TEST_NEED_WORLD(state);
    json_t *req = json_pack("{s:s,s:s,s:s}", "cmd", "set-mode", "vif", "all", "mode", "poll");
    json_t *r = nbd_ctl_call(w->ctl, req), *v;

    json_decref(req);
    assert_non_null(r);
    assert_true(json_is_true(json_object_get(r, "ok")));
    assert_int_equal(json_integer_value(json_object_get(r, "changed")), 10);
    json_decref(r);
    v = nbd_test_vif(w, "vif1.0");
    assert_string_equal(json_string_value(json_object_get(v, "mode")), "poll");
    json_decref(v);

    req = json_pack("{s:s,s:s,s:s}", "cmd", "set-mode", "vif", "vif1.0", "mode", "sideways");
    r = nbd_ctl_call(w->ctl, req);
    json_decref(req);
    assert_false(json_is_true(json_object_get(r, "ok")));
    assert_string_equal(json_string_value(json_object_get(r, "error")),
                        "mode must be \"event\" or \"poll\"");
    json_decref(r);

    req = json_pack("{s:s}", "cmd", "no-such-command");
    r = nbd_ctl_call(w->ctl, req);
    json_decref(req);
    assert_false(json_is_true(json_object_get(r, "ok")));
    json_decref(r);

    req = json_pack("{s:s,s:s,s:s}", "cmd", "set-mode", "vif", "all", "mode", "event");
    r = nbd_ctl_call(w->ctl, req);
    json_decref(req);
    assert_true(json_is_true(json_object_get(r, "ok")));
    json_decref(r);
}

static bool port_link(struct nbd_testenv *w, const char *name)
{
    json_t *req = json_pack("{s:s}", "cmd", "bridge-list");
    json_t *r = nbd_ctl_call(w->ctl, req), *br, *port;
    size_t i, j;
    bool link = false;

    json_decref(req);
    json_array_foreach(json_object_get(r, "bridges"), i, br)
        json_array_foreach(json_object_get(br, "ports"), j, port)
            if (!strcmp(json_string_value(json_object_get(port, "name")), name))
                link = json_is_true(json_object_get(port, "link"));
    json_decref(r);
    return link;
}

static void nbd_rx_burst_stall_with_one_free_slot(void **state)
{
    NBD_TEST_NEED_WORLD(state);
    struct stall_sync sync;

    assert_int_equal(pipe(sync.go), 0);
    pid_t rx = receiver_sent_big_frame(w, 4, guest_stalled, &sync, 5);
    /* the two-slot frame waits; after the stall timeout the guest is
     * reported stalled and its carrier goes down */
    assert_int_equal(nbd_test_wait_counter(w, "vif4.0", "rx_stalls", 1), 1);
    assert_int_equal(nbd_test_vif_counter(w, "vif4.0", "rx_packets"), 0);
    assert_false(port_link(w, "vif4.0"));
    /* it posts a second buffer: the frame is delivered, carrier back */
    assert_int_equal(write(sync.go[1], "g", 1), 1);
    assert_int_equal(simenv_wait(rx), 0);
    assert_int_equal(nbd_test_vif_counter(w, "vif4.0", "rx_packets"), 1);
    assert_int_equal(nbd_test_vif_counter(w, "vif4.0", "rx_bytes"), BIG_FRAME);
    assert_int_equal(nbd_test_vif_counter(w, "vif4.0", "rx_stalls"), 1);
    close(sync.go[0]);
    close(sync.go[1]);
}

/* A guest that connects and never posts an RX buffer. */
static int guest_no_buffers(void *arg)
{
    struct stall_sync *sync = arg;
    struct raw_fe f = { .domid = 6, .devid = 0 };
    char c;
    int rc;

    if ((rc = fe_connect(&f, false, false)))
        return rc;
    if (read(sync->go[0], &c, 1) != 1)
        return 60;
    raw_fe_close(&f);
    return 0;
}

/* Packets nobody takes expire after the drain timeout (XSA-392). */
static void nbd_rx_burst_queued_packets_expire(void **state)
{
    NBD_TEST_NEED_WORLD(state);
    struct stall_sync sync;

    assert_int_equal(pipe(sync.go), 0);
    pid_t rx = receiver_sent_big_frame(w, 6, guest_no_buffers, &sync, 7);
    /* (the wait's bound is twice NBD_TEST_WAIT_MS, far beyond DRAIN_MS) */
    assert_int_equal(nbd_test_wait_counter(w, "vif6.0", "rx_drop_expired", 1), 1);
    assert_int_equal(nbd_test_vif_counter(w, "vif6.0", "rx_packets"), 0);
    assert_int_equal(write(sync.go[1], "g", 1), 1);
    assert_int_equal(simenv_wait(rx), 0);
    close(sync.go[0]);
    close(sync.go[1]);
}

struct xdp_sync {
    int go[2];       /* parent -> receiver: the frame was sent */
    int ready[2];    /* receiver -> parent: reconfigured, buffers posted */
};

/* Waits for the two responses of one BIG_FRAME and checks where the data
 * starts (the headroom) and that it arrived whole. */
static int receive_big(struct raw_fe *f, unsigned first_page, uint16_t headroom)
{
    uint64_t deadline = nbd_test_now_ms() + NBD_TEST_WAIT_MS;
    unsigned room = 4096u - headroom;

    while (f->rx.sring->rsp_prod - f->rx.rsp_cons < 2) {
        if (nbd_test_now_ms() > deadline)
            return 1;
        usleep(1000);
    }
    xen_rmb();
    netif_rx_response_t r0 = *RING_GET_RESPONSE(&f->rx, f->rx.rsp_cons);
    netif_rx_response_t r1 = *RING_GET_RESPONSE(&f->rx, f->rx.rsp_cons + 1);
    f->rx.rsp_cons += 2;
    if (r0.offset != headroom || r1.offset != headroom || r0.status != (int16_t)room ||
        r1.status != (int16_t)(BIG_FRAME - room) || !(r0.flags & NETRXF_more_data))
        return 2;
    const uint8_t *p0 = (uint8_t *)raw_fe_page(f, first_page) + headroom;
    const uint8_t *p1 = (uint8_t *)raw_fe_page(f, first_page + 1) + headroom;
    if (p0[0] != 0xff || p0[12] != 0x88 || p0[room - 1] != 0xa5 || p1[BIG_FRAME - room - 1] != 0xa5)
        return 3;
    return 0;
}

/* A frontend with XDP headroom 200 that then reconfigures it to 64. */
static int guest_xdp(void *arg)
{
    struct xdp_sync *sync = arg;
    struct raw_fe f = { .domid = 8, .devid = 0 };
    char c;
    int rc;

    f.xsh = xs_open(0);
    raw_fe_write(&f, "xdp-headroom", "200");
    xs_close(f.xsh);
    if ((rc = fe_connect(&f, false, false)))
        return rc;
    raw_fe_post_rx(&f, 3, 2);
    if (read(sync->go[0], &c, 1) != 1)
        return 70;
    if ((rc = receive_big(&f, 3, 200)))
        return 70 + rc;
    /* Reconfiguring: new headroom, backend answers Reconfigured */
    raw_fe_write(&f, "xdp-headroom", "64");
    raw_fe_write(&f, "state", "%d", XenbusStateReconfiguring);
    if (!nbd_test_wait_be_state(f.xsh, 8, 0, XenbusStateReconfigured))
        return 80;
    raw_fe_write(&f, "state", "%d", XenbusStateConnected);
    if (!nbd_test_wait_be_state(f.xsh, 8, 0, XenbusStateConnected))
        return 81;
    raw_fe_post_rx(&f, 3, 2);
    if (write(sync->ready[1], "r", 1) != 1)   /* tell the parent we are ready again */
        return 82;
    if (read(sync->go[0], &c, 1) != 1)
        return 83;
    if ((rc = receive_big(&f, 3, 64)))
        return 90 + rc;
    raw_fe_close(&f);
    return 0;
}

static void nbd_rx_burst_xdp_headroom_and_reconfigure(void **state)
{
    NBD_TEST_NEED_WORLD(state);
    struct xdp_sync sync;
    char c;

    assert_int_equal(pipe(sync.go), 0);
    assert_int_equal(pipe(sync.ready), 0);
    pid_t rx = receiver_sent_big_frame(w, 8, guest_xdp, &sync, 9);
    assert_int_equal(write(sync.go[1], "g", 1), 1);
    /* the guest reconfigures, then says so */
    struct pollfd pfd = { .fd = sync.ready[0], .events = POLLIN };
    assert_int_equal(poll(&pfd, 1, NBD_TEST_WAIT_MS), 1);
    assert_int_equal(read(sync.ready[0], &c, 1), 1);
    assert_int_equal(c, 'r');
    char *v = xs_read(w->xsh, XBT_NULL, "/local/domain/0/backend/vif/8/0/state", NULL);
    assert_string_equal(v, "4");
    free(v);
    pid_t tx = simenv_spawn(w->env, 10, guest_big_sender, (void *)(uintptr_t)10);
    assert_true(tx > 0);
    assert_int_equal(simenv_wait(tx), 0);
    assert_int_equal(write(sync.go[1], "g", 1), 1);
    assert_int_equal(simenv_wait(rx), 0);
    close(sync.go[0]);
    close(sync.go[1]);
    close(sync.ready[0]);
    close(sync.ready[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nbd_ctrl_poll_hash_requests_and_bounds),
        cmocka_unit_test(nbd_tx_burst_multicast_subscriptions),
        cmocka_unit_test(nbd_tx_burst_rogue_producer_disables_only_that_vif),
        cmocka_unit_test(nbd_rx_burst_stall_with_one_free_slot),
        cmocka_unit_test(nbd_rx_burst_xdp_headroom_and_reconfigure),
        cmocka_unit_test(nbd_vif_set_mode_from_control_socket),
    };
    const struct CMUnitTest short_drain[] = {
        cmocka_unit_test(nbd_rx_burst_queued_packets_expire),
    };
    /* tests/run-tests.sh adds up both groups' summaries */
    int failed = cmocka_run_group_tests(tests, setup, nbd_testenv_teardown);

    return failed + cmocka_run_group_tests(short_drain, setup_short_drain, nbd_testenv_teardown);
}
