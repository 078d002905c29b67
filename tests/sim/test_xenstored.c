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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(xs_write_read_back, setup, teardown),
		cmocka_unit_test_setup_teardown(xs_read_missing_enoent, setup, teardown),
		cmocka_unit_test_setup_teardown(xs_directory_lists_children, setup, teardown),
		cmocka_unit_test_setup_teardown(xs_guest_denied_then_allowed, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
