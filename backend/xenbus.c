/* The xenbus side of netbackd: discovering vif devices under our own
 * backend/vif directory, advertising features, following the frontend's
 * state and driving the backend's (main thread only).
 *
 * Every watch event only marks devices dirty; each dirty device is then
 * reconciled once against what xenstore says now (vif_update), so repeated,
 * reordered or self-caused events (our own writes fire our own watch) are
 * harmless. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/io/xenbus.h>

#include "backend/carrier.h"
#include "backend/log.h"
#include "backend/netbackd.h"
#include "backend/xs_parse.h"
#include "backend/xs_util.h"

#define TOKEN_BACKEND "be"
#define TOKEN_FRONTEND "fe"
#define TOKEN_RELEASE "rel"

static const char *const state_names[] = {
    "Unknown", "Initialising", "InitWait", "Initialised", "Connected",
    "Closing", "Closed", "Reconfiguring", "Reconfigured",
};

static const char *state_name(int s)
{
    return s >= 0 && s <= XenbusStateReconfigured ? state_names[s] : "?";
}

struct nbd_vif *nbd_vif_find(struct nbd_ctx *ctx, unsigned domid, unsigned devid)
{
    for (struct nbd_vif *v = ctx->vifs; v; v = v->next)
        if (v->domid == domid && v->devid == devid)
            return v;
    return NULL;
}

/* ---- error node (xenbus_dev_error's place: <home>/error/<nodename>/error) ---- */

static void error_path(const struct nbd_vif *vif, char *buf, size_t len)
{
    snprintf(buf, len, "%s/error/backend/vif/%u/%u", vif->ctx->dom_path, vif->domid, vif->devid);
}

static void write_error_node(struct nbd_vif *vif, int err, const char *msg)
{
    char dir[160];

    error_path(vif, dir, sizeof(dir));
    if (nbd_xs_printf(vif->ctx->xsh, XBT_NULL, dir, "error", "%d %s", err, msg))
        nbd_log(NBD_LOG_WARN, "%s: cannot write error node %s", vif->name, dir);
}

static void remove_error_node(struct nbd_vif *vif)
{
    char dir[160];

    error_path(vif, dir, sizeof(dir));
    xs_rm(vif->ctx->xsh, XBT_NULL, dir);
}

/* ---- backend state ----
 *
 * The backend states netbackd writes and the single steps between them.
 * set_backend_state() walks from the current state to the target one step
 * at a time, writing each, so a frontend watching us always sees a legal
 * sequence (e.g. Connected -> Closing -> Closed, never Connected -> Closed).
 *
 *                  probe
 *                    |
 *                    v
 *       +------> InitWait ---------------------> Connected <------+
 *       |          |    frontend Initialised/     |    |          |
 *       |          |    Connected, rings mapped   |    | frontend | frontend
 *       |          |    (and hotplug-status       |    | Recon-   | Connected
 *       |          |    "connected" if a script   |    | figuring |
 *       |          |    is configured)            |    v          |
 *       |          |                              |  Reconfigured-+
 *       |          | frontend Closing, bad keys,  |  (xdp-headroom
 *       |          | toolstack detach             |   re-read)
 *       |          v                              |
 *       |       Closing <-------------------------+ (also from
 *       |       |    ^                              Reconfigured)
 *       |       |    | frontend Closing again
 *       |       v    |
 *       +---- Closed ----> unregistered (frontend Unknown or gone,
 *  frontend              |                  or Closed with online = 0)
 *  Initialising          v
 *  (online = 1)        freed when the backend directory is removed
 */
static int next_state(int cur, int target)
{
    switch (cur) {
    case XenbusStateInitWait:
        return target == XenbusStateConnected ? XenbusStateConnected : XenbusStateClosing;
    case XenbusStateConnected:
        return target == XenbusStateReconfigured ? XenbusStateReconfigured : XenbusStateClosing;
    case XenbusStateReconfigured:
        return target == XenbusStateConnected ? XenbusStateConnected : XenbusStateClosing;
    case XenbusStateClosing:
        return target == XenbusStateClosed ? XenbusStateClosed : XenbusStateInitWait;
    case XenbusStateClosed:
        return target == XenbusStateClosing ? XenbusStateClosing : XenbusStateInitWait;
    default:   /* Unknown, Initialising: where a device starts */
        return XenbusStateInitWait;
    }
}

