/* Sender and receiver guests for the datapath tests (see dp_guest.h). The
 * sender keeps at most a window of packets ahead of the receiver, so no loss
 * is legitimate: every packet must arrive, in order, byte for byte. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/netfront/nf_frame.h"
#include "backend/netfront/nf_static.h"
#include "tests/datapath/dp_env.h"
#include "tests/datapath/dp_guest.h"

#define WINDOW_PKTS 32
#define WINDOW_BYTES (256u * 1024)
#define NO_PROGRESS_S 30

#define LOAD(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)

static void sleep_us(unsigned us)
{
    struct timespec ts = {us / 1000000, (long)(us % 1000000) * 1000L};
    nanosleep(&ts, NULL);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct dp_flow *dp_flow_new(void)
{
    struct dp_flow *f = dp_shared_alloc(sizeof(*f));
    if (!f)
        return NULL;
    memset(f, 0, sizeof(*f));
    nf_config_init(&f->tx_cfg);
    nf_config_init(&f->rx_cfg);
    f->first_bad = -1;
    return f;
}

void dp_flow_free(struct dp_flow *f)
{
    dp_shared_free(f, sizeof(*f));
}

bool dp_wait_at_least(const unsigned *p, unsigned v, unsigned timeout_s)
{
    for (unsigned i = 0; i < timeout_s * 50; i++) {
        if (LOAD(p) >= v)
            return true;
        sleep_us(20000);
    }
    return LOAD(p) >= v;
}

bool dp_wait_flag(const int *p, int v, unsigned timeout_s)
{
    for (unsigned i = 0; i < timeout_s * 50; i++) {
        if (LOAD(p) == v)
            return true;
        sleep_us(20000);
    }
    return LOAD(p) == v;
}

/* Flow of packet k: source address 10.1.<k % 64>.1. */
static uint32_t flow_src(unsigned k)
{
    return htonl(0x0a010001u | (k % 64) << 8);
}

static void build(const struct dp_flow *f, unsigned k, uint8_t *buf, struct nf_txpkt *p)
{
    uint32_t len = f->n ? f->sizes[k] : f->sizes[0];
    memset(p, 0, sizeof(*p));
    p->data = buf;
    p->len = len;
    p->slot_size = f->slot_size;
    if (f->udp_csum_blank) {
        nf_build_udp4(buf, len, f->rx_mac, f->tx_mac, htonl(0x0a000001), htonl(0x0a000002), k,
                      true, NULL, NULL);
        p->flags = NETTXF_csum_blank | NETTXF_data_validated;
    } else if (f->udp_flows) {
        nf_build_udp4(buf, len, f->rx_mac, f->tx_mac, flow_src(k), htonl(0x0a000002), k, false,
                      NULL, NULL);
    } else {
        nf_pattern_fill(buf, len, f->rx_mac, f->tx_mac, k);
    }
}

int dp_guest_send(void *arg)
{
    struct dp_flow *f = arg;
    if (f->queues > 1)
        f->tx_cfg.num_queues = f->queues;
    f->tx_cfg.ctrl_ring |= f->tx_static_grants;
    struct netfront *nf = dp_netfront_up(&f->tx_cfg);
    if (!nf)
        return 10;
    if (f->tx_static_grants &&
        (f->tx_static_pages = netfront_static_grants_register(nf)) < 0) {
        snprintf(f->err, sizeof(f->err), "sender: static grants: %d", f->tx_static_pages);
        netfront_close(nf);
        netfront_free(nf);
        return 11;
    }
    int status = dp_send_on(nf, f);
    netfront_close(nf);
    netfront_free(nf);
    return status;
}

/* Waits a little for TX progress on queue q. netfront_wait returns at once
 * while packets wait on the RX ring, and a sender never reads its RX ring
 * (it may hold floods meant for others): without the sleep a sender would
 * spin, and a bound counted in waits would run out in microseconds. */
static void wait_tx_progress(struct netfront *nf, unsigned q)
{
    if (netfront_wait(nf, q, NF_WAIT_EVENT, 10) != 0)
        sleep_us(200);
}

unsigned dp_tx_drain(struct netfront *nf, unsigned q, unsigned timeout_s)
{
    double deadline = now_s() + timeout_s;
    for (;;) {
        netfront_tx_reap(nf, q);
        unsigned inflight = netfront_tx_inflight(nf, q);
        if (!inflight || now_s() > deadline)
            return inflight;
        wait_tx_progress(nf, q);
    }
}

