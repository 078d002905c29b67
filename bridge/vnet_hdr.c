#include "bridge/vnet_hdr.h"

#include <errno.h>
#include <string.h>

int nb_vnethdr2pkt(const struct virtio_net_hdr *h, struct nb_pkt *pkt)
{
    uint8_t gso = h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;

    pkt->flags &= ~(uint32_t)(NB_PKT_CSUM_PARTIAL | NB_PKT_DATA_VALID);
    pkt->gso_type = NB_GSO_NONE;
    pkt->gso_size = 0;
    if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        if ((uint32_t)h->csum_start + h->csum_offset + 2u > pkt->len)
            return -EINVAL;
        pkt->flags |= NB_PKT_CSUM_PARTIAL;
        pkt->csum_start = h->csum_start;
        pkt->csum_offset = h->csum_offset;
    } else if (h->flags & VIRTIO_NET_HDR_F_DATA_VALID) {
        pkt->flags |= NB_PKT_DATA_VALID;
    }
    switch (gso) {
    case VIRTIO_NET_HDR_GSO_NONE:
        return 0;
    case VIRTIO_NET_HDR_GSO_TCPV4:
        pkt->gso_type = NB_GSO_TCPV4;
        break;
    case VIRTIO_NET_HDR_GSO_TCPV6:
        pkt->gso_type = NB_GSO_TCPV6;
        break;
    default:
        return -EPROTONOSUPPORT;
    }
    if (h->gso_size == 0 || !(pkt->flags & NB_PKT_CSUM_PARTIAL)) {
        pkt->gso_type = NB_GSO_NONE;
        return -EINVAL;
    }
    pkt->gso_size = h->gso_size;
    return 0;
}

void nb_pkt2vnethdr(const struct nb_pkt *pkt, struct virtio_net_hdr *h)
{
    memset(h, 0, sizeof(*h));
    if (pkt->flags & NB_PKT_CSUM_PARTIAL) {
        h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
        h->csum_start = pkt->csum_start;
        h->csum_offset = pkt->csum_offset;
    } else if (pkt->flags & NB_PKT_DATA_VALID) {
        h->flags = VIRTIO_NET_HDR_F_DATA_VALID;
    }
    if (pkt->gso_type == NB_GSO_TCPV4 || pkt->gso_type == NB_GSO_TCPV6) {
        h->gso_type = pkt->gso_type == NB_GSO_TCPV4 ? VIRTIO_NET_HDR_GSO_TCPV4
                                                     : VIRTIO_NET_HDR_GSO_TCPV6;
        h->gso_size = pkt->gso_size;
        /* hdr_len is only a hint to the kernel (0 is fine); give the real
         * L2-L4 length when the TCP header is there to read. */
        if ((pkt->flags & NB_PKT_CSUM_PARTIAL) && pkt->csum_start + 13u < pkt->len)
            h->hdr_len = (uint16_t)(pkt->csum_start + (pkt->data[pkt->csum_start + 12] >> 4) * 4u);
    }
}
