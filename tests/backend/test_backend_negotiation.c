/* Negotiation edges against raw scripted frontends on the emulator, with
 * netbackd as a child:
 *  - a multi-queue frontend refused twice, first for mixing top-level and
 *    per-queue ring keys, then for a queue-1 ring it never granted (after
 *    queue 0 was mapped): each time an error node, backend Closing, and
 *    nothing of the guest left mapped in netbackd; then, keys fixed, the
 *    same frontend (same event channel ports) connects with 2 queues;
 *  - dynamic multicast control: a connected frontend turns filtering off
 *    and on again by rewriting request-multicast-control;
 *  - the defaults and the configuration of the queues: without
 *    --max-queues netbackd offers min(8, online CPUs), as Linux; `cpus`
 *    pins queue N's worker to cpus[N].
 * Waits are deadlines on a hang, never timing assertions. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include <xenctrl.h>
#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenstore.h>
#include <xen/io/netif.h>
#include <xen/io/xenbus.h>

#include <jansson.h>

#include "tests/backend/nbd_testenv.h"
#include "tests/backend/raw_front.h"
#include "tests/lib/simenv.h"

#define DOM_MQ 1
#define DOM_TX 2
#define DOM_RX 3
#define FRAME_LEN 60u
#define TX0 2u
#define RX0 (TX0 + RAW_FE_TX_PAGES)
#define NR_PAGES (RX0 + RAW_FE_RX_PAGES)
#define UNGRANTED_REF 30000u      /* < the table size, never shared by the guest */

/* Parent <-> guest steps, in shared memory (read and written with __atomic). */
struct shared {
    int step;              /* guest: the step it finished; parent: go to the next */
    int go;
    int fail;              /* guest: the step that went wrong (exit code too) */
    unsigned long inode;   /* guest: its memory file */
    /* multicast case */
    unsigned target;       /* parent: frames the sender must have sent */
    int rx_ready;
    int do_add;            /* parent: receiver sends MCAST_ADD */
    int add_status;        /* receiver: the data slot's response status + 100 */
    unsigned nrx;          /* receiver: frames received ... */
    unsigned seqs[16];     /* ... their numbers, each byte-exact */
    int rx_bad;
    int stop;
};

