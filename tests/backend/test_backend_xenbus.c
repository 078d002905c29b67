/* netbackd's xenbus side against the emulator: the test process is the
 * toolstack (vif-add/vif-del nodes) and, for hostile cases, writes the
 * frontend's keys itself with xs_* (dom0 may write anywhere); well-behaved
 * frontends are scripted child processes in the guest domain that share
 * real ring pages and event channels. netbackd runs as a child process. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
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
#include "tests/lib/simenv.h"


#define MAX_QUEUES 4   /* netbackd runs with --max-queues 4 */

static char *xread(struct xs_handle *xsh, const char *fmt, ...)
{
    char path[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(path, sizeof(path), fmt, ap);
    va_end(ap);
    return xs_read(xsh, XBT_NULL, path, NULL);
}

/* libxl's two-entry permissions: `owner` owns the node (others: none),
 * `reader` may read it. */
static void assert_owner_reader(struct xs_handle *xsh, const char *path, unsigned owner,
                                unsigned reader)
{
    unsigned n;
    struct xs_permissions *p = xs_get_permissions(xsh, XBT_NULL, path, &n);

    assert_non_null(p);
    assert_int_equal(n, 2);
    assert_int_equal(p[0].id, owner);
    assert_int_equal(p[0].perms, XS_PERM_NONE);
    assert_int_equal(p[1].id, reader);
    assert_int_equal(p[1].perms, XS_PERM_READ);
    free(p);
}

static void xwrite(struct xs_handle *xsh, const char *dir, const char *key, const char *val)
{
    char path[256];

    snprintf(path, sizeof(path), "%s/%s", dir, key);
    if (!xs_write(xsh, XBT_NULL, path, val, (unsigned)strlen(val)))
        fprintf(stderr, "write %s: %s\n", path, strerror(errno));
}


static void fe_dir(unsigned domid, unsigned devid, char *buf, size_t len)
{
    snprintf(buf, len, "/local/domain/%u/device/vif/%u", domid, devid);
}

static int add_vif_script(struct nbd_testenv *w, unsigned domid, unsigned devid, const char *script)
{
    struct nbd_vif_spec spec = { .domid = domid, .devid = devid, .mtu = 1500,
                                 .mac = { 0x00, 0x16, 0x3e, 0, (uint8_t)domid, (uint8_t)devid } };
    char err[256];

    snprintf(spec.bridge, sizeof(spec.bridge), "xenbr0");
    snprintf(spec.script, sizeof(spec.script), "%s", script);
    int rc = nbd_vif_nodes_add(w->xsh, &spec, err, sizeof(err));
    if (rc)
        fprintf(stderr, "vif-add: %s\n", err);
    return rc;
}

static int add_vif(struct nbd_testenv *w, unsigned domid, unsigned devid)
{
    return add_vif_script(w, domid, devid, "");
}

/* 1 if netbackd lists the vif (its state in state), else 0. */
static int daemon_vif_count(struct nbd_testenv *w, const char *name, char *state, size_t len)
{
    json_t *v = nbd_test_vif(w, name);

    if (v && state)
        snprintf(state, len, "%s", json_string_value(json_object_get(v, "state")));
    json_decref(v);
    return v != NULL;
}


/* ---- a scripted, well-behaved frontend in the guest ---- */

struct guest_script {
    unsigned domid, devid;
    unsigned queues;
    bool reconnect;     /* close, go Initialising, connect again */
    bool stay;          /* stay Connected until the backend closes */
};

struct fe_queue {
    void *rings;
    uint32_t refs[2];
    evtchn_port_t port;
};

static int guest_connect(struct xs_handle *xsh, xengntshr_handle *xgs, xenevtchn_handle *xce,
                         const struct guest_script *s, struct fe_queue *q)
{
    char dir[96], sub[128], val[32];

    fe_dir(s->domid, s->devid, dir, sizeof(dir));
    for (unsigned i = 0; i < s->queues; i++) {
        q[i].rings = xengntshr_share_pages(xgs, 0, 2, q[i].refs, 1);
        if (!q[i].rings)
            return 10;
        SHARED_RING_INIT((netif_tx_sring_t *)q[i].rings);
        SHARED_RING_INIT((netif_rx_sring_t *)((char *)q[i].rings + 4096));
        int p = xenevtchn_bind_unbound_port(xce, 0);
        if (p < 0)
            return 11;
        q[i].port = (evtchn_port_t)p;
        if (s->queues == 1)
            snprintf(sub, sizeof(sub), "%s", dir);
        else
            snprintf(sub, sizeof(sub), "%s/queue-%u", dir, i);
        snprintf(val, sizeof(val), "%u", q[i].refs[0]);
        xwrite(xsh, sub, "tx-ring-ref", val);
        snprintf(val, sizeof(val), "%u", q[i].refs[1]);
        xwrite(xsh, sub, "rx-ring-ref", val);
        snprintf(val, sizeof(val), "%u", q[i].port);
        xwrite(xsh, sub, "event-channel", val);
    }
    if (s->queues > 1) {
        snprintf(val, sizeof(val), "%u", s->queues);
        xwrite(xsh, dir, "multi-queue-num-queues", val);
    }
    xwrite(xsh, dir, "request-rx-copy", "1");
    xwrite(xsh, dir, "feature-rx-notify", "1");
    xwrite(xsh, dir, "feature-sg", "1");
    xwrite(xsh, dir, "state", "4");
    if (s->stay)
        return 0;   /* the test watches the backend; it may remove it any time */
    return nbd_test_wait_be_state(xsh, s->domid, s->devid, XenbusStateConnected) ? 0 : 12;
}

static void guest_release(xengntshr_handle *xgs, xenevtchn_handle *xce, struct fe_queue *q,
                          unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (q[i].rings)
            xengntshr_unshare(xgs, q[i].rings, 2);
        if (q[i].port)
            xenevtchn_unbind(xce, q[i].port);
        memset(&q[i], 0, sizeof(q[i]));
    }
}

