/* dpdk port: any DPDK ethdev named by devargs (a PCI NIC bound to
 * vfio-pci, or a vdev: net_ring, net_pcap, net_null, net_tap, net_vhost,
 * net_memif, net_af_packet). Frames are copied between nb_pkt and mbufs;
 * the device's TX checksum and TSO offloads are used where it reports them
 * (port->offloads says so, and the bridge does the rest in software).
 *
 * Lifecycle: nb_dpdk_open() initialises the EAL once per process from the
 * configured arguments (works with --no-huge); nb_dpdk_port_new() probes,
 * configures and starts the device; nb_bridge_add_port(); then
 * nb_dpdk_port_start() runs the receive thread. nb_bridge_del_port() stops
 * the thread, stops, closes and removes the device.
 *
 * In a build without DPDK (HAVE_DPDK unset) every call fails with
 * -ENOTSUP after printing why. */
#ifndef NB_PORT_DPDK_H
#define NB_PORT_DPDK_H

#include "bridge/pkt.h"
#include "bridge/port.h"

struct nb_dpdk;

/* Whether this build can make dpdk ports at all. */
int nb_dpdk_available(void);

/* argv-style EAL arguments (without a program name). The EAL lives as long
 * as the process: nb_dpdk_close() frees the mbuf pool only. */
int nb_dpdk_open(const char *const *eal_args, unsigned n_args, struct nb_dpdk **out);
void nb_dpdk_close(struct nb_dpdk *dpdk);

struct nb_dpdk_port_config {
    const char *name;         /* the port's name on the bridge */
    const char *devargs;      /* e.g. "net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap" */
    unsigned ring_size;       /* descriptors per queue; 0: 1024 */
    int busy_poll;            /* nonzero: the receive thread never sleeps */
};

int nb_dpdk_port_new(struct nb_dpdk *dpdk, const struct nb_dpdk_port_config *cfg,
                     struct nb_pkt_pool *pool, struct nb_port **out);
int nb_dpdk_port_start(struct nb_port *port);
/* Frees a port that was never attached. */
void nb_dpdk_port_free(struct nb_port *port);

#endif