static void set_backend_state(struct nbd_vif *vif, int target)
{
    while (vif->be_state != target) {
        int next = next_state(vif->be_state, target);
        int rc = nbd_xs_printf(vif->ctx->xsh, XBT_NULL, vif->be_path, "state", "%d", next);

        if (rc) {
            nbd_log(NBD_LOG_WARN, "%s: writing state %s: %s", vif->name,
                    state_name(next), strerror(-rc));
            return;
        }
        nbd_log(NBD_LOG_INFO, "%s: backend %s -> %s", vif->name,
                state_name(vif->be_state), state_name(next));
        vif->be_state = next;
    }
}

/* The vif cannot go on: tell the toolstack and the frontend why (error
 * node), drop the data path, go to Closing. Other vifs are not touched. */
static void vif_fail(struct nbd_vif *vif, int err, const char *msg)
{
    nbd_log(NBD_LOG_WARN, "%s: %s", vif->name, msg);
    vif->stats.xenstore_errors++;
    vif->failed = true;
    write_error_node(vif, err < 0 ? -err : err, msg);
    nbd_vif_disconnect(vif);
    set_backend_state(vif, XenbusStateClosing);
}

/* ---- features ---- */

/* What the backend offers frontends; only what the data path implements. */
static struct nbd_fe_offer offer_of(const struct nbd_ctx *ctx)
{
    return (struct nbd_fe_offer){
        .max_queues = ctx->set.max_queues,
        .split_evtchn = true,
        .ctrl_ring = true,
        .mcast_control = true,
        .xdp_headroom = true,
    };
}

static int write_features(struct nbd_vif *vif)
{
    struct nbd_ctx *ctx = vif->ctx;
    struct nbd_fe_offer offer = offer_of(ctx);
    const struct { const char *key; unsigned val; } features[] = {
        { "feature-sg", 1 },
        { "feature-gso-tcpv4", 1 },
        { "feature-gso-tcpv6", 1 },
        { "feature-ipv6-csum-offload", 1 },
        { "feature-rx-copy", 1 },
        { "feature-rx-flip", 0 },
        { "feature-multicast-control", offer.mcast_control },
        { "feature-dynamic-multicast-control", offer.mcast_control },
        { "feature-split-event-channels", offer.split_evtchn },
        { "multi-queue-max-queues", offer.max_queues },
        { "feature-ctrl-ring", offer.ctrl_ring },
        { "feature-xdp-headroom", offer.xdp_headroom },
    };

    for (int attempt = 0; attempt < 16; attempt++) {
        xs_transaction_t t = xs_transaction_start(ctx->xsh);
        char path[160], *st;
        int rc = 0;

        if (t == XBT_NULL)
            return -errno;
        /* The toolstack may already be taking the device away again: then
         * our state write must not paper over its Closing. */
        snprintf(path, sizeof(path), "%s/state", vif->be_path);
        st = xs_read(ctx->xsh, t, path, NULL);
        bool closing = st && !strcmp(st, "5");
        free(st);
        if (closing) {
            xs_transaction_end(ctx->xsh, t, true);
            return -ESHUTDOWN;
        }
        for (size_t i = 0; i < sizeof(features) / sizeof(features[0]) && !rc; i++)
            rc = nbd_xs_printf(ctx->xsh, t, vif->be_path, features[i].key, "%u", features[i].val);
        if (!rc)
            rc = nbd_xs_printf(ctx->xsh, t, vif->be_path, "state", "%d", XenbusStateInitWait);
        if (rc) {
            xs_transaction_end(ctx->xsh, t, true);
            return rc;
        }
        if (xs_transaction_end(ctx->xsh, t, false)) {
            nbd_log(NBD_LOG_INFO, "%s: features advertised, backend %s -> InitWait",
                    vif->name, state_name(vif->be_state));
            vif->be_state = XenbusStateInitWait;
            return 0;
        }
        if (errno != EAGAIN)
            return -errno;
    }
    return -EAGAIN;
}

/* ---- reading keys ---- */

/* Frontend reader for nbd_fe_config_read(). */
static char *fe_key_reader(void *arg, const char *key)
{
    struct nbd_vif *vif = arg;

    return nbd_xs_read(vif->ctx->xsh, vif->fe_path, key);
}

/* Reads a state node: XenbusStateUnknown when absent, -1 when garbage. */
static int read_state(struct nbd_ctx *ctx, const char *dir)
{
    char *s = nbd_xs_read(ctx->xsh, dir, "state");
    uint32_t v;
    int st;

    if (!s)
        return XenbusStateUnknown;
    st = nbd_parse_u32(s, XenbusStateReconfigured, &v) ? -1 : (int)v;
    free(s);
    return st;
}

