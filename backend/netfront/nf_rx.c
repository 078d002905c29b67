/* Guest receive: RX responses -> whole packets (extras after the first slot,
 * more_data chains), buffer reposting, and waiting for work. The backend is
 * not trusted either: every response is copied once and bounds-checked. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>

#include "backend/netfront/nf_priv.h"

#define NF_RX_MAX_EXTRAS 8

static void rx_take_extra(struct nf_rxpkt *p, const struct netif_extra_info *ex, bool *bad)
{
    switch (ex->type) {
    case XEN_NETIF_EXTRA_TYPE_GSO:
        p->gso_type = ex->u.gso.type;
        p->gso_size = ex->u.gso.size;
        if (!p->gso_size || (p->gso_type != XEN_NETIF_GSO_TYPE_TCPV4 &&
                             p->gso_type != XEN_NETIF_GSO_TYPE_TCPV6))
            *bad = true;
        break;
    case XEN_NETIF_EXTRA_TYPE_HASH:
        p->has_hash = true;
        p->hash_type = ex->u.hash.type;
        p->hash_alg = ex->u.hash.algorithm;
        memcpy(&p->hash, ex->u.hash.value, sizeof(p->hash));
        break;
    default:
        /* Unknown extras (e.g. XDP) carry nothing we act on. */
        break;
    }
}

enum rx_verdict { RX_OK, RX_BAD, RX_INCOMPLETE };

/* Reads the packet starting at ring index `start` (responses up to `prod`)
 * into p; *end = the index after its last slot. */
static enum rx_verdict rx_read_packet(struct nf_queue *q, RING_IDX start, RING_IDX prod,
                                      struct nf_rxpkt *p, RING_IDX *end)
{
    bool bad = false;
    RING_IDX i = start;
    netif_rx_response_t r = *RING_GET_RESPONSE(&q->rx, i);
    i++;
    p->len = 0;
    p->slots = 0;
    p->flags = r.flags & (NETRXF_data_validated | NETRXF_csum_blank);
    p->gso_type = p->gso_size = 0;
    p->has_hash = false;

    if (r.flags & NETRXF_extra_info) {
        for (unsigned n = 0;; n++) {
            if (i == prod)
                goto incomplete;
            struct netif_extra_info ex;
            memcpy(&ex, RING_GET_RESPONSE(&q->rx, i), sizeof(ex));
            i++;
            if (n >= NF_RX_MAX_EXTRAS)
                bad = true;
            else
                rx_take_extra(p, &ex, &bad);
            if (!(ex.flags & XEN_NETIF_EXTRA_FLAG_MORE))
                break;
        }
    }
    RING_IDX data_slot = start;
    for (;;) {
        unsigned buf = data_slot & (NF_RX_RING_SIZE - 1);
        if (r.status < 0 || r.offset + (unsigned)r.status > NF_PAGE_SIZE ||
            p->len + (unsigned)r.status > p->cap) {
            bad = true;
        } else if (!bad) {
            memcpy(p->buf + p->len, q->rx_pool + (size_t)buf * NF_PAGE_SIZE + r.offset,
                   (size_t)r.status);
            p->len += (uint32_t)r.status;
        }
        p->slots++;
        if (!(r.flags & NETRXF_more_data))
            break;
        if (i == prod)
            goto incomplete;
        data_slot = i;
        r = *RING_GET_RESPONSE(&q->rx, i);
        i++;
    }
    *end = i;
    return bad ? RX_BAD : RX_OK;
incomplete:
    /* A chain filling the whole ring can never complete: the backend is broken. */
    if (prod - start >= NF_RX_RING_SIZE) {
        *end = prod;
        return RX_BAD;
    }
    return RX_INCOMPLETE;
}

