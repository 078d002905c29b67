/* A packet in flight between ports: one Ethernet frame in one contiguous
 * buffer, with the offload state it carries (virtio-net semantics, so tap's
 * vnet header and DPDK's mbuf flags map onto it one to one). */
#ifndef NB_PKT_H
#define NB_PKT_H

#include <stdatomic.h>
#include <stdint.h>

#define NB_BURST 32            /* most packets any burst call carries */
#define NB_PKT_HEADROOM 64     /* room to push a VLAN tag (or XDP headroom) */
#define NB_PKT_MAX_LEN 65535   /* netif's largest packet */

enum nb_pkt_flags {
    NB_PKT_CSUM_PARTIAL = 1u << 0, /* L4 checksum still to fill: csum_start/offset */
    NB_PKT_DATA_VALID   = 1u << 1, /* checksum already verified, trust it */
    NB_PKT_HASH_VALID   = 1u << 2, /* hash/hash_type are set */
};

enum nb_gso_type {
    NB_GSO_NONE = 0,
    NB_GSO_TCPV4 = 1,
    NB_GSO_TCPV6 = 2,
};

struct nb_pkt_pool;

struct nb_pkt {
    uint8_t *data;          /* first byte of the frame (Ethernet header) */
    uint32_t len;           /* frame length in bytes */
    uint32_t flags;         /* enum nb_pkt_flags */
    uint16_t csum_start;    /* with CSUM_PARTIAL: where summing starts */
    uint16_t csum_offset;   /* ... and where, after csum_start, the sum goes */
    uint16_t gso_type;      /* enum nb_gso_type */
    uint16_t gso_size;      /* MSS when gso_type != NONE */
    uint32_t hash;          /* RSS hash, with NB_PKT_HASH_VALID */
    uint8_t  hash_type;     /* XEN_NETIF_CTRL_HASH_TYPE_* bit index */
    uint16_t vlan_tci;      /* set by the bridge for the packet's VLAN */
    atomic_uint refcnt;
    uint32_t buf_size;      /* bytes from buf to the end of the buffer */
    uint8_t *buf;           /* start of the buffer (data - headroom) */
    struct nb_pkt_pool *pool;
    struct nb_pkt *next_free;   /* pool-private free-list link */
};

/* A packet with refcnt > 1 is shared (flooding): it is read-only, data and
 * metadata alike. Call nb_pkt_unshare() before changing it. */

/* A pool hands out buffers big enough for a given length; any thread may free.
 * max_pkts bounds the packets outstanding at once (allocation then fails).
 * nb_pkt_pool_free() may run while packets are still out: the pool goes
 * away when the last of them is freed. */
struct nb_pkt_pool *nb_pkt_pool_new(const char *name, unsigned max_pkts);
void nb_pkt_pool_free(struct nb_pkt_pool *pool);
/* Returns a packet whose data has room for len bytes (len set), or NULL. */
struct nb_pkt *nb_pkt_alloc(struct nb_pkt_pool *pool, uint32_t len);
/* Up to n packets of len bytes each under one lock (receivers that fill
 * bursts); returns how many, 0 where nb_pkt_alloc() would give NULL. */
unsigned nb_pkt_alloc_bulk(struct nb_pkt_pool *pool, uint32_t len, struct nb_pkt **out, unsigned n);
/* Drops one reference; the buffer returns to its pool at zero. */
void nb_pkt_free(struct nb_pkt *pkt);
void nb_pkt_free_burst(struct nb_pkt **pkts, unsigned n);
/* Returns a private copy (data and metadata, refcnt 1) from pkt's pool, or
 * NULL when the pool is exhausted. */
struct nb_pkt *nb_pkt_copy(const struct nb_pkt *pkt);
/* Makes pkt safe to modify: returns pkt itself when no one else holds it,
 * otherwise a copy and drops the caller's reference to pkt. NULL (pool
 * exhausted) leaves pkt and the caller's reference untouched. */
struct nb_pkt *nb_pkt_unshare(struct nb_pkt *pkt);
/* Grows the frame at the front by n bytes; returns the new data or NULL when
 * the headroom is too small. */
uint8_t *nb_pkt_push(struct nb_pkt *pkt, uint32_t n);
/* Packets currently handed out (for tests and statistics). */
unsigned nb_pkt_pool_in_use(struct nb_pkt_pool *pool);

static inline void nb_pkt_ref(struct nb_pkt *pkt)
{
    atomic_fetch_add_explicit(&pkt->refcnt, 1, memory_order_relaxed);
}

#endif
