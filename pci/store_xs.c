/* pci_store_ops over the real libxenstore (xs_*). */
#include "pci/pci_env.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

struct store_xs {
	struct xs_handle *xs;
	xs_transaction_t t;
};

void *pci_store_xs_open(void)
{
	struct store_xs *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->xs = xs_open(0);
	if (!s->xs) {
		int e = errno;
		free(s);
		errno = e ? e : ENOENT;
		return NULL;
	}
	s->t = XBT_NULL;
	return s;
}

void pci_store_xs_close(void *h)
{
	struct store_xs *s = h;

	if (!s)
		return;
	if (s->t != XBT_NULL)
		xs_transaction_end(s->xs, s->t, true);
	xs_close(s->xs);
	free(s);
}

static char *sx_read(void *h, const char *path)
{
	struct store_xs *s = h;
	unsigned len;
	char *v = xs_read(s->xs, s->t, path, &len);

	return v; /* libxenstore NUL-terminates */
}

static int sx_write(void *h, const char *path, const char *val)
{
	struct store_xs *s = h;

	return xs_write(s->xs, s->t, path, val, (unsigned)strlen(val)) ? 0 : -errno;
}

static int sx_rm(void *h, const char *path)
{
	struct store_xs *s = h;

	if (xs_rm(s->xs, s->t, path))
		return 0;
	return errno == ENOENT ? 0 : -errno;
}

static char **sx_list(void *h, const char *path, unsigned *n)
{
	struct store_xs *s = h;
	unsigned num = 0;
	char **d = xs_directory(s->xs, s->t, path, &num), **v;

	if (!d)
		return NULL;
	/* xs_directory returns one block; give back separately freeable strings. */
	v = calloc(num + 1, sizeof(*v));
	for (unsigned i = 0; v && i < num; i++)
		if (!(v[i] = strdup(d[i]))) {
			pci_strv_free(v);
			v = NULL;
		}
	free(d);
	if (!v) {
		errno = ENOMEM;
		return NULL;
	}
	if (n)
		*n = num;
	return v;
}

static int sx_mkdir_perms(void *h, const char *path, unsigned owner, unsigned reader)
{
	struct store_xs *s = h;
	struct xs_permissions p[2] = {
		{ .id = owner, .perms = XS_PERM_NONE },
		{ .id = reader, .perms = XS_PERM_READ },
	};

	if (!xs_mkdir(s->xs, s->t, path))
		return -errno;
	return xs_set_permissions(s->xs, s->t, path, p, 2) ? 0 : -errno;
}

static int sx_begin(void *h)
{
	struct store_xs *s = h;

	s->t = xs_transaction_start(s->xs);
	return s->t == XBT_NULL ? -errno : 0;
}

static int sx_commit(void *h, bool abort)
{
	struct store_xs *s = h;
	bool ok = xs_transaction_end(s->xs, s->t, abort);

	s->t = XBT_NULL;
	return ok ? 0 : -errno;
}

const struct pci_store_ops pci_store_xs = {
	.read = sx_read,
	.write = sx_write,
	.rm = sx_rm,
	.list = sx_list,
	.mkdir_perms = sx_mkdir_perms,
	.begin = sx_begin,
	.commit = sx_commit,
};
