/* Node operations with xenstored's permission and quota rules. Every
 * operation checks all it can before it changes anything, so an error
 * leaves the database (or the transaction's view) as it was. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim/xs_path.h"
#include "sim/xs_server_priv.h"

void xs_req_init(struct xs_req *req, struct xs_server *srv, struct xs_conn *conn,
		 struct xs_txn *txn)
{
	req->srv = srv;
	req->conn = conn;
	req->domid = conn ? conn->domid : 0;
	req->db.store = &srv->store;
	req->db.txn = txn;
	req->db.max_txn_nodes = 0;
	req->db.txn_bytes = conn ? &conn->txn_bytes : NULL;
	req->db.max_txn_bytes = 0;
	/* The privileged domain is trusted with any transaction size. */
	if (!xs_domid_is_privileged(req->domid)) {
		req->db.max_txn_nodes = srv->limits.txn_nodes;
		req->db.max_txn_bytes = srv->limits.txn_bytes;
	}
	req->hdr = NULL;
}

static bool unprivileged(const struct xs_req *req)
{
	return !xs_domid_is_privileged(req->domid);
}

/* A guest may be let into a node without being let into its parents. When
 * a lookup fails, the error must not tell more about the node than the
 * nearest existing ancestor's permissions allow: EACCES unless the caller
 * has some of the wanted access there. */
static int errno_from_parents(struct xs_req *req, const char *name, int err,
			      unsigned perm)
{
	char *cur = strdup(name);
	const struct xs_node *anc = NULL;
	int e;

	if (!cur)
		return ENOMEM;
	while (strcmp(cur, "/")) {
		char *parent = xs_path_parent(cur);

		free(cur);
		cur = parent;
		if (!cur)
			return ENOMEM;
		anc = xs_db_get(&req->db, cur, &e);
		if (anc)
			break;
		if (e != ENOENT) {
			free(cur);
			return e;
		}
	}
	free(cur);
	if (anc && (xs_perms_for(&anc->perms, req->domid) & perm))
		return err;
	return EACCES;
}

const struct xs_node *xs_op_get(struct xs_req *req, const char *name,
				unsigned perm, int *err)
{
	const struct xs_node *node;

	if (!xs_path_is_valid(name)) {
		*err = EINVAL;
		return NULL;
	}
	node = xs_db_get(&req->db, name, err);
	if (node && (xs_perms_for(&node->perms, req->domid) & perm) != perm) {
		*err = EACCES;
		node = NULL;
	}
	if (!node && *err != ENOMEM && *err != ENOSPC)
		*err = errno_from_parents(req, name, *err, perm);
	return node;
}

static bool entry_too_big(const struct xs_req *req, const struct xs_node *node)
{
	return unprivileged(req) &&
	       xs_node_record_size(node) >= req->srv->limits.max_entry_size;
}

/* Creates `name` and its missing ancestors, each inheriting its parent's
 * permissions, with the creator as owner when it is unprivileged. */
