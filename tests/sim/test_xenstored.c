/* The emulator's xenstored (sim/xs_server.h) against the real, unmodified
 * libxenstore: every test runs the server in a thread of this process on
 * sockets in a fresh directory, one per domain (0 and 5), and talks to it
 * through xs_open() with XENSTORED_PATH, or through a raw socket where the
 * point is a malformed message. Error expectations are xenstored's. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>
#include <xenstore.h>
#include <xen/io/xs_wire.h>

#include "sim/xs_server.h"

#define GUEST 5

struct fixture {
	char dir[64];
	char sock0[96];
	char sock5[96];
	struct xs_server *xs;
	pthread_t thread;
	pthread_mutex_t lock;  /* the server is single-threaded: one user */
	int stop_fd;
};

static void *server_main(void *arg)
{
	struct fixture *f = arg;
	struct pollfd p[2] = {
		{ .fd = xs_server_fd(f->xs), .events = POLLIN },
		{ .fd = f->stop_fd, .events = POLLIN },
	};

	for (;;) {
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		pthread_mutex_lock(&f->lock);
		xs_server_process(f->xs);
		pthread_mutex_unlock(&f->lock);
	}
	return NULL;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/xsd-test-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->sock0, sizeof(f->sock0), "%s/dom0.sock", f->dir);
	snprintf(f->sock5, sizeof(f->sock5), "%s/dom5.sock", f->dir);
	f->xs = xs_server_new();
	assert_non_null(f->xs);
	assert_int_equal(xs_server_add_domain(f->xs, 0, f->sock0), 0);
	assert_int_equal(xs_server_add_domain(f->xs, GUEST, f->sock5), 0);
	pthread_mutex_init(&f->lock, NULL);
	f->stop_fd = eventfd(0, EFD_CLOEXEC);
	assert_true(f->stop_fd >= 0);
	assert_int_equal(pthread_create(&f->thread, NULL, server_main, f), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	uint64_t one = 1;

	assert_int_equal(write(f->stop_fd, &one, sizeof(one)), sizeof(one));
	pthread_join(f->thread, NULL);
	close(f->stop_fd);
	pthread_mutex_destroy(&f->lock);
	xs_server_free(f->xs);
	unlink(f->sock0);
	unlink(f->sock5);
	rmdir(f->dir);
	free(f);
	return 0;
}

static struct xs_handle *open_as(struct fixture *f, unsigned domid)
{
	struct xs_handle *h;

	setenv("XENSTORED_PATH", domid ? f->sock5 : f->sock0, 1);
	h = xs_open(0);
	assert_non_null(h);
	return h;
}

/* Reads a node and compares it byte for byte with `want` (NULL: expect
 * failure with errno `err`). */
static void expect_read(struct xs_handle *h, xs_transaction_t t,
			const char *path, const char *want, int err)
{
	unsigned len = 0;
	char *v;

	errno = 0;
	v = xs_read(h, t, path, &len);
	if (!want) {
		assert_null(v);
		assert_int_equal(errno, err);
		return;
	}
	assert_non_null(v);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(v, want, len);
	free(v);
}

static void expect_write_err(struct xs_handle *h, const char *path, int err)
{
	errno = 0;
	assert_false(xs_write(h, XBT_NULL, path, "x", 1));
	assert_int_equal(errno, err);
}

static void write_str(struct xs_handle *h, xs_transaction_t t, const char *path,
		      const char *v)
{
	assert_true(xs_write(h, t, path, v, (unsigned)strlen(v)));
}

/* ---- read / write / mkdir / rm / directory ---- */

static void xs_write_read_back(void **state)
{
	struct xs_handle *h = open_as(*state, 0);
	char bin[3] = { 'a', '\0', 'b' };
	unsigned len;
	char *v;

	write_str(h, XBT_NULL, "/a/b/c", "hello");
	expect_read(h, XBT_NULL, "/a/b/c", "hello", 0);
	/* Missing parents were created, empty. */
	expect_read(h, XBT_NULL, "/a/b", "", 0);
	write_str(h, XBT_NULL, "/a/b/c", "again");
	expect_read(h, XBT_NULL, "/a/b/c", "again", 0);
	/* Values are binary. */
	assert_true(xs_write(h, XBT_NULL, "/a/bin", bin, sizeof(bin)));
	v = xs_read(h, XBT_NULL, "/a/bin", &len);
	assert_non_null(v);
	assert_int_equal(len, 3);
	assert_memory_equal(v, bin, 3);
	free(v);
	xs_close(h);
}

static void xs_read_missing_enoent(void **state)
{
	struct xs_handle *h = open_as(*state, 0);

	expect_read(h, XBT_NULL, "/nope", NULL, ENOENT);
	expect_read(h, XBT_NULL, "/nope/deeper", NULL, ENOENT);
	xs_close(h);
}

static void xs_directory_lists_children(void **state)
{
	struct xs_handle *h = open_as(*state, 0);
	unsigned n = 0;
	char **names;

	write_str(h, XBT_NULL, "/d/x", "1");
	write_str(h, XBT_NULL, "/d/y", "2");
	assert_true(xs_mkdir(h, XBT_NULL, "/d/z"));
	names = xs_directory(h, XBT_NULL, "/d", &n);
	assert_non_null(names);
	assert_int_equal(n, 3);
	assert_string_equal(names[0], "x");
	assert_string_equal(names[1], "y");
	assert_string_equal(names[2], "z");
	free(names);
	errno = 0;
	assert_null(xs_directory(h, XBT_NULL, "/d/none", &n));
	assert_int_equal(errno, ENOENT);
	xs_close(h);
}

/* ---- permissions ---- */

static void xs_guest_denied_then_allowed(void **state)
{
	struct xs_handle *h0 = open_as(*state, 0), *h5 = open_as(*state, GUEST);
	struct xs_permissions perms[2] = {
		{ .id = 0, .perms = XS_PERM_NONE },
		{ .id = GUEST, .perms = XS_PERM_READ },
	};

	write_str(h0, XBT_NULL, "/secret", "s");
	expect_read(h5, XBT_NULL, "/secret", NULL, EACCES);
	expect_write_err(h5, "/secret", EACCES);
	assert_true(xs_set_permissions(h0, XBT_NULL, "/secret", perms, 2));
	expect_read(h5, XBT_NULL, "/secret", "s", 0);
	expect_write_err(h5, "/secret", EACCES);
	perms[1].perms = XS_PERM_READ | XS_PERM_WRITE;
	assert_true(xs_set_permissions(h0, XBT_NULL, "/secret", perms, 2));
	write_str(h5, XBT_NULL, "/secret", "guest");
	expect_read(h0, XBT_NULL, "/secret", "guest", 0);
	xs_close(h5);
	xs_close(h0);
}

