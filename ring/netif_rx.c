/* Packets for a guest -> slot plans in its posted RX buffers. See
 * netif_rx.h for the layout netfront relies on. */
#include "ring/netif_rx.h"

int netif_rx_copy_requests(const netif_rx_back_ring_t *ring,
                           netif_rx_request_t *reqs, unsigned max,
                           unsigned *produced)
{
    RING_IDX prod = __atomic_load_n(&ring->sring->req_prod, __ATOMIC_ACQUIRE);
    RING_IDX cons = ring->req_cons;
    unsigned size = RING_SIZE(ring);
    unsigned pending = prod - cons;

    if (pending > size) {
        *produced = 0;
        return -1;
    }
    *produced = pending;
    unsigned n = pending < max ? pending : max;
    for (unsigned i = 0; i < n; i++)
        RING_COPY_REQUEST(ring, cons + i, &reqs[i]);
    return (int)n;
}

/* What a packet needs from this frontend, or why it cannot have it. */
struct rx_shape {
    unsigned data_slots;
    unsigned per_slot;    /* payload bytes per data slot */
    bool gso, hash;
    enum netif_rx_reason reason;
};

static bool gso_negotiated(const struct netif_rx_caps *caps, uint8_t type)
{
    return (type == XEN_NETIF_GSO_TYPE_TCPV4 && caps->gso_tcpv4) ||
           (type == XEN_NETIF_GSO_TYPE_TCPV6 && caps->gso_tcpv6);
}

static struct rx_shape rx_shape(const struct netif_rx_pkt_desc *pkt,
                                const struct netif_rx_caps *caps)
{
    struct rx_shape s = { 0 };

    if (caps->headroom > NETIF_RX_MAX_HEADROOM) {
        s.reason = NETIF_RX_R_BAD_HEADROOM;
        return s;
    }
    if (pkt->len == 0 || pkt->len > NETIF_RX_MAX_LEN) {
        s.reason = NETIF_RX_R_BAD_LEN;
        return s;
    }
    s.per_slot = NETIF_PAGE_SIZE - caps->headroom;
    s.data_slots = (pkt->len + s.per_slot - 1) / s.per_slot;
    if (s.data_slots > 1 && !caps->sg) {
        s.reason = NETIF_RX_R_NO_SG;
        return s;
    }
    if (pkt->gso_type != XEN_NETIF_GSO_TYPE_NONE) {
        if ((pkt->gso_type != XEN_NETIF_GSO_TYPE_TCPV4 &&
             pkt->gso_type != XEN_NETIF_GSO_TYPE_TCPV6) || pkt->gso_size == 0) {
            s.reason = NETIF_RX_R_BAD_GSO;
            return s;
        }
        if (!gso_negotiated(caps, pkt->gso_type)) {
            s.reason = NETIF_RX_R_GSO_NOT_NEG;
            return s;
        }
        s.gso = true;
    }
    s.hash = (pkt->flags & NETIF_RX_PKT_HASH) &&
             pkt->hash_type <= _XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP;
    return s;
}

unsigned netif_rx_slots_needed(const struct netif_rx_pkt_desc *pkt,
                               const struct netif_rx_caps *caps)
{
    struct rx_shape s = rx_shape(pkt, caps);
    if (s.reason != NETIF_RX_R_NONE)
        return 0;
    return s.data_slots + s.gso + s.hash;
}

static uint16_t slot0_flags(const struct netif_rx_pkt_desc *pkt,
                            unsigned nr_extras)
{
    uint16_t f = 0;
    /* The RX bits are swapped relative to TX; a partial checksum is also
     * reported validated, as Linux does. */
    if (pkt->flags & NETIF_RX_PKT_CSUM_PARTIAL)
        f |= NETRXF_csum_blank | NETRXF_data_validated;
    else if (pkt->flags & NETIF_RX_PKT_DATA_VALID)
        f |= NETRXF_data_validated;
    if (nr_extras)
        f |= NETRXF_extra_info;
    return f;
}

