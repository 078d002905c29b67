/* Emulated xengntshr_*: the daemon hands out grant refs of this domain and
 * publishes them; ref r is page r of the domain's memory file, mapped here.
 * Unsharing (munmap on Linux's gntalloc) ends the grant; the daemon keeps
 * the page and the ref out of use until every foreign mapping is gone. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xengnttab.h>

#include "sim/gnt_lib.h"

xengntshr_handle *xengntshr_open(struct xentoollog_logger *logger, unsigned open_flags)
{
	struct xengntdev_handle *h = gnt_handle_open("xengntshr");
	struct sim_msg req = { .op = SIM_OP_OPEN_GNT };
	int fds[SIM_MAX_FDS];
	unsigned nfds;
	void *rep;
	int rc;

	if (!h)
		return NULL;
	rep = malloc(SIM_MSG_MAX);
	rc = rep ? sim_client_call(&h->c, &req, NULL, 0, NULL, 0, rep, fds, &nfds) : -ENOMEM;
	free(rep);
	if (!rc && nfds != 2) {
		for (unsigned i = 0; i < nfds; i++)
			close(fds[i]);
		rc = -EPROTO;
	}
	if (rc) {
		gnt_handle_close(h);
		errno = -rc;
		return NULL;
	}
	close(fds[0]);
	h->own_mem_fd = fds[1];
	return h;
}

int xengntshr_close(xengntshr_handle *h)
{
	if (h)
		gnt_handle_close(h);
	return 0;
}

int xengntshr_fd(xengntshr_handle *h)
{
	return h->c.sock;
}

static int unshare_refs(xengntshr_handle *h, const uint32_t *refs, uint32_t n)
{
	struct sim_msg req = { .op = SIM_OP_UNSHARE, .count = n };
	void *rep = malloc(SIM_MSG_MAX);
	int rc;

	if (!rep)
		return -ENOMEM;
	rc = sim_client_call(&h->c, &req, refs, n * sizeof(*refs), NULL, 0, rep, NULL, NULL);
	free(rep);
	return rc;
}

static void *share(xengntshr_handle *h, uint32_t domid, int count, uint32_t *refs,
		   int writable, uint32_t notify_offset, uint32_t notify_port)
{
	struct sim_msg req = {
		.op = SIM_OP_SHARE,
		.a = domid,
		.b = !!writable,
		.c = notify_offset,
		.d = notify_port,
		.count = (uint32_t)count,
	};
	struct gnt_region *r;
	const struct sim_msg *rm;
	void *rep;
	uint8_t *addr;
	int rc;

	if (count <= 0 || (uint32_t)count > SIM_GNT_MAX_MAP) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r) + (size_t)count * sizeof(uint32_t));
	rep = malloc(SIM_MSG_MAX);
	if (!r || !rep) {
		free(r);
		free(rep);
		errno = ENOMEM;
		return NULL;
	}
	rc = sim_client_call(&h->c, &req, NULL, 0, NULL, 0, rep, NULL, NULL);
	rm = rep;
	if (!rc && rm->count != (uint32_t)count)
		rc = -EPROTO;
	if (rc)
		goto fail;
	memcpy(r->refs, rm + 1, (size_t)count * sizeof(uint32_t));
	r->count = r->live = (uint32_t)count;
	addr = mmap(NULL, (size_t)count * SIM_PAGE_SIZE, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (addr == MAP_FAILED) {
		rc = -errno;
		goto fail_unshare;
	}
	for (int i = 0; i < count; i++) {
		if (r->refs[i] >= SIM_NR_GREFS ||
		    mmap(addr + (size_t)i * SIM_PAGE_SIZE, SIM_PAGE_SIZE, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, h->own_mem_fd,
			 (off_t)r->refs[i] * SIM_PAGE_SIZE) == MAP_FAILED) {
			rc = r->refs[i] >= SIM_NR_GREFS ? -EPROTO : -errno;
			munmap(addr, (size_t)count * SIM_PAGE_SIZE);
			goto fail_unshare;
		}
	}
	r->addr = addr;
	memcpy(refs, r->refs, (size_t)count * sizeof(uint32_t));
	pthread_mutex_lock(&h->lock);
	r->next = h->regions;
	h->regions = r;
	pthread_mutex_unlock(&h->lock);
	free(rep);
	return addr;

fail_unshare:
	unshare_refs(h, r->refs, (uint32_t)count);
fail:
	free(r);
	free(rep);
	errno = -rc;
	return NULL;
}

void *xengntshr_share_pages(xengntshr_handle *h, uint32_t domid, int count, uint32_t *refs,
			    int writable)
{
	return share(h, domid, count, refs, writable, SIM_NO_NOTIFY, SIM_NO_NOTIFY);
}

void *xengntshr_share_page_notify(xengntshr_handle *h, uint32_t domid, uint32_t *ref,
				  int writable, uint32_t notify_offset,
				  evtchn_port_t notify_port)
{
	if (notify_offset != SIM_NO_NOTIFY && notify_offset >= SIM_PAGE_SIZE)
		notify_offset = SIM_NO_NOTIFY; /* libxengnttab ignores an offset past the page */
	return share(h, domid, 1, ref, writable, notify_offset, notify_port);
}

/* Like munmap on gntalloc: any page range inside one shared area. */
int xengntshr_unshare(xengntshr_handle *h, void *start_address, uint32_t count)
{
	uint8_t *start = start_address;
	struct gnt_region **pp, *r;
	uint32_t first, refs[SIM_GNT_MAX_MAP], n = 0;
	int rc;

	pthread_mutex_lock(&h->lock);
	for (pp = &h->regions; (r = *pp); pp = &r->next)
		if (start >= r->addr && start < r->addr + (size_t)r->count * SIM_PAGE_SIZE)
			break;
	if (!r || count == 0 || (size_t)(start - r->addr) % SIM_PAGE_SIZE ||
	    (first = (uint32_t)((size_t)(start - r->addr) / SIM_PAGE_SIZE)) + count > r->count) {
		pthread_mutex_unlock(&h->lock);
		errno = EINVAL;
		return -1;
	}
	for (uint32_t i = first; i < first + count; i++) {
		if (r->refs[i] == ~0u)
			continue;
		refs[n++] = r->refs[i];
		r->refs[i] = ~0u;
		r->live--;
	}
	munmap(start, (size_t)count * SIM_PAGE_SIZE);
	if (!r->live) {
		*pp = r->next;
		free(r);
	}
	pthread_mutex_unlock(&h->lock);
	if (!n)
		return 0;
	rc = unshare_refs(h, refs, n);
	if (rc) {
		errno = -rc;
		return -1;
	}
	return 0;
}
