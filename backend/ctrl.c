/* The control ring (feature-ctrl-ring), served by queue 0's worker: hash
 * algorithm, flags, key and mapping table for RX queue selection and hash
 * extras. The protocol logic and every bound are ring/netif_ctrl's; this
 * file only moves requests, does the grant copies the requests need, and
 * answers. The static-grant requests (GET_GREF_MAPPING_SIZE,
 * ADD/DEL_GREF_MAPPING) are answered NOT_SUPPORTED: netbackd does not map
 * guest buffers persistently (yet), and saying so is what the protocol
 * expects of a backend without them. */
#include <string.h>

#include "backend/log.h"
#include "backend/netbackd.h"

#define CTRL_RING_SLOTS NETIF_CTRL_RING_SIZE

static bool is_static_grant_op(uint16_t type)
{
    return type == XEN_NETIF_CTRL_TYPE_GET_GREF_MAPPING_SIZE ||
           type == XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING ||
           type == XEN_NETIF_CTRL_TYPE_DEL_GREF_MAPPING;
}

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
        uint8_t buf[NETIF_PAGE_SIZE];

        if (is_static_grant_op(reqs[i].type)) {
            rsp = (struct xen_netif_ctrl_response){
                .id = reqs[i].id, .type = reqs[i].type,
                .status = XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED,
            };
        } else {
            pthread_mutex_lock(&vif->ctrl_lock);
            act = netif_ctrl_handle(&vif->ctrl, &reqs[i], &rsp, &copy);
            pthread_mutex_unlock(&vif->ctrl_lock);
            if (act == NETIF_CTRL_NEED_COPY) {
                bool ok = copy_in(vif, q0, &copy, buf);
                pthread_mutex_lock(&vif->ctrl_lock);
                netif_ctrl_handle_data(&vif->ctrl, &reqs[i], ok ? buf : NULL, copy.len, &rsp);
                pthread_mutex_unlock(&vif->ctrl_lock);
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
