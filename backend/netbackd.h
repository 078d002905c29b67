/* The daemon's context: everything netbackd owns lives here (no globals). */
#ifndef NBD_NETBACKD_H
#define NBD_NETBACKD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/fe_config.h"
#include "backend/vif.h"

struct xs_handle;
struct nbd_ctl;
struct nb_bridge;
struct nb_switchboard;
struct nbd_plane;

struct nbd_settings {
    enum nbd_worker_mode mode;      /* default for new vifs */
    unsigned max_queues;            /* multi-queue-max-queues: min(8, CPUs) */
    int cpus[NBD_MAX_QUEUES];       /* worker pinning for busy-poll, by queue */
    unsigned n_cpus;
    uint64_t rx_backlog_bytes;      /* per queue, XSA-392: 512 KiB */
    unsigned rx_drain_timeout_ms;   /* queued RX packets expire (10 s) */
    unsigned rx_stall_timeout_ms;   /* guest without RX slots (60 s) */
    unsigned pool_pkts;             /* TX buffers per queue */
    char ctl_path[108];
    char default_bridge[64];        /* for vifs whose `bridge` key is absent */
    bool linux_bridge_taps;         /* a `bridge` naming a Linux bridge: vifX.Y tap on it */
    char config_file[256];
};

struct nbd_ctx {
    struct xs_handle *xsh;
    unsigned own_domid;
    char dom_path[64];              /* /local/domain/<own domid> */
    char vif_base[96];              /* <dom_path>/backend/vif */
    int epfd;
    int timer_fd;                   /* housekeeping, 1 s */
    int signal_fd;
    bool stop;
    struct nbd_settings set;
    struct nbd_vif *vifs;
    struct nbd_ctl *ctl;
    struct nb_switchboard *sb;      /* the bridges, by name */
    struct nbd_plane *plane;        /* config/control ports, vif-bridge taps (plane.h) */
    uint64_t xs_garbage;            /* malformed xenstore input seen */
};

void nbd_settings_default(struct nbd_settings *s);

/* bridges.c: the bridge of that name, created on first use (NULL, errno). */
struct nb_bridge *nbd_bridge_get(struct nbd_ctx *ctx, const char *name);
/* The bridge vif joins, from vif->bridge_name, in this order: a netbackd
 * bridge of that name; else (settings.linux_bridge_taps) a Linux bridge of
 * that name in dom0, reached through a tap vif<domid>.<devid> enslaved to
 * it and a private netbackd bridge (xl's vif-bridge layout); else a new
 * netbackd bridge of that name. NULL with the reason in err. */
/* What a vif's `bridge` key means (docs/control.md, "Which bridge a vif
 * joins"): a key naming an existing netbackd or (linux_bridge_taps) Linux
 * bridge, or without '.' and ':', is that name, no VLAN; otherwise it must
 * be vif-openvswitch's NAME.VID / NAME:VID:... on a NAME that is not a
 * Linux bridge. 0, or -EINVAL with the reason in err. */
struct nbd_bridge_key;
int nbd_bridge_key_resolve(struct nbd_ctx *ctx, const char *key, struct nbd_bridge_key *out,
                           char *err, size_t errlen);
struct nb_bridge *nbd_bridge_for_vif(struct nbd_ctx *ctx, struct nbd_vif *vif, char *err,
                                     size_t errlen);
/* Undoes what nbd_bridge_for_vif made for vif alone (its tap and private
 * bridge), once the vif's port has left. Harmless when there is nothing. */
void nbd_bridge_vif_left(struct nbd_ctx *ctx, struct nbd_vif *vif);
/* Gives vif's tap on a Linux bridge, if it has one, the vif's mtu now (a
 * live change of the `mtu` key, as `ip link set vifX.Y mtu` on a Linux
 * dom0; the Linux bridge then follows its ports). Harmless without one. */
void nbd_bridge_vif_mtu(struct nbd_ctx *ctx, struct nbd_vif *vif);
/* Removes every vif-bridge tap still there (shutdown). */
void nbd_bridge_vif_taps_free(struct nbd_ctx *ctx);

/* xenbus.c: everything driven by xenstore watches (main thread). */
int nbd_xenbus_start(struct nbd_ctx *ctx);
void nbd_xenbus_handle_watch(struct nbd_ctx *ctx);
void nbd_xenbus_housekeeping(struct nbd_ctx *ctx);
void nbd_xenbus_shutdown(struct nbd_ctx *ctx);
struct nbd_vif *nbd_vif_find(struct nbd_ctx *ctx, unsigned domid, unsigned devid);

#endif