int netfront_rx_burst(struct netfront *nf, unsigned qi, struct nf_rxpkt *pkts, unsigned n)
{
    if (qi >= nf->num_queues || !nf->connected)
        return -EINVAL;
    struct nf_queue *q = &nf->q[qi];
    RING_IDX prod = q->rx.sring->rsp_prod;
    xen_rmb();
    if (prod - q->rx.rsp_cons > q->rx.req_prod_pvt - q->rx.rsp_cons)
        prod = q->rx.req_prod_pvt;  /* more responses than requests: ignore the excess */
    unsigned got = 0;
    RING_IDX start_cons = q->rx.rsp_cons;
    while (got < n && q->rx.rsp_cons != prod) {
        RING_IDX end;
        struct nf_rxpkt *p = &pkts[got];
        enum rx_verdict v = rx_read_packet(q, q->rx.rsp_cons, prod, p, &end);
        if (v == RX_INCOMPLETE)
            break;
        q->stats.rx_slots += end - q->rx.rsp_cons;
        q->rx.rsp_cons = end;
        if (v == RX_BAD) {
            q->stats.rx_errors++;
            continue;
        }
        q->stats.rx_pkts++;
        q->stats.rx_bytes += p->len;
        got++;
    }
    if (q->rx.rsp_cons != start_cons)
        nf_rx_post_all(nf, q);
    return (int)got;
}

static bool queue_has_work(struct nf_queue *q)
{
    return RING_HAS_UNCONSUMED_RESPONSES(&q->rx) ||
           (q->tx_nfree < NF_TX_RING_SIZE && RING_HAS_UNCONSUMED_RESPONSES(&q->tx));
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int netfront_event_fd(const struct netfront *nf, unsigned qi)
{
    return nf->q[qi].xce ? xenevtchn_fd(nf->q[qi].xce) : -1;
}

/* Consumes one pending event channel notification, if any. */
static void eat_event(struct nf_queue *q)
{
    xenevtchn_port_or_error_t port = xenevtchn_pending(q->xce);
    if (port >= 0) {
        xenevtchn_unmask(q->xce, (evtchn_port_t)port);
        q->stats.events++;
    }
}

int netfront_wait(struct netfront *nf, unsigned qi, enum nf_wait_mode mode, int timeout_ms)
{
    if (qi >= nf->num_queues || !nf->connected)
        return -EINVAL;
    struct nf_queue *q = &nf->q[qi];
    int64_t deadline = timeout_ms < 0 ? INT64_MAX : mono_ms() + timeout_ms;

    if (mode == NF_WAIT_BUSY) {
        for (unsigned spins = 0;; spins++) {
            if (queue_has_work(q))
                return 1;
            if ((spins & 1023) == 1023 && mono_ms() >= deadline)
                return 0;
            cpu_relax();
        }
    }
    struct pollfd now = {.fd = xenevtchn_fd(q->xce), .events = POLLIN};
    if (poll(&now, 1, 0) > 0)
        eat_event(q);   /* a stale event would make the caller's poll spin */
    for (;;) {
        int more;
        /* Arm rsp_event before the final look, so a response published after
         * it raises an event (ring.h's lost-wakeup dance). */
        RING_FINAL_CHECK_FOR_RESPONSES(&q->rx, more);
        if (more)
            return 1;
        if (q->tx_nfree < NF_TX_RING_SIZE) {
            RING_FINAL_CHECK_FOR_RESPONSES(&q->tx, more);
            if (more)
                return 1;
        }
        int64_t left = deadline - mono_ms();
        if (left < 0)
            left = 0;
        struct pollfd pfd = {.fd = xenevtchn_fd(q->xce), .events = POLLIN};
        int rc = poll(&pfd, 1, left > 1000000 ? 1000000 : (int)left);
        if (rc < 0 && errno != EINTR)
            return -errno;
        if (rc > 0)
            eat_event(q);
        else if (left == 0)
            return queue_has_work(q) ? 1 : 0;
    }
}

void netfront_get_stats(const struct netfront *nf, struct nf_stats *out)
{
    memset(out, 0, sizeof(*out));
    for (unsigned i = 0; i < NF_MAX_QUEUES; i++) {
        const struct nf_stats *s = &nf->q[i].stats;
        const uint64_t *src = (const uint64_t *)s;
        uint64_t *dst = (uint64_t *)out;
        for (size_t k = 0; k < sizeof(*s) / sizeof(uint64_t); k++)
            dst[k] += src[k];
    }
}

void netfront_get_queue_stats(const struct netfront *nf, unsigned q, struct nf_stats *out)
{
    if (q < NF_MAX_QUEUES)
        *out = nf->q[q].stats;
    else
        memset(out, 0, sizeof(*out));
}
