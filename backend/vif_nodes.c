/* vif-add / vif-del in xenstore (see vif_nodes.h). */
#include "backend/vif_nodes.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xen/io/xenbus.h>

struct kv {
    const char *key;
    char val[288];
};

int nbd_vif_paths(struct xs_handle *xsh, unsigned domid, unsigned devid,
                  unsigned backend_domid, struct nbd_vif_paths *p)
{
    char *fe_dom = xs_get_domain_path(xsh, domid);
    char *be_dom = xs_get_domain_path(xsh, backend_domid);
    int rc = 0;

    if (!fe_dom || !be_dom)
        rc = -errno ? -errno : -ENOENT;
    else {
        snprintf(p->frontend, sizeof(p->frontend), "%s/device/vif/%u", fe_dom, devid);
        snprintf(p->backend, sizeof(p->backend), "%s/backend/vif/%u/%u", be_dom, domid, devid);
        snprintf(p->libxl, sizeof(p->libxl), "/libxl/%u/device/vif/%u", domid, devid);
    }
    free(fe_dom);
    free(be_dom);
    return rc;
}

static bool write_kv(struct xs_handle *xsh, xs_transaction_t t, const char *dir,
                     const struct kv *kv, unsigned n, struct xs_permissions *perms,
                     unsigned nperms)
{
    char path[256];

    for (unsigned i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, kv[i].key);
        if (!xs_write(xsh, t, path, kv[i].val, (unsigned)strlen(kv[i].val)))
            return false;
        if (perms && !xs_set_permissions(xsh, t, path, perms, nperms))
            return false;
    }
    return true;
}

#define KV(k, ...) do { kv[n].key = (k); snprintf(kv[n].val, sizeof(kv[n].val), __VA_ARGS__); n++; } while (0)

static unsigned backend_entries(const struct nbd_vif_spec *s, const struct nbd_vif_paths *p,
                                struct kv *kv)
{
    unsigned n = 0;

    KV("frontend-id", "%u", s->domid);
    KV("online", "1");
    KV("state", "%d", XenbusStateInitialising);
    if (s->script[0])
        KV("script", "%s", s->script);
    KV("mac", "%02x:%02x:%02x:%02x:%02x:%02x", s->mac[0], s->mac[1], s->mac[2],
       s->mac[3], s->mac[4], s->mac[5]);
    if (s->rate_bytes)
        KV("rate", "%llu,%llu", (unsigned long long)s->rate_bytes,
           (unsigned long long)s->rate_usecs);
    KV("mtu", "%u", s->mtu);
    KV("bridge", "%s", s->bridge);
    KV("handle", "%u", s->devid);
    KV("type", "vif");
    /* libxl makes the backend wait for its hotplug script; without a
     * script nothing would ever write "connected", so no gate then. */
    if (s->script[0])
        KV("hotplug-status", "%s", "");
    (void)p;
    return n;
}

static int add_once(struct xs_handle *xsh, xs_transaction_t t, const struct nbd_vif_spec *s,
                    const struct nbd_vif_paths *p)
{
    struct xs_permissions fe_perms[2] = {
        { .id = s->domid, .perms = XS_PERM_NONE },
        { .id = s->backend_domid, .perms = XS_PERM_READ },
    };
    struct xs_permissions ro_fe_perms[2] = {
        { .id = s->backend_domid, .perms = XS_PERM_NONE },
        { .id = s->domid, .perms = XS_PERM_READ },
    };
    struct xs_permissions be_perms[2] = {
        { .id = s->backend_domid, .perms = XS_PERM_NONE },
        { .id = s->domid, .perms = XS_PERM_READ },
    };
    struct kv kv[16], fe[8], ro_fe[1];
    unsigned n = 0, nb;
    char path[256];

    /* libxl's own copy: where xl finds the device again */
    xs_rm(xsh, t, p->libxl);
    snprintf(path, sizeof(path), "%s/frontend", p->libxl);
    if (!xs_write(xsh, t, path, p->frontend, (unsigned)strlen(p->frontend)))
        return -errno;
    snprintf(path, sizeof(path), "%s/backend", p->libxl);
    if (!xs_write(xsh, t, path, p->backend, (unsigned)strlen(p->backend)))
        return -errno;

    /* frontend: the guest owns it, the backend reads it; mtu read-only */
    n = 0;
    {
        struct kv *kv = fe;
        KV("backend-id", "%u", s->backend_domid);
        KV("state", "%d", XenbusStateInitialising);
        KV("handle", "%u", s->devid);
        KV("mac", "%02x:%02x:%02x:%02x:%02x:%02x", s->mac[0], s->mac[1], s->mac[2],
           s->mac[3], s->mac[4], s->mac[5]);
        KV("trusted", "1");
    }
    unsigned nfe = n;
    n = 0;
    {
        struct kv *kv = ro_fe;
        KV("mtu", "%u", s->mtu);
    }
    xs_rm(xsh, t, p->frontend);
    if (!xs_mkdir(xsh, t, p->frontend) ||
        !xs_set_permissions(xsh, t, p->frontend, fe_perms, 2))
        return -errno;
    snprintf(path, sizeof(path), "%s/backend", p->frontend);
    if (!xs_write(xsh, t, path, p->backend, (unsigned)strlen(p->backend)) ||
        !write_kv(xsh, t, p->frontend, fe, nfe, fe_perms, 2) ||
        !write_kv(xsh, t, p->frontend, ro_fe, 1, ro_fe_perms, 2))
        return -errno;

    /* backend: the backend domain owns it, the guest reads it */
    nb = backend_entries(s, p, kv);
    xs_rm(xsh, t, p->backend);
    if (!xs_mkdir(xsh, t, p->backend) ||
        !xs_set_permissions(xsh, t, p->backend, be_perms, 2))
        return -errno;
    snprintf(path, sizeof(path), "%s/frontend", p->backend);
    if (!xs_write(xsh, t, path, p->frontend, (unsigned)strlen(p->frontend)) ||
        !write_kv(xsh, t, p->backend, kv, nb, NULL, 0) ||
        !write_kv(xsh, t, p->libxl, kv, nb, NULL, 0))
        return -errno;
    return 0;
}

