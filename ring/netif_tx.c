/* Guest TX slot chains -> packet plans and verdicts. See netif_tx.h for the
 * rules and their order; the code keeps the checks in that order because a
 * frontend must get the same verdict from us as from Linux. */
#include "ring/netif_tx.h"

_Static_assert(sizeof(union netif_tx_sring_entry) == sizeof(netif_tx_request_t),
               "TX ring slots are back to back requests");

int netif_tx_copy_requests(const netif_tx_back_ring_t *ring,
                           netif_tx_request_t *reqs, unsigned max,
                           unsigned *produced)
{
    RING_IDX prod = __atomic_load_n(&ring->sring->req_prod, __ATOMIC_ACQUIRE);
    RING_IDX cons = ring->req_cons;
    int takeable = netif_ring_takeable(prod, cons, ring->rsp_prod_pvt, RING_SIZE(ring));

    if (takeable < 0) {
        *produced = 0;
        return -1;
    }
    unsigned pending = (unsigned)takeable;
    *produced = pending;
    unsigned n = pending < max ? pending : max;
    /* The slots are contiguous requests (the union is one request wide):
     * at most two memcpy, before and after the wrap, instead of one
     * volatile copy per slot. Either way each slot is read once, into
     * reqs[], and only that copy is looked at afterwards. */
    unsigned first = cons & (RING_SIZE(ring) - 1);
    unsigned n1 = RING_SIZE(ring) - first;
    if (n1 > n)
        n1 = n;
    memcpy(reqs, (const void *)&ring->sring->ring[first].req, n1 * sizeof(*reqs));
    if (n > n1)
        memcpy(reqs + n1, (const void *)&ring->sring->ring[0].req, (n - n1) * sizeof(*reqs));
    return (int)n;
}

/* Extra-info slots overlay requests; take the 8 bytes of one as an extra. */
static void as_extra(const netif_tx_request_t *r, struct netif_extra_info *ex)
{
    memcpy(ex, r, sizeof(*ex));
}

/* Everything but the one-request packet (netif_tx_parse, inline in the
 * header). Out of line: its extras table costs a stack-protector check on
 * every call. */
