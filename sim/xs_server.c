/* Server lifecycle, the epoll loop, one listening socket per domain, and
 * the privileged direct API the emulator's toolstack uses. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sim/xs_path.h"
#include "sim/xs_server_priv.h"

enum { XS_EPOLL_BATCH = 64, XS_ACCEPT_BATCH = 16 };

static const struct xs_limits default_limits = {
	.nodes_per_domain = 1000,
	.max_entry_size = 2048,
	.watches_per_domain = 128,
	.txns_per_conn = 10,
	.perms_per_node = 5,
	.txn_nodes = 1024,
	.txn_bytes = 2 * 1024 * 1024,
	.conns_per_domain = 64,
	.out_soft = 64 * 1024,
	.out_hard = 256 * 1024,
	/* xenstored has no memory quota for the privileged domain; the
	 * backend must not lose events in a burst (a big rm). */
	.out_hard_priv = 64 * 1024 * 1024,
};

struct xs_server *xs_server_new(void)
{
	struct xs_server *xs = calloc(1, sizeof(*xs));

	if (!xs)
		return NULL;
	xs->limits = default_limits;
	xs->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (xs->epfd < 0)
		goto fail;
	if (xs_store_init(&xs->store))
		goto fail_epoll;
	/* Only the privileged domain sees domains come and go until it
	 * grants more with set_perms on the special names. */
	if (xs_perms_single(&xs->introduce_perms, 0, XS_PERM_NONE) ||
	    xs_perms_single(&xs->release_perms, 0, XS_PERM_NONE))
		goto fail_store;
	return xs;
fail_store:
	xs_perms_free(&xs->introduce_perms);
	xs_perms_free(&xs->release_perms);
	xs_store_fini(&xs->store);
fail_epoll:
	close(xs->epfd);
fail:
	free(xs);
	return NULL;
}

static void domain_close(struct xs_domain *d)
{
	epoll_ctl(d->srv->epfd, EPOLL_CTL_DEL, d->listen_fd, NULL);
	close(d->listen_fd);
	unlink(d->sock_path);
	free(d->sock_path);
	free(d);
}

void xs_server_free(struct xs_server *xs)
{
	if (!xs)
		return;
	while (xs->conns)
		xs_conn_kill(xs->conns, NULL);
	xs_server_reap(xs);
	while (xs->domains) {
		struct xs_domain *d = xs->domains;

		xs->domains = d->next;
		domain_close(d);
	}
	xs_perms_free(&xs->introduce_perms);
	xs_perms_free(&xs->release_perms);
	xs_store_fini(&xs->store);
	close(xs->epfd);
	free(xs);
}

void xs_server_set_log(struct xs_server *xs, xs_server_log_fn *fn, void *ctx)
{
	xs->log_fn = fn;
	xs->log_ctx = ctx;
}

void xs_log(struct xs_server *srv, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (srv->log_fn)
		srv->log_fn(srv->log_ctx, line);
	else
		fprintf(stderr, "xenstored: %s\n", line);
}

void xs_server_get_stats(const struct xs_server *xs, struct xs_server_stats *out)
{
	*out = xs->stats;
}

int xs_server_fd(const struct xs_server *xs)
{
	return xs->epfd;
}

void xs_server_reap(struct xs_server *srv)
{
	while (srv->graveyard) {
		struct xs_conn *c = srv->graveyard;

		srv->graveyard = c->next;
		xs_conn_free(c);
	}
}

void xs_server_flush_all(struct xs_server *srv)
{
	struct xs_conn *c, *next;

	/* Flushing can kill a connection, which unlinks it. */
	for (c = srv->conns; c; c = next) {
		next = c->next;
		if (c->out_head)
			xs_conn_flush(c);
	}
}

