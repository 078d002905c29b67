/* Internals of the emulated libxengnttab.so.1 (both xengnttab_* and
 * xengntshr_*, which share one handle type as in the real library). */
#ifndef SIM_GNT_LIB_H
#define SIM_GNT_LIB_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "sim/sim_client.h"

#define SIM_GNT_MAX_MAP SIM_SHARE_MAX /* pages per map or share call */

/* Another domain's grant table and memory as this handle sees them,
 * refreshed whenever the registry shows a new incarnation. */
struct gnt_peer {
	_Atomic uint32_t incarnation; /* 0: not mapped */
	int mem_fd;
	struct sim_gnttab *gt;
	uint8_t *mem;
};

/* A range this handle mapped (gnttab) or shared (gntshr). */
struct gnt_region {
	struct gnt_region *next;
	uint8_t *addr;
	uint32_t count;
	uint32_t map_id;   /* gnttab: daemon's id of the mapping */
	uint32_t live;     /* gntshr: pages not yet unshared */
	uint32_t refs[];   /* gntshr: ref of each page (~0u once unshared) */
};

struct xengntdev_handle {
	struct sim_client c;
	pthread_mutex_t lock; /* peers (refresh) and regions */
	struct gnt_peer *peers; /* indexed by domid, SIM_NR_DOMIDS entries */
	struct gnt_region *regions;
	int own_mem_fd; /* gntshr: this domain's memory */
	struct sim_copiers *copiers; /* gnttab: lanes of all copying handles */
	struct sim_copier *copier;   /* gnttab: this handle's slot */
	bool checked_copy; /* gnttab: XENSIM_CHECKED_COPY=1, see gnttab_copy.c */
};

/* Returns the peer view of `domid` (DOMID_SELF allowed) for a copy or map,
 * or NULL with *status = GNTST_bad_domain. With `refresh` false a domain
 * not mapped yet (or re-created) counts as bad instead of being fetched
 * from the daemon. */
struct gnt_peer *gnt_peer_get(struct xengntdev_handle *h, unsigned domid, bool refresh,
			      int16_t *status);
void gnt_peers_release(struct xengntdev_handle *h);

struct xengntdev_handle *gnt_handle_open(const char *what);
void gnt_handle_close(struct xengntdev_handle *h);

#endif