static void xs_mkdir_existing_is_fine(void **state)
{
	struct xs_handle *h = open_as(*state, 0);

	write_str(h, XBT_NULL, "/m", "keep");
	assert_true(xs_mkdir(h, XBT_NULL, "/m"));
	expect_read(h, XBT_NULL, "/m", "keep", 0);
	assert_true(xs_mkdir(h, XBT_NULL, "/m/n/o"));
	expect_read(h, XBT_NULL, "/m/n/o", "", 0);
	xs_close(h);
}

static void xs_rm_subtree_and_missing(void **state)
{
	struct xs_handle *h = open_as(*state, 0);
	unsigned n;
	char **names;

	write_str(h, XBT_NULL, "/r/a/b", "1");
	write_str(h, XBT_NULL, "/r/c", "2");
	assert_true(xs_rm(h, XBT_NULL, "/r/a"));
	expect_read(h, XBT_NULL, "/r/a/b", NULL, ENOENT);
	expect_read(h, XBT_NULL, "/r/a", NULL, ENOENT);
	names = xs_directory(h, XBT_NULL, "/r", &n);
	assert_non_null(names);
	assert_int_equal(n, 1);
	assert_string_equal(names[0], "c");
	free(names);
	/* Already gone with the parent present: success, as xenstored. */
	assert_true(xs_rm(h, XBT_NULL, "/r/a"));
	/* Parent missing too: ENOENT. */
	errno = 0;
	assert_false(xs_rm(h, XBT_NULL, "/r/a/b"));
	assert_int_equal(errno, ENOENT);
	errno = 0;
	assert_false(xs_rm(h, XBT_NULL, "/"));
	assert_int_equal(errno, EINVAL);
	xs_close(h);
}

static void xs_write_bad_paths_einval(void **state)
{
	struct xs_handle *h = open_as(*state, 0);
	char *longpath = malloc(XENSTORE_ABS_PATH_MAX + 2);

	expect_write_err(h, "/a//b", EINVAL);
	expect_write_err(h, "/a/", EINVAL);
	expect_write_err(h, "/a b", EINVAL);
	expect_write_err(h, "/a.b", EINVAL);
	expect_write_err(h, "@special", EINVAL);
	expect_read(h, XBT_NULL, "/a//b", NULL, EINVAL);
	/* Beyond the relative budget outside a domain's home. */
	assert_non_null(longpath);
	longpath[0] = '/';
	memset(longpath + 1, 'p', XENSTORE_REL_PATH_MAX);
	longpath[XENSTORE_REL_PATH_MAX + 1] = '\0';
	expect_write_err(h, longpath, EINVAL);
	longpath[XENSTORE_REL_PATH_MAX] = '\0';
	write_str(h, XBT_NULL, longpath, "fits");
	free(longpath);
	xs_close(h);
}

static void xs_write_relative_to_home(void **state)
{
	struct xs_handle *h5 = open_as(*state, GUEST), *h0 = open_as(*state, 0);

	write_str(h5, XBT_NULL, "data/x", "rel");
	expect_read(h0, XBT_NULL, "/local/domain/5/data/x", "rel", 0);
	expect_read(h5, XBT_NULL, "data/x", "rel", 0);
	xs_close(h0);
	xs_close(h5);
}

static void xs_directory_larger_than_payload(void **state)
{
	struct xs_handle *h = open_as(*state, 0);
	enum { N = 300 };
	unsigned n = 0;
	char path[64], **names;

	/* 300 names of 20 bytes do not fit one reply: libxenstore gets E2BIG
	 * and walks XS_DIRECTORY_PART. */
	for (int i = 0; i < N; i++) {
		snprintf(path, sizeof(path), "/big/child-%013d", i);
		assert_true(xs_mkdir(h, XBT_NULL, path));
	}
	names = xs_directory(h, XBT_NULL, "/big", &n);
	assert_non_null(names);
	assert_int_equal(n, N);
	for (int i = 0; i < N; i++) {
		snprintf(path, sizeof(path), "child-%013d", i);
		assert_string_equal(names[i], path);
	}
	free(names);
	xs_close(h);
}

static void xs_get_domain_path_formats(void **state)
{
	struct xs_handle *h = open_as(*state, GUEST);
	char *p = xs_get_domain_path(h, 42);

	assert_non_null(p);
	assert_string_equal(p, "/local/domain/42");
	free(p);
	xs_close(h);
}

/* ---- permissions ---- */

static void expect_perms(struct xs_handle *h, const char *path,
			 const struct xs_permissions *want, unsigned nwant)
{
	unsigned n = 0;
	struct xs_permissions *p = xs_get_permissions(h, XBT_NULL, path, &n);

	assert_non_null(p);
	assert_int_equal(n, nwant);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(p[i].id, want[i].id);
		assert_int_equal(p[i].perms, want[i].perms);
	}
	free(p);
}

static void xs_get_permissions_inherited(void **state)
{
	struct xs_handle *h0 = open_as(*state, 0), *h5 = open_as(*state, GUEST);
	struct xs_permissions home[] = { { GUEST, XS_PERM_NONE } };
	struct xs_permissions shared[] = { { 0, XS_PERM_READ }, { GUEST, XS_PERM_WRITE } };
	struct xs_permissions guest_owned[] = { { GUEST, XS_PERM_READ }, { GUEST, XS_PERM_WRITE } };

	expect_perms(h0, "/local/domain/5", home, 1);
	/* The privileged domain's new node copies its parent's list... */
	write_str(h0, XBT_NULL, "/local/domain/5/byzero", "z");
	expect_perms(h0, "/local/domain/5/byzero", home, 1);
	/* ...a guest's becomes its own. */
	assert_true(xs_set_permissions(h0, XBT_NULL, "/local/domain/5", shared, 2));
	write_str(h5, XBT_NULL, "mine/deep", "g");
	expect_perms(h0, "/local/domain/5/mine", guest_owned, 2);
	expect_perms(h0, "/local/domain/5/mine/deep", guest_owned, 2);
	xs_close(h5);
	xs_close(h0);
}

