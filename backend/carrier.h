/* The backend `carrier` key: 1 while the vif can pass traffic (connected,
 * not disabled, no queue's guest RX stalled), 0 otherwise. Workers only
 * flag stalls and disables; the main thread's housekeeping timer calls
 * nbd_vif_carrier_sync() and writes the key when the value changed. */
#ifndef NBD_CARRIER_H
#define NBD_CARRIER_H

#include <stdbool.h>

struct nbd_vif;

/* What `carrier` should say now (main thread). */
bool nbd_vif_carrier(const struct nbd_vif *vif);
/* Writes <be_path>/carrier if it changed, never recreating a backend
 * directory the toolstack removed meanwhile. */
void nbd_vif_carrier_sync(struct nbd_vif *vif);

#endif
