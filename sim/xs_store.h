/* The emulator's xenstore database outside any transaction: nodes by full
 * name, the global generation counter (each write stamps the node with a
 * fresh value, which is what transactions compare), and how many nodes each
 * domain owns (the per-domain node quota). */
#ifndef SIM_XS_STORE_H
#define SIM_XS_STORE_H

#include <stdint.h>

#include "sim/xs_node.h"

struct xs_map;

/* A small domid -> signed count table (node counts, transaction deltas). */
struct xs_domcount {
	unsigned domid;
	int count;
};
struct xs_counts {
	struct xs_domcount *v;
	unsigned n;
};
/* Returns 0 or ENOMEM. */
int xs_counts_add(struct xs_counts *c, unsigned domid, int delta);
int xs_counts_get(const struct xs_counts *c, unsigned domid);
void xs_counts_free(struct xs_counts *c);

struct xs_store {
	struct xs_map *nodes;
	uint64_t generation;
	struct xs_counts owned;
};

/* Creates the root "/" owned by domain 0 with no access for others.
 * Returns 0 or ENOMEM. */
int xs_store_init(struct xs_store *st);
void xs_store_fini(struct xs_store *st);

const struct xs_node *xs_store_get(const struct xs_store *st, const char *name);
/* Takes ownership of node (also on error), replaces any node of that name
 * and stamps a new generation. Returns 0 or ENOMEM. */
int xs_store_put(struct xs_store *st, struct xs_node *node);
/* Removes one node (not its children); absent is fine. */
void xs_store_delete(struct xs_store *st, const char *name);
/* Nodes owned by domid. */
int xs_store_count(const struct xs_store *st, unsigned domid);
/* malloc'd array of malloc'd names of the nodes domid owns, ancestors
 * before descendants; NULL with *n = 0 when there are none or on ENOMEM. */
char **xs_store_owned_by(const struct xs_store *st, unsigned domid, unsigned *n);
/* Drops domid's own entries (not ownership) from every permission list,
 * so that a later domain with the same id inherits nothing. Not a change
 * of the nodes: generations stay. */
void xs_store_forget_domid(struct xs_store *st, unsigned domid);

#endif
