/* The frontend's half of the handshake: every key a netfront writes, read
 * once and validated before anything is mapped or bound. Pure: the keys come
 * through a reader callback, so tests feed tables and the daemon feeds
 * xenstore. */
#ifndef NBD_FE_CONFIG_H
#define NBD_FE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NBD_MAX_QUEUES 16  /* hard ceiling; the advertised maximum is <= this */

struct nbd_fe_queue_keys {
    uint32_t tx_ring_ref, rx_ring_ref;
    uint32_t evtchn_tx, evtchn_rx;   /* equal unless split */
    bool split;                       /* event-channel-tx/-rx were used */
};

struct nbd_fe_config {
    unsigned num_queues;
    struct nbd_fe_queue_keys q[NBD_MAX_QUEUES];
    bool rx_notify;          /* frontend notifies when it posts RX buffers */
    bool sg;
    bool gso_tcpv4, gso_tcpv6;
    bool ipv4_csum;          /* !feature-no-csum-offload */
    bool ipv6_csum;
    bool mcast_control;      /* request-multicast-control */
    bool ctrl_ring;
    uint32_t ctrl_ring_ref, evtchn_ctrl;
    uint16_t xdp_headroom;   /* RX data offset the frontend asked for (clamped) */
};

/* What this backend offered: anything beyond it is refused or ignored. */
struct nbd_fe_offer {
    unsigned max_queues;     /* multi-queue-max-queues (1 = not offered) */
    bool split_evtchn;
    bool ctrl_ring;
    bool mcast_control;
    bool xdp_headroom;       /* feature-xdp-headroom */
};

/* Most RX headroom granted; larger requests are clamped (Linux clamps too). */
#define NBD_MAX_XDP_HEADROOM 512u

/* Returns the value of key (relative to the frontend dir, e.g.
 * "queue-1/tx-ring-ref") as a malloc'd string, or NULL when absent. */
typedef char *(*nbd_key_reader)(void *arg, const char *key);

/* Reads and validates everything. Returns 0; -EOPNOTSUPP when the frontend
 * needs something refused (rx-flip: request-rx-copy absent or 0); -EINVAL
 * on malformed, missing or contradictory keys; -ENOMEM. On failure err
 * holds a one-line reason naming the key (for the xenbus error node). */
int nbd_fe_config_read(struct nbd_fe_config *cfg, const struct nbd_fe_offer *offer,
                       nbd_key_reader read, void *arg, char *err, size_t errlen);

/* Just xdp-headroom (for the Reconfiguring handshake): absent = 0,
 * clamped to NBD_MAX_XDP_HEADROOM; 0 or -EINVAL with err. */
int nbd_fe_read_xdp_headroom(uint16_t *headroom, nbd_key_reader read, void *arg,
                             char *err, size_t errlen);

#endif
