/* Guest RX (backend -> frontend) as pure converters.
 *
 * Usage, once per burst on one queue:
 *
 *   netif_rx_request_t reqs[N];
 *   int n = netif_rx_copy_requests(&ring, reqs, N, &produced);
 *   if (n < 0) -> disable the vif
 *   RING_IDX idx = ring.req_cons; used = 0;
 *   for each queued packet:
 *       v = netif_rx_plan(reqs + used, n - used, &desc, &caps, &plan);
 *       NO_SPACE: leave it queued (stall detection uses
 *                 netif_rx_slots_needed()); stop
 *       DROP:     count plan.reason, free it, next
 *       OK:       turn plan.seg[] into grant copies (batched, e.g. 64 per
 *                 call); for each failed copy netif_rx_plan_fail_seg();
 *                 netif_rx_respond(&ring, idx, &plan);
 *                 idx += plan.nr_slots; used += plan.nr_slots;
 *   ring.req_cons = idx; RING_PUSH_RESPONSES_AND_CHECK_NOTIFY once.
 *
 * Layout, as Linux xen-netback rx.c (xenvif_rx_skb) and netfront expect:
 * data slot 0, then the extras (GSO, then HASH), then the remaining data
 * slots. Every slot, extras included, consumes one posted request, and its
 * response goes in the SAME ring slot as that request (netfront ignores the
 * id). Each data slot is filled from offset `headroom` (0 normally) up to
 * the end of the 4 KiB page: the packet is always fully coalesced, so a
 * packet needs ceil(len / (4096 - headroom)) data slots, plus one per extra.
 * Slot 0 carries NETRXF_csum_blank|NETRXF_data_validated (checksum partial)
 * or NETRXF_data_validated (checksum verified) and NETRXF_extra_info when
 * extras follow; every data slot but the last has NETRXF_more_data; extras
 * but the last have XEN_NETIF_EXTRA_FLAG_MORE. Response status = bytes in
 * the slot (or NETIF_RSP_ERROR if a copy into it failed), offset = headroom.
 */
#ifndef NB_RING_NETIF_RX_H
#define NB_RING_NETIF_RX_H

#include <stdbool.h>
#include "ring/netif_abi.h"

#define NETIF_RX_MAX_LEN 65535u      /* status is an int16 per slot; total like TX */
#define NETIF_RX_MAX_HEADROOM 512u   /* bound on per-slot headroom (XDP uses 256) */
/* Data slots for 65535 bytes with the largest headroom: ceil(65535/3584). */
#define NETIF_RX_MAX_DATA_SLOTS 19u
#define NETIF_RX_MAX_EXTRAS 2u       /* GSO, HASH */
#define NETIF_RX_MAX_SLOTS (NETIF_RX_MAX_DATA_SLOTS + NETIF_RX_MAX_EXTRAS)
/* A data slot can span two source pages, so at most two segments each. */
#define NETIF_RX_MAX_SEGS (2u * NETIF_RX_MAX_DATA_SLOTS)

/* What the frontend negotiated (xenstore), fixed for a connection. */
struct netif_rx_caps {
    bool sg;          /* feature-sg: a packet may span several slots */
    bool gso_tcpv4;   /* feature-gso-tcpv4 */
    bool gso_tcpv6;   /* feature-gso-tcpv6 */
    uint16_t headroom;/* bytes left free at the start of every data slot */
};

enum netif_rx_pkt_flags {
    NETIF_RX_PKT_CSUM_PARTIAL = 1u << 0, /* L4 checksum to be completed by the guest */
    NETIF_RX_PKT_DATA_VALID   = 1u << 1, /* checksum already verified */
    NETIF_RX_PKT_HASH         = 1u << 2, /* hash/hash_type valid: send a HASH extra */
};

/* The packet to deliver, as the backend knows it. */
struct netif_rx_pkt_desc {
    uint32_t len;           /* 1..NETIF_RX_MAX_LEN */
    uint16_t flags;         /* enum netif_rx_pkt_flags */
    uint16_t gso_size;      /* MSS, with gso_type */
    uint8_t gso_type;       /* XEN_NETIF_GSO_TYPE_NONE/TCPV4/TCPV6 */
    uint8_t hash_type;      /* _XEN_NETIF_CTRL_HASH_TYPE_* index */
    uint16_t src_page_off;  /* (uintptr_t)data % 4096: segments never cross a
                               page of the source buffer either */
    uint32_t hash;          /* Toeplitz value, with NETIF_RX_PKT_HASH */
};

