/* Static grants, frontend side (see nf_static.h). The gref list goes in a
 * page granted writable for the request's duration: the backend copies the
 * list in and the per-entry statuses back. */
#include <errno.h>
#include <string.h>

#include "backend/netfront/nf_priv.h"
#include "backend/netfront/nf_static.h"

#define LIST_MAX (NF_PAGE_SIZE / sizeof(struct xen_netif_gref))

static int timeout_ms(const struct netfront *nf)
{
    return nf->cfg.timeout_ms ? (int)nf->cfg.timeout_ms : 10000;
}

static int status_to_errno(uint32_t status)
{
    switch (status) {
    case XEN_NETIF_CTRL_STATUS_SUCCESS:       return 0;
    case XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED: return -EOPNOTSUPP;
    default:                                  return -EIO;
    }
}

/* One ADD_GREF_MAPPING of refs[0..n) for queue q. */
static int add_list(struct netfront *nf, unsigned q, const uint32_t *refs, unsigned n,
                    uint16_t flags)
{
    struct xen_netif_gref *list;
    uint32_t list_ref, status, data;
    int rc;

    if (!n)
        return 0;
    if (n > LIST_MAX)
        return -EINVAL;
    list = xengntshr_share_pages(nf->xgs, nf->backend_domid, 1, &list_ref, 1);
    if (!list)
        return errno ? -errno : -ENOMEM;
    for (unsigned i = 0; i < n; i++)
        list[i] = (struct xen_netif_gref){ .ref = refs[i], .flags = flags };
    rc = netfront_ctrl(nf, XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING, q, list_ref, n, &status, &data,
                       timeout_ms(nf));
    if (rc == 0)
        rc = status_to_errno(status);
    xengntshr_unshare(nf->xgs, list, 1);
    return rc;
}

int netfront_static_grants_register(struct netfront *nf)
{
    int total = 0;

    if (!netfront_has_ctrl(nf))
        return -ENOTCONN;
    for (unsigned q = 0; q < nf->num_queues; q++) {
        struct nf_queue *nq = &nf->q[q];
        uint32_t status, room;
        unsigned n_rx, n_tx;
        int rc = netfront_ctrl(nf, XEN_NETIF_CTRL_TYPE_GET_GREF_MAPPING_SIZE, q, 0, 0,
                               &status, &room, timeout_ms(nf));

        if (rc == 0)
            rc = status_to_errno(status);
        if (rc < 0)
            return rc;
        n_rx = room < NF_RX_RING_SIZE ? room : NF_RX_RING_SIZE;
        room -= n_rx;
        n_tx = room < NF_TX_RING_SIZE ? room : NF_TX_RING_SIZE;
        if ((rc = add_list(nf, q, nq->rx_grefs, n_rx, 0)) < 0 ||
            (rc = add_list(nf, q, nq->tx_grefs, n_tx, XEN_NETIF_CTRLF_GREF_readonly)) < 0)
            return rc;
        total += (int)(n_rx + n_tx);
    }
    return total;
}
