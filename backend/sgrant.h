/* Static grants (the control ring's GET_GREF_MAPPING_SIZE and
 * ADD/DEL_GREF_MAPPING): pages a frontend pre-granted, mapped once per vif
 * and then copied with memcpy instead of a grant-copy segment per slot.
 *
 * Ownership: each queue has its own table (struct nbd_sgrant_table in
 * struct nbd_queue). Queue 0's worker adds and removes entries (it serves
 * the control ring); the owning queue's worker reads them, without a lock:
 * the mappings it may use are an immutable snapshot (struct nbd_sgrant_snap)
 * published with an atomic pointer. A reader brackets a whole burst with
 * a view (nbd_sgrant_view .. nbd_sgrant_leave: an epoch section,
 * bridge/epoch.h); a writer builds the next snapshot in the table's other
 * buffer, publishes it, and waits for every reader to leave
 * (nb_epoch_synchronize) before it unmaps a removed page or reuses the old
 * buffer. So a copy never touches a page that is no longer mapped, and the
 * per-slot cost is one hash probe.
 * The mappings use the vif's own grant handle (vif->sgrant_xgt); the main
 * thread unmaps everything at disconnect, after the workers have stopped.
 *
 * The guest can rewrite a mapped page at any time: callers copy each slot
 * once into their own buffer and never read the mapping again, exactly as
 * with a grant copy. */
#ifndef NBD_SGRANT_H
#define NBD_SGRANT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <xenctrl.h>
#include <xengnttab.h>

#include "bridge/epoch.h"
#include "ring/netif_ctrl.h"

struct nbd_vif;
struct nbd_queue;

struct nbd_sgrant {
    grant_ref_t ref;
    bool writable;          /* frontend granted it writable: RX may use it */
    uint8_t *page;          /* our mapping of the guest page; NULL: free slot */
};

/* Open addressing (linear probing) keyed by ref, never more than half
 * full, so a probe sequence always ends at a free slot. Never written
 * while published. */
#define NBD_SGRANT_SLOT_BITS 10
#define NBD_SGRANT_SLOTS (1u << NBD_SGRANT_SLOT_BITS)
_Static_assert(NBD_SGRANT_SLOTS >= 2 * NETIF_GREF_TABLE_MAX, "a snapshot is at most half full");
struct nbd_sgrant_snap {
    unsigned n;
    struct nbd_sgrant slot[NBD_SGRANT_SLOTS];
};

struct nbd_sgrant_table {
    pthread_mutex_t lock;                   /* writers, one at a time */
    struct nbd_sgrant_snap *_Atomic cur;    /* NULL while there is no entry */
    unsigned spare;                         /* buf[spare] is not published */
    struct nb_epoch epoch;                  /* readers of cur */
    struct nbd_sgrant_snap buf[2];
};

void nbd_sgrant_table_init(struct nbd_sgrant_table *t);
void nbd_sgrant_table_destroy(struct nbd_sgrant_table *t);

/* Maps list[0..n) for queue q (queue 0's worker). Every entry is tried, so
 * list[i].status tells which ones could not be mapped (INVALID_PARAMETER)
 * or could (SUCCESS); unless all could, nothing stays mapped. Returns the
 * protocol status for the whole request. The caller has already checked the
 * queue index, the list length, the free room and duplicates. */
uint32_t nbd_sgrant_add(struct nbd_vif *vif, struct nbd_queue *q,
                        struct xen_netif_gref *list, unsigned n);
/* Unmaps the entries of list[0..n) whose status is SUCCESS (those the
 * bookkeeping in ring/ removed), once no reader can still be using them. */
void nbd_sgrant_del(struct nbd_vif *vif, struct nbd_queue *q,
                    const struct xen_netif_gref *list, unsigned n);
/* Unmaps every entry of every queue (main thread, workers stopped). */
void nbd_sgrant_unmap_all(struct nbd_vif *vif);

/* Data path, owning worker only. A burst's view of q's static grants,
 * opened at its first use (a burst that copies nothing pays nothing). */
struct nbd_sgrant_view {
    struct nbd_sgrant_table *t;
    const struct nbd_sgrant_snap *snap;     /* NULL: grant-copy everything */
    bool opened;
    struct nb_epoch_token tok;
    unsigned copies;                        /* counted into q's stats on leave */
};

/* Every view is closed with nbd_sgrant_leave within the same burst; in
 * between, the worker must not serve the control ring (its writer waits
 * for open views). */
static inline struct nbd_sgrant_view nbd_sgrant_view(struct nbd_sgrant_table *t)
{
    return (struct nbd_sgrant_view){ .t = t };
}
/* Enters the read section if the table has entries; returns v->snap. */
const struct nbd_sgrant_snap *nbd_sgrant_open(struct nbd_sgrant_view *v);
/* Leaves it, counting the copies into q's stats. */
void nbd_sgrant_close(struct nbd_queue *q, struct nbd_sgrant_view *v);

/* Inline: a burst that never opened its view (an empty poll, a guest
 * without static grants) pays a test, not a call. */
static inline void nbd_sgrant_leave(struct nbd_queue *q, struct nbd_sgrant_view *v)
{
    if (v->opened)
        nbd_sgrant_close(q, v);
}

static inline unsigned nbd_sgrant_hash(grant_ref_t ref)
{
    /* multiplicative hashing: refs a frontend allocates tend to be dense */
    return (uint32_t)(ref * 0x9e3779b1u) >> (32 - NBD_SGRANT_SLOT_BITS);
}

static inline const struct nbd_sgrant *nbd_sgrant_find(const struct nbd_sgrant_snap *s,
                                                       grant_ref_t ref)
{
    for (unsigned i = nbd_sgrant_hash(ref);; i = (i + 1) & (NBD_SGRANT_SLOTS - 1)) {
        const struct nbd_sgrant *e = &s->slot[i];
        if (!e->page)
            return NULL;
        if (e->ref == ref)
            return e;
    }
}

/* glibc's memcpy: knowing len is at most a page, GCC would inline a
 * `rep movsq` instead, measured 2-3x slower here for 64 and 1500 bytes
 * (hot cache). The empty asm hides the bound. */
static inline void nbd_sgrant_memcpy(void *dst, const void *src, size_t len)
{
    __asm__("" : "+r"(len));
    memcpy(dst, src, len);
}

/* Copies len bytes of guest page `ref` at off into dst (TX) or from src
 * into it (RX) if ref is in the view (and writable, for RX) and off + len
 * fits the page; returns false otherwise (the caller grant-copies as usual
 * and gets the usual verdict). */
static inline bool nbd_sgrant_copy_from(struct nbd_sgrant_view *v, grant_ref_t ref,
                                        uint16_t off, uint16_t len, void *dst)
{
    const struct nbd_sgrant *e;

    if ((uint32_t)off + len > NETIF_PAGE_SIZE || !(v->opened ? v->snap : nbd_sgrant_open(v)) ||
        !(e = nbd_sgrant_find(v->snap, ref)))
        return false;
    nbd_sgrant_memcpy(dst, e->page + off, len);
    v->copies++;
    return true;
}

static inline bool nbd_sgrant_copy_to(struct nbd_sgrant_view *v, grant_ref_t ref,
                                      uint16_t off, uint16_t len, const void *src)
{
    const struct nbd_sgrant *e;

    if ((uint32_t)off + len > NETIF_PAGE_SIZE || !(v->opened ? v->snap : nbd_sgrant_open(v)) ||
        !(e = nbd_sgrant_find(v->snap, ref)) || !e->writable)
        return false;
    nbd_sgrant_memcpy(e->page + off, src, len);
    v->copies++;
    return true;
}

#endif