static void xs_set_permissions_owner_rules(void **state)
{
	struct xs_handle *h0 = open_as(*state, 0), *h5 = open_as(*state, GUEST);
	struct xs_permissions give[] = { { 0, XS_PERM_NONE } };
	struct xs_permissions open_read[] = { { GUEST, XS_PERM_READ } };

	write_str(h5, XBT_NULL, "own", "1");
	/* The owner may change access but not hand the node away. */
	assert_true(xs_set_permissions(h5, XBT_NULL, "own", open_read, 1));
	errno = 0;
	assert_false(xs_set_permissions(h5, XBT_NULL, "own", give, 1));
	assert_int_equal(errno, EPERM);
	/* Write access is not ownership. */
	write_str(h0, XBT_NULL, "/shared", "s");
	struct xs_permissions w[] = { { 0, XS_PERM_NONE }, { GUEST, XS_PERM_READ | XS_PERM_WRITE } };
	assert_true(xs_set_permissions(h0, XBT_NULL, "/shared", w, 2));
	errno = 0;
	assert_false(xs_set_permissions(h5, XBT_NULL, "/shared", open_read, 1));
	assert_int_equal(errno, EACCES);
	xs_close(h5);
	xs_close(h0);
}

static void xs_read_hidden_parent_eacces(void **state)
{
	struct xs_handle *h0 = open_as(*state, 0), *h5 = open_as(*state, GUEST);

	write_str(h0, XBT_NULL, "/hidden/x", "1");
	/* Missing below an unreadable node: the guest learns nothing. */
	expect_read(h5, XBT_NULL, "/hidden/missing", NULL, EACCES);
	/* Creating below a node it cannot write is refused too. */
	expect_write_err(h5, "/hidden/new", EACCES);
	errno = 0;
	assert_false(xs_mkdir(h5, XBT_NULL, "/hidden/dir"));
	assert_int_equal(errno, EACCES);
	errno = 0;
	assert_false(xs_rm(h5, XBT_NULL, "/hidden/x"));
	assert_int_equal(errno, EACCES);
	errno = 0;
	assert_null(xs_directory(h5, XBT_NULL, "/hidden", &(unsigned){ 0 }));
	assert_int_equal(errno, EACCES);
	/* Its own home is fine. */
	expect_read(h5, XBT_NULL, "missing", NULL, ENOENT);
	xs_close(h5);
	xs_close(h0);
}

/* ---- watches ---- */

static void expect_event(struct xs_handle *h, const char *path, const char *token)
{
	struct pollfd p = { .fd = xs_fileno(h), .events = POLLIN };
	unsigned n = 0;
	char **v;

	/* Not a speed check: a missing event fails instead of hanging. */
	if (poll(&p, 1, 60000) != 1)
		fail_msg("no watch event %s %s", path, token);
	v = xs_read_watch(h, &n);

	assert_non_null(v);
	assert_int_equal(n, 2);
	assert_string_equal(v[XS_WATCH_PATH], path);
	assert_string_equal(v[XS_WATCH_TOKEN], token);
	free(v);
}

/* Events of one connection arrive in order: once the marker's event is
 * read, nothing else was sent before it. */
static void expect_only_marker(struct xs_handle *watcher, struct xs_handle *h0,
			       const char *marker_path, const char *event_path,
			       const char *marker_token)
{
	write_str(h0, XBT_NULL, marker_path, "m");
	expect_event(watcher, event_path, marker_token);
}

static void xs_watch_initial_change_and_rm(void **state)
{
	struct xs_handle *h = open_as(*state, 0), *w = open_as(*state, 0);

	write_str(h, XBT_NULL, "/w/a", "1");
	assert_true(xs_watch(w, "/w", "top"));
	expect_event(w, "/w", "top");
	assert_true(xs_watch(w, "/w/a", "leaf"));
	expect_event(w, "/w/a", "leaf");
	assert_true(xs_watch(w, "/marker", "mk"));
	expect_event(w, "/marker", "mk");

	/* A change below fires the watch above; an unrelated one does not. */
	write_str(h, XBT_NULL, "/w/b", "2");
	expect_event(w, "/w/b", "top");
	write_str(h, XBT_NULL, "/elsewhere", "x");
	write_str(h, XBT_NULL, "/w/a", "3");
	expect_event(w, "/w/a", "top");
	expect_event(w, "/w/a", "leaf");

	/* Removing the parent: descendants fire watches on themselves
	 * (children first), the removed node every watch on or above it. */
	assert_true(xs_rm(h, XBT_NULL, "/w"));
	expect_event(w, "/w/a", "leaf");
	expect_event(w, "/w", "top");
	expect_only_marker(w, h, "/marker", "/marker", "mk");

	/* Duplicates are refused; unwatch stops events. */
	errno = 0;
	assert_false(xs_watch(w, "/w", "top"));
	assert_int_equal(errno, EEXIST);
	assert_true(xs_unwatch(w, "/w", "top"));
	errno = 0;
	assert_false(xs_unwatch(w, "/w", "top"));
	assert_int_equal(errno, ENOENT);
	/* /w/a's watch is not fired by a change of /w above it. */
	write_str(h, XBT_NULL, "/w", "back");
	expect_only_marker(w, h, "/marker", "/marker", "mk");
	xs_close(w);
	xs_close(h);
}

static void xs_watch_relative_reported_relative(void **state)
{
	struct xs_handle *h5 = open_as(*state, GUEST), *h0 = open_as(*state, 0);

	assert_true(xs_watch(h5, "device", "rel"));
	expect_event(h5, "device", "rel");
	write_str(h0, XBT_NULL, "/local/domain/5/device/vif/0", "x");
	expect_event(h5, "device/vif/0", "rel");
	assert_true(xs_watch(h5, "/local/domain/5/device", "abs"));
	expect_event(h5, "/local/domain/5/device", "abs");
	write_str(h5, XBT_NULL, "device/vif", "y");
	expect_event(h5, "device/vif", "rel");
	expect_event(h5, "/local/domain/5/device/vif", "abs");
	xs_close(h0);
	xs_close(h5);
}

