/* Emulated libxengnttab: handle lifetime and the cache of other domains'
 * grant tables and memory (mapped once per domain incarnation, so grant
 * copies never go to the daemon). */
#include "sim/gnt_lib.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xen/grant_table.h>

#define MEM_BYTES ((size_t)SIM_NR_GREFS * SIM_PAGE_SIZE)

struct xengntdev_handle *gnt_handle_open(const char *what)
{
	struct xengntdev_handle *h = calloc(1, sizeof(*h));
	int rc;

	if (!h)
		return NULL;
	h->own_mem_fd = -1;
	pthread_mutex_init(&h->lock, NULL);
	h->peers = calloc(SIM_NR_DOMIDS, sizeof(*h->peers));
	if (!h->peers) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = sim_client_open(&h->c, what);
	if (rc)
		goto fail;
	return h;
fail:
	free(h->peers);
	pthread_mutex_destroy(&h->lock);
	free(h);
	errno = -rc;
	return NULL;
}

static void peer_unmap(struct gnt_peer *p)
{
	if (p->gt)
		munmap(p->gt, sizeof(*p->gt));
	if (p->mem)
		munmap(p->mem, MEM_BYTES);
	if (p->mem_fd >= 0)
		close(p->mem_fd);
	p->gt = NULL;
	p->mem = NULL;
	p->mem_fd = -1;
	atomic_store(&p->incarnation, 0);
}

void gnt_peers_release(struct xengntdev_handle *h)
{
	for (unsigned d = 0; d < SIM_NR_DOMIDS; d++)
		if (h->peers[d].incarnation)
			peer_unmap(&h->peers[d]);
}

void gnt_handle_close(struct xengntdev_handle *h)
{
	while (h->regions) {
		struct gnt_region *r = h->regions;

		h->regions = r->next;
		if (r->live) { /* shared area: some pages may be unshared already */
			for (uint32_t i = 0; i < r->count; i++)
				if (r->refs[i] != ~0u)
					munmap(r->addr + (size_t)i * SIM_PAGE_SIZE, SIM_PAGE_SIZE);
		} else {
			munmap(r->addr, (size_t)r->count * SIM_PAGE_SIZE);
		}
		free(r);
	}
	gnt_peers_release(h);
	free(h->peers);
	if (h->own_mem_fd >= 0)
		close(h->own_mem_fd);
	if (h->copiers)
		munmap(h->copiers, sizeof(*h->copiers));
	/* Closing the connection makes the daemon drop what is left (maps,
	 * shares), as the kernel does when /dev/xen/gntdev is closed. */
	sim_client_close(&h->c);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

/* Slow path: (re)map the peer's current incarnation. Called with h->lock. */
static int peer_refresh(struct xengntdev_handle *h, unsigned domid, struct gnt_peer *p)
{
	struct sim_msg req = { .op = SIM_OP_PEER_GNT, .a = domid };
	int fds[SIM_MAX_FDS];
	unsigned nfds;
	void *rep = malloc(SIM_MSG_MAX);
	struct sim_gnttab *gt = NULL;
	uint8_t *mem = NULL;
	int rc;

	if (!rep)
		return -ENOMEM;
	rc = sim_client_call(&h->c, &req, NULL, 0, NULL, 0, rep, fds, &nfds);
	if (rc)
		goto out;
	rc = -EPROTO;
	if (nfds != 2)
		goto out_fds;
	gt = sim_map_fd(fds[0], sizeof(*gt));
	mem = sim_map_fd(fds[1], MEM_BYTES);
	if (!gt || !mem || gt->magic != SIM_MAGIC || gt->nr_grefs != SIM_NR_GREFS)
		goto out_fds;
	if (p->incarnation)
		peer_unmap(p);
	p->gt = gt;
	p->mem = mem;
	p->mem_fd = fds[1];
	close(fds[0]);
	atomic_store_explicit(&p->incarnation,
			      ((struct sim_msg *)rep)->a, memory_order_release);
	free(rep);
	return 0;
out_fds:
	if (gt)
		munmap(gt, sizeof(*gt));
	if (mem)
		munmap(mem, MEM_BYTES);
	for (unsigned i = 0; i < nfds; i++)
		close(fds[i]);
out:
	free(rep);
	return rc;
}

struct gnt_peer *gnt_peer_get(struct xengntdev_handle *h, unsigned domid, bool refresh,
			      int16_t *status)
{
	struct gnt_peer *p;
	uint32_t inc;

	if (domid == SIM_DOMID_SELF)
		domid = h->c.domid;
	inc = sim_client_alive(&h->c, domid);
	if (!inc)
		goto bad;
	p = &h->peers[domid];
	if (atomic_load_explicit(&p->incarnation, memory_order_acquire) != inc) {
		if (!refresh)
			goto bad;
		pthread_mutex_lock(&h->lock);
		if (p->incarnation != inc && peer_refresh(h, domid, p)) {
			pthread_mutex_unlock(&h->lock);
			goto bad;
		}
		pthread_mutex_unlock(&h->lock);
		if (p->incarnation != inc)
			goto bad; /* died and came back while we looked */
	}
	if (atomic_load_explicit(&p->gt->dead, memory_order_acquire))
		goto bad;
	return p;
bad:
	*status = GNTST_bad_domain;
	return NULL;
}
