/* Software checksum and TCP segmentation. Sums are kept in memory byte order
 * (RFC 1071 §2(B)), so constants joining a sum go in as htons() values and
 * results are stored with memcpy, never through integer byte swapping. */
#include "bridge/offload.h"
#include "bridge/wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#define ETH_HLEN 14
#define VLAN_HLEN 4
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_8021Q 0x8100

#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80

uint64_t nb_csum_add(uint64_t sum, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    uint32_t w;
    uint16_t h;

    while (len >= 4) {
        memcpy(&w, p, 4);
        sum += w;
        p += 4;
        len -= 4;
    }
    if (len >= 2) {
        memcpy(&h, p, 2);
        sum += h;
        p += 2;
        len -= 2;
    }
    if (len) {
        uint8_t last[2] = { *p, 0 };
        memcpy(&h, last, 2);
        sum += h;
    }
    return sum;
}

uint16_t nb_csum_fold(uint64_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* IPv6 extension headers that may sit between the fixed header and L4. */
static int ipv6_skip_ext(const uint8_t *d, uint32_t len, uint32_t *off, uint8_t *next)
{
    for (int hops = 0; hops < 8; hops++) {
        switch (*next) {
        case IPPROTO_HOPOPTS:
        case IPPROTO_ROUTING:
        case IPPROTO_DSTOPTS:
            if (*off + 8 > len)
                return -EBADMSG;
            *next = d[*off];
            *off += 8u * (d[*off + 1] + 1u);
            break;
        case IPPROTO_FRAGMENT:
            return -EPROTONOSUPPORT;
        default:
            return 0;
        }
    }
    return -EPROTONOSUPPORT;
}

int nb_offload_parse(const struct nb_pkt *pkt, struct nb_l4_info *info)
{
    const uint8_t *d = pkt->data;
    uint32_t len = pkt->len, off = ETH_HLEN;
    uint16_t type;
    uint8_t proto;

    if (len < ETH_HLEN)
        return -EBADMSG;
    type = nb_rd16(d + 12);
    if (type == ETHERTYPE_8021Q) {
        if (len < ETH_HLEN + VLAN_HLEN)
            return -EBADMSG;
        type = nb_rd16(d + 16);
        off += VLAN_HLEN;
    }
    info->l3_off = (uint16_t)off;
    if (type == ETHERTYPE_IPV4) {
        uint32_t ihl;
        if (off + 20 > len)
            return -EBADMSG;
        if ((d[off] >> 4) != 4)
            return -EBADMSG;
        ihl = (d[off] & 0xfu) * 4u;
        if (ihl < 20 || off + ihl > len)
            return -EBADMSG;
        if (nb_rd16(d + off + 6) & 0x3fff)      /* MF or a fragment offset */
            return -EPROTONOSUPPORT;
        proto = d[off + 9];
        info->ip_version = 4;
        off += ihl;
    } else if (type == ETHERTYPE_IPV6) {
        int rc;
        if (off + 40 > len)
            return -EBADMSG;
        if ((d[off] >> 4) != 6)
            return -EBADMSG;
        proto = d[off + 6];
        off += 40;
        rc = ipv6_skip_ext(d, len, &off, &proto);
        if (rc)
            return rc;
        info->ip_version = 6;
    } else {
        return -EPROTONOSUPPORT;
    }
    info->l4_off = (uint16_t)off;
    info->l4_proto = proto;
    if (proto == IPPROTO_TCP) {
        uint32_t doff;
        if (off + 20 > len)
            return -EBADMSG;
        doff = (d[off + 12] >> 4) * 4u;
        if (doff < 20 || off + doff > len)
            return -EBADMSG;
        info->l4_hdr_len = (uint16_t)doff;
    } else if (proto == IPPROTO_UDP) {
        if (off + 8 > len)
            return -EBADMSG;
        info->l4_hdr_len = 8;
    } else {
        return -EPROTONOSUPPORT;
    }
    return 0;
}

/* The pseudo-header sum for an L4 segment of l4_len bytes. */
static uint64_t pseudo_sum(const uint8_t *d, const struct nb_l4_info *info, uint32_t l4_len)
{
    const uint8_t *ip = d + info->l3_off;
    uint64_t sum = 0;
    uint16_t proto = htons(info->l4_proto);
    uint32_t be_len = htonl(l4_len);

    if (info->ip_version == 4)
        sum = nb_csum_add(sum, ip + 12, 8);
    else
        sum = nb_csum_add(sum, ip + 8, 32);
    sum += proto;
    return nb_csum_add(sum, &be_len, 4);
}

/* L4 length as the IP header states it, bounded by the frame. */
static int l4_length(const struct nb_pkt *pkt, const struct nb_l4_info *info, uint32_t *l4_len)
{
    const uint8_t *ip = pkt->data + info->l3_off;
    uint32_t end;

    if (info->ip_version == 4)
        end = info->l3_off + (uint32_t)nb_rd16(ip + 2);
    else
        end = info->l3_off + 40u + nb_rd16(ip + 4);
    if (end > pkt->len || end < (uint32_t)info->l4_off + info->l4_hdr_len)
        return -EBADMSG;
    *l4_len = end - info->l4_off;
    return 0;
}

/* Parses pkt down to L4 and the L4 length its IP header states. */
static int parse_l4(const struct nb_pkt *pkt, struct nb_l4_info *info, uint32_t *l4_len)
{
    int rc = nb_offload_parse(pkt, info);
    return rc ? rc : l4_length(pkt, info, l4_len);
}

static uint16_t csum_field_offset(uint8_t proto)
{
    return proto == IPPROTO_TCP ? 16 : 6;
}

int nb_offload_csum_setup(struct nb_pkt *pkt, bool fill_pseudo)
{
    struct nb_l4_info info;
    uint32_t l4_len;
    int rc = parse_l4(pkt, &info, &l4_len);

    if (rc)
        return rc;
    pkt->csum_start = info.l4_off;
    pkt->csum_offset = csum_field_offset(info.l4_proto);
    pkt->flags |= NB_PKT_CSUM_PARTIAL;
    pkt->flags &= ~(uint32_t)NB_PKT_DATA_VALID;
    if (fill_pseudo) {
        /* The field holds the folded, uncomplemented pseudo-header sum. */
        uint16_t v = (uint16_t)~nb_csum_fold(pseudo_sum(pkt->data, &info, l4_len));
        memcpy(pkt->data + pkt->csum_start + pkt->csum_offset, &v, 2);
    }
    return 0;
}

int nb_offload_csum_complete(struct nb_pkt *pkt)
{
    uint32_t start = pkt->csum_start, field = start + pkt->csum_offset;
    uint16_t v;

    if (!(pkt->flags & NB_PKT_CSUM_PARTIAL))
        return 0;
    if (start >= pkt->len || field + 2 > pkt->len)
        return -EBADMSG;
    v = nb_csum_fold(nb_csum_add(0, pkt->data + start, pkt->len - start));
    /* UDP sends an all-ones checksum when the sum is zero (RFC 768). */
    if (v == 0 && pkt->csum_offset == 6)
        v = 0xffff;
    memcpy(pkt->data + field, &v, 2);
    pkt->flags &= ~(uint32_t)NB_PKT_CSUM_PARTIAL;
    pkt->flags |= NB_PKT_DATA_VALID;
    return 0;
}

unsigned nb_offload_ip_version(const struct nb_pkt *pkt)
{
    uint16_t type;

    if (pkt->len < ETH_HLEN)
        return 0;
    type = nb_rd16(pkt->data + 12);
    if (type == ETHERTYPE_8021Q) {
        if (pkt->len < ETH_HLEN + 4)
            return 0;
        type = nb_rd16(pkt->data + 16);
    }
    return type == ETHERTYPE_IPV4 ? 4 : type == ETHERTYPE_IPV6 ? 6 : 0;
}

int nb_offload_csum_for(struct nb_pkt **pkt, bool ipv4, bool ipv6)
{
    struct nb_pkt *p = *pkt, *w;
    unsigned v;
    int rc;

    if (!(p->flags & NB_PKT_CSUM_PARTIAL) || p->gso_type != NB_GSO_NONE)
        return 0;
    v = nb_offload_ip_version(p);
    if ((v == 4 && ipv4) || (v == 6 && ipv6))
        return 0;
    if (!(w = nb_pkt_unshare(p)))
        return -ENOBUFS;
    *pkt = w;
    rc = nb_offload_csum_complete(w);
    return rc;
}

int nb_offload_csum_verify(const struct nb_pkt *pkt)
{
    struct nb_l4_info info;
    uint32_t l4_len;
    const uint8_t *d = pkt->data;
    int rc = parse_l4(pkt, &info, &l4_len);

    if (rc)
        return rc;
    if (info.ip_version == 4 &&
        nb_csum_fold(nb_csum_add(0, d + info.l3_off, info.l4_off - info.l3_off)) != 0)
        return -EBADMSG;
    if (info.ip_version == 4 && info.l4_proto == IPPROTO_UDP && nb_rd16(d + info.l4_off + 6) == 0)
        return 0;                                  /* no checksum sent */
    if (nb_csum_fold(nb_csum_add(pseudo_sum(d, &info, l4_len), d + info.l4_off, l4_len)) != 0)
        return -EBADMSG;
    return 0;
}

unsigned nb_offload_tso_count(const struct nb_pkt *pkt)
{
    if (!pkt->gso_size)
        return 1;
    return (pkt->len + pkt->gso_size - 1u) / pkt->gso_size;
}

static void set_ip_header(uint8_t *d, const struct nb_l4_info *info, uint32_t frame_len,
                          uint16_t id_delta)
{
    uint8_t *ip = d + info->l3_off;

    if (info->ip_version == 4) {
        uint16_t zero = 0, v;
        nb_wr16(ip + 2, (uint16_t)(frame_len - info->l3_off));
        nb_wr16(ip + 4, (uint16_t)(nb_rd16(ip + 4) + id_delta));
        memcpy(ip + 10, &zero, 2);
        v = nb_csum_fold(nb_csum_add(0, ip, info->l4_off - info->l3_off));
        memcpy(ip + 10, &v, 2);
    } else {
        nb_wr16(ip + 4, (uint16_t)(frame_len - info->l3_off - 40u));
    }
}

int nb_offload_tso_segment(const struct nb_pkt *pkt, struct nb_pkt **out, unsigned max)
{
    struct nb_l4_info info;
    uint32_t hdr_len, payload, mss = pkt->gso_size, seq;
    unsigned nseg, i;
    uint8_t flags;
    int rc;

    if (pkt->gso_type != NB_GSO_TCPV4 && pkt->gso_type != NB_GSO_TCPV6)
        return -EPROTONOSUPPORT;
    rc = nb_offload_parse(pkt, &info);
    if (rc)
        return rc;
    if (info.l4_proto != IPPROTO_TCP ||
        info.ip_version != (pkt->gso_type == NB_GSO_TCPV4 ? 4 : 6))
        return -EPROTONOSUPPORT;
    hdr_len = (uint32_t)info.l4_off + info.l4_hdr_len;
    payload = pkt->len - hdr_len;
    if (mss == 0 || payload == 0)
        return -EBADMSG;
    nseg = (payload + mss - 1) / mss;
    if (nseg > max)
        return -ENOSPC;
    seq = nb_rd32(pkt->data + info.l4_off + 4);
    flags = pkt->data[info.l4_off + 13];

    for (i = 0; i < nseg; i++) {
        uint32_t off = i * mss, chunk = payload - off < mss ? payload - off : mss;
        struct nb_pkt *s = nb_pkt_alloc(pkt->pool, hdr_len + chunk);
        uint8_t *tcp, f = flags;
        uint16_t zero = 0, v;

        if (!s) {
            nb_pkt_free_burst(out, i);
            return -ENOBUFS;
        }
        memcpy(s->data, pkt->data, hdr_len);
        memcpy(s->data + hdr_len, pkt->data + hdr_len + off, chunk);
        set_ip_header(s->data, &info, s->len, (uint16_t)i);
        tcp = s->data + info.l4_off;
        nb_wr32(tcp + 4, seq + off);
        if (i != nseg - 1)
            f &= (uint8_t)~(TCP_FIN | TCP_PSH);
        if (i != 0)
            f &= (uint8_t)~TCP_CWR;
        tcp[13] = f;
        memcpy(tcp + 16, &zero, 2);
        v = nb_csum_fold(nb_csum_add(pseudo_sum(s->data, &info, s->len - info.l4_off),
                                     tcp, s->len - info.l4_off));
        memcpy(tcp + 16, &v, 2);
        s->flags = NB_PKT_DATA_VALID | (pkt->flags & NB_PKT_HASH_VALID);
        s->hash = pkt->hash;
        s->hash_type = pkt->hash_type;
        s->vlan_tci = pkt->vlan_tci;
        out[i] = s;
    }
    return (int)nseg;
}
