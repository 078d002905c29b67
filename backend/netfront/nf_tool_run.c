/* The netfront tool's traffic loop: connect, send/sink/answer in bursts over
 * every queue, print rates, close cleanly, print one summary line that
 * scripts parse ("netfront-summary key=value ..."). */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/netfront/nf_frame.h"
#include "backend/netfront/nf_static.h"
#include "backend/netfront/nf_tool.h"

/* Packets taken (and RX buffers posted again) per receive call: a full
 * backend batch, so the guest reposts in the backend's batch size. */
#define NF_TOOL_RX_BURST 64

struct tool {
    const struct nf_tool_opts *o;
    struct netfront *nf;
    unsigned nq;
    uint8_t mac[6];
    uint8_t **txbuf;            /* o->burst frames being built */
    struct nf_txpkt *txp;
    struct nf_rxpkt rx[NF_TOOL_RX_BURST];
    uint8_t answer[NF_MAX_EXTRAS + 1][2048];
    uint64_t next_seq;
    uint64_t sent, rx_good, rx_bad, answered;
    uint32_t rng;
    double t0;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint32_t next_rand(uint32_t *s)
{
    /* xorshift32: reproducible sizes from --seed */
    uint32_t x = *s ? *s : 1;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

static uint32_t pick_size(struct tool *t)
{
    const struct nf_tool_opts *o = t->o;
    if (o->size_min == o->size_max)
        return o->size_min;
    return o->size_min + next_rand(&t->rng) % (o->size_max - o->size_min + 1);
}

static void build_frame(struct tool *t, unsigned i)
{
    const struct nf_tool_opts *o = t->o;
    struct nf_txpkt *p = &t->txp[i];
    uint32_t len = pick_size(t);
    uint64_t seq = t->next_seq + i;
    memset(p, 0, sizeof(*p));
    p->data = t->txbuf[i];
    p->len = len;
    p->slot_size = o->slot_size;
    if (o->csum_blank) {
        nf_build_udp4(t->txbuf[i], len, o->to, t->mac, htonl(0x0a000001), htonl(0x0a000002), seq,
                      true, NULL, NULL);
        p->flags = NETTXF_csum_blank | NETTXF_data_validated;
    } else {
        nf_pattern_fill(t->txbuf[i], len, o->to, t->mac, o->verify ? seq : 0);
    }
}

/* Sends one burst (fewer when paced); returns how many were queued. */
static int send_burst(struct tool *t, unsigned q, double since_start)
{
    const struct nf_tool_opts *o = t->o;
    uint64_t want = o->burst;
    if (o->pps > 0) {
        double allowed = o->pps * since_start - (double)t->sent;
        if (allowed < 1)
            return 0;
        if (allowed < (double)want)
            want = (uint64_t)allowed;
    }
    if (o->send_count && o->send_count - t->sent < want)
        want = o->send_count - t->sent;
    if (!want)
        return 0;
    /* Identical frames (no pattern, one size) are built once at start; the
     * rest are rebuilt per burst, numbered from the first not yet accepted. */
    if (o->verify || o->csum_blank || o->size_min != o->size_max)
        for (unsigned i = 0; i < want; i++)
            build_frame(t, i);
    int n = netfront_tx_burst(t->nf, q, t->txp, (unsigned)want);
    if (n < 0) {
        fprintf(stderr, "netfront: tx: %s\n", strerror(-n));
        return n;
    }
    t->sent += (unsigned)n;
    t->next_seq += (unsigned)n;
    return n;
}

static void handle_rx(struct tool *t, unsigned q, int n)
{
    const struct nf_tool_opts *o = t->o;
    unsigned nans = 0;
    struct nf_txpkt ans[NF_MAX_EXTRAS + 1];
    for (int i = 0; i < n; i++) {
        struct nf_rxpkt *p = &t->rx[i];
        if (o->responder && nans < NF_MAX_EXTRAS + 1) {
            const uint8_t *mac = o->responder_mac_set ? o->responder_mac : t->mac;
            size_t len = nf_answer(p->buf, p->len, o->responder_ip, mac, t->answer[nans],
                                   sizeof(t->answer[nans]));
            if (len) {
                memset(&ans[nans], 0, sizeof(ans[nans]));
                ans[nans].data = t->answer[nans];
                ans[nans].len = (uint32_t)len;
                nans++;
                continue;
            }
        }
        if (o->sink) {
            bool ok = true;
            if (o->verify)
                ok = o->csum_blank ? nf_l4_csum_ok(p->buf, p->len) : nf_pattern_check(p->buf, p->len, NULL);
            if (ok)
                t->rx_good++;
            else
                t->rx_bad++;
        }
    }
    if (nans) {
        int s = netfront_tx_burst(t->nf, q, ans, nans);
        if (s > 0)
            t->answered += (unsigned)s;
    }
}

static void print_rates(struct tool *t, struct nf_stats *prev, double *tprev)
{
    struct nf_stats s;
    netfront_get_stats(t->nf, &s);
    double now = now_s(), dt = now - *tprev;
    if (dt <= 0)
        return;
    printf("[%6.1fs] dom%u tx %.0f pkt/s %.3f Gbit/s  rx %.0f pkt/s %.3f Gbit/s  bad %llu\n",
           now - t->t0, netfront_domid(t->nf), (s.tx_pkts - prev->tx_pkts) / dt,
           (s.tx_bytes - prev->tx_bytes) * 8 / dt / 1e9, (s.rx_pkts - prev->rx_pkts) / dt,
           (s.rx_bytes - prev->rx_bytes) * 8 / dt / 1e9, (unsigned long long)t->rx_bad);
    if (getenv("NETFRONT_DEBUG_RINGS"))
        netfront_dump_rings(t->nf, stdout);
    fflush(stdout);
    *prev = s;
    *tprev = now;
}

static void print_summary(struct tool *t, double secs)
{
    struct nf_stats s;
    netfront_get_stats(t->nf, &s);
    printf("netfront-summary domid=%u secs=%.3f tx_pkts=%llu tx_bytes=%llu rx_pkts=%llu "
           "rx_bytes=%llu rx_good=%llu rx_bad=%llu rx_errors=%llu answered=%llu tx_rsp_ok=%llu "
           "tx_rsp_error=%llu tx_rsp_dropped=%llu notify_tx=%llu notify_rx=%llu events=%llu\n",
           netfront_domid(t->nf), secs, (unsigned long long)s.tx_pkts,
           (unsigned long long)s.tx_bytes, (unsigned long long)s.rx_pkts,
           (unsigned long long)s.rx_bytes, (unsigned long long)t->rx_good,
           (unsigned long long)t->rx_bad, (unsigned long long)s.rx_errors,
           (unsigned long long)t->answered, (unsigned long long)s.tx_rsp_ok,
           (unsigned long long)s.tx_rsp_error, (unsigned long long)s.tx_rsp_dropped,
           (unsigned long long)s.notify_tx, (unsigned long long)s.notify_rx,
           (unsigned long long)s.events);
    fflush(stdout);
}

/* Sleeps until any queue has work or timeout_ms passes (event mode). */
static void wait_any(struct tool *t, int timeout_ms)
{
    if (t->o->busy_poll) {
        for (unsigned q = 0; q < t->nq; q++)
            if (netfront_wait(t->nf, q, NF_WAIT_BUSY, t->nq == 1 ? timeout_ms : 0) > 0)
                return;
        return;
    }
    if (t->nq == 1) {
        netfront_wait(t->nf, 0, NF_WAIT_EVENT, timeout_ms);
        return;
    }
    struct pollfd pfd[NF_MAX_QUEUES];
    for (unsigned q = 0; q < t->nq; q++) {
        if (netfront_wait(t->nf, q, NF_WAIT_EVENT, 0) > 0)
            return;
        pfd[q].fd = netfront_event_fd(t->nf, q);
        pfd[q].events = POLLIN;
    }
    poll(pfd, t->nq, timeout_ms);
}

static int tool_loop(struct tool *t)
{
    const struct nf_tool_opts *o = t->o;
    double start = now_s(), send_at = start + o->start_delay;
    double next_stats = start + o->stats_interval, tprev = start;
    struct nf_stats prev;
    netfront_get_stats(t->nf, &prev);
    bool receiving = o->sink || o->responder;
    double done_at = 0;
    while (!nf_tool_stop) {
        double now = now_s();
        if (o->duration > 0 && now - start >= o->duration)
            break;
        bool sending = o->send && now >= send_at && (!o->send_count || t->sent < o->send_count);
        if (!sending && !receiving && now >= send_at) {
            /* sender done: wait (at most 5 s) for the last responses, then stop */
            unsigned inflight = 0;
            for (unsigned q = 0; q < t->nq; q++) {
                netfront_tx_reap(t->nf, q);
                inflight += netfront_tx_inflight(t->nf, q);
            }
            if (!done_at)
                done_at = now;
            if (!inflight || now - done_at > 5)
                break;
        }
        int work = 0;
        for (unsigned q = 0; q < t->nq; q++) {
            if (sending) {
                int n = send_burst(t, q, now - send_at);
                if (n < 0)
                    return 1;
                work += n;
            }
            int r = netfront_rx_burst(t->nf, q, t->rx, NF_TOOL_RX_BURST);
            if (r > 0) {
                handle_rx(t, q, r);
                work += r;
            }
        }
        if (o->stats_interval > 0 && now >= next_stats) {
            print_rates(t, &prev, &tprev);
            next_stats += o->stats_interval;
        }
        if (!work)
            wait_any(t, o->pps > 0 ? 1 : 50);
    }
    return 0;
}

int nf_tool_run(const struct nf_tool_opts *o)
{
    struct tool t;
    memset(&t, 0, sizeof(t));
    t.o = o;
    t.rng = o->seed;
    int rc = netfront_open(&t.nf, &o->cfg);
    if (rc < 0) {
        fprintf(stderr, "netfront: open device/vif/%u: %s\n", o->cfg.devid, strerror(-rc));
        return 1;
    }
    memcpy(t.mac, netfront_mac(t.nf), 6);
    rc = netfront_connect(t.nf);
    if (rc < 0) {
        fprintf(stderr, "netfront: connect dom%u vif %u: %s\n", netfront_domid(t.nf), o->cfg.devid,
                strerror(-rc));
        netfront_free(t.nf);
        return 1;
    }
    t.nq = netfront_num_queues(t.nf);
    if (o->static_grants) {
        rc = netfront_static_grants_register(t.nf);
        if (rc < 0) {
            fprintf(stderr, "netfront: static grants: %s\n", strerror(-rc));
            netfront_close(t.nf);
            netfront_free(t.nf);
            return 1;
        }
        if (!o->quiet)
            fprintf(stderr, "netfront: %d pages registered as static grants\n", rc);
    }
    if (!o->quiet)
        fprintf(stderr, "netfront: dom%u vif %u connected to backend dom%u, %u queue(s), mac "
                "%02x:%02x:%02x:%02x:%02x:%02x\n", netfront_domid(t.nf), o->cfg.devid,
                netfront_backend_domid(t.nf), t.nq, t.mac[0], t.mac[1], t.mac[2], t.mac[3],
                t.mac[4], t.mac[5]);
    t.txbuf = calloc(o->burst, sizeof(*t.txbuf));
    t.txp = calloc(o->burst, sizeof(*t.txp));
    uint8_t *rxmem = malloc(NF_TOOL_RX_BURST * (size_t)NF_MAX_PKT);
    int status = 1;
    if (!t.txbuf || !t.txp || !rxmem)
        goto out;
    for (unsigned i = 0; i < o->burst; i++) {
        t.txbuf[i] = malloc(o->size_max);
        if (!t.txbuf[i])
            goto out;
        build_frame(&t, i);
    }
    for (unsigned i = 0; i < NF_TOOL_RX_BURST; i++) {
        t.rx[i].buf = rxmem + (size_t)i * NF_MAX_PKT;
        t.rx[i].cap = NF_MAX_PKT;
    }
    t.t0 = now_s();
    status = tool_loop(&t);
    print_summary(&t, now_s() - t.t0);
    if (o->sink && t.rx_bad)
        status = 1;
out:
    rc = netfront_close(t.nf);
    if (rc < 0 && !o->quiet)
        fprintf(stderr, "netfront: close: %s\n", strerror(-rc));
    netfront_free(t.nf);
    if (t.txbuf)
        for (unsigned i = 0; i < o->burst; i++)
            free(t.txbuf[i]);
    free(t.txbuf);
    free(t.txp);
    free(rxmem);
    return status;
}