/* One try of a transaction's writes: 0, or -errno with err set. */
typedef int (*txn_body)(struct xs_handle *xsh, xs_transaction_t t, void *arg, char *err,
                        size_t errlen);

/* Runs body in a transaction, again while the commit meets a conflict
 * (EAGAIN: another writer, e.g. xl or the frontend, got in between). */
static int with_txn(struct xs_handle *xsh, txn_body body, void *arg, char *err, size_t errlen)
{
    for (int attempt = 0; attempt < 32; attempt++) {
        xs_transaction_t t = xs_transaction_start(xsh);
        int rc;

        if (t == XBT_NULL) {
            rc = -errno;
            snprintf(err, errlen, "transaction: %s", strerror(-rc));
            return rc;
        }
        if ((rc = body(xsh, t, arg, err, errlen))) {
            xs_transaction_end(xsh, t, true);
            return rc;
        }
        if (xs_transaction_end(xsh, t, false))
            return 0;
        if (errno != EAGAIN) {
            rc = -errno;
            snprintf(err, errlen, "committing: %s", strerror(-rc));
            return rc;
        }
    }
    snprintf(err, errlen, "committing: too many conflicts");
    return -EAGAIN;
}

struct add_txn {
    const struct nbd_vif_spec *spec;
    const struct nbd_vif_paths *p;
};

static int add_body(struct xs_handle *xsh, xs_transaction_t t, void *arg, char *err,
                    size_t errlen)
{
    const struct add_txn *a = arg;
    int rc = add_once(xsh, t, a->spec, a->p);

    if (rc)
        snprintf(err, errlen, "writing nodes: %s", strerror(-rc));
    return rc;
}

int nbd_vif_nodes_add(struct xs_handle *xsh, const struct nbd_vif_spec *spec,
                      char *err, size_t errlen)
{
    struct nbd_vif_paths p;
    struct add_txn a = { spec, &p };
    int rc = nbd_vif_paths(xsh, spec->domid, spec->devid, spec->backend_domid, &p);

    if (rc) {
        snprintf(err, errlen, "domain paths: %s", strerror(-rc));
        return rc;
    }
    return with_txn(xsh, add_body, &a, err, errlen);
}

struct set_txn {
    const struct nbd_vif_paths *p;
    unsigned domid, devid;
    const char *key, *val;
};

static int set_body(struct xs_handle *xsh, xs_transaction_t t, void *arg, char *err,
                    size_t errlen)
{
    const struct set_txn *s = arg;
    char path[256], *dir;
    bool ok = true;

    if (!(dir = xs_read(xsh, t, s->p->backend, NULL))) {
        snprintf(err, errlen, "no vif %u/%u", s->domid, s->devid);
        return -ENOENT;
    }
    free(dir);
    /* libxl's copy only where libxl (or vif-add) made one */
    bool has_libxl = (dir = xs_read(xsh, t, s->p->libxl, NULL)) != NULL;
    free(dir);
    for (int i = 0; i < 1 + has_libxl && ok; i++) {
        snprintf(path, sizeof(path), "%s/%s", i ? s->p->libxl : s->p->backend, s->key);
        if (s->val)
            ok = xs_write(xsh, t, path, s->val, (unsigned)strlen(s->val));
        else
            ok = xs_rm(xsh, t, path) || errno == ENOENT;
    }
    if (!ok) {
        int rc = -errno;

        snprintf(err, errlen, "writing %s: %s", s->key, strerror(-rc));
        return rc;
    }
    return 0;
}