static void xs_watch_guest_sees_only_readable(void **state)
{
	struct xs_handle *h0 = open_as(*state, 0), *h5 = open_as(*state, GUEST);
	struct xs_permissions readable[] = { { 0, XS_PERM_NONE }, { GUEST, XS_PERM_READ } };

	write_str(h0, XBT_NULL, "/private/p", "1");
	assert_true(xs_watch(h5, "/private", "priv"));
	expect_event(h5, "/private", "priv");  /* the initial event always */
	assert_true(xs_watch(h5, "marker", "mk"));
	expect_event(h5, "marker", "mk");
	write_str(h0, XBT_NULL, "/private/p", "2");
	expect_only_marker(h5, h0, "/local/domain/5/marker", "marker", "mk");
	/* Becoming readable by the guest is itself an event it sees. */
	assert_true(xs_set_permissions(h0, XBT_NULL, "/private/p", readable, 2));
	expect_event(h5, "/private/p", "priv");
	write_str(h0, XBT_NULL, "/private/p", "3");
	expect_event(h5, "/private/p", "priv");
	xs_close(h5);
	xs_close(h0);
}

static void server_locked(struct fixture *f, void (*fn)(struct fixture *f, void *arg),
			  void *arg)
{
	pthread_mutex_lock(&f->lock);
	fn(f, arg);
	pthread_mutex_unlock(&f->lock);
}

static void get_stats(struct fixture *f, void *arg)
{
	xs_server_get_stats(f->xs, arg);
}

/* Runs on the server thread; read after a locked call. */
static void keep_last_line(void *ctx, const char *line)
{
	snprintf(ctx, 128, "%s", line);
}

static void capture_log(struct fixture *f, void *arg)
{
	xs_server_set_log(f->xs, arg ? keep_last_line : NULL, arg);
}

static void add_domain7(struct fixture *f, void *arg)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/dom7.sock", f->dir);
	assert_int_equal(xs_server_add_domain(f->xs, 7, path), 0);
	xs_server_introduce(f->xs, 7);
}

static void remove_domain(struct fixture *f, void *arg)
{
	xs_server_remove_domain(f->xs, *(unsigned *)arg);
}

static void xs_watch_introduce_release(void **state)
{
	struct fixture *f = *state;
	struct xs_handle *h0 = open_as(f, 0), *h5 = open_as(f, GUEST);
	unsigned seven = 7;

	assert_true(xs_watch(h0, "@introduceDomain", "intro"));
	expect_event(h0, "@introduceDomain", "intro");
	assert_true(xs_watch(h0, "@releaseDomain", "rel"));
	expect_event(h0, "@releaseDomain", "rel");
	assert_true(xs_watch(h5, "@releaseDomain", "grel"));
	expect_event(h5, "@releaseDomain", "grel");
	assert_true(xs_watch(h5, "marker", "mk"));
	expect_event(h5, "marker", "mk");

	server_locked(f, add_domain7, NULL);
	expect_event(h0, "@introduceDomain", "intro");
	assert_true(xs_is_domain_introduced(h0, 7));
	server_locked(f, remove_domain, &seven);
	expect_event(h0, "@releaseDomain", "rel");
	assert_false(xs_is_domain_introduced(h0, 7));
	/* Guests are not told about other domains. */
	expect_only_marker(h5, h0, "/local/domain/5/marker", "marker", "mk");
	xs_close(h5);
	xs_close(h0);
}

static void xs_is_domain_introduced_privileged(void **state)
{
	struct xs_handle *h0 = open_as(*state, 0), *h5 = open_as(*state, GUEST);

	assert_true(xs_is_domain_introduced(h0, 0));
	assert_true(xs_is_domain_introduced(h0, GUEST));
	assert_false(xs_is_domain_introduced(h0, 9));
	errno = 0;
	assert_false(xs_is_domain_introduced(h5, GUEST));
	assert_int_equal(errno, EACCES);
	xs_close(h5);
	xs_close(h0);
}

static void xs_remove_domain_drops_its_connections(void **state)
{
	struct fixture *f = *state;
	struct xs_handle *h0 = open_as(f, 0), *h5 = open_as(f, GUEST);
	struct xs_permissions be[] = { { 0, XS_PERM_NONE }, { GUEST, XS_PERM_READ } };
	struct xs_permissions only0[] = { { 0, XS_PERM_NONE } };
	struct xs_permissions gown[] = { { GUEST, XS_PERM_NONE } };
	unsigned guest = GUEST;

	write_str(h5, XBT_NULL, "alive", "1");
	write_str(h0, XBT_NULL, "/backend/5", "b");
	assert_true(xs_set_permissions(h0, XBT_NULL, "/backend/5", be, 2));
	write_str(h0, XBT_NULL, "/elsewhere/owned", "o");
	assert_true(xs_set_permissions(h0, XBT_NULL, "/elsewhere/owned", gown, 1));
	server_locked(f, remove_domain, &guest);
	assert_null(xs_read(h5, XBT_NULL, "alive", &(unsigned){ 0 }));
	assert_false(xs_is_domain_introduced(h0, GUEST));
	/* What it owned is gone (its home included), wherever it was... */
	expect_read(h0, XBT_NULL, "/local/domain/5/alive", NULL, ENOENT);
	expect_read(h0, XBT_NULL, "/local/domain/5", NULL, ENOENT);
	expect_read(h0, XBT_NULL, "/elsewhere/owned", NULL, ENOENT);
	expect_read(h0, XBT_NULL, "/elsewhere", "", 0);
	/* ...and what others own no longer names it. */
	expect_read(h0, XBT_NULL, "/backend/5", "b", 0);
	expect_perms(h0, "/backend/5", only0, 1);
	xs_close(h5);
	xs_close(h0);
}

/* ---- transactions ---- */

static void xs_transaction_end_conflict_eagain(void **state)
{
	struct xs_handle *h1 = open_as(*state, 0), *h2 = open_as(*state, 0);
	xs_transaction_t t;

	write_str(h1, XBT_NULL, "/tx/a", "0");
	t = xs_transaction_start(h1);
	assert_int_not_equal(t, XBT_NULL);
	expect_read(h1, t, "/tx/a", "0", 0);
	write_str(h2, XBT_NULL, "/tx/a", "other");
	write_str(h1, t, "/tx/b", "mine");
	errno = 0;
	assert_false(xs_transaction_end(h1, t, false));
	assert_int_equal(errno, EAGAIN);
	expect_read(h2, XBT_NULL, "/tx/b", NULL, ENOENT);
	expect_read(h2, XBT_NULL, "/tx/a", "other", 0);
	xs_close(h2);
	xs_close(h1);
}

