/* In-memory xenstore; see memstore.h. */
#include "tests/pci/memstore.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ms_node {
	char *path, *val;
};

struct memstore {
	struct ms_node *n;
	size_t nn;
	struct crash_plan *crash;
};

struct memstore *ms_new(void)
{
	struct memstore *m = calloc(1, sizeof(*m));
	if (!m)
		abort();
	return m;
}

void ms_free(struct memstore *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nn; i++) {
		free(m->n[i].path);
		free(m->n[i].val);
	}
	free(m->n);
	free(m);
}

void ms_set_crash(struct memstore *m, struct crash_plan *c)
{
	m->crash = c;
}

static struct ms_node *find(struct memstore *m, const char *path)
{
	for (size_t i = 0; i < m->nn; i++)
		if (!strcmp(m->n[i].path, path))
			return &m->n[i];
	return NULL;
}

const char *ms_get(struct memstore *m, const char *path)
{
	struct ms_node *n = find(m, path);
	return n ? n->val : NULL;
}

void ms_put(struct memstore *m, const char *path, const char *val)
{
	struct ms_node *n = find(m, path);
	const char *slash = strrchr(path, '/');

	if (slash && slash != path) {
		char parent[512];
		snprintf(parent, sizeof(parent), "%.*s", (int)(slash - path), path);
		if (!find(m, parent))
			ms_put(m, parent, "");
	}
	if (!n) {
		m->n = realloc(m->n, (m->nn + 1) * sizeof(*m->n));
		if (!m->n)
			abort();
		n = &m->n[m->nn++];
		n->path = strdup(path);
		n->val = NULL;
	}
	free(n->val);
	n->val = strdup(val);
	if (!n->path || !n->val)
		abort();
}

static bool under(const char *p, const char *top)
{
	size_t n = strlen(top);
	return !strncmp(p, top, n) && (p[n] == 0 || p[n] == '/');
}

int ms_count(struct memstore *m, const char *path)
{
	int c = 0;
	for (size_t i = 0; i < m->nn; i++)
		c += under(m->n[i].path, path);
	return c;
}

static char *s_read(void *h, const char *path)
{
	struct memstore *m = h;
	const char *v;

	if (crash_dead(m->crash)) {
		errno = ECANCELED;
		return NULL;
	}
	v = ms_get(m, path);
	if (!v) {
		errno = ENOENT;
		return NULL;
	}
	return strdup(v);
}

static int s_write(void *h, const char *path, const char *val)
{
	struct memstore *m = h;
	int c = crash_step(m->crash);

	if (c < 0)
		return -ECANCELED;
	ms_put(m, path, val);
	return c ? -ECANCELED : 0;
}

static int s_rm(void *h, const char *path)
{
	struct memstore *m = h;
	int c = crash_step(m->crash);

	if (c < 0)
		return -ECANCELED;
	for (size_t i = 0; i < m->nn;) {
		if (under(m->n[i].path, path)) {
			free(m->n[i].path);
			free(m->n[i].val);
			m->n[i] = m->n[--m->nn];
		} else {
			i++;
		}
	}
	return c ? -ECANCELED : 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **s_list(void *h, const char *path, unsigned *n)
{
	struct memstore *m = h;
	size_t len = strlen(path), k = 0;
	char **v;

	if (crash_dead(m->crash)) {
		errno = ECANCELED;
		return NULL;
	}
	if (!find(m, path)) {
		errno = ENOENT;
		return NULL;
	}
	v = calloc(m->nn + 1, sizeof(*v));
	if (!v)
		abort();
	for (size_t i = 0; i < m->nn; i++) {
		const char *p = m->n[i].path;
		if (!strncmp(p, path, len) && p[len] == '/' && !strchr(p + len + 1, '/'))
			v[k++] = strdup(p + len + 1);
	}
	qsort(v, k, sizeof(*v), cmp_str);
	if (n)
		*n = (unsigned)k;
	return v;
}

static int s_mkdir_perms(void *h, const char *path, unsigned owner, unsigned reader)
{
	struct memstore *m = h;
	int c = crash_step(m->crash);

	if (c < 0)
		return -ECANCELED;
	if (!find(m, path))
		ms_put(m, path, "");
	return c ? -ECANCELED : 0;
}

static int s_begin(void *h)
{
	return crash_dead(((struct memstore *)h)->crash) ? -ECANCELED : 0;
}

static int s_commit(void *h, bool abort_)
{
	return crash_dead(((struct memstore *)h)->crash) ? -ECANCELED : 0;
}

const struct pci_store_ops memstore_ops = {
	.read = s_read,
	.write = s_write,
	.rm = s_rm,
	.list = s_list,
	.mkdir_perms = s_mkdir_perms,
	.begin = s_begin,
	.commit = s_commit,
};
