/* Static grants (the control ring's GET_GREF_MAPPING_SIZE and
 * ADD/DEL_GREF_MAPPING) and the backend `carrier` key, against raw,
 * scripted frontends on the emulator with netbackd as a child.
 *
 * Leaks are checked two ways: netbackd's sgrant_maps/sgrant_unmaps
 * counters, and, where the vif (and its counters) goes away with the
 * domain, netbackd's own address space: the pages it still maps from the
 * guest's memory file, read from /proc/<netbackd>/maps. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
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

#define NR_PAGES 12      /* tx, rx, ctrl, gref list, then 8 data pages */
#define LIST_PAGE 3
#define DATA0 4          /* data pages DATA0..NR_PAGES-1 */
#define STALL_MS 200     /* the daemon's rx_stall_timeout_ms here */
#define BIG_FRAME 5000u  /* two RX slots */

enum {   /* domains, one per role */
    DOM_STATIC = 1, DOM_PLAIN = 2, DOM_HOSTILE = 3, DOM_CROSS_STATIC = 4,
    DOM_CROSS_PLAIN = 5, DOM_DIES = 6, DOM_CLOSES = 7, DOM_STALLED = 8,
    DOM_SENDER = 9, NR_DOMS = 9,
};

static char *vif_str(struct nbd_testenv *w, const char *name, const char *key)
{
    json_t *v = nbd_test_vif(w, name);
    const char *s = v ? json_string_value(json_object_get(v, key)) : NULL;
    char *out = s ? strdup(s) : NULL;

    json_decref(v);
    return out;
}

/* ---- the raw frontend (tests/backend/raw_front.c) ---- */

static int fe_connect(struct raw_fe *f, bool ctrl)
{
    return raw_fe_connect(f, NR_PAGES, RAW_FE_CTRL_RING | RAW_FE_SG | (ctrl ? RAW_FE_CTRL : 0));
}

static struct xen_netif_gref *gref_list(struct raw_fe *f)
{
    return (struct xen_netif_gref *)raw_fe_page(f, LIST_PAGE);
}

/* ADD or DEL of refs[] (flags 0) for queue 0; returns the response. */
static int gref_op(struct raw_fe *f, uint16_t type, const uint32_t *refs, unsigned n,
                   struct xen_netif_ctrl_response *r)
{
    struct xen_netif_gref *l = gref_list(f);

    for (unsigned i = 0; i < n; i++)
        l[i] = (struct xen_netif_gref){ .ref = refs[i], .flags = 0, .status = 0xeeee };
    return raw_fe_ctrl_call(f, type, 0, f->refs[LIST_PAGE], n, r);
}

/* Registers data pages first..first+n-1 as static grants. */
static int register_pages(struct raw_fe *f, unsigned first, unsigned n)
{
    struct xen_netif_ctrl_response r;

    if (raw_fe_ctrl_call(f, XEN_NETIF_CTRL_TYPE_GET_GREF_MAPPING_SIZE, 0, 0, 0, &r) ||
        r.status != XEN_NETIF_CTRL_STATUS_SUCCESS || r.data != 512)
        return 1;
    if (gref_op(f, XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING, &f->refs[first], n, &r) ||
        r.status != XEN_NETIF_CTRL_STATUS_SUCCESS)
        return 2;
    return 0;
}

/* Fills len bytes of a broadcast frame from mac_last at p (seeded pattern). */
static void make_frame(uint8_t *p, uint32_t len, uint8_t mac_last, uint8_t seed)
{
    const uint8_t src[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, mac_last };

    memset(p, 0xff, 6);
    memcpy(p + 6, src, 6);
    p[12] = 0x88;   /* an ethertype nobody parses */
    p[13] = 0xb5;
    for (uint32_t i = 14; i < len; i++)
        p[i] = (uint8_t)(seed + i * 7);
}

/* Sends one single-slot frame from data page `page` at off; returns the
 * slot's status (or a value > 0 on timeout). */
