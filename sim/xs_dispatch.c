/* Wire requests (xen/io/xs_wire.h): argument parsing, the transaction the
 * request names, privilege, and the reply. Table-driven like xenstored's
 * wire_funcs; a type without a handler is answered ENOSYS. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/xs_path.h"
#include "sim/xs_server_priv.h"

/* DOMID_SELF from xen.h, which these tools headers do not pull in. */
#define XS_DOMID_SELF 0x7FF0U

struct xs_msg {
	const struct xsd_sockmsg *hdr;
	char *body;           /* NUL-terminated one byte past len */
	unsigned len;
};

typedef int xs_handler(struct xs_req *req, const struct xs_msg *msg);

/* Number of NUL bytes in the payload: the strings it carries. */
static unsigned count_strings(const struct xs_msg *msg)
{
	unsigned n = 0;

	for (unsigned i = 0; i < msg->len; i++)
		n += msg->body[i] == '\0';
	return n;
}

/* The single argument, which must end exactly at the payload's end. */
static const char *one_arg(const struct xs_msg *msg)
{
	if (!msg->len || strlen(msg->body) + 1 != msg->len)
		return NULL;
	return msg->body;
}

static char *canonical_arg(struct xs_req *req, const char *arg, int *err)
{
	char *name;

	if (!arg) {
		*err = EINVAL;
		return NULL;
	}
	name = xs_path_canonical(req->domid, arg);
	if (!name)
		*err = ENOMEM;
	return name;
}

static void reply(struct xs_req *req, const void *data, unsigned len)
{
	xs_conn_reply(req->conn, req->hdr, req->hdr->type, data, len);
}

static void ack(struct xs_req *req)
{
	reply(req, "OK", sizeof("OK"));
}

/* Reads that reply with (part of) a node. */
static const struct xs_node *get_arg_node(struct xs_req *req, const char *arg,
					  unsigned perm, int *err)
{
	char *name = canonical_arg(req, arg, err);
	const struct xs_node *node;

	if (!name)
		return NULL;
	node = xs_op_get(req, name, perm, err);
	free(name);
	return node;
}

static int do_read(struct xs_req *req, const struct xs_msg *msg)
{
	int err;
	const struct xs_node *node = get_arg_node(req, one_arg(msg),
						  XS_PERM_READ, &err);

	if (!node)
		return err;
	reply(req, node->data, node->datalen);
	return 0;
}

static int do_directory(struct xs_req *req, const struct xs_msg *msg)
{
	int err;
	const struct xs_node *node = get_arg_node(req, one_arg(msg),
						  XS_PERM_READ, &err);

	if (!node)
		return err;
	reply(req, node->children, node->childlen);
	return 0;
}

/* "path\0offset\0" -> "generation\0" then as many children as fit, and
 * one more NUL when the list ends in this part. */
static int do_directory_part(struct xs_req *req, const struct xs_msg *msg)
{
	const struct xs_node *node;
	char gen[24], *data;
	unsigned off, len = 0, genlen, maxlen;
	int err;

	if (count_strings(msg) != 2)
		return EINVAL;
	node = get_arg_node(req, msg->body, XS_PERM_READ, &err);
	if (!node)
		return err;
	off = (unsigned)strtoul(msg->body + strlen(msg->body) + 1, NULL, 10);
	genlen = (unsigned)snprintf(gen, sizeof(gen), "%" PRIu64,
				    node->generation) + 1;
	if (off >= node->childlen) {
		char end[sizeof(gen) + 1];

		memcpy(end, gen, genlen);
		end[genlen] = '\0';
		reply(req, end, genlen + 1);
		return 0;
	}
	maxlen = XENSTORE_PAYLOAD_MAX - genlen - 1;
	/* Only whole names, starting where the client says (as xenstored,
	 * an offset inside a name yields its tail). */
	while (off + len < node->childlen) {
		unsigned l = (unsigned)strlen(node->children + off + len) + 1;

		if (len + l > maxlen)
			break;
		len += l;
	}
	data = malloc(genlen + len + 1);
	if (!data)
		return ENOMEM;
	memcpy(data, gen, genlen);
	memcpy(data + genlen, node->children + off, len);
	if (off + len == node->childlen)
		data[genlen + len++] = '\0';
	reply(req, data, genlen + len);
	free(data);
	return 0;
}

static int do_get_perms(struct xs_req *req, const struct xs_msg *msg)
{
	int err;
	const struct xs_node *node = get_arg_node(req, one_arg(msg),
						  XS_PERM_READ, &err);
	unsigned len;
	char *s;

	if (!node)
		return err;
	s = xs_perms_format(&node->perms, &len);
	if (!s)
		return ENOMEM;
	reply(req, s, len);
	free(s);
	return 0;
}

