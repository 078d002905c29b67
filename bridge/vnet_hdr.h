/* Converters between a packet's offload metadata and the virtio-net header
 * a tap device with IFF_VNET_HDR reads and writes (legacy layout, native
 * byte order, 10 bytes). Pure: no I/O. */
#ifndef NB_VNET_HDR_H
#define NB_VNET_HDR_H

#include <linux/virtio_net.h>
#include "bridge/pkt.h"

/* Fills pkt's flags/csum/gso fields from h; pkt->len must already be set.
 * -EINVAL for offsets outside the frame or a GSO frame without a size,
 * -EPROTONOSUPPORT for a GSO type the bridge does not carry (UDP). */
int nb_vnethdr2pkt(const struct virtio_net_hdr *h, struct nb_pkt *pkt);
/* The header that hands pkt's pending offloads to the kernel. */
void nb_pkt2vnethdr(const struct nb_pkt *pkt, struct virtio_net_hdr *h);

#endif
