#include "bridge/bridge_ctl.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge/capture.h"
#include "bridge/port_discard.h"
#include "bridge/port_dpdk.h"
#include "bridge/port_tap.h"

/* A port this plane made (tap or dpdk); vif ports are the backend's. */
struct owned_port {
    struct owned_port *next;
    struct nb_port *port;
    struct nb_bridge *bridge;
    enum nb_port_kind kind;
};

struct nb_plane {
    pthread_mutex_t lock;
    struct nb_switchboard *sb;
    struct nb_pkt_pool *pool;
    struct nb_dpdk *dpdk;
    char **eal;
    unsigned n_eal;
    struct owned_port *ports;
};

/* Writes the reason into err and returns rc. */
__attribute__((format(printf, 4, 5)))
static int errf(int rc, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return rc;
}

struct nb_plane *nb_plane_new(struct nb_switchboard *sb, struct nb_pkt_pool *pool)
{
    struct nb_plane *pl = calloc(1, sizeof(*pl));

    if (!pl)
        return NULL;
    pthread_mutex_init(&pl->lock, NULL);
    pl->sb = sb;
    pl->pool = pool;
    return pl;
}

static void free_eal(struct nb_plane *pl)
{
    for (unsigned i = 0; i < pl->n_eal; i++)
        free(pl->eal[i]);
    free(pl->eal);
    pl->eal = NULL;
    pl->n_eal = 0;
}

void nb_plane_free(struct nb_plane *pl)
{
    if (!pl)
        return;
    while (pl->ports) {
        struct owned_port *o = pl->ports;
        pl->ports = o->next;
        nb_bridge_del_port(o->bridge, o->port);
        free(o);
    }
    nb_dpdk_close(pl->dpdk);
    free_eal(pl);
    pthread_mutex_destroy(&pl->lock);
    free(pl);
}

static int set_eal(struct nb_plane *pl, const struct nb_config *cfg)
{
    char **eal = calloc(cfg->n_eal + 1, sizeof(char *));

    if (!eal)
        return -ENOMEM;
    for (unsigned i = 0; i < cfg->n_eal; i++)
        if (!(eal[i] = strdup(cfg->eal[i]))) {
            while (i--)
                free(eal[i]);
            free(eal);
            return -ENOMEM;
        }
    free_eal(pl);
    pl->eal = eal;
    pl->n_eal = cfg->n_eal;
    return 0;
}

/* ---- ports --------------------------------------------------------------- */

struct find_ctx {
    const char *name;
    struct nb_bridge *found;
};

static int find_in_bridge(struct nb_bridge *br, void *arg)
{
    struct find_ctx *fc = arg;
    if (nb_bridge_find_port(br, fc->name)) {
        fc->found = br;
        return 1;
    }
    return 0;
}

/* The bridge holding a port of that name, any kind. */
static struct nb_bridge *bridge_of_port(struct nb_plane *pl, const char *name)
{
    struct find_ctx fc = { .name = name };
    nb_switchboard_foreach(pl->sb, find_in_bridge, &fc);
    return fc.found;
}

static int make_port(struct nb_plane *pl, const struct nb_config_port *p, struct nb_port **out,
                     char *err, size_t errlen)
{
    int rc;

    if (p->kind == NB_KIND_TAP) {
        struct nb_tap_config tc = { .ifname = p->name, .linux_bridge = p->linux_bridge,
                                    .mtu = p->mtu, .no_offload = p->no_offload };
        rc = nb_tap_port_new(&tc, pl->pool, out);
        if (rc == -ENODEV && p->linux_bridge[0])
            return errf(rc, err, errlen, "tap port %s: there is no Linux bridge %s", p->name,
                        p->linux_bridge);
        if (rc)
            return errf(rc, err, errlen, "tap port %s: %s", p->name, strerror(-rc));
    } else if (p->kind == NB_KIND_DISCARD) {
        if (!(*out = nb_discard_port_new(p->name)))
            return errf(-ENOMEM, err, errlen, "discard port %s: out of memory", p->name);
    } else {
        struct nb_dpdk_port_config dc = { .name = p->name, .devargs = p->devargs,
                                          .busy_poll = p->busy_poll };
        if (!pl->dpdk) {
            rc = nb_dpdk_open((const char *const *)pl->eal, pl->n_eal, &pl->dpdk);
            if (rc)
                return errf(rc, err, errlen, "dpdk port %s: EAL: %s", p->name, strerror(-rc));
        }
        rc = nb_dpdk_port_new(pl->dpdk, &dc, pl->pool, out);
        if (rc)
            return errf(rc, err, errlen, "dpdk port %s (%s): %s", p->name, p->devargs,
                        strerror(-rc));
    }
    (*out)->vlan_mode = p->vlan_mode;
    (*out)->access_vlan = p->access_vlan;
    memcpy((*out)->trunk_allowed, p->trunk_allowed, sizeof(p->trunk_allowed));
    return 0;
}