static bool read_flag(struct nbd_ctx *ctx, const char *dir, const char *key)
{
    char *s = nbd_xs_read(ctx->xsh, dir, key);
    bool v = false;

    if (s && nbd_parse_bool(s, &v))
        v = false;
    free(s);
    return v;
}

/* The `rate` key is applied live, as Linux's credit watch does. Absent or
 * garbage: unlimited (xen_net_read_rate); "0,N" parses and passes nothing. */
static void read_rate(struct nbd_vif *vif)
{
    char *s = nbd_xs_read(vif->ctx->xsh, vif->be_path, "rate");
    uint64_t bytes = NBD_RATE_UNLIMITED, usecs = 0;
    char seen[sizeof(vif->rate_key)];

    /* every backend-directory event lands here: act, and complain, once
     * per value written */
    snprintf(seen, sizeof(seen), "%c%s", s ? '=' : '-', s ? s : "");
    if (vif->rate_key[0] && !strcmp(seen, vif->rate_key)) {
        free(s);
        return;
    }
    memcpy(vif->rate_key, seen, sizeof(seen));
    if (s && nbd_parse_rate(s, &bytes, &usecs)) {
        nbd_log(NBD_LOG_WARN, "%s: rate \"%s\" malformed, traffic unlimited", vif->name, s);
        vif->ctx->xs_garbage++;
        bytes = NBD_RATE_UNLIMITED;
        usecs = 0;
    }
    free(s);
    if (atomic_load(&vif->rate_bytes) != bytes || atomic_load(&vif->rate_usecs) != usecs) {
        atomic_store(&vif->rate_usecs, usecs);
        atomic_store(&vif->rate_bytes, bytes);
        if (bytes != NBD_RATE_UNLIMITED)
            nbd_log(NBD_LOG_INFO, "%s: rate %llu bytes per %llu us", vif->name,
                    (unsigned long long)bytes, (unsigned long long)usecs);
        /* a worker waiting for credit sleeps until its window ends: wake
         * it so the new key applies now (Linux fires the credit timer) */
        for (unsigned i = 0; vif->data_up && i < vif->num_queues; i++)
            if (vif->queues[i])
                nbd_queue_wake(vif->queues[i]);
    }
}

/* The frontend's `mtu` node, read-only to the guest, set to the MTU the
 * backend applies, as Xen's vif-bridge hotplug script does (set_mtu in
 * xen-network-common.sh writes it after `ip link set mtu`). Nothing is
 * written when it holds that value already or when the frontend directory
 * does not exist (the backend never creates it); a missing node gets
 * libxl's permissions. 0, -ENOENT (no frontend directory) or -errno. */
static int write_fe_mtu(struct nbd_vif *vif, unsigned mtu)
{
    struct xs_handle *xsh = vif->ctx->xsh;
    struct xs_permissions perms[2] = {
        { .id = vif->ctx->own_domid, .perms = XS_PERM_NONE },
        { .id = vif->domid, .perms = XS_PERM_READ },
    };
    char path[sizeof(vif->fe_path) + 8], val[16];

    snprintf(path, sizeof(path), "%s/mtu", vif->fe_path);
    snprintf(val, sizeof(val), "%u", mtu);
    for (;;) {
        xs_transaction_t t = xs_transaction_start(xsh);
        char *dir, *old;
        int rc = 0;

        if (t == XBT_NULL)
            return -errno;
        dir = xs_read(xsh, t, vif->fe_path, NULL);
        old = dir ? xs_read(xsh, t, path, NULL) : NULL;
        if (!dir)
            rc = -ENOENT;
        else if ((!old || strcmp(old, val)) &&
                 (!xs_write(xsh, t, path, val, (unsigned)strlen(val)) ||
                  (!old && !xs_set_permissions(xsh, t, path, perms, 2))))
            rc = -errno;
        free(dir);
        free(old);
        if (!xs_transaction_end(xsh, t, rc != 0)) {
            if (errno == EAGAIN && !rc)
                continue;
            return rc ? rc : -errno;
        }
        return rc;
    }
}

