/* The pure parts of the emulator's xenstored: node names, permission
 * lists and rules, and transactions over the store, without sockets. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <xen/io/xs_wire.h>

#include "sim/xs_map.h"
#include "sim/xs_path.h"
#include "sim/xs_perms.h"
#include "sim/xs_store.h"
#include "sim/xs_txn.h"

/* ---- names ---- */

static void xs_path_is_valid_rules(void **state)
{
	char *p;

	assert_true(xs_path_is_valid("/"));
	assert_true(xs_path_is_valid("/a/B-9_@x"));
	assert_false(xs_path_is_valid(""));
	assert_false(xs_path_is_valid("a/b"));
	assert_false(xs_path_is_valid("/a/"));
	assert_false(xs_path_is_valid("/a//b"));
	assert_false(xs_path_is_valid("/a.b"));
	assert_false(xs_path_is_valid("/a b"));
	assert_false(xs_path_is_valid("/a\n"));
	/* The length budget counts from a domain's home. */
	p = malloc(XENSTORE_ABS_PATH_MAX + 1);
	assert_non_null(p);
	strcpy(p, "/local/domain/7/");
	memset(p + 16, 'x', XENSTORE_REL_PATH_MAX);
	p[16 + XENSTORE_REL_PATH_MAX] = '\0';
	assert_true(xs_path_is_valid(p));
	p[16 + XENSTORE_REL_PATH_MAX] = 'x';
	p[17 + XENSTORE_REL_PATH_MAX] = '\0';
	assert_false(xs_path_is_valid(p));
	free(p);
}

static void xs_path_canonical_relative(void **state)
{
	char *p = xs_path_canonical(5, "device/vif");

	assert_string_equal(p, "/local/domain/5/device/vif");
	free(p);
	p = xs_path_canonical(5, "/abs");
	assert_string_equal(p, "/abs");
	free(p);
	p = xs_path_canonical(5, "@releaseDomain");
	assert_string_equal(p, "@releaseDomain");
	free(p);
}

static void xs_path_parent_and_child(void **state)
{
	char *p = xs_path_parent("/a/b/c");

	assert_string_equal(p, "/a/b");
	free(p);
	p = xs_path_parent("/a");
	assert_string_equal(p, "/");
	free(p);
	p = xs_path_child("/", "a");
	assert_string_equal(p, "/a");
	free(p);
	p = xs_path_child("/a", "b");
	assert_string_equal(p, "/a/b");
	free(p);
	assert_string_equal(xs_path_basename("/a/bc"), "bc");
}

static void xs_path_is_below_components(void **state)
{
	assert_true(xs_path_is_below("/a/b", "/a"));
	assert_true(xs_path_is_below("/a", "/a"));
	assert_false(xs_path_is_below("/ab", "/a"));
	assert_false(xs_path_is_below("/a", "/a/b"));
	/* Everything, specials included, is below "/" (xenstored's rule). */
	assert_true(xs_path_is_below("@releaseDomain", "/"));
}

/* ---- permissions ---- */

static void xs_perms_parse_and_format(void **state)
{
	static const char wire[] = "n0\0r5\0w7\0b65535";
	struct xs_perms p;
	unsigned len;
	char *s;

	assert_int_equal(xs_perms_parse(wire, 4, &p), 0);
	assert_int_equal(p.num, 4);
	assert_int_equal(p.p[0].id, 0);
	assert_int_equal(p.p[0].perms, XS_PERM_NONE);
	assert_int_equal(p.p[1].perms, XS_PERM_READ);
	assert_int_equal(p.p[2].perms, XS_PERM_WRITE);
	assert_int_equal(p.p[3].perms, XS_PERM_READ | XS_PERM_WRITE);
	assert_int_equal(p.p[3].id, 65535);
	s = xs_perms_format(&p, &len);
	assert_int_equal(len, sizeof(wire));
	assert_memory_equal(s, wire, sizeof(wire));
	free(s);
	xs_perms_free(&p);
}

