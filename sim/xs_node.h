/* One xenstore node: value (binary, not NUL-terminated on the wire),
 * children as a NUL-separated list of base names (the XS_DIRECTORY reply
 * as is), permissions and the generation of its last write. */
#ifndef SIM_XS_NODE_H
#define SIM_XS_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/xs_perms.h"

#define XS_NO_GENERATION UINT64_MAX

struct xs_node {
	char *name;
	char *data;
	unsigned datalen;
	char *children;
	unsigned childlen;
	struct xs_perms perms;
	uint64_t generation;
};

/* Empty node with a copy of `perms`. NULL on ENOMEM. */
struct xs_node *xs_node_new(const char *name, const struct xs_perms *perms);
struct xs_node *xs_node_dup(const struct xs_node *node);
void xs_node_free(struct xs_node *node);
/* void * flavour for container destructors. */
void xs_node_free_cb(void *node);

int xs_node_set_data(struct xs_node *node, const void *data, unsigned len);
int xs_node_add_child(struct xs_node *node, const char *base);
/* Returns false when `base` is not a child. */
bool xs_node_remove_child(struct xs_node *node, const char *base);

static inline unsigned xs_node_owner(const struct xs_node *node)
{
	return node->perms.p[0].id;
}

/* The size xenstored stores for the node, which its per-node quota caps:
 * a record header, the permissions, the value and the children list. */
size_t xs_node_record_size(const struct xs_node *node);

#endif
