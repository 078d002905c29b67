/* Static grants: the mapped table behind ADD/DEL_GREF_MAPPING and the
 * memcpy that replaces a grant copy for a slot whose page is in it. See
 * sgrant.h for who touches what. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "backend/log.h"
#include "backend/netbackd.h"
#include "backend/sgrant.h"

void nbd_sgrant_table_init(struct nbd_sgrant_table *t)
{
    pthread_mutex_init(&t->lock, NULL);
    t->n = 0;
}

void nbd_sgrant_table_destroy(struct nbd_sgrant_table *t)
{
    pthread_mutex_destroy(&t->lock);
}

/* Index of the first entry with ref >= want (binary search). */
static unsigned lower_bound(const struct nbd_sgrant_table *t, grant_ref_t want)
{
    unsigned lo = 0, hi = t->n;

    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        if (t->e[mid].ref < want)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static struct nbd_sgrant *find(struct nbd_sgrant_table *t, grant_ref_t ref)
{
    unsigned at = lower_bound(t, ref);

    return at < t->n && t->e[at].ref == ref ? &t->e[at] : NULL;
}

static void insert(struct nbd_sgrant_table *t, const struct nbd_sgrant *s)
{
    unsigned at = lower_bound(t, s->ref);

    memmove(&t->e[at + 1], &t->e[at], (t->n - at) * sizeof(t->e[0]));
    t->e[at] = *s;
    __atomic_store_n(&t->n, t->n + 1, __ATOMIC_RELAXED);
}

/* Removes ref from the table; returns its page or NULL if absent. */
static uint8_t *take(struct nbd_sgrant_table *t, grant_ref_t ref)
{
    unsigned at = lower_bound(t, ref);
    uint8_t *page;

    if (at >= t->n || t->e[at].ref != ref)
        return NULL;
    page = t->e[at].page;
    memmove(&t->e[at], &t->e[at + 1], (t->n - at - 1) * sizeof(t->e[0]));
    __atomic_store_n(&t->n, t->n - 1, __ATOMIC_RELAXED);
    return page;
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
    unsigned nmapped = 0;
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
    pthread_mutex_lock(&q->sgrants.lock);
    for (unsigned i = 0; i < nmapped; i++)
        insert(&q->sgrants, &mapped[i]);
    pthread_mutex_unlock(&q->sgrants.lock);
    return XEN_NETIF_CTRL_STATUS_SUCCESS;
}

void nbd_sgrant_del(struct nbd_vif *vif, struct nbd_queue *q,
                    const struct xen_netif_gref *list, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        uint8_t *page;

        if (list[i].status != XEN_NETIF_CTRL_STATUS_SUCCESS)
            continue;
        /* the lock waits for a copy in progress on the owning worker */
        pthread_mutex_lock(&q->sgrants.lock);
        page = take(&q->sgrants, list[i].ref);
        pthread_mutex_unlock(&q->sgrants.lock);
        if (page)
            unmap_page(vif, page);
    }
}

void nbd_sgrant_unmap_all(struct nbd_vif *vif)
{
    for (unsigned i = 0; i < vif->num_queues; i++) {
        struct nbd_queue *q = vif->queues[i];
        if (!q)
            continue;
        pthread_mutex_lock(&q->sgrants.lock);
        for (unsigned j = 0; j < q->sgrants.n; j++)
            unmap_page(vif, q->sgrants.e[j].page);
        __atomic_store_n(&q->sgrants.n, 0, __ATOMIC_RELAXED);
        pthread_mutex_unlock(&q->sgrants.lock);
    }
}

bool nbd_sgrant_copy_from(struct nbd_queue *q, grant_ref_t ref, uint16_t off,
                          uint16_t len, void *dst)
{
    struct nbd_sgrant *s;
    bool done = false;

    if (!__atomic_load_n(&q->sgrants.n, __ATOMIC_RELAXED) || (uint32_t)off + len > NETIF_PAGE_SIZE)
        return false;
    pthread_mutex_lock(&q->sgrants.lock);
    if ((s = find(&q->sgrants, ref))) {
        memcpy(dst, s->page + off, len);
        done = true;
    }
    pthread_mutex_unlock(&q->sgrants.lock);
    if (done)
        nbd_stat_add(&q->stats.sgrant_copies, 1);
    return done;
}

bool nbd_sgrant_copy_to(struct nbd_queue *q, grant_ref_t ref, uint16_t off,
                        uint16_t len, const void *src)
{
    struct nbd_sgrant *s;
    bool done = false;

    if (!__atomic_load_n(&q->sgrants.n, __ATOMIC_RELAXED) || (uint32_t)off + len > NETIF_PAGE_SIZE)
        return false;
    pthread_mutex_lock(&q->sgrants.lock);
    if ((s = find(&q->sgrants, ref)) && s->writable) {
        memcpy(s->page + off, src, len);
        done = true;
    }
    pthread_mutex_unlock(&q->sgrants.lock);
    if (done)
        nbd_stat_add(&q->stats.sgrant_copies, 1);
    return done;
}
