/* Daemon side of event channels: handle slots, binding and closing ports
 * (Xen's evtchn_alloc_unbound / evtchn_bind_interdomain / evtchn_close),
 * with Xen's errors: unknown remote domain ESRCH; remote port not unbound
 * or not offered to the caller EINVAL; no free port ENOSPC. */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "sim/daemon.h"
#include "sim/sim_evq.h"

static void init_queue_cells(struct sim_evq *q)
{
	for (uint64_t i = 0; i < SIM_EVQ_CAP; i++)
		atomic_store(&q->cell[i].seq, i);
	atomic_store(&q->head, 0);
	atomic_store(&q->tail, 0);
}

int evt_svc_open(struct xensim *x, struct sim_conn *c, int efd, uint32_t *slot, uint32_t *gen)
{
	struct sim_dom *d = c->dom;

	if (c->evt_slot >= 0)
		return EBUSY;
	for (unsigned s = 0; s < SIM_NR_EVH; s++) {
		struct sim_evq *q = &d->ev->q[s];

		if (d->efd[s] >= 0)
			continue;
		if (atomic_load(&q->gen) == 0)
			init_queue_cells(q); /* first use: nobody can see it yet */
		else
			sim_evq_init(q);
		*gen = atomic_fetch_add(&q->gen, 1) + 1;
		if ((*gen & 0xffffu) == 0) /* 0 never names a live handle */
			*gen = atomic_fetch_add(&q->gen, 1) + 1;
		d->efd[s] = efd;
		c->evt_slot = (int)s;
		*slot = s;
		return 0;
	}
	return EMFILE;
}

static uint32_t port_alloc(struct sim_dom *d)
{
	for (uint32_t p = 1; p < SIM_NR_PORTS; p++)
		if (SIM_EVB_STATUS(atomic_load(&d->ev->port[p].binding)) == SIM_EVS_FREE)
			return p;
	return 0;
}

static uint64_t own_binding(struct sim_dom *d, struct sim_conn *c, unsigned status,
			    unsigned rdom, unsigned rport)
{
	unsigned gen = atomic_load(&d->ev->q[c->evt_slot].gen) & 0xffffu;

	return SIM_EVB(status, rdom, rport, (unsigned)c->evt_slot, gen);
}

int evt_svc_bind_unbound(struct xensim *x, struct sim_conn *c, uint32_t rdom, uint32_t *port)
{
	struct sim_dom *d = c->dom;
	uint32_t p;

	if (c->evt_slot < 0)
		return EBADF;
	rdom &= 0xffffu; /* a domid_t in the hypercall */
	if (rdom == SIM_DOMID_SELF)
		rdom = d->domid;
	p = port_alloc(d);
	if (!p)
		return ENOSPC;
	atomic_store(&d->ev->port[p].bits, 0);
	atomic_store(&d->ev->port[p].binding, own_binding(d, c, SIM_EVS_UNBOUND, rdom, 0));
	*port = p;
	return 0;
}

static void raise_local(struct sim_dom *d, uint32_t port)
{
	uint64_t b = atomic_load(&d->ev->port[port].binding);
	unsigned slot;

	if (sim_evq_raise(d->ev, port, b, &slot) && d->efd[slot] >= 0)
		sim_evq_wake(&d->ev->q[slot], d->efd[slot]);
}

int evt_svc_bind_inter(struct xensim *x, struct sim_conn *c, uint32_t rdom, uint32_t rport,
		       uint32_t *port)
{
	struct sim_dom *d = c->dom, *rd;
	uint64_t rb;
	uint32_t p;

	if (c->evt_slot < 0)
		return EBADF;
	if (rdom == SIM_DOMID_SELF)
		rdom = d->domid;
	rd = sim_dom_get(x, rdom);
	if (!rd)
		return ESRCH;
	if (rport == 0 || rport >= SIM_NR_PORTS)
		return EINVAL;
	rb = atomic_load(&rd->ev->port[rport].binding);
	if (SIM_EVB_STATUS(rb) != SIM_EVS_UNBOUND || SIM_EVB_RDOM(rb) != d->domid)
		return EINVAL;
	p = port_alloc(d);
	if (!p)
		return ENOSPC;
	atomic_store(&d->ev->port[p].bits, 0);
	atomic_store(&d->ev->port[p].binding, own_binding(d, c, SIM_EVS_INTERDOMAIN, rdom, rport));
	atomic_store(&rd->ev->port[rport].binding,
		     SIM_EVB(SIM_EVS_INTERDOMAIN, d->domid, p, SIM_EVB_SLOT(rb), SIM_EVB_GEN(rb)));
	/* Xen marks the new local port pending: notifications sent to the
	 * unbound port before the bind may have been lost. */
	raise_local(d, p);
	*port = p;
	return 0;
}

