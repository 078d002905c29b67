/* Daemon side of grants: handing out refs (gntshr), recording foreign
 * mappings (gnttab), revocation, and cleanup when a handle goes away.
 * Rules as Xen + Linux: only the grantee may map; a read-only grant is
 * never mapped writable; an unshared ref whose page is still mapped stays
 * out of use (REVOKING) until the last mapping goes. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "sim/daemon.h"

void gnt_svc_init_dom(struct sim_dom *d)
{
	d->nfree = 0;
	for (uint32_t r = SIM_NR_GREFS; r-- > SIM_GREF_RESERVED;)
		d->free_refs[d->nfree++] = r;
}

/* Returns the page to the free pool, zeroed (the hole reads as zeros and
 * gives the memory back). */
static void ref_free(struct sim_dom *d, uint32_t ref)
{
	uint32_t w = atomic_load(&d->gt->ent[ref].word);

	fallocate(d->mem_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		  (off_t)ref * SIM_PAGE_SIZE, SIM_PAGE_SIZE);
	atomic_store(&d->gt->ent[ref].word, SIM_GNT_WORD(0, SIM_GNT_FREE, 0, SIM_GNT_GEN(w)));
	d->refs[ref] = (struct sim_ref){ .notify_offset = SIM_NO_NOTIFY,
					 .notify_port = SIM_NO_NOTIFY };
	d->free_refs[d->nfree++] = ref;
}

int gnt_svc_open_copier(struct xensim *x, struct sim_conn *c, uint32_t *slot)
{
	if (c->copier_slot >= 0)
		return EBUSY;
	for (uint32_t s = 0; s < SIM_NR_COPIERS; s++) {
		struct sim_copier *cp = &x->copiers->slot[s];

		if (x->copier_owner[s])
			continue;
		/* whatever a dead previous owner left behind */
		atomic_store(&cp->busy, 0);
		for (unsigned l = 0; l < SIM_COPIER_LANES; l++)
			atomic_store(&cp->lane[l].seq, 0);
		x->copier_owner[s] = c;
		c->copier_slot = (int)s;
		*slot = s;
		return 0;
	}
	return EMFILE;
}

/* Waits until every grant copy that may have seen a grant word before its
 * revocation has finished (see struct sim_copiers). Copy calls last
 * microseconds; false if one never ends (a stopped process). */
static bool wait_copies(struct xensim *x)
{
	struct timespec t0, now;
	bool timed = false;

	atomic_thread_fence(memory_order_seq_cst);
	for (uint32_t s = 0; s < SIM_NR_COPIERS; s++) {
		struct sim_copier *cp = &x->copiers->slot[s];

		if (!x->copier_owner[s])
			continue;
		for (unsigned l = 0; l < SIM_COPIER_LANES; l++) {
			uint64_t seq = atomic_load(&cp->lane[l].seq);

			while ((seq & 1) && atomic_load(&cp->lane[l].seq) == seq) {
				if (!timed) {
					clock_gettime(CLOCK_MONOTONIC, &t0);
					timed = true;
				}
				sched_yield();
				clock_gettime(CLOCK_MONOTONIC, &now);
				if (now.tv_sec - t0.tv_sec > 2)
					return false;
			}
		}
	}
	return true;
}

static void run_notify(struct xensim *x, struct sim_dom *page_dom, uint32_t ref,
		       struct sim_dom *port_dom, uint32_t offset, uint32_t port)
{
	if (offset != SIM_NO_NOTIFY && page_dom && offset < SIM_PAGE_SIZE) {
		uint8_t zero = 0;

		if (pwrite(page_dom->mem_fd, &zero, 1, (off_t)ref * SIM_PAGE_SIZE + offset) != 1)
			fprintf(stderr, "xensim: unmap notify: cannot clear byte: %m\n");
	}
	if (port != SIM_NO_NOTIFY && port_dom)
		evt_svc_notify(x, port_dom, port);
}

/* Ends grants: no new map or copy; a page is reused once nobody maps it
 * and no copy that saw the grant can still be running. */
static void refs_revoke(struct xensim *x, struct sim_dom *d, const uint32_t *refs, uint32_t n)
{
	if (!n)
		return;
	d->nshared -= n; /* every caller passes refs still shared */
	for (uint32_t i = 0; i < n; i++) {
		struct sim_ref *r = &d->refs[refs[i]];
		uint32_t w = atomic_load(&d->gt->ent[refs[i]].word);

		if (r->notify_offset != SIM_NO_NOTIFY || r->notify_port != SIM_NO_NOTIFY)
			run_notify(x, d, refs[i], d, r->notify_offset, r->notify_port);
		r->sharer = NULL;
		atomic_store(&d->gt->ent[refs[i]].word,
			     SIM_GNT_WORD(SIM_GNT_DOMID(w), SIM_GNT_REVOKING, SIM_GNT_RO(w),
					  SIM_GNT_GEN(w)));
	}
	if (!wait_copies(x)) {
		fprintf(stderr, "xensim: dom%u: a grant copy never finished (process stopped?); "
			"%u revoked pages kept out of use\n", d->domid, n);
		for (uint32_t i = 0; i < n; i++)
			d->refs[refs[i]].maps++; /* leak rather than hand out a page being copied */
	}
	for (uint32_t i = 0; i < n; i++)
		if (!d->refs[refs[i]].maps)
			ref_free(d, refs[i]);
}

