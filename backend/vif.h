/* A vif (one frontend device <domid>/<devid>) and its queues. The main
 * thread owns the vif's lifecycle (xenbus.c, vif.c); each queue's worker
 * thread owns everything in struct nbd_queue below the "worker" line. */
#ifndef NBD_VIF_H
#define NBD_VIF_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <xenctrl.h>   /* barriers for the ring macros, before any io header */
#include <xenevtchn.h>
#include <xengnttab.h>

#include "ring/netif_abi.h"
#include "ring/netif_tx.h"
#include "ring/netif_rx.h"
#include "ring/netif_ctrl.h"
#include "ring/mcast_filter.h"
#include "bridge/pkt.h"
#include "backend/bridge_key.h"
#include "bridge/port.h"
#include "backend/fe_config.h"
#include "backend/rate.h"
#include "backend/stats.h"
#include "backend/sgrant.h"

struct nbd_ctx;
struct nbd_vif;

enum nbd_worker_mode { NBD_MODE_EVENT = 0, NBD_MODE_POLL = 1 };

#define NBD_GCOPY_BATCH 64          /* grant-copy segments per hypercall */
/* Packets one TX or RX burst gathers for one grant-copy call: as many as
 * segments, so 64 small packets share a hypercall (the bridge still gets
 * them in bursts of NB_BURST). */
#define NBD_TX_BATCH NBD_GCOPY_BATCH
#define NBD_RX_BATCH NBD_GCOPY_BATCH
#define NBD_BACKLOG_SLOTS 1024      /* packets a queue's RX backlog can hold */
#define NBD_TX_STASH 32             /* TX buffers a worker takes from its pool at once */

/* Packets waiting to be copied into the guest, filled by any thread's
 * tx_burst and drained by the queue's worker. Bounded in packets and bytes. */
struct nbd_rx_entry {
    struct nb_pkt *pkt;     /* shared with other ports when flooded: read only */
    uint64_t enq_ns;        /* for the drain timeout */
    uint32_t len;           /* pkt->len at enqueue: the backlog's byte count is
                               settled after pkt may already be freed */
    uint32_t hash;          /* with has_hash: from the control ring's hash */
    uint8_t hash_type;
    bool has_hash;
};

struct nbd_rx_backlog {
    pthread_mutex_t lock;
    unsigned head, count;
    uint64_t bytes;
    struct nbd_rx_entry e[NBD_BACKLOG_SLOTS];
};

/* A TX packet between parsing and the end of its grant copies. */
struct nbd_tx_pending {
    struct netif_tx_pkt pkt;
    struct nb_pkt *buf;
    unsigned first_seg, nr_segs;
};

/* An RX packet between planning and its responses. */
struct nbd_rx_pending {
    struct netif_rx_plan plan;
    RING_IDX req_idx;
    unsigned first_seg;
    unsigned nr_gsegs;              /* grant-copy segments at q->seg[first_seg..] */
    uint8_t gseg_plan[NETIF_RX_MAX_SEGS];  /* their plan.seg[] indices (the
                                       others went to static grants) */
};

struct nbd_queue {
    struct nbd_vif *vif;
    unsigned id;
    char name[48];                  /* "vif<domid>.<devid>-q<id>" */

    /* Set up by the main thread before the worker starts, then read-only. */
    netif_tx_back_ring_t tx;
    netif_rx_back_ring_t rx;
    void *rings;                    /* 2 mapped pages: tx, rx */
    xenevtchn_handle *xce;
    evtchn_port_t port_tx, port_rx; /* local ports (equal unless split) */
    xengnttab_handle *xgt;          /* this worker's grant-copy handle */
    struct nb_pkt_pool *pool;       /* TX packet buffers */
    int wake_fd;                    /* eventfd: backlog or mode change */
    int cpu;                        /* pin in busy-poll mode, -1 = no */
    pthread_t thread;
    bool thread_started;

    atomic_bool stop;
    atomic_bool sleeping;           /* worker is (about to be) in epoll_wait */
    struct nbd_rx_backlog backlog;
    struct nbd_queue_stats stats;
    struct nbd_sgrant_table sgrants; /* static grants of this queue (sgrant.h) */