static int guest_close(struct xs_handle *xsh, const struct guest_script *s)
{
    char dir[96];

    fe_dir(s->domid, s->devid, dir, sizeof(dir));
    xwrite(xsh, dir, "state", "5");
    if (!nbd_test_wait_be_state(xsh, s->domid, s->devid, XenbusStateClosing))
        return 20;
    xwrite(xsh, dir, "state", "6");
    if (!nbd_test_wait_be_state(xsh, s->domid, s->devid, XenbusStateClosed))
        return 21;
    return 0;
}

/* The script on open handles; returns the guest's exit status. */
static int guest_run(const struct guest_script *s, struct xs_handle *xsh, xengntshr_handle *xgs,
                     xenevtchn_handle *xce)
{
    struct fe_queue q[MAX_QUEUES] = { 0 };
    char dir[96];
    int rc;

    fe_dir(s->domid, s->devid, dir, sizeof(dir));
    /* a netfront waits for InitWait before writing its keys */
    if (!nbd_test_wait_be_state(xsh, s->domid, s->devid, XenbusStateInitWait))
        return 3;
    if ((rc = guest_connect(xsh, xgs, xce, s, q)))
        return rc;
    if (s->stay) {
        /* until the backend goes away (removal or daemon exit) */
        char path[128];
        snprintf(path, sizeof(path), "/local/domain/0/backend/vif/%u/%u/state", s->domid, s->devid);
        uint64_t deadline = nbd_test_now_ms() + NBD_TEST_WAIT_MS;
        while (nbd_test_now_ms() < deadline) {
            char *v = xs_read(xsh, XBT_NULL, path, NULL);
            bool gone = !v || !strcmp(v, "5") || !strcmp(v, "6");
            free(v);
            if (gone)
                break;
            usleep(5000);
        }
        return 0;
    }
    if ((rc = guest_close(xsh, s)))
        return rc;
    guest_release(xgs, xce, q, s->queues);
    if (s->reconnect) {
        xwrite(xsh, dir, "state", "1");
        if (!nbd_test_wait_be_state(xsh, s->domid, s->devid, XenbusStateInitWait))
            return 30;
        if ((rc = guest_connect(xsh, xgs, xce, s, q)))
            return 30 + rc;
        if ((rc = guest_close(xsh, s)))
            return 40 + rc;
        guest_release(xgs, xce, q, s->queues);
    }
    return 0;
}

static int guest_main(void *arg)
{
    struct xs_handle *xsh = xs_open(0);
    xengntshr_handle *xgs = xengntshr_open(NULL, 0);
    xenevtchn_handle *xce = xenevtchn_open(NULL, 0);
    int rc = xsh && xgs && xce ? guest_run(arg, xsh, xgs, xce) : 2;

    /* every way out closes the handles (a leak is a failure under valgrind) */
    xengntshr_close(xgs);
    xenevtchn_close(xce);
    if (xsh)
        xs_close(xsh);
    return rc;
}

/* ---- fixture ---- */

static int setup(void **state)
{
    static const char *const args[] = { "--log-level", "warn", "--max-queues", "4", NULL };   /* MAX_QUEUES */

    *state = nbd_testenv_start(6, args, NULL);
    return 0;
}

static int teardown(void **state)
{
    nbd_testenv_stop(*state);
    return 0;
}

#define NEED_WORLD(state) \
    struct nbd_testenv *w = *(state); \
    if (!w) { skip(); return; }