/* The backend `mtu` key, read at probe and again whenever the backend
 * directory changes (a live change applies to the next frame delivered).
 * Linux's xen-netback never reads it: Xen's hotplug script (set_mtu in
 * xen-network-common.sh) runs `ip link set vifX.Y mtu $mtu` once, and the
 * kernel keeps its default 1500 when the value is not a number, below 68
 * (ETH_MIN_MTU) or above 65517 (xen-netback's max_mtu, ETH_MAX_MTU -
 * VLAN_ETH_HLEN). So garbage is not a refusal here either: logged,
 * counted, and the vif gets 1500. Absent = 1500 (the script would take the
 * Linux bridge's MTU; a netbackd bridge has none). */
static void read_mtu(struct nbd_vif *vif)
{
    char *s = nbd_xs_read(vif->ctx->xsh, vif->be_path, "mtu");
    uint32_t v = NBD_MTU_DEFAULT;
    char seen[sizeof(vif->mtu_key)];
    bool first = !vif->mtu_key[0];

    /* every backend-directory event lands here (our own state and carrier
     * writes too): act, and complain, once per value written */
    snprintf(seen, sizeof(seen), "%c%s", s ? '=' : '-', s ? s : "");
    if (!first && !strcmp(seen, vif->mtu_key)) {
        free(s);
        return;
    }
    memcpy(vif->mtu_key, seen, sizeof(seen));
    if (s && (nbd_parse_u32(s, NBD_MTU_MAX, &v) || v < NBD_MTU_MIN)) {
        nbd_log(NBD_LOG_WARN, "%s: mtu \"%s\" malformed or not in %u..%u, using %u",
                vif->name, s, NBD_MTU_MIN, NBD_MTU_MAX, NBD_MTU_DEFAULT);
        vif->ctx->xs_garbage++;
        v = NBD_MTU_DEFAULT;
    }
    free(s);
    /* the frontend's read-only copy says what the backend applies, as the
     * hotplug script's set_mtu writes it (here also on a later change) */
    if (first || atomic_load(&vif->mtu) != v) {
        int rc = write_fe_mtu(vif, v);
        if (rc && rc != -ENOENT)
            nbd_log(NBD_LOG_WARN, "%s: writing the frontend's mtu: %s", vif->name, strerror(-rc));
    }
    unsigned old = atomic_exchange(&vif->mtu, v);
    if (!first && old != v) {
        nbd_log(NBD_LOG_INFO, "%s: mtu %u -> %u", vif->name, old, v);
        nbd_bridge_vif_mtu(vif->ctx, vif);
    }
}

/* Toolstack keys of a new device. Returns 0 or -EINVAL with msg. */
static int read_backend_keys(struct nbd_vif *vif, char *msg, size_t len)
{
    struct nbd_ctx *ctx = vif->ctx;
    char expect[64], *s;
    uint32_t v;
    int rc = 0;

    s = nbd_xs_read(ctx->xsh, vif->be_path, "frontend-id");
    if (!s || nbd_parse_u32(s, UINT16_MAX, &v) || v != vif->domid) {
        snprintf(msg, len, "frontend-id: missing or not %u", vif->domid);
        rc = -EINVAL;
    }
    free(s);
    if (rc)
        return rc;

    /* The frontend directory must be the guest's own device node: anything
     * else would let a toolstack typo point us at another domain's keys. */
    snprintf(expect, sizeof(expect), "/local/domain/%u/device/vif/%u", vif->domid, vif->devid);
    s = nbd_xs_read(ctx->xsh, vif->be_path, "frontend");
    if (!s || strcmp(s, expect)) {
        snprintf(msg, len, "frontend: missing or not %s", expect);
        rc = -EINVAL;
    } else {
        snprintf(vif->fe_path, sizeof(vif->fe_path), "%s", s);
    }
    free(s);
    if (rc)
        return rc;

    if ((s = nbd_xs_read(ctx->xsh, vif->be_path, "mac"))) {
        if (nbd_parse_mac(s, vif->mac)) {
            snprintf(msg, len, "mac: malformed");
            rc = -EINVAL;
        }
        free(s);
    }
    if (rc)
        return rc;
    read_mtu(vif);
    s = nbd_xs_read(ctx->xsh, vif->be_path, "bridge");
    if (s && strlen(s) >= sizeof(vif->bridge_name)) {
        snprintf(msg, len, "bridge: longer than %zu bytes", sizeof(vif->bridge_name) - 1);
        rc = -EINVAL;
    } else {
        snprintf(vif->bridge_name, sizeof(vif->bridge_name), "%s",
                 s && *s ? s : ctx->set.default_bridge);
        rc = nbd_bridge_key_resolve(ctx, vif->bridge_name, &vif->vlan, msg, len);
    }
    free(s);
    if (rc)
        return rc;
    s = nbd_xs_read(ctx->xsh, vif->be_path, "script");
    vif->has_script = s && *s;
    free(s);
    read_rate(vif);
    return 0;
}