/* Fills one data slot from the packet's current position. */
static void plan_data_slot(struct netif_rx_plan *plan, unsigned slot,
                           const netif_rx_request_t *req,
                           const struct netif_rx_pkt_desc *pkt,
                           const struct rx_shape *s, uint16_t headroom,
                           uint32_t *src, uint16_t flags)
{
    uint32_t left = pkt->len - *src;
    uint32_t bytes = left < s->per_slot ? left : s->per_slot;
    uint32_t dst = headroom, end = headroom + bytes;

    while (dst < end) {
        uint32_t src_in_page = (pkt->src_page_off + *src) % NETIF_PAGE_SIZE;
        uint32_t chunk = end - dst;
        if (chunk > NETIF_PAGE_SIZE - src_in_page)
            chunk = NETIF_PAGE_SIZE - src_in_page;
        struct netif_rx_seg *g = &plan->seg[plan->nr_segs++];
        g->gref = req->gref;
        g->slot = (uint16_t)slot;
        g->dst_off = (uint16_t)dst;
        g->len = (uint16_t)chunk;
        g->src_off = *src;
        dst += chunk;
        *src += chunk;
    }
    if (*src < pkt->len)
        flags |= NETRXF_more_data;
    netif_rx_response_t *rsp = &plan->rsp[slot].rsp;
    rsp->id = req->id;
    rsp->offset = headroom;
    rsp->flags = flags;
    rsp->status = (int16_t)bytes;
}

enum netif_rx_verdict netif_rx_plan(const netif_rx_request_t *reqs,
                                    unsigned avail,
                                    const struct netif_rx_pkt_desc *pkt,
                                    const struct netif_rx_caps *caps,
                                    struct netif_rx_plan *plan)
{
    struct rx_shape s = rx_shape(pkt, caps);
    unsigned slot = 0;
    uint32_t src = 0;

    plan->nr_slots = plan->nr_segs = plan->nr_extras = 0;
    plan->reason = (uint8_t)s.reason;
    if (s.reason != NETIF_RX_R_NONE) {
        plan->verdict = NETIF_RX_DROP;
        return NETIF_RX_DROP;
    }
    unsigned extras = s.gso + s.hash;
    unsigned needed = s.data_slots + extras;
    if (avail < needed) {
        plan->verdict = NETIF_RX_NO_SPACE;
        return NETIF_RX_NO_SPACE;
    }

    plan_data_slot(plan, slot, &reqs[slot], pkt, &s, caps->headroom, &src,
                   slot0_flags(pkt, extras));
    slot++;
    /* Extras overlay the responses right after slot 0, GSO before HASH. */
    if (s.gso) {
        struct netif_extra_info *ex = &plan->rsp[slot].extra;
        memset(ex, 0, sizeof(*ex));
        ex->type = XEN_NETIF_EXTRA_TYPE_GSO;
        ex->flags = s.hash ? XEN_NETIF_EXTRA_FLAG_MORE : 0;
        ex->u.gso.size = pkt->gso_size;
        ex->u.gso.type = pkt->gso_type;
        slot++;
    }
    if (s.hash) {
        struct netif_extra_info *ex = &plan->rsp[slot].extra;
        memset(ex, 0, sizeof(*ex));
        ex->type = XEN_NETIF_EXTRA_TYPE_HASH;
        ex->u.hash.type = pkt->hash_type;
        ex->u.hash.algorithm = XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ;
        memcpy(ex->u.hash.value, &pkt->hash, sizeof(ex->u.hash.value));
        slot++;
    }
    while (src < pkt->len) {
        plan_data_slot(plan, slot, &reqs[slot], pkt, &s, caps->headroom, &src, 0);
        slot++;
    }
    plan->nr_slots = (uint16_t)slot;
    plan->nr_extras = (uint16_t)extras;
    plan->verdict = NETIF_RX_OK;
    return NETIF_RX_OK;
}

void netif_rx_plan_fail_seg(struct netif_rx_plan *plan, unsigned seg)
{
    if (seg < plan->nr_segs)
        plan->rsp[plan->seg[seg].slot].rsp.status = NETIF_RSP_ERROR;
}

void netif_rx_respond(netif_rx_back_ring_t *ring, RING_IDX req_idx,
                      const struct netif_rx_plan *plan)
{
    for (unsigned i = 0; i < plan->nr_slots; i++)
        memcpy(RING_GET_RESPONSE(ring, req_idx + i), &plan->rsp[i],
               sizeof(netif_rx_response_t));
    ring->rsp_prod_pvt = req_idx + plan->nr_slots;
}

const char *netif_rx_reason_str(enum netif_rx_reason reason)
{
    static const char *const names[NETIF_RX_R_COUNT] = {
        [NETIF_RX_R_NONE] = "none",
        [NETIF_RX_R_BAD_LEN] = "bad_len",
        [NETIF_RX_R_NO_SG] = "no_sg",
        [NETIF_RX_R_GSO_NOT_NEG] = "gso_not_negotiated",
        [NETIF_RX_R_BAD_GSO] = "bad_gso",
        [NETIF_RX_R_BAD_HEADROOM] = "bad_headroom",
    };
    if ((unsigned)reason >= NETIF_RX_R_COUNT)
        return "unknown";
    return names[reason];
}
