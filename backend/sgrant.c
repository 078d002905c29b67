/* Static grants: the mapped snapshots behind ADD/DEL_GREF_MAPPING and the
 * read sections of the workers that copy from them. See sgrant.h for who
 * touches what. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "backend/log.h"
#include "backend/netbackd.h"
#include "backend/sgrant.h"

void nbd_sgrant_table_init(struct nbd_sgrant_table *t)
{
    pthread_mutex_init(&t->lock, NULL);
    atomic_init(&t->cur, NULL);
    t->spare = 0;
    memset(t->buf, 0, sizeof(t->buf));
    nb_epoch_init(&t->epoch);
}

void nbd_sgrant_table_destroy(struct nbd_sgrant_table *t)
{
    nb_epoch_destroy(&t->epoch);
    pthread_mutex_destroy(&t->lock);
}

const struct nbd_sgrant_snap *nbd_sgrant_open(struct nbd_sgrant_view *v)
{
    struct nbd_sgrant_table *t = v->t;

    v->opened = true;
    if (!atomic_load_explicit(&t->cur, memory_order_relaxed))
        return v->snap = NULL;  /* a grant added meanwhile is grant-copied this burst */
    v->tok = nb_epoch_enter(&t->epoch);
    /* loaded again inside the section: a writer that unpublishes it from
     * here on waits for our nbd_sgrant_leave before unmapping */
    v->snap = atomic_load_explicit(&t->cur, memory_order_seq_cst);
    if (!v->snap)
        nb_epoch_leave(&t->epoch, v->tok);
    return v->snap;
}

void nbd_sgrant_close(struct nbd_queue *q, struct nbd_sgrant_view *v)
{
    if (v->snap) {
        nb_epoch_leave(&q->sgrants.epoch, v->tok);
        if (v->copies)
            nbd_stat_add(&q->stats.sgrant_copies, v->copies);
    }
    v->snap = NULL;
    v->opened = false;
    v->copies = 0;
}

/* Puts s into snap; returns the page of an entry with the same ref it
 * replaced (ring/ refuses duplicates, so only defensively), else NULL. */
static uint8_t *snap_put(struct nbd_sgrant_snap *snap, const struct nbd_sgrant *s)
{
    for (unsigned i = nbd_sgrant_hash(s->ref);; i = (i + 1) & (NBD_SGRANT_SLOTS - 1)) {
        struct nbd_sgrant *e = &snap->slot[i];
        if (!e->page) {
            *e = *s;
            snap->n++;
            return NULL;
        }
        if (e->ref == s->ref) {
            uint8_t *old = e->page;
            *e = *s;
            return old;
        }
    }
}

/* Removes ref from snap; returns its page, or NULL if absent. Linear
 * probing's backward shift: every entry after the hole that may live
 * there moves up, so no probe sequence is cut short by it. */
static uint8_t *snap_take(struct nbd_sgrant_snap *snap, grant_ref_t ref)
{
    const unsigned mask = NBD_SGRANT_SLOTS - 1;
    unsigned hole = nbd_sgrant_hash(ref);
    uint8_t *page;

    while (snap->slot[hole].page && snap->slot[hole].ref != ref)
        hole = (hole + 1) & mask;
    if (!(page = snap->slot[hole].page))
        return NULL;
    for (unsigned j = (hole + 1) & mask; snap->slot[j].page; j = (j + 1) & mask) {
        /* the entry at j stays if its home slot lies cyclically in (hole, j] */
        unsigned home = nbd_sgrant_hash(snap->slot[j].ref);
        if (((j - home) & mask) < ((j - hole) & mask))
            continue;
        snap->slot[hole] = snap->slot[j];
        hole = j;
    }
    snap->slot[hole] = (struct nbd_sgrant){ .page = NULL };
    snap->n--;
    return page;
}

/* The writer's side, under t->lock: the unpublished buffer, holding what
 * the published snapshot holds. */
static struct nbd_sgrant_snap *next_begin(struct nbd_sgrant_table *t)
{
    const struct nbd_sgrant_snap *cur = atomic_load_explicit(&t->cur, memory_order_relaxed);
    struct nbd_sgrant_snap *next = &t->buf[t->spare];

    if (cur)
        memcpy(next, cur, sizeof(*next));
    else
        memset(next, 0, sizeof(*next));
    return next;
}

/* Publishes next (NULL when it is empty) and returns once no reader can
 * still see the snapshot it replaces: that buffer is the spare again and
 * the pages only it held may be unmapped. */
static void next_publish(struct nbd_sgrant_table *t, struct nbd_sgrant_snap *next)
{
    atomic_store_explicit(&t->cur, next->n ? next : NULL, memory_order_seq_cst);
    nb_epoch_synchronize(&t->epoch);
    t->spare ^= 1;
}

