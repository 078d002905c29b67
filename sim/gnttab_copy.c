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
 *     GNTST_general_error (Xen's _set_status_v1).
 *
 * A bad local address (unmapped, or read-only as a destination) makes
 * gntdev's page pinning fail: the whole call is -1/EFAULT, the segments of
 * batches already sent to Xen (16 ops each) stay copied, the failing one
 * reads GNTST_okay. The emulator copies in the caller's address space, so
 * by default such a pointer is a SIGSEGV in the caller: checking each
 * local range costs a system call (process_vm_readv/writev: 6x the memcpy
 * for a 64 x 1500-byte call), too much for the data path every benchmark
 * measures. With XENSIM_CHECKED_COPY=1 in the environment when the handle
 * is opened, local sides go through process_vm_readv/writev, which apply
 * the kernel's own access checks: -1/EFAULT as on Linux, the segments
 * before the bad one copied, its status GNTST_okay, later ones untouched
 * (a segment whose grant also fails reports the grant's status). */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include <xengnttab.h>

#include "sim/gnt_lib.h"

struct copy_side {
	struct gnt_peer *peer;
	uint8_t *ptr;
};

/* Xen's acquire_grant_for_copy on the emulator's table. No per-entry pin:
 * the call runs inside a copy lane (see struct sim_copiers), which keeps a
 * concurrent revocation from reusing the page until the call is done. */
static int16_t claim(struct gnt_peer *p, uint32_t ref, uint16_t offset, unsigned me,
		     bool write, struct copy_side *s)
{
	uint32_t w;

	if (ref >= SIM_NR_GREFS)
		return GNTST_bad_gntref;
	w = atomic_load(&p->gt->ent[ref].word);
	if (SIM_GNT_STATE(w) != SIM_GNT_ACTIVE || SIM_GNT_DOMID(w) != me ||
	    (write && SIM_GNT_RO(w)))
		return GNTST_general_error;
	s->ptr = p->mem + (size_t)ref * SIM_PAGE_SIZE + offset;
	return GNTST_okay;
}

/* Takes a free lane and marks the call in flight. */
static struct sim_copier_lane *lane_enter(struct sim_copier *c, uint64_t *bit)
{
	uint64_t busy = atomic_load_explicit(&c->busy, memory_order_relaxed);
	struct sim_copier_lane *l;

	for (;;) {
		if (busy == ~0ull) { /* SIM_COPIER_LANES threads copying at once */
			sched_yield();
			busy = atomic_load_explicit(&c->busy, memory_order_relaxed);
			continue;
		}
		*bit = 1ull << __builtin_ctzll(~busy);
		if (atomic_compare_exchange_weak_explicit(&c->busy, &busy, busy | *bit,
							  memory_order_acquire,
							  memory_order_relaxed))
			break;
	}
	l = &c->lane[__builtin_ctzll(*bit)];
	/* odd, and ordered before every grant word we read (pairs with the
	 * daemon's store of the revoked word and its scan of the lanes) */
	atomic_store(&l->seq, atomic_load_explicit(&l->seq, memory_order_relaxed) + 1);
	return l;
}

static void lane_leave(struct sim_copier *c, struct sim_copier_lane *l, uint64_t bit)
{
	atomic_store_explicit(&l->seq, atomic_load_explicit(&l->seq, memory_order_relaxed) + 1,
			      memory_order_release);
	atomic_fetch_and_explicit(&c->busy, ~bit, memory_order_release);
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
	bool refresh; /* may ask the daemon for a domain not mapped yet */
	unsigned domid;
	struct gnt_peer *peer;
};

static struct gnt_peer *lookup(xengnttab_handle *h, struct peer_memo *m, unsigned domid,
			       int16_t *st)
{
	if (m->peer && m->domid == domid)
		return m->peer;
	m->peer = gnt_peer_get(h, domid, m->refresh, st);
	m->domid = domid;
	return m->peer;
}

/* memcpy with the kernel's checks of the local side (`local_dst` says
 * which side is the caller's memory); false on a bad local address. */
static bool checked_memcpy(void *dst, const void *src, size_t len, bool local_dst)
{
	struct iovec ours = { .iov_base = local_dst ? (void *)src : dst, .iov_len = len };
	struct iovec user = { .iov_base = local_dst ? dst : (void *)src, .iov_len = len };
	ssize_t n = local_dst ? process_vm_writev(getpid(), &ours, 1, &user, 1, 0)
			      : process_vm_readv(getpid(), &ours, 1, &user, 1, 0);

	return n == (ssize_t)len;
}

/* Copies one segment; *fault is set (and nothing said about the grant) when
 * the local address is bad in checked mode. */
static int16_t copy_one(xengnttab_handle *h, struct peer_memo *memo,
			const xengnttab_grant_copy_segment_t *seg, bool *fault)
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
	if (sg && (st = claim(src.peer, seg->source.foreign.ref, seg->source.foreign.offset,
			      h->c.domid, false, &src)))
		return st;
	if (dg && (st = claim(dst.peer, seg->dest.foreign.ref, seg->dest.foreign.offset,
			      h->c.domid, true, &dst)))
		return st;
	if (h->checked_copy && !(sg && dg))
		*fault = !checked_memcpy(dst.ptr, src.ptr, seg->len, sg);
	else
		memcpy(dst.ptr, src.ptr, seg->len);
	return GNTST_okay;
}

/* How many segments ahead of the copy the guest side is prefetched. */
#define PREFETCH_AHEAD 8

/* A hint for the segment that copies PREFETCH_AHEAD places later: the
 * guest's end of it, a cache miss each (the guest just wrote the packet, or
 * will read it), overlaps the copies in between. No check is skipped: the
 * segment is claimed when its turn comes; a prefetch never faults. */
static void prefetch_guest_side(const struct peer_memo *m, const xengnttab_grant_copy_segment_t *seg)
{
	if (!m->peer)
		return;
	if (seg->flags & GNTCOPY_source_gref) {
		if (seg->source.foreign.domid == m->domid && seg->source.foreign.ref < SIM_NR_GREFS)
			__builtin_prefetch(m->peer->mem + (size_t)seg->source.foreign.ref * SIM_PAGE_SIZE +
					   seg->source.foreign.offset);
	} else if (seg->dest.foreign.domid == m->domid && seg->dest.foreign.ref < SIM_NR_GREFS) {
		__builtin_prefetch(m->peer->mem + (size_t)seg->dest.foreign.ref * SIM_PAGE_SIZE +
				   seg->dest.foreign.offset, 1);
	}
}

int xengnttab_grant_copy(xengnttab_handle *h, uint32_t count, xengnttab_grant_copy_segment_t *segs)
{
	struct peer_memo memo = { .refresh = true };
	struct sim_copier_lane *lane;
	bool fault = false;
	uint64_t bit;
	int16_t st;

	for (uint32_t i = 0; i < count; i++) {
		if (!seg_valid(&segs[i])) {
			errno = EINVAL;
			return -1;
		}
		/* Map new peers now: inside the lane nothing may wait for the
		 * daemon, which may be waiting for the lane. */
		if (segs[i].flags & GNTCOPY_source_gref)
			lookup(h, &memo, segs[i].source.foreign.domid, &st);
		if (segs[i].flags & GNTCOPY_dest_gref)
			lookup(h, &memo, segs[i].dest.foreign.domid, &st);
	}
	memo = (struct peer_memo){ .refresh = false };
	lane = lane_enter(h->copier, &bit);
	for (uint32_t i = 0; i < count && !fault; i++) {
		if (i + PREFETCH_AHEAD < count)
			prefetch_guest_side(&memo, &segs[i + PREFETCH_AHEAD]);
		segs[i].status = copy_one(h, &memo, &segs[i], &fault);
	}
	lane_leave(h->copier, lane, bit);
	if (fault) {
		errno = EFAULT;
		return -1;
	}
	return 0;
}