static void free_unattached(enum nb_port_kind kind, struct nb_port *port)
{
    if (kind == NB_KIND_TAP)
        nb_tap_port_free(port);
    else if (kind == NB_KIND_DISCARD)
        nb_discard_port_free(port);
    else
        nb_dpdk_port_free(port);
}

static int start_port(enum nb_port_kind kind, struct nb_port *port)
{
    if (kind == NB_KIND_DISCARD)
        return 0;   /* nothing receives: there is no thread to start */
    return kind == NB_KIND_TAP ? nb_tap_port_start(port) : nb_dpdk_port_start(port);
}

/* Creates and attaches a port (not started), recording it as ours. */
static int add_port_locked(struct nb_plane *pl, const struct nb_config_port *p,
                           struct owned_port **made, char *err, size_t errlen)
{
    struct nb_bridge *br;
    struct owned_port *o;
    struct nb_port *port;
    struct nb_capture *cap = NULL, *old;
    int rc;

    if ((rc = nb_config_port_check(p, err, errlen)))
        return rc;
    if (bridge_of_port(pl, p->name))
        return errf(-EEXIST, err, errlen, "a port named %s exists already", p->name);
    if (!(br = nb_switchboard_find(pl->sb, p->bridge)))
        return errf(-ENOENT, err, errlen, "port %s: no bridge %s", p->name, p->bridge);
    if (p->capture[0] && !(cap = nb_capture_open(p->capture, 0, &rc)))
        return errf(rc, err, errlen, "port %s: capture %s: %s", p->name, p->capture,
                    strerror(-rc));
    if (!(o = calloc(1, sizeof(*o)))) {
        nb_capture_close(cap);
        return errf(-ENOMEM, err, errlen, "out of memory");
    }
    if ((rc = make_port(pl, p, &port, err, errlen))) {
        nb_capture_close(cap);
        free(o);
        return rc;
    }
    if ((rc = nb_bridge_add_port(br, port))) {
        free_unattached(p->kind, port);
        nb_capture_close(cap);
        free(o);
        return errf(rc, err, errlen, "port %s: cannot join bridge %s: %s", p->name, p->bridge,
                    strerror(-rc));
    }
    if (cap)
        nb_bridge_set_capture(br, port, cap, &old);
    o->port = port;
    o->bridge = br;
    o->kind = p->kind;
    o->next = pl->ports;
    pl->ports = o;
    *made = o;
    return 0;
}

static void remove_owned(struct nb_plane *pl, struct owned_port *o)
{
    for (struct owned_port **pp = &pl->ports; *pp; pp = &(*pp)->next)
        if (*pp == o) {
            *pp = o->next;
            break;
        }
    nb_bridge_del_port(o->bridge, o->port);
    free(o);
}

int nb_plane_add_port(struct nb_plane *pl, const struct nb_config_port *p, char *err,
                      size_t errlen)
{
    struct owned_port *o;
    int rc;

    pthread_mutex_lock(&pl->lock);
    rc = add_port_locked(pl, p, &o, err, errlen);
    if (!rc && (rc = start_port(o->kind, o->port))) {
        errf(rc, err, errlen, "port %s: cannot start: %s", p->name, strerror(-rc));
        remove_owned(pl, o);
    }
    pthread_mutex_unlock(&pl->lock);
    return rc;
}

int nb_plane_del_port(struct nb_plane *pl, const char *name, char *err, size_t errlen)
{
    int rc = 0;

    pthread_mutex_lock(&pl->lock);
    struct owned_port *o = pl->ports;
    while (o && strcmp(o->port->name, name) != 0)
        o = o->next;
    if (o)
        remove_owned(pl, o);
    else if (bridge_of_port(pl, name))
        rc = errf(-EPERM, err, errlen, "port %s is a vif: it goes when its guest does", name);
    else
        rc = errf(-ENOENT, err, errlen, "no port %s", name);
    pthread_mutex_unlock(&pl->lock);
    return rc;
}

