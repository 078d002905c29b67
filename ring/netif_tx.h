/* Guest TX (frontend -> backend) as pure converters.
 *
 * Usage, once per burst on one queue (the backend owns the ring; nothing here
 * does I/O, calls Xen, allocates, pushes or notifies):
 *
 *   netif_tx_request_t reqs[N];
 *   unsigned produced;
 *   int n = netif_tx_copy_requests(&ring, reqs, N, &produced);
 *   if (n < 0) -> disable the vif (impossible producer index)
 *   for (used = 0; packets < budget; used += pkt.nr_slots) {
 *       v = netif_tx_parse(reqs + used, n - used, produced - used, &pkt);
 *       NEED_MORE: stop (or copy more requests and retry; nothing consumed)
 *       FATAL:     disable the vif, stop
 *       DROP:      count pkt.reason; netif_tx_respond(.., NETIF_RSP_ERROR)
 *       MCAST:     apply pkt.mcast_op to the filter; respond OKAY/ERROR
 *       OK:        netif_tx_copy_plan() -> grant copies; respond OKAY
 *                  (or NETIF_RSP_ERROR when a copy failed)
 *       ring.req_cons += pkt.nr_slots;
 *   }
 *   RING_PUSH_RESPONSES_AND_CHECK_NOTIFY once per burst.
 *
 * The verdicts follow Linux xen-netback (xenvif_tx_build_gops,
 * xenvif_get_extras, xenvif_count_requests, xenvif_set_skb_gso), checked in
 * the same order, so a frontend sees the same outcome on either backend:
 *
 *   fatal (disable the vif):
 *     - req_prod - req_cons larger than the ring (netif_tx_copy_requests)
 *     - an extra-info chain or a more_data chain running past the requests
 *       the frontend has produced
 *     - extra type NONE (0) or >= XEN_NETIF_EXTRA_TYPE_MAX
 *     - a chain still continuing after NETIF_TX_FATAL_SLOTS slots following
 *       the first one (i.e. 22 or more data slots; Linux fatal_skb_slots)
 *     - any data slot with offset + size > 4096
 *     - a GSO extra with size 0 or a type other than TCPV4/TCPV6
 *   drop (answer every slot with an error, keep the vif):
 *     - 20 or 21 data slots: more than XEN_NETIF_NR_SLOTS_MIN (18) slots
 *       after the first one; 19 data slots are still accepted, as in Linux
 *       (Linux counts only the slots after the first against both limits;
 *       "18-19 drop, >= 20 fatal" would refuse the 18 slots netif.h says
 *       every backend must accept)
 *     - a fragment larger than what remains of the total in slot 0
 *     - fragment 1 (slot 0's own bytes) shorter than an Ethernet header;
 *       Linux checks slot 0's own size, which also implies total >= 14
 *   accepted quirks:
 *     - zero-length data slots: no copy, always answered NETIF_RSP_OKAY
 *       for an accepted packet (XSA-448)
 *     - headers spread over many tiny slots: the copy plan assembles them
 *       (XSA-423/432 cannot happen with one contiguous destination)
 *     - MCAST_ADD/MCAST_DEL extras: the request is a control message, not a
 *       packet; as in Linux its more_data chain is not consumed with it.
 */
#ifndef NB_RING_NETIF_TX_H
#define NB_RING_NETIF_TX_H

#include "ring/netif_abi.h"

/* Slots after the first one that every backend must accept (18). */
#define NETIF_TX_LEGACY_SLOTS_MAX XEN_NETIF_NR_SLOTS_MIN
/* Slots after the first one beyond which the frontend is malicious. */
#define NETIF_TX_FATAL_SLOTS 20u
/* Most data slots a non-fatal chain can have (first + 20): sizes pkt.data[]. */
#define NETIF_TX_MAX_DATA_SLOTS (1u + NETIF_TX_FATAL_SLOTS)

enum netif_tx_verdict {
    NETIF_TX_OK = 0,    /* a packet: copy it, forward it, respond */
    NETIF_TX_MCAST,     /* a multicast-control request: apply, respond */
    NETIF_TX_DROP,      /* bad packet: respond NETIF_RSP_ERROR, count */
    NETIF_TX_FATAL,     /* malicious frontend: disable the vif */
    NETIF_TX_NEED_MORE, /* packet continues past avail (within produced),
                           or avail == 0: nothing consumed */
};