int nbd_vif_nodes_set(struct xs_handle *xsh, unsigned domid, unsigned devid,
                      unsigned backend_domid, const char *key, const char *val,
                      char *err, size_t errlen)
{
    struct nbd_vif_paths p;
    struct set_txn s = { &p, domid, devid, key, val };
    int rc = nbd_vif_paths(xsh, domid, devid, backend_domid, &p);

    if (rc) {
        snprintf(err, errlen, "domain paths: %s", strerror(-rc));
        return rc;
    }
    return with_txn(xsh, set_body, &s, err, errlen);
}

static int backend_state(struct xs_handle *xsh, const char *be)
{
    char path[160], *s;
    int st;

    snprintf(path, sizeof(path), "%s/state", be);
    if (!(s = xs_read(xsh, XBT_NULL, path, NULL)))
        return -1;
    st = atoi(s);
    free(s);
    return st;
}

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Waits for the backend's state node to say Closed (or vanish). */
static bool wait_closed(struct xs_handle *xsh, const char *be, unsigned timeout_ms)
{
    char path[160];
    uint64_t deadline = now_ms() + timeout_ms;
    bool closed = false;

    snprintf(path, sizeof(path), "%s/state", be);
    if (!xs_watch(xsh, path, "vif-del"))
        return false;
    for (;;) {
        int st = backend_state(xsh, be);
        if (st < 0 || st == XenbusStateClosed) {
            closed = true;
            break;
        }
        uint64_t now = now_ms();
        if (now >= deadline)
            break;
        struct pollfd pfd = { .fd = xs_fileno(xsh), .events = POLLIN };
        if (poll(&pfd, 1, (int)(deadline - now)) > 0) {
            char **w;
            while ((w = xs_check_watch(xsh)))
                free(w);
        }
    }
    xs_unwatch(xsh, path, "vif-del");
    return closed;
}

int nbd_vif_nodes_del(struct xs_handle *xsh, unsigned domid, unsigned devid,
                      unsigned backend_domid, unsigned timeout_ms,
                      char *err, size_t errlen)
{
    struct nbd_vif_paths p;
    char path[160], *fe;
    int rc = nbd_vif_paths(xsh, domid, devid, backend_domid, &p), result = 0;

    if (rc) {
        snprintf(err, errlen, "domain paths: %s", strerror(-rc));
        return rc;
    }
    snprintf(path, sizeof(path), "%s/frontend", p.backend);
    if (!(fe = xs_read(xsh, XBT_NULL, path, NULL))) {
        snprintf(err, errlen, "no vif %u/%u under %s", domid, devid, p.backend);
        return -ENOENT;
    }
    free(fe);

    if (timeout_ms) {
        xs_transaction_t t;
        do {
            if ((t = xs_transaction_start(xsh)) == XBT_NULL)
                break;
            snprintf(path, sizeof(path), "%s/online", p.backend);
            xs_write(xsh, t, path, "0", 1);
            snprintf(path, sizeof(path), "%s/state", p.backend);
            char st[4];
            snprintf(st, sizeof(st), "%d", XenbusStateClosing);
            xs_write(xsh, t, path, st, (unsigned)strlen(st));
        } while (!xs_transaction_end(xsh, t, false) && errno == EAGAIN);
        if (!wait_closed(xsh, p.backend, timeout_ms)) {
            snprintf(err, errlen, "backend %s did not close within %u ms; removing anyway",
                     p.backend, timeout_ms);
            result = -ETIMEDOUT;
        }
    }
    for (int attempt = 0; attempt < 32; attempt++) {
        xs_transaction_t t = xs_transaction_start(xsh);
        if (t == XBT_NULL)
            break;
        xs_rm(xsh, t, p.frontend);
        xs_rm(xsh, t, p.backend);
        xs_rm(xsh, t, p.libxl);
        if (xs_transaction_end(xsh, t, false))
            return result;
        if (errno != EAGAIN)
            break;
    }
    snprintf(err, errlen, "removing nodes: %s", strerror(errno));
    return -errno;
}