static void accept_clients(struct xs_domain *d)
{
	struct xs_server *srv = d->srv;

	for (int i = 0; i < XS_ACCEPT_BATCH; i++) {
		int fd = accept4(d->listen_fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		if (d->nconns >= srv->limits.conns_per_domain) {
			srv->stats.conns_refused++;
			xs_log(srv, "domain %u has too many connections, "
			       "refusing one", d->domid);
			close(fd);
			continue;
		}
		if (!xs_conn_new(srv, d, fd)) {
			close(fd);
			continue;
		}
		d->nconns++;
	}
}

void xs_server_process(struct xs_server *xs)
{
	struct epoll_event ev[XS_EPOLL_BATCH];
	int n = epoll_wait(xs->epfd, ev, XS_EPOLL_BATCH, 0);

	for (int i = 0; i < n; i++) {
		struct xs_fdref *ref = ev[i].data.ptr;

		if (ref->kind == XS_FD_LISTENER)
			accept_clients((struct xs_domain *)ref);
		else
			xs_conn_handle((struct xs_conn *)ref, ev[i].events);
	}
	/* Requests of one client may have queued events for others. */
	xs_server_flush_all(xs);
	xs_server_reap(xs);
}

static struct xs_domain *find_domain(const struct xs_server *xs, unsigned domid)
{
	struct xs_domain *d;

	for (d = xs->domains; d && d->domid != domid; d = d->next)
		;
	return d;
}

bool xs_server_has_domain(const struct xs_server *xs, unsigned domid)
{
	return find_domain(xs, domid) != NULL;
}

static int listen_on(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, err;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	/* A socket left by an earlier run is replaced, nothing else is. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(fd, 64)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* The domain's home, owned by it, as the toolstack would set it up. */
static int make_home(struct xs_server *xs, unsigned domid)
{
	struct xs_perms perms;
	struct xs_req req;
	char *home = xs_path_domain(domid);
	int err;

	if (!home)
		return ENOMEM;
	xs_req_init(&req, xs, NULL, NULL);
	if (xs_store_get(&xs->store, home)) {
		free(home);
		return 0;
	}
	err = xs_op_mkdir(&req, home);
	if (!err && !(err = xs_perms_single(&perms, domid, XS_PERM_NONE))) {
		err = xs_op_set_perms(&req, home, &perms);
		xs_perms_free(&perms);
	}
	free(home);
	return err;
}

int xs_server_add_domain(struct xs_server *xs, unsigned domid, const char *sock_path)
{
	struct xs_domain *d;
	struct epoll_event ev;
	int fd, err;

	/* Ids from DOMID_FIRST_RESERVED (0x7FF0) up name no real domain. */
	if (domid >= 0x7FF0)
		return -EINVAL;
	if (find_domain(xs, domid))
		return -EEXIST;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->sock_path = strdup(sock_path);
	if (!d->sock_path) {
		free(d);
		return -ENOMEM;
	}
	fd = listen_on(sock_path);
	if (fd < 0) {
		free(d->sock_path);
		free(d);
		return fd;
	}
	d->ref.kind = XS_FD_LISTENER;
	d->srv = xs;
	d->domid = domid;
	d->listen_fd = fd;
	ev.events = EPOLLIN;
	ev.data.ptr = &d->ref;
	if (epoll_ctl(xs->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		err = -errno;
		close(fd);
		unlink(sock_path);
		free(d->sock_path);
		free(d);
		return err;
	}
	err = make_home(xs, domid);
	if (err) {
		domain_close(d);
		return -err;
	}
	d->next = xs->domains;
	xs->domains = d;
	xs_server_flush_all(xs);
	return 0;
}

static void forget_special(struct xs_perms *perms, unsigned domid)
{
	if (perms->p[0].id == domid)
		perms->p[0].id = 0;
	xs_perms_drop_domid(perms, domid);
}

/* What xenstored does when a domain goes: the nodes it still owns are
 * removed (watches fire as for rm) and no permission list keeps naming it,
 * so a later domain with the same id inherits nothing. */
static void forget_domain(struct xs_server *xs, unsigned domid)
{
	struct xs_req req;
	unsigned n;
	char **orphans = xs_store_owned_by(&xs->store, domid, &n);

	xs_req_init(&req, xs, NULL, NULL);
	for (unsigned i = 0; i < n; i++) {
		/* Descendants went with an ancestor listed before them. */
		if (xs_store_get(&xs->store, orphans[i]))
			xs_op_rm(&req, orphans[i]);
		free(orphans[i]);
	}
	free(orphans);
	xs_store_forget_domid(&xs->store, domid);
	forget_special(&xs->introduce_perms, domid);
	forget_special(&xs->release_perms, domid);
}

void xs_server_remove_domain(struct xs_server *xs, unsigned domid)
{
	struct xs_domain **p, *d;
	struct xs_conn *c, *next;

	for (p = &xs->domains; *p && (*p)->domid != domid; p = &(*p)->next)
		;
	if (!*p)
		return;
	d = *p;
	*p = d->next;
	for (c = xs->conns; c; c = next) {
		next = c->next;
		if (c->domid == domid)
			xs_conn_kill(c, NULL);
	}
	domain_close(d);
	if (!xs_domid_is_privileged(domid))
		forget_domain(xs, domid);
	xs_watch_fire(xs, "@releaseDomain", true, NULL, NULL);
	xs_server_flush_all(xs);
	xs_server_reap(xs);
}

void xs_server_introduce(struct xs_server *xs, unsigned domid)
{
	xs_watch_fire(xs, "@introduceDomain", true, NULL, NULL);
	xs_server_flush_all(xs);
}

/* Direct calls act as the privileged domain outside any transaction. */
static int direct_name(const char *path, char **name)
{
	if (!path || path[0] != '/')
		return EINVAL;
	*name = strdup(path);
	return *name ? 0 : ENOMEM;
}

/* Runs op(req, name, arg) as a direct request on path, then delivers the
 * watch events it fired. Returns 0 or -errno. */
static int direct_op(struct xs_server *xs, const char *path,
		     int (*op)(struct xs_req *req, const char *name, const void *arg),
		     const void *arg)
{
	struct xs_req req;
	char *name;
	int err = direct_name(path, &name);

	if (err)
		return -err;
	xs_req_init(&req, xs, NULL, NULL);
	err = op(&req, name, arg);
	free(name);
	xs_server_flush_all(xs);
	return -err;
}

static int op_write(struct xs_req *req, const char *name, const void *value)
{
	return xs_op_write(req, name, value, (unsigned)strlen(value));
}

static int op_rm(struct xs_req *req, const char *name, const void *unused)
{
	return xs_op_rm(req, name);
}

static int op_mkdir(struct xs_req *req, const char *name, const void *unused)
{
	return xs_op_mkdir(req, name);
}

static int op_set_perms(struct xs_req *req, const char *name, const void *list)
{
	return xs_op_set_perms(req, name, list);
}

int xs_server_write(struct xs_server *xs, const char *path, const char *value)
{
	return direct_op(xs, path, op_write, value);
}

int xs_server_rm(struct xs_server *xs, const char *path)
{
	return direct_op(xs, path, op_rm, NULL);
}

int xs_server_mkdir(struct xs_server *xs, const char *path)
{
	return direct_op(xs, path, op_mkdir, NULL);
}

int xs_server_set_perms(struct xs_server *xs, const char *path,
			const struct xs_permissions *perms, unsigned num)
{
	/* set_perms copies the list; it never writes through list.p. */
	struct xs_perms list = { .num = num, .p = (struct xs_permissions *)perms };
	const unsigned rw = XS_PERM_READ | XS_PERM_WRITE;

	if (!num || !perms)
		return -EINVAL;
	for (unsigned i = 0; i < num; i++)
		if (perms[i].perms & ~rw)
			return -EINVAL;
	return direct_op(xs, path, op_set_perms, &list);
}

/* The node for a direct read, or NULL with errno set. */
static const struct xs_node *direct_get(struct xs_server *xs, const char *path)
{
	const struct xs_node *node;
	struct xs_req req;
	int err;

	if (!path || path[0] != '/') {
		errno = EINVAL;
		return NULL;
	}
	xs_req_init(&req, xs, NULL, NULL);
	node = xs_op_get(&req, path, XS_PERM_READ, &err);
	if (!node)
		errno = err;
	return node;
}

char *xs_server_read(struct xs_server *xs, const char *path)
{
	const struct xs_node *node = direct_get(xs, path);
	char *copy;

	if (!node)
		return NULL;
	copy = malloc(node->datalen + 1);
	if (!copy) {
		errno = ENOMEM;
		return NULL;
	}
	memcpy(copy, node->data, node->datalen);
	copy[node->datalen] = '\0';
	return copy;
}

char **xs_server_directory(struct xs_server *xs, const char *path, unsigned *num)
{
	const struct xs_node *node = direct_get(xs, path);
	unsigned n = 0, i = 0;
	char **names;

	if (!node)
		return NULL;
	for (unsigned off = 0; off < node->childlen; off++)
		n += node->children[off] == '\0';
	names = calloc(n + 1, sizeof(*names));
	if (!names)
		goto nomem;
	for (unsigned off = 0; i < n; i++) {
		names[i] = strdup(node->children + off);
		if (!names[i])
			goto nomem;
		off += (unsigned)strlen(names[i]) + 1;
	}
	if (num)
		*num = n;
	return names;
nomem:
	if (names)
		for (unsigned j = 0; j < i; j++)
			free(names[j]);
	free(names);
	errno = ENOMEM;
	return NULL;
}