int nb_plane_set_capture(struct nb_plane *pl, const char *port, const char *path, char *err,
                         size_t errlen)
{
    struct nb_capture *cap = NULL, *old = NULL;
    struct nb_bridge *br;
    int rc;

    pthread_mutex_lock(&pl->lock);
    if (!(br = bridge_of_port(pl, port))) {
        rc = errf(-ENOENT, err, errlen, "no port %s", port);
        goto out;
    }
    if (path && !(cap = nb_capture_open(path, 0, &rc))) {
        errf(rc, err, errlen, "capture %s: %s", path, strerror(-rc));
        goto out;
    }
    rc = nb_bridge_set_capture_named(br, port, cap, &old);
    if (rc) {
        errf(rc, err, errlen, "no port %s", port);
        old = cap;                      /* it went away meanwhile */
    }
    nb_capture_close(old);
out:
    pthread_mutex_unlock(&pl->lock);
    return rc;
}

/* ---- bridges and whole configs ------------------------------------------ */

static int add_bridge_locked(struct nb_plane *pl, const char *name, unsigned aging, char *err,
                             size_t errlen)
{
    struct nb_bridge_config bc = { .aging_sec = aging };
    int rc = nb_switchboard_create(pl->sb, name, &bc, NULL);

    if (rc)
        return errf(rc, err, errlen, "bridge %s: %s", name,
                    rc == -EEXIST ? "exists already" : strerror(-rc));
    return 0;
}

int nb_plane_add_bridge(struct nb_plane *pl, const char *name, unsigned aging, char *err,
                        size_t errlen)
{
    int rc;

    pthread_mutex_lock(&pl->lock);
    rc = add_bridge_locked(pl, name, aging, err, errlen);
    pthread_mutex_unlock(&pl->lock);
    return rc;
}

int nb_plane_del_bridge(struct nb_plane *pl, const char *name, char *err, size_t errlen)
{
    int rc = nb_switchboard_remove(pl->sb, name);

    if (rc == -EBUSY)
        return errf(rc, err, errlen, "bridge %s still has ports", name);
    if (rc)
        return errf(rc, err, errlen, "no bridge %s", name);
    return 0;
}

int nb_plane_apply(struct nb_plane *pl, const struct nb_config *cfg, char *err, size_t errlen)
{
    struct owned_port **made = calloc(cfg->n_ports + 1, sizeof(*made));
    unsigned nb = 0, np = 0;
    char why[256];
    int rc = 0;

    if (!made)
        return errf(-ENOMEM, err, errlen, "out of memory");
    pthread_mutex_lock(&pl->lock);
    if ((rc = set_eal(pl, cfg))) {
        errf(rc, err, errlen, "out of memory");
        goto out;
    }
    for (nb = 0; nb < cfg->n_bridges; nb++) {
        const struct nb_config_bridge *b = &cfg->bridges[nb];
        if ((rc = add_bridge_locked(pl, b->name, b->aging, why, sizeof(why)))) {
            errf(rc, err, errlen, "%s:%u: %s", cfg->file, b->line, why);
            goto undo;
        }
    }
    for (np = 0; np < cfg->n_ports; np++) {
        const struct nb_config_port *p = &cfg->ports[np];
        if ((rc = add_port_locked(pl, p, &made[np], why, sizeof(why)))) {
            errf(rc, err, errlen, "%s:%u: %s", cfg->file, p->line, why);
            goto undo;
        }
    }
    /* Everything exists: only now does traffic start to flow. */
    for (unsigned i = 0; i < np; i++)
        if ((rc = start_port(made[i]->kind, made[i]->port))) {
            errf(rc, err, errlen, "%s:%u: port %s: cannot start: %s", cfg->file,
                 cfg->ports[i].line, cfg->ports[i].name, strerror(-rc));
            goto undo;
        }
    goto out;
undo:
    while (np--)
        remove_owned(pl, made[np]);
    while (nb--)
        nb_switchboard_remove(pl->sb, cfg->bridges[nb].name);
out:
    pthread_mutex_unlock(&pl->lock);
    free(made);
    return rc;
}

/* ---- JSON ---------------------------------------------------------------- */

static json_t *ok_reply(void)
{
    return json_pack("{s:b}", "ok", 1);
}

static json_t *error_reply(const char *msg)
{
    return json_pack("{s:b,s:s}", "ok", 0, "error", msg);
}

static json_t *reply(int rc, const char *err)
{
    return rc ? error_reply(err) : ok_reply();
}

static const char *str_member(json_t *req, const char *key)
{
    return json_string_value(json_object_get(req, key));
}

json_t *nb_ctl_bridge_add(struct nb_plane *pl, json_t *req)
{
    const char *name = str_member(req, "name");
    json_t *aging = json_object_get(req, "aging");
    char err[256];

    if (!name)
        return error_reply("bridge-add needs \"name\"");
    if (aging && (!json_is_integer(aging) || json_integer_value(aging) < 1 ||
                  json_integer_value(aging) > 1000000))
        return error_reply("\"aging\" must be an integer in 1..1000000");
    return reply(nb_plane_add_bridge(pl, name, aging ? (unsigned)json_integer_value(aging) : 0,
                                     err, sizeof(err)), err);
}

