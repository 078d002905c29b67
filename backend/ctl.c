/* The control socket: a unix stream socket speaking one JSON object per
 * line each way (docs/control.md). Served by the main thread from its
 * event loop; requests are a table of handlers. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "backend/ctl.h"
#include "backend/log.h"
#include "backend/netbackd.h"
#include "backend/plane.h"
#include "bridge/bridge.h"
#include "bridge/bridge_ctl.h"
#include "bridge/switchboard.h"

#define CTL_LINE_MAX 65536
#define CTL_MAX_CLIENTS 32

struct ctl_client {
    int fd;
    size_t len;
    char buf[CTL_LINE_MAX];
};

struct nbd_ctl {
    struct nbd_ctx *ctx;
    int listen_fd;
    struct ctl_client *clients[CTL_MAX_CLIENTS];
};

static const char *const xenbus_states[] = {
    "Unknown", "Initialising", "InitWait", "Initialised", "Connected",
    "Closing", "Closed", "Reconfiguring", "Reconfigured",
};

static const char *mode_name(int mode)
{
    return mode == NBD_MODE_POLL ? "poll" : "event";
}

/* ---- replies ---- */

static json_t *ok_reply(void)
{
    return json_pack("{s:b}", "ok", 1);
}

static json_t *error_reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_t *error_reply(const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return json_pack("{s:b,s:s}", "ok", 0, "error", msg);
}

static json_t *counters_json(const uint64_t *c)
{
    json_t *o = json_object();

    for (unsigned i = 0; i < NBD_QUEUE_COUNTER_COUNT; i++)
        json_object_set_new(o, nbd_queue_counter_names[i], json_integer((json_int_t)c[i]));
    return o;
}

/* The VLAN the `bridge` key gave the vif, in port-list's form: {mode: none},
 * {mode: access, tag}, {mode: trunk, allowed: [...], untagged: false}. */
/* The `rate` key as applied: null without a limit. JSON integers are
 * signed 64-bit: larger values (which no toolstack writes) show as the
 * largest one. */
static json_t *rate_json(uint64_t bytes, uint64_t usecs)
{
    if (bytes == NBD_RATE_UNLIMITED)
        return json_null();
    return json_pack("{s:I,s:I}", "bytes", (json_int_t)(bytes > INT64_MAX ? INT64_MAX : bytes),
                     "usecs", (json_int_t)(usecs > INT64_MAX ? INT64_MAX : usecs));
}

static json_t *vlan_json(const struct nbd_bridge_key *k)
{
    json_t *allowed;

    switch (k->mode) {
    case NB_VLAN_ACCESS:
        return json_pack("{s:s,s:i}", "mode", "access", "tag", k->vids[0]);
    case NB_VLAN_TRUNK:
        allowed = json_array();
        for (unsigned i = 0; i < k->n_vids; i++)
            json_array_append_new(allowed, json_integer(k->vids[i]));
        return json_pack("{s:s,s:o,s:b}", "mode", "trunk", "allowed", allowed, "untagged", 0);
    default:
        return json_pack("{s:s}", "mode", "none");
    }
}