static int send_one(struct raw_fe *f, unsigned page, uint16_t off, uint16_t size)
{
    uint64_t deadline = nbd_test_now_ms() + NBD_TEST_WAIT_MS;
    netif_tx_request_t *r = RING_GET_REQUEST(&f->tx, f->tx.req_prod_pvt);
    int notify;

    *r = (netif_tx_request_t){ .gref = f->refs[page], .offset = off, .flags = 0,
                               .id = (uint16_t)f->tx.req_prod_pvt, .size = size };
    f->tx.req_prod_pvt++;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&f->tx, notify);
    if (notify)
        xenevtchn_notify(f->xce, f->port);
    while (!RING_HAS_UNCONSUMED_RESPONSES(&f->tx)) {
        if (nbd_test_now_ms() > deadline)
            return 1000;
        usleep(1000);
    }
    xen_rmb();
    int16_t st = RING_GET_RESPONSE(&f->tx, f->tx.rsp_cons)->status;
    f->tx.rsp_cons++;
    return st;
}

/* Waits for one single-slot RX response; checks it against the frame
 * make_frame(len, mac_last, seed) would build. 0 if byte-exact. */
static int receive_one(struct raw_fe *f, uint32_t len, uint8_t mac_last, uint8_t seed)
{
    uint64_t deadline = nbd_test_now_ms() + NBD_TEST_WAIT_MS;
    uint8_t want[4096];

    while (!RING_HAS_UNCONSUMED_RESPONSES(&f->rx)) {
        if (nbd_test_now_ms() > deadline)
            return 1;
        usleep(1000);
    }
    xen_rmb();
    netif_rx_response_t r = *RING_GET_RESPONSE(&f->rx, f->rx.rsp_cons);
    f->rx.rsp_cons++;
    if (r.status != (int16_t)len || (r.flags & NETRXF_more_data) || r.id < DATA0 ||
        r.id >= NR_PAGES || r.offset + len > 4096)
        return 2;
    make_frame(want, len, mac_last, seed);
    return memcmp(raw_fe_page(f, r.id) + r.offset, want, len) ? 3 : 0;
}

/* ---- guests ---- */

struct sync {
    unsigned domid;  /* guest_register_and_wait: DOM_DIES or DOM_CLOSES */
    int ready[2];    /* guest -> parent */
    int go[2];       /* parent -> guest */
};

/* Registers its TX pages 4..7 and RX pages 8..9, posts RX on 8..9, says
 * ready; receives the plain guest's frame, then sends its own from a
 * static page at a non-zero offset. */
static int guest_static(void *arg)
{
    struct sync *s = arg;
    struct raw_fe f = { .domid = DOM_STATIC };
    int rc;

    if ((rc = fe_connect(&f, true)))
        return rc;
    if ((rc = register_pages(&f, DATA0, 6)))
        return 10 + rc;
    raw_fe_post_rx(&f, 8, 2);
    if (write(s->ready[1], "r", 1) != 1)
        return 13;
    if ((rc = receive_one(&f, 1000, DOM_PLAIN, 0x21)))
        return 20 + rc;
    make_frame(raw_fe_page(&f, 5) + 100, 700, DOM_STATIC, 0x42);
    if ((rc = send_one(&f, 5, 100, 700)) != NETIF_RSP_OKAY)
        return 30;
    if (!nbd_test_wait_byte(s->go[0]))
        return 31;
    raw_fe_close(&f);
    return 0;
}

/* No control ring: sends a frame to the static guest, receives its answer. */
static int guest_plain(void *arg)
{
    (void)arg;
    struct raw_fe f = { .domid = DOM_PLAIN };
    int rc;

    if ((rc = fe_connect(&f, false)))
        return rc;
    raw_fe_post_rx(&f, 8, 2);
    make_frame(raw_fe_page(&f, 4), 1000, DOM_PLAIN, 0x21);
    if (send_one(&f, 4, 0, 1000) != NETIF_RSP_OKAY)
        return 40;
    if ((rc = receive_one(&f, 700, DOM_STATIC, 0x42)))
        return 40 + rc;
    raw_fe_close(&f);
    return 0;
}