/* ---- lifecycle ---- */

static void vif_unlink(struct nbd_vif *vif)
{
    for (struct nbd_vif **pp = &vif->ctx->vifs; *pp; pp = &(*pp)->next)
        if (*pp == vif) {
            *pp = vif->next;
            return;
        }
}

/* The frontend keys we follow: its state, and request-multicast-control,
 * which feature-dynamic-multicast-control lets it change while connected
 * (Linux watches it too). */
static void watch_frontend(struct nbd_vif *vif, bool on)
{
    static const char *const keys[] = { "state", "request-multicast-control" };
    char path[192];
    bool ok = true;

    if (vif->fe_watched == on || !vif->fe_path[0])
        return;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", vif->fe_path, keys[i]);
        if (!(on ? xs_watch(vif->ctx->xsh, path, TOKEN_FRONTEND)
                 : xs_unwatch(vif->ctx->xsh, path, TOKEN_FRONTEND))) {
            ok = false;
            nbd_log(NBD_LOG_WARN, "%s: %swatch %s: %s", vif->name, on ? "" : "un", path,
                    strerror(errno));
        }
    }
    if (ok || !on)
        vif->fe_watched = on;
}

/* Dynamic multicast control: a connected frontend turns filtering on or
 * off by rewriting request-multicast-control (absent or garbage = off,
 * as Linux's xenbus_read_unsigned default). The subscriptions stay. */
static void read_mcast_control(struct nbd_vif *vif)
{
    bool on = read_flag(vif->ctx, vif->fe_path, "request-multicast-control");

    if (on == __atomic_load_n(&vif->fe.mcast_control, __ATOMIC_RELAXED))
        return;
    __atomic_store_n(&vif->fe.mcast_control, on, __ATOMIC_RELAXED);
    nbd_log(NBD_LOG_INFO, "%s: multicast control %s", vif->name, on ? "on" : "off");
}

/* The device is finished with: everything but a tombstone goes, so that our
 * own last state write doesn't make us probe it again. */
static void vif_unregister(struct nbd_vif *vif)
{
    nbd_vif_disconnect(vif);
    watch_frontend(vif, false);
    vif->gone = true;
    nbd_log(NBD_LOG_INFO, "%s: unregistered", vif->name);
}

/* The backend directory is gone (toolstack removed the device). */
static void vif_remove(struct nbd_vif *vif)
{
    nbd_log(NBD_LOG_INFO, "%s: device removed", vif->name);
    nbd_vif_disconnect(vif);
    watch_frontend(vif, false);
    remove_error_node(vif);
    vif_unlink(vif);
    nbd_vif_free(vif);
}

static void vif_probe(struct nbd_ctx *ctx, unsigned domid, unsigned devid, const char *be_path)
{
    struct nbd_vif *vif = nbd_vif_new(ctx, domid, devid, be_path);
    char msg[160];
    int rc;

    if (!vif) {
        nbd_log(NBD_LOG_ERR, "vif%u.%u: out of memory", domid, devid);
        return;
    }
    vif->next = ctx->vifs;
    ctx->vifs = vif;
    nbd_log(NBD_LOG_INFO, "%s: new device %s", vif->name, be_path);
    remove_error_node(vif);
    if ((rc = read_backend_keys(vif, msg, sizeof(msg)))) {
        ctx->xs_garbage++;
        vif_fail(vif, rc, msg);
        return;
    }
    if ((rc = write_features(vif)) == -ESHUTDOWN) {
        nbd_log(NBD_LOG_INFO, "%s: removed before it started", vif->name);
        vif->be_state = XenbusStateClosing;
        set_backend_state(vif, XenbusStateClosed);
        vif_unregister(vif);
        return;
    }
    if (rc) {
        nbd_log(NBD_LOG_ERR, "%s: advertising features: %s", vif->name, strerror(-rc));
        vif_fail(vif, rc, "writing features");
        return;
    }
    watch_frontend(vif, true);
}