static void xs_transaction_end_commits(void **state)
{
	struct xs_handle *h1 = open_as(*state, 0), *h2 = open_as(*state, 0);
	xs_transaction_t t;

	assert_true(xs_watch(h2, "/tc", "tc"));
	expect_event(h2, "/tc", "tc");
	write_str(h1, XBT_NULL, "/tc/old", "o");
	expect_event(h2, "/tc/old", "tc");
	t = xs_transaction_start(h1);
	assert_int_not_equal(t, XBT_NULL);
	write_str(h1, t, "/tc/new/deep", "n");
	assert_true(xs_rm(h1, t, "/tc/old"));
	/* Inside: its own view; outside: nothing yet. */
	expect_read(h1, t, "/tc/new/deep", "n", 0);
	expect_read(h1, t, "/tc/old", NULL, ENOENT);
	expect_read(h2, XBT_NULL, "/tc/new/deep", NULL, ENOENT);
	expect_read(h2, XBT_NULL, "/tc/old", "o", 0);
	/* An unrelated change does not conflict. */
	write_str(h2, XBT_NULL, "/unrelated", "u");
	assert_true(xs_transaction_end(h1, t, false));
	expect_read(h2, XBT_NULL, "/tc/new/deep", "n", 0);
	expect_read(h2, XBT_NULL, "/tc/old", NULL, ENOENT);
	/* Watches fired at commit, in the order of first access, for the
	 * written and removed nodes (not for parents created on the way). */
	expect_event(h2, "/tc/new/deep", "tc");
	expect_event(h2, "/tc/old", "tc");
	xs_close(h2);
	xs_close(h1);
}

static void xs_transaction_end_abort_discards(void **state)
{
	struct xs_handle *h = open_as(*state, 0);
	xs_transaction_t t = xs_transaction_start(h);

	assert_int_not_equal(t, XBT_NULL);
	write_str(h, t, "/ab", "x");
	assert_true(xs_transaction_end(h, t, true));
	expect_read(h, XBT_NULL, "/ab", NULL, ENOENT);
	/* The id is gone. */
	expect_read(h, t, "/ab", NULL, ENOENT);
	errno = 0;
	assert_false(xs_transaction_end(h, t, true));
	assert_int_equal(errno, ENOENT);
	/* Never-started ids are ENOENT too. */
	expect_read(h, 4242, "/", NULL, ENOENT);
	xs_close(h);
}

/* ---- quotas (xenstored's defaults; quota errors are ENOSPC/E2BIG on the
 * wire, there is no EQUOTA in xs_wire.h) ---- */

static void xs_write_node_quota_enospc(void **state)
{
	struct xs_handle *h5 = open_as(*state, GUEST), *h0 = open_as(*state, 0);
	char path[64];
	int i;

	/* The guest owns its home. Nodes go in directories of 90, as a
	 * record (here: a directory's list of child names) must also stay
	 * below 2048 bytes. */
	int owned = 1;
	for (i = 0;; i++) {
		int fresh = i % 90 == 0 ? 2 : 1;

		snprintf(path, sizeof(path), "q%d/%d", i / 90, i % 90);
		if (owned + fresh > 1000)
			break;
		write_str(h5, XBT_NULL, path, "v");
		owned += fresh;
	}
	assert_int_equal(owned, 1000);
	expect_write_err(h5, path, ENOSPC);
	/* Creating two levels at once is refused as a whole. */
	expect_write_err(h5, "fresh/x", ENOSPC);
	expect_read(h5, XBT_NULL, "fresh", NULL, ENOENT);
	/* Existing nodes can still change; the privileged domain is free. */
	write_str(h5, XBT_NULL, "q0/0", "changed");
	/* (It inherits q0's owner, so it counts against the guest.) */
	write_str(h0, XBT_NULL, "/local/domain/5/q0/byzero", "ok");
	assert_true(xs_rm(h5, XBT_NULL, "q0/1"));
	expect_write_err(h5, "q0/again", ENOSPC);
	assert_true(xs_rm(h5, XBT_NULL, "q0/2"));
	write_str(h5, XBT_NULL, "q0/again", "v");
	xs_close(h0);
	xs_close(h5);
}

static void xs_write_value_quota_enospc(void **state)
{
	struct xs_handle *h5 = open_as(*state, GUEST), *h0 = open_as(*state, 0);
	char *big = malloc(4000);

	assert_non_null(big);
	memset(big, 'v', 4000);
	errno = 0;
	assert_false(xs_write(h5, XBT_NULL, "big", big, 2048));
	assert_int_equal(errno, ENOSPC);
	assert_true(xs_write(h5, XBT_NULL, "small", big, 1000));
	assert_true(xs_write(h0, XBT_NULL, "/big", big, 4000));
	free(big);
	xs_close(h0);
	xs_close(h5);
}

static void xs_watch_quota_e2big(void **state)
{
	struct xs_handle *h5 = open_as(*state, GUEST), *other = open_as(*state, GUEST);
	char tok[16];
	int i;

	for (i = 0; i < 128; i++) {
		snprintf(tok, sizeof(tok), "t%d", i);
		assert_true(xs_watch(h5, "data", tok));
		expect_event(h5, "data", tok);
	}
	errno = 0;
	assert_false(xs_watch(h5, "data", "one-too-many"));
	assert_int_equal(errno, E2BIG);
	/* The quota is the domain's, not the connection's... */
	errno = 0;
	assert_false(xs_watch(other, "data", "elsewhere"));
	assert_int_equal(errno, E2BIG);
	/* ...and comes back when watches go. */
	assert_true(xs_unwatch(h5, "data", "t0"));
	assert_true(xs_watch(other, "data", "elsewhere"));
	expect_event(other, "data", "elsewhere");
	xs_close(h5);
	xs_close(other);
}

static void xs_transaction_start_quota_enospc(void **state)
{
	struct xs_handle *h5 = open_as(*state, GUEST);
	xs_transaction_t t[10];

	for (int i = 0; i < 10; i++) {
		t[i] = xs_transaction_start(h5);
		assert_int_not_equal(t[i], XBT_NULL);
	}
	errno = 0;
	assert_int_equal(xs_transaction_start(h5), XBT_NULL);
	assert_int_equal(errno, ENOSPC);
	assert_true(xs_transaction_end(h5, t[3], true));
	assert_int_not_equal(xs_transaction_start(h5), XBT_NULL);
	xs_close(h5);
}