/* ---- tests ---- */

static void vif_add_nodes_and_permissions(void **state)
{
    NEED_WORLD(state);
    char *v;

    assert_int_equal(add_vif(w, 6, 3), 0);
    /* backend directory: owned by the backend domain, guest may read */
    assert_owner_reader(w->xsh, "/local/domain/0/backend/vif/6/3", 0, 6);
    /* frontend directory: owned by the guest, backend may read */
    assert_owner_reader(w->xsh, "/local/domain/6/device/vif/3", 6, 0);
    /* mtu in the frontend is read-only for the guest */
    assert_owner_reader(w->xsh, "/local/domain/6/device/vif/3/mtu", 0, 6);

    static const char *const be_keys[][2] = {
        { "frontend", "/local/domain/6/device/vif/3" }, { "frontend-id", "6" },
        { "online", "1" }, { "mac", "00:16:3e:00:06:03" }, { "bridge", "xenbr0" },
        { "handle", "3" }, { "type", "vif" }, { "mtu", "1500" },
    };
    for (size_t i = 0; i < sizeof(be_keys) / sizeof(be_keys[0]); i++) {
        v = xread(w->xsh, "/local/domain/0/backend/vif/6/3/%s", be_keys[i][0]);
        assert_non_null(v);
        assert_string_equal(v, be_keys[i][1]);
        free(v);
    }
    static const char *const fe_keys[][2] = {
        { "backend", "/local/domain/0/backend/vif/6/3" }, { "backend-id", "0" },
        { "state", "1" }, { "handle", "3" }, { "mac", "00:16:3e:00:06:03" }, { "mtu", "1500" },
    };
    for (size_t i = 0; i < sizeof(fe_keys) / sizeof(fe_keys[0]); i++) {
        v = xread(w->xsh, "/local/domain/6/device/vif/3/%s", fe_keys[i][0]);
        assert_non_null(v);
        assert_string_equal(v, fe_keys[i][1]);
        free(v);
    }
    v = xread(w->xsh, "/libxl/6/device/vif/3/backend");
    assert_non_null(v);
    assert_string_equal(v, "/local/domain/0/backend/vif/6/3");
    free(v);

    /* without a script there is no hotplug gate */
    v = xread(w->xsh, "/local/domain/0/backend/vif/6/3/hotplug-status");
    assert_null(v);

    char err[256];
    /* the frontend never connected: the daemon closes at once on request */
    assert_true(nbd_test_wait_be_state(w->xsh, 6, 3, XenbusStateInitWait));
    assert_int_equal(nbd_vif_nodes_del(w->xsh, 6, 3, 0, NBD_TEST_WAIT_MS, err, sizeof(err)), 0);
    assert_null(xread(w->xsh, "/local/domain/0/backend/vif/6/3"));
    assert_null(xread(w->xsh, "/local/domain/6/device/vif/3"));
    assert_null(xread(w->xsh, "/libxl/6/device/vif/3"));
    assert_int_equal(nbd_vif_nodes_del(w->xsh, 6, 3, 0, 0, err, sizeof(err)), -ENOENT);
    assert_true(nbd_test_wait_vif_gone(w, "vif6.3"));
}

static void xenbus_probe_advertises_features(void **state)
{
    NEED_WORLD(state);
    static const char *const features[][2] = {
        { "feature-sg", "1" }, { "feature-gso-tcpv4", "1" }, { "feature-gso-tcpv6", "1" },
        { "feature-ipv6-csum-offload", "1" }, { "feature-rx-copy", "1" },
        { "feature-rx-flip", "0" }, { "feature-multicast-control", "1" },
        { "feature-dynamic-multicast-control", "1" },
        { "feature-split-event-channels", "1" }, { "multi-queue-max-queues", "4" },
        { "feature-ctrl-ring", "1" }, { "feature-xdp-headroom", "1" },
    };

    assert_int_equal(add_vif(w, 1, 0), 0);
    assert_true(nbd_test_wait_be_state(w->xsh, 1, 0, XenbusStateInitWait));
    for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
        char *v = xread(w->xsh, "/local/domain/0/backend/vif/1/0/%s", features[i][0]);
        assert_non_null(v);
        assert_string_equal(v, features[i][1]);
        free(v);
    }
    char err[256];
    assert_int_equal(nbd_vif_nodes_del(w->xsh, 1, 0, 0, NBD_TEST_WAIT_MS, err, sizeof(err)), 0);
    assert_true(nbd_test_wait_vif_gone(w, "vif1.0"));
}