enum netif_tx_reason {
    NETIF_TX_R_NONE = 0,
    /* drops */
    NETIF_TX_R_TOO_MANY_SLOTS,   /* 20 or 21 data slots */
    NETIF_TX_R_FRAG_TOO_BIG,     /* fragment larger than the remaining total */
    NETIF_TX_R_TOO_SHORT,        /* fragment 1 shorter than 14 bytes */
    /* fatal */
    NETIF_TX_R_RING_OVERFLOW,    /* req_prod - req_cons > ring size */
    NETIF_TX_R_MISSING_EXTRA,    /* extra chain past the produced requests */
    NETIF_TX_R_BAD_EXTRA_TYPE,   /* extra type 0 or >= XEN_NETIF_EXTRA_TYPE_MAX */
    NETIF_TX_R_CHAIN_PAST_PROD,  /* more_data chain past the produced requests */
    NETIF_TX_R_MALICIOUS_SLOTS,  /* 22 or more data slots */
    NETIF_TX_R_CROSS_PAGE,       /* offset + size > 4096 */
    NETIF_TX_R_BAD_GSO_SIZE,     /* GSO extra with size 0 */
    NETIF_TX_R_BAD_GSO_TYPE,     /* GSO extra with an unknown type */
    NETIF_TX_R_COUNT
};

/* One data slot as copied and validated. */
struct netif_tx_slot {
    grant_ref_t gref;
    uint16_t offset;  /* offset + size <= 4096 for every slot of an OK packet */
    uint16_t size;    /* this slot's own bytes; slot 0: fragment 1's size */
    uint16_t id;      /* echoed in the response */
};

/* One parsed packet (or control request). Ring layout of what it consumed:
 * data slot 0, then nr_extras extra-info slots, then data slots 1.. */
struct netif_tx_pkt {
    uint8_t verdict;             /* enum netif_tx_verdict */
    uint8_t reason;              /* enum netif_tx_reason (DROP/FATAL) */
    uint16_t nr_slots;           /* ring slots consumed: advance req_cons by this */
    uint16_t nr_extras;          /* extra-info slots (right after data slot 0) */
    uint16_t nr_data;            /* entries in data[], zero-length ones included */
    uint16_t flags;              /* slot 0's NETTXF_csum_blank|NETTXF_data_validated */
    uint32_t len;                /* total packet length (slot 0's size field) */
    uint16_t gso_size;           /* MSS when gso_type != XEN_NETIF_GSO_TYPE_NONE */
    uint8_t gso_type;            /* XEN_NETIF_GSO_TYPE_* */
    uint8_t hash_valid;          /* a HASH extra with a known type was present */
    uint8_t hash_type;           /* _XEN_NETIF_CTRL_HASH_TYPE_* index */
    uint8_t mcast_op;            /* XEN_NETIF_EXTRA_TYPE_MCAST_ADD/_DEL with MCAST */
    uint8_t mcast_addr[6];
    uint32_t hash;               /* with hash_valid */
    struct netif_tx_slot data[NETIF_TX_MAX_DATA_SLOTS];
};

/* One grant copy from a guest slot into the packet's contiguous buffer. */
struct netif_tx_seg {
    grant_ref_t gref;
    uint16_t src_off;  /* offset in the guest page */
    uint16_t len;      /* > 0; src_off + len <= 4096 */
    uint32_t dst_off;  /* offset in the packet buffer */
};

/* Copies the unconsumed requests ONCE out of the shared ring into reqs[]:
 * at most max of them, starting at ring->req_cons (req_cons is not advanced).
 * Reads req_prod once (acquire). *produced = how many the frontend has
 * published and the backend may consume: min(req_prod - req_cons, free
 * response space), as Linux's work_to_do. Returns the number copied
 * (<= max, <= *produced), or -1 when req_prod - req_cons exceeds the ring
 * size (fatal: NETIF_TX_R_RING_OVERFLOW; *produced is then 0). */
int netif_tx_copy_requests(const netif_tx_back_ring_t *ring,
                           netif_tx_request_t *reqs, unsigned max,
                           unsigned *produced);

/* The general case of netif_tx_parse (extras, chains, avail == 0). */
enum netif_tx_verdict netif_tx_parse_chain(const netif_tx_request_t *reqs, unsigned avail,
                                           unsigned produced, struct netif_tx_pkt *pkt);