/* Xen's evtchn_close: the peer's end of an interdomain channel becomes
 * unbound, offered again to the domain that closed. */
static void port_close(struct xensim *x, struct sim_dom *d, uint32_t port)
{
	uint64_t b = atomic_load(&d->ev->port[port].binding);

	if (SIM_EVB_STATUS(b) == SIM_EVS_INTERDOMAIN) {
		struct sim_dom *rd = sim_dom_get(x, SIM_EVB_RDOM(b));
		unsigned rport = SIM_EVB_RPORT(b);

		if (rd && rport < SIM_NR_PORTS) {
			uint64_t rb = atomic_load(&rd->ev->port[rport].binding);

			if (SIM_EVB_PEER_OF(rb, d->domid, port))
				atomic_store(&rd->ev->port[rport].binding,
					     SIM_EVB(SIM_EVS_UNBOUND, d->domid, 0, SIM_EVB_SLOT(rb),
						     SIM_EVB_GEN(rb)));
		}
	}
	atomic_store(&d->ev->port[port].binding, 0);
	atomic_store(&d->ev->port[port].bits, 0);
}

static bool owned_by(struct sim_dom *d, uint32_t port, struct sim_conn *c)
{
	uint64_t b = atomic_load(&d->ev->port[port].binding);

	return c->evt_slot >= 0 && SIM_EVB_STATUS(b) != SIM_EVS_FREE &&
	       SIM_EVB_SLOT(b) == (unsigned)c->evt_slot &&
	       SIM_EVB_GEN(b) == (atomic_load(&d->ev->q[c->evt_slot].gen) & 0xffffu);
}

int evt_svc_unbind(struct xensim *x, struct sim_conn *c, uint32_t port)
{
	if (port == 0 || port >= SIM_NR_PORTS)
		return EINVAL;
	if (!owned_by(c->dom, port, c))
		return ENOTCONN;
	port_close(x, c->dom, port);
	return 0;
}

void evt_svc_conn_closed(struct xensim *x, struct sim_conn *c)
{
	struct sim_dom *d = c->dom;

	if (c->evt_slot < 0)
		return;
	for (uint32_t p = 1; p < SIM_NR_PORTS; p++)
		if (owned_by(d, p, c))
			port_close(x, d, p);
	close(d->efd[c->evt_slot]);
	d->efd[c->evt_slot] = -1;
	c->evt_slot = -1;
}

void evt_svc_dom_dying(struct xensim *x, struct sim_dom *d)
{
	for (uint32_t p = 1; p < SIM_NR_PORTS; p++)
		if (SIM_EVB_STATUS(atomic_load(&d->ev->port[p].binding)) != SIM_EVS_FREE)
			port_close(x, d, p);
}

void evt_svc_notify(struct xensim *x, struct sim_dom *d, uint32_t port)
{
	uint64_t b, rb;
	struct sim_dom *rd;
	unsigned rport, slot;

	if (port == 0 || port >= SIM_NR_PORTS)
		return;
	b = atomic_load(&d->ev->port[port].binding);
	if (SIM_EVB_STATUS(b) != SIM_EVS_INTERDOMAIN)
		return;
	rd = sim_dom_get(x, SIM_EVB_RDOM(b));
	rport = SIM_EVB_RPORT(b);
	if (!rd || rport == 0 || rport >= SIM_NR_PORTS)
		return;
	rb = atomic_load(&rd->ev->port[rport].binding);
	if (!SIM_EVB_PEER_OF(rb, d->domid, port))
		return;
	if (sim_evq_raise(rd->ev, rport, rb, &slot) && rd->efd[slot] >= 0)
		sim_evq_wake(&rd->ev->q[slot], rd->efd[slot]);
}