static void xs_perms_parse_rejects_malformed(void **state)
{
	struct xs_perms p = { 0, NULL };

	assert_int_equal(xs_perms_parse("x5", 1, &p), EINVAL);
	assert_int_equal(xs_perms_parse("r", 1, &p), EINVAL);
	assert_int_equal(xs_perms_parse("r5x", 1, &p), EINVAL);
	assert_int_equal(xs_perms_parse("r-1", 1, &p), EINVAL);
	assert_int_equal(xs_perms_parse("r 5", 1, &p), EINVAL);
	assert_int_equal(xs_perms_parse("r65536", 1, &p), EINVAL);
	assert_int_equal(xs_perms_parse("n0", 0, &p), EINVAL);
	assert_null(p.p);
}

static void xs_perms_for_rules(void **state)
{
	const unsigned all = XS_PERM_READ | XS_PERM_WRITE | XS_PERM_OWNER;
	struct xs_perms p;

	assert_int_equal(xs_perms_parse("r3\0w5\0n6", 3, &p), 0);
	assert_int_equal(xs_perms_for(&p, 0), all);   /* privileged */
	assert_int_equal(xs_perms_for(&p, 3), all);   /* owner */
	assert_int_equal(xs_perms_for(&p, 5), XS_PERM_WRITE);
	assert_int_equal(xs_perms_for(&p, 6), XS_PERM_NONE);
	assert_int_equal(xs_perms_for(&p, 9), XS_PERM_READ);  /* default */
	xs_perms_free(&p);
}

/* ---- transactions over the store ---- */

static struct xs_node *node_with(const char *name, const char *value, unsigned owner)
{
	struct xs_perms p;
	struct xs_node *n;

	assert_int_equal(xs_perms_single(&p, owner, XS_PERM_NONE), 0);
	n = xs_node_new(name, &p);
	xs_perms_free(&p);
	assert_non_null(n);
	assert_int_equal(xs_node_set_data(n, value, (unsigned)strlen(value)), 0);
	return n;
}

struct fired {
	int n;
	char names[8][32];
	bool exact[8];
};

static void record_fire(void *ctx, const char *name, bool exact,
			const struct xs_perms *orig)
{
	struct fired *f = ctx;

	if (f->n < 8) {
		strncpy(f->names[f->n], name, sizeof(f->names[0]) - 1);
		f->exact[f->n] = exact;
	}
	f->n++;
}

static const struct xs_txn_quota no_quota = { .domid = 0 };

static void xs_txn_commit_conflict_on_read_node(void **state)
{
	struct xs_store st;
	struct xs_txn *t;
	struct xs_db db;
	struct fired fired = { 0 };
	int err;

	assert_int_equal(xs_store_init(&st), 0);
	assert_int_equal(xs_store_put(&st, node_with("/a", "0", 0)), 0);
	t = xs_txn_new(1);
	db = (struct xs_db){ .store = &st, .txn = t };
	assert_non_null(xs_db_get(&db, "/a", &err));
	assert_int_equal(xs_db_put(&db, node_with("/b", "t", 0)), 0);
	/* Someone else changes what the transaction read. */
	assert_int_equal(xs_store_put(&st, node_with("/a", "1", 0)), 0);
	assert_int_equal(xs_txn_commit(t, &st, &no_quota, record_fire, &fired), EAGAIN);
	assert_null(xs_store_get(&st, "/b"));
	assert_int_equal(fired.n, 0);
	xs_txn_free(t);
	xs_store_fini(&st);
}

static void xs_txn_commit_conflict_on_absent_node(void **state)
{
	struct xs_store st;
	struct xs_txn *t;
	struct xs_db db;
	int err;

	assert_int_equal(xs_store_init(&st), 0);
	t = xs_txn_new(1);
	db = (struct xs_db){ .store = &st, .txn = t };
	/* "Absent" is a state the transaction relied on, too. */
	assert_null(xs_db_get(&db, "/x", &err));
	assert_int_equal(err, ENOENT);
	assert_int_equal(xs_store_put(&st, node_with("/x", "new", 0)), 0);
	assert_int_equal(xs_txn_commit(t, &st, &no_quota, record_fire, &(struct fired){ 0 }),
			 EAGAIN);
	xs_txn_free(t);
	xs_store_fini(&st);
}

