/* Emulated xengnttab_* handle and mapping calls. The daemon validates and
 * records a mapping (so the granter's unshare cannot free the page under
 * us); the pages themselves are mapped here from the granting domain's
 * memory file. As with Linux's gntdev, any failing grant makes the whole
 * map fail with EINVAL and nothing stays mapped. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xengnttab.h>

#include "sim/gnt_lib.h"

xengnttab_handle *xengnttab_open(struct xentoollog_logger *logger, unsigned open_flags)
{
	xengnttab_handle *h = gnt_handle_open("xengnttab");
	struct sim_msg req = { .op = SIM_OP_OPEN_COPIER };
	int fds[SIM_MAX_FDS];
	unsigned nfds = 0;
	void *rep;
	int rc;

	if (!h)
		return NULL;
	h->checked_copy = getenv("XENSIM_CHECKED_COPY") &&
			  !strcmp(getenv("XENSIM_CHECKED_COPY"), "1");
	/* The copy lanes: see struct sim_copiers. */
	rep = malloc(SIM_MSG_MAX);
	rc = rep ? sim_client_call(&h->c, &req, NULL, 0, NULL, 0, rep, fds, &nfds) : -ENOMEM;
	if (!rc && (nfds != 1 || ((struct sim_msg *)rep)->a >= SIM_NR_COPIERS))
		rc = -EPROTO;
	if (!rc) {
		h->copiers = sim_map_fd(fds[0], sizeof(*h->copiers));
		if (!h->copiers)
			rc = -errno;
		else
			h->copier = &h->copiers->slot[((struct sim_msg *)rep)->a];
	}
	for (unsigned i = 0; i < nfds; i++)
		close(fds[i]);
	free(rep);
	if (rc) {
		gnt_handle_close(h);
		errno = -rc;
		return NULL;
	}
	return h;
}

int xengnttab_close(xengnttab_handle *h)
{
	if (h)
		gnt_handle_close(h);
	return 0;
}

int xengnttab_fd(xengnttab_handle *h)
{
	return h->c.sock;
}

int xengnttab_set_max_grants(xengnttab_handle *h, uint32_t nr_grants)
{
	/* pv-ops Linux has no such limit; libxengnttab then returns 0 too. */
	return 0;
}