/* Writes a frontend's keys as dom0 would let a hostile guest write them. */
static void write_fe(struct nbd_testenv *w, unsigned domid, unsigned devid, const char *const kv[][2],
                     size_t n)
{
    char dir[96];

    fe_dir(domid, devid, dir, sizeof(dir));
    for (size_t i = 0; i < n; i++)
        xwrite(w->xsh, dir, kv[i][0], kv[i][1]);
    xwrite(w->xsh, dir, "state", "4");
}

static void expect_error_node(struct nbd_testenv *w, unsigned domid, unsigned devid, const char *needle)
{
    char path[160];

    snprintf(path, sizeof(path), "/local/domain/0/error/backend/vif/%u/%u/error", domid, devid);
    uint64_t deadline = nbd_test_now_ms() + NBD_TEST_WAIT_MS;
    char *v = NULL;
    while (!(v = xs_read(w->xsh, XBT_NULL, path, NULL)) && nbd_test_now_ms() < deadline)
        usleep(5000);
    assert_non_null(v);
    if (!strstr(v, needle))
        fail_msg("error node \"%s\" lacks \"%s\"", v, needle);
    free(v);
}

static void xenbus_garbage_keys_fail_only_that_vif(void **state)
{
    NEED_WORLD(state);
    static const char *const garbage[][2] = {
        { "tx-ring-ref", "12abc" }, { "rx-ring-ref", "9" }, { "event-channel", "5" },
        { "request-rx-copy", "1" },
    };
    struct guest_script good = { .domid = 2, .devid = 0, .queues = 1 };
    char err[256];

    assert_int_equal(add_vif(w, 1, 1), 0);
    assert_int_equal(add_vif(w, 2, 0), 0);
    pid_t g = simenv_spawn(w->env, 2, guest_main, &good);
    assert_true(g > 0);
    assert_true(nbd_test_wait_be_state(w->xsh, 1, 1, XenbusStateInitWait));
    write_fe(w, 1, 1, garbage, sizeof(garbage) / sizeof(garbage[0]));
    expect_error_node(w, 1, 1, "tx-ring-ref");
    assert_true(nbd_test_wait_be_state(w->xsh, 1, 1, XenbusStateClosing));
    /* the other guest connects and closes normally meanwhile */
    assert_int_equal(simenv_wait(g), 0);

    assert_int_equal(nbd_vif_nodes_del(w->xsh, 1, 1, 0, 0, err, sizeof(err)), 0);
    assert_int_equal(nbd_vif_nodes_del(w->xsh, 2, 0, 0, 0, err, sizeof(err)), 0);
    assert_true(nbd_test_wait_vif_gone(w, "vif1.1"));
    assert_true(nbd_test_wait_vif_gone(w, "vif2.0"));
}

static void xenbus_rx_flip_refused(void **state)
{
    NEED_WORLD(state);
    static const char *const flip[][2] = {
        { "tx-ring-ref", "8" }, { "rx-ring-ref", "9" }, { "event-channel", "5" },
        { "request-rx-copy", "0" },
    };
    char err[256];

    assert_int_equal(add_vif(w, 3, 0), 0);
    assert_true(nbd_test_wait_be_state(w->xsh, 3, 0, XenbusStateInitWait));
    write_fe(w, 3, 0, flip, sizeof(flip) / sizeof(flip[0]));
    expect_error_node(w, 3, 0, "request-rx-copy");
    char *v = xread(w->xsh, "/local/domain/0/error/backend/vif/3/0/error");
    assert_non_null(v);
    assert_int_equal(atoi(v), EOPNOTSUPP);
    free(v);
    assert_true(nbd_test_wait_be_state(w->xsh, 3, 0, XenbusStateClosing));
    assert_int_equal(nbd_vif_nodes_del(w->xsh, 3, 0, 0, 0, err, sizeof(err)), 0);
    assert_true(nbd_test_wait_vif_gone(w, "vif3.0"));
    /* the error node goes with the device */
    assert_true(nbd_test_wait_value(w->xsh, "/local/domain/0/error/backend/vif/3/0/error", NULL));
}

static void xenbus_queue_count_refused(void **state)
{
    NEED_WORLD(state);
    static const char *const too_many[][2] = {
        { "multi-queue-num-queues", "5" }, { "request-rx-copy", "1" },
    };
    char err[256];

    assert_int_equal(add_vif(w, 3, 1), 0);
    assert_true(nbd_test_wait_be_state(w->xsh, 3, 1, XenbusStateInitWait));
    write_fe(w, 3, 1, too_many, 2);
    expect_error_node(w, 3, 1, "multi-queue-num-queues: 5 requested, maximum is 4");
    assert_true(nbd_test_wait_be_state(w->xsh, 3, 1, XenbusStateClosing));
    assert_int_equal(nbd_vif_nodes_del(w->xsh, 3, 1, 0, 0, err, sizeof(err)), 0);
    assert_true(nbd_test_wait_vif_gone(w, "vif3.1"));
}