static void xs_txn_commit_applies_and_fires(void **state)
{
	struct xs_store st;
	struct xs_txn *t;
	struct xs_db db;
	struct fired fired = { 0 };
	const struct xs_node *n;
	int err;

	assert_int_equal(xs_store_init(&st), 0);
	assert_int_equal(xs_store_put(&st, node_with("/gone", "g", 0)), 0);
	t = xs_txn_new(7);
	db = (struct xs_db){ .store = &st, .txn = t };
	assert_int_equal(xs_db_put(&db, node_with("/new", "n", 0)), 0);
	xs_txn_queue_watch(t, "/new", true);
	xs_txn_queue_watch(t, "/new", false);  /* inexact wins */
	assert_int_equal(xs_db_delete(&db, "/gone"), 0);
	xs_txn_queue_watch(t, "/gone", true);
	/* Its own view, and the store's unchanged until commit. */
	assert_null(xs_db_get(&db, "/gone", &err));
	assert_non_null(xs_store_get(&st, "/gone"));
	/* An unrelated concurrent change is no conflict. */
	assert_int_equal(xs_store_put(&st, node_with("/other", "o", 0)), 0);
	assert_int_equal(xs_txn_commit(t, &st, &no_quota, record_fire, &fired), 0);
	n = xs_store_get(&st, "/new");
	assert_non_null(n);
	assert_memory_equal(n->data, "n", 1);
	assert_null(xs_store_get(&st, "/gone"));
	assert_int_equal(fired.n, 2);
	assert_string_equal(fired.names[0], "/new");
	assert_false(fired.exact[0]);
	assert_string_equal(fired.names[1], "/gone");
	assert_true(fired.exact[1]);
	xs_txn_free(t);
	xs_store_fini(&st);
}

static void xs_txn_commit_node_quota(void **state)
{
	struct xs_store st;
	struct xs_txn *t;
	struct xs_db db;
	const struct xs_txn_quota q = { .domid = 5, .max_nodes_per_domain = 2 };

	assert_int_equal(xs_store_init(&st), 0);
	assert_int_equal(xs_store_put(&st, node_with("/a", "", 5)), 0);
	t = xs_txn_new(1);
	db = (struct xs_db){ .store = &st, .txn = t };
	assert_int_equal(xs_db_put(&db, node_with("/b", "", 5)), 0);
	assert_int_equal(xs_db_count(&db, 5), 2);
	assert_int_equal(xs_db_put(&db, node_with("/c", "", 5)), 0);
	assert_int_equal(xs_txn_commit(t, &st, &q, record_fire, &(struct fired){ 0 }), ENOSPC);
	assert_int_equal(xs_store_count(&st, 5), 1);
	xs_txn_free(t);
	xs_store_fini(&st);
}

static void xs_txn_access_cap_enospc(void **state)
{
	struct xs_store st;
	struct xs_txn *t;
	struct xs_db db;
	int err = 0;

	assert_int_equal(xs_store_init(&st), 0);
	t = xs_txn_new(1);
	db = (struct xs_db){ .store = &st, .txn = t, .max_txn_nodes = 2 };
	assert_non_null(xs_db_get(&db, "/", &err));
	assert_null(xs_db_get(&db, "/x", &err));
	assert_int_equal(err, ENOENT);
	assert_null(xs_db_get(&db, "/y", &err));
	assert_int_equal(err, ENOSPC);
	xs_txn_free(t);
	xs_store_fini(&st);
}

static void xs_store_put_counts_owners(void **state)
{
	struct xs_store st;

	assert_int_equal(xs_store_init(&st), 0);
	assert_int_equal(xs_store_count(&st, 0), 1);  /* the root */
	assert_int_equal(xs_store_put(&st, node_with("/a", "", 5)), 0);
	assert_int_equal(xs_store_put(&st, node_with("/b", "", 5)), 0);
	assert_int_equal(xs_store_count(&st, 5), 2);
	/* Re-owning moves the count. */
	assert_int_equal(xs_store_put(&st, node_with("/a", "", 6)), 0);
	assert_int_equal(xs_store_count(&st, 5), 1);
	assert_int_equal(xs_store_count(&st, 6), 1);
	xs_store_delete(&st, "/b");
	assert_int_equal(xs_store_count(&st, 5), 0);
	xs_store_fini(&st);
}

