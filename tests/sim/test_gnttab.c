/* Conformance of the emulated libxengnttab with Xen (grant_table.c) and
 * Linux (gntdev.c, gntalloc.c). A granter process in one domain shares
 * pages; this process, in another domain, copies and maps them. Where the
 * issue text and Xen disagree, the assertion follows Xen and says so. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <poll.h>
#include <pthread.h>
#include <xenevtchn.h>
#include <xengnttab.h>

#include <cmocka.h>

#include "tests/lib/simenv.h"
#include "tests/sim/sim_test_util.h"

#define PAGE 4096
#define GUEST 1
#define OTHER 2

static int setup(void **state)
{
	return sim_fixture_setup(state, SIM_FIX_GNTTAB);
}

static void seg_from(xengnttab_grant_copy_segment_t *s, unsigned domid, uint32_t ref,
		     uint16_t off, void *dst, uint16_t len)
{
	memset(s, 0, sizeof(*s));
	s->flags = GNTCOPY_source_gref;
	s->source.foreign.domid = (uint16_t)domid;
	s->source.foreign.ref = ref;
	s->source.foreign.offset = off;
	s->dest.virt = dst;
	s->len = len;
	s->status = 99;
}

static void seg_to(xengnttab_grant_copy_segment_t *s, unsigned domid, uint32_t ref,
		   uint16_t off, const void *src, uint16_t len)
{
	memset(s, 0, sizeof(*s));
	s->flags = GNTCOPY_dest_gref;
	s->dest.foreign.domid = (uint16_t)domid;
	s->dest.foreign.ref = ref;
	s->dest.foreign.offset = off;
	s->source.virt = (void *)src;
	s->len = len;
	s->status = 99;
}

static void grant_copy_from_guest_byte_exact(void **state)
{
	struct sim_fixture *f = *state;
	xengnttab_grant_copy_segment_t s[2];
	uint8_t buf[2][PAGE];

	assert_int_equal(granter_start(f->env, &f->g, GUEST, 0, 2, false), 0);
	seg_from(&s[0], GUEST, f->g.refs[0], 0, buf[0], PAGE);
	seg_from(&s[1], GUEST, f->g.refs[1], 100, buf[1], 1500);
	assert_int_equal(xengnttab_grant_copy(f->gt, 2, s), 0);
	assert_int_equal(s[0].status, GNTST_okay);
	assert_int_equal(s[1].status, GNTST_okay);
	for (unsigned o = 0; o < PAGE; o++)
		assert_int_equal(buf[0][o], granter_byte(0, o));
	for (unsigned o = 0; o < 1500; o++)
		assert_int_equal(buf[1][o], granter_byte(1, 100 + o));
	assert_int_equal(granter_stop(&f->g), 0);
}

static void grant_copy_to_guest_byte_exact(void **state)
{
	struct sim_fixture *f = *state;
	xengnttab_grant_copy_segment_t s;
	uint8_t src[1500], seen[PAGE];

	assert_int_equal(granter_start(f->env, &f->g, GUEST, 0, 1, true), 0);
	for (unsigned i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i ^ 0x5a);
	seg_to(&s, GUEST, f->g.refs[0], 2596, src, sizeof(src));
	assert_int_equal(xengnttab_grant_copy(f->gt, 1, &s), 0);
	assert_int_equal(s.status, GNTST_okay);
	assert_int_equal(granter_read(&f->g, 0, seen), 0);
	for (unsigned o = 0; o < 2596; o++)
		assert_int_equal(seen[o], granter_byte(0, o));
	assert_memory_equal(seen + 2596, src, sizeof(src));
	assert_int_equal(granter_stop(&f->g), 0);
}

/* 64 segments, one naming a ref past the table: only that one fails. */
static void grant_copy_batch_of_64_one_bad_segment(void **state)
{
	struct sim_fixture *f = *state;
	xengnttab_grant_copy_segment_t s[64];
	static uint8_t buf[64][64];

	assert_int_equal(granter_start(f->env, &f->g, GUEST, 0, 4, true), 0);
	memset(buf, 0xee, sizeof(buf));
	for (unsigned i = 0; i < 64; i++)
		seg_from(&s[i], GUEST, f->g.refs[i % 4], (uint16_t)(i * 64), buf[i], 64);
	s[17].source.foreign.ref = 1u << 20;
	assert_int_equal(xengnttab_grant_copy(f->gt, 64, s), 0);
	for (unsigned i = 0; i < 64; i++) {
		if (i == 17) {
			assert_int_equal(s[i].status, GNTST_bad_gntref);
			for (unsigned o = 0; o < 64; o++)
				assert_int_equal(buf[i][o], 0xee);
			continue;
		}
		assert_int_equal(s[i].status, GNTST_okay);
		for (unsigned o = 0; o < 64; o++)
			assert_int_equal(buf[i][o], granter_byte(i % 4, i * 64 + o));
	}
	assert_int_equal(granter_stop(&f->g), 0);
}