static void vif_try_connect(struct nbd_vif *vif)
{
    struct nbd_ctx *ctx = vif->ctx;
    struct nbd_fe_offer offer = offer_of(ctx);
    char msg[160];
    int rc;

    if (vif->failed)
        return;
    if (!vif->data_up) {
        if (vif->be_state != XenbusStateInitWait)
            set_backend_state(vif, XenbusStateInitWait);
        rc = nbd_fe_config_read(&vif->fe, &offer, fe_key_reader, vif, msg, sizeof(msg));
        if (rc) {
            ctx->xs_garbage++;
            vif_fail(vif, rc, msg);
            return;
        }
        if ((rc = nbd_vif_connect(vif, msg, sizeof(msg)))) {
            vif_fail(vif, rc, msg);
            return;
        }
        vif->stats.connects++;
    }
    if (vif->be_state != XenbusStateConnected) {
        char *hp = vif->has_script ? nbd_xs_read(ctx->xsh, vif->be_path, "hotplug-status") : NULL;
        bool ready = !vif->has_script || (hp && !strcmp(hp, "connected"));

        free(hp);
        if (ready)
            set_backend_state(vif, XenbusStateConnected);
        else
            nbd_log(NBD_LOG_DEBUG, "%s: waiting for hotplug-status", vif->name);
    }
}

/* Brings one device in line with xenstore. */
static void vif_update(struct nbd_vif *vif)
{
    struct nbd_ctx *ctx = vif->ctx;
    char *fe = nbd_xs_read(ctx->xsh, vif->be_path, "frontend");
    int fe_state, be_written;

    if (!fe) {
        vif_remove(vif);
        return;
    }
    free(fe);
    if (vif->gone || !vif->fe_path[0])
        return;   /* finished, or failed before we knew its frontend */
    read_rate(vif);
    read_mtu(vif);

    /* libxl detaches a device by writing our state to Closing itself. */
    be_written = read_state(ctx, vif->be_path);
    if (be_written == XenbusStateClosing && vif->be_state != XenbusStateClosing &&
        vif->be_state != XenbusStateClosed) {
        nbd_log(NBD_LOG_INFO, "%s: toolstack asked to close", vif->name);
        nbd_vif_disconnect(vif);
        vif->be_state = XenbusStateClosing;
    }

    if (vif->data_up)
        read_mcast_control(vif);

    fe_state = read_state(ctx, vif->fe_path);
    if (fe_state < 0) {
        ctx->xs_garbage++;
        if (!vif->failed)
            vif_fail(vif, EINVAL, "frontend state: malformed");
        return;
    }
    nbd_log(NBD_LOG_DEBUG, "%s: frontend %s, backend %s", vif->name,
            state_name(fe_state), state_name(vif->be_state));

    /* Asked to close while the frontend never got going: nothing to wait
     * for, so don't keep the toolstack waiting either. */
    if (vif->be_state == XenbusStateClosing && !read_flag(ctx, vif->be_path, "online") &&
        (fe_state == XenbusStateInitialising || fe_state == XenbusStateInitWait)) {
        set_backend_state(vif, XenbusStateClosed);
        vif_unregister(vif);
        return;
    }

    switch (fe_state) {
    case XenbusStateInitialising:
        if (vif->be_state == XenbusStateClosed) {
            nbd_log(NBD_LOG_INFO, "%s: frontend restarted", vif->name);
            vif->failed = false;
            set_backend_state(vif, XenbusStateInitWait);
        }
        break;
    case XenbusStateInitialised:
    case XenbusStateConnected:
        vif_try_connect(vif);
        break;
    case XenbusStateReconfiguring:
        /* the frontend changed its XDP headroom (xdp-headroom) */
        if (vif->data_up && vif->be_state == XenbusStateConnected) {
            char msg[160];
            uint16_t headroom;
            if (nbd_fe_read_xdp_headroom(&headroom, fe_key_reader, vif, msg, sizeof(msg))) {
                ctx->xs_garbage++;
                vif_fail(vif, EINVAL, msg);
                break;
            }
            nbd_vif_set_headroom(vif, headroom);
            set_backend_state(vif, XenbusStateReconfigured);
        }
        break;
    case XenbusStateClosing:
        if (vif->data_up)
            vif->stats.disconnects++;
        nbd_vif_disconnect(vif);
        set_backend_state(vif, XenbusStateClosing);
        break;
    case XenbusStateClosed:
        if (vif->data_up)
            vif->stats.disconnects++;
        nbd_vif_disconnect(vif);
        set_backend_state(vif, XenbusStateClosed);
        vif->failed = false;
        if (!read_flag(ctx, vif->be_path, "online"))
            vif_unregister(vif);
        break;
    case XenbusStateUnknown:
        nbd_vif_disconnect(vif);
        set_backend_state(vif, XenbusStateClosed);
        vif_unregister(vif);
        break;
    default:   /* InitWait, Reconfigured: nothing for us */
        break;
    }
}

