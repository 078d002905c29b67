/* The vif as a bridge port (see vif_port.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backend/log.h"
#include "backend/netbackd.h"
#include "backend/vif_port.h"
#include "bridge/bridge.h"
#include "bridge/offload.h"
#include "ring/toeplitz.h"

#define NBD_VLAN_HLEN 4u

/* Spreads flows over queues when the guest configured no hash of its own:
 * Toeplitz with a fixed key over addresses and TCP ports. */
static uint32_t nbd_flow_hash(const struct nb_pkt *pkt)
{
    static const uint8_t key[40] = {
        0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
        0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
        0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
    };
    uint8_t in[NETIF_HASH_INPUT_MAX];
    unsigned len;
    uint8_t type;

    if (!netif_hash_input(pkt->data, pkt->len, NETIF_CTRL_HASH_TYPES_SUPPORTED, in, &len, &type))
        return 0;
    return netif_toeplitz(key, sizeof(key), in, len);
}

struct nbd_queue *nbd_vif_select_queue(struct nbd_vif *vif, struct nbd_rx_entry *e)
{
    unsigned qi = 0;

    e->has_hash = false;
    if (vif->has_ctrl) {
        pthread_mutex_lock(&vif->ctrl_lock);
        e->has_hash = netif_ctrl_hash(&vif->ctrl, e->pkt->data, e->pkt->len, &e->hash,
                                      &e->hash_type);
        if (e->has_hash)
            qi = netif_ctrl_select_queue(&vif->ctrl, e->hash);
        pthread_mutex_unlock(&vif->ctrl_lock);
    }
    if (!e->has_hash && vif->num_queues > 1)
        qi = (e->pkt->flags & NB_PKT_HASH_VALID ? e->pkt->hash : nbd_flow_hash(e->pkt))
             % vif->num_queues;
    return vif->queues[qi < vif->num_queues ? qi : 0];
}

static bool mcast_filtered(struct nbd_vif *vif, const struct nb_pkt *pkt)
{
    bool pass;

    /* the main thread may flip it (dynamic multicast control) */
    if (!__atomic_load_n(&vif->fe.mcast_control, __ATOMIC_RELAXED) || pkt->len < 6)
        return false;
    pthread_mutex_lock(&vif->mcast_lock);
    pass = netif_mcast_pass(&vif->mcast, pkt->data);
    pthread_mutex_unlock(&vif->mcast_lock);
    return !pass;
}

/* Whether a frame may be delivered to the guest, as Linux's bridge decides
 * before handing a frame to the vif (br_dev_queue_push_xmit ->
 * is_skb_forwardable): up to mtu + ETH_HLEN + VLAN_HLEN bytes, whether or not
 * the frame carries a tag. On a trunk port the tag is the bridge's own (Linux
 * keeps it out of the frame with vlan_filtering), so a tagged frame gets its
 * 4 bytes on top. A frontend without feature-sg has an mtu of at most 1500
 * (xenvif_carrier_on). Linux passes every GSO frame; here a GSO frame is
 * judged by the frames it stands for (headers + gso_size), so a guest that
 * takes TSO gets the verdict a guest that doesn't gets on the bridge's
 * software segments. A GSO frame whose headers don't parse is left to the
 * RX path's own checks. */
static bool fits_mtu(const struct nbd_vif *vif, const struct nb_pkt *pkt)
{
    unsigned mtu = atomic_load_explicit(&vif->mtu, memory_order_relaxed);
    unsigned len = pkt->len, limit;
    struct nb_l4_info l4;

    if (!vif->fe.sg && mtu > NBD_MTU_DEFAULT)
        mtu = NBD_MTU_DEFAULT;
    limit = mtu + NETIF_ETH_HLEN + NBD_VLAN_HLEN;
    if (len <= limit)
        return true;
    if (pkt->gso_type != NB_GSO_NONE) {
        if (nb_offload_parse(pkt, &l4))
            return true;
        len = (unsigned)l4.l4_off + l4.l4_hdr_len + pkt->gso_size;
    }
    if (vif->port.vlan_mode == NB_VLAN_TRUNK && pkt->len >= NETIF_ETH_HLEN &&
        pkt->data[12] == 0x81 && pkt->data[13] == 0x00)
        len -= NBD_VLAN_HLEN;
    return len <= limit;
}

/* Egress: called by any ingress thread. Packets are grouped per queue so a
 * single-queue vif takes the backlog lock once per burst. */
