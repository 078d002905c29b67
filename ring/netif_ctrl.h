/* The control ring (feature-ctrl-ring) as a pure request handler.
 *
 * The backend copies each request out of the ring once
 * (netif_ctrl_copy_requests), hands it to netif_ctrl_handle(), and writes
 * the response it gets (netif_ctrl_respond, no push). Requests that carry a
 * grant (SET_HASH_KEY, SET_HASH_MAPPING, ADD/DEL_GREF_MAPPING) come back as
 * NETIF_CTRL_NEED_COPY with what to grant-copy from the guest; the backend
 * copies it (or fails) and calls netif_ctrl_handle_data() with the bytes.
 * Statuses are the protocol's own XEN_NETIF_CTRL_STATUS_*; nothing here
 * touches guest memory.
 *
 * Bounds (XSA-270 lessons), all rejected before any state changes:
 *   - hash key longer than NETIF_CTRL_HASH_KEY_MAX: BUFFER_OVERFLOW
 *     (netif.h's code; Linux answers INVALID_PARAMETER)
 *   - mapping size > NETIF_CTRL_HASH_MAPPING_MAX: INVALID_PARAMETER
 *   - SET_HASH_MAPPING: len > NETIF_CTRL_HASH_MAPPING_MAX: BUFFER_OVERFLOW;
 *     off + len overflowing or beyond the table size, or any entry
 *     >= num_queues: INVALID_PARAMETER; the table is only updated when every
 *     entry is valid
 *   - GREF mappings: queue index >= num_queues, list longer than a page or
 *     than the free room, duplicate refs: INVALID_PARAMETER (all or nothing)
 *
 * Static grants (GET_GREF_MAPPING_SIZE, ADD/DEL_GREF_MAPPING, present in the
 * 4.17 netif.h): this module keeps the per-queue bookkeeping; the backend
 * maps what an ADD accepted (and on a map failure removes the list again
 * with netif_gref_table_del and answers INVALID_PARAMETER), unmaps what a
 * DEL removed, and copies the DEL list back to the guest (statuses updated).
 *
 * Concurrency: the state is plain data. The datapath reads key, flags and
 * mapping (netif_ctrl_hash, netif_ctrl_select_queue); the backend decides how
 * readers see updates (lock, or a copy swapped in).
 */
#ifndef NB_RING_NETIF_CTRL_H
#define NB_RING_NETIF_CTRL_H

#include <stdbool.h>
#include "ring/netif_abi.h"

#define NETIF_CTRL_HASH_KEY_MAX 40u        /* Linux XEN_NETBK_MAX_HASH_KEY_SIZE */
#define NETIF_CTRL_HASH_MAPPING_MAX 128u   /* Linux XEN_NETBK_MAX_HASH_MAPPING_SIZE */
#define NETIF_CTRL_MAX_QUEUES 16u          /* queues whose gref tables we keep */
#define NETIF_GREF_TABLE_MAX 512u          /* static grants per queue (one per TX and RX slot) */
/* Hash types this backend computes (netif_hash_input). */
#define NETIF_CTRL_HASH_TYPES_SUPPORTED \
    (XEN_NETIF_CTRL_HASH_TYPE_IPV4 | XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP | \
     XEN_NETIF_CTRL_HASH_TYPE_IPV6 | XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP)

struct netif_gref_entry {
    grant_ref_t ref;
    uint16_t flags;   /* XEN_NETIF_CTRLF_GREF_readonly */
};

/* Static grants kept for one queue. */
struct netif_gref_table {
    unsigned n;
    struct netif_gref_entry e[NETIF_GREF_TABLE_MAX];
};

struct netif_ctrl_state {
    unsigned num_queues;      /* set by the backend at connect (>= 1) */
    uint32_t hash_alg;        /* XEN_NETIF_CTRL_HASH_ALGORITHM_* */
    uint32_t hash_flags;      /* XEN_NETIF_CTRL_HASH_TYPE_* bits */
    uint8_t key[NETIF_CTRL_HASH_KEY_MAX];  /* unspecified octets are 0 */
    uint32_t mapping_size;    /* 0: queue = hash % num_queues */
    uint32_t mapping[NETIF_CTRL_HASH_MAPPING_MAX];
    struct netif_gref_table gref[NETIF_CTRL_MAX_QUEUES];
};

enum netif_ctrl_action {
    NETIF_CTRL_DONE = 0,   /* *rsp is complete: write it */
    NETIF_CTRL_NEED_COPY,  /* copy *copy from the guest, then handle_data */
};

/* What to grant-copy from the guest for a NEED_COPY request. */
struct netif_ctrl_copy {
    grant_ref_t gref;
    uint16_t offset;   /* always 0: the protocol's tables start the page */
    uint16_t len;      /* bytes, 1..4096 */
};

/* Resets to the protocol's defaults (no algorithm, empty key, no mapping,
 * no static grants) for a vif with num_queues queues. */
void netif_ctrl_init(struct netif_ctrl_state *st, unsigned num_queues);

/* Copies unconsumed control requests once (like netif_tx_copy_requests):
 * returns the number copied or -1 on an impossible producer index. */
int netif_ctrl_copy_requests(const xen_netif_ctrl_back_ring_t *ring,
                             struct xen_netif_ctrl_request *reqs,
                             unsigned max, unsigned *produced);

/* Handles one copied request. Always fills rsp->id/type; with DONE also
 * status and data. With NEED_COPY fills *copy and leaves the state alone. */
enum netif_ctrl_action netif_ctrl_handle(struct netif_ctrl_state *st,
                                         const struct xen_netif_ctrl_request *req,
                                         struct xen_netif_ctrl_response *rsp,
                                         struct netif_ctrl_copy *copy);

/* Completes a NEED_COPY request with the copied bytes (data == NULL: the
 * grant copy failed -> INVALID_PARAMETER). len must be copy->len. data is
 * updated in place only for DEL_GREF_MAPPING (per-entry statuses), which
 * the backend then copies back to the guest. data must be aligned for
 * uint32_t (any malloc'd or page buffer is). */
void netif_ctrl_handle_data(struct netif_ctrl_state *st,
                            const struct xen_netif_ctrl_request *req,
                            void *data, size_t len,
                            struct xen_netif_ctrl_response *rsp);

/* Writes one response at rsp_prod_pvt and advances it; doesn't push. */
void netif_ctrl_respond(xen_netif_ctrl_back_ring_t *ring,
                        const struct xen_netif_ctrl_response *rsp);

/* Hash of a frame per the state (algorithm Toeplitz, flags, key). Returns
 * false when hashing is off or the frame matches no enabled type. */
bool netif_ctrl_hash(const struct netif_ctrl_state *st, const uint8_t *frame,
                     uint32_t len, uint32_t *hash, uint8_t *hash_type);

/* Queue for a hash: mapping[hash % size], or hash % num_queues without a
 * mapping table. Always < num_queues. */
unsigned netif_ctrl_select_queue(const struct netif_ctrl_state *st,
                                 uint32_t hash);

/* Static-grant bookkeeping, usable on its own. add: all or nothing, returns
 * an XEN_NETIF_CTRL_STATUS_*. del: sets each entry's status, returns how
 * many were removed. find: index or -1. */
uint32_t netif_gref_table_add(struct netif_gref_table *t,
                              const struct xen_netif_gref *list, unsigned n);
unsigned netif_gref_table_del(struct netif_gref_table *t,
                              struct xen_netif_gref *list, unsigned n);
int netif_gref_table_find(const struct netif_gref_table *t, grant_ref_t ref);

#endif
