/* Guest RX: packets the bridge sent to this vif wait in the queue's bounded
 * backlog until the worker copies them into buffers the guest posted on its
 * RX ring. One burst: copy the posted requests once, plan each packet with
 * ring/ (slot layout, extras, response images), batch the grant copies
 * (NBD_GCOPY_BATCH segments per call), write the responses into the slots
 * of the requests consumed, push and notify once.
 *
 * Batching: a burst takes up to NBD_RX_BATCH queued packets and fills one
 * grant-copy call with up to NBD_GCOPY_BATCH segments across them (packets
 * enqueued by several bridge bursts meet here). It never waits for a
 * batch to fill: what the backlog holds now goes out now, so a light load
 * costs a call per packet and a full one a call per ~64 small packets.
 * One push (and at most one notification, as rsp_event asks) per burst.
 *
 * Protection against a guest that stops taking packets (XSA-392): the
 * backlog is bounded in packets and bytes, queued packets expire after the
 * drain timeout, and a guest that keeps fewer free slots than the next
 * packet needs for longer than the stall timeout is reported stalled and
 * its port's carrier dropped until it posts enough again. */
#include <errno.h>
#include <string.h>

#include "backend/log.h"
#include "backend/netbackd.h"
#include "backend/rx_expiry.h"
#include "backend/vif_port.h"

/* ---- backlog (any thread enqueues, the worker dequeues) ---- */

void nbd_rx_enqueue(struct nbd_queue *q, const struct nbd_rx_entry *in, unsigned n)
{
    struct nbd_vif *vif = q->vif;
    struct nbd_rx_backlog *b = &q->backlog;
    struct nb_pkt *drop[NB_BURST];
    unsigned ndrop = 0, added = 0;
    uint64_t now = nbd_now_ns(), limit = vif->ctx->set.rx_backlog_bytes;
    bool disabled = atomic_load_explicit(&vif->disabled, memory_order_relaxed);

    pthread_mutex_lock(&b->lock);
    for (unsigned i = 0; i < n; i++) {
        struct nb_pkt *pkt = in[i].pkt;

        if (disabled) {
            nbd_stat_add(&q->stats.rx_drop_disabled, 1);
            drop[ndrop++] = pkt;
            continue;
        }
        if (b->count == NBD_BACKLOG_SLOTS || b->bytes + pkt->len > limit) {
            nbd_stat_add(&q->stats.rx_drop_backlog_full, 1);
            drop[ndrop++] = pkt;
            continue;
        }
        struct nbd_rx_entry *e = &b->e[(b->head + b->count) % NBD_BACKLOG_SLOTS];
        *e = in[i];
        e->enq_ns = now;
        e->len = pkt->len;
        b->count++;
        b->bytes += pkt->len;
        added++;
    }
    pthread_mutex_unlock(&b->lock);
    if (ndrop)
        nb_pkt_free_burst(drop, ndrop);
    if (added && atomic_load(&q->sleeping))
        nbd_queue_wake(q);
}

/* Removes the first n entries (the worker's, already handled). */
static void backlog_pop(struct nbd_queue *q, unsigned n)
{
    struct nbd_rx_backlog *b = &q->backlog;

    pthread_mutex_lock(&b->lock);
    for (unsigned i = 0; i < n; i++) {
        b->bytes -= b->e[b->head].len;   /* pkt itself may be freed (and reused) */
        b->head = (b->head + 1) % NBD_BACKLOG_SLOTS;
    }
    b->count -= n;
    pthread_mutex_unlock(&b->lock);
}

/* Copies up to max head entries (the worker is the only consumer, so they
 * stay where they are while it works on them). */
static unsigned backlog_peek(struct nbd_queue *q, struct nbd_rx_entry *out, unsigned max)
{
    struct nbd_rx_backlog *b = &q->backlog;
    unsigned n;

    pthread_mutex_lock(&b->lock);
    n = b->count < max ? b->count : max;
    for (unsigned i = 0; i < n; i++)
        out[i] = b->e[(b->head + i) % NBD_BACKLOG_SLOTS];
    pthread_mutex_unlock(&b->lock);
    return n;
}