/* Every bound of the static-grant requests; the vif stays up throughout. */
static int guest_hostile(void *arg)
{
    (void)arg;
    struct raw_fe f = { .domid = DOM_HOSTILE };
    struct xen_netif_ctrl_response r;
    struct xen_netif_gref *l;
    uint32_t refs[512];
    int rc;

    if ((rc = fe_connect(&f, true)))
        return rc;
    l = gref_list(&f);
    /* queue index past the vif's one queue */
    if (raw_fe_ctrl_call(&f, XEN_NETIF_CTRL_TYPE_GET_GREF_MAPPING_SIZE, 1, 0, 0, &r) ||
        r.status != XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER)
        return 10;
    /* a list longer than its page (513 entries): refused before any map */
    if (raw_fe_ctrl_call(&f, XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING, 0, f.refs[LIST_PAGE], 513, &r) ||
        r.status != XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER)
        return 11;
    /* two real pages fit; then 511 more exceed the room left (510) */
    if (gref_op(&f, XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING, &f.refs[DATA0], 2, &r) ||
        r.status != XEN_NETIF_CTRL_STATUS_SUCCESS)
        return 12;
    for (unsigned i = 0; i < 511; i++)
        refs[i] = f.refs[DATA0 + 2 + i % 6];
    if (gref_op(&f, XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING, refs, 511, &r) ||
        r.status != XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER)
        return 13;
    /* a list naming a ref we never granted: the request fails, the entry
     * says which; the granted one next to it isn't kept either */
    uint32_t mixed[2] = { f.refs[DATA0 + 2], f.refs[NR_PAGES - 1] + 100 };
    if (gref_op(&f, XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING, mixed, 2, &r) ||
        r.status != XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER ||
        l[0].status != XEN_NETIF_CTRL_STATUS_SUCCESS ||
        l[1].status != XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER)
        return 14;
    if (gref_op(&f, XEN_NETIF_CTRL_TYPE_DEL_GREF_MAPPING, mixed, 1, &r) ||
        r.status != XEN_NETIF_CTRL_STATUS_SUCCESS || r.data != 0 ||
        l[0].status != XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER)
        return 15;
    /* the same ref twice in one list */
    uint32_t dup[2] = { f.refs[DATA0 + 3], f.refs[DATA0 + 3] };
    if (gref_op(&f, XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING, dup, 2, &r) ||
        r.status != XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER)
        return 16;
    /* a page granted read-only, claimed writable: can't be mapped so */
    uint32_t ro_ref;
    void *ro = xengntshr_share_pages(f.xgs, 0, 1, &ro_ref, 0);
    if (!ro)
        return 17;
    if (gref_op(&f, XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING, &ro_ref, 1, &r) ||
        r.status != XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER)
        return 18;
    l[0] = (struct xen_netif_gref){ .ref = ro_ref, .flags = XEN_NETIF_CTRLF_GREF_readonly };
    if (raw_fe_ctrl_call(&f, XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING, 0, f.refs[LIST_PAGE], 1, &r) ||
        r.status != XEN_NETIF_CTRL_STATUS_SUCCESS)
        return 19;
    /* DEL: an unknown ref gets its own error, the known ones go */
    uint32_t del[4] = { f.refs[DATA0], 12345, f.refs[DATA0 + 1], ro_ref };
    if (gref_op(&f, XEN_NETIF_CTRL_TYPE_DEL_GREF_MAPPING, del, 4, &r) ||
        r.status != XEN_NETIF_CTRL_STATUS_SUCCESS || r.data != 3 ||
        l[0].status != XEN_NETIF_CTRL_STATUS_SUCCESS ||
        l[1].status != XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER ||
        l[2].status != XEN_NETIF_CTRL_STATUS_SUCCESS ||
        l[3].status != XEN_NETIF_CTRL_STATUS_SUCCESS)
        return 20;
    /* deleting again: nothing left to delete */
    if (gref_op(&f, XEN_NETIF_CTRL_TYPE_DEL_GREF_MAPPING, del, 1, &r) ||
        r.status != XEN_NETIF_CTRL_STATUS_SUCCESS || r.data != 0)
        return 21;
    /* still a working vif: a frame from a re-registered page goes out */
    if (register_pages(&f, DATA0, 1))
        return 22;
    make_frame(raw_fe_page(&f, DATA0), 60, DOM_HOSTILE, 1);
    if (send_one(&f, DATA0, 0, 60) != NETIF_RSP_OKAY)
        return 23;
    xengntshr_unshare(f.xgs, ro, 1);
    raw_fe_close(&f);
    return 0;
}

