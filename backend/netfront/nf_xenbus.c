/* The frontend half of the xenbus handshake for one vif.
 *
 *  frontend            backend (netbackd / xen-netback)
 *  Initialising  --->  InitWait          (backend wrote its features)
 *  share rings, bind channels, write keys
 *  Connected     --->  Connected         (backend mapped rings)
 *  Closing       --->  Closing / Closed
 *  Closed        --->  Closed            (rings unmapped: we may revoke)
 *  Initialising  --->  InitWait          (reconnect while online=1)
 *
 * A Linux netfront goes Connected as soon as the backend is in InitWait; we do
 * the same, then also wait for backend Connected before sending. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xen/io/xenbus.h>

#include "backend/netfront/nf_priv.h"

void nf_config_init(struct nf_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->self_domid = -1;
    cfg->num_queues = 1;
}

static char *xs_read_str(struct netfront *nf, const char *path)
{
    unsigned len;
    char *v = xs_read(nf->xs, XBT_NULL, path, &len);
    return v;
}

int nf_xs_read_long(struct netfront *nf, const char *path, long *val)
{
    char *v = xs_read_str(nf, path);
    if (!v)
        return -errno;
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    int bad = errno || end == v || *end;
    free(v);
    if (bad)
        return -EINVAL;
    *val = x;
    return 0;
}

static bool be_feature(struct netfront *nf, const char *name)
{
    char path[320];
    long v = 0;
    snprintf(path, sizeof(path), "%s/%s", nf->be_path, name);
    return nf_xs_read_long(nf, path, &v) == 0 && v > 0;
}

bool netfront_backend_has(const struct netfront *nf, const char *feature)
{
    return be_feature((struct netfront *)nf, feature);
}

long netfront_read_key(const struct netfront *nf, bool backend, const char *rel)
{
    char path[400];
    long v;
    snprintf(path, sizeof(path), "%s/%s", backend ? nf->be_path : nf->fe_path, rel);
    int rc = nf_xs_read_long((struct netfront *)nf, path, &v);
    return rc < 0 ? rc : v;
}

static int self_domid(struct netfront *nf, int configured)
{
    if (configured >= 0)
        return configured;
    const char *env = getenv("XENSIM_DOMID");
    if (env && *env)
        return atoi(env);
    /* On real Xen a relative path is relative to our own /local/domain/<id>. */
    long v;
    int rc = nf_xs_read_long(nf, "domid", &v);
    return rc < 0 ? rc : (int)v;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
    unsigned m[6];
    if (sscanf(s, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
        return -EINVAL;
    for (int i = 0; i < 6; i++) {
        if (m[i] > 0xff)
            return -EINVAL;
        mac[i] = (uint8_t)m[i];
    }
    return 0;
}

int netfront_open(struct netfront **out, const struct nf_config *cfg)
{
    struct netfront *nf = calloc(1, sizeof(*nf));
    if (!nf)
        return -ENOMEM;
    nf->cfg = *cfg;
    if (!nf->cfg.timeout_ms)
        nf->cfg.timeout_ms = 10000;
    if (!nf->cfg.num_queues)
        nf->cfg.num_queues = 1;
    if (nf->cfg.num_queues > NF_MAX_QUEUES)
        nf->cfg.num_queues = NF_MAX_QUEUES;
    for (unsigned i = 0; i < NF_MAX_QUEUES; i++)
        nf->q[i].evtchn_tx = nf->q[i].evtchn_rx = -1;

    int rc = -EIO;
    nf->xs = xs_open(0);
    if (!nf->xs) {
        rc = -errno;
        goto fail;
    }
    nf->xgs = xengntshr_open(NULL, 0);
    if (!nf->xgs) {
        rc = -errno;
        goto fail;
    }
    int d = self_domid(nf, cfg->self_domid);
    if (d < 0) {
        rc = d;
        goto fail;
    }
    nf->domid = (unsigned)d;
    snprintf(nf->fe_path, sizeof(nf->fe_path), "/local/domain/%u/device/vif/%u", nf->domid,
             cfg->devid);

    char path[256];
    snprintf(path, sizeof(path), "%s/backend", nf->fe_path);
    char *be = xs_read_str(nf, path);
    if (!be || strlen(be) >= sizeof(nf->be_path)) {
        rc = be ? -ENAMETOOLONG : -ENODEV;
        free(be);
        goto fail;
    }
    strcpy(nf->be_path, be);
    free(be);
    long bid;
    snprintf(path, sizeof(path), "%s/backend-id", nf->fe_path);
    rc = nf_xs_read_long(nf, path, &bid);
    if (rc < 0 || bid < 0 || bid > 0x7fef) {
        rc = rc < 0 ? rc : -EINVAL;
        goto fail;
    }
    nf->backend_domid = (unsigned)bid;
    snprintf(path, sizeof(path), "%s/mac", nf->fe_path);
    char *mac = xs_read_str(nf, path);
    if (mac) {
        rc = parse_mac(mac, nf->mac);
        free(mac);
        if (rc < 0)
            goto fail;
    } else {
        /* No mac key: a locally administered one derived from domid/devid. */
        uint8_t m[6] = {0x02, 0x00, (uint8_t)(nf->domid >> 8), (uint8_t)nf->domid, 0x00,
                        (uint8_t)cfg->devid};
        memcpy(nf->mac, m, 6);
    }
    *out = nf;
    return 0;
fail:
    netfront_free(nf);
    return rc;
}

void netfront_free(struct netfront *nf)
{
    if (!nf)
        return;
    if (nf->connected) {
        for (unsigned i = 0; i < nf->num_queues; i++)
            nf_queue_teardown(nf, &nf->q[i]);
        if (nf->has_ctrl)
            nf_ctrl_teardown(nf);
    }
    if (nf->xgs)
        xengntshr_close(nf->xgs);
    if (nf->xs)
        xs_close(nf->xs);
    free(nf);
}

unsigned netfront_num_queues(const struct netfront *nf) { return nf->num_queues; }
unsigned netfront_domid(const struct netfront *nf) { return nf->domid; }
unsigned netfront_backend_domid(const struct netfront *nf) { return nf->backend_domid; }
const uint8_t *netfront_mac(const struct netfront *nf) { return nf->mac; }

int nf_write_state(struct netfront *nf, int state)
{
    char path[160], val[8];
    snprintf(path, sizeof(path), "%s/state", nf->fe_path);
    snprintf(val, sizeof(val), "%d", state);
    return xs_write(nf->xs, XBT_NULL, path, val, strlen(val)) ? 0 : -errno;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits (watch on the backend's state node) until it is one of `wanted`. */
int nf_wait_backend_state(struct netfront *nf, const int *wanted, unsigned n_wanted, int *got)
{
    char path[320], token[64];
    snprintf(path, sizeof(path), "%s/state", nf->be_path);
    snprintf(token, sizeof(token), "nf-state-%p", (void *)nf);
    bool watching = xs_watch(nf->xs, path, token);
    int64_t deadline = now_ms() + nf->cfg.timeout_ms;
    int rc = -ETIMEDOUT;
    for (;;) {
        long st = 0;
        if (nf_xs_read_long(nf, path, &st) == 0) {
            for (unsigned i = 0; i < n_wanted; i++) {
                if (st == wanted[i]) {
                    if (got)
                        *got = (int)st;
                    rc = 0;
                    goto out;
                }
            }
        }
        int64_t left = deadline - now_ms();
        if (left <= 0)
            break;
        /* The watch wakes us; the 100 ms cap also covers a missed event. */
        struct pollfd pfd = {.fd = xs_fileno(nf->xs), .events = POLLIN};
        if (watching && poll(&pfd, 1, left < 100 ? (int)left : 100) > 0) {
            char **ev;
            while ((ev = xs_check_watch(nf->xs)))
                free(ev);
        } else if (!watching) {
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
out:
    if (watching) {
        xs_unwatch(nf->xs, path, token);
        char **ev;
        while ((ev = xs_check_watch(nf->xs)))
            free(ev);
    }
    return rc;
}

static bool xs_printf_t(struct netfront *nf, xs_transaction_t t, const char *dir, const char *key,
                        const char *fmt, unsigned long v)
{
    char path[256], val[32];
    snprintf(path, sizeof(path), "%s/%s", dir, key);
    snprintf(val, sizeof(val), fmt, v);
    return xs_write(nf->xs, t, path, val, strlen(val));
}

static bool write_queue_keys(struct netfront *nf, xs_transaction_t t, struct nf_queue *q,
                             const char *dir)
{
    bool ok = xs_printf_t(nf, t, dir, "tx-ring-ref", "%lu", q->tx_ring_ref) &&
              xs_printf_t(nf, t, dir, "rx-ring-ref", "%lu", q->rx_ring_ref);
    if (nf->split)
        ok = ok && xs_printf_t(nf, t, dir, "event-channel-tx", "%lu", (unsigned long)q->evtchn_tx) &&
             xs_printf_t(nf, t, dir, "event-channel-rx", "%lu", (unsigned long)q->evtchn_rx);
    else
        ok = ok && xs_printf_t(nf, t, dir, "event-channel", "%lu", (unsigned long)q->evtchn_tx);
    return ok;
}

/* Everything the Linux netfront writes, in one transaction. */
static int write_frontend_keys(struct netfront *nf)
{
    const struct nf_config *c = &nf->cfg;
    for (int attempt = 0; attempt < 20; attempt++) {
        xs_transaction_t t = xs_transaction_start(nf->xs);
        if (t == XBT_NULL)
            return -errno;
        const char *fe = nf->fe_path;
        bool ok = xs_printf_t(nf, t, fe, "multi-queue-num-queues", "%lu", nf->num_queues);
        if (nf->num_queues == 1) {
            ok = ok && write_queue_keys(nf, t, &nf->q[0], fe);
        } else {
            for (unsigned i = 0; ok && i < nf->num_queues; i++) {
                char dir[200];
                snprintf(dir, sizeof(dir), "%s/queue-%u", fe, i);
                ok = write_queue_keys(nf, t, &nf->q[i], dir);
            }
        }
        if (nf->has_ctrl)
            ok = ok && xs_printf_t(nf, t, fe, "ctrl-ring-ref", "%lu", nf->ctrl.ring_ref) &&
                 xs_printf_t(nf, t, fe, "event-channel-ctrl", "%lu", (unsigned long)nf->ctrl.port);
        ok = ok && xs_printf_t(nf, t, fe, "xdp-headroom", "%lu", 0) &&
             xs_printf_t(nf, t, fe, "request-rx-copy", "%lu", 1);
        if (!c->no_rx_notify)
            ok = ok && xs_printf_t(nf, t, fe, "feature-rx-notify", "%lu", 1);
        if (!c->no_sg)
            ok = ok && xs_printf_t(nf, t, fe, "feature-sg", "%lu", 1);
        if (!c->no_gso)
            ok = ok && xs_printf_t(nf, t, fe, "feature-gso-tcpv4", "%lu", 1) &&
                 xs_printf_t(nf, t, fe, "feature-gso-tcpv6", "%lu", 1);
        if (!c->no_ipv6_csum_offload)
            ok = ok && xs_printf_t(nf, t, fe, "feature-ipv6-csum-offload", "%lu", 1);
        if (c->no_csum_offload)
            ok = ok && xs_printf_t(nf, t, fe, "feature-no-csum-offload", "%lu", 1);
        if (c->request_multicast_control)
            ok = ok && xs_printf_t(nf, t, fe, "request-multicast-control", "%lu", 1);
        if (!ok) {
            int err = errno;
            xs_transaction_end(nf->xs, t, true);
            return -err;
        }
        if (xs_transaction_end(nf->xs, t, false))
            return 0;
        if (errno != EAGAIN)
            return -errno;
    }
    return -EAGAIN;
}

int netfront_connect(struct netfront *nf)
{
    if (nf->connected)
        return -EISCONN;
    /* A previous user of this vif in the same domain may have left it Closed:
     * start over from Initialising, as a driver probing after a reload does. */
    int rc;
    if (netfront_read_key(nf, false, "state") != XenbusStateInitialising) {
        rc = nf_write_state(nf, XenbusStateInitialising);
        if (rc < 0)
            return rc;
    }
    static const int initwait[] = {XenbusStateInitWait};
    rc = nf_wait_backend_state(nf, initwait, 1, NULL);
    if (rc < 0)
        return rc;

    long maxq = 1;
    char path[320];
    snprintf(path, sizeof(path), "%s/multi-queue-max-queues", nf->be_path);
    if (nf_xs_read_long(nf, path, &maxq) < 0 || maxq < 1)
        maxq = 1;
    nf->num_queues = nf->cfg.num_queues < (unsigned long)maxq ? nf->cfg.num_queues : (unsigned)maxq;
    nf->split = !nf->cfg.no_split_evtchn && be_feature(nf, "feature-split-event-channels");
    nf->be_sg = !nf->cfg.no_sg && be_feature(nf, "feature-sg");
    nf->be_gso4 = be_feature(nf, "feature-gso-tcpv4");
    nf->be_gso6 = be_feature(nf, "feature-gso-tcpv6");

    unsigned done = 0;
    for (; done < nf->num_queues; done++) {
        nf->q[done].index = done;
        rc = nf_queue_setup(nf, &nf->q[done]);
        if (rc < 0)
            goto undo;
    }
    nf->has_ctrl = false;
    if (nf->cfg.ctrl_ring && be_feature(nf, "feature-ctrl-ring")) {
        rc = nf_ctrl_setup(nf);
        if (rc < 0)
            goto undo;
        nf->has_ctrl = true;
    }
    nf->connected = true;
    rc = write_frontend_keys(nf);
    if (rc < 0)
        goto undo_connected;
    rc = nf_write_state(nf, XenbusStateConnected);
    if (rc < 0)
        goto undo_connected;
    static const int connected[] = {XenbusStateConnected};
    rc = nf_wait_backend_state(nf, connected, 1, NULL);
    if (rc < 0)
        goto undo_connected;
    /* Kick each queue once, as Linux does after connecting: the backend may
     * have mapped the RX ring after we posted the buffers. */
    for (unsigned i = 0; i < nf->num_queues; i++)
        nf_notify(&nf->q[i], nf->q[i].evtchn_rx, &nf->q[i].stats.notify_rx);
    return 0;

undo_connected:
    nf->connected = false;
    done = nf->num_queues;
undo:
    if (nf->has_ctrl)
        nf_ctrl_teardown(nf);
    nf->has_ctrl = false;
    while (done-- > 0)
        nf_queue_teardown(nf, &nf->q[done]);
    return rc;
}

int netfront_close(struct netfront *nf)
{
    static const int closing[] = {XenbusStateClosing, XenbusStateClosed, XenbusStateInitWait,
                                  XenbusStateUnknown};
    static const int closed[] = {XenbusStateClosed, XenbusStateInitWait, XenbusStateUnknown};
    int rc = nf_write_state(nf, XenbusStateClosing);
    if (rc == 0)
        rc = nf_wait_backend_state(nf, closing, 4, NULL);
    int rc2 = nf_write_state(nf, XenbusStateClosed);
    if (rc == 0)
        rc = rc2;
    if (rc == 0)
        rc = nf_wait_backend_state(nf, closed, 3, NULL);
    /* Revoke only now: the backend has unmapped (or given up on) our pages. */
    if (nf->connected) {
        for (unsigned i = 0; i < nf->num_queues; i++)
            nf_queue_teardown(nf, &nf->q[i]);
        if (nf->has_ctrl)
            nf_ctrl_teardown(nf);
        nf->has_ctrl = false;
        nf->connected = false;
    }
    return rc;
}

void netfront_set_timeout(struct netfront *nf, unsigned timeout_ms)
{
    nf->cfg.timeout_ms = timeout_ms ? timeout_ms : 10000;
}

int netfront_reinit(struct netfront *nf)
{
    if (nf->connected)
        return -EISCONN;
    return nf_write_state(nf, XenbusStateInitialising);
}