void nbd_rx_backlog_flush(struct nbd_queue *q)
{
    struct nbd_rx_entry e[NB_BURST];
    unsigned n;

    while ((n = backlog_peek(q, e, NB_BURST))) {
        for (unsigned i = 0; i < n; i++)
            nb_pkt_free(e[i].pkt);
        backlog_pop(q, n);
    }
}

/* Drops head packets older than the drain timeout. */
static unsigned expire(struct nbd_queue *q, uint64_t now)
{
    uint64_t timeout = (uint64_t)q->vif->ctx->set.rx_drain_timeout_ms * 1000000u;
    struct nbd_rx_entry e;
    unsigned n = 0;

    while (backlog_peek(q, &e, 1) && nbd_rx_expired(e.enq_ns, now, timeout)) {
        nb_pkt_free(e.pkt);
        backlog_pop(q, 1);
        nbd_stat_add(&q->stats.rx_drop_expired, 1);
        n++;
    }
    return n;
}

/* ---- the burst ---- */

static uint64_t *drop_counter(struct nbd_queue *q, uint8_t reason)
{
    switch (reason) {
    case NETIF_RX_R_NO_SG:        return &q->stats.rx_drop_no_sg;
    case NETIF_RX_R_GSO_NOT_NEG:
    case NETIF_RX_R_BAD_GSO:      return &q->stats.rx_drop_gso;
    default:                      return &q->stats.rx_drop_bad_len;
    }
}

static void describe(const struct nbd_rx_entry *e, struct netif_rx_pkt_desc *d)
{
    const struct nb_pkt *pkt = e->pkt;

    memset(d, 0, sizeof(*d));
    d->len = pkt->len;
    if (pkt->flags & NB_PKT_CSUM_PARTIAL)
        d->flags |= NETIF_RX_PKT_CSUM_PARTIAL;
    else if (pkt->flags & NB_PKT_DATA_VALID)
        d->flags |= NETIF_RX_PKT_DATA_VALID;
    if (pkt->gso_type != NB_GSO_NONE) {
        d->gso_type = pkt->gso_type == NB_GSO_TCPV4 ? XEN_NETIF_GSO_TYPE_TCPV4
                                                    : XEN_NETIF_GSO_TYPE_TCPV6;
        d->gso_size = pkt->gso_size;
    }
    if (e->has_hash) {
        d->flags |= NETIF_RX_PKT_HASH;
        d->hash = e->hash;
        d->hash_type = e->hash_type;
    }
    d->src_page_off = (uint16_t)((uintptr_t)pkt->data % NETIF_PAGE_SIZE);
}

/* Copies, answers and frees the planned packets e[0..np). */
static void rx_flush(struct nbd_queue *q, struct nbd_rx_entry *e, unsigned np, unsigned nseg)
{
    int rc = nbd_queue_gcopy(q, q->seg, nseg);

    if (nseg)
        nbd_stat_add(&q->stats.rx_gcopy_calls, 1);
    for (unsigned i = 0; i < np; i++) {
        struct nbd_rx_pending *p = &q->rxp[i];
        bool failed = false;

        for (unsigned s = 0; s < p->nr_gsegs; s++)
            if (rc || q->seg[p->first_seg + s].status != GNTST_okay) {
                netif_rx_plan_fail_seg(&p->plan, p->gseg_plan[s]);
                failed = true;
            }
        netif_rx_respond(&q->rx, p->req_idx, &p->plan);
        if (failed) {
            nbd_stat_add(&q->stats.rx_drop_copy_failed, 1);
        } else {
            nbd_stat_add(&q->stats.rx_packets, 1);
            nbd_stat_add(&q->stats.rx_bytes, e[i].pkt->len);
        }
        nb_pkt_free(e[i].pkt);
    }
}

