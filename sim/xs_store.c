#include "sim/xs_store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim/xs_map.h"

static struct xs_domcount *counts_find(const struct xs_counts *c, unsigned domid)
{
	for (unsigned i = 0; i < c->n; i++)
		if (c->v[i].domid == domid)
			return &c->v[i];
	return NULL;
}

int xs_counts_add(struct xs_counts *c, unsigned domid, int delta)
{
	struct xs_domcount *d = counts_find(c, domid), *v;

	if (!d) {
		v = realloc(c->v, (c->n + 1) * sizeof(*v));
		if (!v)
			return ENOMEM;
		c->v = v;
		d = &v[c->n++];
		d->domid = domid;
		d->count = 0;
	}
	d->count += delta;
	return 0;
}

int xs_counts_get(const struct xs_counts *c, unsigned domid)
{
	const struct xs_domcount *d = counts_find(c, domid);

	return d ? d->count : 0;
}

void xs_counts_free(struct xs_counts *c)
{
	free(c->v);
	c->v = NULL;
	c->n = 0;
}

int xs_store_init(struct xs_store *st)
{
	struct xs_perms perms;
	struct xs_node *root;

	st->generation = 0;
	st->owned.v = NULL;
	st->owned.n = 0;
	st->nodes = xs_map_new();
	if (!st->nodes)
		return ENOMEM;
	if (xs_perms_single(&perms, 0, XS_PERM_NONE))
		goto nomem;
	root = xs_node_new("/", &perms);
	xs_perms_free(&perms);
	if (!root || xs_store_put(st, root))
		goto nomem;
	return 0;
nomem:
	xs_store_fini(st);
	return ENOMEM;
}

void xs_store_fini(struct xs_store *st)
{
	xs_map_free(st->nodes, xs_node_free_cb);
	st->nodes = NULL;
	xs_counts_free(&st->owned);
}

const struct xs_node *xs_store_get(const struct xs_store *st, const char *name)
{
	return xs_map_get(st->nodes, name);
}

int xs_store_put(struct xs_store *st, struct xs_node *node)
{
	void *old;

	/* Make sure the count slot exists first so that nothing can fail
	 * after the map changed. */
	if (xs_counts_add(&st->owned, xs_node_owner(node), 0) ||
	    xs_map_put(st->nodes, node->name, node, &old)) {
		xs_node_free(node);
		return ENOMEM;
	}
	if (old) {
		xs_counts_add(&st->owned, xs_node_owner(old), -1);
		xs_node_free(old);
	}
	xs_counts_add(&st->owned, xs_node_owner(node), 1);
	node->generation = ++st->generation;
	return 0;
}

void xs_store_delete(struct xs_store *st, const char *name)
{
	struct xs_node *old = xs_map_remove(st->nodes, name);

	if (!old)
		return;
	xs_counts_add(&st->owned, xs_node_owner(old), -1);
	xs_node_free(old);
	/* A delete is a change too: transactions that saw the node before
	 * compare against "absent" from now on. */
	++st->generation;
}

int xs_store_count(const struct xs_store *st, unsigned domid)
{
	return xs_counts_get(&st->owned, domid);
}

struct owned_walk {
	unsigned domid;
	char **names;
	unsigned n, cap;
	bool nomem;
};

static void collect_owned(const char *key, void *val, void *ctx)
{
	struct owned_walk *w = ctx;
	char **v;

	if (w->nomem || xs_node_owner(val) != w->domid)
		return;
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 16;
		v = realloc(w->names, w->cap * sizeof(*v));
		if (!v) {
			w->nomem = true;
			return;
		}
		w->names = v;
	}
	w->names[w->n] = strdup(key);
	if (!w->names[w->n])
		w->nomem = true;
	else
		w->n++;
}

static int shorter_first(const void *a, const void *b)
{
	size_t la = strlen(*(char *const *)a), lb = strlen(*(char *const *)b);

	return la < lb ? -1 : la > lb;
}

char **xs_store_owned_by(const struct xs_store *st, unsigned domid, unsigned *n)
{
	struct owned_walk w = { .domid = domid };

	xs_map_foreach(st->nodes, collect_owned, &w);
	if (w.nomem) {
		while (w.n)
			free(w.names[--w.n]);
		free(w.names);
		*n = 0;
		return NULL;
	}
	/* An ancestor's name is shorter than its descendants'. */
	if (w.n)
		qsort(w.names, w.n, sizeof(*w.names), shorter_first);
	*n = w.n;
	return w.names;
}

static void forget_in_node(const char *key, void *val, void *ctx)
{
	struct xs_node *node = val;

	xs_perms_drop_domid(&node->perms, *(unsigned *)ctx);
}

void xs_store_forget_domid(struct xs_store *st, unsigned domid)
{
	xs_map_foreach(st->nodes, forget_in_node, &domid);
}
