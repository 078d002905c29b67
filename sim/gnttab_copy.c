/* Emulated xengnttab_grant_copy: the whole data path runs in the caller on
 * shared memory. Statuses follow Xen's gnttab_copy (grant_table.c) and the
 * whole-call checks follow Linux's gntdev, which is what the real library
 * goes through:
 *   - a segment without any GNTCOPY_*_gref flag, or whose gref side has
 *     offset + len > 4096, fails the whole call with EINVAL (gntdev checks
 *     this before the hypercall, so Xen's GNTST_bad_copy_arg is never seen
 *     through libxengnttab on Linux); the emulator checks every segment
 *     before copying any;
 *   - len 0 is GNTST_okay without looking at the grant;
 *   - unknown or dead domain: GNTST_bad_domain (checked source then dest);
 *   - ref >= table size: GNTST_bad_gntref;
 *   - ref not in use, granted to another domain, or read-only but written:
 *     GNTST_general_error (Xen's _set_status_v1). */
#include <errno.h>
#include <string.h>
#include <xengnttab.h>

#include "sim/gnt_lib.h"

struct copy_side {
	struct gnt_peer *peer;
	struct sim_grant *ent;
	uint8_t *ptr;
};

/* Xen's acquire_grant_for_copy on the emulator's table: validate, pin, and
 * re-check after pinning so a concurrent revoke either sees our pin or we
 * see its new state (both sides are sequentially consistent). */
static int16_t claim(struct gnt_peer *p, uint32_t ref, uint16_t offset, unsigned me,
		     bool write, struct copy_side *s)
{
	struct sim_grant *e;
	uint32_t w;

	if (ref >= SIM_NR_GREFS)
		return GNTST_bad_gntref;
	e = &p->gt->ent[ref];
	w = atomic_load(&e->word);
	if (SIM_GNT_STATE(w) != SIM_GNT_ACTIVE || SIM_GNT_DOMID(w) != me ||
	    (write && SIM_GNT_RO(w)))
		return GNTST_general_error;
	atomic_fetch_add(&e->pins, 1);
	if (atomic_load(&e->word) != w) {
		atomic_fetch_sub(&e->pins, 1);
		return GNTST_general_error;
	}
	s->ent = e;
	s->ptr = p->mem + (size_t)ref * SIM_PAGE_SIZE + offset;
	return GNTST_okay;
}

static bool seg_valid(const xengnttab_grant_copy_segment_t *s)
{
	if (!(s->flags & (GNTCOPY_source_gref | GNTCOPY_dest_gref)))
		return false;
	if ((s->flags & GNTCOPY_source_gref) &&
	    (uint32_t)s->source.foreign.offset + s->len > SIM_PAGE_SIZE)
		return false;
	if ((s->flags & GNTCOPY_dest_gref) &&
	    (uint32_t)s->dest.foreign.offset + s->len > SIM_PAGE_SIZE)
		return false;
	return true;
}

/* Within one call the same few domains recur: remember the last lookup. */
struct peer_memo {
	unsigned domid;
	struct gnt_peer *peer;
};

static struct gnt_peer *lookup(xengnttab_handle *h, struct peer_memo *m, unsigned domid,
			       int16_t *st)
{
	if (m->peer && m->domid == domid)
		return m->peer;
	m->peer = gnt_peer_get(h, domid, st);
	m->domid = domid;
	return m->peer;
}

static int16_t copy_one(xengnttab_handle *h, struct peer_memo *memo,
			const xengnttab_grant_copy_segment_t *seg)
{
	bool sg = seg->flags & GNTCOPY_source_gref, dg = seg->flags & GNTCOPY_dest_gref;
	struct copy_side src = { .ptr = seg->source.virt }, dst = { .ptr = seg->dest.virt };
	int16_t st = GNTST_okay;

	if (!seg->len)
		return GNTST_okay;
	if (sg && !(src.peer = lookup(h, memo, seg->source.foreign.domid, &st)))
		return st;
	if (dg && !(dst.peer = lookup(h, memo, seg->dest.foreign.domid, &st)))
		return st;
	if (sg) {
		st = claim(src.peer, seg->source.foreign.ref, seg->source.foreign.offset,
			   h->c.domid, false, &src);
		if (st)
			return st;
	}
	if (dg) {
		st = claim(dst.peer, seg->dest.foreign.ref, seg->dest.foreign.offset, h->c.domid,
			   true, &dst);
		if (st)
			goto out;
	}
	memcpy(dst.ptr, src.ptr, seg->len);
	if (dg)
		atomic_fetch_sub(&dst.ent->pins, 1);
out:
	if (sg)
		atomic_fetch_sub(&src.ent->pins, 1);
	return st;
}

int xengnttab_grant_copy(xengnttab_handle *h, uint32_t count, xengnttab_grant_copy_segment_t *segs)
{
	struct peer_memo memo = { 0 };

	for (uint32_t i = 0; i < count; i++) {
		if (!seg_valid(&segs[i])) {
			errno = EINVAL;
			return -1;
		}
	}
	for (uint32_t i = 0; i < count; i++)
		segs[i].status = copy_one(h, &memo, &segs[i]);
	return 0;
}
