/* Guest transmit: packets -> TX request slots (first slot's size = the
 * whole packet), extras after the first slot, one push per burst. */
#include <errno.h>
#include <string.h>

#include "backend/netfront/nf_priv.h"

/* Linux netfront never sends more than MAX_SKB_FRAGS + 1 = 18 slots; we keep
 * one below the backend's drop threshold. Bigger chains: the raw API. */
#define NF_MAX_TX_DATA_SLOTS 17

static unsigned tx_slot_size(const struct nf_txpkt *p)
{
    return p->slot_size && p->slot_size < NF_PAGE_SIZE ? p->slot_size : NF_PAGE_SIZE;
}

static int tx_data_slots(const struct netfront *nf, const struct nf_txpkt *p)
{
    if (p->len > NF_MAX_PKT || p->n_extras > NF_MAX_EXTRAS)
        return -EINVAL;
    unsigned ss = tx_slot_size(p);
    /* most packets fit one slot: no division for them */
    unsigned n = p->len <= ss ? 1 : (p->len + ss - 1) / ss;
    if (n > NF_MAX_TX_DATA_SLOTS || (n > 1 && !nf->be_sg))
        return -EINVAL;
    return (int)n;
}

static unsigned tx_ring_free(const struct nf_queue *q)
{
    return NF_TX_RING_SIZE - (q->tx.req_prod_pvt - q->tx.rsp_cons);
}

static uint16_t tx_take_id(struct nf_queue *q)
{
    uint16_t id = q->tx_free[--q->tx_nfree];
    q->tx_busy[id] = true;
    return id;
}

/* glibc's memcpy: knowing len is at most a page, GCC would inline a
 * `rep movsq`, several times slower for a small packet. The empty asm
 * hides the bound. */
static inline void tx_memcpy(void *dst, const void *src, size_t len)
{
    __asm__("" : "+r"(len));
    memcpy(dst, src, len);
}

/* The common packet: one slot, no extras. Returns the next free index. */
static RING_IDX tx_put_one(struct nf_queue *q, const struct nf_txpkt *p, RING_IDX i)
{
    uint16_t id = tx_take_id(q);
    netif_tx_request_t *req = RING_GET_REQUEST(&q->tx, i);

    tx_memcpy(q->tx_pool + (size_t)id * NF_PAGE_SIZE, p->data, p->len);
    req->gref = q->tx_grefs[id];
    req->offset = 0;
    req->flags = p->flags & (NETTXF_csum_blank | NETTXF_data_validated);
    req->id = id;
    req->size = (uint16_t)p->len;
    return i + 1;
}

static void tx_put_packet(struct netfront *nf, struct nf_queue *q, const struct nf_txpkt *p,
                          unsigned nslots)
{
    (void)nf;
    unsigned ss = tx_slot_size(p);
    const uint8_t *src = p->data;
    uint32_t left = p->len;
    RING_IDX i = q->tx.req_prod_pvt;

    for (unsigned s = 0; s < nslots; s++) {
        uint16_t id = tx_take_id(q);
        uint32_t chunk = left < ss ? left : ss;
        if (chunk)
            tx_memcpy(q->tx_pool + (size_t)id * NF_PAGE_SIZE, src, chunk);
        netif_tx_request_t *req = RING_GET_REQUEST(&q->tx, i);
        req->gref = q->tx_grefs[id];
        req->offset = 0;
        req->id = id;
        req->size = (uint16_t)(s == 0 ? p->len : chunk);
        uint16_t flags = s + 1 < nslots ? NETTXF_more_data : 0;
        if (s == 0)
            flags |= (p->flags & (NETTXF_csum_blank | NETTXF_data_validated)) |
                     (p->n_extras ? NETTXF_extra_info : 0);
        req->flags = flags;
        i++;
        if (s == 0) {
            for (unsigned e = 0; e < p->n_extras; e++) {
                struct netif_extra_info ex = p->extras[e];
                ex.flags = (uint8_t)((ex.flags & ~XEN_NETIF_EXTRA_FLAG_MORE) |
                                     (e + 1 < p->n_extras ? XEN_NETIF_EXTRA_FLAG_MORE : 0));
                memcpy(RING_GET_REQUEST(&q->tx, i), &ex, sizeof(ex));
                i++;
            }
        }
        if (chunk)
            src += chunk;
        left -= chunk;
    }
    q->tx.req_prod_pvt = i;
}

int netfront_tx_reap(struct netfront *nf, unsigned qi)
{
    struct nf_queue *q = &nf->q[qi];
    RING_IDX prod = q->tx.sring->rsp_prod;
    xen_rmb();
    /* Never trust the backend to publish more responses than requests. */
    if (prod - q->tx.rsp_cons > q->tx.req_prod_pvt - q->tx.rsp_cons)
        prod = q->tx.req_prod_pvt;
    int done = 0;
    uint64_t ok = 0, null = 0;
    for (RING_IDX i = q->tx.rsp_cons; i != prod; i++) {
        /* one read of the shared slot: id and status come together */
        netif_tx_response_t r = *RING_GET_RESPONSE(&q->tx, i);
        if (r.status != NETIF_RSP_OKAY) {
            if (r.status == NETIF_RSP_NULL) {
                null++;
                continue;
            }
            if (r.status == NETIF_RSP_DROPPED)
                q->stats.tx_rsp_dropped++;
            else
                q->stats.tx_rsp_error++;
        } else {
            ok++;
        }
        /* An id we don't have in flight (a buggy backend) is ignored. */
        if (r.id < NF_TX_RING_SIZE && q->tx_busy[r.id]) {
            q->tx_busy[r.id] = false;
            q->tx_free[q->tx_nfree++] = r.id;
        }
        done++;
    }
    q->stats.tx_rsp_ok += ok;
    q->stats.tx_rsp_null += null;
    q->tx.rsp_cons = prod;
    return done;
}

unsigned netfront_tx_inflight(const struct netfront *nf, unsigned qi)
{
    return NF_TX_RING_SIZE - nf->q[qi].tx_nfree;
}

int netfront_tx_burst(struct netfront *nf, unsigned qi, const struct nf_txpkt *pkts, unsigned n)
{
    if (qi >= nf->num_queues || !nf->connected)
        return -EINVAL;
    struct nf_queue *q = &nf->q[qi];
    netfront_tx_reap(nf, qi);
    unsigned sent = 0, ring_free = tx_ring_free(q);
    uint64_t bytes = 0, slots = 0;
    int rc = 0;
    for (; sent < n; sent++) {
        const struct nf_txpkt *p = &pkts[sent];
        int data = tx_data_slots(nf, p);
        if (data < 0) {
            rc = data;
            break;
        }
        unsigned need = (unsigned)data + p->n_extras;
        if (need > ring_free || (unsigned)data > q->tx_nfree)
            break;
        if (need == 1)
            q->tx.req_prod_pvt = tx_put_one(q, p, q->tx.req_prod_pvt);
        else
            tx_put_packet(nf, q, p, (unsigned)data);
        ring_free -= need;
        bytes += p->len;
        slots += (unsigned)data;
    }
    q->stats.tx_pkts += sent;
    q->stats.tx_bytes += bytes;
    q->stats.tx_slots += slots;
    int notify;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&q->tx, notify);
    if (notify)
        nf_notify(q, q->evtchn_tx, &q->stats.notify_tx);
    return sent ? (int)sent : rc;
}
