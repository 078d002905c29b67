/* The control ring (feature-ctrl-ring), served by queue 0's worker: hash
 * algorithm, flags, key and mapping table for RX queue selection and hash
 * extras. The protocol logic and every bound are ring/netif_ctrl's; this
 * file only moves requests, does the grant copies the requests need, and
 * answers. The static-grant requests (GET_GREF_MAPPING_SIZE,
 * ADD/DEL_GREF_MAPPING) keep ring/'s bookkeeping and sgrant.c's mappings in
 * step: an ADD is mapped after ring/ accepted it and taken back from ring/
 * if any page can't be mapped; a DEL unmaps what ring/ removed. Both copy
 * the list back so the guest sees the per-entry statuses (DEL's are the
 * protocol's; ADD's say which refs could not be mapped, a hint the header
 * leaves unused — the response status decides). */
#include <string.h>

#include "backend/log.h"
#include "backend/netbackd.h"

#define CTRL_RING_SLOTS NETIF_CTRL_RING_SIZE

/* Copies the request's table out of the guest page into buf. */
static bool copy_in(struct nbd_vif *vif, struct nbd_queue *q0,
                    const struct netif_ctrl_copy *c, uint8_t *buf)
{
    xengnttab_grant_copy_segment_t seg = {
        .source.foreign = { .ref = c->gref, .offset = c->offset, .domid = (uint16_t)vif->domid },
        .dest.virt = buf,
        .len = c->len,
        .flags = GNTCOPY_source_gref,
    };
    return nbd_queue_gcopy(q0, &seg, 1) == 0 && seg.status == GNTST_okay;
}

/* Writes buf back over the request's table (the gref list's statuses). A
 * list page granted read-only just doesn't get them. */
static void copy_out(struct nbd_vif *vif, struct nbd_queue *q0,
                     const struct netif_ctrl_copy *c, uint8_t *buf)
{
    xengnttab_grant_copy_segment_t seg = {
        .source.virt = buf,
        .dest.foreign = { .ref = c->gref, .offset = c->offset, .domid = (uint16_t)vif->domid },
        .len = c->len,
        .flags = GNTCOPY_dest_gref,
    };
    nbd_queue_gcopy(q0, &seg, 1);
}

static bool is_gref_op(uint16_t type)
{
    return type == XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING ||
           type == XEN_NETIF_CTRL_TYPE_DEL_GREF_MAPPING;
}

/* After ring/ judged an ADD/DEL list (rsp): map or unmap accordingly. */
static void apply_gref_op(struct nbd_vif *vif, const struct xen_netif_ctrl_request *req,
                          struct xen_netif_gref *list, unsigned n,
                          struct xen_netif_ctrl_response *rsp)
{
    struct nbd_queue *q = req->data[0] < vif->num_queues ? vif->queues[req->data[0]] : NULL;

    if (rsp->status != XEN_NETIF_CTRL_STATUS_SUCCESS || !q)
        return;
    if (req->type == XEN_NETIF_CTRL_TYPE_DEL_GREF_MAPPING) {
        nbd_sgrant_del(vif, q, list, n);
        return;
    }
    rsp->status = nbd_sgrant_add(vif, q, list, n);
    if (rsp->status != XEN_NETIF_CTRL_STATUS_SUCCESS) {
        struct xen_netif_gref undo[NETIF_PAGE_SIZE / sizeof(struct xen_netif_gref)];
        memcpy(undo, list, n * sizeof(*list));
        pthread_mutex_lock(&vif->ctrl_lock);
        netif_gref_table_del(&vif->ctrl.gref[req->data[0]], undo, n);
        pthread_mutex_unlock(&vif->ctrl_lock);
    }
}

unsigned nbd_ctrl_poll(struct nbd_vif *vif)
{
    struct nbd_queue *q0 = vif->queues[0];
    struct nbd_ctrl_ring *c = &vif->ctrl_ring;
    struct xen_netif_ctrl_request reqs[CTRL_RING_SLOTS];
    unsigned produced;
    int n = netif_ctrl_copy_requests(&c->ring, reqs, CTRL_RING_SLOTS, &produced);

    if (n < 0) {
        nbd_stat_add(&q0->stats.tx_errors, 1);
        nbd_vif_disable(vif, "control ring: impossible producer index");
        return 0;
    }
    for (int i = 0; i < n; i++) {
        struct xen_netif_ctrl_response rsp;
        struct netif_ctrl_copy copy;
        enum netif_ctrl_action act;
        uint8_t buf[NETIF_PAGE_SIZE] __attribute__((aligned(8)));

        pthread_mutex_lock(&vif->ctrl_lock);
        act = netif_ctrl_handle(&vif->ctrl, &reqs[i], &rsp, &copy);
        pthread_mutex_unlock(&vif->ctrl_lock);
        if (act == NETIF_CTRL_NEED_COPY) {
            bool ok = copy_in(vif, q0, &copy, buf);
            pthread_mutex_lock(&vif->ctrl_lock);
            netif_ctrl_handle_data(&vif->ctrl, &reqs[i], ok ? buf : NULL, copy.len, &rsp);
            pthread_mutex_unlock(&vif->ctrl_lock);
            if (ok && is_gref_op(reqs[i].type)) {
                apply_gref_op(vif, &reqs[i], (struct xen_netif_gref *)buf,
                              copy.len / sizeof(struct xen_netif_gref), &rsp);
                copy_out(vif, q0, &copy, buf);
            }
        }
        c->ring.req_cons++;
        netif_ctrl_respond(&c->ring, &rsp);
        nbd_stat_add(&q0->stats.ctrl_requests, 1);
    }
    if (n) {
        int notify;
        RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&c->ring, notify);
        if (notify) {
            xenevtchn_notify(q0->xce, c->port);
            nbd_stat_add(&q0->stats.notify_sent, 1);
        }
    }
    return (unsigned)n;
}

bool nbd_ctrl_final_check(struct nbd_vif *vif)
{
    int more;

    RING_FINAL_CHECK_FOR_REQUESTS(&vif->ctrl_ring.ring, more);
    return more;
}