enum netif_rx_verdict {
    NETIF_RX_OK = 0,
    NETIF_RX_NO_SPACE,  /* fewer posted requests than the packet needs */
    NETIF_RX_DROP,      /* cannot be delivered to this frontend: see reason */
};

enum netif_rx_reason {
    NETIF_RX_R_NONE = 0,
    NETIF_RX_R_BAD_LEN,       /* len 0 or > 65535 */
    NETIF_RX_R_NO_SG,         /* needs several slots, frontend has no feature-sg */
    NETIF_RX_R_GSO_NOT_NEG,   /* GSO type the frontend did not negotiate */
    NETIF_RX_R_BAD_GSO,       /* unknown GSO type or size 0 */
    NETIF_RX_R_BAD_HEADROOM,  /* caps.headroom > NETIF_RX_MAX_HEADROOM */
    NETIF_RX_R_COUNT
};

/* One grant copy from the packet buffer into a guest-posted page. */
struct netif_rx_seg {
    grant_ref_t gref;   /* the posted request's page */
    uint16_t slot;      /* index in plan.rsp[] (= request index) it fills */
    uint16_t dst_off;   /* offset in the guest page; dst_off + len <= 4096 */
    uint16_t len;       /* > 0 */
    uint32_t src_off;   /* offset in the packet */
};

/* A response image: a data response or an extra-info overlaying it. */
union netif_rx_rsp_image {
    netif_rx_response_t rsp;
    struct netif_extra_info extra;
};

struct netif_rx_plan {
    uint8_t verdict;        /* enum netif_rx_verdict */
    uint8_t reason;         /* enum netif_rx_reason, with DROP */
    uint16_t nr_slots;      /* requests consumed = responses to write */
    uint16_t nr_segs;
    uint16_t nr_extras;
    union netif_rx_rsp_image rsp[NETIF_RX_MAX_SLOTS];
    struct netif_rx_seg seg[NETIF_RX_MAX_SEGS];
};

/* Copies the posted, unconsumed RX requests ONCE into reqs[] (at most max,
 * from ring->req_cons, which is not advanced). Reads req_prod once
 * (acquire). *produced = req_prod - req_cons. Returns the number copied or
 * -1 if req_prod - req_cons exceeds the ring size (fatal). */
int netif_rx_copy_requests(const netif_rx_back_ring_t *ring,
                           netif_rx_request_t *reqs, unsigned max,
                           unsigned *produced);

/* Ring slots (requests) the packet needs, extras included; 0 if it can
 * never be delivered (a DROP reason applies). For stall detection: a guest
 * posting fewer than this is stalled for this packet. */
unsigned netif_rx_slots_needed(const struct netif_rx_pkt_desc *pkt,
                               const struct netif_rx_caps *caps);

/* Plans exactly 0 or 1 packets into the posted requests reqs[0..avail):
 * which requests it consumes, the copies to make (split so no segment
 * crosses a 4 KiB page on either side) and every response image. Doesn't
 * copy, doesn't touch the ring. With NO_SPACE/DROP nothing is consumed. */
enum netif_rx_verdict netif_rx_plan(const netif_rx_request_t *reqs,
                                    unsigned avail,
                                    const struct netif_rx_pkt_desc *pkt,
                                    const struct netif_rx_caps *caps,
                                    struct netif_rx_plan *plan);

/* Marks the slot filled by plan->seg[seg] as failed: its response status
 * becomes NETIF_RSP_ERROR (as Linux does on a failed grant copy). */
void netif_rx_plan_fail_seg(struct netif_rx_plan *plan, unsigned seg);

/* Writes the plan's responses into the ring slots of the requests it
 * consumed, req_idx .. req_idx + nr_slots - 1 (req_idx = the ring index
 * of reqs[0] given to netif_rx_plan), and sets rsp_prod_pvt past them.
 * Writes responses but doesn't push. */
void netif_rx_respond(netif_rx_back_ring_t *ring, RING_IDX req_idx,
                      const struct netif_rx_plan *plan);

const char *netif_rx_reason_str(enum netif_rx_reason reason);

#endif