static int create_node(struct xs_req *req, const char *name, const void *data,
		       unsigned len)
{
	struct xs_node **chain = NULL;  /* [0] existing ancestor's copy, then new */
	char **names = NULL;            /* names[0] = name, then parents */
	size_t nnames = 0, i;
	const struct xs_node *anc = NULL;
	int err = 0;

	/* Walk up to the nearest existing ancestor ("/" always exists). */
	for (const char *cur = name; !anc;) {
		char **n = realloc(names, (nnames + 1) * sizeof(*names));

		if (!n) {
			err = ENOMEM;
			goto out;
		}
		names = n;
		names[nnames] = xs_path_parent(cur);
		if (!names[nnames]) {
			err = ENOMEM;
			goto out;
		}
		cur = names[nnames++];
		anc = xs_db_get(&req->db, cur, &err);
		if (!anc && err != ENOENT)
			goto out;
	}
	/* names[nnames-1] is the ancestor; nnames nodes are new, the last
	 * being `name` itself. */
	if (unprivileged(req) &&
	    xs_db_count(&req->db, req->domid) + (int)nnames >
		    req->srv->limits.nodes_per_domain) {
		err = ENOSPC;
		goto out;
	}
	chain = calloc(nnames + 1, sizeof(*chain));
	if (!chain || !(chain[0] = xs_node_dup(anc))) {
		err = ENOMEM;
		goto out;
	}
	for (i = 1; i <= nnames; i++) {
		const char *nm = i == nnames ? name : names[nnames - 1 - i];
		struct xs_node *parent = chain[i - 1];

		chain[i] = xs_node_new(nm, &parent->perms);
		if (!chain[i] || xs_node_add_child(parent, xs_path_basename(nm))) {
			err = ENOMEM;
			goto out;
		}
		if (unprivileged(req))
			chain[i]->perms.p[0].id = req->domid;
	}
	if (xs_node_set_data(chain[nnames], data, len)) {
		err = ENOMEM;
		goto out;
	}
	for (i = 0; i <= nnames; i++)
		if (entry_too_big(req, chain[i])) {
			err = ENOSPC;
			goto out;
		}
	for (i = 0; i <= nnames; i++) {
		err = xs_db_put(&req->db, chain[i]);
		chain[i] = NULL;
		if (err)
			goto out;
	}
out:
	if (chain)
		for (i = 0; i <= nnames; i++)
			xs_node_free(chain[i]);
	free(chain);
	for (i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	return err;
}

int xs_op_write(struct xs_req *req, const char *name, const void *data,
		unsigned len)
{
	const struct xs_node *node;
	struct xs_node *copy;
	int err;

	node = xs_op_get(req, name, XS_PERM_WRITE, &err);
	if (!node) {
		if (err != ENOENT)
			return err;
		err = create_node(req, name, data, len);
	} else {
		copy = xs_node_dup(node);
		if (!copy || xs_node_set_data(copy, data, len)) {
			xs_node_free(copy);
			return ENOMEM;
		}
		if (entry_too_big(req, copy)) {
			xs_node_free(copy);
			return ENOSPC;
		}
		err = xs_db_put(&req->db, copy);
	}
	if (!err)
		xs_req_fire(req, name, false, NULL);
	return err;
}

int xs_op_mkdir(struct xs_req *req, const char *name)
{
	int err;

	if (xs_op_get(req, name, XS_PERM_WRITE, &err))
		return 0;
	if (err != ENOENT)
		return err;
	err = create_node(req, name, NULL, 0);
	if (!err)
		xs_req_fire(req, name, false, NULL);
	return err;
}

/* Depth first, children before their parent, as xenstored does; each node
 * fires while its permissions can still be seen: the removed node for
 * watches on it and above, descendants only for watches on themselves. */
static int rm_tree(struct xs_req *req, const char *name, bool top)
{
	const struct xs_node *node;
	char *children;
	unsigned childlen;
	int err;

	node = xs_db_get(&req->db, name, &err);
	if (!node)
		return err == ENOENT ? 0 : err;
	childlen = node->childlen;
	children = malloc(childlen + 1);
	if (!children)
		return ENOMEM;
	if (childlen) /* a leaf has no children array (memcpy from NULL is UB) */
		memcpy(children, node->children, childlen);
	for (unsigned off = 0; off < childlen;) {
		char *child = xs_path_child(name, children + off);

		off += (unsigned)strlen(children + off) + 1;
		if (!child) {
			free(children);
			return ENOMEM;
		}
		err = rm_tree(req, child, false);
		free(child);
		if (err) {
			free(children);
			return err;
		}
	}
	free(children);
	node = xs_db_get(&req->db, name, &err);
	if (!node)
		return err == ENOENT ? 0 : err;
	xs_req_fire(req, name, !top, &node->perms);
	return xs_db_delete(&req->db, name);
}

int xs_op_rm(struct xs_req *req, const char *name)
{
	const struct xs_node *node, *parent;
	struct xs_node *pcopy;
	char *pname;
	int err;

	node = xs_op_get(req, name, XS_PERM_WRITE, &err);
	if (!node && err != ENOENT)
		return err;
	if (node && !strcmp(name, "/"))
		return EINVAL;
	pname = xs_path_parent(name);
	if (!pname)
		return ENOMEM;
	parent = xs_db_get(&req->db, pname, &err);
	free(pname);
	if (!node)  /* gone already: fine if the parent is there */
		return parent ? 0 : (err == ENOENT ? ENOENT : err);
	if (!parent)
		return err == ENOENT ? EINVAL : err;
	pcopy = xs_node_dup(parent);
	if (!pcopy)
		return ENOMEM;
	xs_node_remove_child(pcopy, xs_path_basename(name));
	err = rm_tree(req, name, true);
	if (err) {
		xs_node_free(pcopy);
		return err;
	}
	return xs_db_put(&req->db, pcopy);
}

struct xs_perms *xs_special_perms(struct xs_server *srv, const char *name)
{
	if (!strcmp(name, "@introduceDomain"))
		return &srv->introduce_perms;
	if (!strcmp(name, "@releaseDomain"))
		return &srv->release_perms;
	return NULL;
}

static int set_special_perms(struct xs_req *req, const char *name,
			     const struct xs_perms *perms)
{
	const unsigned need = XS_PERM_WRITE | XS_PERM_OWNER;
	struct xs_perms *sp = xs_special_perms(req->srv, name);
	struct xs_perms copy;

	if (!sp)
		return EINVAL;
	if ((xs_perms_for(sp, req->domid) & need) != need)
		return EACCES;
	if (xs_perms_copy(&copy, perms))
		return ENOMEM;
	xs_perms_free(sp);
	*sp = copy;
	return 0;
}

int xs_op_set_perms(struct xs_req *req, const char *name,
		    const struct xs_perms *perms)
{
	const struct xs_node *node;
	struct xs_node *copy;
	struct xs_perms old;
	int err;

	if (unprivileged(req) && perms->num > req->srv->limits.perms_per_node)
		return ENOSPC;
	if (xs_path_is_special(name))
		return set_special_perms(req, name, perms);
	node = xs_op_get(req, name, XS_PERM_WRITE | XS_PERM_OWNER, &err);
	if (!node)
		return err;
	if (unprivileged(req) && perms->p[0].id != xs_node_owner(node))
		return EPERM;
	copy = xs_node_dup(node);
	if (!copy)
		return ENOMEM;
	old = copy->perms;
	if (xs_perms_copy(&copy->perms, perms)) {
		copy->perms = old;
		xs_node_free(copy);
		return ENOMEM;
	}
	if (entry_too_big(req, copy)) {
		xs_perms_free(&old);
		xs_node_free(copy);
		return ENOSPC;
	}
	err = xs_db_put(&req->db, copy);
	if (!err) {
		if (req->db.txn)
			xs_req_fire(req, name, false, NULL);
		else
			xs_watch_fire(req->srv, name, false, NULL, &old);
	}
	xs_perms_free(&old);
	return err;
}
