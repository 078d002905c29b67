/* Packet pool: two buffer sizes (a standard frame, and netif's largest),
 * allocated lazily and recycled through free lists. One mutex per pool; the
 * burst free takes it once per burst, so its cost is paid per burst, not
 * per packet. The struct and its buffer share one allocation. */
#include "bridge/pkt.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Small buffers hold a 1500-byte-MTU frame with a VLAN tag and slack. */
#define SMALL_DATA 2048u
#define LARGE_DATA (NB_PKT_MAX_LEN + 1u)
/* Large buffers are 64 KiB each: keep only a few of them around. */
#define LARGE_CACHE_MAX 64u

enum { CLASS_SMALL, CLASS_LARGE, CLASS__COUNT };

struct nb_pkt_pool {
    char name[32];
    pthread_mutex_t lock;
    struct nb_pkt *free_list[CLASS__COUNT];
    unsigned cached[CLASS__COUNT];
    unsigned max_pkts;
    unsigned in_use;
    bool dying;
};

static const uint32_t class_data[CLASS__COUNT] = { SMALL_DATA, LARGE_DATA };

struct nb_pkt_pool *nb_pkt_pool_new(const char *name, unsigned max_pkts)
{
    struct nb_pkt_pool *pool = calloc(1, sizeof(*pool));

    if (!pool)
        return NULL;
    snprintf(pool->name, sizeof(pool->name), "%s", name ? name : "pool");
    pthread_mutex_init(&pool->lock, NULL);
    pool->max_pkts = max_pkts;
    return pool;
}

static void pool_destroy(struct nb_pkt_pool *pool)
{
    for (int c = 0; c < CLASS__COUNT; c++) {
        struct nb_pkt *p = pool->free_list[c];
        while (p) {
            struct nb_pkt *next = p->next_free;
            free(p);
            p = next;
        }
    }
    pthread_mutex_destroy(&pool->lock);
    free(pool);
}

void nb_pkt_pool_free(struct nb_pkt_pool *pool)
{
    bool last;

    if (!pool)
        return;
    pthread_mutex_lock(&pool->lock);
    pool->dying = true;
    last = pool->in_use == 0;
    pthread_mutex_unlock(&pool->lock);
    if (last)
        pool_destroy(pool);
}

unsigned nb_pkt_pool_in_use(struct nb_pkt_pool *pool)
{
    unsigned n;

    pthread_mutex_lock(&pool->lock);
    n = pool->in_use;
    pthread_mutex_unlock(&pool->lock);
    return n;
}

/* A new packet of class c: the struct and its buffer in one allocation,
 * on a cache line boundary. With the struct (64 bytes) and the headroom
 * a line each, the frame starts on a line: a 64-byte frame is one line to
 * copy in, not two halves, and the struct is never split. */
static struct nb_pkt *pkt_new(struct nb_pkt_pool *pool, int c)
{
    uint32_t buf_size = NB_PKT_HEADROOM + class_data[c];
    size_t size = (sizeof(struct nb_pkt) + buf_size + 63) & ~(size_t)63;
    struct nb_pkt *pkt = aligned_alloc(64, size);

    if (!pkt)
        return NULL;
    pkt->buf = (uint8_t *)(pkt + 1);
    pkt->buf_size = buf_size;
    pkt->pool = pool;
    return pkt;
}

static int class_of(uint32_t len)
{
    return len <= SMALL_DATA ? CLASS_SMALL : CLASS_LARGE;
}

static void pkt_reset(struct nb_pkt *pkt, uint32_t len)
{
    pkt->data = pkt->buf + NB_PKT_HEADROOM;
    pkt->len = len;
    pkt->flags = 0;
    pkt->csum_start = pkt->csum_offset = 0;
    pkt->gso_type = NB_GSO_NONE;
    pkt->gso_size = 0;
    pkt->hash = 0;
    pkt->hash_type = 0;
    pkt->vlan_tci = 0;
    pkt->next_free = NULL;
    atomic_store_explicit(&pkt->refcnt, 1, memory_order_relaxed);
}

struct nb_pkt *nb_pkt_alloc(struct nb_pkt_pool *pool, uint32_t len)
{
    struct nb_pkt *pkt;
    int c;

    if (len > NB_PKT_MAX_LEN)
        return NULL;
    c = class_of(len);
    pthread_mutex_lock(&pool->lock);
    if (pool->in_use >= pool->max_pkts || pool->dying) {
        pthread_mutex_unlock(&pool->lock);
        return NULL;
    }
    pool->in_use++;
    pkt = pool->free_list[c];
    if (pkt) {
        pool->free_list[c] = pkt->next_free;
        pool->cached[c]--;
    }
    pthread_mutex_unlock(&pool->lock);

    if (!pkt && !(pkt = pkt_new(pool, c))) {
        pthread_mutex_lock(&pool->lock);
        pool->in_use--;
        pthread_mutex_unlock(&pool->lock);
        return NULL;
    }
    pkt_reset(pkt, len);
    return pkt;
}