static unsigned add_segments(struct nbd_queue *q, const struct nbd_rx_entry *e,
                             struct nbd_rx_pending *p, unsigned nseg,
                             struct nbd_sgrant_view *sg)
{
    unsigned ng = 0;

    p->first_seg = nseg;
    for (unsigned i = 0; i < p->plan.nr_segs; i++) {
        const struct netif_rx_seg *ps = &p->plan.seg[i];
        if (nbd_sgrant_copy_to(sg, ps->gref, ps->dst_off, ps->len, e->pkt->data + ps->src_off))
            continue;   /* a static grant: copied already */
        p->gseg_plan[ng] = (uint8_t)i;
        xengnttab_grant_copy_segment_t *s = &q->seg[nseg + ng++];
        s->source.virt = e->pkt->data + ps->src_off;
        s->dest.foreign.ref = ps->gref;
        s->dest.foreign.offset = ps->dst_off;
        s->dest.foreign.domid = (uint16_t)q->vif->domid;
        s->len = ps->len;
        s->flags = GNTCOPY_dest_gref;
        s->status = 0;
    }
    p->nr_gsegs = ng;
    return ng;
}

static void stall_check(struct nbd_queue *q, const struct nbd_rx_entry *head,
                        const struct netif_rx_caps *caps, unsigned avail, uint64_t now)
{
    struct nbd_vif *vif = q->vif;
    struct netif_rx_pkt_desc d;

    describe(head, &d);
    if (avail >= netif_rx_slots_needed(&d, caps))
        return;
    if (!q->rx_stall_since_ns) {
        q->rx_stall_since_ns = now;
    } else if (!q->rx_stalled &&
               now - q->rx_stall_since_ns > (uint64_t)vif->ctx->set.rx_stall_timeout_ms * 1000000u) {
        __atomic_store_n(&q->rx_stalled, true, __ATOMIC_RELAXED);   /* read by link_up */
        nbd_stat_add(&q->stats.rx_stalls, 1);
        nbd_log_data(NBD_LOG_WARN, "%s: guest RX stalled (%u free slots)", q->name, avail);
    }
}

static void stall_clear(struct nbd_queue *q)
{
    q->rx_stall_since_ns = 0;
    if (q->rx_stalled) {
        __atomic_store_n(&q->rx_stalled, false, __ATOMIC_RELAXED);
        nbd_log_data(NBD_LOG_INFO, "%s: guest RX recovered", q->name);
    }
}

