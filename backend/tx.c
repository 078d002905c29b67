/* Guest TX: requests the frontend posted on its TX ring become packets for
 * the bridge. One burst: copy the requests out of the shared ring once,
 * parse them with ring/ (verdicts as Linux), gather up to NBD_TX_BATCH
 * packets and NBD_GCOPY_BATCH grant-copy segments into one hypercall (at
 * load one call carries ~64 small packets), answer every slot, hand the
 * good packets to the bridge in bursts of at most NB_BURST, push responses
 * and notify once.
 *
 * Back-pressure as Linux netback: when the queue's packet pool is out of
 * buffers the burst stops consuming and leaves the requests on the ring;
 * the worker retries once buffers can have come back (worker.c), so an
 * unpaced guest finds its ring full and slows down instead of having its
 * packets dropped here. Worker thread only. */
#include <errno.h>
#include <string.h>

#include "backend/log.h"
#include "backend/netbackd.h"
#include "backend/rate.h"
#include "backend/vif_port.h"
#include "bridge/offload.h"

/* Drop counters for ring/'s drop reasons. */
static uint64_t *drop_counter(struct nbd_queue *q, uint8_t reason)
{
    switch (reason) {
    case NETIF_TX_R_TOO_MANY_SLOTS: return &q->stats.tx_drop_too_many_slots;
    case NETIF_TX_R_FRAG_TOO_BIG:   return &q->stats.tx_drop_frag_too_big;
    default:                        return &q->stats.tx_drop_too_short;
    }
}

static void tx_fatal(struct nbd_queue *q, uint8_t reason)
{
    char msg[64];

    snprintf(msg, sizeof(msg), "tx queue %u: %s", q->id, netif_tx_reason_str(reason));
    nbd_stat_add(&q->stats.tx_errors, 1);
    nbd_vif_disable(q->vif, msg);
}

/* Rate limit (backend `rate` key, read live). Returns false, with the
 * retry time set, if len doesn't fit the credit now. */
static bool rate_allows(struct nbd_queue *q, uint32_t len)
{
    struct nbd_vif *vif = q->vif;
    uint64_t bytes = atomic_load_explicit(&vif->rate_bytes, memory_order_relaxed);
    uint64_t usecs = atomic_load_explicit(&vif->rate_usecs, memory_order_relaxed);
    bool limited = bytes != NBD_RATE_UNLIMITED;

    /* called without a limit too: the credit state forgets an old one */
    q->tx_wait_until_ns = nbd_rate_take(&q->tx_rate, bytes, usecs, limited ? nbd_now_ns() : 0, len);
    if (q->tx_wait_until_ns)
        nbd_stat_add(&q->stats.tx_rate_waits, 1);
    return q->tx_wait_until_ns == 0;
}

/* Offload metadata from slot 0's flags and the GSO extra. */
static int tx_offloads(struct nb_pkt *pkt, const struct netif_tx_pkt *tp)
{
    bool partial = tp->flags & NETTXF_csum_blank;

    if (tp->gso_type != XEN_NETIF_GSO_TYPE_NONE) {
        pkt->gso_type = tp->gso_type == XEN_NETIF_GSO_TYPE_TCPV4 ? NB_GSO_TCPV4 : NB_GSO_TCPV6;
        pkt->gso_size = tp->gso_size;
    }
    if (partial || pkt->gso_type != NB_GSO_NONE)
        /* A GSO packet is always checksum-partial; if the guest didn't say
         * so, its pseudo-header sum isn't there either (Linux does the same). */
        return nb_offload_csum_setup(pkt, !partial);
    if (tp->flags & NETTXF_data_validated)
        pkt->flags |= NB_PKT_DATA_VALID;
    return 0;
}