/* A slot that crosses the end of its page, with (arg != NULL) or without
 * the page statically mapped; stays until killed. */
static int guest_cross_page(void *arg)
{
    struct raw_fe f = { .domid = arg ? DOM_CROSS_STATIC : DOM_CROSS_PLAIN };
    int rc;

    if ((rc = fe_connect(&f, true)))
        return rc;
    if (arg && register_pages(&f, DATA0, 1))
        return 10;
    make_frame(raw_fe_page(&f, DATA0) + 4000, 96, (uint8_t)f.domid, 3);
    netif_tx_request_t *r = RING_GET_REQUEST(&f.tx, f.tx.req_prod_pvt);
    *r = (netif_tx_request_t){ .gref = f.refs[DATA0], .offset = 4000, .id = 0, .size = 200 };
    f.tx.req_prod_pvt++;
    RING_PUSH_REQUESTS(&f.tx);
    xenevtchn_notify(f.xce, f.port);
    pause();
    return 0;
}

/* Registers 4 pages, tells the parent its memory file's inode, then either
 * stays until its domain is destroyed (arg NULL) or closes when told. */
static int guest_register_and_wait(void *arg)
{
    struct sync *s = arg;
    struct raw_fe f = { .domid = s->domid };
    unsigned long inode;
    int rc;

    if ((rc = fe_connect(&f, true)))
        return rc;
    if ((rc = register_pages(&f, DATA0, 4)))
        return 10 + rc;
    inode = raw_fe_mem_inode(&f);
    if (write(s->ready[1], &inode, sizeof(inode)) != sizeof(inode))
        return 13;
    if (f.domid == DOM_DIES) {
        pause();
        return 0;
    }
    if (!nbd_test_wait_byte(s->go[0]))
        return 14;
    raw_fe_close(&f);
    return 0;
}

/* Keeps exactly one RX buffer while the next packet needs two, recovers
 * when told to (the backend's stall detection and carrier). */
static int guest_stalled(void *arg)
{
    struct sync *s = arg;
    struct raw_fe f = { .domid = DOM_STALLED };
    uint64_t deadline;
    int rc;

    if ((rc = fe_connect(&f, false)))
        return rc;
    raw_fe_post_rx(&f, DATA0, 1);
    if (!nbd_test_wait_byte(s->go[0]))
        return 40;
    raw_fe_post_rx(&f, DATA0 + 1, 1);
    deadline = nbd_test_now_ms() + NBD_TEST_WAIT_MS;
    while (f.rx.sring->rsp_prod - f.rx.rsp_cons < 2) {
        if (nbd_test_now_ms() > deadline)
            return 41;
        usleep(1000);
    }
    if (!nbd_test_wait_byte(s->go[0]))
        return 42;
    raw_fe_close(&f);
    return 0;
}