static inline enum netif_tx_verdict netif_tx_verdict_set(struct netif_tx_pkt *pkt,
                                                         enum netif_tx_verdict v,
                                                         enum netif_tx_reason r)
{
    pkt->verdict = (uint8_t)v;
    pkt->reason = (uint8_t)r;
    return v;
}

static inline void netif_tx_set_slot(struct netif_tx_slot *s, const netif_tx_request_t *r)
{
    s->gref = r->gref;
    s->offset = r->offset;
    s->size = r->size;
    s->id = r->id;
}

/* Reads exactly 0 or 1 packets from reqs[0..avail); never a partial packet.
 * produced >= avail is how many requests the frontend has published from
 * reqs[0] on: a chain ending past avail but within produced is NEED_MORE
 * (copy more and retry), past produced it is FATAL. Only reads reqs (const,
 * never the shared ring); fills *pkt; no allocation. For OK, DROP and MCAST,
 * pkt->nr_slots requests were consumed and must each get a response.
 * Inline for the common packet, one request without extras or chain (the
 * general parser's checks in its order for that case: too short, then
 * crossing the page); the rest is netif_tx_parse_chain. */
static inline enum netif_tx_verdict netif_tx_parse(const netif_tx_request_t *reqs,
                                                   unsigned avail, unsigned produced,
                                                   struct netif_tx_pkt *pkt)
{
    netif_tx_request_t first;

    if (avail == 0 || (reqs[0].flags & (NETTXF_extra_info | NETTXF_more_data)))
        return netif_tx_parse_chain(reqs, avail, produced, pkt);
    first = reqs[0];
    pkt->nr_extras = 0;
    pkt->nr_data = 1;
    pkt->nr_slots = 1;
    netif_tx_set_slot(&pkt->data[0], &first);
    pkt->len = first.size;
    pkt->flags = first.flags & (NETTXF_csum_blank | NETTXF_data_validated);
    pkt->gso_type = XEN_NETIF_GSO_TYPE_NONE;
    pkt->gso_size = 0;
    pkt->hash_valid = pkt->hash_type = 0;
    pkt->hash = 0;
    pkt->mcast_op = 0;
    if (first.size < NETIF_ETH_HLEN)
        return netif_tx_verdict_set(pkt, NETIF_TX_DROP, NETIF_TX_R_TOO_SHORT);
    if ((unsigned)first.offset + first.size > NETIF_PAGE_SIZE)
        return netif_tx_verdict_set(pkt, NETIF_TX_FATAL, NETIF_TX_R_CROSS_PAGE);
    return netif_tx_verdict_set(pkt, NETIF_TX_OK, NETIF_TX_R_NONE);
}

/* Fills segs[] (room for NETIF_TX_MAX_DATA_SLOTS) with the copies that
 * assemble an OK packet contiguously at dst_off 0..len; zero-length slots
 * produce none. Returns the number of segments. Doesn't copy. */
unsigned netif_tx_copy_plan(const struct netif_tx_pkt *pkt,
                            struct netif_tx_seg *segs);

/* Writes one response per consumed slot at ring->rsp_prod_pvt, in ring
 * order, and advances rsp_prod_pvt by pkt->nr_slots; doesn't push.
 * Data slots get `status` (NETIF_RSP_OKAY/ERROR/DROPPED) and their id;
 * extra slots get NETIF_RSP_NULL (id 0); zero-length data slots of an OK
 * packet get NETIF_RSP_OKAY whatever `status` is. */
static inline void netif_tx_put_rsp(netif_tx_back_ring_t *ring, RING_IDX idx, uint16_t id,
                                    int16_t status)
{
    netif_tx_response_t *rsp = RING_GET_RESPONSE(ring, idx);
    rsp->id = id;
    rsp->status = status;
}

/* The general case of netif_tx_respond (extras, chains). */
void netif_tx_respond_chain(netif_tx_back_ring_t *ring,
                            const struct netif_tx_pkt *pkt, int16_t status);

/* Inline for the one-slot packet; the rest is netif_tx_respond_chain. */
static inline void netif_tx_respond(netif_tx_back_ring_t *ring,
                                    const struct netif_tx_pkt *pkt, int16_t status)
{
    if (pkt->nr_slots != 1) {
        netif_tx_respond_chain(ring, pkt, status);
        return;
    }
    netif_tx_put_rsp(ring, ring->rsp_prod_pvt++, pkt->data[0].id, status);
}

/* Static name of a reason, for logs and counters ("frag_too_big", ...). */
const char *netif_tx_reason_str(enum netif_tx_reason reason);

#endif
