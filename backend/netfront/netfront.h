/* libnetfront: the frontend half of the Xen netif protocol, in userspace.
 *
 * Written only against the real Xen userspace API (xs_*, xengntshr_*,
 * xenevtchn_*) and the public io headers, so the same code runs as a guest of
 * the emulator (LD_LIBRARY_PATH=$(O)/simlib, XENSIM_* variables) and inside a
 * real domU. It is what tests, the benchmark and the demo use as guests.
 *
 * Model: one `struct netfront` per vif (device/vif/<devid>), one or more
 * queues, each with its own TX and RX ring page, event channel(s) and a pool of
 * buffer pages granted to the backend ONCE at connect time; the grant refs are
 * reused for every packet (a grant per packet would cost a syscall each).
 * TX buffer i belongs to TX request id i; RX buffer i belongs to RX ring slot
 * i (responses come back in the slot of their request, as netif.h says).
 *
 * Threading: a queue is used by one thread at a time; different queues of one
 * netfront may be driven by different threads. Connect/close are not
 * concurrent with datapath calls.
 *
 * Errors: functions return 0 / a count, or a negative errno.
 */
#ifndef NETFRONT_H
#define NETFRONT_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>

#include <xenctrl.h>
#include <xen/io/netif.h>

#define NF_MAX_QUEUES 8
#define NF_MAX_EXTRAS 4          /* extra-info slots one packet may carry */
#define NF_PAGE_SIZE 4096u
#define NF_MAX_PKT 0xFFFFu       /* netif's largest packet */

/* What this frontend asks for; zero-initialised = what the Linux netfront asks
 * for with one vCPU (see docs: shared/notes/netif.md). */
struct nf_config {
    unsigned devid;               /* device/vif/<devid> */
    int self_domid;               /* < 0: $XENSIM_DOMID, else xenstore "domid" */
    unsigned num_queues;          /* 0 = 1; capped at the backend's maximum */
    bool no_split_evtchn;         /* one event channel even if the backend offers two */
    bool no_sg;                   /* don't write feature-sg=1 */
    bool no_gso;                  /* don't write feature-gso-tcpv4/6 */
    bool no_csum_offload;         /* write feature-no-csum-offload=1 */
    bool no_ipv6_csum_offload;    /* don't write feature-ipv6-csum-offload */
    bool no_rx_notify;            /* don't write feature-rx-notify=1 */
    bool request_multicast_control; /* write request-multicast-control=1 (the
                                     backend then filters multicast by our
                                     MCAST_ADD/MCAST_DEL extras) */
    bool ctrl_ring;               /* set up the control ring if the backend offers
                                     feature-ctrl-ring (ctrl-ring-ref,
                                     event-channel-ctrl) */
    unsigned timeout_ms;          /* per xenbus wait; 0 = 10000 */
};

void nf_config_init(struct nf_config *cfg);

/* A packet to send. data/len is the whole frame; the library splits it into
 * slots of at most slot_size bytes (0 = a page; only with SG may there be more
 * than one). flags: NETTXF_csum_blank / NETTXF_data_validated. extras are
 * chained after the first slot in order (the library sets FLAG_MORE).
 * A multicast-control request is len 0 with one MCAST_ADD/MCAST_DEL extra. */
struct nf_txpkt {
    const void *data;
    uint32_t len;
    uint16_t flags;
    uint16_t slot_size;
    unsigned n_extras;
    struct netif_extra_info extras[NF_MAX_EXTRAS];
};

/* A received packet. The caller provides buf/cap (cap >= NF_MAX_PKT takes any
 * packet); the library fills the rest. */
struct nf_rxpkt {
    uint8_t *buf;
    uint32_t cap;
    uint32_t len;
    uint16_t flags;               /* NETRXF_data_validated / NETRXF_csum_blank of slot 1 */
    uint16_t slots;               /* data slots the packet came in */
    uint16_t gso_type;            /* XEN_NETIF_GSO_TYPE_*, 0 if no GSO extra */
    uint16_t gso_size;
    bool has_hash;
    uint8_t hash_type;
    uint8_t hash_alg;
    uint32_t hash;
};

struct nf_stats {
    uint64_t tx_pkts, tx_bytes, tx_slots;
    uint64_t tx_rsp_ok, tx_rsp_error, tx_rsp_dropped, tx_rsp_null;
    uint64_t rx_pkts, rx_bytes, rx_slots;
    uint64_t rx_errors;           /* packets dropped: error status, bad chain, too big */
    uint64_t notify_tx, notify_rx; /* notifications we sent */
    uint64_t events;              /* notifications we received */
};

enum nf_wait_mode { NF_WAIT_EVENT, NF_WAIT_BUSY };

struct netfront;

/* Opens xenstore, the grant sharer and event channels; reads the frontend
 * directory written by the toolstack (backend, backend-id, mac). Does not
 * connect. */
int netfront_open(struct netfront **out, const struct nf_config *cfg);
void netfront_free(struct netfront *nf);

/* Frontend half of the handshake: waits for backend InitWait, shares rings
 * and buffer pools, binds event channels, posts RX buffers, writes the
 * frontend keys, goes Connected and waits for backend Connected. */
int netfront_connect(struct netfront *nf);
/* Closing -> (backend Closing/Closed) -> Closed -> (backend Closed), then
 * revokes every grant and event channel. */
