/* Guest programs for the datapath tests: a sender and a receiver that share
 * one flow description (in shared memory) and report what happened in it, so
 * the parent test asserts exact outcomes. */
#ifndef DP_GUEST_H
#define DP_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "backend/netfront/netfront.h"

#define DP_MAX_PKTS 1024

struct dp_flow {
    /* ---- set by the test before spawning ---- */
    unsigned n;                     /* packets; 0 = stream until `stop` */
    uint32_t sizes[DP_MAX_PKTS];
    uint16_t slot_size;             /* sender's bytes per TX slot (SG) */
    bool udp_csum_blank;            /* IPv4/UDP frames sent with NETTXF_csum_blank */
    bool rx_expect_partial;         /* ... and the receiver (csum offload on) must get
                                       them as sent: partial sum, NETRXF_csum_blank */
    bool udp_flows;                 /* IPv4/UDP frames, one flow (source address) per
                                       seq % 64, full checksums: spread over RX queues */
    unsigned queues;                /* queues both guests ask for (0 = 1); the sender
                                       uses queue seq % queues; order then only
                                       holds per flow, so the receiver matches by seq */
    unsigned pause_at;              /* sender waits for the receiver's reconnect here (0 = never) */
    bool rx_reconnect;              /* receiver closes and reconnects after pause_at packets */
    struct nf_config tx_cfg, rx_cfg;
    bool tx_static_grants, rx_static_grants;  /* register the pools after connecting
                                       (nf_static.h; sets the cfg's ctrl_ring) */
    uint8_t tx_mac[6], rx_mac[6];
    /* ---- written by the guests (read with __atomic) ---- */
    int rx_ready;                   /* receiver connected (2 = reconnected) */
    int stop;                       /* parent: everyone finish now */
    unsigned sent, received, bad;
    int first_bad;                  /* index of the first bad packet, -1 none */
    uint32_t first_bad_len;
    uint64_t tx_slots, tx_rsp_ok, tx_rsp_error, tx_rsp_dropped;
    uint64_t rx_errors;             /* receiver's netfront: bad responses */
    unsigned rx_slots_max;          /* most slots one received packet used */
    int state_after_close;          /* backend state right after netfront_close */
    int state_after_reconnect;
    unsigned rx_csum_blank_seen;    /* packets that arrived still flagged csum_blank */
    uint64_t tx_per_queue[NF_MAX_QUEUES], rx_per_queue[NF_MAX_QUEUES];
    unsigned queues_connected;      /* what the receiver got from the backend */
    unsigned duplicates;
    uint8_t seen[DP_MAX_PKTS];
    int tx_static_pages, rx_static_pages;   /* what registering returned */
    char err[256];
};

struct dp_flow *dp_flow_new(void);
void dp_flow_free(struct dp_flow *f);

/* Child entry points (arg = struct dp_flow *). Exit status 0 = success. */
int dp_guest_send(void *flow);
int dp_guest_recv(void *flow);
/* The sender's work on an already connected netfront (counts responses
 * from the netfront's totals, so call it on a fresh connection or one whose
 * earlier responses are all accounted for by the test). */
int dp_send_on(struct netfront *nf, struct dp_flow *f);

/* Reaps queue q's TX responses until none is outstanding or timeout_s
 * passes (a deadline: netfront_wait returns early while RX packets wait).
 * Returns the requests still unanswered. Call it before netfront_close:
 * requests left in the ring when the frontend closes are never sent on. */
unsigned dp_tx_drain(struct netfront *nf, unsigned q, unsigned timeout_s);

/* Waits (20 ms steps, at most timeout_s) until *p >= v. */
bool dp_wait_at_least(const unsigned *p, unsigned v, unsigned timeout_s);
bool dp_wait_flag(const int *p, int v, unsigned timeout_s);

#endif
