#include "sim/xs_node.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* xenstored's record header: 64-bit generation and three 32-bit counts. */
enum { XS_RECORD_HDR_SIZE = 24, XS_RECORD_PERM_SIZE = 8 };

struct xs_node *xs_node_new(const char *name, const struct xs_perms *perms)
{
	struct xs_node *node = calloc(1, sizeof(*node));

	if (!node)
		return NULL;
	node->name = strdup(name);
	if (!node->name || xs_perms_copy(&node->perms, perms)) {
		free(node->name);
		free(node);
		return NULL;
	}
	node->generation = XS_NO_GENERATION;
	return node;
}

static void *memdup(const void *src, size_t len)
{
	void *p = malloc(len ? len : 1);

	if (p && len)
		memcpy(p, src, len);
	return p;
}

struct xs_node *xs_node_dup(const struct xs_node *node)
{
	struct xs_node *copy = xs_node_new(node->name, &node->perms);

	if (!copy)
		return NULL;
	copy->data = memdup(node->data, node->datalen);
	copy->children = memdup(node->children, node->childlen);
	if (!copy->data || !copy->children) {
		xs_node_free(copy);
		return NULL;
	}
	copy->datalen = node->datalen;
	copy->childlen = node->childlen;
	copy->generation = node->generation;
	return copy;
}

void xs_node_free(struct xs_node *node)
{
	if (!node)
		return;
	free(node->name);
	free(node->data);
	free(node->children);
	xs_perms_free(&node->perms);
	free(node);
}

void xs_node_free_cb(void *node)
{
	xs_node_free(node);
}

int xs_node_set_data(struct xs_node *node, const void *data, unsigned len)
{
	char *copy = memdup(data, len);

	if (!copy)
		return ENOMEM;
	free(node->data);
	node->data = copy;
	node->datalen = len;
	return 0;
}

int xs_node_add_child(struct xs_node *node, const char *base)
{
	size_t blen = strlen(base) + 1;
	char *c = realloc(node->children, node->childlen + blen);

	if (!c)
		return ENOMEM;
	memcpy(c + node->childlen, base, blen);
	node->children = c;
	node->childlen += (unsigned)blen;
	return 0;
}

bool xs_node_remove_child(struct xs_node *node, const char *base)
{
	unsigned off = 0;

	while (off < node->childlen) {
		char *name = node->children + off;
		unsigned len = (unsigned)strlen(name) + 1;

		if (!strcmp(name, base)) {
			memmove(name, name + len, node->childlen - off - len);
			node->childlen -= len;
			return true;
		}
		off += len;
	}
	return false;
}

size_t xs_node_record_size(const struct xs_node *node)
{
	return XS_RECORD_HDR_SIZE + (size_t)node->perms.num * XS_RECORD_PERM_SIZE +
	       node->datalen + node->childlen;
}
