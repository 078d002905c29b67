/* libnetfront internals shared by its files (not installed, not for users). */
#ifndef NF_PRIV_H
#define NF_PRIV_H

#include <xenstore.h>
#include <xengnttab.h>
#include <xenevtchn.h>

#include "backend/netfront/netfront.h"

#define NF_TX_RING_SIZE __CONST_RING_SIZE(netif_tx, NF_PAGE_SIZE)
#define NF_RX_RING_SIZE __CONST_RING_SIZE(netif_rx, NF_PAGE_SIZE)

/* Everything one queue's worker touches. */
struct nf_queue {
    unsigned index;
    netif_tx_front_ring_t tx;
    netif_rx_front_ring_t rx;
    void *tx_sring, *rx_sring;          /* shared ring pages */
    uint32_t tx_ring_ref, rx_ring_ref;
    uint8_t *tx_pool, *rx_pool;         /* NF_*_RING_SIZE pages each */
    uint32_t tx_grefs[NF_TX_RING_SIZE];
    uint32_t rx_grefs[NF_RX_RING_SIZE];
    /* Free TX ids (a stack); an id owns TX pool page id. */
    uint16_t tx_free[NF_TX_RING_SIZE];
    unsigned tx_nfree;
    bool tx_busy[NF_TX_RING_SIZE];      /* id handed to the backend */
    unsigned rx_post_limit;             /* RX requests kept posted (raw API; normally all) */
    xenevtchn_handle *xce;
    int evtchn_tx, evtchn_rx;           /* local ports; equal when not split */
    struct nf_stats stats;
};

/* The control ring, its event channel and one table page. */
struct nf_ctrl {
    xen_netif_ctrl_front_ring_t ring;
    void *sring, *page;
    uint32_t ring_ref, page_ref;
    xenevtchn_handle *xce;
    int port;
    uint16_t next_id;
};

struct netfront {
    struct nf_config cfg;
    struct xs_handle *xs;
    xengntshr_handle *xgs;
    unsigned domid, backend_domid;
    char fe_path[128];                  /* /local/domain/<self>/device/vif/<devid> */
    char be_path[256];                  /* from the frontend's "backend" key */
    uint8_t mac[6];
    unsigned num_queues;
    bool split;
    bool connected;                     /* rings shared: close must revoke them */
    bool be_sg, be_gso4, be_gso6;
    bool has_ctrl;
    struct nf_ctrl ctrl;
    struct nf_queue q[NF_MAX_QUEUES];
};

/* nf_xenbus.c */
int nf_xs_read_long(struct netfront *nf, const char *path, long *val);
int nf_wait_backend_state(struct netfront *nf, const int *wanted, unsigned n_wanted, int *got);
int nf_write_state(struct netfront *nf, int state);

/* nf_queue.c: share and revoke one queue's rings, pools and channels. */
int nf_queue_setup(struct netfront *nf, struct nf_queue *q);
void nf_queue_teardown(struct netfront *nf, struct nf_queue *q);
void nf_rx_post_all(struct netfront *nf, struct nf_queue *q);
void nf_notify(struct nf_queue *q, int port, uint64_t *counter);

/* nf_ctrl.c */
int nf_ctrl_setup(struct netfront *nf);
void nf_ctrl_teardown(struct netfront *nf);

#endif