static void mcast_request(struct nbd_queue *q, const struct netif_tx_pkt *tp)
{
    struct nbd_vif *vif = q->vif;
    int16_t status = NETIF_RSP_OKAY;

    pthread_mutex_lock(&vif->mcast_lock);
    if (tp->mcast_op == XEN_NETIF_EXTRA_TYPE_MCAST_ADD) {
        if (netif_mcast_add(&vif->mcast, tp->mcast_addr)) {
            status = NETIF_RSP_ERROR;
            nbd_stat_add(&q->stats.mcast_overflow, 1);
        }
        nbd_stat_add(&q->stats.mcast_add, 1);
    } else {
        netif_mcast_del(&vif->mcast, tp->mcast_addr);   /* OKAY either way, as Linux */
        nbd_stat_add(&q->stats.mcast_del, 1);
    }
    pthread_mutex_unlock(&vif->mcast_lock);
    netif_tx_respond(&q->tx, tp, status);
}

/* Performs the batched copies, answers the pending packets, forwards the
 * good ones (NB_BURST at a time: the bridge's burst bound). */
static void tx_flush(struct nbd_queue *q, unsigned np, unsigned nseg)
{
    struct nbd_vif *vif = q->vif;
    struct nb_pkt *out[NBD_TX_BATCH];
    unsigned nout = 0;
    uint64_t bytes = 0;
    int rc = nbd_queue_gcopy(q, q->seg, nseg);

    if (nseg)
        nbd_stat_add(&q->stats.tx_gcopy_calls, 1);
    for (unsigned i = 0; i < np; i++) {
        struct nbd_tx_pending *p = &q->txp[i];
        bool ok = rc == 0;

        if (p->nr_segs == 1)        /* the common one-slot packet */
            ok = ok && q->seg[p->first_seg].status == GNTST_okay;
        else
            for (unsigned s = 0; ok && s < p->nr_segs; s++)
                ok = q->seg[p->first_seg + s].status == GNTST_okay;
        /* no offload metadata (the common small packet): nothing to set */
        if (ok && (p->pkt.flags || p->pkt.gso_type != XEN_NETIF_GSO_TYPE_NONE) &&
            tx_offloads(p->buf, &p->pkt)) {
            nbd_stat_add(&q->stats.tx_drop_offload, 1);
            nb_pkt_free(p->buf);
            netif_tx_respond(&q->tx, &p->pkt, NETIF_RSP_ERROR);
            continue;
        }
        if (!ok) {
            nbd_stat_add(&q->stats.tx_drop_copy_failed, 1);
            nb_pkt_free(p->buf);
            netif_tx_respond(&q->tx, &p->pkt, NETIF_RSP_ERROR);
            continue;
        }
        netif_tx_respond(&q->tx, &p->pkt, NETIF_RSP_OKAY);
        bytes += p->pkt.len;
        out[nout++] = p->buf;
    }
    nbd_stat_add(&q->stats.tx_packets, nout);
    nbd_stat_add(&q->stats.tx_bytes, bytes);
    for (unsigned i = 0; i < nout; i += NB_BURST)
        nbd_vif_port_input(vif, out + i, nout - i < NB_BURST ? nout - i : NB_BURST);
}

/* Turns pkt's copy plan into grant-copy segments at q->seg[nseg..];
 * slots whose page is a static grant (if the queue has any: sg->snap) are
 * copied right here instead. Out of line: its plan array costs the
 * common one-slot packet a stack-protector check (add_segments). */
static __attribute__((noinline)) unsigned add_planned_segments(struct nbd_queue *q,
                                                               struct nbd_tx_pending *p,
                                                               unsigned nseg,
                                                               struct nbd_sgrant_view *sg)
{
    struct netif_tx_seg plan[NETIF_TX_MAX_DATA_SLOTS];
    unsigned n = netif_tx_copy_plan(&p->pkt, plan), ng = 0;