unsigned nb_pkt_alloc_bulk(struct nb_pkt_pool *pool, uint32_t len, struct nb_pkt **out, unsigned n)
{
    unsigned want, got = 0, have;
    int c;

    if (len > NB_PKT_MAX_LEN)
        return 0;
    c = class_of(len);
    pthread_mutex_lock(&pool->lock);
    want = pool->dying || pool->in_use >= pool->max_pkts ? 0 : pool->max_pkts - pool->in_use;
    if (want > n)
        want = n;
    pool->in_use += want;
    for (; got < want && pool->free_list[c]; got++) {
        out[got] = pool->free_list[c];
        pool->free_list[c] = out[got]->next_free;
        pool->cached[c]--;
    }
    pthread_mutex_unlock(&pool->lock);

    for (have = got; have < want; have++)
        if (!(out[have] = pkt_new(pool, c)))
            break;
    if (have < want) {
        pthread_mutex_lock(&pool->lock);
        pool->in_use -= want - have;
        pthread_mutex_unlock(&pool->lock);
    }
    for (unsigned i = 0; i < have; i++)
        pkt_reset(out[i], len);
    return have;
}

/* Returns packets whose last reference is gone, all from one pool. */
static void pool_put(struct nb_pkt_pool *pool, struct nb_pkt **pkts, unsigned n)
{
    struct nb_pkt *to_free = NULL;
    bool destroy;

    pthread_mutex_lock(&pool->lock);
    /* room left in each free list (none while dying), worked out once */
    unsigned room[CLASS__COUNT] = { 0, 0 };
    if (!pool->dying) {
        static const unsigned large_max = LARGE_CACHE_MAX;
        unsigned small_max = pool->max_pkts;
        room[CLASS_SMALL] = pool->cached[CLASS_SMALL] < small_max ? small_max - pool->cached[CLASS_SMALL] : 0;
        room[CLASS_LARGE] = pool->cached[CLASS_LARGE] < large_max ? large_max - pool->cached[CLASS_LARGE] : 0;
    }
    for (unsigned i = 0; i < n; i++) {
        struct nb_pkt *p = pkts[i];
        int c = p->buf_size > NB_PKT_HEADROOM + SMALL_DATA ? CLASS_LARGE : CLASS_SMALL;
        if (room[c]) {
            room[c]--;
            p->next_free = pool->free_list[c];
            pool->free_list[c] = p;
            pool->cached[c]++;
        } else {
            p->next_free = to_free;
            to_free = p;
        }
    }
    pool->in_use -= n;
    destroy = pool->dying && pool->in_use == 0;
    pthread_mutex_unlock(&pool->lock);

    while (to_free) {
        struct nb_pkt *next = to_free->next_free;
        free(to_free);
        to_free = next;
    }
    if (destroy)
        pool_destroy(pool);
}

/* Drops one reference; true when it was the last. A holder that sees
 * refcnt 1 has the only reference: no other thread can change the count
 * (taking one needs a reference), so the common unshared packet skips the
 * locked read-modify-write. The acquire load pairs with the release of
 * the other holders' decrements, as the RMW's acquire did. */
static bool put_ref(struct nb_pkt *pkt)
{
    if (atomic_load_explicit(&pkt->refcnt, memory_order_acquire) == 1)
        return true;
    return atomic_fetch_sub_explicit(&pkt->refcnt, 1, memory_order_acq_rel) == 1;
}

void nb_pkt_free(struct nb_pkt *pkt)
{
    if (pkt && put_ref(pkt))
        pool_put(pkt->pool, &pkt, 1);
}

void nb_pkt_free_burst(struct nb_pkt **pkts, unsigned n)
{
    struct nb_pkt *dead[NB_BURST];
    struct nb_pkt_pool *pool = NULL;    /* of dead[], while nd > 0 */
    unsigned nd = 0;

    for (unsigned i = 0; i < n; i++) {
        struct nb_pkt *p = pkts[i];
        if (!p || !put_ref(p))
            continue;
        /* Flush whenever the pool changes or the batch is full. */
        if (nd && (nd == NB_BURST || pool != p->pool)) {
            pool_put(pool, dead, nd);
            nd = 0;
        }
        pool = p->pool;
        dead[nd++] = p;
    }
    if (nd)
        pool_put(pool, dead, nd);
}

struct nb_pkt *nb_pkt_copy(const struct nb_pkt *pkt)
{
    struct nb_pkt *c = nb_pkt_alloc(pkt->pool, pkt->len);

    if (!c)
        return NULL;
    memcpy(c->data, pkt->data, pkt->len);
    c->flags = pkt->flags;
    c->csum_start = pkt->csum_start;
    c->csum_offset = pkt->csum_offset;
    c->gso_type = pkt->gso_type;
    c->gso_size = pkt->gso_size;
    c->hash = pkt->hash;
    c->hash_type = pkt->hash_type;
    c->vlan_tci = pkt->vlan_tci;
    return c;
}

struct nb_pkt *nb_pkt_unshare(struct nb_pkt *pkt)
{
    struct nb_pkt *c;

    if (atomic_load_explicit(&pkt->refcnt, memory_order_acquire) == 1)
        return pkt;
    c = nb_pkt_copy(pkt);
    if (c)
        nb_pkt_free(pkt);
    return c;
}

uint8_t *nb_pkt_push(struct nb_pkt *pkt, uint32_t n)
{
    if ((uint32_t)(pkt->data - pkt->buf) < n)
        return NULL;
    pkt->data -= n;
    pkt->len += n;
    return pkt->data;
}