enum netif_tx_verdict netif_tx_parse_chain(const netif_tx_request_t *reqs, unsigned avail,
                                           unsigned produced, struct netif_tx_pkt *pkt)
{
    /* Only the last extra of each type counts, as in Linux. */
    struct netif_extra_info ext[XEN_NETIF_EXTRA_TYPE_MAX - 1];
    netif_tx_request_t first, txp;
    unsigned i = 1, slots = 0;
    enum netif_tx_reason drop = NETIF_TX_R_NONE;
    uint16_t remaining;
    int more;

    pkt->nr_slots = pkt->nr_extras = pkt->nr_data = 0;
    pkt->flags = 0;
    pkt->len = 0;
    pkt->gso_type = XEN_NETIF_GSO_TYPE_NONE;
    pkt->gso_size = 0;
    pkt->hash_valid = pkt->hash_type = 0;
    pkt->hash = 0;
    pkt->mcast_op = 0;
    if (produced < avail)
        produced = avail;
    if (avail == 0)
        return netif_tx_verdict_set(pkt, NETIF_TX_NEED_MORE, NETIF_TX_R_NONE);

    first = reqs[0];
    memset(ext, 0, sizeof(ext));
    if (first.flags & NETTXF_extra_info) {
        struct netif_extra_info ex;
        do {
            if (i >= avail)
                return i >= produced
                    ? netif_tx_verdict_set(pkt, NETIF_TX_FATAL, NETIF_TX_R_MISSING_EXTRA)
                    : netif_tx_verdict_set(pkt, NETIF_TX_NEED_MORE, NETIF_TX_R_NONE);
            as_extra(&reqs[i++], &ex);
            if (ex.type == XEN_NETIF_EXTRA_TYPE_NONE ||
                ex.type >= XEN_NETIF_EXTRA_TYPE_MAX)
                return netif_tx_verdict_set(pkt, NETIF_TX_FATAL, NETIF_TX_R_BAD_EXTRA_TYPE);
            ext[ex.type - 1] = ex;
        } while (ex.flags & XEN_NETIF_EXTRA_FLAG_MORE);
    }
    pkt->nr_extras = (uint16_t)(i - 1);
    netif_tx_set_slot(&pkt->data[0], &first);
    pkt->nr_data = 1;
    pkt->len = first.size;
    pkt->flags = first.flags & (NETTXF_csum_blank | NETTXF_data_validated);

    /* A multicast subscription travels as extras on a dummy request; Linux
     * answers it right there, without looking at any more_data chain. */
    static const uint8_t mcast_ops[] = { XEN_NETIF_EXTRA_TYPE_MCAST_ADD,
                                         XEN_NETIF_EXTRA_TYPE_MCAST_DEL };
    for (unsigned k = 0; k < sizeof(mcast_ops); k++) {
        const struct netif_extra_info *m = &ext[mcast_ops[k] - 1];
        if (m->type) {
            pkt->mcast_op = mcast_ops[k];
            memcpy(pkt->mcast_addr, m->u.mcast.addr, sizeof(pkt->mcast_addr));
            pkt->nr_slots = (uint16_t)i;
            return netif_tx_verdict_set(pkt, NETIF_TX_MCAST, NETIF_TX_R_NONE);
        }
    }

    /* The more_data chain; slots counts those after the first one. */
    remaining = first.size;
    more = first.flags & NETTXF_more_data;
    while (more) {
        unsigned at = i + slots;
        if (at >= produced)
            return netif_tx_verdict_set(pkt, NETIF_TX_FATAL, NETIF_TX_R_CHAIN_PAST_PROD);
        if (slots >= NETIF_TX_FATAL_SLOTS)
            return netif_tx_verdict_set(pkt, NETIF_TX_FATAL, NETIF_TX_R_MALICIOUS_SLOTS);
        if (at >= avail)
            return netif_tx_verdict_set(pkt, NETIF_TX_NEED_MORE, NETIF_TX_R_NONE);
        if (!drop && slots >= NETIF_TX_LEGACY_SLOTS_MAX)
            drop = NETIF_TX_R_TOO_MANY_SLOTS;
        txp = reqs[at];
        /* A frame of 64 KiB or more wraps slot 0's size; buggy frontends
         * do that, so it is a drop, not fatal. */
        if (!drop && txp.size > remaining)
            drop = NETIF_TX_R_FRAG_TOO_BIG;
        remaining = (uint16_t)(remaining - txp.size);
        netif_tx_set_slot(&pkt->data[1 + slots], &txp);
        slots++;
        if ((unsigned)txp.offset + txp.size > NETIF_PAGE_SIZE)
            return netif_tx_verdict_set(pkt, NETIF_TX_FATAL, NETIF_TX_R_CROSS_PAGE);
        more = txp.flags & NETTXF_more_data;
    }
    pkt->nr_data = (uint16_t)(1 + slots);
    pkt->nr_slots = (uint16_t)(i + slots);
    pkt->data[0].size = remaining;
    if (drop)
        return netif_tx_verdict_set(pkt, NETIF_TX_DROP, drop);
    if (remaining < NETIF_ETH_HLEN)
        return netif_tx_verdict_set(pkt, NETIF_TX_DROP, NETIF_TX_R_TOO_SHORT);
    if ((unsigned)first.offset + remaining > NETIF_PAGE_SIZE)
        return netif_tx_verdict_set(pkt, NETIF_TX_FATAL, NETIF_TX_R_CROSS_PAGE);

    const struct netif_extra_info *gso = &ext[XEN_NETIF_EXTRA_TYPE_GSO - 1];
    if (gso->type) {
        if (gso->u.gso.size == 0)
            return netif_tx_verdict_set(pkt, NETIF_TX_FATAL, NETIF_TX_R_BAD_GSO_SIZE);
        if (gso->u.gso.type != XEN_NETIF_GSO_TYPE_TCPV4 &&
            gso->u.gso.type != XEN_NETIF_GSO_TYPE_TCPV6)
            return netif_tx_verdict_set(pkt, NETIF_TX_FATAL, NETIF_TX_R_BAD_GSO_TYPE);
        pkt->gso_type = gso->u.gso.type;
        pkt->gso_size = gso->u.gso.size;
    }
    const struct netif_extra_info *hash = &ext[XEN_NETIF_EXTRA_TYPE_HASH - 1];
    if (hash->type && hash->u.hash.type <= _XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP) {
        pkt->hash_valid = 1;
        pkt->hash_type = hash->u.hash.type;
        memcpy(&pkt->hash, hash->u.hash.value, sizeof(pkt->hash));
    }
    return netif_tx_verdict_set(pkt, NETIF_TX_OK, NETIF_TX_R_NONE);
}