static void grant_copy_ref_out_of_range_bad_gntref(void **state)
{
	struct sim_fixture *f = *state;
	xengnttab_grant_copy_segment_t s;
	uint8_t buf[16];

	assert_int_equal(granter_start(f->env, &f->g, GUEST, 0, 1, true), 0);
	seg_from(&s, GUEST, 0xffffffffu, 0, buf, sizeof(buf));
	assert_int_equal(xengnttab_grant_copy(f->gt, 1, &s), 0);
	assert_int_equal(s.status, GNTST_bad_gntref);
	assert_int_equal(granter_stop(&f->g), 0);
}

/* Xen's _set_status_v1 answers GNTST_general_error (not bad_gntref) for a
 * ref inside the table that is not granted. */
static void grant_copy_ref_not_in_use_general_error(void **state)
{
	struct sim_fixture *f = *state;
	xengnttab_grant_copy_segment_t s;
	uint8_t buf[16];

	assert_int_equal(granter_start(f->env, &f->g, GUEST, 0, 1, true), 0);
	seg_from(&s, GUEST, f->g.refs[0] + 1000, 0, buf, sizeof(buf));
	assert_int_equal(xengnttab_grant_copy(f->gt, 1, &s), 0);
	assert_int_equal(s.status, GNTST_general_error);
	assert_int_equal(granter_stop(&f->g), 0);
}

/* The issue says GNTST_permission_denied for a grant made to another
 * domain; Xen's _set_status_v1 returns GNTST_general_error ("Bad flags or
 * dom"), and Xen wins. */
static void grant_copy_granted_to_other_domain_general_error(void **state)
{
	struct sim_fixture *f = *state;
	xengnttab_grant_copy_segment_t s[2];
	uint8_t buf[16], src[16] = { 1 };

	assert_int_equal(granter_start(f->env, &f->g, GUEST, OTHER, 1, true), 0);
	seg_from(&s[0], GUEST, f->g.refs[0], 0, buf, sizeof(buf));
	seg_to(&s[1], GUEST, f->g.refs[0], 0, src, sizeof(src));
	assert_int_equal(xengnttab_grant_copy(f->gt, 2, s), 0);
	assert_int_equal(s[0].status, GNTST_general_error);
	assert_int_equal(s[1].status, GNTST_general_error);
	assert_int_equal(granter_stop(&f->g), 0);
}

/* Xen: "Attempt to write-pin a r/o grant entry" is GNTST_general_error. */
static void grant_copy_readonly_grant_refuses_write(void **state)
{
	struct sim_fixture *f = *state;
	xengnttab_grant_copy_segment_t s[2];
	uint8_t buf[32], src[32], seen[PAGE];

	memset(src, 0x77, sizeof(src));
	assert_int_equal(granter_start(f->env, &f->g, GUEST, 0, 1, false), 0);
	seg_to(&s[0], GUEST, f->g.refs[0], 0, src, sizeof(src));
	seg_from(&s[1], GUEST, f->g.refs[0], 0, buf, sizeof(buf));
	assert_int_equal(xengnttab_grant_copy(f->gt, 2, s), 0);
	assert_int_equal(s[0].status, GNTST_general_error);
	assert_int_equal(s[1].status, GNTST_okay);
	assert_int_equal(granter_read(&f->g, 0, seen), 0);
	assert_int_equal(seen[0], granter_byte(0, 0));
	assert_int_equal(buf[0], granter_byte(0, 0));
	assert_int_equal(granter_stop(&f->g), 0);
}

/* Xen would answer GNTST_bad_copy_arg, but libxengnttab on Linux goes
 * through gntdev, which rejects a gref side with offset + len > 4096 for
 * the whole call with EINVAL before the hypercall. No segment is copied. */
