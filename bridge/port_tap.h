/* tap port: a Linux tap device (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR) so
 * that dom0's own networking, or a Linux bridge, sees the bridge's traffic
 * as the vifX.Y device shows a guest's with xl's vif-bridge script.
 * Offloads cross through the virtio-net header: egress takes CSUM and
 * TSO4/TSO6 packets as they are and the kernel finishes them.
 *
 * Lifecycle: nb_tap_port_new() creates the device (and enslaves it to
 * linux_bridge if given, then sets it up); nb_bridge_add_port(); then
 * nb_tap_port_start() runs the receive thread that feeds nb_bridge_input().
 * nb_bridge_del_port() stops the thread and closes the device. */
#ifndef NB_PORT_TAP_H
#define NB_PORT_TAP_H

#include "bridge/pkt.h"
#include "bridge/port.h"

struct nb_tap_config {
    const char *ifname;         /* device name (IFNAMSIZ-1 at most); NULL/"": kernel picks */
    const char *linux_bridge;   /* Linux bridge to join, or NULL */
    unsigned mtu;               /* 0: leave the kernel's default */
    int no_offload;             /* nonzero: no TSO from the kernel, full checksums only */
};

/* Returns 0 and the port, or a negative errno (-ENOENT: no /dev/net/tun;
 * -ENODEV: no such Linux bridge; -EPERM: not allowed). pool feeds the
 * receive side. */
int nb_tap_port_new(const struct nb_tap_config *cfg, struct nb_pkt_pool *pool,
                    struct nb_port **out);
/* Starts receiving; the port must be attached to a bridge. */
int nb_tap_port_start(struct nb_port *port);
/* The kernel's name for the device. */
const char *nb_tap_port_ifname(const struct nb_port *port);
/* Frees a port that was never attached. */
void nb_tap_port_free(struct nb_port *port);

#endif