    /* ---- worker only ---- */
    bool rx_stalled;                /* the guest posted too few RX slots */
    uint64_t rx_stall_since_ns;
    struct nbd_rate tx_rate;        /* credit for the `rate` key */
    uint64_t tx_wait_until_ns;      /* out of credit: sleep until then */
    bool tx_pool_starved;           /* TX left requests on the ring: no buffers */
    /* TX buffers taken from pool in bulk (one lock per burst, not per
     * packet); returned when the worker exits (nbd_tx_stash_release). */
    struct nb_pkt *tx_stash[NBD_TX_STASH];
    unsigned tx_nstash;
    unsigned spurious_streak;       /* events that found no work (XSA-332) */
    bool no_epoll_pwait2;           /* kernel < 5.11 or valgrind: ENOSYS seen */
    netif_tx_request_t txreq[NETIF_TX_RING_SIZE];
    netif_rx_request_t rxreq[NETIF_RX_RING_SIZE];
    xengnttab_grant_copy_segment_t seg[NBD_GCOPY_BATCH];
    struct nbd_tx_pending txp[NBD_TX_BATCH];
    struct nbd_rx_pending rxp[NBD_RX_BATCH];
};

#define NBD_MTU_DEFAULT 1500u   /* absent or unusable key; ETH_DATA_LEN */
#define NBD_MTU_MIN 68u          /* ETH_MIN_MTU */
#define NBD_MTU_MAX 65517u       /* xen-netback's max_mtu: 65535 - VLAN_ETH_HLEN */

struct nbd_ctrl_ring {
    xen_netif_ctrl_back_ring_t ring;
    void *page;
    xenevtchn_handle *xce;
    evtchn_port_t port;
};

struct nbd_vif {
    struct nbd_ctx *ctx;
    struct nbd_vif *next;
    unsigned domid, devid;
    char name[32];                  /* "vif<domid>.<devid>", as Linux */
    char be_path[128];
    char fe_path[160];
    char bridge_name[64];           /* the `bridge` key as written (or default_bridge) */
    struct nbd_bridge_key vlan;     /* what it means: the bridge joined and the port's VLAN */
    uint8_t mac[6];
    /* The backend `mtu` key (xenbus.c read_mtu; changes apply live): longer
     * frames are not delivered to the guest (vif_port.c fits_mtu). */
    _Atomic unsigned mtu;
    char mtu_key[24];               /* the key as last read ("-" absent, "=<value>") */
    bool has_script;                /* gate Connected on hotplug-status */

    /* xenbus state (main thread) */
    int be_state;                   /* XenbusState we last wrote */
    bool gone;                      /* unregistered: wait for the dir to go */
    bool fe_watched;
    bool dirty;                     /* a watch fired: reconcile once */
    bool failed;                    /* error node written, waiting for close */
    bool data_up;                   /* rings mapped, workers running */
    struct nbd_vif_stats stats;
    struct nbd_queue_stats retired; /* counters of past connections */

    /* negotiated at connect, read-only while data_up */
    struct nbd_fe_config fe;
    struct netif_rx_caps rx_caps;
    unsigned num_queues;
    struct nbd_queue *queues[NBD_MAX_QUEUES];
    struct nb_port port;
    bool port_added;

    atomic_int mode;                /* enum nbd_worker_mode */
    atomic_bool disabled;           /* rogue frontend: datapath stopped */
    atomic_bool disable_claimed;    /* first disabler writes the reason */
    atomic_bool disable_reported;   /* main thread logged it, wrote error node */
    char disable_reason[64];        /* written once before disabled is set */

    /* rate limit, from the backend `rate` key (NBD_RATE_UNLIMITED bytes:
     * no key, or garbage) */
    _Atomic uint64_t rate_bytes;
    _Atomic uint64_t rate_usecs;
    char rate_key[48];              /* the key as last read, as mtu_key */

