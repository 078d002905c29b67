/* Emulated libxenevtchn.so.1, with the semantics of Linux's /dev/xen/evtchn
 * on Xen: a delivered event masks its port until xenevtchn_unmask; further
 * notifications meanwhile coalesce into one; the handle's fd (an eventfd) is
 * readable while events are queued, and blocking unless the caller sets
 * O_NONBLOCK on it (xenevtchn_pending then fails with EAGAIN when nothing
 * is queued, as the driver's read does). Binding goes through the daemon;
 * notify, pending and unmask work on shared memory only (the peer's eventfd
 * is fetched once and cached). Error numbers are those of Linux's evtchn
 * driver and Xen's event_channel.c. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xenevtchn.h>

#include "sim/sim_client.h"
#include "sim/sim_evq.h"

#define EFD_CACHE 1024u /* open addressing, power of two */
#define UNRESTRICTED ~0u

struct evt_peer {
	_Atomic uint32_t incarnation;
	struct sim_evtchn *ev;
};

struct efd_entry {
	uint32_t key; /* domid * SIM_NR_EVH + slot + 1, 0 = empty */
	uint32_t incarnation; /* of the domain: slots and generations restart */
	uint32_t gen;
	int fd;
};

struct xenevtchn_handle {
	struct sim_client c;
	pthread_mutex_t lock; /* peer refresh and the eventfd cache */
	pthread_mutex_t rd_lock; /* consumers: only its holder reads efd */
	int efd; /* blocking as the driver's fd, unless the user sets O_NONBLOCK */
	unsigned slot;
	struct sim_evtchn *own;
	unsigned restrict_domid;
	_Atomic uint64_t owned[SIM_NR_PORTS / 64];
	struct evt_peer *peers; /* indexed by domid */
	struct efd_entry efds[EFD_CACHE];
};

static bool owned(xenevtchn_handle *h, evtchn_port_t port)
{
	return port < SIM_NR_PORTS &&
	       (atomic_load_explicit(&h->owned[port / 64], memory_order_relaxed) >> (port % 64)) & 1;
}

static void set_owned(xenevtchn_handle *h, evtchn_port_t port, bool on)
{
	uint64_t bit = 1ull << (port % 64);

	if (on)
		atomic_fetch_or(&h->owned[port / 64], bit);
	else
		atomic_fetch_and(&h->owned[port / 64], ~bit);
}

static int call(xenevtchn_handle *h, struct sim_msg *req, int *rfds, unsigned *nrfds,
		const int *fds, unsigned nfds)
{
	void *rep = malloc(SIM_MSG_MAX);
	int rc;

	if (!rep)
		return -ENOMEM;
	rc = sim_client_call(&h->c, req, NULL, 0, fds, nfds, rep, rfds, nrfds);
	if (!rc)
		*req = *(struct sim_msg *)rep;
	free(rep);
	return rc;
}

xenevtchn_handle *xenevtchn_open(struct xentoollog_logger *logger, unsigned int flags)
{
	xenevtchn_handle *h = calloc(1, sizeof(*h));
	struct sim_msg req = { .op = SIM_OP_OPEN_EVT };
	int fds[SIM_MAX_FDS];
	unsigned nfds = 0;
	int rc;

	if (!h) {
		errno = ENOMEM;
		return NULL;
	}
	h->efd = -1;
	h->c.sock = -1; /* nothing to close if we fail before connecting */
	h->restrict_domid = UNRESTRICTED;
	pthread_mutex_init(&h->lock, NULL);
	pthread_mutex_init(&h->rd_lock, NULL);
	h->peers = calloc(SIM_NR_DOMIDS, sizeof(*h->peers));
	rc = h->peers ? sim_client_open(&h->c, "xenevtchn") : -ENOMEM;
	if (rc)
		goto fail;
	/* Blocking, as libxenevtchn opens /dev/xen/evtchn: what the user sees
	 * with F_GETFL, and what xenevtchn_pending obeys. */
	h->efd = eventfd(0, (flags & XENEVTCHN_NO_CLOEXEC) ? 0 : EFD_CLOEXEC);
	if (h->efd < 0) {
		rc = -errno;
		goto fail;
	}
	rc = call(h, &req, fds, &nfds, &h->efd, 1);
	if (!rc && (nfds != 1 || req.a >= SIM_NR_EVH))
		rc = -EPROTO;
	if (!rc) {
		h->own = sim_map_fd(fds[0], sizeof(*h->own));
		if (!h->own)
			rc = -errno;
	}
	for (unsigned i = 0; i < nfds; i++)
		close(fds[i]);
	if (rc)
		goto fail;
	h->slot = req.a;
	return h;
fail:
	xenevtchn_close(h);
	errno = -rc;
	return NULL;
}