    for (unsigned i = 0; i < n; i++) {
        if (nbd_sgrant_copy_from(sg, plan[i].gref, plan[i].src_off, plan[i].len,
                                 p->buf->data + plan[i].dst_off))
            continue;
        xengnttab_grant_copy_segment_t *s = &q->seg[nseg + ng++];
        s->source.foreign.ref = plan[i].gref;
        s->source.foreign.offset = plan[i].src_off;
        s->source.foreign.domid = (uint16_t)q->vif->domid;
        s->dest.virt = p->buf->data + plan[i].dst_off;
        s->len = plan[i].len;
        s->flags = GNTCOPY_source_gref;
        s->status = 0;
    }
    return ng;
}

static unsigned add_segments(struct nbd_queue *q, struct nbd_tx_pending *p, unsigned nseg,
                             struct nbd_sgrant_view *sg)
{
    const struct netif_tx_slot *d = &p->pkt.data[0];
    xengnttab_grant_copy_segment_t *s = &q->seg[nseg];

    p->first_seg = nseg;
    if (p->pkt.nr_data != 1)
        return p->nr_segs = add_planned_segments(q, p, nseg, sg);
    /* the common one-slot packet: netif_tx_copy_plan's single segment (the
     * whole packet at offset 0), copied from a static grant or written
     * straight into the call */
    if (!d->size || nbd_sgrant_copy_from(sg, d->gref, d->offset, d->size, p->buf->data))
        return p->nr_segs = 0;
    s->source.foreign.ref = d->gref;
    s->source.foreign.offset = d->offset;
    s->source.foreign.domid = (uint16_t)q->vif->domid;
    s->dest.virt = p->buf->data;
    s->len = d->size;
    s->flags = GNTCOPY_source_gref;
    s->status = 0;
    return p->nr_segs = 1;
}

void nbd_tx_stash_release(struct nbd_queue *q)
{
    nb_pkt_free_burst(q->tx_stash, q->tx_nstash);
    q->tx_nstash = 0;
}

/* A buffer for an OK packet of len bytes, or NULL with *starved set when
 * the pool is out of buffers that will come back (leave the request on
 * the ring). NULL without *starved is a real allocation failure: nothing
 * is outstanding, so waiting would not help; the packet is dropped.
 * Buffers come from the worker's stash, refilled NBD_TX_STASH at a time
 * under one pool lock; a packet too big for a stashed buffer allocates its
 * own, after giving the stash back if the pool is exhausted. */
static struct nb_pkt *tx_alloc(struct nbd_queue *q, uint32_t len, bool *starved)
{
    struct nb_pkt *buf;

    if (!q->tx_nstash)
        q->tx_nstash = nb_pkt_alloc_bulk(q->pool, len, q->tx_stash, NBD_TX_STASH);
    if (q->tx_nstash) {
        buf = q->tx_stash[q->tx_nstash - 1];
        if (buf->buf_size - NB_PKT_HEADROOM >= len) {
            q->tx_nstash--;
            buf->len = len;
            *starved = false;
            return buf;
        }
    }
    buf = nb_pkt_alloc(q->pool, len);
    if (!buf && q->tx_nstash) {
        nbd_tx_stash_release(q);
        buf = nb_pkt_alloc(q->pool, len);
    }
    *starved = !buf && nb_pkt_pool_in_use(q->pool) > 0;
    return buf;
}

