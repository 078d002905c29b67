/* Runtime control of the forwarding plane: what the config file sets up at
 * start and what the daemon's control socket changes later (bridges, tap
 * and dpdk ports, captures) plus listings with counters. The daemon owns
 * one struct nb_plane (its switchboard, the packet pool for tap/dpdk
 * receive, the DPDK context once a dpdk port needs it). Calls are
 * serialised by the plane's lock; they run on control threads, never on a
 * datapath thread. Errors: 0 or a negative errno, reason text in err. */
#ifndef NB_BRIDGE_CTL_H
#define NB_BRIDGE_CTL_H

#include <jansson.h>
#include <stddef.h>

#include "bridge/config.h"
#include "bridge/pkt.h"
#include "bridge/switchboard.h"

struct nb_plane;

/* sb and pool stay the caller's; the plane frees the ports it made. */
struct nb_plane *nb_plane_new(struct nb_switchboard *sb, struct nb_pkt_pool *pool);
void nb_plane_free(struct nb_plane *plane);

/* Creates every bridge and port of cfg, then starts the ports' receive
 * threads. All or nothing: on any error, what this call made is removed
 * again. The EAL arguments are kept for the first dpdk port. */
int nb_plane_apply(struct nb_plane *plane, const struct nb_config *cfg, char *err, size_t errlen);

int nb_plane_add_bridge(struct nb_plane *plane, const char *name, unsigned aging_sec,
                        char *err, size_t errlen);
/* -EBUSY while the bridge still has ports. */
int nb_plane_del_bridge(struct nb_plane *plane, const char *name, char *err, size_t errlen);
/* Creates, attaches and starts a tap or dpdk port (and its capture). */
int nb_plane_add_port(struct nb_plane *plane, const struct nb_config_port *p, char *err,
                      size_t errlen);
/* Deletes a tap/dpdk port by name (vif ports go with their guest: -EPERM). */
int nb_plane_del_port(struct nb_plane *plane, const char *name, char *err, size_t errlen);
/* Starts (path) or stops (NULL) capturing any port's traffic, vifs included. */
int nb_plane_set_capture(struct nb_plane *plane, const char *port, const char *path,
                         char *err, size_t errlen);

/* Control-socket commands: each takes the request object and returns
 * {"ok":true,...} or {"ok":false,"error":"..."} (docs/control.md):
 *   bridge-add   {"name":S, "aging":N?}
 *   bridge-del   {"name":S}
 *   port-add     {"name":S, "kind":"tap"|"dpdk", "bridge":S, "vlan":{...}?,
 *                 "linux_bridge":S?, "mtu":N?, "offload":B?, "devargs":S?,
 *                 "busy_poll":B?, "capture":S?}
 *   port-del     {"name":S}
 *   capture      {"port":S, "file":S|null}
 *   port-list    {"bridge":S?}  -> "bridges":[{name, aging, ports:[{name, kind,
 *                 link, vlan, offloads, capture, rx_packets, rx_bytes, tx_packets,
 *                 tx_bytes, drops:{reason:N}}]}] */
json_t *nb_ctl_bridge_add(struct nb_plane *plane, json_t *req);
json_t *nb_ctl_bridge_del(struct nb_plane *plane, json_t *req);
json_t *nb_ctl_port_add(struct nb_plane *plane, json_t *req);
json_t *nb_ctl_port_del(struct nb_plane *plane, json_t *req);
json_t *nb_ctl_capture(struct nb_plane *plane, json_t *req);
json_t *nb_ctl_port_list(struct nb_plane *plane, json_t *req);

/* One port as port-list shows it, for the daemon's own listings; call it
 * from an nb_bridge_foreach_port() callback (the port's capture is only
 * stable under the bridge's lock). */
json_t *nb_ctl_port_json(struct nb_port *port);

#endif