/* A toolstack-written backend directory with one bad key: that device
 * fails at probe, nothing else notices. */
static void xenbus_bad_backend_keys_fail_probe(void **state)
{
    NEED_WORLD(state);
    static const struct { const char *key, *bad, *needle; } cases[] = {
        { "mac", "00:16:3e:zz:00:01", "mac: malformed" },
        { "frontend-id", "7", "frontend-id: missing or not 6" },
        { "frontend", "/local/domain/5/device/vif/0", "frontend: missing or not /local/domain/6/device/vif/0" },
        /* the VLAN syntax of vif-openvswitch (backend/bridge_key.h) */
        { "bridge", "xenbr0.4095", "bridge \"xenbr0.4095\": access VLAN after '.': not a VID of 1..4094" },
        { "bridge", "xenbr0:10:10", "bridge \"xenbr0:10:10\": trunk VLAN 10 given twice" },
        { "bridge", "xenbr0.10:20", "both an access VLAN and trunk VLANs: not supported" },
        { "bridge", "xenbr0.x", "bridge \"xenbr0.x\": access VLAN after '.'" },
    };

    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        const char *be = "/local/domain/0/backend/vif/6/0";
        const char *const keys[][2] = {
            { "frontend", "/local/domain/6/device/vif/0" }, { "frontend-id", "6" },
            { "online", "1" }, { "state", "1" }, { "mac", "00:16:3e:00:06:00" },
            { "mtu", "1500" }, { "bridge", "xenbr0" }, { "handle", "0" }, { "type", "vif" },
        };
        xs_transaction_t t = xs_transaction_start(w->xsh);
        assert_true(t != XBT_NULL);
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
            char path[160];
            const char *val = strcmp(keys[i][0], cases[c].key) ? keys[i][1] : cases[c].bad;
            snprintf(path, sizeof(path), "%s/%s", be, keys[i][0]);
            assert_true(xs_write(w->xsh, t, path, val, (unsigned)strlen(val)));
        }
        assert_true(xs_write(w->xsh, t, "/local/domain/6/device/vif/0/state", "1", 1));
        assert_true(xs_transaction_end(w->xsh, t, false));
        expect_error_node(w, 6, 0, cases[c].needle);
        assert_true(nbd_test_wait_be_state(w->xsh, 6, 0, XenbusStateClosing));
        assert_true(xs_rm(w->xsh, XBT_NULL, be));
        assert_true(xs_rm(w->xsh, XBT_NULL, "/local/domain/6/device/vif/0"));
        assert_true(nbd_test_wait_vif_gone(w, "vif6.0"));
        assert_true(nbd_test_wait_value(w->xsh, "/local/domain/0/error/backend/vif/6/0/error", NULL));
    }
}

static long long vif_mtu(struct nbd_testenv *w, const char *name)
{
    json_t *v = nbd_test_vif(w, name);
    json_t *m = v ? json_object_get(v, "mtu") : NULL;
    long long r = json_is_integer(m) ? json_integer_value(m) : -1;

    json_decref(v);
    return r;
}

/* Until netbackd's view of the vif (vif_mtu, vif_rate) reads `want`. */
static bool wait_vif_value(struct nbd_testenv *w, const char *name,
                           long long (*view)(struct nbd_testenv *, const char *), long long want)
{
    uint64_t end = nbd_test_now_ms() + NBD_TEST_WAIT_MS;

    while (view(w, name) != want && nbd_test_now_ms() < end)
        usleep(10000);
    return view(w, name) == want;
}

/* The backend `mtu` key is never a reason to refuse a device: as a Linux
 * vif whose hotplug script could not apply the value, a vif with an
 * unusable key gets 1500 (ETH_DATA_LEN). Accepted: 68 (ETH_MIN_MTU) to
 * 65517 (xen-netback's max_mtu). Each change applies live; each garbage
 * case follows a different valid value so that 1500 is a change too.
 * The frontend's read-only `mtu` node follows the value applied, as Xen's
 * hotplug script writes it (set_mtu) after giving the vif its MTU; a node
 * the toolstack did not write is created read-only for the guest. */
