/* Port kinds behind one vtable. Lifecycle: a kind's constructor returns a
 * port with ops set; nb_bridge_add_port() attaches it; from then on the
 * port's own receive thread calls nb_bridge_input() and the bridge calls
 * ops->tx_burst() from any ingress thread; nb_bridge_del_port() detaches it
 * and waits until no thread is inside tx_burst for it, then calls
 * ops->destroy(). Errors: 0 or a negative errno. */
#ifndef NB_PORT_H
#define NB_PORT_H

#include <stdint.h>
#include "bridge/pkt.h"

enum nb_port_offloads {
    NB_PORT_OFF_CSUM = 1u << 0,   /* egress takes CSUM_PARTIAL packets */
    NB_PORT_OFF_TSO4 = 1u << 1,   /* egress takes NB_GSO_TCPV4 packets */
    NB_PORT_OFF_TSO6 = 1u << 2,   /* egress takes NB_GSO_TCPV6 packets */
};

enum nb_drop_reason {
    NB_DROP_NO_BUFFER,     /* queue full / no room at the destination */
    NB_DROP_VLAN,          /* VLAN not allowed on this port */
    NB_DROP_MALFORMED,     /* too short, bad headers */
    NB_DROP_LINK_DOWN,     /* destination carrier down */
    NB_DROP_FILTER,        /* multicast filter, rate limit */
    NB_DROP_OFFLOAD,       /* software fallback failed */
    NB_DROP_HAIRPIN,       /* unicast to a MAC learnt on its own ingress port */
    NB_DROP__COUNT
};

struct nb_port_stats {
    uint64_t rx_packets, rx_bytes;   /* into the bridge from this port */
    uint64_t tx_packets, tx_bytes;   /* out of the bridge to this port */
    uint64_t drops[NB_DROP__COUNT];
};

struct nb_port;
struct nb_bridge;
struct nb_capture;

struct nb_port_ops {
    const char *kind;                               /* "vif", "tap", "dpdk", "capture" */
    /* Takes ownership of all n packets. May be called concurrently from
     * several ingress threads: the port serialises internally. */
    void (*tx_burst)(struct nb_port *port, struct nb_pkt **pkts, unsigned n);
    /* Link state for carrier reporting; NULL means always up. */
    int (*link_up)(struct nb_port *port);
    void (*destroy)(struct nb_port *port);
    /* Optional multicast filter (a vif implements it from the guest's
     * XEN_NETIF_CTRL multicast list): nonzero if flooded multicast to mac
     * may go out of this port. NULL means every group is accepted.
     * Broadcast never asks. Called from ingress threads, concurrently. */
    int (*accepts_mcast)(struct nb_port *port, const uint8_t mac[6]);
};

/* VLAN 0 inside a bridge is its untagged domain.
 * NONE:   frames pass as they are (any in-band tag untouched), in VLAN 0.
 * ACCESS: untagged or priority-tagged frames join access_vlan; frames tagged
 *         with any other VID are dropped; egress carries access_vlan only,
 *         untagged.
 * TRUNK:  a frame tagged with an allowed VID loses its tag and joins that
 *         VLAN; untagged frames join VLAN 0 when bit 0 of trunk_allowed is
 *         set (the "native" untagged domain); egress pushes an 802.1Q tag
 *         for every VID but 0. Use nb_port_trunk_allow() to fill the map. */
enum nb_vlan_mode { NB_VLAN_NONE = 0, NB_VLAN_ACCESS, NB_VLAN_TRUNK };

struct nb_port {
    const struct nb_port_ops *ops;
    char name[64];
    uint32_t offloads;            /* enum nb_port_offloads for egress */
    enum nb_vlan_mode vlan_mode;
    uint16_t access_vlan;         /* ACCESS: tag on ingress, strip on egress */
    uint8_t  trunk_allowed[4096 / 8]; /* TRUNK: allowed VLAN bitmap */
    struct nb_bridge *bridge;     /* set by nb_bridge_add_port */
    struct nb_port_stats stats;   /* counted by the bridge (atomically) */
    void *priv;                   /* the kind's own state */
    /* Owned by the bridge: zero-initialise and leave alone. */
    unsigned bridge_slot;         /* index in the bridge's port table */
    struct nb_capture *_Atomic capture; /* mirror of both directions, or NULL */
};

/* Counts n packets a port dropped itself (e.g. tx_burst with a full queue).
 * Safe from any thread. */
static inline void nb_port_count_drop(struct nb_port *port, enum nb_drop_reason why,
                                      unsigned n)
{
    __atomic_fetch_add(&port->stats.drops[why], n, __ATOMIC_RELAXED);
}

static inline void nb_port_trunk_allow(struct nb_port *port, uint16_t vid)
{
    port->trunk_allowed[(vid & 4095) / 8] |= (uint8_t)(1u << (vid % 8));
}

static inline int nb_port_trunk_allowed(const struct nb_port *port, uint16_t vid)
{
    return (port->trunk_allowed[(vid & 4095) / 8] >> (vid % 8)) & 1;
}

#endif