static json_t *vif_json(struct nbd_vif *v, bool with_stats)
{
    char mac[18];
    json_t *o;

    snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", v->mac[0], v->mac[1],
             v->mac[2], v->mac[3], v->mac[4], v->mac[5]);
    o = json_pack("{s:s,s:i,s:i,s:s,s:b,s:b,s:s,s:i,s:s,s:s,s:i}",
                  "name", v->name, "domid", v->domid, "devid", v->devid,
                  "state", v->be_state >= 0 && v->be_state <= 8 ? xenbus_states[v->be_state] : "?",
                  "connected", v->data_up, "disabled", (int)atomic_load(&v->disabled),
                  "mode", mode_name(atomic_load(&v->mode)), "queues", v->num_queues,
                  "bridge", v->bridge_name, "mac", mac, "mtu", v->mtu);
    json_object_set_new(o, "vlan", vlan_json(&v->vlan));
    json_object_set_new(o, "rate", rate_json(atomic_load(&v->rate_bytes),
                                             atomic_load(&v->rate_usecs)));
    if (atomic_load(&v->disabled))
        json_object_set_new(o, "disable_reason", json_string(v->disable_reason));
    if (v->data_up) {
        json_object_set_new(o, "features", json_pack(
            "{s:b,s:b,s:b,s:b,s:b,s:b,s:b,s:b,s:b,s:i}",
            "sg", v->fe.sg, "gso_tcpv4", v->rx_caps.gso_tcpv4, "gso_tcpv6", v->rx_caps.gso_tcpv6,
            "ipv4_csum", v->fe.ipv4_csum, "ipv6_csum", v->fe.ipv6_csum,
            "rx_notify", v->fe.rx_notify, "split_event_channels", v->fe.q[0].split,
            "multicast_control", v->fe.mcast_control, "ctrl_ring", v->has_ctrl,
            "xdp_headroom", v->fe.xdp_headroom));
    }
    if (with_stats) {
        uint64_t sum[NBD_QUEUE_COUNTER_COUNT] = { 0 };
        json_t *queues = json_array();

        nbd_vif_sum_stats(v, sum);
        json_object_set_new(o, "totals", counters_json(sum));
        for (unsigned i = 0; i < v->num_queues; i++) {
            uint64_t qs[NBD_QUEUE_COUNTER_COUNT] = { 0 };
            nbd_queue_stats_accumulate(&v->queues[i]->stats, qs);
            json_array_append_new(queues, counters_json(qs));
        }
        json_object_set_new(o, "per_queue", queues);
        json_t *vs = json_object();
#define NBD_VIF_COUNTER_JSON(name) json_object_set_new(vs, #name, json_integer((json_int_t)v->stats.name));
        NBD_VIF_COUNTERS(NBD_VIF_COUNTER_JSON)
#undef NBD_VIF_COUNTER_JSON
        json_object_set_new(o, "control", vs);
    }
    return o;
}

/* ---- handlers ---- */

static json_t *vifs_reply(struct nbd_ctx *ctx, bool with_stats)
{
    json_t *r = ok_reply(), *arr = json_array();

    for (struct nbd_vif *v = ctx->vifs; v; v = v->next)
        if (!v->gone)
            json_array_append_new(arr, vif_json(v, with_stats));
    json_object_set_new(r, "vifs", arr);
    return r;
}

static json_t *cmd_ping(struct nbd_ctx *ctx, json_t *req)
{
    return ok_reply();
}

static json_t *cmd_vif_list(struct nbd_ctx *ctx, json_t *req)
{
    return vifs_reply(ctx, false);
}

static json_t *cmd_stats(struct nbd_ctx *ctx, json_t *req)
{
    json_t *r = vifs_reply(ctx, true);

    json_object_set_new(r, "daemon", json_pack("{s:I,s:i}", "xenstore_garbage",
                                                (json_int_t)ctx->xs_garbage,
                                                "domid", ctx->own_domid));
    return r;
}

static json_t *cmd_set_mode(struct nbd_ctx *ctx, json_t *req)
{
    const char *vif = NULL, *mode = NULL;
    enum nbd_worker_mode m;
    unsigned n = 0;

    if (json_unpack(req, "{s:s,s:s}", "vif", &vif, "mode", &mode))
        return error_reply("set-mode needs \"vif\" (a name or \"all\") and \"mode\"");
    if (!strcmp(mode, "event"))
        m = NBD_MODE_EVENT;
    else if (!strcmp(mode, "poll"))
        m = NBD_MODE_POLL;
    else
        return error_reply("mode must be \"event\" or \"poll\"");
    if (!strcmp(vif, "default")) {
        ctx->set.mode = m;
        return ok_reply();
    }
    for (struct nbd_vif *v = ctx->vifs; v; v = v->next)
        if (!v->gone && (!strcmp(vif, "all") || !strcmp(vif, v->name))) {
            nbd_vif_set_mode(v, m);
            n++;
        }
    if (!n && strcmp(vif, "all"))
        return error_reply("no vif %s", vif);
    json_t *r = ok_reply();
    json_object_set_new(r, "changed", json_integer(n));
    return r;
}