static void xs_transaction_touch_quota_enospc(void **state)
{
	struct xs_handle *h0 = open_as(*state, 0), *h5 = open_as(*state, GUEST);
	struct xs_permissions pub[] = { { 0, XS_PERM_READ } };
	char path[64], *big = malloc(4000);
	xs_transaction_t t;
	int i;

	assert_non_null(big);
	memset(big, 'b', 4000);
	write_str(h0, XBT_NULL, "/pub", "");
	assert_true(xs_set_permissions(h0, XBT_NULL, "/pub", pub, 1));
	for (i = 0; i < 600; i++) {
		snprintf(path, sizeof(path), "/pub/%d", i);
		assert_true(xs_write(h0, XBT_NULL, path, big, 4000));
	}
	/* 600 copies of 4 KB exceed what a guest's transactions may hold. */
	t = xs_transaction_start(h5);
	assert_int_not_equal(t, XBT_NULL);
	for (i = 0; i < 600; i++) {
		unsigned len;
		char *v;

		snprintf(path, sizeof(path), "/pub/%d", i);
		v = xs_read(h5, t, path, &len);
		if (!v)
			break;
		free(v);
	}
	assert_int_equal(errno, ENOSPC);
	assert_true(i > 400 && i < 600);
	assert_true(xs_transaction_end(h5, t, true));
	/* Ending it gave the room back. */
	t = xs_transaction_start(h5);
	assert_int_not_equal(t, XBT_NULL);
	{
		unsigned len = 0;
		char *v = xs_read(h5, t, "/pub/599", &len);

		assert_non_null(v);
		assert_int_equal(len, 4000);
		free(v);
	}
	assert_true(xs_transaction_end(h5, t, true));
	/* At most 1024 nodes touched in one transaction. */
	t = xs_transaction_start(h5);
	for (i = 0; i < 1100; i++) {
		snprintf(path, sizeof(path), "none/%d", i);
		errno = 0;
		assert_null(xs_read(h5, t, path, &(unsigned){ 0 }));
		if (errno != ENOENT)
			break;
	}
	assert_int_equal(errno, ENOSPC);
	assert_true(i > 1000 && i < 1024);
	assert_true(xs_transaction_end(h5, t, true));
	/* The privileged domain has no such limit. */
	t = xs_transaction_start(h0);
	for (i = 0; i < 600; i++) {
		unsigned len;

		snprintf(path, sizeof(path), "/pub/%d", i);
		free(xs_read(h0, t, path, &len));
	}
	for (i = 0; i < 1100; i++) {
		snprintf(path, sizeof(path), "/none/%d", i);
		expect_read(h0, t, path, NULL, ENOENT);
	}
	assert_true(xs_transaction_end(h0, t, true));
	free(big);
	xs_close(h5);
	xs_close(h0);
}

/* ---- hostile clients on raw sockets ---- */

static int raw_connect(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	strcpy(a.sun_path, path);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static void raw_send(int fd, uint32_t type, uint32_t req_id, const void *body,
		     uint32_t len, uint32_t claimed_len)
{
	struct xsd_sockmsg h = { .type = type, .req_id = req_id, .len = claimed_len };

	assert_int_equal(write(fd, &h, sizeof(h)), sizeof(h));
	if (len)
		assert_int_equal(write(fd, body, len), (ssize_t)len);
}

static void read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		assert_true(n > 0);
		got += (size_t)n;
	}
}

/* Reads one reply; returns its payload (NUL-terminated, malloc'd). */
static char *raw_reply(int fd, struct xsd_sockmsg *h)
{
	char *body;

	read_full(fd, h, sizeof(*h));
	assert_true(h->len <= XENSTORE_PAYLOAD_MAX);
	body = calloc(1, h->len + 1);
	assert_non_null(body);
	read_full(fd, body, h->len);
	return body;
}

static void expect_raw_error(int fd, uint32_t req_id, const char *err)
{
	struct xsd_sockmsg h;
	char *body = raw_reply(fd, &h);

	assert_int_equal(h.type, XS_ERROR);
	assert_int_equal(h.req_id, req_id);
	assert_int_equal(h.len, strlen(err) + 1);
	assert_string_equal(body, err);
	free(body);
}

static void xs_dispatch_malformed_errors(void **state)
{
	struct fixture *f = *state;
	int fd = raw_connect(f->sock5);
	struct xs_server_stats st;
	struct xsd_sockmsg h;
	char *body;

	static const struct {
		uint32_t type;
		const char *body;
		uint32_t len;
		const char *err;
	} bad[] = {
		{ 999, NULL, 0, "ENOSYS" },
		{ XS_WATCH_EVENT, "a\0b", 4, "ENOSYS" },
		{ XS_READ, "data", 4, "EINVAL" },     /* a path without its NUL */
		{ XS_READ, "data\0x", 7, "EINVAL" }, /* two strings where one is expected */
		{ XS_WATCH, "only-path", 10, "EINVAL" },
		{ XS_TRANSACTION_END, "X", 2, "EINVAL" },
		{ XS_SET_PERMS, "data\0z5", 8, "EINVAL" },
		{ XS_INTRODUCE, "1\0002\0003", 6, "EACCES" },
		{ XS_WRITE, "", 0, "EINVAL" },
	};

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		raw_send(fd, bad[i].type, 11 + i, bad[i].body, bad[i].len, bad[i].len);
		expect_raw_error(fd, 11 + i, bad[i].err);
	}
	/* The connection still serves well-formed requests, echoing ids. */
	raw_send(fd, XS_GET_DOMAIN_PATH, 20, "5", 2, 2);
	body = raw_reply(fd, &h);
	assert_int_equal(h.type, XS_GET_DOMAIN_PATH);
	assert_int_equal(h.req_id, 20);
	assert_string_equal(body, "/local/domain/5");
	free(body);
	raw_send(fd, XS_RESET_WATCHES, 21, "", 1, 1);
	body = raw_reply(fd, &h);
	assert_int_equal(h.type, XS_RESET_WATCHES);
	assert_string_equal(body, "OK");
	free(body);
	server_locked(f, get_stats, &st);
	assert_int_equal(st.requests, 11);
	assert_int_equal(st.errors, 9);
	assert_int_equal(st.unknown_requests, 2);
	assert_int_equal(st.protocol_drops, 0);
	close(fd);
}