json_t *nb_ctl_bridge_del(struct nb_plane *pl, json_t *req)
{
    const char *name = str_member(req, "name");
    char err[256];

    if (!name)
        return error_reply("bridge-del needs \"name\"");
    return reply(nb_plane_del_bridge(pl, name, err, sizeof(err)), err);
}

/* Copies an optional string member; false (with err) when too long or not
 * a string. */
static bool opt_str(json_t *req, const char *key, char *dst, size_t size, char *err, size_t errlen)
{
    json_t *v = json_object_get(req, key);

    if (!v || json_is_null(v))
        return true;
    if (!json_is_string(v) || json_string_length(v) >= size) {
        snprintf(err, errlen, "\"%s\" must be a string of at most %zu characters", key, size - 1);
        return false;
    }
    snprintf(dst, size, "%s", json_string_value(v));
    return true;
}

static bool vlan_from_json(json_t *v, struct nb_config_port *p, char *err, size_t errlen)
{
    const char *mode = json_string_value(json_object_get(v, "mode"));
    json_t *tag = json_object_get(v, "tag"), *allowed = json_object_get(v, "allowed");
    size_t i;
    json_t *e;

    if (!json_is_object(v) || !mode || nb_config_vlan_mode(mode, &p->vlan_mode)) {
        snprintf(err, errlen, "\"vlan\" needs \"mode\": \"none\", \"access\" or \"trunk\"");
        return false;
    }
    if (p->vlan_mode == NB_VLAN_ACCESS) {
        if (!json_is_integer(tag) || json_integer_value(tag) < 1 || json_integer_value(tag) > 4094) {
            snprintf(err, errlen, "an access port needs \"tag\" in 1..4094");
            return false;
        }
        p->access_vlan = (uint16_t)json_integer_value(tag);
    } else if (p->vlan_mode == NB_VLAN_TRUNK) {
        if (!json_is_array(allowed) || json_array_size(allowed) == 0) {
            snprintf(err, errlen, "a trunk port needs \"allowed\": [vid, ...]");
            return false;
        }
        json_array_foreach(allowed, i, e) {
            json_int_t vid = json_integer_value(e);
            if (!json_is_integer(e) || vid < 1 || vid > 4094) {
                snprintf(err, errlen, "VLAN ids in \"allowed\" must be in 1..4094");
                return false;
            }
            p->trunk_allowed[vid / 8] |= (uint8_t)(1u << (vid % 8));
        }
        if (json_is_true(json_object_get(v, "untagged")))
            p->trunk_allowed[0] |= 1;
    }
    return true;
}

json_t *nb_ctl_port_add(struct nb_plane *pl, json_t *req)
{
    struct nb_config_port p;
    const char *kind = str_member(req, "kind");
    json_t *mtu = json_object_get(req, "mtu"), *vlan = json_object_get(req, "vlan");
    char err[256] = "";

    memset(&p, 0, sizeof(p));
    if (!kind || nb_config_kind(kind, &p.kind))
        return error_reply("port-add needs \"kind\": \"tap\", \"dpdk\" or \"discard\"");
    if (!opt_str(req, "name", p.name, sizeof(p.name), err, sizeof(err)) ||
        !opt_str(req, "bridge", p.bridge, sizeof(p.bridge), err, sizeof(err)) ||
        !opt_str(req, "linux_bridge", p.linux_bridge, sizeof(p.linux_bridge), err, sizeof(err)) ||
        !opt_str(req, "devargs", p.devargs, sizeof(p.devargs), err, sizeof(err)) ||
        !opt_str(req, "capture", p.capture, sizeof(p.capture), err, sizeof(err)) ||
        (vlan && !vlan_from_json(vlan, &p, err, sizeof(err))))
        return error_reply(err);
    if (mtu) {
        if (!json_is_integer(mtu) || json_integer_value(mtu) < 68 || json_integer_value(mtu) > 65535)
            return error_reply("\"mtu\" must be an integer in 68..65535");
        p.mtu = (unsigned)json_integer_value(mtu);
    }
    p.no_offload = json_is_false(json_object_get(req, "offload"));
    p.busy_poll = json_is_true(json_object_get(req, "busy_poll"));
    return reply(nb_plane_add_port(pl, &p, err, sizeof(err)), err);
}

