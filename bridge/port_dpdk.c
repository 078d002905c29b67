/* The dpdk port kind (built only with HAVE_DPDK=1). */
#include "bridge/port_dpdk.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "bridge/bridge.h"
#include "bridge/offload.h"

#define MBUF_COUNT 8191
#define MBUF_CACHE 256
#define MBUF_DATA (2048 + RTE_PKTMBUF_HEADROOM)
/* The receive thread sleeps this long after an empty poll (event mode). */
#define IDLE_SLEEP_NS 100000
/* ... and refreshes the link state this often: asking the device is slow
 * on some PMDs, so egress reads a cached flag. */
#define LINK_POLL_NS 100000000ull

struct nb_dpdk {
    struct rte_mempool *mbufs;
    unsigned ports;
};

struct dpdk_port {
    struct nb_port port;
    struct nb_dpdk *dpdk;
    struct nb_pkt_pool *pool;
    uint16_t port_id;
    char devname[RTE_DEV_NAME_MAX_LEN];
    bool busy_poll;
    uint64_t tx_offload_capa;
    bool multi_seg;               /* the device sends chained mbufs */
    struct rte_device *rdev;      /* removed again when the port goes */
    pthread_mutex_t tx_lock;      /* one TX queue, many ingress threads */
    struct nb_bridge *bridge;
    pthread_t rx_thread;
    atomic_bool stop;
    atomic_bool link_up;
    bool running, started;
};

int nb_dpdk_available(void)
{
    return 1;
}

int nb_dpdk_open(const char *const *eal_args, unsigned n_args, struct nb_dpdk **out)
{
    char **argv = calloc(n_args + 2, sizeof(*argv));
    struct nb_dpdk *d;
    int rc;

    if (!argv)
        return -ENOMEM;
    argv[0] = (char *)"netbackd";
    for (unsigned i = 0; i < n_args; i++)
        argv[i + 1] = (char *)eal_args[i];
    /* rte_eal_init may permute argv: it gets its own copy of the pointers. */
    rc = rte_eal_init((int)n_args + 1, argv);
    free(argv);
    if (rc < 0 && rte_errno != EALREADY) {
        fprintf(stderr, "netbackd: DPDK EAL initialisation failed: %s\n",
                rte_strerror(rte_errno));
        return -(rte_errno ? rte_errno : EINVAL);
    }
    d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->mbufs = rte_pktmbuf_pool_create("nb_mbufs", MBUF_COUNT, MBUF_CACHE, 0, MBUF_DATA,
                                       SOCKET_ID_ANY);
    if (!d->mbufs) {
        fprintf(stderr, "netbackd: DPDK mbuf pool: %s\n", rte_strerror(rte_errno));
        free(d);
        return -ENOMEM;
    }
    *out = d;
    return 0;
}

void nb_dpdk_close(struct nb_dpdk *dpdk)
{
    if (!dpdk)
        return;
    rte_mempool_free(dpdk->mbufs);
    free(dpdk);
}

static struct dpdk_port *dp_of(struct nb_port *port)
{
    return (struct dpdk_port *)port;
}

/* ---- TX: nb_pkt -> mbuf ------------------------------------------------- */

static struct rte_mbuf *pkt2mbuf(struct dpdk_port *dp, const struct nb_pkt *pkt)
{
    struct rte_mbuf *head = rte_pktmbuf_alloc(dp->dpdk->mbufs), *m = head;
    uint32_t off = 0;

    if (!head)
        return NULL;
    while (off < pkt->len) {
        uint16_t room = rte_pktmbuf_tailroom(m);
        uint32_t chunk = pkt->len - off < room ? pkt->len - off : room;
        memcpy(rte_pktmbuf_append(m, (uint16_t)chunk), pkt->data + off, chunk);
        off += chunk;
        if (off < pkt->len) {
            struct rte_mbuf *next = rte_pktmbuf_alloc(dp->dpdk->mbufs);
            if (!next || rte_pktmbuf_chain(head, next) != 0) {
                rte_pktmbuf_free(next);
                rte_pktmbuf_free(head);
                return NULL;
            }
            m = next;
        }
    }
    return head;
}

/* Hands a pending checksum or segmentation to the NIC (only called for
 * what port->offloads promised, i.e. what the device reported). */
