/* The data-path half of a vif's life: mapping the rings the frontend
 * granted, binding its event channels, starting one worker per queue, and
 * undoing all of it. Main thread only, except nbd_vif_disable(). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backend/log.h"
#include "backend/netbackd.h"
#include "backend/vif_port.h"

struct nbd_vif *nbd_vif_new(struct nbd_ctx *ctx, unsigned domid, unsigned devid,
                            const char *be_path)
{
    struct nbd_vif *vif = calloc(1, sizeof(*vif));

    if (!vif)
        return NULL;
    vif->ctx = ctx;
    vif->domid = domid;
    vif->devid = devid;
    vif->be_state = 1;
    vif->carrier_written = -1;   /* XenbusStateInitialising, as the toolstack wrote it */
    snprintf(vif->name, sizeof(vif->name), "vif%u.%u", domid, devid);
    snprintf(vif->be_path, sizeof(vif->be_path), "%s", be_path);
    atomic_init(&vif->mode, ctx->set.mode);
    atomic_init(&vif->mtu, NBD_MTU_DEFAULT);   /* until the key is read */
    atomic_init(&vif->rate_bytes, NBD_RATE_UNLIMITED);
    pthread_mutex_init(&vif->mcast_lock, NULL);
    pthread_mutex_init(&vif->ctrl_lock, NULL);
    netif_mcast_init(&vif->mcast);
    return vif;
}

void nbd_vif_free(struct nbd_vif *vif)
{
    if (!vif)
        return;
    nbd_vif_disconnect(vif);
    pthread_mutex_destroy(&vif->mcast_lock);
    pthread_mutex_destroy(&vif->ctrl_lock);
    free(vif);
}

void nbd_vif_disable(struct nbd_vif *vif, const char *reason)
{
    if (atomic_exchange(&vif->disable_claimed, true))
        return;
    snprintf(vif->disable_reason, sizeof(vif->disable_reason), "%s", reason);
    atomic_store(&vif->disabled, true);
}

void nbd_vif_set_mode(struct nbd_vif *vif, enum nbd_worker_mode mode)
{
    atomic_store(&vif->mode, (int)mode);
    for (unsigned i = 0; i < vif->num_queues; i++)
        if (vif->queues[i])
            nbd_queue_wake(vif->queues[i]);
}

void nbd_vif_set_headroom(struct nbd_vif *vif, uint16_t headroom)
{
    /* workers take a snapshot of rx_caps per burst (nbd_vif_rx_caps) */
    __atomic_store_n(&vif->rx_caps.headroom, headroom, __ATOMIC_RELAXED);
    vif->fe.xdp_headroom = headroom;
    nbd_log(NBD_LOG_INFO, "%s: RX headroom %u", vif->name, headroom);
}

void nbd_vif_sum_stats(struct nbd_vif *vif, uint64_t *sum)
{
    nbd_queue_stats_accumulate(&vif->retired, sum);
    for (unsigned i = 0; i < vif->num_queues; i++)
        if (vif->queues[i])
            nbd_queue_stats_accumulate(&vif->queues[i]->stats, sum);
}

/* ---- queues ---- */

static void queue_free(struct nbd_queue *q)
{
    if (!q)
        return;
    nbd_rx_backlog_flush(q);
    if (q->xce) {
        if (q->port_rx != q->port_tx && q->port_rx)
            xenevtchn_unbind(q->xce, q->port_rx);
        if (q->port_tx)
            xenevtchn_unbind(q->xce, q->port_tx);
        xenevtchn_close(q->xce);
    }
    if (q->rings)
        xengnttab_unmap(q->xgt, q->rings, 2);
    if (q->xgt)
        xengnttab_close(q->xgt);
    if (q->wake_fd >= 0)
        close(q->wake_fd);
    if (q->pool)
        nb_pkt_pool_free(q->pool);
    pthread_mutex_destroy(&q->backlog.lock);
    nbd_sgrant_table_destroy(&q->sgrants);
    free(q);
}

/* Maps the two ring pages and checks the indices the frontend left in them
 * (it may reconnect with rings already in use: attach at its rsp_prod). */