static void xs_dispatch_oversized_disconnects_only_it(void **state)
{
	struct fixture *f = *state;
	struct xs_handle *good = open_as(f, 0);
	int fd = raw_connect(f->sock5);
	struct xs_server_stats st;
	char c, line[128] = "";

	server_locked(f, capture_log, line);
	write_str(good, XBT_NULL, "/before", "1");
	raw_send(fd, XS_WRITE, 1, NULL, 0, XENSTORE_PAYLOAD_MAX + 1);
	/* The server hangs up on it... */
	assert_int_equal(read(fd, &c, 1), 0);
	close(fd);
	/* ...and keeps serving everyone else. */
	write_str(good, XBT_NULL, "/after", "2");
	expect_read(good, XBT_NULL, "/before", "1", 0);
	server_locked(f, get_stats, &st);
	assert_int_equal(st.protocol_drops, 1);
	assert_string_equal(line, "dropping domain 5 connection: oversized request");
	server_locked(f, capture_log, NULL);
	xs_close(good);
}

static void xs_conn_slow_reader_does_not_block(void **state)
{
	struct fixture *f = *state;
	struct xs_handle *good = open_as(f, 0);
	int fd = raw_connect(f->sock5);
	struct xsd_sockmsg h = { .type = XS_GET_DOMAIN_PATH, .len = 2 };
	char msg[sizeof(h) + 2];
	int sent = 0;

	/* Requests without ever reading a reply, until the socket is full. */
	memcpy(msg, &h, sizeof(h));
	memcpy(msg + sizeof(h), "5", 2);
	for (;;) {
		ssize_t n = send(fd, msg, sizeof(msg), MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0)
			break;
		assert_int_equal(n, sizeof(msg));
		sent++;
	}
	assert_true(sent > 100);
	for (int i = 0; i < 50; i++) {
		char path[32];

		snprintf(path, sizeof(path), "/busy/%d", i);
		write_str(good, XBT_NULL, path, "v");
	}
	expect_read(good, XBT_NULL, "/busy/49", "v", 0);
	close(fd);
	write_str(good, XBT_NULL, "/still", "ok");
	xs_close(good);
}

static void xs_conn_event_flood_bounded(void **state)
{
	struct fixture *f = *state;
	struct xs_handle *h0 = open_as(f, 0);
	int fd = raw_connect(f->sock5);
	struct xsd_sockmsg h;
	enum { WRITES = 10000 };
	unsigned events = 0;
	char path[64], *body;

	/* A guest watches part of its home and then stops reading. */
	raw_send(fd, XS_WATCH, 1, "flood\0t", 8, 8);
	body = raw_reply(fd, &h);
	assert_int_equal(h.type, XS_WATCH);
	free(body);
	body = raw_reply(fd, &h);
	assert_int_equal(h.type, XS_WATCH_EVENT);
	assert_string_equal(body, "flood");
	free(body);
	for (int i = 0; i < WRITES; i++) {
		snprintf(path, sizeof(path), "/local/domain/5/flood/%d/%d",
			 i / 100, i % 100);
		write_str(h0, XBT_NULL, path, "v");
	}
	/* The server kept serving; the guest's backlog stayed bounded: some
	 * events were dropped rather than queued without end. A request
	 * sent now is answered after whatever is still queued. */
	raw_send(fd, XS_GET_DOMAIN_PATH, 2, "5", 2, 2);
	for (;;) {
		body = raw_reply(fd, &h);
		free(body);
		if (h.type == XS_GET_DOMAIN_PATH)
			break;
		assert_int_equal(h.type, XS_WATCH_EVENT);
		events++;
	}
	assert_true(events > 1000);
	assert_true(events < WRITES);
	{
		struct xs_server_stats st;

		server_locked(f, get_stats, &st);
		assert_int_equal(st.events_dropped, WRITES - events);
	}
	close(fd);
	xs_close(h0);
}

/* A deterministic generator, so a failure replays. */
static uint32_t next_rand(uint32_t *st)
{
	*st ^= *st << 13;
	*st ^= *st >> 17;
	*st ^= *st << 5;
	return *st;
}

struct fuzz_writer {
	int fd;
	uint32_t seed;
	int count;
};

/* Messages built from pieces that reach deep into the handlers: valid and
 * invalid paths, permission strings, transaction verbs, special names,
 * random bytes; NUL placement and transaction ids at random. */
static void *fuzz_write(void *arg)
{
	static const char *const pieces[] = {
		"data", "data/x", "/local/domain/5/f", "/local/domain/0", "/",
		"@releaseDomain", "@introduceDomain", "@other", "T", "F", "r5",
		"b0", "n5", "w7", "x9", "5", "0", "32752", "", "a//b", "/a/",
		"../..", "tok", "0x10", "-1", "99999999999",
	};
	struct fuzz_writer *w = arg;
	char buf[sizeof(struct xsd_sockmsg) + 512];

	for (int i = 0; i < w->count; i++) {
		struct xsd_sockmsg h = { 0 };
		uint32_t r = next_rand(&w->seed);
		unsigned len = 0, parts = 1 + r % 4;

		for (unsigned k = 0; k < parts; k++) {
			uint32_t q = next_rand(&w->seed);
			const char *p = pieces[q % (sizeof(pieces) / sizeof(pieces[0]))];
			size_t pl = strlen(p);

			if (q & 0x10000) {  /* random bytes instead */
				pl = (q >> 20) % 40;
				for (size_t b = 0; b < pl; b++)
					buf[sizeof(h) + len + b] =
						(char)(next_rand(&w->seed) & 0xff);
			} else {
				memcpy(buf + sizeof(h) + len, p, pl);
			}
			len += (unsigned)pl;
			if (!(q & 0x20000))
				buf[sizeof(h) + len++] = '\0';
		}
		h.type = r % 8 == 0 ? next_rand(&w->seed) % 40 : (r >> 8) % XS_TYPE_COUNT;
		h.req_id = (uint32_t)i;
		h.tx_id = (r >> 16) % 3 ? 0 : (r >> 20) % 4;
		h.len = len;
		memcpy(buf, &h, sizeof(h));
		if (send(w->fd, buf, sizeof(h) + len, MSG_NOSIGNAL) < 0)
			break;
	}
	shutdown(w->fd, SHUT_WR);
	return NULL;
}

static void xs_dispatch_survives_fuzz(void **state)
{
	struct fixture *f = *state;
	struct xs_handle *h0 = open_as(f, 0);
	struct fuzz_writer w = { .seed = 0x5eed1234u, .count = 20000 };
	pthread_t t;
	char sink[4096];

	for (int round = 0; round < 2; round++) {
		w.fd = raw_connect(round ? f->sock0 : f->sock5);
		assert_int_equal(pthread_create(&t, NULL, fuzz_write, &w), 0);
		/* Replies and events are read and dropped until the server hangs
		 * up after the writer's end of stream. */
		while (read(w.fd, sink, sizeof(sink)) > 0)
			;
		pthread_join(t, NULL);
		close(w.fd);
	}
	/* Everyone else is still served. */
	write_str(h0, XBT_NULL, "/after-fuzz", "ok");
	expect_read(h0, XBT_NULL, "/after-fuzz", "ok", 0);
	assert_true(xs_is_domain_introduced(h0, GUEST));
	xs_close(h0);
}