static int guest_big_sender(void *arg)
{
    (void)arg;
    struct raw_fe f = { .domid = DOM_SENDER };
    int notify, rc;

    if ((rc = fe_connect(&f, false)))
        return rc;
    make_frame(raw_fe_page(&f, DATA0), 4096, DOM_SENDER, 9);
    memset(raw_fe_page(&f, DATA0 + 1), 0xa5, 4096);
    netif_tx_request_t *r0 = RING_GET_REQUEST(&f.tx, f.tx.req_prod_pvt);
    *r0 = (netif_tx_request_t){ .gref = f.refs[DATA0], .flags = NETTXF_more_data, .id = 0,
                                .size = BIG_FRAME };
    netif_tx_request_t *r1 = RING_GET_REQUEST(&f.tx, f.tx.req_prod_pvt + 1);
    *r1 = (netif_tx_request_t){ .gref = f.refs[DATA0 + 1], .id = 1, .size = BIG_FRAME - 4096 };
    f.tx.req_prod_pvt += 2;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&f.tx, notify);
    if (notify)
        xenevtchn_notify(f.xce, f.port);
    uint64_t deadline = nbd_test_now_ms() + NBD_TEST_WAIT_MS;
    while (f.tx.sring->rsp_prod - f.tx.rsp_cons < 2) {
        if (nbd_test_now_ms() > deadline)
            return 50;
        usleep(1000);
    }
    raw_fe_close(&f);
    return 0;
}

/* ---- fixture ---- */

static int setup(void **state)
{
    static const char *const args[] = { "--log-level", "warn", "--max-queues", "1", NULL };
    char conf[128];
    struct nbd_testenv *t;

    snprintf(conf, sizeof(conf), "netbackd: { rx_stall_timeout_ms = %d; };\n", STALL_MS);
    *state = t = nbd_testenv_start(NR_DOMS, args, conf);
    for (unsigned d = 1; t && d <= NR_DOMS; d++) {
        char bridge[16];
        /* the two pairs share a bridge each; everyone else is alone */
        if (d == DOM_STATIC || d == DOM_PLAIN)
            snprintf(bridge, sizeof(bridge), "xenbr0");
        else if (d == DOM_STALLED || d == DOM_SENDER)
            snprintf(bridge, sizeof(bridge), "xenbr1");
        else
            snprintf(bridge, sizeof(bridge), "lone%u", d);
        nbd_test_add_vif(t, d, bridge);
    }
    return 0;
}

/* ---- tests ---- */

static void nbd_ctrl_poll_static_grants_traffic_both_ways(void **state)
{
    NBD_TEST_NEED_WORLD(state);
    struct sync s;

    nbd_test_pipes_open(s.ready, s.go);
    pid_t st = simenv_spawn(w->env, DOM_STATIC, guest_static, &s);
    assert_true(st > 0);
    assert_true(nbd_test_wait_byte(s.ready[0]));
    pid_t pl = simenv_spawn(w->env, DOM_PLAIN, guest_plain, NULL);
    assert_true(pl > 0);
    assert_int_equal(simenv_wait(pl), 0);
    /* the static guest's two packets cost no grant copy: its only two are
     * the ADD list copied in and its statuses copied back (a slot may take
     * two memcpys where the packet buffer crosses a page) */
    assert_int_equal(nbd_test_vif_counter(w, "vif1.0", "tx_packets"), 1);
    assert_int_equal(nbd_test_vif_counter(w, "vif1.0", "rx_packets"), 1);
    assert_true(nbd_test_vif_counter(w, "vif1.0", "sgrant_copies") >= 2);
    assert_int_equal(nbd_test_vif_counter(w, "vif1.0", "gcopy_ops"), 2);
    assert_int_equal(nbd_test_vif_counter(w, "vif1.0", "sgrant_maps"), 6);
    assert_int_equal(nbd_test_vif_counter(w, "vif1.0", "sgrant_unmaps"), 0);
    /* the guest without a control ring: grant copies, one per slot */
    assert_int_equal(nbd_test_vif_counter(w, "vif2.0", "tx_packets"), 1);
    assert_int_equal(nbd_test_vif_counter(w, "vif2.0", "rx_packets"), 1);
    assert_int_equal(nbd_test_vif_counter(w, "vif2.0", "sgrant_copies"), 0);
    assert_true(nbd_test_vif_counter(w, "vif2.0", "gcopy_ops") >= 2);
    /* disconnect unmaps every page */
    assert_int_equal(write(s.go[1], "g", 1), 1);
    assert_int_equal(simenv_wait(st), 0);
    assert_int_equal(nbd_test_vif_counter(w, "vif1.0", "sgrant_unmaps"), 6);
    nbd_test_pipes_close(s.ready, s.go);
}