static void set_tx_offload(struct rte_mbuf *m, const struct nb_pkt *pkt)
{
    struct nb_l4_info info;

    if (!(pkt->flags & NB_PKT_CSUM_PARTIAL) || nb_offload_parse(pkt, &info) != 0)
        return;
    m->l2_len = info.l3_off;
    m->l3_len = info.l4_off - info.l3_off;
    m->l4_len = info.l4_hdr_len;
    m->ol_flags |= info.ip_version == 4 ? RTE_MBUF_F_TX_IPV4 : RTE_MBUF_F_TX_IPV6;
    if (pkt->gso_type != NB_GSO_NONE) {
        /* DPDK wants the pseudo-header sum without the length for TSO. */
        uint8_t *l4 = rte_pktmbuf_mtod_offset(m, uint8_t *, info.l4_off);
        const uint8_t *ip = pkt->data + info.l3_off;
        uint64_t sum = info.ip_version == 4 ? nb_csum_add(0, ip + 12, 8)
                                             : nb_csum_add(0, ip + 8, 32);
        uint16_t v;
        sum += htons(IPPROTO_TCP);
        v = (uint16_t)~nb_csum_fold(sum);
        memcpy(l4 + 16, &v, 2);
        m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG;
        if (info.ip_version == 4)
            m->ol_flags |= RTE_MBUF_F_TX_IP_CKSUM;
        m->tso_segsz = pkt->gso_size;
    } else {
        m->ol_flags |= info.l4_proto == IPPROTO_TCP ? RTE_MBUF_F_TX_TCP_CKSUM
                                                    : RTE_MBUF_F_TX_UDP_CKSUM;
    }
}

static void dpdk_tx_burst(struct nb_port *port, struct nb_pkt **pkts, unsigned n)
{
    struct dpdk_port *dp = dp_of(port);
    struct rte_mbuf *m[NB_BURST];
    unsigned nm = 0, no_mbuf = 0, too_big = 0;
    uint16_t sent;

    for (unsigned i = 0; i < n; i++) {
        struct rte_mbuf *mb;
        if (pkts[i]->len > MBUF_DATA - RTE_PKTMBUF_HEADROOM && !dp->multi_seg) {
            too_big++;          /* would need a chain the device cannot send */
            continue;
        }
        mb = pkt2mbuf(dp, pkts[i]);
        if (!mb) {
            no_mbuf++;
            continue;
        }
        set_tx_offload(mb, pkts[i]);
        m[nm++] = mb;
    }
    nb_pkt_free_burst(pkts, n);
    pthread_mutex_lock(&dp->tx_lock);
    sent = nm ? rte_eth_tx_burst(dp->port_id, 0, m, (uint16_t)nm) : 0;
    pthread_mutex_unlock(&dp->tx_lock);
    for (unsigned i = sent; i < nm; i++)
        rte_pktmbuf_free(m[i]);
    if (no_mbuf + (nm - sent))
        nb_port_count_drop(port, NB_DROP_NO_BUFFER, no_mbuf + (nm - sent));
    if (too_big)
        nb_port_count_drop(port, NB_DROP_MALFORMED, too_big);
}

/* ---- RX: mbuf -> nb_pkt ------------------------------------------------- */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void refresh_link(struct dpdk_port *dp)
{
    struct rte_eth_link link;

    if (rte_eth_link_get_nowait(dp->port_id, &link) == 0)
        atomic_store_explicit(&dp->link_up, link.link_status == RTE_ETH_LINK_UP,
                              memory_order_relaxed);
}

static void *dpdk_rx_main(void *arg)
{
    struct dpdk_port *dp = arg;
    struct timespec idle = { 0, IDLE_SLEEP_NS };
    uint64_t next_link = 0;

    while (!atomic_load_explicit(&dp->stop, memory_order_relaxed)) {
        uint64_t t = now_ns();
        if (t >= next_link) {
            refresh_link(dp);
            next_link = t + LINK_POLL_NS;
        }
        struct rte_mbuf *m[NB_BURST];
        struct nb_pkt *pkts[NB_BURST];
        unsigned n = 0, no_buf = 0;
        uint16_t got = rte_eth_rx_burst(dp->port_id, 0, m, NB_BURST);

        if (got == 0) {
            if (!dp->busy_poll)
                nanosleep(&idle, NULL);
            continue;
        }
        for (uint16_t i = 0; i < got; i++) {
            uint32_t len = rte_pktmbuf_pkt_len(m[i]);
            struct nb_pkt *p = nb_pkt_alloc(dp->pool, len);
            const void *src;
            if (!p) {
                no_buf++;
                continue;
            }
            src = rte_pktmbuf_read(m[i], 0, len, p->data);
            if (src != p->data)
                memcpy(p->data, src, len);
            if ((m[i]->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD)
                p->flags |= NB_PKT_DATA_VALID;
            pkts[n++] = p;
        }
        rte_pktmbuf_free_bulk(m, got);
        if (no_buf)
            nb_port_count_drop(&dp->port, NB_DROP_NO_BUFFER, no_buf);
        if (n)
            nb_bridge_input(dp->bridge, &dp->port, pkts, n);
    }
    return NULL;
}

/* ---- lifecycle ----------------------------------------------------------- */

void nb_dpdk_port_free(struct nb_port *port)
{
    struct dpdk_port *dp = dp_of(port);

    if (dp->running) {
        atomic_store(&dp->stop, true);
        pthread_join(dp->rx_thread, NULL);
    }
    if (dp->started) {
        rte_eth_dev_stop(dp->port_id);
        rte_eth_dev_close(dp->port_id);
        rte_dev_remove(dp->rdev);
    }
    pthread_mutex_destroy(&dp->tx_lock);
    free(dp);
}

static void dpdk_destroy(struct nb_port *port)
{
    nb_dpdk_port_free(port);
}

static int dpdk_link_up(struct nb_port *port)
{
    return atomic_load_explicit(&dp_of(port)->link_up, memory_order_relaxed);
}

static const struct nb_port_ops dpdk_ops = {
    .kind = "dpdk",
    .tx_burst = dpdk_tx_burst,
    .link_up = dpdk_link_up,
    .destroy = dpdk_destroy,
};

static int dpdk_configure(struct dpdk_port *dp, unsigned ring)
{
    struct rte_eth_dev_info info;
    struct rte_eth_conf conf = { 0 };
    uint64_t want = RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
    int rc;

    rc = rte_eth_dev_info_get(dp->port_id, &info);
    if (rc)
        return rc;
    dp->tx_offload_capa = info.tx_offload_capa;
    dp->rdev = info.device;
    if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) {
        conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
        dp->multi_seg = true;
    }
    if ((info.tx_offload_capa & want) == want) {
        conf.txmode.offloads |= want;
        dp->port.offloads |= NB_PORT_OFF_CSUM;
        if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_TCP_TSO &&
            info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM && dp->multi_seg) {
            conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_TCP_TSO | RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
            dp->port.offloads |= NB_PORT_OFF_TSO4 | NB_PORT_OFF_TSO6;
        }
    }
    if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_CHECKSUM)
        conf.rxmode.offloads |= info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_CHECKSUM;
    rc = rte_eth_dev_configure(dp->port_id, 1, 1, &conf);
    if (rc)
        return rc;
    uint16_t nrx = (uint16_t)ring, ntx = (uint16_t)ring;
    rc = rte_eth_dev_adjust_nb_rx_tx_desc(dp->port_id, &nrx, &ntx);
    if (rc)
        return rc;
    int socket = rte_eth_dev_socket_id(dp->port_id);
    if (socket < 0)
        socket = (int)SOCKET_ID_ANY;
    rc = rte_eth_rx_queue_setup(dp->port_id, 0, nrx, (unsigned)socket, NULL, dp->dpdk->mbufs);
    if (rc)
        return rc;
    rc = rte_eth_tx_queue_setup(dp->port_id, 0, ntx, (unsigned)socket, NULL);
    if (rc)
        return rc;
    return rte_eth_dev_start(dp->port_id);
}

