/* One client connection: reads requests without ever blocking, queues
 * replies and watch events, and drops the client (only it) on a protocol
 * violation. A client that does not read its replies stops being read
 * itself once its queue passes a soft limit; watch events beyond a hard
 * limit are dropped and counted, so a slow reader costs bounded memory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sim/xs_path.h"
#include "sim/xs_server_priv.h"

/* Requests handled per wakeup, so one busy client cannot starve others;
 * queued messages searched for a duplicate event (bounds the cost). */
enum { XS_CONN_BATCH = 64, XS_DEDUP_SCAN = 256 };

static void set_epoll(struct xs_conn *conn)
{
	uint32_t want = 0;
	struct epoll_event ev;

	if (conn->dead)
		return;
	if (conn->out_bytes < conn->srv->limits.out_soft)
		want |= EPOLLIN;
	if (conn->out_head)
		want |= EPOLLOUT;
	if (want == conn->events)
		return;
	ev.events = want;
	ev.data.ptr = &conn->ref;
	if (epoll_ctl(conn->srv->epfd, EPOLL_CTL_MOD, conn->fd, &ev) == 0)
		conn->events = want;
}

struct xs_conn *xs_conn_new(struct xs_server *srv, struct xs_domain *dom, int fd)
{
	struct xs_conn *conn = calloc(1, sizeof(*conn));
	struct epoll_event ev;

	if (!conn)
		return NULL;
	conn->ref.kind = XS_FD_CONN;
	conn->srv = srv;
	conn->dom = dom;
	conn->domid = dom->domid;
	conn->fd = fd;
	conn->out_tail = &conn->out_head;
	conn->next_txn_id = 1;
	conn->home = xs_path_domain(dom->domid);
	if (!conn->home) {
		free(conn);
		return NULL;
	}
	ev.events = EPOLLIN;
	ev.data.ptr = &conn->ref;
	if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		free(conn->home);
		free(conn);
		return NULL;
	}
	conn->events = EPOLLIN;
	conn->next = srv->conns;
	srv->conns = conn;
	return conn;
}

void xs_conn_end_txn(struct xs_conn *conn, struct xs_txn *txn)
{
	struct xs_txn **p;

	for (p = &conn->txns; *p && *p != txn; p = &(*p)->next)
		;
	if (!*p)
		return;
	*p = txn->next;
	conn->ntxns--;
	conn->txn_bytes -= txn->bytes;
	xs_txn_free(txn);
}

void xs_conn_end_all_txns(struct xs_conn *conn)
{
	while (conn->txns)
		xs_conn_end_txn(conn, conn->txns);
}

void xs_conn_kill(struct xs_conn *conn, const char *why)
{
	struct xs_server *srv = conn->srv;
	struct xs_conn **p;

	if (conn->dead)
		return;
	if (why)
		xs_log(srv, "dropping domain %u connection: %s", conn->domid, why);
	conn->dead = true;
	epoll_ctl(srv->epfd, EPOLL_CTL_DEL, conn->fd, NULL);
	close(conn->fd);
	conn->fd = -1;
	xs_watch_remove_all(conn);
	xs_conn_end_all_txns(conn);
	conn->dom->nconns--;
	conn->dom = NULL;  /* the domain may go before the graveyard is reaped */
	for (p = &srv->conns; *p; p = &(*p)->next)
		if (*p == conn) {
			*p = conn->next;
			break;
		}
	conn->next = srv->graveyard;
	srv->graveyard = conn;
}

void xs_conn_free(struct xs_conn *conn)
{
	while (conn->out_head) {
		struct xs_outmsg *m = conn->out_head;

		conn->out_head = m->next;
		free(m);
	}
	xs_watch_remove_all(conn);
	xs_conn_end_all_txns(conn);
	free(conn->home);
	free(conn);
}

static void queue(struct xs_conn *conn, bool is_event, uint32_t type,
		  uint32_t req_id, uint32_t tx_id, const void *p1, unsigned l1,
		  const void *p2, unsigned l2)
{
	struct xsd_sockmsg hdr = {
		.type = type, .req_id = req_id, .tx_id = tx_id, .len = l1 + l2,
	};
	struct xs_outmsg *m;

	if (conn->dead)
		return;
	m = malloc(sizeof(*m) + sizeof(hdr) + l1 + l2);
	if (!m) {
		/* Losing a reply desynchronises the client: let it go. */
		if (!is_event)
			xs_conn_kill(conn, "out of memory");
		return;
	}
	m->next = NULL;
	m->is_event = is_event;
	m->len = sizeof(hdr) + l1 + l2;
	m->off = 0;
	memcpy(m->data, &hdr, sizeof(hdr));
	if (l1)
		memcpy(m->data + sizeof(hdr), p1, l1);
	if (l2)
		memcpy(m->data + sizeof(hdr) + l1, p2, l2);
	*conn->out_tail = m;
	conn->out_tail = &m->next;
	conn->out_bytes += m->len;
}

