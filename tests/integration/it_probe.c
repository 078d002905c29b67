/* Probe guest (see it_probe.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/datapath/dp_env.h"
#include "tests/datapath/dp_guest.h"
#include "tests/integration/it_probe.h"

#define RX_BURST 32

static void sleep_ms(unsigned ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

struct it_probe *it_probe_new(unsigned devid)
{
    struct it_probe *p = dp_shared_alloc(sizeof(*p));

    if (!p)
        return NULL;
    memset(p, 0, sizeof(*p));
    nf_config_init(&p->cfg);
    p->cfg.devid = devid;
    p->cfg.num_queues = 1;      /* one queue: FIFO delivery, see it_probe.h */
    p->cfg.self_domid = -1;
    return p;
}

void it_probe_free(struct it_probe *p)
{
    dp_shared_free(p, sizeof(*p));
}

static void log_rx(struct it_probe *p, const struct nf_rxpkt *pkt)
{
    unsigned i = __atomic_load_n(&p->rx_count, __ATOMIC_RELAXED);

    if (i < IT_LOG_MAX) {
        uint32_t len = pkt->len < IT_FRAME_MAX ? pkt->len : IT_FRAME_MAX;
        memcpy(p->rx_frame[i], pkt->buf, len);
        p->rx_len[i] = pkt->len;
    }
    __atomic_store_n(&p->rx_count, i + 1, __ATOMIC_RELEASE);
}

/* Sends mailbox frame i; retries while the ring or pool is full. */
static int send_one(struct netfront *nf, struct it_probe *p, unsigned i)
{
    struct nf_txpkt pkt = { .data = p->tx_frame[i], .len = p->tx_len[i] };

    for (int tries = 0; tries < 5000; tries++) {
        int n = netfront_tx_burst(nf, 0, &pkt, 1);
        if (n < 0)
            return n;
        if (n == 1)
            return 0;
        netfront_wait(nf, 0, NF_WAIT_EVENT, 2);
    }
    return -EAGAIN;
}

int it_probe_main(void *arg)
{
    struct it_probe *p = arg;
    struct nf_rxpkt rx[RX_BURST];
    uint8_t *bufs = malloc((size_t)RX_BURST * NF_MAX_PKT);
    struct netfront *nf = bufs ? dp_netfront_up(&p->cfg) : NULL;
    int rc = 0;

    if (!nf) {
        snprintf(p->err, sizeof(p->err), "netfront did not connect");
        __atomic_store_n(&p->ready, -1, __ATOMIC_RELEASE);
        free(bufs);
        return 1;
    }
    __atomic_store_n(&p->ready, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) {
        unsigned want = __atomic_load_n(&p->tx_req, __ATOMIC_ACQUIRE);

        for (unsigned i = p->tx_done; i < want; i++) {
            int s = send_one(nf, p, i);
            if (s < 0) {
                snprintf(p->err, sizeof(p->err), "tx of frame %u: %s", i, strerror(-s));
                rc = 1;
                goto out;
            }
            __atomic_store_n(&p->tx_done, i + 1, __ATOMIC_RELEASE);
        }
        for (unsigned i = 0; i < RX_BURST; i++) {
            memset(&rx[i], 0, sizeof(rx[i]));
            rx[i].buf = bufs + (size_t)i * NF_MAX_PKT;
            rx[i].cap = NF_MAX_PKT;
        }
        int n = netfront_rx_burst(nf, 0, rx, RX_BURST);
        if (n < 0) {
            snprintf(p->err, sizeof(p->err), "rx: %s", strerror(-n));
            rc = 1;
            break;
        }
        for (int i = 0; i < n; i++)
            log_rx(p, &rx[i]);
        netfront_tx_reap(nf, 0);
        if (n == 0)
            netfront_wait(nf, 0, NF_WAIT_EVENT, 5);
    }
out:
    netfront_close(nf);
    netfront_free(nf);
    free(bufs);
    return rc;
}

bool it_probe_wait_ready(struct it_probe *p, unsigned timeout_s)
{
    for (unsigned i = 0; i <= timeout_s * 50; i++) {
        int r = __atomic_load_n(&p->ready, __ATOMIC_ACQUIRE);
        if (r)
            return r > 0;
        sleep_ms(20);
    }
    return false;
}

bool it_probe_send(struct it_probe *p, const void *frame, uint32_t len, unsigned timeout_s)
{
    unsigned i = p->tx_req;

    if (i >= IT_LOG_MAX || len > IT_FRAME_MAX)
        return false;
    memcpy(p->tx_frame[i], frame, len);
    p->tx_len[i] = len;
    __atomic_store_n(&p->tx_req, i + 1, __ATOMIC_RELEASE);
    return dp_wait_at_least(&p->tx_done, i + 1, timeout_s);
}

bool it_probe_wait_rx(struct it_probe *p, unsigned n, unsigned timeout_s)
{
    return dp_wait_at_least(&p->rx_count, n, timeout_s);
}

unsigned it_probe_rx_count(struct it_probe *p)
{
    return __atomic_load_n(&p->rx_count, __ATOMIC_ACQUIRE);
}

bool it_probe_rx_is(struct it_probe *p, unsigned i, const void *frame, uint32_t len)
{
    if (i >= it_probe_rx_count(p) || i >= IT_LOG_MAX)
        return false;
    return p->rx_len[i] == len && len <= IT_FRAME_MAX && !memcmp(p->rx_frame[i], frame, len);
}