    /* multicast filter: written by queue workers' TX, read by tx_burst */
    pthread_mutex_t mcast_lock;
    struct netif_mcast_filter mcast;

    /* control ring (queue 0's worker serves it); hash state under ctrl_lock */
    bool has_ctrl;
    struct nbd_ctrl_ring ctrl_ring;
    pthread_mutex_t ctrl_lock;
    struct netif_ctrl_state ctrl;
    xengnttab_handle *sgrant_xgt;   /* maps static grants (sgrant.h) */

    int carrier_written;            /* `carrier` key last written: -1 none */
};

static inline uint64_t nbd_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One counted grant-copy hypercall over segs[0..n) with q's handle;
 * n == 0 costs nothing. Returns xengnttab_grant_copy's result (per-segment
 * statuses are in segs). */
static inline int nbd_queue_gcopy(struct nbd_queue *q, xengnttab_grant_copy_segment_t *segs,
                                  unsigned n)
{
    if (!n)
        return 0;
    nbd_stat_add(&q->stats.gcopy_calls, 1);
    nbd_stat_add(&q->stats.gcopy_ops, n);
    return xengnttab_grant_copy(q->xgt, n, segs);
}

/* vif.c: allocation and the data-path half of the lifecycle. */
struct nbd_vif *nbd_vif_new(struct nbd_ctx *ctx, unsigned domid, unsigned devid,
                            const char *be_path);
void nbd_vif_free(struct nbd_vif *vif);
/* Maps rings, binds event channels, starts workers and joins the bridge
 * using vif->fe. 0 or -errno with err filled; on failure nothing is left. */
int nbd_vif_connect(struct nbd_vif *vif, char *err, size_t errlen);
/* Stops workers, leaves the bridge, unbinds, unmaps. Idempotent. */
void nbd_vif_disconnect(struct nbd_vif *vif);
/* Marks the vif disabled from any thread (first reason wins). */
void nbd_vif_disable(struct nbd_vif *vif, const char *reason);
void nbd_vif_set_mode(struct nbd_vif *vif, enum nbd_worker_mode mode);
/* The frontend's new XDP headroom (Reconfiguring), applied live. */
void nbd_vif_set_headroom(struct nbd_vif *vif, uint16_t headroom);

/* The negotiated RX capabilities as a worker sees them for one burst. */
static inline struct netif_rx_caps nbd_vif_rx_caps(const struct nbd_vif *vif)
{
    return (struct netif_rx_caps){
        .sg = vif->rx_caps.sg,
        .gso_tcpv4 = vif->rx_caps.gso_tcpv4,
        .gso_tcpv6 = vif->rx_caps.gso_tcpv6,
        .headroom = __atomic_load_n(&vif->rx_caps.headroom, __ATOMIC_RELAXED),
    };
}
/* Sums counters of all queues (live and retired) into sum[]. */
void nbd_vif_sum_stats(struct nbd_vif *vif, uint64_t *sum);

/* worker.c */
int nbd_queue_start(struct nbd_queue *q);
void nbd_queue_stop(struct nbd_queue *q);
void nbd_queue_wake(struct nbd_queue *q);

/* tx.c / rx.c / ctrl.c: one burst each, called by the worker. Return the
 * amount of work done (0 = idle). */
unsigned nbd_tx_burst(struct nbd_queue *q);
unsigned nbd_rx_burst(struct nbd_queue *q);
unsigned nbd_ctrl_poll(struct nbd_vif *vif);
/* rx.c: queue packets for the guest (any thread); takes ownership. */
void nbd_rx_enqueue(struct nbd_queue *q, const struct nbd_rx_entry *in, unsigned n);
void nbd_rx_backlog_flush(struct nbd_queue *q);
/* Final notification check before sleeping; true if more work appeared. */
bool nbd_tx_final_check(struct nbd_queue *q);
/* tx.c: gives the worker's unused TX buffers back to the pool (exit). */
void nbd_tx_stash_release(struct nbd_queue *q);
bool nbd_rx_final_check(struct nbd_queue *q);
bool nbd_ctrl_final_check(struct nbd_vif *vif);

#endif
