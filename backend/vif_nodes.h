/* Creating and removing a vif in xenstore the way libxl does (libxl_device.c
 * libxl__device_generic_add, libxl_nic.c libxl__set_xenstore_nic,
 * libxl__initiate_device_generic_remove), so `netbackctl vif-add/vif-del`
 * can stand in for `xl network-attach/-detach` on real Xen and on the
 * emulator. */
#ifndef NBD_VIF_NODES_H
#define NBD_VIF_NODES_H

#include <stddef.h>
#include <stdint.h>
#include <xenstore.h>

struct nbd_vif_spec {
    unsigned domid;            /* the guest (frontend) */
    unsigned devid;            /* handle */
    unsigned backend_domid;    /* where netbackd runs (0) */
    uint8_t mac[6];
    char bridge[64];
    unsigned mtu;              /* 1500 */
    char script[256];          /* "" = none (then no hotplug-status gate) */
    uint64_t rate_bytes;       /* 0 = no rate key */
    uint64_t rate_usecs;
};

/* The three directories of a vif (libxl's names). */
struct nbd_vif_paths {
    char frontend[128];   /* /local/domain/<domid>/device/vif/<devid> */
    char backend[128];    /* /local/domain/<be>/backend/vif/<domid>/<devid> */
    char libxl[128];      /* /libxl/<domid>/device/vif/<devid> */
};

int nbd_vif_paths(struct xs_handle *xsh, unsigned domid, unsigned devid,
                  unsigned backend_domid, struct nbd_vif_paths *p);

/* Writes every node in one transaction (retried on EAGAIN). 0 or -errno. */
int nbd_vif_nodes_add(struct xs_handle *xsh, const struct nbd_vif_spec *spec,
                      char *err, size_t errlen);

/* Changes (val) or removes (val NULL) the backend key `key` of an existing
 * vif, and libxl's copy of it, in one transaction: what an admin does with
 * xenstore-write for a live change of `mtu` or `rate` (netbackd applies
 * both at once). 0, -ENOENT (no such vif) or -errno. */
int nbd_vif_nodes_set(struct xs_handle *xsh, unsigned domid, unsigned devid,
                      unsigned backend_domid, const char *key, const char *val,
                      char *err, size_t errlen);

/* Asks the backend to close (online = 0, state = Closing), waits up to
 * timeout_ms for it to reach Closed (0 = don't wait), then removes the three
 * directories in one transaction. Returns 0, or -ETIMEDOUT when the backend
 * did not close in time (the nodes are removed anyway, as xl does), or
 * -ENOENT when there is no such vif. */
int nbd_vif_nodes_del(struct xs_handle *xsh, unsigned domid, unsigned devid,
                      unsigned backend_domid, unsigned timeout_ms,
                      char *err, size_t errlen);

#endif