static void nbd_ctrl_poll_static_grant_bounds(void **state)
{
    NBD_TEST_NEED_WORLD(state);
    pid_t g = simenv_spawn(w->env, DOM_HOSTILE, guest_hostile, NULL);

    assert_true(g > 0);
    assert_int_equal(simenv_wait(g), 0);
    json_t *v = nbd_test_vif(w, "vif3.0");
    assert_non_null(v);
    assert_false(json_is_true(json_object_get(v, "disabled")));
    json_decref(v);
    assert_int_equal(nbd_test_vif_counter(w, "vif3.0", "tx_packets"), 1);
    assert_int_equal(nbd_test_vif_counter(w, "vif3.0", "sgrant_copies"), 1);
    /* 2 + 1 (the granted half of the refused list, taken back) + 1
     * read-only + 1 re-registered; all unmapped after close */
    assert_int_equal(nbd_test_vif_counter(w, "vif3.0", "sgrant_maps"), 5);
    assert_int_equal(nbd_test_vif_counter(w, "vif3.0", "sgrant_unmaps"), 5);
}

static void nbd_tx_burst_static_slot_crossing_page_same_verdict(void **state)
{
    NBD_TEST_NEED_WORLD(state);
    pid_t a = simenv_spawn(w->env, DOM_CROSS_STATIC, guest_cross_page, (void *)1);
    pid_t b = simenv_spawn(w->env, DOM_CROSS_PLAIN, guest_cross_page, NULL);

    assert_true(a > 0 && b > 0);
    assert_true(nbd_test_wait_vif_disabled(w, "vif4.0"));
    assert_true(nbd_test_wait_vif_disabled(w, "vif5.0"));
    char *ra = vif_str(w, "vif4.0", "disable_reason"), *rb = vif_str(w, "vif5.0", "disable_reason");
    assert_non_null(ra);
    assert_non_null(rb);
    assert_string_equal(ra, "tx queue 0: cross_page");
    assert_string_equal(ra, rb);
    free(ra);
    free(rb);
    assert_int_equal(nbd_test_vif_counter(w, "vif4.0", "sgrant_copies"), 0);
    assert_int_equal(nbd_test_vif_counter(w, "vif4.0", "tx_packets"), 0);
    assert_int_equal(nbd_test_vif_counter(w, "vif4.0", "sgrant_maps"), 1);
    kill(a, SIGKILL);
    kill(b, SIGKILL);
    simenv_wait(a);
    simenv_wait(b);
}

/* Opens s's pipes and starts guest_register_and_wait in domid; returns
 * once it registered its pages, with the inode of its memory file. */
static pid_t spawn_registered(struct nbd_testenv *w, struct sync *s, unsigned domid,
                              unsigned long *inode)
{
    struct pollfd p = { .fd = -1, .events = POLLIN };
    pid_t g;

    nbd_test_pipes_open(s->ready, s->go);
    s->domid = domid;
    g = simenv_spawn(w->env, domid, guest_register_and_wait, s);
    assert_true(g > 0);
    p.fd = s->ready[0];
    assert_int_equal(poll(&p, 1, 2 * NBD_TEST_WAIT_MS), 1);
    assert_int_equal(read(s->ready[0], inode, sizeof(*inode)), sizeof(*inode));
    assert_true(*inode != 0);
    /* two rings, the control ring, four static grants */
    assert_int_equal(raw_fe_mapped_by(w->daemon, *inode), 7);
    return g;
}