static void xs_store_owned_by_ancestors_first(void **state)
{
	struct xs_store st;
	unsigned num;
	char **names;

	assert_int_equal(xs_store_init(&st), 0);
	assert_int_equal(xs_store_put(&st, node_with("/a/b/c", "", 5)), 0);
	assert_int_equal(xs_store_put(&st, node_with("/a", "", 5)), 0);
	assert_int_equal(xs_store_put(&st, node_with("/z", "", 6)), 0);
	assert_int_equal(xs_store_put(&st, node_with("/a/b", "", 5)), 0);
	names = xs_store_owned_by(&st, 5, &num);
	assert_int_equal(num, 3);
	assert_string_equal(names[0], "/a");
	assert_string_equal(names[1], "/a/b");
	assert_string_equal(names[2], "/a/b/c");
	for (unsigned i = 0; i < num; i++)
		free(names[i]);
	free(names);
	assert_null(xs_store_owned_by(&st, 9, &num));
	assert_int_equal(num, 0);
	xs_store_fini(&st);
}

static void xs_store_forget_domid_keeps_generation(void **state)
{
	struct xs_store st;
	struct xs_perms p;
	struct xs_node *n;
	const struct xs_node *got;
	uint64_t gen;

	assert_int_equal(xs_store_init(&st), 0);
	assert_int_equal(xs_perms_parse("n0\0r5\0w6\0b5", 4, &p), 0);
	n = xs_node_new("/be", &p);
	xs_perms_free(&p);
	assert_non_null(n);
	assert_int_equal(xs_store_put(&st, n), 0);
	gen = xs_store_get(&st, "/be")->generation;
	xs_store_forget_domid(&st, 5);
	got = xs_store_get(&st, "/be");
	assert_int_equal(got->perms.num, 2);
	assert_int_equal(got->perms.p[1].id, 6);
	assert_int_equal(got->generation, gen);
	xs_store_fini(&st);
}

static void xs_map_put_get_remove_many(void **state)
{
	struct xs_map *m = xs_map_new();
	char key[32];
	void *old;

	assert_non_null(m);
	for (long i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "/k/%ld", i);
		assert_int_equal(xs_map_put(m, key, (void *)(i + 1), &old), 0);
		assert_null(old);
	}
	assert_int_equal(xs_map_size(m), 5000);
	assert_int_equal((long)xs_map_get(m, "/k/4321"), 4322);
	assert_int_equal(xs_map_put(m, "/k/7", (void *)1L, &old), 0);
	assert_int_equal((long)old, 8);
	assert_int_equal((long)xs_map_remove(m, "/k/7"), 1);
	assert_null(xs_map_get(m, "/k/7"));
	assert_null(xs_map_remove(m, "/k/7"));
	assert_int_equal(xs_map_size(m), 4999);
	xs_map_free(m, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(xs_path_is_valid_rules),
		cmocka_unit_test(xs_path_canonical_relative),
		cmocka_unit_test(xs_path_parent_and_child),
		cmocka_unit_test(xs_path_is_below_components),
		cmocka_unit_test(xs_perms_parse_and_format),
		cmocka_unit_test(xs_perms_parse_rejects_malformed),
		cmocka_unit_test(xs_perms_for_rules),
		cmocka_unit_test(xs_txn_commit_conflict_on_read_node),
		cmocka_unit_test(xs_txn_commit_conflict_on_absent_node),
		cmocka_unit_test(xs_txn_commit_applies_and_fires),
		cmocka_unit_test(xs_txn_commit_node_quota),
		cmocka_unit_test(xs_txn_access_cap_enospc),
		cmocka_unit_test(xs_store_put_counts_owners),
		cmocka_unit_test(xs_store_owned_by_ancestors_first),
		cmocka_unit_test(xs_store_forget_domid_keeps_generation),
		cmocka_unit_test(xs_map_put_get_remove_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
