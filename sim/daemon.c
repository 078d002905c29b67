/* xensim daemon: event loop, connections and request dispatch. A request
 * that does not parse gets an EPROTO reply and is counted and logged; the
 * connection and every other domain keep being served. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/daemon.h"
#include "sim/xs_server.h"

int sim_listen_unix(const char *path); /* dom.c */

int sim_ep_add(struct xensim *x, int fd, struct sim_ep *ep)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = ep };

	return epoll_ctl(x->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int xensim_init(struct xensim *x, const char *dir)
{
	char path[PATH_MAX + 16];
	sigset_t sigs;
	int fd, rc;
	unsigned dom0;

	memset(x, 0, sizeof(*x));
	x->admin_fd = x->sig_fd = x->epfd = x->copiers_fd = -1;
	if (strlen(dir) >= sizeof(x->dir) - 32)
		return -ENAMETOOLONG;
	strcpy(x->dir, dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	x->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (x->epfd < 0)
		return -errno;

	snprintf(path, sizeof(path), "%s/domains", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, sizeof(*x->reg)) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	x->reg = mmap(NULL, sizeof(*x->reg), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (x->reg == MAP_FAILED) {
		x->reg = NULL;
		return -errno;
	}
	x->reg->magic = SIM_MAGIC;
	x->reg->nr_domids = SIM_NR_DOMIDS;
	rc = sim_make_shm("xensim-copiers", sizeof(*x->copiers), &x->copiers_fd,
			  (void **)&x->copiers);
	if (rc)
		return rc;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	x->sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (x->sig_fd < 0)
		return -errno;
	x->sig_ep = (struct sim_ep){ .kind = SIM_EP_SIGNAL };
	rc = sim_ep_add(x, x->sig_fd, &x->sig_ep);
	if (rc)
		return rc;

	x->xs = xs_server_new();
	if (!x->xs)
		return -ENOMEM;
	x->xs_ep = (struct sim_ep){ .kind = SIM_EP_XS };
	rc = sim_ep_add(x, xs_server_fd(x->xs), &x->xs_ep);
	if (rc)
		return rc;

	rc = sim_dom_create(x, 0, "Domain-0", &dom0);
	if (rc)
		return rc;

	snprintf(path, sizeof(path), "%s/ctl.sock", dir);
	x->admin_fd = sim_listen_unix(path);
	if (x->admin_fd < 0)
		return x->admin_fd;
	x->admin_ep = (struct sim_ep){ .kind = SIM_EP_ADMIN_LISTEN };
	return sim_ep_add(x, x->admin_fd, &x->admin_ep);
}

void xensim_fini(struct xensim *x)
{
	char path[PATH_MAX + 16];

	for (unsigned d = SIM_NR_DOMIDS; d-- > 0;)
		if (x->doms[d])
			sim_dom_destroy(x, d);
	while (x->admin_conns)
		xensim_conn_close(x, x->admin_conns);
	if (x->xs)
		xs_server_free(x->xs);
	if (x->admin_fd >= 0) {
		close(x->admin_fd);
		snprintf(path, sizeof(path), "%s/ctl.sock", x->dir);
		unlink(path);
	}
	if (x->reg) {
		munmap(x->reg, sizeof(*x->reg));
		snprintf(path, sizeof(path), "%s/domains", x->dir);
		unlink(path);
	}
	if (x->copiers)
		munmap(x->copiers, sizeof(*x->copiers));
	if (x->copiers_fd >= 0)
		close(x->copiers_fd);
	if (x->sig_fd >= 0)
		close(x->sig_fd);
	if (x->epfd >= 0)
		close(x->epfd);
	rmdir(x->dir);
	if (x->bad_requests)
		fprintf(stderr, "xensim: %lu malformed or refused requests in total\n",
			x->bad_requests);
}

static void conn_accept(struct xensim *x, int lfd, struct sim_dom *d)
{
	struct sim_conn *c;
	/* Non-blocking: a client that stops reading its replies is dropped
	 * instead of stalling every domain (see reply()). */
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->dom = d;
	c->evt_slot = -1;
	c->copier_slot = -1;
	c->ep = (struct sim_ep){ .kind = SIM_EP_CONN, .obj = c };
	if (sim_ep_add(x, fd, &c->ep)) {
		close(fd);
		free(c);
		return;
	}
	if (d) {
		c->next = d->conns;
		d->conns = c;
	} else {
		c->next = x->admin_conns;
		x->admin_conns = c;
	}
}

void xensim_conn_close(struct xensim *x, struct sim_conn *c)
{
	struct sim_conn **pp = c->dom ? &c->dom->conns : &x->admin_conns;

	for (; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	if (c->dom) {
		gnt_svc_conn_closed(x, c);
		evt_svc_conn_closed(x, c);
	}
	epoll_ctl(x->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
}

static void reply(struct sim_conn *c, const struct sim_msg *req, int err, struct sim_msg *rep,
		  const void *payload, size_t len, const int *fds, unsigned nfds)
{
	struct sim_msg r = { 0 };
	int rc;

	if (!rep)
		rep = &r;
	rep->magic = SIM_PROTO_MAGIC;
	rep->op = req->op;
	rep->err = err;
	if (err) {
		payload = NULL;
		len = 0;
		nfds = 0;
	}
	rc = sim_msg_send(c->fd, rep, payload, len, fds, nfds);
	if (rc && rc != -EPIPE && rc != -ECONNRESET) {
		fprintf(stderr, "xensim: dom%d: cannot reply (%s), dropping the connection\n",
			c->dom ? (int)c->dom->domid : -1, strerror(-rc));
		shutdown(c->fd, SHUT_RDWR); /* seen as EOF by the loop, closed there */
	}
}

static void refuse(struct xensim *x, struct sim_conn *c, const struct sim_msg *req, int err,
		   const char *why)
{
	x->bad_requests++;
	if (c->dom)
		fprintf(stderr, "xensim: dom%u: %s (request %u refused: %s)\n", c->dom->domid, why,
			req->op, strerror(err));
	else
		fprintf(stderr, "xensim: admin: %s (request %u refused: %s)\n", why, req->op,
			strerror(err));
	reply(c, req, err, NULL, NULL, 0, NULL, 0);
}

static void do_peer(struct xensim *x, struct sim_conn *c, const struct sim_msg *m)
{
	struct sim_dom *d = sim_dom_get(x, m->a == SIM_DOMID_SELF ? c->dom->domid : m->a);
	struct sim_msg rep = { 0 };
	int fds[2];

	if (!d) {
		reply(c, m, ESRCH, NULL, NULL, 0, NULL, 0);
		return;
	}
	rep.a = d->incarnation;
	if (m->op == SIM_OP_PEER_GNT || m->op == SIM_OP_OPEN_GNT) {
		fds[0] = d->gt_fd;
		fds[1] = d->mem_fd;
		reply(c, m, 0, &rep, NULL, 0, fds, 2);
	} else if (m->op == SIM_OP_PEER_EVT) {
		reply(c, m, 0, &rep, NULL, 0, &d->ev_fd, 1);
	} else {
		if (m->b >= SIM_NR_EVH || d->efd[m->b] < 0) {
			reply(c, m, ENOENT, NULL, NULL, 0, NULL, 0);
			return;
		}
		rep.a = atomic_load(&d->ev->q[m->b].gen);
		rep.b = d->incarnation;
		reply(c, m, 0, &rep, NULL, 0, &d->efd[m->b], 1);
	}
}

static void dom_request(struct xensim *x, struct sim_conn *c, const struct sim_msg *m,
			size_t len, int *fds, unsigned nfds)
{
	size_t plen = len - sizeof(*m);
	const void *payload = m + 1;
	struct sim_msg rep = { 0 };
	int err;

	switch (m->op) {
	case SIM_OP_OPEN_GNT:
		m = &(struct sim_msg){ .op = m->op, .a = c->dom->domid };
		do_peer(x, c, m);
		return;
	case SIM_OP_PEER_GNT:
	case SIM_OP_PEER_EVT:
	case SIM_OP_PEER_EFD:
		do_peer(x, c, m);
		return;
	case SIM_OP_OPEN_EVT:
		if (nfds != 1) {
			refuse(x, c, m, EPROTO, "evtchn open without its eventfd");
			return;
		}
		err = evt_svc_open(x, c, fds[0], &rep.a, &rep.b);
		if (!err)
			fds[0] = -1; /* kept by the domain */
		reply(c, m, err, &rep, NULL, 0, &c->dom->ev_fd, 1);
		return;
	case SIM_OP_SHARE: {
		uint32_t *refs;

		if (plen || !m->count || m->count > SIM_SHARE_MAX) {
			refuse(x, c, m, EINVAL, "bad share request");
			return;
		}
		refs = malloc(m->count * sizeof(*refs));
		err = refs ? gnt_svc_share(x, c, m, refs) : ENOMEM;
		rep.count = m->count;
		reply(c, m, err, &rep, refs, m->count * sizeof(*refs), NULL, 0);
		free(refs);
		return;
	}
	case SIM_OP_UNSHARE:
		if (plen != m->count * sizeof(uint32_t)) {
			refuse(x, c, m, EPROTO, "unshare: length does not match count");
			return;
		}
		reply(c, m, gnt_svc_unshare(x, c, payload, m->count), NULL, NULL, 0, NULL, 0);
		return;
	case SIM_OP_MAP:
		if (!m->count || m->count > SIM_SHARE_MAX ||
		    plen != m->count * sizeof(struct sim_map_item)) {
			refuse(x, c, m, EPROTO, "map: length does not match count");
			return;
		}
		err = gnt_svc_map(x, c, m, payload, &rep.a);
		reply(c, m, err, &rep, NULL, 0, NULL, 0);
		return;
	case SIM_OP_UNMAP:
		reply(c, m, gnt_svc_unmap(x, c, m->a), NULL, NULL, 0, NULL, 0);
		return;
	case SIM_OP_BIND_UNBOUND:
		err = evt_svc_bind_unbound(x, c, m->a, &rep.a);
		reply(c, m, err, &rep, NULL, 0, NULL, 0);
		return;
	case SIM_OP_BIND_INTER:
		err = evt_svc_bind_inter(x, c, m->a, m->b, &rep.a);
		reply(c, m, err, &rep, NULL, 0, NULL, 0);
		return;
	case SIM_OP_UNBIND:
		reply(c, m, evt_svc_unbind(x, c, m->a), NULL, NULL, 0, NULL, 0);
		return;
	case SIM_OP_OPEN_COPIER:
		err = gnt_svc_open_copier(x, c, &rep.a);
		reply(c, m, err, &rep, NULL, 0, &x->copiers_fd, 1);
		return;
	default:
		refuse(x, c, m, EPROTO, "unknown request");
	}
}

/* A process's exit closes its handles before its parent's waitpid returns,
 * and the kernel ends what they held (gntalloc's and evtchn's release) in
 * that close. Here the hang-up is only a pending event in our loop, so a
 * ping first ends every connection whose peer is gone: whoever saw a
 * process exit, or closed a handle, and then pings knows its grants and
 * ports are gone. */
static void reap_hung_up(struct xensim *x)
{
	for (unsigned d = 0; d < SIM_NR_DOMIDS; d++) {
		struct sim_dom *dom = x->doms[d];
		struct sim_conn *c, *next;

		for (c = dom ? dom->conns : NULL; c; c = next) {
			struct pollfd p = { .fd = c->fd, .events = POLLRDHUP };

			next = c->next;
			if (poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
				xensim_conn_close(x, c);
		}
	}
}

static void admin_request(struct xensim *x, struct sim_conn *c, const struct sim_msg *m,
			  size_t len)
{
	struct sim_msg rep = { 0 };
	char name[64] = "";
	int rc;

	switch (m->op) {
	case SIM_OP_PING:
		reap_hung_up(x);
		reply(c, m, 0, NULL, NULL, 0, NULL, 0);
		return;
	case SIM_OP_DOM_CREATE:
		if (len > sizeof(*m))
			snprintf(name, sizeof(name), "%.*s", (int)(len - sizeof(*m)),
				 (const char *)(m + 1));
		for (char *p = name; *p; p++)
			if (*p == '/' || *p < 0x20)
				*p = '_';
		rc = sim_dom_create(x, m->a, name, &rep.a);
		if (!rc && m->b)
			sim_dom_get(x, rep.a)->gntalloc_limit = m->b;
		reply(c, m, -rc, &rep, NULL, 0, NULL, 0);
		return;
	case SIM_OP_DOM_DESTROY:
		rc = m->a == 0 ? -EPERM : sim_dom_destroy(x, m->a);
		reply(c, m, -rc, NULL, NULL, 0, NULL, 0);
		return;
	case SIM_OP_LIST: {
		size_t cap = 65000, n = 0;
		char *buf = malloc(cap);

		for (unsigned d = 0; buf && d < SIM_NR_DOMIDS && n + 100 < cap; d++)
			if (x->doms[d])
				n += (size_t)snprintf(buf + n, cap - n, "%u %s\n", d, x->doms[d]->name);
		reply(c, m, buf ? 0 : ENOMEM, NULL, buf, n, NULL, 0);
		free(buf);
		return;
	}
	case SIM_OP_STOP:
		x->stop = true;
		reply(c, m, 0, NULL, NULL, 0, NULL, 0);
		return;
	default:
		refuse(x, c, m, EPROTO, "unknown request");
	}
}

static void conn_readable(struct xensim *x, struct sim_conn *c)
{
	char *buf = malloc(SIM_MSG_MAX);
	struct sim_msg hdr = { 0 };
	int fds[SIM_MAX_FDS];
	unsigned nfds;
	long n;

	if (!buf)
		return;
	n = sim_msg_recv(c->fd, buf, SIM_MSG_MAX, fds, &nfds);
	if (n == -EAGAIN) {
		free(buf);
		return;
	}
	if (n <= 0 && n != -EMSGSIZE) {
		free(buf);
		xensim_conn_close(x, c);
		return;
	}
	if (n >= (long)sizeof(hdr))
		memcpy(&hdr, buf, sizeof(hdr));
	if (n < (long)sizeof(hdr) || hdr.magic != SIM_PROTO_MAGIC)
		refuse(x, c, &hdr, EPROTO, "malformed message");
	else if (c->dom)
		dom_request(x, c, (const struct sim_msg *)buf, (size_t)n, fds, nfds);
	else
		admin_request(x, c, (const struct sim_msg *)buf, (size_t)n);
	for (unsigned i = 0; i < nfds; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(buf);
}

int xensim_run(struct xensim *x, int ready_fd)
{
	struct epoll_event evs[32];

	if (ready_fd >= 0) {
		if (write(ready_fd, "R", 1) < 0)
			fprintf(stderr, "xensim: ready notification failed: %m\n");
		close(ready_fd);
	}
	while (!x->stop) {
		int n = epoll_wait(x->epfd, evs, 32, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n && !x->stop; i++) {
			struct sim_ep *ep = evs[i].data.ptr;

			switch (ep->kind) {
			case SIM_EP_ADMIN_LISTEN:
				conn_accept(x, x->admin_fd, NULL);
				break;
			case SIM_EP_DOM_LISTEN:
				conn_accept(x, ((struct sim_dom *)ep->obj)->listen_fd, ep->obj);
				break;
			case SIM_EP_CONN:
				conn_readable(x, ep->obj);
				/* a destroy may have freed objects later in evs[] */
				i = n;
				break;
			case SIM_EP_XS:
				xs_server_process(x->xs);
				break;
			case SIM_EP_SIGNAL:
				x->stop = true;
				break;
			}
		}
	}
	return 0;
}