static int port_json(struct nb_port *port, void *arg)
{
    struct nb_port_stats st;

    nb_port_stats_read(port, &st);
    json_array_append_new(arg, json_pack("{s:s,s:s,s:b,s:I,s:I,s:I,s:I}",
        "name", port->name, "kind", port->ops->kind,
        "link", port->ops->link_up ? port->ops->link_up(port) : 1,
        "rx_packets", (json_int_t)st.rx_packets, "rx_bytes", (json_int_t)st.rx_bytes,
        "tx_packets", (json_int_t)st.tx_packets, "tx_bytes", (json_int_t)st.tx_bytes));
    return 0;
}

static int bridge_json(struct nb_bridge *br, void *arg)
{
    json_t *ports = json_array();

    nb_bridge_foreach_port(br, port_json, ports);
    json_array_append_new(arg, json_pack("{s:s,s:i,s:o}", "name", nb_bridge_name(br),
                                         "aging", nb_bridge_aging(br), "ports", ports));
    return 0;
}

static json_t *cmd_bridge_list(struct nbd_ctx *ctx, json_t *req)
{
    json_t *r = ok_reply(), *arr = json_array();

    nb_switchboard_foreach(ctx->sb, bridge_json, arr);
    json_object_set_new(r, "bridges", arr);
    return r;
}

/* The forwarding plane's commands (bridge/bridge_ctl.h). */
static json_t *plane_cmd(struct nbd_ctx *ctx, json_t *req,
                         json_t *(*fn)(struct nb_plane *plane, json_t *req))
{
    if (!ctx->plane)
        return error_reply("the forwarding plane is not running");
    return fn(ctx->plane->nb, req);
}

static json_t *cmd_bridge_add(struct nbd_ctx *ctx, json_t *req)
{
    return plane_cmd(ctx, req, nb_ctl_bridge_add);
}

static json_t *cmd_bridge_del(struct nbd_ctx *ctx, json_t *req)
{
    return plane_cmd(ctx, req, nb_ctl_bridge_del);
}

static json_t *cmd_port_add(struct nbd_ctx *ctx, json_t *req)
{
    return plane_cmd(ctx, req, nb_ctl_port_add);
}

static json_t *cmd_port_del(struct nbd_ctx *ctx, json_t *req)
{
    return plane_cmd(ctx, req, nb_ctl_port_del);
}

static json_t *cmd_capture(struct nbd_ctx *ctx, json_t *req)
{
    return plane_cmd(ctx, req, nb_ctl_capture);
}

static json_t *cmd_port_list(struct nbd_ctx *ctx, json_t *req)
{
    return plane_cmd(ctx, req, nb_ctl_port_list);
}

static const struct {
    const char *name;
    json_t *(*fn)(struct nbd_ctx *ctx, json_t *req);
} handlers[] = {
    { "ping", cmd_ping },
    { "vif-list", cmd_vif_list },
    { "stats", cmd_stats },
    { "set-mode", cmd_set_mode },
    { "bridge-list", cmd_bridge_list },
    { "bridge-add", cmd_bridge_add },
    { "bridge-del", cmd_bridge_del },
    { "port-add", cmd_port_add },
    { "port-del", cmd_port_del },
    { "capture", cmd_capture },
    { "port-list", cmd_port_list },
};

json_t *nbd_ctl_handle(struct nbd_ctx *ctx, json_t *req)
{
    const char *cmd = NULL;

    if (!json_is_object(req) || json_unpack(req, "{s:s}", "cmd", &cmd))
        return error_reply("request must be an object with a \"cmd\" string");
    for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
        if (!strcmp(cmd, handlers[i].name))
            return handlers[i].fn(ctx, req);
    return error_reply("unknown command \"%s\"", cmd);
}

/* ---- socket plumbing ---- */

static void client_close(struct nbd_ctl *ctl, unsigned slot)
{
    struct ctl_client *c = ctl->clients[slot];

    epoll_ctl(ctl->ctx->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c);
    ctl->clients[slot] = NULL;
}