/* ---- the direct API the emulator's toolstack uses ---- */

static void direct_ops(struct fixture *f, void *arg)
{
	const struct xs_permissions readable[] = {
		{ .id = 0, .perms = XS_PERM_NONE }, { .id = GUEST, .perms = XS_PERM_READ },
	};
	unsigned n = 0;
	char **names, *v;

	assert_int_equal(xs_server_write(f->xs, "/tool/x", "1"), 0);
	assert_int_equal(xs_server_write(f->xs, "/tool/y", "22"), 0);
	assert_int_equal(xs_server_write(f->xs, "relative", "1"), -EINVAL);
	v = xs_server_read(f->xs, "/tool/y");
	assert_non_null(v);
	assert_string_equal(v, "22");
	free(v);
	errno = 0;
	assert_null(xs_server_read(f->xs, "/tool/none"));
	assert_int_equal(errno, ENOENT);
	names = xs_server_directory(f->xs, "/tool", &n);
	assert_non_null(names);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "x");
	assert_string_equal(names[1], "y");
	assert_null(names[2]);  /* NULL-terminated as documented */
	for (unsigned i = 0; i < n; i++)
		free(names[i]);
	free(names);
	assert_int_equal(xs_server_mkdir(f->xs, "/tool/dir/sub"), 0);
	assert_int_equal(xs_server_set_perms(f->xs, "/tool/dir", readable, 2), 0);
	assert_int_equal(xs_server_set_perms(f->xs, "/tool/none", readable, 2), -ENOENT);
	assert_int_equal(xs_server_rm(f->xs, "/tool/x"), 0);
	assert_int_equal(xs_server_rm(f->xs, "/nope/x"), -ENOENT);
	assert_false(xs_server_has_domain(f->xs, 3));
	assert_true(xs_server_has_domain(f->xs, GUEST));
	assert_int_equal(xs_server_add_domain(f->xs, GUEST, "/tmp/unused"), -EEXIST);
	assert_int_equal(xs_server_add_domain(f->xs, 0x7FF0, "/tmp/unused"), -EINVAL);
}

static void xs_server_write_direct_api(void **state)
{
	struct fixture *f = *state;
	struct xs_handle *h = open_as(f, 0), *h5;

	assert_true(xs_watch(h, "/tool", "tool"));
	expect_event(h, "/tool", "tool");
	server_locked(f, direct_ops, NULL);
	expect_event(h, "/tool/x", "tool");
	expect_event(h, "/tool/y", "tool");
	expect_event(h, "/tool/dir/sub", "tool");
	expect_event(h, "/tool/dir", "tool");
	expect_event(h, "/tool/x", "tool");
	expect_read(h, XBT_NULL, "/tool/y", "22", 0);
	h5 = open_as(f, GUEST);
	expect_read(h5, XBT_NULL, "/tool/dir", "", 0);
	expect_read(h5, XBT_NULL, "/tool/y", NULL, EACCES);
	xs_close(h5);
	xs_close(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(xs_write_read_back, setup, teardown),
		cmocka_unit_test_setup_teardown(xs_read_missing_enoent, setup, teardown),
		cmocka_unit_test_setup_teardown(xs_directory_lists_children, setup, teardown),
		cmocka_unit_test_setup_teardown(xs_guest_denied_then_allowed, setup, teardown),
		cmocka_unit_test_setup_teardown(xs_mkdir_existing_is_fine, setup, teardown),
		cmocka_unit_test_setup_teardown(xs_rm_subtree_and_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(xs_write_bad_paths_einval, setup, teardown),
		cmocka_unit_test_setup_teardown(xs_write_relative_to_home, setup, teardown),
		cmocka_unit_test_setup_teardown(xs_directory_larger_than_payload, setup, teardown),
		cmocka_unit_test_setup_teardown(xs_get_domain_path_formats, setup, teardown),
		cmocka_unit_test_setup_teardown(xs_get_permissions_inherited, setup, teardown),
		cmocka_unit_test_setup_teardown(xs_set_permissions_owner_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(xs_read_hidden_parent_eacces, setup, teardown),
		cmocka_unit_test_setup_teardown(xs_watch_initial_change_and_rm, setup, teardown),
		cmocka_unit_test_setup_teardown(xs_watch_relative_reported_relative, setup, teardown),
		cmocka_unit_test_setup_teardown(xs_watch_guest_sees_only_readable, setup, teardown),
		cmocka_unit_test_setup_teardown(xs_watch_introduce_release, setup, teardown),
		cmocka_unit_test_setup_teardown(xs_is_domain_introduced_privileged, setup, teardown),
		cmocka_unit_test_setup_teardown(xs_remove_domain_drops_its_connections, setup, teardown),
		cmocka_unit_test_setup_teardown(xs_transaction_end_conflict_eagain, setup, teardown),
		cmocka_unit_test_setup_teardown(xs_transaction_end_commits, setup, teardown),
		cmocka_unit_test_setup_teardown(xs_transaction_end_abort_discards, setup, teardown),
		cmocka_unit_test_setup_teardown(xs_write_node_quota_enospc, setup, teardown),
		cmocka_unit_test_setup_teardown(xs_write_value_quota_enospc, setup, teardown),
		cmocka_unit_test_setup_teardown(xs_watch_quota_e2big, setup, teardown),
		cmocka_unit_test_setup_teardown(xs_transaction_start_quota_enospc, setup, teardown),
		cmocka_unit_test_setup_teardown(xs_transaction_touch_quota_enospc, setup, teardown),
		cmocka_unit_test_setup_teardown(xs_dispatch_malformed_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(xs_dispatch_oversized_disconnects_only_it, setup, teardown),
		cmocka_unit_test_setup_teardown(xs_conn_slow_reader_does_not_block, setup, teardown),
		cmocka_unit_test_setup_teardown(xs_conn_event_flood_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(xs_dispatch_survives_fuzz, setup, teardown),
		cmocka_unit_test_setup_teardown(xs_server_write_direct_api, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