int dp_send_on(struct netfront *nf, struct dp_flow *f)
{
    uint8_t *buf = malloc(NF_MAX_PKT);
    int status = 0;
    if (!dp_wait_flag(&f->rx_ready, 1, 60)) {
        snprintf(f->err, sizeof(f->err), "sender: receiver never connected");
        status = 11;
        goto out;
    }
    uint64_t bytes_sent = 0, bytes_acked = 0;
    unsigned acked = 0;
    double last_progress = now_s();
    unsigned last_rx = 0;
    for (unsigned k = 0; (f->n == 0 || k < f->n) && !LOAD(&f->stop);) {
        if (f->pause_at && k == f->pause_at) {
            if (!dp_wait_at_least(&f->received, k, 60) || !dp_wait_flag(&f->rx_ready, 2, 60)) {
                snprintf(f->err, sizeof(f->err), "sender: receiver did not come back at %u", k);
                status = 12;
                goto out;
            }
        }
        unsigned rx = LOAD(&f->received);
        if (rx != last_rx) {
            last_rx = rx;
            last_progress = now_s();
        }
        while (f->n && acked < rx && acked < f->n)
            bytes_acked += f->sizes[acked++];
        uint32_t len = f->n ? f->sizes[k] : f->sizes[0];
        /* Streams (n = 0) are paced by the ring alone: loss is allowed there. */
        if (f->n && k > rx &&
            (k - rx >= WINDOW_PKTS || bytes_sent - bytes_acked + len > WINDOW_BYTES)) {
            if (now_s() - last_progress > NO_PROGRESS_S) {
                snprintf(f->err, sizeof(f->err), "sender: receiver stuck at %u of %u", rx, f->n);
                status = 13;
                goto out;
            }
            for (unsigned q = 0; q < netfront_num_queues(nf); q++)
                netfront_tx_reap(nf, q);
            sleep_us(200);
            continue;
        }
        struct nf_txpkt p;
        build(f, k, buf, &p);
        unsigned q = k % netfront_num_queues(nf);
        int n = netfront_tx_burst(nf, q, &p, 1);
        if (n < 0) {
            snprintf(f->err, sizeof(f->err), "sender: tx_burst(len %u): %d", len, n);
            status = 14;
            goto out;
        }
        if (n == 0) {
            wait_tx_progress(nf, q);
            continue;
        }
        bytes_sent += len;
        k++;
        STORE(&f->sent, k);
    }
    /* Collect every response before the caller closes: requests still in
     * the ring when the frontend closes are never forwarded. */
    for (unsigned q = 0; q < netfront_num_queues(nf); q++) {
        unsigned left = dp_tx_drain(nf, q, NO_PROGRESS_S);
        if (left) {
            snprintf(f->err, sizeof(f->err), "sender: queue %u: %u requests unanswered", q, left);
            status = 15;
            goto out;
        }
    }
out:;
    for (unsigned q = 0; q < netfront_num_queues(nf) && q < NF_MAX_QUEUES; q++) {
        struct nf_stats qs;
        netfront_get_queue_stats(nf, q, &qs);
        f->tx_per_queue[q] = qs.tx_pkts;
    }
    struct nf_stats s;
    netfront_get_stats(nf, &s);
    f->tx_slots = s.tx_slots;
    f->tx_rsp_ok = s.tx_rsp_ok;
    f->tx_rsp_error = s.tx_rsp_error;
    f->tx_rsp_dropped = s.tx_rsp_dropped;
    free(buf);
    return status;
}

/* Is rx packet k exactly what the sender built? */
static bool check_packet(const struct dp_flow *f, unsigned k, const struct nf_rxpkt *p,
                         uint8_t *ref)
{
    uint32_t want = f->n ? f->sizes[k] : f->sizes[0];
    if (p->len != want)
        return false;
    if (memcmp(p->buf, f->rx_mac, 6) != 0 || memcmp(p->buf + 6, f->tx_mac, 6) != 0)
        return false;
    if (f->udp_csum_blank) {
        /* Rebuild the frame as the sender did, with a full checksum: the
         * backend's completion must have produced exactly these bytes. A
         * receiver taking the offload gets the partial frame and the flag. */
        bool partial = f->rx_expect_partial;
        nf_build_udp4(ref, want, f->rx_mac, f->tx_mac, htonl(0x0a000001), htonl(0x0a000002), k,
                      partial, NULL, NULL);
        if (partial)
            return (p->flags & NETRXF_csum_blank) && memcmp(ref, p->buf, want) == 0;
        return nf_l4_csum_ok(p->buf, p->len) && memcmp(ref, p->buf, want) == 0;
    }
    if (f->udp_flows) {
        nf_build_udp4(ref, want, f->rx_mac, f->tx_mac, flow_src(k), htonl(0x0a000002), k, false,
                      NULL, NULL);
        return memcmp(ref, p->buf, want) == 0;
    }
    uint64_t seq;
    if (!nf_pattern_check(p->buf, p->len, &seq))
        return false;
    return want < NF_ETH_HLEN + NF_PATTERN_HDR || !f->n || seq == k;
}