int nb_dpdk_port_new(struct nb_dpdk *dpdk, const struct nb_dpdk_port_config *cfg,
                     struct nb_pkt_pool *pool, struct nb_port **out)
{
    struct dpdk_port *dp;
    size_t namelen = strcspn(cfg->devargs, ",");
    int rc;

    if (!cfg->name || !*cfg->name || namelen == 0 || namelen >= RTE_DEV_NAME_MAX_LEN)
        return -EINVAL;
    dp = calloc(1, sizeof(*dp));
    if (!dp)
        return -ENOMEM;
    pthread_mutex_init(&dp->tx_lock, NULL);
    dp->dpdk = dpdk;
    dp->pool = pool;
    dp->busy_poll = cfg->busy_poll != 0;
    memcpy(dp->devname, cfg->devargs, namelen);
    dp->port.ops = &dpdk_ops;
    dp->port.priv = dp;
    snprintf(dp->port.name, sizeof(dp->port.name), "%s", cfg->name);

    rc = rte_dev_probe(cfg->devargs);
    if (rc < 0 && rc != -EEXIST) {
        fprintf(stderr, "netbackd: dpdk port %s: cannot probe \"%s\": %s\n", cfg->name,
                cfg->devargs, rte_strerror(-rc));
        goto fail;
    }
    rc = rte_eth_dev_get_port_by_name(dp->devname, &dp->port_id);
    if (rc) {
        fprintf(stderr, "netbackd: dpdk port %s: no ethdev named %s\n", cfg->name, dp->devname);
        rc = -ENODEV;
        goto fail;
    }
    rc = dpdk_configure(dp, cfg->ring_size ? cfg->ring_size : 1024);
    if (rc) {
        fprintf(stderr, "netbackd: dpdk port %s: cannot configure %s: %s\n", cfg->name,
                dp->devname, rte_strerror(-rc));
        rte_eth_dev_close(dp->port_id);
        if (dp->rdev)
            rte_dev_remove(dp->rdev);
        goto fail;
    }
    dp->started = true;
    /* Up unless the device says otherwise (vdevs without a link report up). */
    atomic_store(&dp->link_up, true);
    refresh_link(dp);
    *out = &dp->port;
    return 0;
fail:
    pthread_mutex_destroy(&dp->tx_lock);
    free(dp);
    return rc < 0 ? rc : -rc;
}

int nb_dpdk_port_start(struct nb_port *port)
{
    struct dpdk_port *dp = dp_of(port);
    int rc;

    if (!port->bridge)
        return -ENOTCONN;
    if (dp->running)
        return -EALREADY;
    dp->bridge = port->bridge;
    rc = pthread_create(&dp->rx_thread, NULL, dpdk_rx_main, dp);
    if (rc)
        return -rc;
    dp->running = true;
    return 0;
}