int netfront_close(struct netfront *nf);
/* Changes the per-xenbus-wait timeout of nf_config (0 = 10000 ms) after
 * open: e.g. a patient connect, then a short close where the backend may
 * have disabled the vif and will never answer. */
void netfront_set_timeout(struct netfront *nf, unsigned timeout_ms);
/* After close: writes Initialising so the backend returns to InitWait; then
 * call netfront_connect again. */
int netfront_reinit(struct netfront *nf);

unsigned netfront_num_queues(const struct netfront *nf);
unsigned netfront_domid(const struct netfront *nf);
unsigned netfront_backend_domid(const struct netfront *nf);
const uint8_t *netfront_mac(const struct netfront *nf);
/* What the backend advertised (read at connect). */
bool netfront_backend_has(const struct netfront *nf, const char *feature);
/* Reads an integer key of the frontend (rel="state") or backend dir
 * (backend=true). Returns value or -errno. */
long netfront_read_key(const struct netfront *nf, bool backend, const char *rel);

/* Sends up to n packets on queue q; one push and at most one notification
 * for the burst. Returns how many were queued (fewer when the ring or the
 * buffer pool is full), or -EINVAL for a packet that can never be sent
 * (too big, too many slots, no SG). Reaps TX responses first. */
int netfront_tx_burst(struct netfront *nf, unsigned q, const struct nf_txpkt *pkts, unsigned n);
/* Reaps TX responses; returns how many requests completed. */
int netfront_tx_reap(struct netfront *nf, unsigned q);
/* TX requests still waiting for their response. */
unsigned netfront_tx_inflight(const struct netfront *nf, unsigned q);

/* Receives up to n whole packets on queue q (reassembling more_data chains,
 * reading extras); reposts their buffers with one push/notify. Packets with an
 * error status or that don't fit are counted in rx_errors and skipped. */
int netfront_rx_burst(struct netfront *nf, unsigned q, struct nf_rxpkt *pkts, unsigned n);

/* Waits until queue q has RX or TX responses, or timeout_ms (-1 = forever).
 * EVENT: re-arms rsp_event and sleeps on the event channel. BUSY: spins on the
 * rings without arming events. Returns 1 when work is there, 0 on timeout. */
int netfront_wait(struct netfront *nf, unsigned q, enum nf_wait_mode mode, int timeout_ms);
/* The pollable fd of queue q's event channel(s); call netfront_wait(…, 0)
 * when it becomes readable. */
int netfront_event_fd(const struct netfront *nf, unsigned q);

void netfront_get_stats(const struct netfront *nf, struct nf_stats *out);
void netfront_get_queue_stats(const struct netfront *nf, unsigned q, struct nf_stats *out);

/* ---- Control ring (cfg.ctrl_ring and the backend's feature-ctrl-ring) ---- */
bool netfront_has_ctrl(const struct netfront *nf);
/* Sends one control request and waits (timeout_ms) for its answer. Returns
 * 0 with the wire status (XEN_NETIF_CTRL_STATUS_*) and data, -ENOTCONN
 * without a control ring, -ETIMEDOUT without an answer. */
int netfront_ctrl(struct netfront *nf, uint16_t type, uint32_t d0, uint32_t d1, uint32_t d2,
                  uint32_t *status, uint32_t *data, int timeout_ms);
/* A page granted read-only to the backend, for the tables SET_HASH_KEY and
 * SET_HASH_MAPPING point at (its grant ref in *gref). */
void *netfront_ctrl_page(struct netfront *nf, uint32_t *gref);

/* ---- Hostile raw API (tests only): put arbitrary bytes into queue q's TX
 * ring, bypassing every check, to play a malicious frontend. ---- */
/* Index of the next request slot the frontend would fill. */
uint32_t netfront_raw_tx_prod(const struct netfront *nf, unsigned q);
/* Writes a request / an extra into ring slot idx (masked). */
void netfront_raw_tx_put(struct netfront *nf, unsigned q, uint32_t idx, const netif_tx_request_t *req);
void netfront_raw_tx_put_extra(struct netfront *nf, unsigned q, uint32_t idx, const struct netif_extra_info *ex);
/* Publishes req_prod = prod (any value) and notifies the backend. */
void netfront_raw_tx_publish(struct netfront *nf, unsigned q, uint32_t prod);
/* TX buffer page `id` (0..255): its grant ref and its memory. */
uint32_t netfront_raw_tx_gref(const struct netfront *nf, unsigned q, unsigned id);
void *netfront_raw_tx_page(struct netfront *nf, unsigned q, unsigned id);
/* Copies out the TX responses the backend published since the last call (at
 * most n) and consumes them. Returns how many. */
int netfront_raw_tx_responses(struct netfront *nf, unsigned q, netif_tx_response_t *rsp, unsigned n);
/* Keeps at most `limit` RX requests posted on queue q (0 = all 256): a guest
 * that starves the backend of RX slots (stall tests). Takes effect at the
 * next repost; raising it reposts at once. */
void netfront_raw_rx_post_limit(struct netfront *nf, unsigned q, unsigned limit);
/* Prints every queue's ring indices (diagnostics: --stats-interval -v). */
void netfront_dump_rings(const struct netfront *nf, FILE *f);

#endif