json_t *nb_ctl_port_del(struct nb_plane *pl, json_t *req)
{
    const char *name = str_member(req, "name");
    char err[256];

    if (!name)
        return error_reply("port-del needs \"name\"");
    return reply(nb_plane_del_port(pl, name, err, sizeof(err)), err);
}

json_t *nb_ctl_capture(struct nb_plane *pl, json_t *req)
{
    const char *port = str_member(req, "port");
    json_t *file = json_object_get(req, "file");
    char err[256];

    if (!port || !file || !(json_is_string(file) || json_is_null(file)))
        return error_reply("capture needs \"port\" and \"file\" (a path, or null to stop)");
    return reply(nb_plane_set_capture(pl, port, json_string_value(file), err, sizeof(err)), err);
}

static const char *const drop_names[NB_DROP__COUNT] = {
    [NB_DROP_NO_BUFFER] = "no_buffer", [NB_DROP_VLAN] = "vlan",
    [NB_DROP_MALFORMED] = "malformed", [NB_DROP_LINK_DOWN] = "link_down",
    [NB_DROP_FILTER] = "filter", [NB_DROP_OFFLOAD] = "offload",
    [NB_DROP_HAIRPIN] = "hairpin",
};

static json_t *vlan_json(const struct nb_port *port)
{
    json_t *allowed;

    switch (port->vlan_mode) {
    case NB_VLAN_ACCESS:
        return json_pack("{s:s,s:i}", "mode", "access", "tag", port->access_vlan);
    case NB_VLAN_TRUNK:
        allowed = json_array();
        for (unsigned vid = 1; vid < 4095; vid++)
            if (nb_port_trunk_allowed(port, (uint16_t)vid))
                json_array_append_new(allowed, json_integer(vid));
        return json_pack("{s:s,s:o,s:b}", "mode", "trunk", "allowed", allowed, "untagged",
                         nb_port_trunk_allowed(port, 0));
    default:
        return json_pack("{s:s}", "mode", "none");
    }
}

json_t *nb_ctl_port_json(struct nb_port *port)
{
    struct nb_port_stats st;
    struct nb_capture *cap = atomic_load(&port->capture);
    json_t *drops = json_object(), *offloads = json_array();

    nb_port_stats_read(port, &st);
    for (int r = 0; r < NB_DROP__COUNT; r++)
        json_object_set_new(drops, drop_names[r], json_integer((json_int_t)st.drops[r]));
    if (port->offloads & NB_PORT_OFF_CSUM)
        json_array_append_new(offloads, json_string("csum"));
    if (port->offloads & NB_PORT_OFF_TSO4)
        json_array_append_new(offloads, json_string("tso4"));
    if (port->offloads & NB_PORT_OFF_TSO6)
        json_array_append_new(offloads, json_string("tso6"));
    return json_pack("{s:s,s:s,s:b,s:o,s:o,s:s?,s:I,s:I,s:I,s:I,s:o}",
                     "name", port->name, "kind", port->ops->kind,
                     "link", port->ops->link_up ? port->ops->link_up(port) : 1,
                     "vlan", vlan_json(port), "offloads", offloads,
                     "capture", cap ? nb_capture_path(cap) : NULL,
                     "rx_packets", (json_int_t)st.rx_packets, "rx_bytes", (json_int_t)st.rx_bytes,
                     "tx_packets", (json_int_t)st.tx_packets, "tx_bytes", (json_int_t)st.tx_bytes,
                     "drops", drops);
}

static int port_into(struct nb_port *port, void *arg)
{
    json_array_append_new(arg, nb_ctl_port_json(port));
    return 0;
}

struct list_ctx {
    const char *only;
    json_t *bridges;
};

static int bridge_into(struct nb_bridge *br, void *arg)
{
    struct list_ctx *lc = arg;
    json_t *ports;

    if (lc->only && strcmp(lc->only, nb_bridge_name(br)) != 0)
        return 0;
    ports = json_array();
    nb_bridge_foreach_port(br, port_into, ports);
    json_array_append_new(lc->bridges, json_pack("{s:s,s:i,s:o}", "name", nb_bridge_name(br),
                                                 "aging", nb_bridge_aging(br), "ports", ports));
    return 0;
}

json_t *nb_ctl_port_list(struct nb_plane *pl, json_t *req)
{
    struct list_ctx lc = { .only = str_member(req, "bridge"), .bridges = json_array() };
    json_t *r;

    nb_switchboard_foreach(pl->sb, bridge_into, &lc);
    if (lc.only && json_array_size(lc.bridges) == 0) {
        json_decref(lc.bridges);
        return error_reply("no such bridge");
    }
    r = ok_reply();
    json_object_set_new(r, "bridges", lc.bridges);
    return r;
}