int gnt_svc_share(struct xensim *x, struct sim_conn *c, const struct sim_msg *m,
		  uint32_t *refs_out)
{
	struct sim_dom *d = c->dom;
	uint32_t grantee = m->a == SIM_DOMID_SELF ? d->domid : m->a;

	if (!m->count || m->count > SIM_SHARE_MAX || grantee > 0xffff)
		return EINVAL;
	/* gntalloc counts a grant from its allocation until it is unshared
	 * (munmap), whether or not a peer still maps the page. */
	if (m->count > d->nfree || m->count > d->gntalloc_limit - d->nshared)
		return ENOSPC;
	d->nshared += m->count;
	for (uint32_t i = 0; i < m->count; i++) {
		uint32_t ref = d->free_refs[--d->nfree];
		uint32_t w = atomic_load(&d->gt->ent[ref].word);
		struct sim_ref *r = &d->refs[ref];

		r->sharer = c;
		r->maps = 0;
		r->notify_offset = m->count == 1 ? m->c : SIM_NO_NOTIFY;
		r->notify_port = m->count == 1 ? m->d : SIM_NO_NOTIFY;
		atomic_store(&d->gt->ent[ref].word,
			     SIM_GNT_WORD(grantee, SIM_GNT_ACTIVE, !m->b, SIM_GNT_GEN(w) + 1));
		refs_out[i] = ref;
	}
	return 0;
}

int gnt_svc_unshare(struct xensim *x, struct sim_conn *c, const uint32_t *refs, uint32_t n)
{
	struct sim_dom *d = c->dom;
	uint32_t *mine = malloc((n ? n : 1) * sizeof(*mine)), k = 0;
	int rc = 0;

	if (!mine)
		return ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		if (refs[i] >= SIM_NR_GREFS || d->refs[refs[i]].sharer != c) {
			rc = EINVAL; /* not this handle's grant: the others still end */
			continue;
		}
		d->refs[refs[i]].sharer = NULL; /* a ref listed twice ends once */
		mine[k++] = refs[i];
	}
	refs_revoke(x, d, mine, k);
	free(mine);
	return rc;
}

static void mapping_release(struct xensim *x, struct sim_conn *c, struct sim_mapping *mp)
{
	for (uint32_t i = 0; i < mp->count; i++) {
		struct sim_dom *d = sim_dom_get(x, mp->item[i].domid);
		struct sim_ref *r;

		if (!d || d->incarnation != mp->item[i].incarnation)
			continue; /* granter died: its memory lives on in our mmaps only */
		r = &d->refs[mp->item[i].ref];
		if (i == 0 && (mp->notify_offset != SIM_NO_NOTIFY ||
			       mp->notify_port != SIM_NO_NOTIFY))
			run_notify(x, d, mp->item[0].ref, c->dom, mp->notify_offset,
				   mp->notify_port);
		if (r->maps && !--r->maps &&
		    SIM_GNT_STATE(atomic_load(&d->gt->ent[mp->item[i].ref].word)) ==
			    SIM_GNT_REVOKING)
			ref_free(d, mp->item[i].ref);
	}
}

int gnt_svc_map(struct xensim *x, struct sim_conn *c, const struct sim_msg *m,
		const struct sim_map_item *items, uint32_t *id_out)
{
	bool write = m->a & 2;
	struct sim_mapping *mp;

	/* gntdev reports any failed grant as EINVAL for the whole mapping */
	for (uint32_t i = 0; i < m->count; i++) {
		struct sim_dom *d = sim_dom_get(x, items[i].domid);
		uint32_t w;

		if (!d || items[i].ref >= SIM_NR_GREFS)
			return EINVAL;
		w = atomic_load(&d->gt->ent[items[i].ref].word);
		if (SIM_GNT_STATE(w) != SIM_GNT_ACTIVE || SIM_GNT_DOMID(w) != c->dom->domid ||
		    (write && SIM_GNT_RO(w)))
			return EINVAL;
	}
	mp = calloc(1, sizeof(*mp) + m->count * sizeof(mp->item[0]));
	if (!mp)
		return ENOMEM;
	mp->id = ++c->next_map_id;
	mp->count = m->count;
	mp->notify_offset = m->c;
	mp->notify_port = m->d;
	for (uint32_t i = 0; i < m->count; i++) {
		struct sim_dom *d = sim_dom_get(x, items[i].domid);

		mp->item[i].domid = items[i].domid;
		mp->item[i].incarnation = d->incarnation;
		mp->item[i].ref = items[i].ref;
		d->refs[items[i].ref].maps++;
	}
	mp->next = c->maps;
	c->maps = mp;
	*id_out = mp->id;
	return 0;
}

int gnt_svc_unmap(struct xensim *x, struct sim_conn *c, uint32_t id)
{
	struct sim_mapping **pp, *mp;

	for (pp = &c->maps; (mp = *pp); pp = &mp->next) {
		if (mp->id == id) {
			*pp = mp->next;
			mapping_release(x, c, mp);
			free(mp);
			return 0;
		}
	}
	return EINVAL;
}

void gnt_svc_conn_closed(struct xensim *x, struct sim_conn *c)
{
	struct sim_dom *d = c->dom;

	if (c->copier_slot >= 0) {
		x->copier_owner[c->copier_slot] = NULL;
		c->copier_slot = -1;
	}
	while (c->maps) {
		struct sim_mapping *mp = c->maps;

		c->maps = mp->next;
		mapping_release(x, c, mp);
		free(mp);
	}
	/* gntalloc ends every grant of a closed handle. */
	uint32_t *mine = malloc(SIM_NR_GREFS * sizeof(*mine)), n = 0;

	for (uint32_t ref = SIM_GREF_RESERVED; ref < SIM_NR_GREFS; ref++) {
		if (d->refs[ref].sharer != c)
			continue;
		if (mine)
			mine[n++] = ref;
		else
			refs_revoke(x, d, &ref, 1); /* no memory for a batch: one by one */
	}
	refs_revoke(x, d, mine, n);
	free(mine);
}