static int ld(const int *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static void st(int *p, int v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

static bool wait_int(const int *p, int want)
{
    uint64_t deadline = nbd_test_now_ms() + 2 * NBD_TEST_WAIT_MS;

    while (ld(p) != want && nbd_test_now_ms() < deadline)
        usleep(2000);
    return ld(p) == want;
}

/* ---- multi-queue refusals ---- */

static void fe_write(struct xs_handle *xsh, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fe_write(struct xs_handle *xsh, const char *key, const char *fmt, ...)
{
    char path[160], val[64];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(val, sizeof(val), fmt, ap);
    va_end(ap);
    snprintf(path, sizeof(path), "/local/domain/%u/device/vif/0/%s", DOM_MQ, key);
    xs_write(xsh, XBT_NULL, path, val, (unsigned)strlen(val));
}

static void fe_rm(struct xs_handle *xsh, const char *key)
{
    char path[160];

    snprintf(path, sizeof(path), "/local/domain/%u/device/vif/0/%s", DOM_MQ, key);
    xs_rm(xsh, XBT_NULL, path);
}

/* Reports step done, waits for the parent's go. */
static bool step_done(struct shared *sh, int step)
{
    st(&sh->step, step);
    return wait_int(&sh->go, step);
}

/* Frontend Closed, then Initialising again (a restarted netfront). */
static bool restart(struct xs_handle *xsh)
{
    fe_write(xsh, "state", "%d", XenbusStateClosed);
    if (!nbd_test_wait_be_state(xsh, DOM_MQ, 0, XenbusStateClosed))
        return false;
    fe_write(xsh, "state", "%d", XenbusStateInitialising);
    return nbd_test_wait_be_state(xsh, DOM_MQ, 0, XenbusStateInitWait);
}

static int guest_mq(void *arg)
{
    struct shared *sh = arg;
    struct raw_fe f = { .domid = DOM_MQ };
    uint32_t refs[4];
    evtchn_port_t port[2];
    void *pages;

    f.xsh = xs_open(0);
    f.xgs = xengntshr_open(NULL, 0);
    f.xce = xenevtchn_open(NULL, 0);
    if (!f.xsh || !f.xgs || !f.xce)
        return 2;
    if (!nbd_test_wait_be_state(f.xsh, DOM_MQ, 0, XenbusStateInitWait))
        return 3;
    /* queue q: TX ring page 2q, RX ring page 2q+1 */
    if (!(pages = xengntshr_share_pages(f.xgs, 0, 4, refs, 1)))
        return 4;
    f.pages = pages;
    for (unsigned i = 0; i < 4; i++)
        SHARED_RING_INIT((netif_tx_sring_t *)((uint8_t *)pages + i * 4096));
    sh->inode = raw_fe_mem_inode(&f);
    for (unsigned q = 0; q < 2; q++) {
        int p = xenevtchn_bind_unbound_port(f.xce, 0);
        if (p < 0)
            return 5;
        port[q] = (evtchn_port_t)p;
    }
    fe_write(f.xsh, "multi-queue-num-queues", "2");
    for (unsigned q = 0; q < 2; q++) {
        char key[64];
        snprintf(key, sizeof(key), "queue-%u/tx-ring-ref", q);
        fe_write(f.xsh, key, "%u", refs[2 * q]);
        snprintf(key, sizeof(key), "queue-%u/rx-ring-ref", q);
        fe_write(f.xsh, key, "%u", refs[2 * q + 1]);
        snprintf(key, sizeof(key), "queue-%u/event-channel", q);
        fe_write(f.xsh, key, "%u", port[q]);
    }
    fe_write(f.xsh, "request-rx-copy", "1");
    fe_write(f.xsh, "feature-rx-notify", "1");

    /* 1: a top-level ring key beside the queue-N/ ones */
    fe_write(f.xsh, "tx-ring-ref", "%u", refs[0]);
    fe_write(f.xsh, "state", "%d", XenbusStateConnected);
    if (!nbd_test_wait_be_state(f.xsh, DOM_MQ, 0, XenbusStateClosing))
        return 11;
    if (!step_done(sh, 1))
        return 12;

    /* 2: queue 1's TX ring is a ref the guest never granted */
    fe_rm(f.xsh, "tx-ring-ref");
    if (!restart(f.xsh))
        return 21;
    fe_write(f.xsh, "queue-1/tx-ring-ref", "%u", UNGRANTED_REF);
    fe_write(f.xsh, "state", "%d", XenbusStateConnected);
    if (!nbd_test_wait_be_state(f.xsh, DOM_MQ, 0, XenbusStateClosing))
        return 22;
    if (!step_done(sh, 2))
        return 23;

    /* 3: fixed; the same event channel ports bind again */
    if (!restart(f.xsh))
        return 31;
    fe_write(f.xsh, "queue-1/tx-ring-ref", "%u", refs[2]);
    fe_write(f.xsh, "state", "%d", XenbusStateConnected);
    if (!nbd_test_wait_be_state(f.xsh, DOM_MQ, 0, XenbusStateConnected))
        return 32;
    if (!step_done(sh, 3))
        return 33;

    fe_write(f.xsh, "state", "%d", XenbusStateClosed);
    if (!nbd_test_wait_be_state(f.xsh, DOM_MQ, 0, XenbusStateClosed))
        return 41;
    if (!step_done(sh, 4))
        return 42;
    xengntshr_unshare(f.xgs, pages, 4);
    xenevtchn_close(f.xce);
    xengntshr_close(f.xgs);
    xs_close(f.xsh);
    return 0;
}

static char *xread(struct xs_handle *xsh, const char *path)
{
    unsigned len;
    return xs_read(xsh, XBT_NULL, path, &len);
}

static void expect_error(struct nbd_testenv *w, const char *needle)
{
    char *e = xread(w->xsh, "/local/domain/0/error/backend/vif/1/0/error");

    if (e)
        printf("# error node: %s\n", e);
    assert_non_null(e);
    assert_non_null(strstr(e, needle));
    free(e);
}

/* connected / queues as netbackd lists vif1.0 */
static void vif_view(struct nbd_testenv *w, bool *connected, long long *queues)
{
    json_t *v = nbd_test_vif(w, "vif1.0");

    assert_non_null(v);
    *connected = json_is_true(json_object_get(v, "connected"));
    *queues = json_integer_value(json_object_get(v, "queues"));
    json_decref(v);
}

static void xenbus_multi_queue_refusals_leave_nothing_half_connected(void **state)
{
    NBD_TEST_NEED_WORLD(state);
    struct shared *sh = nbd_test_shared(sizeof(*sh));
    bool connected;
    long long queues;

    pid_t g = simenv_spawn(w->env, DOM_MQ, guest_mq, sh);

    assert_true(wait_int(&sh->step, 1));
    assert_true(sh->inode != 0);
    expect_error(w, "at top level with 2 queues");
    vif_view(w, &connected, &queues);
    assert_false(connected);
    assert_int_equal(raw_fe_mapped_by(w->daemon, sh->inode), 0);
    st(&sh->go, 1);

    assert_true(wait_int(&sh->step, 2));
    expect_error(w, "queue 1: mapping rings");
    vif_view(w, &connected, &queues);
    assert_false(connected);
    /* queue 0's rings were mapped before queue 1 failed: unmapped again */
    assert_int_equal(raw_fe_mapped_by(w->daemon, sh->inode), 0);
    st(&sh->go, 2);

    assert_true(wait_int(&sh->step, 3));
    vif_view(w, &connected, &queues);
    assert_true(connected);
    assert_int_equal(queues, 2);
    assert_int_equal(raw_fe_mapped_by(w->daemon, sh->inode), 4);
    st(&sh->go, 3);

    assert_true(wait_int(&sh->step, 4));
    assert_int_equal(raw_fe_mapped_by(w->daemon, sh->inode), 0);
    st(&sh->go, 4);
    assert_int_equal(simenv_wait(g), 0);
    munmap(sh, sizeof(*sh));
}

/* ---- dynamic multicast control ---- */

static const uint8_t group[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
static const uint8_t rx_mac[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, DOM_RX };
/* frame seq goes to the group when this bit is set, else to DOM_RX */
#define TO_GROUP 0x2du     /* frames 0, 2, 3, 5 */

static const uint8_t *dst_of(unsigned seq)
{
    return TO_GROUP >> seq & 1 ? group : rx_mac;
}

static int guest_mc_sender(void *arg)
{
    struct shared *sh = arg;
    struct raw_fe f = { .domid = DOM_TX };
    uint8_t frame[FRAME_LEN];
    unsigned seq = 0;
    int rc;

    if ((rc = raw_fe_connect(&f, NR_PAGES, 0)))
        return rc;
    while (!ld(&sh->stop)) {
        unsigned target = __atomic_load_n(&sh->target, __ATOMIC_ACQUIRE);
        if (seq < target) {
            raw_fe_frame(frame, FRAME_LEN, dst_of(seq), DOM_TX, seq);
            raw_fe_queue_tx(&f, TX0, frame, FRAME_LEN);
            raw_fe_push_tx(&f);
            seq++;
        }
        raw_fe_reap_tx(&f, NULL, NULL);
        usleep(1000);
    }
    raw_fe_close(&f);
    return 0;
}

static int guest_mc_receiver(void *arg)
{
    struct shared *sh = arg;
    struct raw_fe f = { .domid = DOM_RX };
    uint8_t want[FRAME_LEN];
    int rc;

    if ((rc = raw_fe_connect(&f, NR_PAGES, RAW_FE_MCAST)))
        return rc;
    raw_fe_post_rx_all(&f, RX0);
    st(&sh->rx_ready, 1);
    while (!ld(&sh->stop)) {
        const uint8_t *data;
        unsigned len;
        int got;

        if (ld(&sh->do_add) == 1) {
            unsigned ok = 0, bad = 0;
            uint64_t deadline = nbd_test_now_ms() + NBD_TEST_WAIT_MS;
            raw_fe_mcast(&f, XEN_NETIF_EXTRA_TYPE_MCAST_ADD, group);
            while (ok + bad < 2 && nbd_test_now_ms() < deadline)
                if (!raw_fe_reap_tx(&f, &ok, &bad))
                    usleep(1000);
            /* OKAY for the request, NULL for its extra */
            st(&sh->add_status, ok == 1 && bad == 1 ? 100 : 1);
            st(&sh->do_add, 2);
        }
        if (!(got = raw_fe_next_rx(&f, RX0, &data, &len))) {
            usleep(1000);
            continue;
        }
        unsigned seq = got > 0 && len >= 16 ? (unsigned)data[14] << 8 | data[15] : 0;
        if (got < 0 || seq >= 16 || len != FRAME_LEN) {
            st(&sh->rx_bad, 1);
            break;
        }
        raw_fe_frame(want, FRAME_LEN, dst_of(seq), DOM_TX, seq);
        if (memcmp(data, want, FRAME_LEN)) {
            st(&sh->rx_bad, 2);
            break;
        }
        unsigned n = __atomic_load_n(&sh->nrx, __ATOMIC_ACQUIRE);
        sh->seqs[n < 16 ? n : 15] = seq;
        __atomic_store_n(&sh->nrx, n + 1, __ATOMIC_RELEASE);
        raw_fe_post_rx_all(&f, RX0);
    }
    raw_fe_close(&f);
    return 0;
}

static int rx_mcast_control(struct nbd_testenv *w)
{
    json_t *v = nbd_test_vif(w, "vif3.0");
    json_t *m = v ? json_object_get(json_object_get(v, "features"), "multicast_control") : NULL;
    int r = m ? json_is_true(m) : -1;

    json_decref(v);
    return r;
}

static void set_request(struct nbd_testenv *w, const char *value, int want)
{
    char path[96];
    uint64_t deadline = nbd_test_now_ms() + NBD_TEST_WAIT_MS;

    snprintf(path, sizeof(path), "/local/domain/%u/device/vif/0/request-multicast-control", DOM_RX);
    assert_true(xs_write(w->xsh, XBT_NULL, path, value, (unsigned)strlen(value)));
    while (rx_mcast_control(w) != want && nbd_test_now_ms() < deadline)
        usleep(2000);
    assert_int_equal(rx_mcast_control(w), want);
}

/* Sends frames up to total-1 and waits until the receiver holds `got`
 * frames and vif3.0 dropped `filtered` by its multicast filter. */
static void send_until(struct nbd_testenv *w, struct shared *sh, unsigned total, unsigned got,
                       long long filtered)
{
    uint64_t deadline = nbd_test_now_ms() + 2 * NBD_TEST_WAIT_MS;

    __atomic_store_n(&sh->target, total, __ATOMIC_RELEASE);
    while ((__atomic_load_n(&sh->nrx, __ATOMIC_ACQUIRE) < got ||
            nbd_test_vif_counter(w, "vif3.0", "rx_drop_filter") < filtered) &&
           nbd_test_now_ms() < deadline)
        usleep(2000);
    assert_int_equal(nbd_test_vif_counter(w, "vif2.0", "tx_packets"), total);
    assert_int_equal(__atomic_load_n(&sh->nrx, __ATOMIC_ACQUIRE), got);
    assert_int_equal(nbd_test_vif_counter(w, "vif3.0", "rx_drop_filter"), filtered);
    assert_int_equal(ld(&sh->rx_bad), 0);
}

/* Frames 0..5 from DOM_TX: 0, 2, 3, 5 to the group, 1 and 4 to DOM_RX.
 *  - filtering on, nothing subscribed: 0 filtered, 1 arrives;
 *  - request-multicast-control rewritten to 0: 2 arrives unfiltered;
 *  - back to 1: 3 filtered, 4 arrives;
 *  - MCAST_ADD of the group: 5 arrives.
 * So the receiver holds exactly 1, 2, 4, 5, each byte-exact. */
static void nbd_vif_port_dynamic_multicast_control(void **state)
{
    NBD_TEST_NEED_WORLD(state);
    struct shared *sh = nbd_test_shared(sizeof(*sh));
    pid_t rx = simenv_spawn(w->env, DOM_RX, guest_mc_receiver, sh);
    assert_true(wait_int(&sh->rx_ready, 1));
    pid_t tx = simenv_spawn(w->env, DOM_TX, guest_mc_sender, sh);
    assert_true(nbd_test_wait_be_state(w->xsh, DOM_TX, 0, XenbusStateConnected));
    assert_int_equal(rx_mcast_control(w), 1);

    send_until(w, sh, 2, 1, 1);
    set_request(w, "0", 0);
    send_until(w, sh, 3, 2, 1);
    set_request(w, "1", 1);
    send_until(w, sh, 5, 3, 2);
    st(&sh->do_add, 1);
    assert_true(wait_int(&sh->do_add, 2));
    assert_int_equal(ld(&sh->add_status), 100);
    send_until(w, sh, 6, 4, 2);

    static const unsigned want[] = { 1, 2, 4, 5 };
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(sh->seqs[i], want[i]);
    assert_int_equal(nbd_test_vif_counter(w, "vif3.0", "mcast_add"), 1);
    st(&sh->stop, 1);
    assert_int_equal(simenv_wait(tx), 0);
    assert_int_equal(simenv_wait(rx), 0);
    munmap(sh, sizeof(*sh));
}

/* ---- queue defaults and pinning ---- */

static int guest_plain(void *arg)
{
    struct shared *sh = arg;
    struct raw_fe f = { .domid = DOM_MQ };
    int rc;

    if ((rc = raw_fe_connect(&f, NR_PAGES, 0)))
        return rc;
    if (!step_done(sh, 1))
        return 10;
    raw_fe_close(&f);
    return 0;
}

/* The CPUs netbackd's thread named comm may run on ("0", "0-1"), into
 * out; false when there is no such thread. */
static bool thread_cpus(pid_t pid, const char *comm, char *out, size_t len)
{
    char path[320], line[256];
    struct dirent *d;
    DIR *dir;
    bool found = false;

    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    if (!(dir = opendir(path)))
        return false;
    while (!found && (d = readdir(dir))) {
        FILE *f;
        if (d->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "/proc/%d/task/%s/status", (int)pid, d->d_name);
        if (!(f = fopen(path, "r")))
            continue;
        bool named = false;
        while (fgets(line, sizeof(line), f)) {
            line[strcspn(line, "\n")] = '\0';
            if (!strncmp(line, "Name:\t", 6))
                named = !strcmp(line + 6, comm);
            else if (named && !strncmp(line, "Cpus_allowed_list:\t", 19)) {
                size_t n = strlen(line + 19) < len ? strlen(line + 19) : len - 1;
                memcpy(out, line + 19, n);
                out[n] = '\0';
                found = true;
            }
        }
        fclose(f);
    }
    closedir(dir);
    return found;
}

static void nbd_queue_start_defaults_and_pinning(void **state)
{
    NBD_TEST_NEED_WORLD(state);
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    char want[16], cpus[64];
    struct shared *sh = nbd_test_shared(sizeof(*sh));

    assert_true(nbd_test_wait_be_state(w->xsh, DOM_MQ, 0, XenbusStateInitWait));
    snprintf(want, sizeof(want), "%ld", online < 1 ? 1 : online > 8 ? 8 : online);
    char *v = xread(w->xsh, "/local/domain/0/backend/vif/1/0/multi-queue-max-queues");
    assert_non_null(v);
    assert_string_equal(v, want);
    free(v);

    pid_t g = simenv_spawn(w->env, DOM_MQ, guest_plain, sh);
    assert_true(wait_int(&sh->step, 1));
    /* the config says cpus = [ 0 ]: queue 0's worker runs on CPU 0 only */
    /* (the worker names, then pins itself when it starts, which may be
     * just after Connected was written) */
    uint64_t deadline = nbd_test_now_ms() + NBD_TEST_WAIT_MS;
    bool named;
    while ((!(named = thread_cpus(w->daemon, "nb-1.0-q0", cpus, sizeof(cpus))) ||
            strcmp(cpus, "0")) && nbd_test_now_ms() < deadline)
        usleep(2000);
    assert_true(named);
    assert_string_equal(cpus, "0");
    st(&sh->go, 1);
    assert_int_equal(simenv_wait(g), 0);
    munmap(sh, sizeof(*sh));
}

static int setup_defaults(void **state)
{
    static const char *const args[] = { "--log-level", "warn", NULL };
    struct nbd_testenv *t = nbd_testenv_start(1, args, "netbackd: { cpus = [ 0 ]; };\n");

    if (t)
        nbd_test_add_vif(t, 1, "xenbr0");
    *state = t;
    return 0;
}

static int setup(void **state)
{
    *state = nbd_testenv_start_xenbr0(3, 4, NULL);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(xenbus_multi_queue_refusals_leave_nothing_half_connected,
                                        setup, nbd_testenv_teardown),
        cmocka_unit_test_setup_teardown(nbd_vif_port_dynamic_multicast_control, setup,
                                        nbd_testenv_teardown),
        cmocka_unit_test_setup_teardown(nbd_queue_start_defaults_and_pinning, setup_defaults,
                                        nbd_testenv_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