static int do_write(struct xs_req *req, const struct xs_msg *msg)
{
	unsigned off;
	char *name;
	int err;

	if (count_strings(msg) < 1)
		return EINVAL;
	off = (unsigned)strlen(msg->body) + 1;
	name = canonical_arg(req, msg->body, &err);
	if (!name)
		return err;
	err = xs_op_write(req, name, msg->body + off, msg->len - off);
	free(name);
	if (!err)
		ack(req);
	return err;
}

static int do_mkdir(struct xs_req *req, const struct xs_msg *msg)
{
	int err;
	char *name = canonical_arg(req, one_arg(msg), &err);

	if (!name)
		return err;
	err = xs_op_mkdir(req, name);
	free(name);
	if (!err)
		ack(req);
	return err;
}

static int do_rm(struct xs_req *req, const struct xs_msg *msg)
{
	int err;
	char *name = canonical_arg(req, one_arg(msg), &err);

	if (!name)
		return err;
	err = xs_op_rm(req, name);
	free(name);
	if (!err)
		ack(req);
	return err;
}

static int do_set_perms(struct xs_req *req, const struct xs_msg *msg)
{
	unsigned n = count_strings(msg);
	struct xs_perms perms;
	char *name;
	int err;

	if (n < 2)
		return EINVAL;
	err = xs_perms_parse(msg->body + strlen(msg->body) + 1, n - 1, &perms);
	if (err)
		return err;
	name = canonical_arg(req, msg->body, &err);
	if (name) {
		err = xs_op_set_perms(req, name, &perms);
		free(name);
	}
	xs_perms_free(&perms);
	if (!err)
		ack(req);
	return err;
}

static int do_watch(struct xs_req *req, const struct xs_msg *msg)
{
	const char *path = msg->body, *token;
	int err;

	if (count_strings(msg) != 2)
		return EINVAL;
	token = path + strlen(path) + 1;
	err = xs_watch_add(req->conn, path, token);
	if (err)
		return err;
	ack(req);
	/* xenstored fires every new watch once, which spares clients a
	 * read-then-watch race. The name is reported as the client gave it. */
	xs_conn_event(req->conn, path, token);
	return 0;
}

static int do_unwatch(struct xs_req *req, const struct xs_msg *msg)
{
	int err;

	if (count_strings(msg) != 2)
		return EINVAL;
	err = xs_watch_remove(req->conn, msg->body,
			      msg->body + strlen(msg->body) + 1);
	if (!err)
		ack(req);
	return err;
}

static int do_transaction_start(struct xs_req *req, const struct xs_msg *msg)
{
	struct xs_conn *conn = req->conn;
	struct xs_txn *txn = NULL;
	char id[16];

	if (req->db.txn)
		return EBUSY;  /* no nesting */
	if (!xs_domid_is_privileged(conn->domid) &&
	    conn->ntxns >= req->srv->limits.txns_per_conn)
		return ENOSPC;
	/* Next free id, never 0 (0 means "no transaction"). */
	for (;;) {
		struct xs_txn *t = conn->txns;
		uint32_t cand = conn->next_txn_id++;

		if (!cand)
			continue;
		while (t && t->id != cand)
			t = t->next;
		if (!t) {
			txn = xs_txn_new(cand);
			break;
		}
	}
	if (!txn)
		return ENOMEM;
	txn->next = conn->txns;
	conn->txns = txn;
	conn->ntxns++;
	snprintf(id, sizeof(id), "%" PRIu32, txn->id);
	reply(req, id, (unsigned)strlen(id) + 1);
	return 0;
}

static void commit_fire(void *ctx, const char *name, bool exact,
			const struct xs_perms *orig_perms)
{
	xs_watch_fire(ctx, name, exact, NULL, orig_perms);
}

static int do_transaction_end(struct xs_req *req, const struct xs_msg *msg)
{
	const char *arg = one_arg(msg);
	struct xs_conn *conn = req->conn;
	struct xs_txn *txn = req->db.txn;
	struct xs_txn_quota quota = {
		.domid = conn->domid,
		.max_nodes_per_domain = req->srv->limits.nodes_per_domain,
	};
	int err = 0;

	if (!arg || (strcmp(arg, "T") && strcmp(arg, "F")))
		return EINVAL;
	if (!txn)
		return ENOENT;
	req->db.txn = NULL;
	if (!strcmp(arg, "T"))
		err = xs_txn_commit(txn, &req->srv->store, &quota, commit_fire,
				    req->srv);
	/* Ended either way, as in xenstored. */
	xs_conn_end_txn(conn, txn);
	if (!err)
		ack(req);
	return err;
}