static void vif_tx_burst(struct nb_port *port, struct nb_pkt **pkts, unsigned n)
{
    struct nbd_vif *vif = port->priv;
    struct nbd_rx_entry batch[NB_BURST];
    struct nbd_queue *cur = NULL;
    unsigned nb = 0;

    for (unsigned i = 0; i < n; i++) {
        struct nbd_rx_entry e = { .pkt = pkts[i] };
        struct nbd_queue *q = nbd_vif_select_queue(vif, &e);

        if (!fits_mtu(vif, e.pkt)) {
            __atomic_fetch_add(&q->stats.rx_drop_mtu, 1, __ATOMIC_RELAXED);   /* many writers */
            nb_pkt_free(e.pkt);
            continue;
        }
        if (mcast_filtered(vif, e.pkt)) {
            __atomic_fetch_add(&q->stats.rx_drop_filter, 1, __ATOMIC_RELAXED);   /* many writers */
            nb_pkt_free(e.pkt);
            continue;
        }
        /* the port takes blank checksums if the guest takes them for
         * either family: complete those of the other one here */
        if (nb_offload_csum_for(&e.pkt, vif->fe.ipv4_csum, vif->fe.ipv6_csum)) {
            __atomic_fetch_add(&q->stats.rx_drop_offload, 1, __ATOMIC_RELAXED);   /* many writers */
            nb_pkt_free(e.pkt);
            continue;
        }
        if (q != cur && nb) {
            nbd_rx_enqueue(cur, batch, nb);
            nb = 0;
        }
        cur = q;
        batch[nb++] = e;
        if (nb == NB_BURST) {
            nbd_rx_enqueue(cur, batch, nb);
            nb = 0;
        }
    }
    if (nb)
        nbd_rx_enqueue(cur, batch, nb);
}

/* Carrier: down when the guest disabled itself or stopped taking packets. */
static int vif_link_up(struct nb_port *port)
{
    struct nbd_vif *vif = port->priv;

    if (atomic_load_explicit(&vif->disabled, memory_order_relaxed))
        return 0;
    for (unsigned i = 0; i < vif->num_queues; i++)
        if (__atomic_load_n(&vif->queues[i]->rx_stalled, __ATOMIC_RELAXED))
            return 0;
    return 1;
}

static const struct nb_port_ops vif_port_ops = {
    .kind = "vif",
    .tx_burst = vif_tx_burst,
    .link_up = vif_link_up,
    .destroy = NULL,   /* the vif owns the port's memory */
};

int nbd_vif_port_attach(struct nbd_vif *vif, char *err, size_t errlen)
{
    struct nb_port *port = &vif->port;
    struct nb_bridge *br = nbd_bridge_for_vif(vif->ctx, vif, err, errlen);
    int rc;

    if (!br)
        return -ENOENT;
    memset(port, 0, sizeof(*port));
    port->ops = &vif_port_ops;
    snprintf(port->name, sizeof(port->name), "%s", vif->name);
    port->priv = vif;
    /* The VLAN the `bridge` key asked for (nbd_bridge_for_vif resolved it). */
    port->vlan_mode = vif->vlan.mode;
    if (vif->vlan.mode == NB_VLAN_ACCESS)
        port->access_vlan = vif->vlan.vids[0];
    for (unsigned i = 0; vif->vlan.mode == NB_VLAN_TRUNK && i < vif->vlan.n_vids; i++)
        nb_port_trunk_allow(port, vif->vlan.vids[i]);
    /* What the guest takes as is; the bridge completes or segments the
     * rest. The port model has one checksum flag: it is set when the guest
     * takes blank checksums of either family, and vif_tx_burst completes
     * those of a family it doesn't (Linux: xenvif_fix_features keeps
     * NETIF_F_IP_CSUM / NETIF_F_IPV6_CSUM apart). TSO needs the checksum
     * offload of its own family, as netdev_fix_features requires. */
    if (vif->fe.ipv4_csum || vif->fe.ipv6_csum)
        port->offloads |= NB_PORT_OFF_CSUM;
    if (vif->fe.ipv4_csum && vif->rx_caps.gso_tcpv4)
        port->offloads |= NB_PORT_OFF_TSO4;
    if (vif->fe.ipv6_csum && vif->rx_caps.gso_tcpv6)
        port->offloads |= NB_PORT_OFF_TSO6;
    if ((rc = nb_bridge_add_port(br, port))) {
        snprintf(err, errlen, "bridge %s: adding port %s: %s", vif->vlan.name,
                 vif->name, strerror(-rc));
        nbd_bridge_vif_left(vif->ctx, vif);
        return rc;
    }
    vif->port_added = true;
    return 0;
}

void nbd_vif_port_detach(struct nbd_vif *vif)
{
    if (!vif->port_added)
        return;
    nb_bridge_del_port(vif->port.bridge, &vif->port);
    vif->port_added = false;
    nbd_bridge_vif_left(vif->ctx, vif);
}

void nbd_vif_port_input(struct nbd_vif *vif, struct nb_pkt **pkts, unsigned n)
{
    nb_bridge_input(vif->port.bridge, &vif->port, pkts, n);
}