static int queue_map_rings(struct nbd_queue *q, const struct nbd_fe_queue_keys *k,
                           char *err, size_t errlen)
{
    struct nbd_vif *vif = q->vif;
    uint32_t refs[2] = { k->tx_ring_ref, k->rx_ring_ref };
    netif_tx_sring_t *txs;
    netif_rx_sring_t *rxs;
    RING_IDX req_prod, rsp_prod;

    q->rings = xengnttab_map_domain_grant_refs(q->xgt, 2, vif->domid, refs,
                                               PROT_READ | PROT_WRITE);
    if (!q->rings) {
        snprintf(err, errlen, "queue %u: mapping rings %u/%u: %s", q->id,
                 refs[0], refs[1], strerror(errno));
        return -errno ? -errno : -EIO;
    }
    txs = q->rings;
    rxs = (netif_rx_sring_t *)((uint8_t *)q->rings + NETIF_PAGE_SIZE);

    rsp_prod = __atomic_load_n(&txs->rsp_prod, __ATOMIC_ACQUIRE);
    req_prod = __atomic_load_n(&txs->req_prod, __ATOMIC_ACQUIRE);
    BACK_RING_ATTACH(&q->tx, txs, rsp_prod, NETIF_PAGE_SIZE);
    if (req_prod - rsp_prod > RING_SIZE(&q->tx)) {
        snprintf(err, errlen, "queue %u: tx ring req_prod %u rsp_prod %u impossible",
                 q->id, req_prod, rsp_prod);
        return -EIO;
    }
    rsp_prod = __atomic_load_n(&rxs->rsp_prod, __ATOMIC_ACQUIRE);
    req_prod = __atomic_load_n(&rxs->req_prod, __ATOMIC_ACQUIRE);
    BACK_RING_ATTACH(&q->rx, rxs, rsp_prod, NETIF_PAGE_SIZE);
    if (req_prod - rsp_prod > RING_SIZE(&q->rx)) {
        snprintf(err, errlen, "queue %u: rx ring req_prod %u rsp_prod %u impossible",
                 q->id, req_prod, rsp_prod);
        return -EIO;
    }
    return 0;
}

static int queue_bind(struct nbd_queue *q, const struct nbd_fe_queue_keys *k,
                      char *err, size_t errlen)
{
    struct nbd_vif *vif = q->vif;
    xenevtchn_port_or_error_t p;

    if (!(q->xce = xenevtchn_open(NULL, 0))) {
        snprintf(err, errlen, "queue %u: xenevtchn_open: %s", q->id, strerror(errno));
        return -errno;
    }
    if ((p = xenevtchn_bind_interdomain(q->xce, vif->domid, k->evtchn_tx)) < 0) {
        snprintf(err, errlen, "queue %u: binding event channel %u: %s", q->id,
                 k->evtchn_tx, strerror(errno));
        return -errno ? -errno : -EIO;
    }
    q->port_tx = q->port_rx = (evtchn_port_t)p;
    if (k->split) {
        if ((p = xenevtchn_bind_interdomain(q->xce, vif->domid, k->evtchn_rx)) < 0) {
            snprintf(err, errlen, "queue %u: binding event channel %u: %s", q->id,
                     k->evtchn_rx, strerror(errno));
            return -errno ? -errno : -EIO;
        }
        q->port_rx = (evtchn_port_t)p;
    }
    return 0;
}