static void unmap_page(struct nbd_vif *vif, uint8_t *page)
{
    if (xengnttab_unmap(vif->sgrant_xgt, page, 1))
        nbd_log_data(NBD_LOG_WARN, "%s: unmapping a static grant: %s", vif->name,
                     strerror(errno));
    nbd_stat_add(&vif->queues[0]->stats.sgrant_unmaps, 1);
}

uint32_t nbd_sgrant_add(struct nbd_vif *vif, struct nbd_queue *q,
                        struct xen_netif_gref *list, unsigned n)
{
    struct nbd_sgrant mapped[NETIF_GREF_TABLE_MAX];
    uint8_t *replaced[NETIF_GREF_TABLE_MAX];
    unsigned nmapped = 0, nreplaced = 0;
    struct nbd_sgrant_table *t = &q->sgrants;
    struct nbd_sgrant_snap *next;
    bool all = true;

    if (!vif->sgrant_xgt || n > NETIF_GREF_TABLE_MAX)
        return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
    for (unsigned i = 0; i < n; i++) {
        /* list is the caller's private copy of the guest's page */
        grant_ref_t ref = list[i].ref;
        bool writable = !(list[i].flags & XEN_NETIF_CTRLF_GREF_readonly);
        void *page = xengnttab_map_grant_ref(vif->sgrant_xgt, vif->domid, ref,
                                             writable ? PROT_READ | PROT_WRITE : PROT_READ);
        if (!page) {
            nbd_log(NBD_LOG_INFO, "%s: ADD_GREF_MAPPING: ref %u not mappable: %s", q->name,
                    ref, strerror(errno));
            list[i].status = XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
            all = false;
            continue;
        }
        nbd_stat_add(&vif->queues[0]->stats.sgrant_maps, 1);
        list[i].status = XEN_NETIF_CTRL_STATUS_SUCCESS;
        mapped[nmapped++] = (struct nbd_sgrant){ .ref = ref, .writable = writable, .page = page };
    }
    if (!all) {
        for (unsigned i = 0; i < nmapped; i++)
            unmap_page(vif, mapped[i].page);
        return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
    }
    pthread_mutex_lock(&t->lock);
    next = next_begin(t);
    for (unsigned i = 0; i < nmapped; i++) {
        /* ring/ keeps the table within its bound: past it (never), the page goes */
        uint8_t *old = next->n < NETIF_GREF_TABLE_MAX ? snap_put(next, &mapped[i]) : mapped[i].page;
        if (old)
            replaced[nreplaced++] = old;
    }
    next_publish(t, next);
    pthread_mutex_unlock(&t->lock);
    for (unsigned i = 0; i < nreplaced; i++)
        unmap_page(vif, replaced[i]);
    return XEN_NETIF_CTRL_STATUS_SUCCESS;
}

void nbd_sgrant_del(struct nbd_vif *vif, struct nbd_queue *q,
                    const struct xen_netif_gref *list, unsigned n)
{
    uint8_t *taken[NETIF_GREF_TABLE_MAX];
    unsigned ntaken = 0;
    struct nbd_sgrant_table *t = &q->sgrants;

    pthread_mutex_lock(&t->lock);
    if (atomic_load_explicit(&t->cur, memory_order_relaxed)) {
        struct nbd_sgrant_snap *next = next_begin(t);
        for (unsigned i = 0; i < n; i++) {
            uint8_t *page = list[i].status == XEN_NETIF_CTRL_STATUS_SUCCESS
                ? snap_take(next, list[i].ref) : NULL;
            if (page)
                taken[ntaken++] = page;
        }
        /* after this, no copy in progress can still be reading a taken page
         * (nothing taken: the published snapshot stays, no reader waited for) */
        if (ntaken)
            next_publish(t, next);
    }
    pthread_mutex_unlock(&t->lock);
    for (unsigned i = 0; i < ntaken; i++)
        unmap_page(vif, taken[i]);
}

void nbd_sgrant_unmap_all(struct nbd_vif *vif)
{
    for (unsigned i = 0; i < vif->num_queues; i++) {
        struct nbd_queue *q = vif->queues[i];
        struct nbd_sgrant_snap *cur;

        if (!q)
            continue;
        pthread_mutex_lock(&q->sgrants.lock);
        if ((cur = atomic_load_explicit(&q->sgrants.cur, memory_order_relaxed))) {
            struct nbd_sgrant_snap *next = &q->sgrants.buf[q->sgrants.spare];
            next->n = 0;
            next_publish(&q->sgrants, next);   /* publishes NULL */
            for (unsigned j = 0; j < NBD_SGRANT_SLOTS; j++)
                if (cur->slot[j].page)
                    unmap_page(vif, cur->slot[j].page);
        }
        pthread_mutex_unlock(&q->sgrants.lock);
    }
}