static void grant_copy_offset_past_page_einval(void **state)
{
	struct sim_fixture *f = *state;
	xengnttab_grant_copy_segment_t s[2];
	uint8_t buf[2][200];

	assert_int_equal(granter_start(f->env, &f->g, GUEST, 0, 1, true), 0);
	memset(buf, 0xee, sizeof(buf));
	seg_from(&s[0], GUEST, f->g.refs[0], 0, buf[0], 200);
	seg_from(&s[1], GUEST, f->g.refs[0], 4000, buf[1], 200);
	errno = 0;
	assert_int_equal(xengnttab_grant_copy(f->gt, 2, s), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(buf[0][0], 0xee);
	assert_int_equal(s[0].status, 99);
	/* exactly to the end of the page is fine */
	seg_from(&s[1], GUEST, f->g.refs[0], 3896, buf[1], 200);
	assert_int_equal(xengnttab_grant_copy(f->gt, 1, &s[1]), 0);
	assert_int_equal(s[1].status, GNTST_okay);
	assert_int_equal(buf[1][199], granter_byte(0, 4095));
	/* a segment with no grant side at all: EINVAL as well (gntdev) */
	s[0].flags = 0;
	assert_int_equal(xengnttab_grant_copy(f->gt, 1, &s[0]), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(granter_stop(&f->g), 0);
}

/* gntdev pins the caller's pages before the hypercall: an unmapped local
 * address, or a read-only one as destination, fails the whole call with
 * EFAULT; earlier segments are copied, the failing one reads GNTST_okay
 * and later ones are untouched. The emulator checks local addresses in
 * XENSIM_CHECKED_COPY=1 mode (see sim/gnttab_copy.c). */
static void grant_copy_bad_local_address_efault(void **state)
{
	struct sim_fixture *f = *state;
	xengnttab_grant_copy_segment_t s[3];
	uint8_t a[64], b[64], page[PAGE];
	uint8_t *hole = mmap(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	xengnttab_handle *gt;

	assert_true(hole != MAP_FAILED);
	assert_int_equal(munmap(hole + PAGE, PAGE), 0); /* hole + PAGE: nothing mapped */
	assert_int_equal(setenv("XENSIM_CHECKED_COPY", "1", 1), 0);
	gt = xengnttab_open(NULL, 0);
	unsetenv("XENSIM_CHECKED_COPY");
	assert_non_null(gt);
	assert_int_equal(granter_start(f->env, &f->g, GUEST, 0, 1, true), 0);
	for (unsigned k = 0; k < 3; k++) {
		uint8_t *bad = k == 0 ? hole + PAGE : k == 1 ? hole : hole + PAGE - 10;

		memset(a, 0xee, sizeof(a));
		memset(b, 0xee, sizeof(b));
		seg_from(&s[0], GUEST, f->g.refs[0], 0, a, sizeof(a));
		seg_from(&s[1], GUEST, f->g.refs[0], 64, bad, 64); /* unmapped, read-only, straddling */
		seg_from(&s[2], GUEST, f->g.refs[0], 128, b, sizeof(b));
		errno = 0;
		assert_int_equal(xengnttab_grant_copy(gt, 3, s), -1);
		assert_int_equal(errno, EFAULT);
		assert_int_equal(s[0].status, GNTST_okay);
		for (unsigned o = 0; o < sizeof(a); o++)
			assert_int_equal(a[o], granter_byte(0, o));
		assert_int_equal(s[1].status, GNTST_okay);
		assert_int_equal(s[2].status, 99);
		assert_int_equal(b[0], 0xee);
	}
	/* a bad local source: nothing reaches the guest's page */
	seg_to(&s[0], GUEST, f->g.refs[0], 0, hole + PAGE, 16);
	errno = 0;
	assert_int_equal(xengnttab_grant_copy(gt, 1, s), -1);
	assert_int_equal(errno, EFAULT);
	assert_int_equal(granter_read(&f->g, 0, page), 0);
	for (unsigned o = 0; o < 16; o++)
		assert_int_equal(page[o], granter_byte(0, o));
	/* the handle still works */
	seg_from(&s[0], GUEST, f->g.refs[0], 0, a, sizeof(a));
	assert_int_equal(xengnttab_grant_copy(gt, 1, s), 0);
	assert_int_equal(s[0].status, GNTST_okay);
	assert_int_equal(granter_stop(&f->g), 0);
	assert_int_equal(xengnttab_close(gt), 0);
	munmap(hole, PAGE);
}

static void grant_copy_zero_length_is_okay(void **state)
{
	struct sim_fixture *f = *state;
	xengnttab_grant_copy_segment_t s;
	uint8_t buf[1];

	seg_from(&s, GUEST, 0xffffffu, 0, buf, 0);
	assert_int_equal(xengnttab_grant_copy(f->gt, 1, &s), 0);
	assert_int_equal(s.status, GNTST_okay);
}

static void grant_copy_unknown_domain_bad_domain(void **state)
{
	struct sim_fixture *f = *state;
	xengnttab_grant_copy_segment_t s[2];
	uint8_t buf[16];

	seg_from(&s[0], 77, 8, 0, buf, sizeof(buf));
	seg_from(&s[1], 0x7ff5, 8, 0, buf, sizeof(buf));
	assert_int_equal(xengnttab_grant_copy(f->gt, 2, s), 0);
	assert_int_equal(s[0].status, GNTST_bad_domain);
	assert_int_equal(s[1].status, GNTST_bad_domain);
}

/* Destroying the granting domain revokes its grants (GNTST_bad_domain, as
 * Xen once the domain is gone) but a page mapped before stays readable. */
static void grant_copy_dead_domain_bad_domain_mapping_survives(void **state)
{
	struct sim_fixture *f = *state;
	xengnttab_grant_copy_segment_t s;
	uint8_t buf[16];
	uint8_t *map;

	assert_int_equal(simenv_domain_create(f->env, 3), 0);
	assert_int_equal(granter_start(f->env, &f->g, 3, 0, 2, true), 0);
	map = xengnttab_map_grant_ref(f->gt, 3, f->g.refs[0], PROT_READ | PROT_WRITE);
	assert_non_null(map);
	assert_int_equal(simenv_domain_destroy(f->env, 3), 0);
	seg_from(&s, 3, f->g.refs[1], 0, buf, sizeof(buf));
	assert_int_equal(xengnttab_grant_copy(f->gt, 1, &s), 0);
	assert_int_equal(s.status, GNTST_bad_domain);
	errno = 0;
	assert_null(xengnttab_map_grant_ref(f->gt, 3, f->g.refs[1], PROT_READ));
	assert_int_equal(errno, EINVAL);
	for (unsigned o = 0; o < PAGE; o++)
		assert_int_equal(map[o], granter_byte(0, o));
	map[10] = 0x42; /* still writable memory, nobody else's now */
	assert_int_equal(map[10], 0x42);
	assert_int_equal(xengnttab_unmap(f->gt, map, 1), 0);
	granter_stop(&f->g); /* its domain is gone; status does not matter */
}

/* A domain id reused after destroy is a new domain: cached views of the
 * old one must not be used. */
static void grant_copy_after_domain_recreated(void **state)
{
	struct sim_fixture *f = *state;
	xengnttab_grant_copy_segment_t s;
	uint8_t buf[64];
	uint32_t old_ref;

	assert_int_equal(simenv_domain_create(f->env, 4), 0);
	assert_int_equal(granter_start(f->env, &f->g, 4, 0, 3, true), 0);
	seg_from(&s, 4, f->g.refs[2], 0, buf, sizeof(buf));
	assert_int_equal(xengnttab_grant_copy(f->gt, 1, &s), 0);
	assert_int_equal(s.status, GNTST_okay);
	assert_int_equal(buf[0], granter_byte(2, 0));
	old_ref = f->g.refs[2];
	assert_int_equal(simenv_domain_destroy(f->env, 4), 0);
	granter_stop(&f->g);
	assert_int_equal(simenv_domain_create(f->env, 4), 0);
	seg_from(&s, 4, old_ref, 0, buf, sizeof(buf));
	assert_int_equal(xengnttab_grant_copy(f->gt, 1, &s), 0);
	assert_int_equal(s.status, GNTST_general_error); /* not granted in the new one */
	assert_int_equal(granter_start(f->env, &f->g, 4, 0, 1, true), 0);
	seg_from(&s, 4, f->g.refs[0], 64, buf, sizeof(buf));
	assert_int_equal(xengnttab_grant_copy(f->gt, 1, &s), 0);
	assert_int_equal(s.status, GNTST_okay);
	assert_int_equal(buf[0], granter_byte(0, 64));
	assert_int_equal(granter_stop(&f->g), 0);
	assert_int_equal(simenv_domain_destroy(f->env, 4), 0);
}

struct copy_thread {
	xengnttab_handle *gt;
	const uint32_t *refs;
	int bad; /* segments that failed or differed */
};

static void *copy_thread_main(void *arg)
{
	struct copy_thread *t = arg;
	xengnttab_grant_copy_segment_t s[64];
	uint8_t buf[64][64];

	for (int round = 0; round < 2000; round++) {
		for (unsigned i = 0; i < 64; i++)
			seg_from(&s[i], GUEST, t->refs[i % 4], (uint16_t)(i * 64), buf[i], 64);
		if (xengnttab_grant_copy(t->gt, 64, s)) {
			t->bad++;
			continue;
		}
		for (unsigned i = 0; i < 64; i++)
			if (s[i].status != GNTST_okay || buf[i][7] != granter_byte(i % 4, i * 64 + 7))
				t->bad++;
	}
	return NULL;
}

/* libxengnttab handles may be shared by threads: concurrent copies on one
 * handle each get their own copy lane. */
static void grant_copy_threads_share_a_handle(void **state)
{
	struct sim_fixture *f = *state;
	struct copy_thread t[4];
	pthread_t tid[4];

	assert_int_equal(granter_start(f->env, &f->g, GUEST, 0, 4, false), 0);
	for (int i = 0; i < 4; i++) {
		t[i] = (struct copy_thread){ .gt = f->gt, .refs = f->g.refs };
		assert_int_equal(pthread_create(&tid[i], NULL, copy_thread_main, &t[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(tid[i], NULL), 0);
		assert_int_equal(t[i].bad, 0);
	}
	assert_int_equal(granter_stop(&f->g), 0);
}

static void map_grant_ref_shares_memory_both_ways(void **state)
{
	struct sim_fixture *f = *state;
	uint8_t seen[PAGE];
	uint8_t *map;

	assert_int_equal(granter_start(f->env, &f->g, GUEST, 0, 2, true), 0);
	map = xengnttab_map_grant_ref(f->gt, GUEST, f->g.refs[1], PROT_READ | PROT_WRITE);
	assert_non_null(map);
	for (unsigned o = 0; o < PAGE; o++)
		assert_int_equal(map[o], granter_byte(1, o));
	memset(map + 100, 0xab, 50);
	assert_int_equal(granter_read(&f->g, 1, seen), 0);
	assert_int_equal(seen[99], granter_byte(1, 99));
	for (unsigned o = 100; o < 150; o++)
		assert_int_equal(seen[o], 0xab);
	assert_int_equal(xengnttab_unmap(f->gt, map, 1), 0);
	assert_int_equal(granter_stop(&f->g), 0);
}

static void map_domain_grant_refs_contiguous(void **state)
{
	struct sim_fixture *f = *state;
	uint8_t *map;

	assert_int_equal(granter_start(f->env, &f->g, GUEST, 0, 4, true), 0);
	map = xengnttab_map_domain_grant_refs(f->gt, 4, GUEST, f->g.refs, PROT_READ);
	assert_non_null(map);
	for (unsigned i = 0; i < 4; i++)
		for (unsigned o = 0; o < PAGE; o += 97)
			assert_int_equal(map[i * PAGE + o], granter_byte(i, o));
	errno = 0;
	assert_int_equal(xengnttab_unmap(f->gt, map, 3), -1); /* wrong count */
	assert_int_equal(errno, EINVAL);
	assert_int_equal(xengnttab_unmap(f->gt, map, 4), 0);
	assert_int_equal(granter_stop(&f->g), 0);
}

/* gntdev turns any failed grant map into EINVAL and maps nothing. */
static void map_grant_refs_rules_einval(void **state)
{
	struct sim_fixture *f = *state;
	uint32_t domids[2] = { GUEST, GUEST }, refs[2];
	void *map;

	assert_int_equal(granter_start(f->env, &f->g, GUEST, 0, 1, false), 0);
	errno = 0;
	assert_null(xengnttab_map_grant_ref(f->gt, GUEST, f->g.refs[0], PROT_READ | PROT_WRITE));
	assert_int_equal(errno, EINVAL); /* read-only grant mapped writable */
	map = xengnttab_map_grant_ref(f->gt, GUEST, f->g.refs[0], PROT_READ);
	assert_non_null(map);
	assert_int_equal(xengnttab_unmap(f->gt, map, 1), 0);
	errno = 0;
	assert_null(xengnttab_map_grant_ref(f->gt, GUEST, 1u << 20, PROT_READ));
	assert_int_equal(errno, EINVAL); /* ref out of range */
	errno = 0;
	assert_null(xengnttab_map_grant_ref(f->gt, GUEST, f->g.refs[0] + 500, PROT_READ));
	assert_int_equal(errno, EINVAL); /* ref not in use */
	errno = 0;
	assert_null(xengnttab_map_grant_ref(f->gt, 99, 8, PROT_READ));
	assert_int_equal(errno, EINVAL); /* no such domain */
	refs[0] = f->g.refs[0];
	refs[1] = 1u << 20;
	errno = 0;
	assert_null(xengnttab_map_grant_refs(f->gt, 2, domids, refs, PROT_READ));
	assert_int_equal(errno, EINVAL); /* one bad ref fails all */
	assert_int_equal(granter_stop(&f->g), 0);

	/* granted to someone else */
	assert_int_equal(granter_start(f->env, &f->g, GUEST, OTHER, 1, true), 0);
	errno = 0;
	assert_null(xengnttab_map_grant_ref(f->gt, GUEST, f->g.refs[0], PROT_READ));
	assert_int_equal(errno, EINVAL);
	assert_int_equal(granter_stop(&f->g), 0);
}

/* Unsharing a page that is mapped ends the grant (no new access) but the
 * page is neither freed nor reused until the mapping goes. */
static void unshare_while_mapped_keeps_page(void **state)
{
	struct sim_fixture *f = *state;
	xengnttab_grant_copy_segment_t s;
	uint8_t buf[16];
	uint8_t *map;
	long ref;

	assert_int_equal(granter_start(f->env, &f->g, GUEST, 0, 1, true), 0);
	map = xengnttab_map_grant_ref(f->gt, GUEST, f->g.refs[0], PROT_READ | PROT_WRITE);
	assert_non_null(map);
	assert_int_equal(granter_unshare(&f->g, 0), 0);
	seg_from(&s, GUEST, f->g.refs[0], 0, buf, sizeof(buf));
	assert_int_equal(xengnttab_grant_copy(f->gt, 1, &s), 0);
	assert_int_equal(s.status, GNTST_general_error);
	errno = 0;
	assert_null(xengnttab_map_grant_ref(f->gt, GUEST, f->g.refs[0], PROT_READ));
	assert_int_equal(errno, EINVAL);
	/* a new share must not get the still-mapped page */
	ref = granter_share_one(&f->g);
	assert_true(ref >= 0);
	assert_int_not_equal(ref, f->g.refs[0]);
	for (unsigned o = 0; o < PAGE; o++)
		assert_int_equal(map[o], granter_byte(0, o));
	/* once unmapped, the ref is free again (and its page zeroed) */
	assert_int_equal(xengnttab_unmap(f->gt, map, 1), 0);
	ref = granter_share_one(&f->g);
	assert_int_equal(ref, f->g.refs[0]);
	map = xengnttab_map_grant_ref(f->gt, GUEST, (uint32_t)ref, PROT_READ);
	assert_non_null(map);
	assert_int_equal(map[0], 0);
	assert_int_equal(map[4095], 0);
	assert_int_equal(xengnttab_unmap(f->gt, map, 1), 0);
	assert_int_equal(granter_stop(&f->g), 0);
}

/* Linux's gntalloc module parameter `limit` (default 1024) bounds the
 * grants all gntalloc users of one kernel hold: a share beyond it fails
 * with ENOSPC (gntalloc_ioctl_alloc), whichever handle asks; a grant stops
 * counting when unshared (munmap), even while a peer still maps its page;
 * another domain has its own kernel and its own count. */
static void xengntshr_share_pages_gntalloc_limit_enospc(void **state)
{
	struct sim_fixture *f = *state;
	xengntshr_handle *a = xengntshr_open(NULL, 0), *b = xengntshr_open(NULL, 0);
	static uint32_t refs[1024];
	uint32_t ref;
	uint8_t *big, *small, *one, *map;

	assert_non_null(a);
	assert_non_null(b);
	big = xengntshr_share_pages(a, 0, 1000, refs, 1);
	assert_non_null(big);
	small = xengntshr_share_pages(b, 0, 24, refs + 1000, 1);
	assert_non_null(small);
	errno = 0;
	assert_null(xengntshr_share_pages(a, 0, 1, &ref, 1));
	assert_int_equal(errno, ENOSPC);
	errno = 0;
	assert_null(xengntshr_share_pages(b, GUEST, 1, &ref, 1));
	assert_int_equal(errno, ENOSPC);
	/* the other domain's kernel has its own limit */
	assert_int_equal(granter_start(f->env, &f->g, GUEST, 0, 1, true), 0);
	assert_int_equal(granter_stop(&f->g), 0);
	/* unsharing one page (dom0 maps its own grant meanwhile) makes room for one */
	map = xengnttab_map_grant_ref(f->gt, 0, refs[1000], PROT_READ);
	assert_non_null(map);
	assert_int_equal(xengntshr_unshare(b, small, 1), 0);
	one = xengntshr_share_pages(a, 0, 1, &ref, 1);
	assert_non_null(one);
	errno = 0;
	assert_null(xengntshr_share_pages(b, 0, 1, &ref, 1));
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(xengnttab_unmap(f->gt, map, 1), 0);
	/* closing a handle ends its grants */
	assert_int_equal(xengntshr_close(a), 0);
	big = xengntshr_share_pages(b, 0, 1001, refs, 1);
	assert_non_null(big);
	assert_int_equal(xengntshr_unshare(b, big, 1001), 0);
	assert_int_equal(xengntshr_close(b), 0);
}

/* A granter that exits without unsharing: its grants end (gntalloc's
 * release), mappings survive. */
static void granter_exit_revokes_grants(void **state)
{
	struct sim_fixture *f = *state;
	xengnttab_grant_copy_segment_t s;
	uint8_t buf[16];
	uint8_t *map;

	assert_int_equal(granter_start(f->env, &f->g, GUEST, 0, 2, true), 0);
	map = xengnttab_map_grant_ref(f->gt, GUEST, f->g.refs[0], PROT_READ);
	assert_non_null(map);
	assert_int_equal(granter_stop(&f->g), 0);
	seg_from(&s, GUEST, f->g.refs[1], 0, buf, sizeof(buf));
	assert_int_equal(xengnttab_grant_copy(f->gt, 1, &s), 0);
	assert_int_equal(s.status, GNTST_general_error);
	assert_int_equal(map[5], granter_byte(0, 5));
	assert_int_equal(xengnttab_unmap(f->gt, map, 1), 0);
}

/* Closing /dev/xen/gntalloc ends its grants before close returns: a copy
 * right after the close must fail, every time. The daemon learns of the
 * close from its event loop, so without the close's ping this copy wins
 * the race nearly always. */
static void gntshr_close_ends_grants_before_returning(void **state)
{
	struct sim_fixture *f = *state;
	xengnttab_grant_copy_segment_t s;
	uint8_t buf[16];

	for (unsigned i = 0; i < 200; i++) {
		xengntshr_handle *gs = xengntshr_open(NULL, 0);
		uint32_t ref;

		assert_non_null(gs);
		assert_non_null(xengntshr_share_pages(gs, 0, 1, &ref, 0));
		assert_int_equal(xengntshr_close(gs), 0);
		seg_from(&s, 0, ref, 0, buf, sizeof(buf));
		assert_int_equal(xengnttab_grant_copy(f->gt, 1, &s), 0);
		assert_int_equal(s.status, GNTST_general_error);
	}
}

/* The unmap-notification tests' rig, all in dom0: a gntshr handle and a
 * loopback event channel between two evtchn handles. */
struct notify_rig {
	xenevtchn_handle *rx, *tx;
	xengntshr_handle *gs;
	int rport, sport; /* events sent from sport on tx arrive on rport of rx */
};

static void notify_rig_open(struct notify_rig *r)
{
	r->rx = xenevtchn_open(NULL, 0);
	r->tx = xenevtchn_open(NULL, 0);
	r->gs = xengntshr_open(NULL, 0);
	assert_non_null(r->rx);
	assert_non_null(r->tx);
	assert_non_null(r->gs);
	r->rport = xenevtchn_bind_unbound_port(r->rx, 0);
	assert_true(r->rport > 0);
	r->sport = xenevtchn_bind_interdomain(r->tx, 0, (evtchn_port_t)r->rport);
	assert_true(r->sport > 0);
	assert_int_equal(xenevtchn_pending(r->tx), r->sport); /* Xen's bind-time event */
	assert_int_equal(xenevtchn_unmask(r->tx, (evtchn_port_t)r->sport), 0);
}

static void notify_rig_close(struct notify_rig *r)
{
	xengntshr_close(r->gs);
	xenevtchn_close(r->tx);
	xenevtchn_close(r->rx);
}

static bool has_event(xenevtchn_handle *ev)
{
	struct pollfd p = { .fd = xenevtchn_fd(ev), .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

/* Unmap notification (gntdev's UNMAP_NOTIFY_CLEAR_BYTE|SEND_EVENT): on
 * unmap the byte at the offset in the granter's page is cleared and the
 * mapper's port is notified. Grantor and mapper are both dom0 here. */
static void map_grant_ref_notify_clears_byte_and_signals(void **state)
{
	struct sim_fixture *f = *state;
	struct notify_rig r;
	uint32_t ref;
	uint8_t *page, *map;

	notify_rig_open(&r);
	page = xengntshr_share_pages(r.gs, 0, 1, &ref, 1);
	assert_non_null(page);
	memset(page, 0xff, PAGE);
	map = xengnttab_map_grant_ref_notify(f->gt, 0, ref, PROT_READ | PROT_WRITE, 200,
					     (evtchn_port_t)r.sport);
	assert_non_null(map);
	assert_int_equal(map[200], 0xff);
	assert_false(has_event(r.rx));
	assert_int_equal(xengnttab_unmap(f->gt, map, 1), 0);
	assert_int_equal(page[200], 0);
	assert_int_equal(page[199], 0xff);
	assert_int_equal(page[201], 0xff);
	assert_true(has_event(r.rx));
	assert_int_equal(xenevtchn_pending(r.rx), r.rport);
	assert_int_equal(xengntshr_unshare(r.gs, page, 1), 0);
	notify_rig_close(&r);
}

/* gntalloc's unmap notification: unsharing clears the byte (seen by a
 * mapper that still holds the page) and notifies the sharer's port. */
static void share_page_notify_on_unshare(void **state)
{
	struct sim_fixture *f = *state;
	struct notify_rig r;
	uint32_t ref;
	uint8_t *page, *map;

	notify_rig_open(&r);
	page = xengntshr_share_page_notify(r.gs, 0, &ref, 1, 300, (evtchn_port_t)r.sport);
	assert_non_null(page);
	memset(page, 0xff, PAGE);
	map = xengnttab_map_grant_ref(f->gt, 0, ref, PROT_READ);
	assert_non_null(map);
	assert_int_equal(xengntshr_unshare(r.gs, page, 1), 0);
	assert_int_equal(map[300], 0);
	assert_int_equal(map[299], 0xff);
	assert_true(has_event(r.rx));
	assert_int_equal(xenevtchn_pending(r.rx), r.rport);
	assert_int_equal(xengnttab_unmap(f->gt, map, 1), 0);
	notify_rig_close(&r);
}

static void xengnttab_open_without_emulator_enoent(void **state)
{
	struct sim_fixture *f = *state;
	char *dir = strdup(getenv("XENSIM_DIR"));
	xengnttab_handle *h;

	unsetenv("XENSIM_DIR");
	errno = 0;
	h = xengnttab_open(NULL, 0);
	assert_null(h);
	assert_int_equal(errno, ENOENT);
	setenv("XENSIM_DIR", dir, 1);
	setenv("XENSIM_DOMID", "55", 1); /* no such domain */
	errno = 0;
	assert_null(xengnttab_open(NULL, 0));
	assert_int_equal(errno, ENOENT);
	simenv_enter(f->env, 0);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(grant_copy_from_guest_byte_exact),
		cmocka_unit_test(grant_copy_to_guest_byte_exact),
		cmocka_unit_test(grant_copy_batch_of_64_one_bad_segment),
		cmocka_unit_test(grant_copy_ref_out_of_range_bad_gntref),
		cmocka_unit_test(grant_copy_ref_not_in_use_general_error),
		cmocka_unit_test(grant_copy_granted_to_other_domain_general_error),
		cmocka_unit_test(grant_copy_readonly_grant_refuses_write),
		cmocka_unit_test(grant_copy_offset_past_page_einval),
		cmocka_unit_test(grant_copy_bad_local_address_efault),
		cmocka_unit_test(grant_copy_zero_length_is_okay),
		cmocka_unit_test(grant_copy_unknown_domain_bad_domain),
		cmocka_unit_test(grant_copy_dead_domain_bad_domain_mapping_survives),
		cmocka_unit_test(grant_copy_after_domain_recreated),
		cmocka_unit_test(grant_copy_threads_share_a_handle),
		cmocka_unit_test(map_grant_ref_shares_memory_both_ways),
		cmocka_unit_test(map_domain_grant_refs_contiguous),
		cmocka_unit_test(map_grant_refs_rules_einval),
		cmocka_unit_test(unshare_while_mapped_keeps_page),
		cmocka_unit_test(granter_exit_revokes_grants),
		cmocka_unit_test(gntshr_close_ends_grants_before_returning),
		cmocka_unit_test(xengntshr_share_pages_gntalloc_limit_enospc),
		cmocka_unit_test(map_grant_ref_notify_clears_byte_and_signals),
		cmocka_unit_test(share_page_notify_on_unshare),
		cmocka_unit_test(xengnttab_open_without_emulator_enoent),
	};

	return cmocka_run_group_tests(tests, setup, sim_fixture_teardown);
}