unsigned nbd_tx_burst(struct nbd_queue *q)
{
    unsigned produced, used = 0, np = 0, nseg = 0, handled = 0;
    bool fatal = false;
    uint8_t fatal_reason = 0;
    int n;

    /* Without a `rate` key no packet needs the credit: the state is told
     * once (it forgets an old limit and any wait), not once per packet. */
    bool limited = atomic_load_explicit(&q->vif->rate_bytes, memory_order_relaxed) !=
                   NBD_RATE_UNLIMITED;
    if (!limited && (q->tx_wait_until_ns || q->tx_rate.stamp_ns))
        rate_allows(q, 0);

    q->tx_pool_starved = false;
    /* A batch of one-slot packets needs NBD_TX_BATCH requests: copy those
     * first, not the whole ring a busy guest keeps full (4x the copying). */
    n = netif_tx_copy_requests(&q->tx, q->txreq, NBD_TX_BATCH, &produced);
    if (n < 0) {
        tx_fatal(q, NETIF_TX_R_RING_OVERFLOW);
        return 0;
    }
    /* One view of the static grants for the burst, opened at its first
     * copy: a grant added later is grant-copied this time (a valid grant
     * either way); one removed stays mapped until we leave. */
    struct nbd_sgrant_view sg = nbd_sgrant_view(&q->sgrants);
    while (handled < NBD_TX_BATCH) {
        struct nbd_tx_pending *p = &q->txp[np];
        enum netif_tx_verdict v = used == (unsigned)n ? NETIF_TX_NEED_MORE
            : netif_tx_parse(q->txreq + used, (unsigned)n - used, produced - used, &p->pkt);
        if (v == NETIF_TX_NEED_MORE) {
            int m;
            if ((unsigned)n >= produced)
                break;      /* all the guest had published is parsed */
            /* a chain (or the batch) goes on past the first copy: copy
             * the rest, from the first request not consumed yet */
            m = netif_tx_copy_requests(&q->tx, q->txreq, NETIF_TX_RING_SIZE, &produced);
            if (m < 0) {
                fatal = true;
                fatal_reason = NETIF_TX_R_RING_OVERFLOW;
                break;
            }
            n = m;
            used = 0;
            continue;
        }
        if (v == NETIF_TX_FATAL) {
            fatal = true;
            fatal_reason = p->pkt.reason;
            break;
        }
        if (v == NETIF_TX_OK) {
            bool starved;

            if (np && nseg + p->pkt.nr_data > NBD_GCOPY_BATCH) {
                /* the batch is full: flush it; the packet just parsed
                 * moves to the front of the next one */
                tx_flush(q, np, nseg);
                q->txp[0].pkt = p->pkt;
                np = nseg = 0;
                p = &q->txp[0];
            }
            p->buf = tx_alloc(q, p->pkt.len, &starved);
            if (starved) {
                q->tx_pool_starved = true;
                nbd_stat_add(&q->stats.tx_pool_waits, 1);
                break;      /* not consumed: retried when buffers return */
            }
            if (limited && !rate_allows(q, p->pkt.len)) {
                nb_pkt_free(p->buf);
                break;
            }
        } else if (limited && !rate_allows(q, p->pkt.len)) {
            /* Linux charges every request it consumes, whatever becomes of
             * it: bad packets and multicast requests cost credit too */
            break;
        }
        handled++;
        used += p->pkt.nr_slots;
        q->tx.req_cons += p->pkt.nr_slots;
        switch (v) {
        case NETIF_TX_DROP:
            nbd_stat_add(drop_counter(q, p->pkt.reason), 1);
            netif_tx_respond(&q->tx, &p->pkt, NETIF_RSP_ERROR);
            break;
        case NETIF_TX_MCAST:
            mcast_request(q, &p->pkt);
            break;
        default:
            if (!p->buf) {
                nbd_stat_add(&q->stats.tx_drop_no_buffer, 1);
                netif_tx_respond(&q->tx, &p->pkt, NETIF_RSP_ERROR);
                break;
            }
            nseg += add_segments(q, p, nseg, &sg);
            np++;
            break;
        }
    }
    nbd_sgrant_leave(q, &sg);
    if (np)
        tx_flush(q, np, nseg);
    if (fatal)
        tx_fatal(q, fatal_reason);
    if (handled) {
        int notify;
        RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&q->tx, notify);
        if (notify) {
            xenevtchn_notify(q->xce, q->port_tx);
            nbd_stat_add(&q->stats.notify_sent, 1);
        }
    }
    return handled;
}

bool nbd_tx_final_check(struct nbd_queue *q)
{
    int more;

    if (q->tx_wait_until_ns || q->tx_pool_starved)
        return false;   /* out of credit or buffers: a timeout wakes us, not the guest */
    RING_FINAL_CHECK_FOR_REQUESTS(&q->tx, more);
    return more;
}