/* ---- watch dispatch ---- */

static void device_changed(struct nbd_ctx *ctx, unsigned domid, unsigned devid)
{
    struct nbd_vif *vif = nbd_vif_find(ctx, domid, devid);
    char be_path[128];

    if (vif) {
        vif_update(vif);
        return;
    }
    snprintf(be_path, sizeof(be_path), "%s/%u/%u", ctx->vif_base, domid, devid);
    char *fe = nbd_xs_read(ctx->xsh, be_path, "frontend");
    if (!fe)
        return;   /* not (yet) a device: the toolstack writes it in one go */
    free(fe);
    vif_probe(ctx, domid, devid, be_path);
    if ((vif = nbd_vif_find(ctx, domid, devid)))
        vif_update(vif);
}

/* Lists dir's children that are plain decimal numbers. */
static unsigned list_ids(struct nbd_ctx *ctx, const char *dir, uint32_t *ids, unsigned max)
{
    unsigned num = 0, n = 0;
    char **names = xs_directory(ctx->xsh, XBT_NULL, dir, &num);

    for (unsigned i = 0; names && i < num && n < max; i++) {
        if (nbd_parse_u32(names[i], UINT16_MAX, &ids[n]) == 0)
            n++;
        else
            ctx->xs_garbage++;
    }
    free(names);
    return n;
}

/* Every device under backend/vif, plus every one we know (which may be
 * gone from it). */
static void rescan(struct nbd_ctx *ctx)
{
    uint32_t domids[256], devids[64];
    unsigned nd = list_ids(ctx, ctx->vif_base, domids, 256);

    for (unsigned i = 0; i < nd; i++) {
        char dir[128];
        snprintf(dir, sizeof(dir), "%s/%u", ctx->vif_base, domids[i]);
        unsigned nv = list_ids(ctx, dir, devids, 64);
        for (unsigned j = 0; j < nv; j++)
            if (!nbd_vif_find(ctx, domids[i], devids[j]))
                device_changed(ctx, domids[i], devids[j]);
    }
    for (struct nbd_vif *v = ctx->vifs, *next; v; v = next) {
        next = v->next;
        v->dirty = false;
        vif_update(v);
    }
}

/* What one batch of watch events asks for: events are only collected, so
 * a device whose keys changed ten times is reconciled once. */
struct watch_batch {
    bool rescan, release;
    unsigned n_new;
    uint32_t new_dev[32][2];   /* devices we don't know yet: domid, devid */
};

static void backend_event(struct nbd_ctx *ctx, const char *path, struct watch_batch *b)
{
    size_t base = strlen(ctx->vif_base);
    uint32_t domid, devid;
    char buf[128];

    if (strncmp(path, ctx->vif_base, base) || (path[base] && path[base] != '/'))
        return;
    /* <base>/<domid>/<devid>[/key...] */
    snprintf(buf, sizeof(buf), "%s", path + base + (path[base] == '/'));
    char *slash1 = strchr(buf, '/');
    if (!slash1) {
        b->rescan = true;
        return;
    }
    *slash1 = '\0';
    char *dev = slash1 + 1, *slash2 = strchr(dev, '/');
    if (slash2)
        *slash2 = '\0';
    if (nbd_parse_u32(buf, UINT16_MAX, &domid) || nbd_parse_u32(dev, UINT32_MAX, &devid)) {
        ctx->xs_garbage++;
        return;
    }
    struct nbd_vif *vif = nbd_vif_find(ctx, domid, devid);
    if (vif) {
        vif->dirty = true;
        return;
    }
    for (unsigned i = 0; i < b->n_new; i++)
        if (b->new_dev[i][0] == domid && b->new_dev[i][1] == devid)
            return;
    if (b->n_new == sizeof(b->new_dev) / sizeof(b->new_dev[0])) {
        b->rescan = true;
        return;
    }
    b->new_dev[b->n_new][0] = domid;
    b->new_dev[b->n_new][1] = devid;
    b->n_new++;
}

static void frontend_event(struct nbd_ctx *ctx, const char *path)
{
    for (struct nbd_vif *v = ctx->vifs; v; v = v->next) {
        size_t n = strlen(v->fe_path);
        if (!v->gone && n && !strncmp(path, v->fe_path, n) && path[n] == '/') {
            v->dirty = true;
            return;
        }
    }
}