xenevtchn_handle *xenevtchn_fdopen(struct xentoollog_logger *logger, int fd, unsigned open_flags)
{
	/* The handle's state lives in its daemon connection, not in the fd. */
	errno = EOPNOTSUPP;
	return NULL;
}

int xenevtchn_close(xenevtchn_handle *h)
{
	if (!h)
		return 0;
	/* The daemon unbinds every port of the handle when the connection
	 * closes, as the evtchn driver does on release. */
	sim_client_close(&h->c);
	if (h->peers) {
		for (unsigned d = 0; d < SIM_NR_DOMIDS; d++)
			if (h->peers[d].incarnation)
				munmap(h->peers[d].ev, sizeof(struct sim_evtchn));
		free(h->peers);
	}
	for (unsigned i = 0; i < EFD_CACHE; i++)
		if (h->efds[i].key)
			close(h->efds[i].fd);
	if (h->own)
		munmap(h->own, sizeof(*h->own));
	if (h->efd >= 0)
		close(h->efd);
	pthread_mutex_destroy(&h->lock);
	pthread_mutex_destroy(&h->rd_lock);
	free(h);
	return 0;
}

int xenevtchn_fd(xenevtchn_handle *h)
{
	return h->efd;
}

/* The event-channel table of `domid` (own domain included), or NULL when
 * the domain is gone. */
static struct sim_evtchn *peer_table(xenevtchn_handle *h, unsigned domid)
{
	uint32_t inc = sim_client_alive(&h->c, domid);
	struct evt_peer *p;

	if (domid == h->c.domid)
		return h->own;
	if (!inc)
		return NULL;
	p = &h->peers[domid];
	if (atomic_load_explicit(&p->incarnation, memory_order_acquire) == inc)
		return p->ev;
	pthread_mutex_lock(&h->lock);
	if (p->incarnation != inc) {
		struct sim_msg req = { .op = SIM_OP_PEER_EVT, .a = domid };
		int fds[SIM_MAX_FDS];
		unsigned nfds = 0;
		struct sim_evtchn *ev = NULL;

		if (!call(h, &req, fds, &nfds, NULL, 0) && nfds == 1 && req.a == inc)
			ev = sim_map_fd(fds[0], sizeof(*ev));
		for (unsigned i = 0; i < nfds; i++)
			close(fds[i]);
		if (ev) {
			if (p->incarnation)
				munmap(p->ev, sizeof(*p->ev));
			p->ev = ev;
			atomic_store_explicit(&p->incarnation, inc, memory_order_release);
		}
	}
	pthread_mutex_unlock(&h->lock);
	return p->incarnation == inc ? p->ev : NULL;
}

/* The eventfd of handle `slot` in incarnation `inc` of `domid` whose
 * generation is `gen` (16 bits, as in the binding), or -1 if that handle is
 * gone. Fetched from the daemon once and cached; *temp is set when the
 * cache is full and the caller must close the fd after use. */
