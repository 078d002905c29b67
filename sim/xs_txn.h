/* Transactions, the way xenstored does them since generation counts: a
 * transaction keeps its own copy of every node it touched (or "absent"),
 * with the generation that node had in the database at first access. A
 * commit succeeds only if every touched node still has that generation
 * (else EAGAIN), then writes the modified copies back and fires the watches
 * queued on the way.
 *
 * struct xs_db is the database as one request sees it: straight through to
 * the store, or through a transaction. */
#ifndef SIM_XS_TXN_H
#define SIM_XS_TXN_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/xs_store.h"

struct xs_map;

/* Node accessed in a transaction. */
struct xs_acc {
	struct xs_acc *next;
	char *name;
	struct xs_node *node;        /* the transaction's view; NULL = absent */
	uint64_t generation;         /* in the store at first access */
	struct xs_perms orig_perms;  /* num == 0 when it did not exist */
	bool modified;
	bool fire;                   /* a watch event is due at commit */
	bool exact;                  /* ... only for watches on this very node */
};

struct xs_txn {
	struct xs_txn *next;         /* the connection's list */
	uint32_t id;
	struct xs_map *by_name;
	struct xs_acc *head, **tail; /* access order, replayed at commit */
	unsigned naccessed;
	size_t bytes;                /* memory held by the copies, roughly */
	struct xs_counts delta;      /* node ownership changes per domain */
};

struct xs_txn *xs_txn_new(uint32_t id);
void xs_txn_free(struct xs_txn *txn);
/* Records that a watch must fire for `name` at commit; an inexact event
 * replaces an exact one, not the other way round. */
void xs_txn_queue_watch(struct xs_txn *txn, const char *name, bool exact);

/* Limits a transaction checks at commit. */
struct xs_txn_quota {
	unsigned domid;              /* the committing domain */
	int max_nodes_per_domain;    /* enforced on unprivileged domains */
};
typedef void xs_txn_fire_fn(void *ctx, const char *name, bool exact,
			    const struct xs_perms *orig_perms);
/* 0 (applied, watches fired through fire()), EAGAIN (conflict), ENOSPC
 * (node quota), ENOMEM. The transaction is left for the caller to free. */
int xs_txn_commit(struct xs_txn *txn, struct xs_store *st,
		  const struct xs_txn_quota *quota, xs_txn_fire_fn *fire, void *ctx);

struct xs_db {
	struct xs_store *store;
	struct xs_txn *txn;          /* NULL outside a transaction */
	unsigned max_txn_nodes;      /* accessed-node cap; 0 = none */
	size_t *txn_bytes;           /* the owner's total over its transactions */
	size_t max_txn_bytes;        /* cap on *txn_bytes; 0 = none */
};

/* The node or NULL with *err = ENOENT (or ENOSPC/ENOMEM in a transaction).
 * The pointer is valid until the next put/delete of that name. */
const struct xs_node *xs_db_get(struct xs_db *db, const char *name, int *err);
/* Takes ownership of node (also on error). Returns 0 or ENOMEM/ENOSPC. */
int xs_db_put(struct xs_db *db, struct xs_node *node);
/* Removes one node. Returns 0 or ENOMEM/ENOSPC. */
int xs_db_delete(struct xs_db *db, const char *name);
/* Nodes domid owns as the request sees it. */
int xs_db_count(const struct xs_db *db, unsigned domid);

#endif
