/* The hostile raw API: lets a test write whatever it likes into the TX ring,
 * as a malicious frontend would, and read back the backend's answers. */
#include <stdio.h>
#include <string.h>

#include "backend/netfront/nf_priv.h"

uint32_t netfront_raw_tx_prod(const struct netfront *nf, unsigned q)
{
    return nf->q[q].tx.req_prod_pvt;
}

void netfront_raw_tx_put(struct netfront *nf, unsigned q, uint32_t idx, const netif_tx_request_t *req)
{
    *RING_GET_REQUEST(&nf->q[q].tx, idx) = *req;
}

void netfront_raw_tx_put_extra(struct netfront *nf, unsigned q, uint32_t idx,
                               const struct netif_extra_info *ex)
{
    memcpy(RING_GET_REQUEST(&nf->q[q].tx, idx), ex, sizeof(*ex));
}

void netfront_raw_tx_publish(struct netfront *nf, unsigned qi, uint32_t prod)
{
    struct nf_queue *q = &nf->q[qi];
    xen_wmb();
    q->tx.sring->req_prod = prod;
    xen_mb();
    q->tx.req_prod_pvt = prod;
    nf_notify(q, q->evtchn_tx, &q->stats.notify_tx);
}

uint32_t netfront_raw_tx_gref(const struct netfront *nf, unsigned q, unsigned id)
{
    return nf->q[q].tx_grefs[id % NF_TX_RING_SIZE];
}

void *netfront_raw_tx_page(struct netfront *nf, unsigned q, unsigned id)
{
    return nf->q[q].tx_pool + (size_t)(id % NF_TX_RING_SIZE) * NF_PAGE_SIZE;
}

int netfront_raw_tx_responses(struct netfront *nf, unsigned qi, netif_tx_response_t *rsp, unsigned n)
{
    struct nf_queue *q = &nf->q[qi];
    RING_IDX prod = q->tx.sring->rsp_prod;
    xen_rmb();
    unsigned got = 0;
    while (q->tx.rsp_cons != prod && got < n) {
        rsp[got++] = *RING_GET_RESPONSE(&q->tx, q->tx.rsp_cons);
        q->tx.rsp_cons++;
    }
    return (int)got;
}

void netfront_dump_rings(const struct netfront *nf, FILE *f)
{
    for (unsigned i = 0; i < nf->num_queues; i++) {
        const struct nf_queue *q = &nf->q[i];
        if (!q->tx_sring)
            continue;
        fprintf(f, "queue %u tx: req_prod %u/pvt %u rsp_prod %u rsp_cons %u rsp_event %u free ids %u | "
                "rx: req_prod %u req_event %u rsp_prod %u rsp_cons %u rsp_event %u\n",
                i, q->tx.sring->req_prod, q->tx.req_prod_pvt, q->tx.sring->rsp_prod, q->tx.rsp_cons,
                q->tx.sring->rsp_event, q->tx_nfree, q->rx.sring->req_prod, q->rx.sring->req_event,
                q->rx.sring->rsp_prod, q->rx.rsp_cons, q->rx.sring->rsp_event);
    }
}

void netfront_raw_rx_post_limit(struct netfront *nf, unsigned qi, unsigned limit)
{
    struct nf_queue *q = &nf->q[qi];
    q->rx_post_limit = limit > NF_RX_RING_SIZE ? NF_RX_RING_SIZE : limit;
    if (nf->connected)
        nf_rx_post_all(nf, q);
}