static int do_get_domain_path(struct xs_req *req, const struct xs_msg *msg)
{
	const char *arg = one_arg(msg);
	char *path;

	if (!arg)
		return EINVAL;
	path = xs_path_domain((unsigned)atoi(arg));
	if (!path)
		return ENOMEM;
	reply(req, path, (unsigned)strlen(path) + 1);
	free(path);
	return 0;
}

static int do_is_domain_introduced(struct xs_req *req, const struct xs_msg *msg)
{
	const char *arg = one_arg(msg);
	unsigned domid;
	bool yes;

	if (!arg)
		return EINVAL;
	domid = (unsigned)atoi(arg);
	yes = domid == XS_DOMID_SELF || xs_server_has_domain(req->srv, domid);
	reply(req, yes ? "T" : "F", 2);
	return 0;
}

static int do_reset_watches(struct xs_req *req, const struct xs_msg *msg)
{
	struct xs_conn *conn = req->conn;

	xs_watch_remove_all(conn);
	xs_conn_end_all_txns(conn);
	req->db.txn = NULL;
	ack(req);
	return 0;
}

/* Privileged operations the emulator leaves to its own toolstack. */
static int do_unsupported(struct xs_req *req, const struct xs_msg *msg)
{
	return ENOSYS;
}

enum {
	XS_OP_NOTID = 1U << 0,   /* ignores the header's transaction id */
	XS_OP_PRIV = 1U << 1,    /* privileged domain only (else EACCES) */
};

static const struct {
	xs_handler *fn;
	unsigned flags;
} handlers[XS_TYPE_COUNT] = {
	[XS_CONTROL] = { do_unsupported, XS_OP_PRIV },
	[XS_DIRECTORY] = { do_directory, 0 },
	[XS_READ] = { do_read, 0 },
	[XS_GET_PERMS] = { do_get_perms, 0 },
	[XS_WATCH] = { do_watch, XS_OP_NOTID },
	[XS_UNWATCH] = { do_unwatch, XS_OP_NOTID },
	[XS_TRANSACTION_START] = { do_transaction_start, 0 },
	[XS_TRANSACTION_END] = { do_transaction_end, 0 },
	[XS_INTRODUCE] = { do_unsupported, XS_OP_PRIV },
	[XS_RELEASE] = { do_unsupported, XS_OP_PRIV },
	[XS_GET_DOMAIN_PATH] = { do_get_domain_path, 0 },
	[XS_WRITE] = { do_write, 0 },
	[XS_MKDIR] = { do_mkdir, 0 },
	[XS_RM] = { do_rm, 0 },
	[XS_SET_PERMS] = { do_set_perms, 0 },
	[XS_IS_DOMAIN_INTRODUCED] = { do_is_domain_introduced, XS_OP_PRIV },
	[XS_RESUME] = { do_unsupported, XS_OP_PRIV },
	[XS_SET_TARGET] = { do_unsupported, XS_OP_PRIV },
	[XS_RESET_WATCHES] = { do_reset_watches, 0 },
	[XS_DIRECTORY_PART] = { do_directory_part, 0 },
};

void xs_dispatch(struct xs_conn *conn)
{
	struct xs_msg msg = { .hdr = &conn->hdr, .body = conn->body,
			      .len = conn->hdr.len };
	uint32_t type = conn->hdr.type;
	struct xs_txn *txn = NULL;
	struct xs_req req;
	int err;

	if (type >= XS_TYPE_COUNT || !handlers[type].fn) {
		conn->srv->stats.unknown_requests++;
		xs_conn_error(conn, &conn->hdr, ENOSYS);
		return;
	}
	if ((handlers[type].flags & XS_OP_PRIV) &&
	    !xs_domid_is_privileged(conn->domid)) {
		xs_conn_error(conn, &conn->hdr, EACCES);
		return;
	}
	if (!(handlers[type].flags & XS_OP_NOTID) && conn->hdr.tx_id) {
		for (txn = conn->txns; txn && txn->id != conn->hdr.tx_id;
		     txn = txn->next)
			;
		if (!txn) {
			xs_conn_error(conn, &conn->hdr, ENOENT);
			return;
		}
	}
	xs_req_init(&req, conn->srv, conn, txn);
	req.hdr = &conn->hdr;
	err = handlers[type].fn(&req, &msg);
	if (err)
		xs_conn_error(conn, &conn->hdr, err);
}