unsigned netif_tx_copy_plan(const struct netif_tx_pkt *pkt,
                            struct netif_tx_seg *segs)
{
    unsigned n = 0;
    uint32_t dst = 0;

    for (unsigned d = 0; d < pkt->nr_data; d++) {
        const struct netif_tx_slot *s = &pkt->data[d];
        if (s->size == 0)
            continue;
        segs[n].gref = s->gref;
        segs[n].src_off = s->offset;
        segs[n].len = s->size;
        segs[n].dst_off = dst;
        dst += s->size;
        n++;
    }
    return n;
}

void netif_tx_respond_chain(netif_tx_back_ring_t *ring,
                            const struct netif_tx_pkt *pkt, int16_t status)
{
    RING_IDX p = ring->rsp_prod_pvt;

    if (pkt->nr_slots == 0)
        return;
    netif_tx_put_rsp(ring, p++, pkt->data[0].id, status);
    for (unsigned e = 0; e < pkt->nr_extras; e++)
        netif_tx_put_rsp(ring, p++, 0, NETIF_RSP_NULL);
    for (unsigned d = 1; d < pkt->nr_data; d++) {
        const struct netif_tx_slot *s = &pkt->data[d];
        int16_t st = (pkt->verdict == NETIF_TX_OK && s->size == 0)
            ? NETIF_RSP_OKAY : status;
        netif_tx_put_rsp(ring, p++, s->id, st);
    }
    ring->rsp_prod_pvt = p;
}

const char *netif_tx_reason_str(enum netif_tx_reason reason)
{
    static const char *const names[NETIF_TX_R_COUNT] = {
        [NETIF_TX_R_NONE] = "none",
        [NETIF_TX_R_TOO_MANY_SLOTS] = "too_many_slots",
        [NETIF_TX_R_FRAG_TOO_BIG] = "frag_too_big",
        [NETIF_TX_R_TOO_SHORT] = "too_short",
        [NETIF_TX_R_RING_OVERFLOW] = "ring_overflow",
        [NETIF_TX_R_MISSING_EXTRA] = "missing_extra",
        [NETIF_TX_R_BAD_EXTRA_TYPE] = "bad_extra_type",
        [NETIF_TX_R_CHAIN_PAST_PROD] = "chain_past_prod",
        [NETIF_TX_R_MALICIOUS_SLOTS] = "malicious_slots",
        [NETIF_TX_R_CROSS_PAGE] = "cross_page",
        [NETIF_TX_R_BAD_GSO_SIZE] = "bad_gso_size",
        [NETIF_TX_R_BAD_GSO_TYPE] = "bad_gso_type",
    };
    if ((unsigned)reason >= NETIF_TX_R_COUNT)
        return "unknown";
    return names[reason];
}