void xs_conn_reply(struct xs_conn *conn, const struct xsd_sockmsg *req,
		   uint32_t type, const void *data, unsigned len)
{
	if (len > XENSTORE_PAYLOAD_MAX) {
		xs_conn_error(conn, req, E2BIG);
		return;
	}
	queue(conn, false, type, req->req_id, req->tx_id, data, len, NULL, 0);
}

static const char *errno_name(int err)
{
	for (size_t i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
		if (xsd_errors[i].errnum == err)
			return xsd_errors[i].errstring;
	return "EINVAL";  /* xenstored's answer to an untranslatable error */
}

void xs_conn_error(struct xs_conn *conn, const struct xsd_sockmsg *req, int err)
{
	const char *s = errno_name(err);

	conn->srv->stats.errors++;
	queue(conn, false, XS_ERROR, req->req_id, req->tx_id, s,
	      (unsigned)strlen(s) + 1, NULL, 0);
}

void xs_conn_event(struct xs_conn *conn, const char *path, const char *token)
{
	size_t plen = strlen(path) + 1, tlen = strlen(token) + 1;

	if (plen + tlen > XENSTORE_PAYLOAD_MAX)
		return;
	/* Like xenstored, an identical node event still waiting to be sent
	 * is not queued twice. */
	if (path[0] != '@') {
		unsigned scanned = 0;

		for (struct xs_outmsg *m = conn->out_head;
		     m && scanned < XS_DEDUP_SCAN; m = m->next, scanned++)
			if (m->is_event && m->off == 0 &&
			    m->len == sizeof(struct xsd_sockmsg) + plen + tlen &&
			    !memcmp(m->data + sizeof(struct xsd_sockmsg), path, plen) &&
			    !memcmp(m->data + sizeof(struct xsd_sockmsg) + plen,
				    token, tlen))
				return;
	}
	if (conn->out_bytes >= (xs_domid_is_privileged(conn->domid) ?
				conn->srv->limits.out_hard_priv :
				conn->srv->limits.out_hard)) {
		conn->srv->stats.events_dropped++;
		if (!conn->events_dropped++)
			xs_log(conn->srv, "domain %u does not read its watch "
			       "events, dropping them", conn->domid);
		return;
	}
	queue(conn, true, XS_WATCH_EVENT, 0, 0, path, (unsigned)plen, token,
	      (unsigned)tlen);
}

void xs_conn_flush(struct xs_conn *conn)
{
	while (!conn->dead && conn->out_head) {
		struct xs_outmsg *m = conn->out_head;
		ssize_t n = send(conn->fd, m->data + m->off, m->len - m->off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				xs_conn_kill(conn, NULL);
			break;
		}
		m->off += (size_t)n;
		conn->out_bytes -= (size_t)n;
		if (m->off < m->len)
			break;
		conn->out_head = m->next;
		if (!conn->out_head)
			conn->out_tail = &conn->out_head;
		free(m);
	}
	set_epoll(conn);
}

/* Reads toward the end of the current header or body. Returns 1 when that
 * part is complete, 0 when the socket has nothing more now, -1 when the
 * connection is gone. */
static int read_part(struct xs_conn *conn, void *buf, unsigned want,
		     unsigned *used)
{
	while (*used < want) {
		ssize_t n = recv(conn->fd, (char *)buf + *used, want - *used,
				 MSG_DONTWAIT);

		if (n == 0) {
			xs_conn_kill(conn, NULL);
			return -1;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			xs_conn_kill(conn, NULL);
			return -1;
		}
		*used += (unsigned)n;
	}
	return 1;
}

static void read_requests(struct xs_conn *conn)
{
	for (int i = 0; i < XS_CONN_BATCH && !conn->dead; i++) {
		if (conn->out_bytes >= conn->srv->limits.out_soft)
			break;  /* resumed by xs_conn_flush */
		if (conn->hdr_used < sizeof(conn->hdr)) {
			if (read_part(conn, &conn->hdr, sizeof(conn->hdr),
				      &conn->hdr_used) <= 0)
				return;
			/* Past this the stream cannot be resynchronised. */
			if (conn->hdr.len > XENSTORE_PAYLOAD_MAX) {
				conn->srv->stats.protocol_drops++;
				xs_conn_kill(conn, "oversized request");
				return;
			}
			conn->body_used = 0;
		}
		if (read_part(conn, conn->body, conn->hdr.len,
			      &conn->body_used) <= 0)
			return;
		conn->body[conn->hdr.len] = '\0';
		conn->srv->stats.requests++;
		xs_dispatch(conn);
		conn->hdr_used = 0;
	}
}

void xs_conn_handle(struct xs_conn *conn, uint32_t epoll_events)
{
	if (conn->dead)
		return;
	if (epoll_events & EPOLLOUT)
		xs_conn_flush(conn);
	if (epoll_events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		read_requests(conn);
	if (!conn->dead)
		xs_conn_flush(conn);
}
