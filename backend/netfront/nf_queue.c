/* One queue's shared resources: two ring pages, a TX and an RX buffer pool
 * (granted once, refs reused for the queue's whole life), event channel(s). */
#include <errno.h>
#include <string.h>

#include "backend/netfront/nf_priv.h"

void nf_notify(struct nf_queue *q, int port, uint64_t *counter)
{
    if (port >= 0 && xenevtchn_notify(q->xce, (evtchn_port_t)port) == 0)
        (*counter)++;
}

void nf_rx_post_all(struct netfront *nf, struct nf_queue *q)
{
    (void)nf;
    /* Ring slot i always uses RX buffer i & mask: a response lands in the slot
     * of its request, so the buffer is free again once the slot is consumed. */
    unsigned limit = q->rx_post_limit ? q->rx_post_limit : NF_RX_RING_SIZE;
    while (q->rx.req_prod_pvt - q->rx.rsp_cons < limit) {
        RING_IDX i = q->rx.req_prod_pvt;
        netif_rx_request_t *req = RING_GET_REQUEST(&q->rx, i);
        unsigned id = i & (NF_RX_RING_SIZE - 1);
        req->id = (uint16_t)id;
        req->gref = q->rx_grefs[id];
        q->rx.req_prod_pvt = i + 1;
    }
    int notify;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&q->rx, notify);
    if (notify)
        nf_notify(q, q->evtchn_rx, &q->stats.notify_rx);
}

int nf_queue_setup(struct netfront *nf, struct nf_queue *q)
{
    unsigned idx = q->index;
    struct nf_stats kept = q->stats;    /* counters survive a reconnect */
    memset(q, 0, sizeof(*q));
    q->index = idx;
    q->stats = kept;
    q->evtchn_tx = q->evtchn_rx = -1;
    uint32_t be = nf->backend_domid;
    int rc;

    q->xce = xenevtchn_open(NULL, 0);
    if (!q->xce)
        return -errno;
    q->tx_sring = xengntshr_share_pages(nf->xgs, be, 1, &q->tx_ring_ref, 1);
    if (!q->tx_sring)
        goto fail_errno;
    q->rx_sring = xengntshr_share_pages(nf->xgs, be, 1, &q->rx_ring_ref, 1);
    if (!q->rx_sring)
        goto fail_errno;
    /* TX pages are only read by the backend: share them read-only. */
    q->tx_pool = xengntshr_share_pages(nf->xgs, be, NF_TX_RING_SIZE, q->tx_grefs, 0);
    if (!q->tx_pool)
        goto fail_errno;
    q->rx_pool = xengntshr_share_pages(nf->xgs, be, NF_RX_RING_SIZE, q->rx_grefs, 1);
    if (!q->rx_pool)
        goto fail_errno;

    netif_tx_sring_t *txs = q->tx_sring;
    netif_rx_sring_t *rxs = q->rx_sring;
    SHARED_RING_INIT(txs);
    FRONT_RING_INIT(&q->tx, txs, NF_PAGE_SIZE);
    SHARED_RING_INIT(rxs);
    FRONT_RING_INIT(&q->rx, rxs, NF_PAGE_SIZE);
    for (unsigned i = 0; i < NF_TX_RING_SIZE; i++)
        q->tx_free[i] = (uint16_t)(NF_TX_RING_SIZE - 1 - i);
    q->tx_nfree = NF_TX_RING_SIZE;

    xenevtchn_port_or_error_t p = xenevtchn_bind_unbound_port(q->xce, be);
    if (p < 0)
        goto fail_errno;
    q->evtchn_tx = q->evtchn_rx = p;
    if (nf->split) {
        p = xenevtchn_bind_unbound_port(q->xce, be);
        if (p < 0)
            goto fail_errno;
        q->evtchn_rx = p;
    }
    /* Post every RX buffer now; the push is seen once the backend maps. */
    nf_rx_post_all(nf, q);
    return 0;

fail_errno:
    rc = errno ? -errno : -EIO;
    nf_queue_teardown(nf, q);
    return rc;
}

void nf_queue_teardown(struct netfront *nf, struct nf_queue *q)
{
    if (q->xce) {
        if (q->evtchn_rx >= 0 && q->evtchn_rx != q->evtchn_tx)
            xenevtchn_unbind(q->xce, (evtchn_port_t)q->evtchn_rx);
        if (q->evtchn_tx >= 0)
            xenevtchn_unbind(q->xce, (evtchn_port_t)q->evtchn_tx);
        xenevtchn_close(q->xce);
        q->xce = NULL;
    }
    q->evtchn_tx = q->evtchn_rx = -1;
    if (q->rx_pool)
        xengntshr_unshare(nf->xgs, q->rx_pool, NF_RX_RING_SIZE);
    if (q->tx_pool)
        xengntshr_unshare(nf->xgs, q->tx_pool, NF_TX_RING_SIZE);
    if (q->rx_sring)
        xengntshr_unshare(nf->xgs, q->rx_sring, 1);
    if (q->tx_sring)
        xengntshr_unshare(nf->xgs, q->tx_sring, 1);
    q->rx_pool = q->tx_pool = NULL;
    q->rx_sring = q->tx_sring = NULL;
}