static bool send_reply(int fd, json_t *reply)
{
    char *s = json_dumps(reply, JSON_COMPACT);
    size_t len, off = 0;
    bool ok = s != NULL;

    json_decref(reply);
    if (!s)
        return false;
    len = strlen(s);
    s[len++] = '\n';   /* over the terminator: one line per reply */
    while (ok && off < len) {
        ssize_t w = send(fd, s + off, len - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        ok = w > 0;
        off += ok ? (size_t)w : 0;
    }
    free(s);
    return ok;
}

/* Handles every complete line in the client's buffer. */
static bool client_lines(struct nbd_ctl *ctl, struct ctl_client *c)
{
    char *nl;

    while ((nl = memchr(c->buf, '\n', c->len))) {
        size_t line = (size_t)(nl - c->buf);
        json_error_t jerr;
        json_t *req = json_loadb(c->buf, line, 0, &jerr), *reply;

        reply = req ? nbd_ctl_handle(ctl->ctx, req) : error_reply("bad JSON: %s", jerr.text);
        json_decref(req);
        memmove(c->buf, nl + 1, c->len - line - 1);
        c->len -= line + 1;
        if (!send_reply(c->fd, reply))
            return false;
    }
    return c->len < sizeof(c->buf);   /* a line longer than the buffer: drop the client */
}

void nbd_ctl_event(struct nbd_ctl *ctl, int fd)
{
    if (fd == ctl->listen_fd) {
        int cfd = accept4(ctl->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        unsigned slot;

        if (cfd < 0)
            return;
        for (slot = 0; slot < CTL_MAX_CLIENTS && ctl->clients[slot]; slot++)
            ;
        struct ctl_client *c = slot < CTL_MAX_CLIENTS ? calloc(1, sizeof(*c)) : NULL;
        struct timeval tv = { .tv_sec = 2 };
        struct epoll_event ev = { .events = EPOLLIN, .data.fd = cfd };
        if (!c || epoll_ctl(ctl->ctx->epfd, EPOLL_CTL_ADD, cfd, &ev)) {
            free(c);
            close(cfd);
            return;
        }
        setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        c->fd = cfd;
        ctl->clients[slot] = c;
        return;
    }
    for (unsigned slot = 0; slot < CTL_MAX_CLIENTS; slot++) {
        struct ctl_client *c = ctl->clients[slot];
        if (!c || c->fd != fd)
            continue;
        ssize_t r = recv(fd, c->buf + c->len, sizeof(c->buf) - c->len, MSG_DONTWAIT);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (r <= 0) {
            client_close(ctl, slot);
            return;
        }
        c->len += (size_t)r;
        if (!client_lines(ctl, c))
            client_close(ctl, slot);
        return;
    }
}

bool nbd_ctl_owns(const struct nbd_ctl *ctl, int fd)
{
    if (!ctl)
        return false;
    if (fd == ctl->listen_fd)
        return true;
    for (unsigned i = 0; i < CTL_MAX_CLIENTS; i++)
        if (ctl->clients[i] && ctl->clients[i]->fd == fd)
            return true;
    return false;
}

struct nbd_ctl *nbd_ctl_open(struct nbd_ctx *ctx, const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct nbd_ctl *ctl = calloc(1, sizeof(*ctl));
    struct epoll_event ev = { .events = EPOLLIN };

    if (!ctl)
        return NULL;
    ctl->ctx = ctx;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        nbd_log(NBD_LOG_ERR, "control socket path too long: %s", path);
        free(ctl);
        return NULL;
    }
    strcpy(sa.sun_path, path);
    ctl->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    unlink(path);
    if (ctl->listen_fd < 0 || bind(ctl->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) ||
        chmod(path, 0600) || listen(ctl->listen_fd, 16)) {
        nbd_log(NBD_LOG_ERR, "control socket %s: %s", path, strerror(errno));
        if (ctl->listen_fd >= 0)
            close(ctl->listen_fd);
        free(ctl);
        return NULL;
    }
    ev.data.fd = ctl->listen_fd;
    epoll_ctl(ctx->epfd, EPOLL_CTL_ADD, ctl->listen_fd, &ev);
    nbd_log(NBD_LOG_INFO, "control socket %s", path);
    return ctl;
}

void nbd_ctl_close(struct nbd_ctl *ctl, const char *path)
{
    if (!ctl)
        return;
    for (unsigned i = 0; i < CTL_MAX_CLIENTS; i++)
        if (ctl->clients[i])
            client_close(ctl, i);
    close(ctl->listen_fd);
    unlink(path);
    free(ctl);
}