static int peer_efd(xenevtchn_handle *h, unsigned domid, uint32_t inc, unsigned slot,
		    unsigned gen, bool *temp)
{
	uint32_t key = domid * SIM_NR_EVH + slot + 1;
	struct sim_msg req = { .op = SIM_OP_PEER_EFD, .a = domid, .b = slot };
	struct efd_entry *e = NULL;
	int fds[SIM_MAX_FDS], fd = -1;
	unsigned nfds = 0;

	*temp = false;
	if (domid == h->c.domid && slot == h->slot)
		return h->efd;
	pthread_mutex_lock(&h->lock);
	for (unsigned n = 0, i = key * 2654435761u % EFD_CACHE; n < EFD_CACHE;
	     n++, i = (i + 1) % EFD_CACHE) {
		e = &h->efds[i];
		if (!e->key || e->key == key)
			break;
		e = NULL;
	}
	if (e && e->key == key && e->incarnation == inc && (e->gen & 0xffffu) == gen) {
		fd = e->fd;
		goto out;
	}
	if (call(h, &req, fds, &nfds, NULL, 0) || nfds != 1 || (req.a & 0xffffu) != gen ||
	    req.b != inc) {
		for (unsigned k = 0; k < nfds; k++)
			close(fds[k]);
		goto out;
	}
	fd = fds[0];
	if (!e) {
		*temp = true;
		goto out;
	}
	if (e->key)
		close(e->fd); /* an older handle in the same slot */
	*e = (struct efd_entry){ .key = key, .incarnation = inc, .gen = req.a, .fd = fd };
out:
	pthread_mutex_unlock(&h->lock);
	return fd;
}

int xenevtchn_notify(xenevtchn_handle *h, evtchn_port_t port)
{
	struct sim_evtchn *peer;
	uint64_t b, rb;
	unsigned rdom, rport, slot;

	if (!owned(h, port)) {
		errno = ENOTCONN;
		return -1;
	}
	b = atomic_load_explicit(&h->own->port[port].binding, memory_order_acquire);
	/* Unbound (never connected, or the peer closed or died): Xen drops it. */
	if (SIM_EVB_STATUS(b) != SIM_EVS_INTERDOMAIN)
		return 0;
	rdom = SIM_EVB_RDOM(b);
	rport = SIM_EVB_RPORT(b);
	peer = peer_table(h, rdom);
	if (!peer || rport == 0 || rport >= SIM_NR_PORTS)
		return 0;
	rb = atomic_load_explicit(&peer->port[rport].binding, memory_order_acquire);
	if (!SIM_EVB_PEER_OF(rb, h->c.domid, port))
		return 0;
	if (sim_evq_raise(peer, rport, rb, &slot)) {
		/* -1: the owning handle closed meanwhile, nobody to wake. */
		bool temp;
		int fd = peer_efd(h, rdom, peer->incarnation, slot, SIM_EVB_GEN(rb), &temp);

		if (fd >= 0)
			sim_evq_wake(&peer->q[slot], fd);
		if (temp)
			close(fd);
	}
	return 0;
}

/* Asks the daemon for a binding (req: op and arguments); the new local
 * port becomes this handle's. EACCES when the handle's restriction
 * forbids it. */
static xenevtchn_port_or_error_t bind_port(xenevtchn_handle *h, struct sim_msg *req, bool allowed)
{
	int rc;

	if (!allowed) {
		errno = EACCES;
		return -1;
	}
	rc = call(h, req, NULL, NULL, NULL, 0);
	if (rc) {
		errno = -rc;
		return -1;
	}
	set_owned(h, req->a, true);
	return (xenevtchn_port_or_error_t)req->a;
}

xenevtchn_port_or_error_t xenevtchn_bind_unbound_port(xenevtchn_handle *h, uint32_t domid)
{
	struct sim_msg req = { .op = SIM_OP_BIND_UNBOUND, .a = domid };

	/* a restricted handle may only bind to its domain's offers */
	return bind_port(h, &req, h->restrict_domid == UNRESTRICTED);
}

