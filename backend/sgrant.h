/* Static grants (the control ring's GET_GREF_MAPPING_SIZE and
 * ADD/DEL_GREF_MAPPING): pages a frontend pre-granted, mapped once per vif
 * and then copied with memcpy instead of a grant-copy segment per slot.
 *
 * Ownership: each queue has its own table (struct nbd_sgrant_table in
 * struct nbd_queue). Queue 0's worker adds and removes entries (it serves
 * the control ring) while the owning queue's worker looks them up and copies
 * under the table's lock, so an entry is never unmapped while a copy from
 * or into it is running. The mappings use the vif's own grant handle
 * (vif->sgrant_xgt); the main thread unmaps everything at disconnect, after
 * the workers have stopped.
 *
 * The guest can rewrite a mapped page at any time: callers copy each slot
 * once into their own buffer and never read the mapping again, exactly as
 * with a grant copy. */
#ifndef NBD_SGRANT_H
#define NBD_SGRANT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <xenctrl.h>
#include <xengnttab.h>

#include "ring/netif_ctrl.h"

struct nbd_vif;
struct nbd_queue;

struct nbd_sgrant {
    grant_ref_t ref;
    bool writable;          /* frontend granted it writable: RX may use it */
    uint8_t *page;          /* our mapping of the guest page */
};

/* Sorted by ref; at most NETIF_GREF_TABLE_MAX entries (the bound GET_GREF_
 * MAPPING_SIZE announces). n is also read without the lock as a hint. */
struct nbd_sgrant_table {
    pthread_mutex_t lock;
    unsigned n;
    struct nbd_sgrant e[NETIF_GREF_TABLE_MAX];
};

void nbd_sgrant_table_init(struct nbd_sgrant_table *t);
void nbd_sgrant_table_destroy(struct nbd_sgrant_table *t);

/* Maps list[0..n) for queue q (queue 0's worker). Every entry is tried, so
 * list[i].status tells which ones could not be mapped (INVALID_PARAMETER)
 * or could (SUCCESS); unless all could, nothing stays mapped. Returns the
 * protocol status for the whole request. The caller has already checked the
 * queue index, the list length, the free room and duplicates. */
uint32_t nbd_sgrant_add(struct nbd_vif *vif, struct nbd_queue *q,
                        struct xen_netif_gref *list, unsigned n);
/* Unmaps the entries of list[0..n) whose status is SUCCESS (those the
 * bookkeeping in ring/ removed). */
void nbd_sgrant_del(struct nbd_vif *vif, struct nbd_queue *q,
                    const struct xen_netif_gref *list, unsigned n);
/* Unmaps every entry of every queue (main thread, workers stopped). */
void nbd_sgrant_unmap_all(struct nbd_vif *vif);

/* Data path, owning worker only. Copies len bytes of guest page `ref` at
 * off into dst (TX) or from src into it (RX) if ref is statically mapped
 * (writable, for RX) and off + len fits the page; returns false otherwise
 * (the caller grant-copies as usual and gets the usual verdict). */
bool nbd_sgrant_copy_from(struct nbd_queue *q, grant_ref_t ref, uint16_t off,
                          uint16_t len, void *dst);
bool nbd_sgrant_copy_to(struct nbd_queue *q, grant_ref_t ref, uint16_t off,
                        uint16_t len, const void *src);

#endif