static void xenbus_mtu_key_range_garbage_and_live(void **state)
{
    NEED_WORLD(state);
    static const struct { const char *val; long long want; } cases[] = {
        { "9000", 9000 }, { "9x", 1500 }, { "68", 68 }, { "67", 1500 },
        { "65517", 65517 }, { "65518", 1500 }, { "1400", 1400 }, { "", 1500 },
        { "1401", 1401 }, { " 1402", 1500 }, { "1403", 1403 }, { "-1", 1500 },
        { "1404", 1404 }, { "99999999999", 1500 }, { "1405", 1405 }, { NULL, 1500 },
    };
    const char *key = "/local/domain/0/backend/vif/6/4/mtu";
    char err[256];

    assert_int_equal(add_vif(w, 6, 4), 0);
    assert_true(nbd_test_wait_be_state(w->xsh, 6, 4, XenbusStateInitWait));
    assert_int_equal(vif_mtu(w, "vif6.4"), 1500);
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        if (cases[c].val)
            assert_true(xs_write(w->xsh, XBT_NULL, key, cases[c].val,
                                 (unsigned)strlen(cases[c].val)));
        else
            assert_true(xs_rm(w->xsh, XBT_NULL, key));
        if (!wait_vif_value(w, "vif6.4", vif_mtu, cases[c].want))
            fail_msg("mtu \"%s\": vif-list says %lld, expected %lld",
                     cases[c].val ? cases[c].val : "(absent)", vif_mtu(w, "vif6.4"),
                     cases[c].want);
        /* written before vif-list shows the value */
        char *fe = xread(w->xsh, "/local/domain/6/device/vif/4/mtu");
        char want[16];
        snprintf(want, sizeof(want), "%lld", cases[c].want);
        if (!fe || strcmp(fe, want))
            fail_msg("mtu \"%s\": frontend mtu %s, expected %s",
                     cases[c].val ? cases[c].val : "(absent)", fe ? fe : "(none)", want);
        free(fe);
        if (c == 6) {
            /* a frontend node gone: written again, with libxl's permissions */
            assert_true(xs_rm(w->xsh, XBT_NULL, "/local/domain/6/device/vif/4/mtu"));
        }
    }
    assert_owner_reader(w->xsh, "/local/domain/6/device/vif/4/mtu", 0, 6);
    /* never a failure: no error node, still waiting for its frontend */
    assert_null(xread(w->xsh, "/local/domain/0/error/backend/vif/6/4/error"));
    assert_true(nbd_test_wait_be_state(w->xsh, 6, 4, XenbusStateInitWait));
    assert_int_equal(nbd_vif_nodes_del(w->xsh, 6, 4, 0, 0, err, sizeof(err)), 0);
    assert_true(nbd_test_wait_vif_gone(w, "vif6.4"));
}

/* netbackd's view of a vif's rate: bytes, -2 without a limit, -1 no vif. */
static long long vif_rate(struct nbd_testenv *w, const char *name)
{
    json_t *v = nbd_test_vif(w, name);
    json_t *r = v ? json_object_get(v, "rate") : NULL;
    long long b = !r ? -1 : json_is_null(r) ? -2 : json_integer_value(json_object_get(r, "bytes"));

    json_decref(v);
    return b;
}

/* nbd_vif_nodes_set (netbackctl vif-set): a live change of an existing
 * vif's backend key and of libxl's copy, applied by netbackd at once;
 * NULL removes the key (no rate: unlimited); no such vif: -ENOENT and
 * nothing written. */
static void nbd_vif_nodes_set_live_keys(void **state)
{
    NEED_WORLD(state);
    char err[256], *v;

    assert_int_equal(add_vif(w, 6, 5), 0);
    assert_true(nbd_test_wait_be_state(w->xsh, 6, 5, XenbusStateInitWait));
    assert_int_equal(vif_rate(w, "vif6.5"), -2);
    assert_int_equal(nbd_vif_nodes_set(w->xsh, 6, 5, 0, "rate", "125000,50000", err,
                                       sizeof(err)), 0);
    assert_true(wait_vif_value(w, "vif6.5", vif_rate, 125000));
    v = xread(w->xsh, "/libxl/6/device/vif/5/rate");
    assert_non_null(v);
    assert_string_equal(v, "125000,50000");
    free(v);
    assert_int_equal(nbd_vif_nodes_set(w->xsh, 6, 5, 0, "mtu", "9000", err, sizeof(err)), 0);
    assert_true(wait_vif_value(w, "vif6.5", vif_mtu, 9000));
    assert_int_equal(nbd_vif_nodes_set(w->xsh, 6, 5, 0, "rate", NULL, err, sizeof(err)), 0);
    assert_true(wait_vif_value(w, "vif6.5", vif_rate, -2));
    assert_null(xread(w->xsh, "/libxl/6/device/vif/5/rate"));
    /* removing what is not there is no error */
    assert_int_equal(nbd_vif_nodes_set(w->xsh, 6, 5, 0, "rate", NULL, err, sizeof(err)), 0);

    assert_int_equal(nbd_vif_nodes_set(w->xsh, 6, 9, 0, "mtu", "1400", err, sizeof(err)),
                     -ENOENT);
    assert_string_equal(err, "no vif 6/9");
    assert_null(xread(w->xsh, "/local/domain/0/backend/vif/6/9"));
    assert_int_equal(nbd_vif_nodes_del(w->xsh, 6, 5, 0, 0, err, sizeof(err)), 0);
    assert_true(nbd_test_wait_vif_gone(w, "vif6.5"));
}