xenevtchn_port_or_error_t xenevtchn_bind_interdomain(xenevtchn_handle *h, uint32_t domid,
						     evtchn_port_t remote_port)
{
	struct sim_msg req = { .op = SIM_OP_BIND_INTER, .a = domid, .b = remote_port };

	return bind_port(h, &req, h->restrict_domid == UNRESTRICTED || h->restrict_domid == domid);
}

xenevtchn_port_or_error_t xenevtchn_bind_virq(xenevtchn_handle *h, unsigned int virq)
{
	/* The emulator raises no virtual IRQs. */
	errno = EOPNOTSUPP;
	return -1;
}

int xenevtchn_unbind(xenevtchn_handle *h, evtchn_port_t port)
{
	struct sim_msg req = { .op = SIM_OP_UNBIND, .a = port };
	int rc;

	if (port >= SIM_NR_PORTS) {
		errno = EINVAL;
		return -1;
	}
	if (!owned(h, port)) {
		errno = ENOTCONN;
		return -1;
	}
	set_owned(h, port, false);
	rc = call(h, &req, NULL, NULL, NULL, 0);
	if (rc) {
		errno = -rc;
		return -1;
	}
	return 0;
}

/* Linux's evtchn read: the next delivered port; with nothing queued it
 * waits, or fails with EAGAIN when the fd is O_NONBLOCK; EFBIG once the
 * ring overflowed.
 * Linux's fd is readable only while ports are queued, so a read after a
 * readable poll never waits there. Here the eventfd is a doorbell a
 * producer rings after queueing, which can come after we took its port:
 * a read that finds the fd readable and nothing queued returns as a
 * nonblocking one (EAGAIN) instead of waiting where Linux would not (a
 * netbackd worker stuck so on a disabled vif hung its teardown). */
xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *h)
{
	struct sim_evq *q = &h->own->q[h->slot];
	struct pollfd pfd = { .fd = h->efd, .events = POLLIN };
	uint32_t port;
	bool empty, stale_doorbell;
	int fl;

	for (bool first = true;; first = false) {
		pthread_mutex_lock(&h->rd_lock);
		if (sim_evq_pop(q, &port)) {
			if (sim_evq_empty(q))
				sim_evq_quiesce(q, h->efd);
			else
				sim_evq_wake(q, h->efd); /* keep the fd readable */
			pthread_mutex_unlock(&h->rd_lock);
			return (xenevtchn_port_or_error_t)port;
		}
		if (atomic_load(&q->overflow)) {
			pthread_mutex_unlock(&h->rd_lock);
			errno = EFBIG; /* the evtchn driver's ring overflow */
			return -1;
		}
		stale_doorbell = first && poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
		sim_evq_quiesce(q, h->efd); /* a stale wakeup must not stay readable */
		empty = sim_evq_empty(q);
		pthread_mutex_unlock(&h->rd_lock);
		if (!empty)
			continue;
		fl = fcntl(h->efd, F_GETFL);
		if (fl < 0)
			return -1;
		if ((fl & O_NONBLOCK) || stale_doorbell) {
			errno = EAGAIN;
			return -1;
		}
		/* The device read blocks until an event arrives. */
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			return -1;
	}
}

int xenevtchn_unmask(xenevtchn_handle *h, evtchn_port_t port)
{
	/* Linux ignores ports the handle does not own. */
	if (owned(h, port) && sim_evq_unmask(h->own, port, h->slot))
		sim_evq_wake(&h->own->q[h->slot], h->efd);
	return 0;
}

int xenevtchn_restrict(xenevtchn_handle *h, domid_t domid)
{
	if (h->restrict_domid != UNRESTRICTED) {
		errno = EACCES;
		return -1;
	}
	if (domid == 0 || domid >= SIM_NR_DOMIDS) {
		errno = EINVAL;
		return -1;
	}
	h->restrict_domid = domid;
	return 0;
}