/* A domain died: its frontends will never say goodbye. */
static void release_event(struct nbd_ctx *ctx)
{
    for (struct nbd_vif *v = ctx->vifs, *next; v; v = next) {
        next = v->next;
        if (v->gone || xs_is_domain_introduced(ctx->xsh, v->domid))
            continue;
        nbd_log(NBD_LOG_INFO, "%s: domain %u is gone", v->name, v->domid);
        nbd_vif_disconnect(v);
        char *fe = nbd_xs_read(ctx->xsh, v->be_path, "frontend");
        if (fe)
            set_backend_state(v, XenbusStateClosed);
        free(fe);
        vif_unregister(v);
    }
}

void nbd_xenbus_handle_watch(struct nbd_ctx *ctx)
{
    struct watch_batch b = { 0 };
    char **w;

    while ((w = xs_check_watch(ctx->xsh))) {
        const char *path = w[XS_WATCH_PATH], *token = w[XS_WATCH_TOKEN];

        if (!strcmp(token, TOKEN_BACKEND))
            backend_event(ctx, path, &b);
        else if (!strcmp(token, TOKEN_FRONTEND))
            frontend_event(ctx, path);
        else if (!strcmp(token, TOKEN_RELEASE))
            b.release = true;
        free(w);
    }
    if (b.release)
        release_event(ctx);
    if (b.rescan) {
        rescan(ctx);
        return;
    }
    for (unsigned i = 0; i < b.n_new; i++)
        device_changed(ctx, b.new_dev[i][0], b.new_dev[i][1]);
    for (struct nbd_vif *v = ctx->vifs, *next; v; v = next) {
        next = v->next;   /* vif_update may free v */
        if (v->dirty) {
            v->dirty = false;
            vif_update(v);
        }
    }
}

/* Once a second: report vifs a worker disabled (workers don't touch
 * xenstore), so the toolstack sees why the device stopped. */
void nbd_xenbus_housekeeping(struct nbd_ctx *ctx)
{
    for (struct nbd_vif *v = ctx->vifs; v; v = v->next) {
        nbd_vif_carrier_sync(v);
        if (v->gone || !atomic_load(&v->disabled) || atomic_exchange(&v->disable_reported, true))
            continue;
        v->stats.disables++;
        nbd_log(NBD_LOG_WARN, "%s: disabled: %s", v->name, v->disable_reason);
        write_error_node(v, EPROTO, v->disable_reason);
    }
}

int nbd_xenbus_start(struct nbd_ctx *ctx)
{
    char *s, *path;
    uint32_t domid = 0;

    /* Our own domain id: dom0 has no "domid" key on some toolstacks. */
    s = xs_read(ctx->xsh, XBT_NULL, "domid", NULL);
    if (s && nbd_parse_u32(s, UINT16_MAX, &domid)) {
        nbd_log(NBD_LOG_ERR, "own domid \"%s\" malformed", s);
        free(s);
        return -EINVAL;
    }
    free(s);
    ctx->own_domid = domid;
    path = xs_get_domain_path(ctx->xsh, domid);
    if (!path) {
        nbd_log(NBD_LOG_ERR, "no domain path for domain %u: %s", domid, strerror(errno));
        return -errno;
    }
    snprintf(ctx->dom_path, sizeof(ctx->dom_path), "%s", path);
    free(path);
    snprintf(ctx->vif_base, sizeof(ctx->vif_base), "%s/backend/vif", ctx->dom_path);
    if (!xs_watch(ctx->xsh, ctx->vif_base, TOKEN_BACKEND) ||
        !xs_watch(ctx->xsh, "@releaseDomain", TOKEN_RELEASE)) {
        nbd_log(NBD_LOG_ERR, "cannot watch %s: %s", ctx->vif_base, strerror(errno));
        return -errno;
    }
    nbd_log(NBD_LOG_INFO, "domain %u, watching %s", domid, ctx->vif_base);
    return 0;
}

/* Daemon exit: close every device cleanly so frontends see Closing. */
void nbd_xenbus_shutdown(struct nbd_ctx *ctx)
{
    while (ctx->vifs) {
        struct nbd_vif *v = ctx->vifs;
        if (!v->gone) {
            nbd_vif_disconnect(v);
            set_backend_state(v, XenbusStateClosing);
        }
        watch_frontend(v, false);
        ctx->vifs = v->next;
        nbd_vif_free(v);
    }
}