static void *map_refs(xengnttab_handle *h, uint32_t count, const uint32_t *domids,
		      unsigned domid_stride, const uint32_t *refs, int prot,
		      uint32_t notify_offset, uint32_t notify_port)
{
	struct sim_msg req = {
		.op = SIM_OP_MAP,
		.a = (prot & PROT_WRITE) ? 3 : 1,
		.c = notify_offset,
		.d = notify_port,
		.count = count,
	};
	struct sim_map_item *items = NULL;
	struct gnt_region *r = NULL;
	void *rep = NULL;
	uint8_t *addr = MAP_FAILED;
	int16_t st;
	int rc = -EINVAL;

	if (!count || count > SIM_GNT_MAX_MAP || !(prot & (PROT_READ | PROT_WRITE)))
		goto fail;
	rc = -ENOMEM;
	items = malloc(count * sizeof(*items));
	rep = malloc(SIM_MSG_MAX);
	r = calloc(1, sizeof(*r));
	if (!items || !rep || !r)
		goto fail;
	for (uint32_t i = 0; i < count; i++) {
		items[i].domid = domids[i * domid_stride];
		items[i].ref = refs[i];
		if (items[i].domid == SIM_DOMID_SELF)
			items[i].domid = h->c.domid;
		rc = -EINVAL;
		if (!gnt_peer_get(h, items[i].domid, true, &st))
			goto fail;
	}
	rc = sim_client_call(&h->c, &req, items, count * sizeof(*items), NULL, 0, rep, NULL,
			     NULL);
	if (rc)
		goto fail;
	r->map_id = ((struct sim_msg *)rep)->a;
	r->count = count;
	addr = mmap(NULL, (size_t)count * SIM_PAGE_SIZE, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (addr == MAP_FAILED) {
		rc = -errno;
		goto fail_unmap;
	}
	for (uint32_t i = 0; i < count; i++) {
		/* The daemon checked every ref against the incarnation we hold:
		 * peers[] stays valid for these domains while recorded. */
		struct gnt_peer *p = &h->peers[items[i].domid];

		if (mmap(addr + (size_t)i * SIM_PAGE_SIZE, SIM_PAGE_SIZE, prot,
			 MAP_SHARED | MAP_FIXED, p->mem_fd,
			 (off_t)items[i].ref * SIM_PAGE_SIZE) == MAP_FAILED) {
			rc = -errno;
			goto fail_unmap;
		}
	}
	r->addr = addr;
	pthread_mutex_lock(&h->lock);
	r->next = h->regions;
	h->regions = r;
	pthread_mutex_unlock(&h->lock);
	free(items);
	free(rep);
	return addr;

fail_unmap:
	if (addr != MAP_FAILED)
		munmap(addr, (size_t)count * SIM_PAGE_SIZE);
	req = (struct sim_msg){ .op = SIM_OP_UNMAP, .a = r->map_id };
	sim_client_call(&h->c, &req, NULL, 0, NULL, 0, rep, NULL, NULL);
fail:
	free(items);
	free(rep);
	free(r);
	errno = -rc;
	return NULL;
}

void *xengnttab_map_grant_ref(xengnttab_handle *h, uint32_t domid, uint32_t ref, int prot)
{
	return map_refs(h, 1, &domid, 0, &ref, prot, SIM_NO_NOTIFY, SIM_NO_NOTIFY);
}

void *xengnttab_map_grant_refs(xengnttab_handle *h, uint32_t count, uint32_t *domids,
			       uint32_t *refs, int prot)
{
	return map_refs(h, count, domids, 1, refs, prot, SIM_NO_NOTIFY, SIM_NO_NOTIFY);
}

void *xengnttab_map_domain_grant_refs(xengnttab_handle *h, uint32_t count, uint32_t domid,
				      uint32_t *refs, int prot)
{
	return map_refs(h, count, &domid, 0, refs, prot, SIM_NO_NOTIFY, SIM_NO_NOTIFY);
}

void *xengnttab_map_grant_ref_notify(xengnttab_handle *h, uint32_t domid, uint32_t ref,
				     int prot, uint32_t notify_offset,
				     evtchn_port_t notify_port)
{
	if (notify_offset != SIM_NO_NOTIFY && notify_offset >= SIM_PAGE_SIZE)
		notify_offset = SIM_NO_NOTIFY; /* libxengnttab ignores an offset past the page */
	return map_refs(h, 1, &domid, 0, &ref, prot, notify_offset, notify_port);
}

int xengnttab_unmap(xengnttab_handle *h, void *start_address, uint32_t count)
{
	struct gnt_region **pp, *r;
	struct sim_msg req = { .op = SIM_OP_UNMAP };
	void *rep;
	int rc;

	if (!start_address) {
		errno = EINVAL;
		return -1;
	}
	pthread_mutex_lock(&h->lock);
	for (pp = &h->regions; (r = *pp); pp = &r->next)
		if (r->addr == start_address)
			break;
	if (!r || r->count != count) {
		pthread_mutex_unlock(&h->lock);
		errno = EINVAL;
		return -1;
	}
	*pp = r->next;
	pthread_mutex_unlock(&h->lock);
	munmap(r->addr, (size_t)count * SIM_PAGE_SIZE);
	req.a = r->map_id;
	free(r);
	rep = malloc(SIM_MSG_MAX);
	if (!rep) {
		errno = ENOMEM;
		return -1;
	}
	rc = sim_client_call(&h->c, &req, NULL, 0, NULL, 0, rep, NULL, NULL);
	free(rep);
	if (rc) {
		errno = -rc;
		return -1;
	}
	return 0;
}

/* dma-buf export/import needs a kernel dma-buf; the emulator has none. */
int xengnttab_dmabuf_exp_from_refs(xengnttab_handle *h, uint32_t domid, uint32_t flags,
				   uint32_t count, const uint32_t *refs, uint32_t *fd)
{
	errno = EOPNOTSUPP;
	return -1;
}

int xengnttab_dmabuf_exp_wait_released(xengnttab_handle *h, uint32_t fd, uint32_t wait_to_ms)
{
	errno = EOPNOTSUPP;
	return -1;
}

int xengnttab_dmabuf_imp_to_refs(xengnttab_handle *h, uint32_t domid, uint32_t fd,
				 uint32_t count, uint32_t *refs)
{
	errno = EOPNOTSUPP;
	return -1;
}

int xengnttab_dmabuf_imp_release(xengnttab_handle *h, uint32_t fd)
{
	errno = EOPNOTSUPP;
	return -1;
}