static void nbd_vif_disconnect_domain_destroy_unmaps_static_grants(void **state)
{
    NBD_TEST_NEED_WORLD(state);
    struct sync s;
    unsigned long inode = 0;
    pid_t g = spawn_registered(w, &s, DOM_DIES, &inode);

    assert_int_equal(nbd_test_vif_counter(w, "vif6.0", "sgrant_maps"), 4);
    /* the domain dies under the daemon: its vif goes, every page with it */
    assert_int_equal(simenv_domain_destroy(w->env, DOM_DIES), 0);
    kill(g, SIGKILL);
    simenv_wait(g);
    assert_true(nbd_test_wait_vif_gone(w, "vif6.0"));
    assert_int_equal(raw_fe_mapped_by(w->daemon, inode), 0);
    nbd_test_pipes_close(s.ready, s.go);
}

static void nbd_vif_disconnect_frontend_close_unmaps_static_grants(void **state)
{
    NBD_TEST_NEED_WORLD(state);
    struct sync s;
    unsigned long inode = 0;
    pid_t g = spawn_registered(w, &s, DOM_CLOSES, &inode);

    assert_int_equal(write(s.go[1], "g", 1), 1);
    assert_int_equal(simenv_wait(g), 0);
    assert_int_equal(raw_fe_mapped_by(w->daemon, inode), 0);
    assert_int_equal(nbd_test_vif_counter(w, "vif7.0", "sgrant_maps"), 4);
    assert_int_equal(nbd_test_vif_counter(w, "vif7.0", "sgrant_unmaps"), 4);
    nbd_test_pipes_close(s.ready, s.go);
}

static void nbd_vif_carrier_sync_stall_drops_and_restores(void **state)
{
    NBD_TEST_NEED_WORLD(state);
    const char *key = "/local/domain/0/backend/vif/8/0/carrier";
    struct sync s;

    nbd_test_pipes_open(s.ready, s.go);
    /* not connected yet: no carrier */
    assert_true(nbd_test_wait_value(w->xsh, key, "0"));
    pid_t rx = simenv_spawn(w->env, DOM_STALLED, guest_stalled, &s);
    assert_true(rx > 0);
    assert_true(nbd_test_wait_value(w->xsh, key, "1"));
    pid_t tx = simenv_spawn(w->env, DOM_SENDER, guest_big_sender, NULL);
    assert_true(tx > 0);
    assert_int_equal(simenv_wait(tx), 0);
    /* the two-slot frame waits on one free slot past the stall timeout */
    assert_true(nbd_test_wait_value(w->xsh, key, "0"));
    /* the worker marks the queue stalled (what the carrier follows), then
     * counts it: the count may come a moment after the key */
    assert_int_equal(nbd_test_wait_counter(w, "vif8.0", "rx_stalls", 1), 1);
    assert_int_equal(write(s.go[1], "g", 1), 1);
    assert_true(nbd_test_wait_value(w->xsh, key, "1"));
    assert_int_equal(nbd_test_vif_counter(w, "vif8.0", "rx_packets"), 1);
    /* the frontend leaves: carrier off again */
    assert_int_equal(write(s.go[1], "g", 1), 1);
    assert_int_equal(simenv_wait(rx), 0);
    assert_true(nbd_test_wait_value(w->xsh, key, "0"));
    nbd_test_pipes_close(s.ready, s.go);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nbd_ctrl_poll_static_grants_traffic_both_ways),
        cmocka_unit_test(nbd_ctrl_poll_static_grant_bounds),
        cmocka_unit_test(nbd_tx_burst_static_slot_crossing_page_same_verdict),
        cmocka_unit_test(nbd_vif_disconnect_domain_destroy_unmaps_static_grants),
        cmocka_unit_test(nbd_vif_disconnect_frontend_close_unmaps_static_grants),
        cmocka_unit_test(nbd_vif_carrier_sync_stall_drops_and_restores),
    };
    return cmocka_run_group_tests(tests, setup, nbd_testenv_teardown);
}