static int queue_setup(struct nbd_vif *vif, unsigned id, char *err, size_t errlen)
{
    struct nbd_ctx *ctx = vif->ctx;
    struct nbd_queue *q = calloc(1, sizeof(*q));
    int rc;

    if (!q) {
        snprintf(err, errlen, "queue %u: out of memory", id);
        return -ENOMEM;
    }
    q->vif = vif;
    q->id = id;
    q->wake_fd = -1;
    q->cpu = id < ctx->set.n_cpus ? ctx->set.cpus[id] : -1;
    snprintf(q->name, sizeof(q->name), "%s-q%u", vif->name, id);
    pthread_mutex_init(&q->backlog.lock, NULL);
    nbd_sgrant_table_init(&q->sgrants);
    vif->queues[id] = q;

    if (!(q->xgt = xengnttab_open(NULL, 0))) {
        snprintf(err, errlen, "queue %u: xengnttab_open: %s", id, strerror(errno));
        return -errno;
    }
    if ((rc = queue_map_rings(q, &vif->fe.q[id], err, errlen)) ||
        (rc = queue_bind(q, &vif->fe.q[id], err, errlen)))
        return rc;
    if ((q->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
        snprintf(err, errlen, "queue %u: eventfd: %s", id, strerror(errno));
        return -errno;
    }
    if (!(q->pool = nb_pkt_pool_new(q->name, ctx->set.pool_pkts))) {
        snprintf(err, errlen, "queue %u: packet pool: out of memory", id);
        return -ENOMEM;
    }
    return 0;
}

/* ---- control ring ---- */

static int ctrl_setup(struct nbd_vif *vif, char *err, size_t errlen)
{
    struct nbd_ctrl_ring *c = &vif->ctrl_ring;
    xen_netif_ctrl_sring_t *s;
    RING_IDX req_prod, rsp_prod;
    xenevtchn_port_or_error_t p;
    uint32_t ref = vif->fe.ctrl_ring_ref;

    netif_ctrl_init(&vif->ctrl, vif->num_queues);
    if (!vif->fe.ctrl_ring)
        return 0;
    /* the control ring is served by queue 0's worker, with its handles */
    struct nbd_queue *q0 = vif->queues[0];
    if (!(c->page = xengnttab_map_domain_grant_refs(q0->xgt, 1, vif->domid, &ref,
                                                     PROT_READ | PROT_WRITE))) {
        snprintf(err, errlen, "mapping control ring %u: %s", ref, strerror(errno));
        return -errno ? -errno : -EIO;
    }
    s = c->page;
    rsp_prod = __atomic_load_n(&s->rsp_prod, __ATOMIC_ACQUIRE);
    req_prod = __atomic_load_n(&s->req_prod, __ATOMIC_ACQUIRE);
    BACK_RING_ATTACH(&c->ring, s, rsp_prod, NETIF_PAGE_SIZE);
    if (req_prod - rsp_prod > RING_SIZE(&c->ring)) {
        snprintf(err, errlen, "control ring req_prod %u rsp_prod %u impossible",
                 req_prod, rsp_prod);
        return -EIO;
    }
    if ((p = xenevtchn_bind_interdomain(q0->xce, vif->domid, vif->fe.evtchn_ctrl)) < 0) {
        snprintf(err, errlen, "binding control event channel %u: %s",
                 vif->fe.evtchn_ctrl, strerror(errno));
        return -errno ? -errno : -EIO;
    }
    c->port = (evtchn_port_t)p;
    /* static grants get a handle of their own: its mappings live until
     * disconnect, across whatever the workers' handles do */
    if (!(vif->sgrant_xgt = xengnttab_open(NULL, 0))) {
        snprintf(err, errlen, "static grants: xengnttab_open: %s", strerror(errno));
        return -errno ? -errno : -EIO;
    }
    vif->has_ctrl = true;
    return 0;
}

static void ctrl_teardown(struct nbd_vif *vif)
{
    struct nbd_ctrl_ring *c = &vif->ctrl_ring;
    struct nbd_queue *q0 = vif->queues[0];

    if (vif->sgrant_xgt) {
        nbd_sgrant_unmap_all(vif);
        xengnttab_close(vif->sgrant_xgt);
        vif->sgrant_xgt = NULL;
    }
    if (q0 && c->port)
        xenevtchn_unbind(q0->xce, c->port);
    if (q0 && c->page)
        xengnttab_unmap(q0->xgt, c->page, 1);
    memset(c, 0, sizeof(*c));
    vif->has_ctrl = false;
}

/* ---- connect / disconnect ---- */

int nbd_vif_connect(struct nbd_vif *vif, char *err, size_t errlen)
{
    int rc = 0;

    if (vif->data_up)
        return 0;
    vif->num_queues = vif->fe.num_queues;
    vif->rx_caps = (struct netif_rx_caps){
        .sg = vif->fe.sg,
        .gso_tcpv4 = vif->fe.sg && vif->fe.gso_tcpv4,
        .gso_tcpv6 = vif->fe.sg && vif->fe.gso_tcpv6,
        .headroom = vif->fe.xdp_headroom,
    };
    atomic_store(&vif->disabled, false);
    atomic_store(&vif->disable_claimed, false);
    atomic_store(&vif->disable_reported, false);
    pthread_mutex_lock(&vif->mcast_lock);
    netif_mcast_init(&vif->mcast);
    pthread_mutex_unlock(&vif->mcast_lock);

    for (unsigned i = 0; i < vif->num_queues && !rc; i++)
        rc = queue_setup(vif, i, err, errlen);
    if (!rc)
        rc = ctrl_setup(vif, err, errlen);
    if (!rc)
        rc = nbd_vif_port_attach(vif, err, errlen);
    vif->data_up = true;   /* from here disconnect undoes whatever was done */
    for (unsigned i = 0; i < vif->num_queues && !rc; i++)
        if ((rc = nbd_queue_start(vif->queues[i])))
            snprintf(err, errlen, "queue %u: starting worker: %s", i, strerror(-rc));
    if (rc) {
        nbd_vif_disconnect(vif);
        return rc;
    }
    nbd_log(NBD_LOG_INFO, "%s: connected, %u queue%s%s%s, bridge %s", vif->name,
            vif->num_queues, vif->num_queues > 1 ? "s" : "",
            vif->fe.q[0].split ? ", split event channels" : "",
            vif->has_ctrl ? ", control ring" : "", vif->bridge_name);
    return 0;
}

void nbd_vif_disconnect(struct nbd_vif *vif)
{
    if (!vif->data_up)
        return;
    /* Workers first (no more ingress from us), then the bridge (no more
     * egress to us), then the guest's resources. */
    for (unsigned i = 0; i < vif->num_queues; i++)
        if (vif->queues[i])
            nbd_queue_stop(vif->queues[i]);
    nbd_vif_port_detach(vif);
    ctrl_teardown(vif);
    for (unsigned i = 0; i < vif->num_queues; i++) {
        struct nbd_queue *q = vif->queues[i];
        if (!q)
            continue;
        nbd_rx_backlog_flush(q);
        nbd_queue_stats_accumulate(&q->stats, (uint64_t *)&vif->retired);
        queue_free(q);
        vif->queues[i] = NULL;
    }
    vif->num_queues = 0;
    vif->data_up = false;
    nbd_log(NBD_LOG_INFO, "%s: disconnected", vif->name);
}