/* The `bridge` key's VLAN, as vif-list shows it from probe on: NAME.VID is
 * an access port, NAME:VID:... a trunk, but a key naming an existing
 * bridge, dots and all, is that bridge with no VLAN. */
static void xenbus_bridge_key_vlan_and_literal_precedence(void **state)
{
    NEED_WORLD(state);
    static const struct { const char *key, *vlan; } cases[] = {
        { "lab.10", "{\"mode\":\"none\"}" },   /* bridge-added below */
        { "lab.20", "{\"mode\":\"access\",\"tag\":20}" },
        { "lab:30:40", "{\"mode\":\"trunk\",\"allowed\":[30,40],\"untagged\":false}" },
    };
    json_t *r = nbd_test_call(w, json_pack("{s:s,s:s}", "cmd", "bridge-add", "name", "lab.10"));
    char err[256];

    assert_non_null(r);
    assert_true(json_is_true(json_object_get(r, "ok")));
    json_decref(r);
    for (unsigned c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct nbd_vif_spec spec = { .domid = 6, .devid = 2 + c, .mtu = 1500,
                                     .mac = { 0x00, 0x16, 0x3e, 0, 6, (uint8_t)(2 + c) } };
        char name[16], *got;
        json_t *v;

        snprintf(spec.bridge, sizeof(spec.bridge), "%s", cases[c].key);
        assert_int_equal(nbd_vif_nodes_add(w->xsh, &spec, err, sizeof(err)), 0);
        assert_true(nbd_test_wait_be_state(w->xsh, 6, 2 + c, XenbusStateInitWait));
        snprintf(name, sizeof(name), "vif6.%u", 2 + c);
        v = nbd_test_vif(w, name);
        assert_non_null(v);
        assert_string_equal(json_string_value(json_object_get(v, "bridge")), cases[c].key);
        got = json_dumps(json_object_get(v, "vlan"), JSON_PRESERVE_ORDER | JSON_COMPACT);
        assert_non_null(got);
        json_decref(v);
        if (strcmp(got, cases[c].vlan))
            fail_msg("%s: vlan %s, expected %s", cases[c].key, got, cases[c].vlan);
        free(got);
        assert_int_equal(nbd_vif_nodes_del(w->xsh, 6, 2 + c, 0, 0, err, sizeof(err)), 0);
        assert_true(nbd_test_wait_vif_gone(w, name));
    }
}

/* A frontend state that is not a number fails that vif. */
static void xenbus_garbage_frontend_state(void **state)
{
    NEED_WORLD(state);
    char dir[96], err[256];

    assert_int_equal(add_vif(w, 6, 1), 0);
    assert_true(nbd_test_wait_be_state(w->xsh, 6, 1, XenbusStateInitWait));
    fe_dir(6, 1, dir, sizeof(dir));
    xwrite(w->xsh, dir, "state", "4x");
    expect_error_node(w, 6, 1, "frontend state: malformed");
    assert_true(nbd_test_wait_be_state(w->xsh, 6, 1, XenbusStateClosing));
    assert_int_equal(nbd_vif_nodes_del(w->xsh, 6, 1, 0, 0, err, sizeof(err)), 0);
    assert_true(nbd_test_wait_vif_gone(w, "vif6.1"));
}

static void xenbus_close_and_reconnect(void **state)
{
    NEED_WORLD(state);
    struct guest_script s = { .domid = 4, .devid = 0, .queues = 2, .reconnect = true };
    char err[256], st[32];

    assert_int_equal(add_vif(w, 4, 0), 0);
    pid_t g = simenv_spawn(w->env, 4, guest_main, &s);
    assert_true(g > 0);
    /* connect (2 queues), Closing, Closed, Initialising, InitWait, connect, close */
    assert_int_equal(simenv_wait(g), 0);
    /* online = 1: the device is kept, Closed, for the next boot */
    assert_int_equal(daemon_vif_count(w, "vif4.0", st, sizeof(st)), 1);
    assert_string_equal(st, "Closed");
    assert_int_equal(nbd_vif_nodes_del(w->xsh, 4, 0, 0, 0, err, sizeof(err)), 0);
    assert_true(nbd_test_wait_vif_gone(w, "vif4.0"));
}

