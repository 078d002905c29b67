/* The vif as a bridge port (struct nb_port_ops "vif"): egress queues into
 * the RX backlog of the queue chosen for each packet, ingress is the TX
 * path's bursts. */
#ifndef NBD_VIF_PORT_H
#define NBD_VIF_PORT_H

#include <stddef.h>
#include "backend/vif.h"

/* Joins the bridge named vif->bridge_name (created if absent). 0 or -errno. */
int nbd_vif_port_attach(struct nbd_vif *vif, char *err, size_t errlen);
/* Leaves the bridge; returns when no thread is inside tx_burst. */
void nbd_vif_port_detach(struct nbd_vif *vif);
/* TX packets from the guest into the bridge (worker thread), n <= NB_BURST. */
void nbd_vif_port_input(struct nbd_vif *vif, struct nb_pkt **pkts, unsigned n);
/* The queue a packet goes to, with its hash for the guest if the control
 * ring configured one. */
struct nbd_queue *nbd_vif_select_queue(struct nbd_vif *vif, struct nbd_rx_entry *e);

#endif