int dp_guest_recv(void *arg)
{
    struct dp_flow *f = arg;
    if (f->queues > 1)
        f->rx_cfg.num_queues = f->queues;
    f->rx_cfg.ctrl_ring |= f->rx_static_grants;
    struct netfront *nf = dp_netfront_up(&f->rx_cfg);
    if (!nf)
        return 20;
    if (f->rx_static_grants &&
        (f->rx_static_pages = netfront_static_grants_register(nf)) < 0) {
        snprintf(f->err, sizeof(f->err), "receiver: static grants: %d", f->rx_static_pages);
        netfront_close(nf);
        netfront_free(nf);
        return 25;
    }
    struct nf_rxpkt rx[16];
    uint8_t *mem = malloc(17 * (size_t)NF_MAX_PKT);
    uint8_t *ref = mem + 16 * (size_t)NF_MAX_PKT;   /* the expected frame, rebuilt */
    for (unsigned i = 0; i < 16; i++) {
        rx[i].buf = mem + (size_t)i * NF_MAX_PKT;
        rx[i].cap = NF_MAX_PKT;
    }
    STORE(&f->rx_ready, 1);
    int status = 0;
    double last_progress = now_s();
    unsigned k = 0;
    while ((f->n == 0 || k < f->n) && !LOAD(&f->stop)) {
        if (f->rx_reconnect && f->pause_at && k == f->pause_at && LOAD(&f->rx_ready) == 1) {
            int rc = netfront_close(nf);
            f->state_after_close = (int)netfront_read_key(nf, true, "state");
            if (rc == 0)
                rc = netfront_reinit(nf);
            if (rc == 0)
                rc = netfront_connect(nf);
            if (rc < 0) {
                snprintf(f->err, sizeof(f->err), "receiver: reconnect: %d", rc);
                status = 21;
                break;
            }
            f->state_after_reconnect = (int)netfront_read_key(nf, true, "state");
            STORE(&f->rx_ready, 2);
        }
        int total = 0;
        unsigned nq = netfront_num_queues(nf);
        for (unsigned q = 0; q < nq; q++) {
            int n = netfront_rx_burst(nf, q, rx, 16);
            if (n < 0) {
                status = 22;
                break;
            }
            total += n;
            for (int i = 0; i < n; i++, k++) {
                /* One queue keeps order; several only keep it per flow, so
                 * the packet says which one it is (IP id = seq). */
                unsigned idx = f->n ? k : 0;
                if (nq > 1 && f->udp_flows && rx[i].len >= 20) {
                    idx = (unsigned)rx[i].buf[18] << 8 | rx[i].buf[19];
                    if (idx >= f->n || f->seen[idx]++)
                        f->duplicates++;
                    if (idx >= f->n)
                        idx = 0;
                }
                if (rx[i].flags & NETRXF_csum_blank)
                    f->rx_csum_blank_seen++;
                if (rx[i].slots > f->rx_slots_max)
                    f->rx_slots_max = rx[i].slots;
                if (!check_packet(f, idx, &rx[i], ref)) {
                    if (f->first_bad < 0) {
                        f->first_bad = (int)k;
                        f->first_bad_len = rx[i].len;
                    }
                    f->bad++;
                }
                STORE(&f->received, k + 1);
            }
        }
        if (status)
            break;
        if (total > 0) {
            last_progress = now_s();
        } else {
            if (f->n && now_s() - last_progress > NO_PROGRESS_S) {
                snprintf(f->err, sizeof(f->err), "receiver: stuck at %u of %u", k, f->n);
                status = 23;
                break;
            }
            /* Sleep on queue 0; the others are looked at every 2 ms. */
            netfront_wait(nf, 0, NF_WAIT_EVENT, nq > 1 ? 2 : 20);
        }
    }
    f->queues_connected = netfront_num_queues(nf);
    for (unsigned q = 0; q < f->queues_connected && q < NF_MAX_QUEUES; q++) {
        struct nf_stats qs;
        netfront_get_queue_stats(nf, q, &qs);
        f->rx_per_queue[q] = qs.rx_pkts;
    }
    struct nf_stats st;
    netfront_get_stats(nf, &st);
    f->rx_errors = st.rx_errors;
    netfront_close(nf);
    netfront_free(nf);
    free(mem);
    if (!status && f->bad)
        status = 24;
    return status;
}