static unsigned rx_burst(struct nbd_queue *q)
{
    struct nbd_vif *vif = q->vif;
    struct nbd_rx_entry e[NBD_RX_BATCH];
    struct netif_rx_caps caps = nbd_vif_rx_caps(vif);
    unsigned produced, used = 0, np = 0, nseg = 0, done = 0, k;
    uint64_t now = nbd_now_ns();
    bool overflow = false;
    RING_IDX idx;
    int n;

    done += expire(q, now);
    if (!(k = backlog_peek(q, e, NBD_RX_BATCH))) {
        stall_clear(q);
        return done;
    }
    /* Small packets take a slot or two each: copy that many posted
     * requests first, not the whole ring a guest keeps posted; the rest
     * only when a packet needs more (below). */
    n = netif_rx_copy_requests(&q->rx, q->rxreq, 2 * k + 2, &produced);
    if (n < 0) {
        nbd_stat_add(&q->stats.rx_errors, 1);
        nbd_vif_disable(vif, "rx ring: impossible producer index");
        return done;
    }
    idx = q->rx.req_cons;
    unsigned i;
    /* static grants: one view for the burst (sgrant.h) */
    struct nbd_sgrant_view sg = nbd_sgrant_view(&q->sgrants);
    for (i = 0; i < k; i++) {
        struct nbd_rx_pending *p = &q->rxp[np];
        struct netif_rx_pkt_desc d;

        describe(&e[i], &d);
        enum netif_rx_verdict v = netif_rx_plan(q->rxreq + used, (unsigned)n - used,
                                                &d, &caps, &p->plan);
        if (v == NETIF_RX_NO_SPACE && (unsigned)n < produced) {
            /* the guest had posted more than the first copy took: copy
             * on from the first request not planned yet, and retry */
            int m;
            q->rx.req_cons = idx;
            m = netif_rx_copy_requests(&q->rx, q->rxreq, NETIF_RX_RING_SIZE, &produced);
            if (m >= 0) {
                n = m;
                used = 0;
                i--;
                continue;
            }
            produced = n = (int)used;   /* impossible now: plan nothing more */
            overflow = true;
        }
        if (v == NETIF_RX_NO_SPACE) {
            stall_check(q, &e[i], &caps, (unsigned)n - used, now);
            break;
        }
        if (v == NETIF_RX_DROP) {
            nbd_stat_add(drop_counter(q, p->plan.reason), 1);
            /* keep order: the packet is freed with the batch it sits in */
            if (np) {
                rx_flush(q, e + i - np, np, nseg);
                np = nseg = 0;
            }
            nb_pkt_free(e[i].pkt);
            continue;
        }
        if (nseg + p->plan.nr_segs > NBD_GCOPY_BATCH) {
            struct netif_rx_plan *plan = &p->plan;
            rx_flush(q, e + i - np, np, nseg);
            if (np)
                q->rxp[0].plan = *plan;
            np = nseg = 0;
            p = &q->rxp[0];
        }
        p->req_idx = idx;
        nseg += add_segments(q, &e[i], p, nseg, &sg);
        idx += p->plan.nr_slots;
        used += p->plan.nr_slots;
        np++;
    }
    nbd_sgrant_leave(q, &sg);
    if (np)
        rx_flush(q, e + i - np, np, nseg);
    q->rx.req_cons = idx;
    if (i) {
        int notify;
        backlog_pop(q, i);
        if (i == k || k == 0)
            stall_clear(q);
        RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&q->rx, notify);
        if (notify) {
            xenevtchn_notify(q->xce, q->port_rx);
            nbd_stat_add(&q->stats.notify_sent, 1);
        }
    }
    if (overflow) {
        nbd_stat_add(&q->stats.rx_errors, 1);
        nbd_vif_disable(vif, "rx ring: impossible producer index");
    }
    return done + i;
}

/* An empty backlog (most polls of a busy-poll worker whose guest only
 * sends) is seen without its lock and without the clock; a count read
 * stale is seen on the next poll, and before sleeping the final check
 * looks under the lock. */
unsigned nbd_rx_burst(struct nbd_queue *q)
{
    if (!__atomic_load_n(&q->backlog.count, __ATOMIC_RELAXED)) {
        stall_clear(q);
        return 0;
    }
    return rx_burst(q);
}

/* Before sleeping with packets queued: ask the guest to notify when it
 * posts more buffers (rx_event = next request), then look once more. */
bool nbd_rx_final_check(struct nbd_queue *q)
{
    struct nbd_rx_entry e;
    struct netif_rx_pkt_desc d;
    unsigned needed;

    if (!backlog_peek(q, &e, 1))
        return false;
    if (!q->vif->fe.rx_notify)
        return false;   /* the guest won't tell us: the worker polls */
    describe(&e, &d);
    struct netif_rx_caps caps = nbd_vif_rx_caps(q->vif);
    needed = netif_rx_slots_needed(&d, &caps);
    if (!needed)
        return true;    /* undeliverable: the burst drops it */
    /* the guest notifies once req_prod passes req_event */
    q->rx.sring->req_event = q->rx.req_cons + needed;
    xen_mb();
    return (RING_IDX)(q->rx.sring->req_prod - q->rx.req_cons) >= needed;
}