static void xenbus_device_removal_tears_down(void **state)
{
    NEED_WORLD(state);
    struct guest_script s = { .domid = 5, .devid = 0, .queues = 1, .stay = true };
    char err[256];

    assert_int_equal(add_vif(w, 5, 0), 0);
    pid_t g = simenv_spawn(w->env, 5, guest_main, &s);
    assert_true(g > 0);
    assert_true(nbd_test_wait_be_state(w->xsh, 5, 0, XenbusStateConnected));
    /* the toolstack removes the device without asking (xl destroy -f) */
    assert_int_equal(nbd_vif_nodes_del(w->xsh, 5, 0, 0, 0, err, sizeof(err)), 0);
    assert_true(nbd_test_wait_vif_gone(w, "vif5.0"));
    assert_int_equal(simenv_wait(g), 0);
}

static void xenbus_domain_death_releases_vif(void **state)
{
    NEED_WORLD(state);
    struct guest_script s = { .domid = 5, .devid = 1, .queues = 1, .stay = true };
    char st[32];

    assert_int_equal(add_vif(w, 5, 1), 0);
    pid_t g = simenv_spawn(w->env, 5, guest_main, &s);
    assert_true(g > 0);
    assert_true(nbd_test_wait_be_state(w->xsh, 5, 1, XenbusStateConnected));
    assert_int_equal(daemon_vif_count(w, "vif5.1", st, sizeof(st)), 1);
    kill(g, SIGKILL);
    simenv_wait(g);
    /* destroy removes the backend directory and fires @releaseDomain */
    assert_int_equal(simenv_domain_destroy(w->env, 5), 0);
    assert_true(nbd_test_wait_vif_gone(w, "vif5.1"));
}

static void xenbus_hotplug_gates_connected(void **state)
{
    NEED_WORLD(state);
    struct guest_script s = { .domid = 4, .devid = 1, .queues = 1, .stay = true };
    char err[256], st[32];
    char *v;

    assert_int_equal(add_vif_script(w, 4, 1, "/etc/xen/scripts/vif-netbackd"), 0);
    v = xread(w->xsh, "/local/domain/0/backend/vif/4/1/hotplug-status");
    assert_non_null(v);
    assert_string_equal(v, "");
    free(v);
    pid_t g = simenv_spawn(w->env, 4, guest_main, &s);
    assert_true(g > 0);
    /* rings are mapped as soon as the frontend connects ... */
    uint64_t deadline = nbd_test_now_ms() + NBD_TEST_WAIT_MS;
    json_t *req = json_pack("{s:s}", "cmd", "vif-list");
    bool connected = false;
    while (!connected && nbd_test_now_ms() < deadline) {
        json_t *r = nbd_ctl_call(w->ctl, req), *vif;
        size_t i;
        json_array_foreach(json_object_get(r, "vifs"), i, vif)
            if (!strcmp(json_string_value(json_object_get(vif, "name")), "vif4.1"))
                connected = json_is_true(json_object_get(vif, "connected"));
        json_decref(r);
        if (!connected)
            usleep(5000);
    }
    json_decref(req);
    assert_true(connected);
    /* ... but Connected waits for the hotplug script's word */
    assert_int_equal(daemon_vif_count(w, "vif4.1", st, sizeof(st)), 1);
    assert_string_equal(st, "InitWait");
    v = xread(w->xsh, "/local/domain/0/backend/vif/4/1/state");
    assert_string_equal(v, "2");
    free(v);
    xwrite(w->xsh, "/local/domain/0/backend/vif/4/1", "hotplug-status", "connected");
    assert_true(nbd_test_wait_be_state(w->xsh, 4, 1, XenbusStateConnected));
    assert_int_equal(nbd_vif_nodes_del(w->xsh, 4, 1, 0, 0, err, sizeof(err)), 0);
    assert_true(nbd_test_wait_vif_gone(w, "vif4.1"));
    assert_int_equal(simenv_wait(g), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vif_add_nodes_and_permissions),
        cmocka_unit_test(xenbus_probe_advertises_features),
        cmocka_unit_test(xenbus_garbage_keys_fail_only_that_vif),
        cmocka_unit_test(xenbus_rx_flip_refused),
        cmocka_unit_test(xenbus_queue_count_refused),
        cmocka_unit_test(xenbus_bad_backend_keys_fail_probe),
        cmocka_unit_test(xenbus_mtu_key_range_garbage_and_live),
        cmocka_unit_test(nbd_vif_nodes_set_live_keys),
        cmocka_unit_test(xenbus_bridge_key_vlan_and_literal_precedence),
        cmocka_unit_test(xenbus_garbage_frontend_state),
        cmocka_unit_test(xenbus_close_and_reconnect),
        cmocka_unit_test(xenbus_device_removal_tears_down),
        cmocka_unit_test(xenbus_hotplug_gates_connected),
        cmocka_unit_test(xenbus_domain_death_releases_vif),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
