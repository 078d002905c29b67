#include "sim/xs_txn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim/xs_map.h"

struct xs_txn *xs_txn_new(uint32_t id)
{
	struct xs_txn *txn = calloc(1, sizeof(*txn));

	if (!txn)
		return NULL;
	txn->by_name = xs_map_new();
	if (!txn->by_name) {
		free(txn);
		return NULL;
	}
	txn->id = id;
	txn->tail = &txn->head;
	return txn;
}

void xs_txn_free(struct xs_txn *txn)
{
	struct xs_acc *a, *next;

	if (!txn)
		return;
	for (a = txn->head; a; a = next) {
		next = a->next;
		free(a->name);
		xs_node_free(a->node);
		xs_perms_free(&a->orig_perms);
		free(a);
	}
	xs_map_free(txn->by_name, NULL);
	xs_counts_free(&txn->delta);
	free(txn);
}

/* First access: remember what the database holds now. */
static struct xs_acc *txn_access(struct xs_db *db, const char *name, int *err)
{
	struct xs_txn *txn = db->txn;
	struct xs_acc *a = xs_map_get(txn->by_name, name);
	const struct xs_node *cur;
	size_t size;

	if (a)
		return a;
	if (db->max_txn_nodes && txn->naccessed >= db->max_txn_nodes) {
		*err = ENOSPC;
		return NULL;
	}
	cur = xs_store_get(db->store, name);
	size = sizeof(*a) + strlen(name) + (cur ? xs_node_record_size(cur) : 0);
	if (db->txn_bytes && db->max_txn_bytes &&
	    *db->txn_bytes + size > db->max_txn_bytes) {
		*err = ENOSPC;
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		goto nomem;
	a->name = strdup(name);
	if (!a->name)
		goto nomem;
	a->generation = cur ? cur->generation : XS_NO_GENERATION;
	if (cur && (!(a->node = xs_node_dup(cur)) ||
		    xs_perms_copy(&a->orig_perms, &cur->perms)))
		goto nomem;
	if (xs_map_put(txn->by_name, name, a, NULL))
		goto nomem;
	*txn->tail = a;
	txn->tail = &a->next;
	txn->naccessed++;
	txn->bytes += size;
	if (db->txn_bytes)
		*db->txn_bytes += size;
	return a;
nomem:
	if (a) {
		free(a->name);
		xs_node_free(a->node);
		xs_perms_free(&a->orig_perms);
		free(a);
	}
	*err = ENOMEM;
	return NULL;
}

void xs_txn_queue_watch(struct xs_txn *txn, const char *name, bool exact)
{
	struct xs_acc *a = xs_map_get(txn->by_name, name);

	/* Every fired name was written or deleted, so accessed before. */
	if (!a)
		return;
	if (!a->fire) {
		a->fire = true;
		a->exact = exact;
	} else if (!exact) {
		a->exact = false;
	}
}

int xs_txn_commit(struct xs_txn *txn, struct xs_store *st,
		  const struct xs_txn_quota *quota, xs_txn_fire_fn *fire, void *ctx)
{
	struct xs_acc *a;

	for (a = txn->head; a; a = a->next) {
		const struct xs_node *cur = xs_store_get(st, a->name);
		uint64_t gen = cur ? cur->generation : XS_NO_GENERATION;

		if (gen != a->generation)
			return EAGAIN;
	}
	if (!xs_domid_is_privileged(quota->domid)) {
		for (unsigned i = 0; i < txn->delta.n; i++) {
			const struct xs_domcount *d = &txn->delta.v[i];

			if (d->count > 0 && !xs_domid_is_privileged(d->domid) &&
			    xs_store_count(st, d->domid) + d->count >
				    quota->max_nodes_per_domain)
				return ENOSPC;
		}
	}
	for (a = txn->head; a; a = a->next) {
		if (!a->modified)
			continue;
		if (a->node) {
			int ret = xs_store_put(st, a->node);

			a->node = NULL; /* the store owns it now */
			if (ret)
				return ret;
		} else {
			xs_store_delete(st, a->name);
		}
	}
	for (a = txn->head; a; a = a->next)
		if (a->fire)
			fire(ctx, a->name, a->exact,
			     a->orig_perms.num ? &a->orig_perms : NULL);
	return 0;
}

const struct xs_node *xs_db_get(struct xs_db *db, const char *name, int *err)
{
	const struct xs_node *node;
	struct xs_acc *a;

	if (!db->txn) {
		node = xs_store_get(db->store, name);
		if (!node)
			*err = ENOENT;
		return node;
	}
	a = txn_access(db, name, err);
	if (!a)
		return NULL;
	if (!a->node)
		*err = ENOENT;
	return a->node;
}

static int count_change(struct xs_txn *txn, const struct xs_node *old,
			const struct xs_node *new)
{
	if (old && xs_counts_add(&txn->delta, xs_node_owner(old), -1))
		return ENOMEM;
	if (new && xs_counts_add(&txn->delta, xs_node_owner(new), 1)) {
		if (old)
			xs_counts_add(&txn->delta, xs_node_owner(old), 1);
		return ENOMEM;
	}
	return 0;
}

int xs_db_put(struct xs_db *db, struct xs_node *node)
{
	struct xs_acc *a;
	int err;

	if (!db->txn)
		return xs_store_put(db->store, node);
	a = txn_access(db, node->name, &err);
	if (!a || (err = count_change(db->txn, a->node, node))) {
		xs_node_free(node);
		return err;
	}
	xs_node_free(a->node);
	a->node = node;
	a->modified = true;
	return 0;
}

int xs_db_delete(struct xs_db *db, const char *name)
{
	struct xs_acc *a;
	int err;

	if (!db->txn) {
		xs_store_delete(db->store, name);
		return 0;
	}
	a = txn_access(db, name, &err);
	if (!a || (err = count_change(db->txn, a->node, NULL)))
		return err;
	xs_node_free(a->node);
	a->node = NULL;
	a->modified = true;
	return 0;
}

int xs_db_count(const struct xs_db *db, unsigned domid)
{
	int n = xs_store_count(db->store, domid);

	if (db->txn)
		n += xs_counts_get(&db->txn->delta, domid);
	return n;
}
