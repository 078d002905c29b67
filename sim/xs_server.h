/* The emulator's xenstored: an in-process server for the xenstore wire
 * protocol (xen/io/xs_wire.h) that the unmodified libxenstore talks to over a
 * unix socket. The xensim daemon embeds it and drives it from its poll loop.
 * Every connection belongs to the domain whose socket it came in on; domain 0
 * is privileged (Xen's dom0 rules). */
#ifndef SIM_XS_SERVER_H
#define SIM_XS_SERVER_H

#include <stdbool.h>

struct xs_server;
struct xs_permissions;  /* <xenstore_lib.h> */

struct xs_server *xs_server_new(void);
void xs_server_free(struct xs_server *xs);

/* A pollable fd (an epoll fd) that is readable whenever xs_server_process()
 * has work; the daemon polls it beside its own fds. */
int xs_server_fd(const struct xs_server *xs);
/* Handles everything that is ready, never blocks. */
void xs_server_process(struct xs_server *xs);

/* Listen on a unix socket whose connections act as domain `domid`.
 * Creates /local/domain/<domid> (owned by the domain) unless it exists.
 * Returns 0 or -errno. */
int xs_server_add_domain(struct xs_server *xs, unsigned domid, const char *sock_path);
/* Domain gone: close its listener and connections, drop its watches and
 * transactions, fire @releaseDomain. As xenstored does, nodes the domain
 * still owns are removed (with watch events, as rm) and its entries are
 * dropped from every other node's permissions; removing the rest (e.g. the
 * dom0-owned backend directories) is the caller's job. */
void xs_server_remove_domain(struct xs_server *xs, unsigned domid);
bool xs_server_has_domain(const struct xs_server *xs, unsigned domid);
/* Fires the special watch "@introduceDomain" (called after add_domain). */
void xs_server_introduce(struct xs_server *xs, unsigned domid);

/* What hostile or broken clients cost so far (counted, and logged once
 * per connection where it matters). */
struct xs_server_stats {
	unsigned long requests;          /* complete requests handled */
	unsigned long errors;            /* answered with XS_ERROR */
	unsigned long unknown_requests;  /* ... of which ENOSYS */
	unsigned long protocol_drops;    /* connections closed for a bad header */
	unsigned long events_dropped;    /* watch events past a backlog limit */
	unsigned long conns_refused;     /* over the per-domain connection cap */
};
void xs_server_get_stats(const struct xs_server *xs, struct xs_server_stats *out);
/* Where the server reports dropped clients and events (one line, no
 * newline); by default "xenstored: <line>" on stderr. */
typedef void xs_server_log_fn(void *ctx, const char *line);
void xs_server_set_log(struct xs_server *xs, xs_server_log_fn *fn, void *ctx);

/* Privileged direct access for the emulator's toolstack role (no transaction,
 * watches fire as for a client write). Return 0 or -errno. */
int xs_server_write(struct xs_server *xs, const char *path, const char *value);
int xs_server_rm(struct xs_server *xs, const char *path);
/* Creates the node (and missing parents) unless it exists. */
int xs_server_mkdir(struct xs_server *xs, const char *path);
/* Replaces the node's permission list, as XS_SET_PERMS from dom0: entry 0
 * is the owner and everyone else's access, further entries one domain's
 * XS_PERM_READ/WRITE each (e.g. a backend directory readable by its
 * frontend domain: {0, XS_PERM_NONE}, {N, XS_PERM_READ}). */
int xs_server_set_perms(struct xs_server *xs, const char *path,
			const struct xs_permissions *perms, unsigned num);
/* Returns a malloc'd copy or NULL (errno set). */
char *xs_server_read(struct xs_server *xs, const char *path);
/* Returns a malloc'd NULL-terminated array of child names (free each and the
 * array) or NULL with errno. */
char **xs_server_directory(struct xs_server *xs, const char *path, unsigned *num);

#endif
