/* Watches: registration per connection and event delivery to every
 * connection whose domain may read the changed node. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim/xs_path.h"
#include "sim/xs_server_priv.h"

static void watch_free(struct xs_watch *w)
{
	free(w->node);
	free(w->token);
	free(w);
}

/* Name as the watcher registered it: relative watches drop the home. */
static const char *watch_path(const struct xs_conn *conn,
			      const struct xs_watch *w, const char *name)
{
	if (!w->relative)
		return name;
	name += strlen(conn->home);
	return *name == '/' ? name + 1 : name;
}

int xs_watch_add(struct xs_conn *conn, const char *path, const char *token)
{
	bool relative = path[0] != '/' && path[0] != '@';
	struct xs_watch *w, **tail;
	char *node;

	if (xs_path_is_special(path)) {
		if (strlen(path) > XENSTORE_REL_PATH_MAX)
			return EINVAL;
	}
	node = xs_path_canonical(conn->domid, path);
	if (!node)
		return ENOMEM;
	if (!xs_path_is_special(node) && !xs_path_is_valid(node)) {
		free(node);
		return EINVAL;
	}
	for (w = conn->watches; w; w = w->next)
		if (!strcmp(w->node, node) && !strcmp(w->token, token)) {
			free(node);
			return EEXIST;
		}
	if (!xs_domid_is_privileged(conn->domid) &&
	    conn->dom->nwatches >= conn->srv->limits.watches_per_domain) {
		free(node);
		return E2BIG;
	}
	w = calloc(1, sizeof(*w));
	if (!w || !(w->token = strdup(token))) {
		free(w);
		free(node);
		return ENOMEM;
	}
	w->node = node;
	w->relative = relative;
	/* Append: events of one change reach watches in registration order. */
	tail = &conn->watches;
	while (*tail)
		tail = &(*tail)->next;
	*tail = w;
	conn->nwatches++;
	conn->dom->nwatches++;
	return 0;
}

int xs_watch_remove(struct xs_conn *conn, const char *path, const char *token)
{
	char *node = xs_path_canonical(conn->domid, path);
	struct xs_watch **p;

	if (!node)
		return ENOMEM;
	for (p = &conn->watches; *p; p = &(*p)->next) {
		struct xs_watch *w = *p;

		if (!strcmp(w->node, node) && !strcmp(w->token, token)) {
			*p = w->next;
			watch_free(w);
			conn->nwatches--;
			conn->dom->nwatches--;
			free(node);
			return 0;
		}
	}
	free(node);
	return ENOENT;
}

void xs_watch_remove_all(struct xs_conn *conn)
{
	while (conn->watches) {
		struct xs_watch *w = conn->watches;

		conn->watches = w->next;
		watch_free(w);
	}
	if (conn->dom)
		conn->dom->nwatches -= conn->nwatches;
	conn->nwatches = 0;
}

/* xenstored lets a domain see a change if it may read the permissions it
 * had before (a permission change or a transaction), the node as it is,
 * or else the node's parent (which covers removed nodes). */
static bool watch_permitted(struct xs_server *srv, unsigned domid,
			    const char *name, const struct xs_perms *node_perms,
			    const struct xs_perms *old_perms)
{
	const struct xs_node *node, *parent;
	char *pname;
	bool ok;

	if (old_perms && (xs_perms_for(old_perms, domid) & XS_PERM_READ))
		return true;
	if (!node_perms) {
		node = xs_store_get(&srv->store, name);
		if (!node)
			return false;
		node_perms = &node->perms;
	}
	if (xs_perms_for(node_perms, domid) & XS_PERM_READ)
		return true;
	if (!strcmp(name, "/"))
		return false;
	pname = xs_path_parent(name);
	if (!pname)
		return false;
	parent = xs_store_get(&srv->store, pname);
	free(pname);
	ok = parent && (xs_perms_for(&parent->perms, domid) & XS_PERM_READ);
	return ok;
}

void xs_watch_fire(struct xs_server *srv, const char *name, bool exact,
		   const struct xs_perms *node_perms,
		   const struct xs_perms *old_perms)
{
	struct xs_conn *c, *next;

	/* Queueing can drop a connection (no memory), which relinks it. */
	for (c = srv->conns; c; c = next) {
		next = c->next;
		if (xs_path_is_special(name)) {
			const struct xs_perms *sp = xs_special_perms(srv, name);

			if (!sp || !(xs_perms_for(sp, c->domid) & XS_PERM_READ))
				continue;
		} else if (!watch_permitted(srv, c->domid, name, node_perms,
					    old_perms)) {
			continue;
		}
		for (struct xs_watch *w = c->watches; w; w = w->next) {
			bool match = exact ? !strcmp(name, w->node)
					   : xs_path_is_below(name, w->node);

			if (match)
				xs_conn_event(c, watch_path(c, w, name), w->token);
		}
	}
}

void xs_req_fire(struct xs_req *req, const char *name, bool exact,
		 const struct xs_perms *node_perms)
{
	if (req->db.txn)
		xs_txn_queue_watch(req->db.txn, name, exact);
	else
		xs_watch_fire(req->srv, name, exact, node_perms, NULL);
}
