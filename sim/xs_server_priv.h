/* Inside the emulator's xenstored: the server, its domains (one listening
 * socket each) and connections, shared by xs_server.c (lifecycle, epoll),
 * xs_conn.c (socket I/O), xs_dispatch.c (wire requests), xs_ops.c (node
 * operations) and xs_watch.c (watches). Not for users of xs_server.h. */
#ifndef SIM_XS_SERVER_PRIV_H
#define SIM_XS_SERVER_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xen/io/xs_wire.h>

#include "sim/xs_server.h"
#include "sim/xs_store.h"
#include "sim/xs_txn.h"

/* xenstored's default quotas; they apply to unprivileged domains only. */
struct xs_limits {
	int nodes_per_domain;        /* ENOSPC beyond */
	size_t max_entry_size;       /* node record size, ENOSPC at or beyond */
	unsigned watches_per_domain; /* over all its connections; E2BIG beyond */
	unsigned txns_per_conn;      /* ENOSPC beyond */
	unsigned perms_per_node;     /* ENOSPC beyond */
	unsigned txn_nodes;          /* nodes one transaction may touch */
	size_t txn_bytes;            /* node copies all of a connection's
				      * transactions may hold */
	unsigned conns_per_domain;   /* further connections are closed */
	size_t out_soft;             /* queued output that pauses reading */
	size_t out_hard;             /* queued output beyond which events drop */
	size_t out_hard_priv;        /* the same for the privileged domain */
};

/* epoll data.ptr points at one of these, first member of its owner. */
enum xs_fd_kind { XS_FD_LISTENER, XS_FD_CONN };
struct xs_fdref {
	enum xs_fd_kind kind;
};

struct xs_watch {
	struct xs_watch *next;
	char *node;                  /* canonical (absolute or "@...") */
	char *token;
	bool relative;               /* events drop the connection's home */
};

struct xs_outmsg {
	struct xs_outmsg *next;
	bool is_event;
	size_t len;                  /* header + payload */
	size_t off;                  /* bytes already sent */
	unsigned char data[];
};

struct xs_conn {
	struct xs_fdref ref;
	struct xs_server *srv;
	struct xs_conn *next;
	struct xs_domain *dom;       /* outlives its connections */
	unsigned domid;
	int fd;
	char *home;                  /* "/local/domain/<domid>" */
	uint32_t events;             /* what epoll watches now */

	struct xsd_sockmsg hdr;      /* request being read */
	unsigned hdr_used;
	char body[XENSTORE_PAYLOAD_MAX + 1];
	unsigned body_used;

	struct xs_outmsg *out_head, **out_tail;
	size_t out_bytes;

	struct xs_watch *watches;
	unsigned nwatches;
	struct xs_txn *txns;
	unsigned ntxns;
	size_t txn_bytes;
	uint32_t next_txn_id;

	unsigned long events_dropped;
	bool dead;
};

struct xs_domain {
	struct xs_fdref ref;
	struct xs_domain *next;
	struct xs_server *srv;
	unsigned domid;
	int listen_fd;
	char *sock_path;
	unsigned nconns;
	unsigned nwatches;
};

struct xs_server {
	int epfd;
	struct xs_store store;
	struct xs_domain *domains;
	struct xs_conn *conns;       /* live connections */
	struct xs_conn *graveyard;   /* closed, freed once nothing uses them */
	struct xs_perms introduce_perms;  /* who sees @introduceDomain */
	struct xs_perms release_perms;    /* who sees @releaseDomain */
	struct xs_limits limits;
	struct xs_server_stats stats;
	xs_server_log_fn *log_fn;
	void *log_ctx;
};

/* One request: who asks, through which connection (NULL for the API's
 * direct calls) and which view of the database. */
struct xs_req {
	struct xs_server *srv;
	struct xs_conn *conn;
	unsigned domid;
	struct xs_db db;
	const struct xsd_sockmsg *hdr;   /* NULL for direct calls */
};

void xs_req_init(struct xs_req *req, struct xs_server *srv, struct xs_conn *conn,
		 struct xs_txn *txn);

/* xs_conn.c */
struct xs_conn *xs_conn_new(struct xs_server *srv, struct xs_domain *dom, int fd);
void xs_conn_handle(struct xs_conn *conn, uint32_t epoll_events);
/* Sends what the socket takes now; arms EPOLLOUT for the rest. */
void xs_conn_flush(struct xs_conn *conn);
/* Closes the socket and drops watches and transactions; the memory goes
 * when the server reaps its graveyard. */
void xs_conn_kill(struct xs_conn *conn, const char *why);
void xs_conn_free(struct xs_conn *conn);
void xs_conn_reply(struct xs_conn *conn, const struct xsd_sockmsg *req,
		   uint32_t type, const void *data, unsigned len);
void xs_conn_error(struct xs_conn *conn, const struct xsd_sockmsg *req, int err);
void xs_conn_event(struct xs_conn *conn, const char *path, const char *token);
/* Unlinks and frees one transaction / all of them. */
void xs_conn_end_txn(struct xs_conn *conn, struct xs_txn *txn);
void xs_conn_end_all_txns(struct xs_conn *conn);

/* xs_dispatch.c: handles one complete request from conn->body. */
void xs_dispatch(struct xs_conn *conn);

/* xs_ops.c: node operations on canonical names; 0 or an errno. */
const struct xs_node *xs_op_get(struct xs_req *req, const char *name,
				unsigned perm, int *err);
int xs_op_write(struct xs_req *req, const char *name, const void *data,
		unsigned len);
int xs_op_mkdir(struct xs_req *req, const char *name);
int xs_op_rm(struct xs_req *req, const char *name);
int xs_op_set_perms(struct xs_req *req, const char *name,
		    const struct xs_perms *perms);
/* The permissions of a special watch name, or NULL. */
struct xs_perms *xs_special_perms(struct xs_server *srv, const char *name);

/* xs_watch.c */
int xs_watch_add(struct xs_conn *conn, const char *path, const char *token);
int xs_watch_remove(struct xs_conn *conn, const char *path, const char *token);
void xs_watch_remove_all(struct xs_conn *conn);
/* A change of `name` (or a special event): events to every connection
 * allowed to see it. node_perms, if given, are the node's (a node being
 * removed); old_perms those before a permission change or transaction. */
void xs_watch_fire(struct xs_server *srv, const char *name, bool exact,
		   const struct xs_perms *node_perms,
		   const struct xs_perms *old_perms);
/* Through a request: queued in its transaction, or fired now. */
void xs_req_fire(struct xs_req *req, const char *name, bool exact,
		 const struct xs_perms *node_perms);

/* xs_server.c */
void xs_log(struct xs_server *srv, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void xs_server_flush_all(struct xs_server *srv);
void xs_server_reap(struct xs_server *srv);

#endif
