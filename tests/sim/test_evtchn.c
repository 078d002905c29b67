/* Conformance of the emulated libxenevtchn with Xen's event_channel.c and
 * Linux's /dev/xen/evtchn: a guest process (domain 1) offers an unbound
 * port, this process (dom0) binds to it, and both sides notify. Ordering
 * between the processes goes through pipes, so no assertion depends on
 * timing: "no event" is checked with poll(0) after the sender is known to
 * be done. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <xenevtchn.h>

#include <cmocka.h>

#include "tests/lib/simenv.h"
#include "tests/sim/sim_test_util.h"

#define GUEST 1
#define OTHER 2

static int setup(void **state)
{
	return sim_fixture_setup(state, SIM_FIX_EVTCHN);
}

/* The guest side: a script of steps driven by single-byte commands. */
struct guest {
	pid_t pid;
	int cmd, reply;
	int other_ends[2]; /* the test's ends, closed in the guest */
	unsigned offer_to;
};

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static bool wait_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 60000) == 1;   /* a hang's bound, x10 for memcheck */
}

static int32_t rd32(int fd)
{
	int32_t v;

	return read(fd, &v, sizeof(v)) == sizeof(v) ? v : -1000;
}

static void wr32(int fd, int32_t v)
{
	if (write(fd, &v, sizeof(v)) != sizeof(v))
		abort();
}

/* Guest commands: 'n' notify, 'p' wait for an event and report the port
 * (without unmasking), 'c' count queued events without blocking, 'm'
 * unmask, 'u' unbind, 'q' quit. Each reply is one int32. */
static int guest_main(void *arg)
{
	struct guest *g = arg;
	xenevtchn_handle *ev = xenevtchn_open(NULL, 0);
	int port;
	char c;

	close(g->other_ends[0]);
	close(g->other_ends[1]);
	if (!ev)
		return 10;
	port = xenevtchn_bind_unbound_port(ev, g->offer_to);
	wr32(g->reply, port);
	while (read(g->cmd, &c, 1) == 1) {
		switch (c) {
		case 'n':
			wr32(g->reply, xenevtchn_notify(ev, (evtchn_port_t)port) ? -errno : 0);
			break;
		case 'p':
			wr32(g->reply, wait_readable(xenevtchn_fd(ev)) ? xenevtchn_pending(ev) : -1);
			break;
		case 'c':
			wr32(g->reply, readable(xenevtchn_fd(ev)));
			break;
		case 'm':
			wr32(g->reply, xenevtchn_unmask(ev, (evtchn_port_t)port));
			break;
		case 'u':
			wr32(g->reply, xenevtchn_unbind(ev, (evtchn_port_t)port) ? -errno : 0);
			break;
		case 'q':
			xenevtchn_close(ev);
			return 0;
		}
	}
	return 11;
}

static int guest_start(struct sim_fixture *f, struct guest *g, unsigned domid, unsigned offer_to)
{
	int cmd[2], rep[2];

	if (pipe(cmd) || pipe(rep))
		return -1;
	g->offer_to = offer_to;
	g->cmd = cmd[0];
	g->reply = rep[1];
	g->other_ends[0] = cmd[1];
	g->other_ends[1] = rep[0];
	g->pid = simenv_spawn(f->env, domid, guest_main, g);
	close(cmd[0]);
	close(rep[1]);
	g->cmd = cmd[1];
	g->reply = rep[0];
	return rd32(g->reply); /* the offered port */
}

static int32_t guest_do(struct guest *g, char c)
{
	if (write(g->cmd, &c, 1) != 1)
		return -1000;
	return rd32(g->reply);
}

static int guest_stop(struct guest *g)
{
	guest_do(g, 'q');
	close(g->cmd);
	close(g->reply);
	return simenv_wait(g->pid);
}

/* Xen sets the new local port pending at bind_interdomain: consume that. */
static int bind_to_guest(struct sim_fixture *f, int rport)
{
	int lport = xenevtchn_bind_interdomain(f->ev, GUEST, (evtchn_port_t)rport);

	assert_true(lport > 0);
	assert_true(readable(xenevtchn_fd(f->ev)));
	assert_int_equal(xenevtchn_pending(f->ev), lport);
	assert_false(readable(xenevtchn_fd(f->ev)));
	assert_int_equal(xenevtchn_unmask(f->ev, (evtchn_port_t)lport), 0);
	return lport;
}

static void bind_interdomain_notify_both_ways(void **state)
{
	struct sim_fixture *f = *state;
	struct guest g;
	int rport = guest_start(f, &g, GUEST, 0), lport;

	assert_true(rport > 0);
	lport = bind_to_guest(f, rport);
	assert_int_equal(xenevtchn_notify(f->ev, (evtchn_port_t)lport), 0);
	assert_int_equal(guest_do(&g, 'p'), rport);
	assert_int_equal(guest_do(&g, 'm'), 0);
	assert_int_equal(guest_do(&g, 'n'), 0);
	assert_true(wait_readable(xenevtchn_fd(f->ev)));
	assert_int_equal(xenevtchn_pending(f->ev), lport);
	assert_int_equal(xenevtchn_unmask(f->ev, (evtchn_port_t)lport), 0);
	assert_int_equal(xenevtchn_unbind(f->ev, (evtchn_port_t)lport), 0);
	assert_int_equal(guest_stop(&g), 0);
}

/* Notifications while the port is pending coalesce into one event; while
 * the port is masked (delivered, not yet unmasked) further ones become a
 * single pending event delivered at unmask. */
static void notify_coalesces_and_masks_until_unmask(void **state)
{
	struct sim_fixture *f = *state;
	struct guest g;
	int rport = guest_start(f, &g, GUEST, 0), lport = bind_to_guest(f, rport);

	for (int i = 0; i < 5; i++)
		assert_int_equal(xenevtchn_notify(f->ev, (evtchn_port_t)lport), 0);
	assert_int_equal(guest_do(&g, 'p'), rport);
	assert_int_equal(guest_do(&g, 'c'), 0); /* one event for five notifies */
	for (int i = 0; i < 3; i++)
		assert_int_equal(xenevtchn_notify(f->ev, (evtchn_port_t)lport), 0);
	assert_int_equal(guest_do(&g, 'c'), 0); /* masked: nothing delivered */
	assert_int_equal(guest_do(&g, 'm'), 0);
	assert_int_equal(guest_do(&g, 'c'), 1); /* the pending one, once */
	assert_int_equal(guest_do(&g, 'p'), rport);
	assert_int_equal(guest_do(&g, 'm'), 0);
	assert_int_equal(guest_do(&g, 'c'), 0);
	assert_int_equal(guest_stop(&g), 0);
}

/* libxenevtchn's fd is /dev/xen/evtchn opened blocking; a user may make it
 * O_NONBLOCK, and then the driver's read (xenevtchn_pending) fails with
 * EAGAIN when nothing is queued instead of waiting. */
static void pending_nonblocking_fd_eagain(void **state)
{
	struct sim_fixture *f = *state;
	struct guest g;
	int rport = guest_start(f, &g, GUEST, 0), lport = bind_to_guest(f, rport);
	int fd = xenevtchn_fd(f->ev), fl = fcntl(fd, F_GETFL);

	assert_true(fl >= 0);
	assert_false(fl & O_NONBLOCK);
	assert_int_equal(fcntl(fd, F_SETFL, fl | O_NONBLOCK), 0);
	errno = 0;
	assert_int_equal(xenevtchn_pending(f->ev), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(guest_do(&g, 'n'), 0);
	assert_true(wait_readable(fd));
	assert_int_equal(xenevtchn_pending(f->ev), lport);
	errno = 0;
	assert_int_equal(xenevtchn_pending(f->ev), -1);
	assert_int_equal(errno, EAGAIN);
	assert_false(readable(fd));
	assert_int_equal(xenevtchn_unmask(f->ev, (evtchn_port_t)lport), 0);
	assert_int_equal(fcntl(fd, F_SETFL, fl), 0);
	assert_int_equal(guest_stop(&g), 0);
}

/* A read after the fd polled readable never waits in Linux (the fd is
 * readable only while ports are queued). The emulator's eventfd is a
 * doorbell that can ring after its port was taken; a pending then must
 * not wait for an event that may never come (as netbackd's worker did on
 * a disabled vif, hanging its teardown). The doorbell rings here by hand,
 * with nothing queued; without the fix the call blocks and alarm ends
 * the test. */
static void pending_after_late_doorbell_does_not_wait(void **state)
{
	xenevtchn_handle *h = xenevtchn_open(NULL, 0);
	uint64_t one = 1;
	int fd;

	(void)state;
	assert_non_null(h);
	fd = xenevtchn_fd(h);
	assert_int_equal(write(fd, &one, sizeof(one)), sizeof(one));
	assert_true(readable(fd));
	alarm(60); /* a hang's bound */
	errno = 0;
	assert_int_equal(xenevtchn_pending(h), -1);
	assert_int_equal(errno, EAGAIN);
	alarm(0);
	assert_int_equal(xenevtchn_close(h), 0);
}

/* Blocking fd: xenevtchn_pending waits for the event instead of failing. */
static void *pending_thread(void *arg)
{
	return (void *)(intptr_t)xenevtchn_pending(arg);
}

static void pending_blocking_fd_waits(void **state)
{
	struct sim_fixture *f = *state;
	struct guest g;
	int rport = guest_start(f, &g, GUEST, 0), lport = bind_to_guest(f, rport);
	pthread_t t;
	void *ret;

	assert_int_equal(pthread_create(&t, NULL, pending_thread, f->ev), 0);
	assert_int_equal(guest_do(&g, 'n'), 0);
	assert_int_equal(pthread_join(t, &ret), 0);
	assert_int_equal((intptr_t)ret, lport);
	assert_int_equal(xenevtchn_unmask(f->ev, (evtchn_port_t)lport), 0);
	assert_int_equal(guest_stop(&g), 0);
}

static void fd_works_with_epoll(void **state)
{
	struct sim_fixture *f = *state;
	struct guest g;
	int rport = guest_start(f, &g, GUEST, 0), lport = bind_to_guest(f, rport);
	struct epoll_event ev = { .events = EPOLLIN }, out;
	int ep = epoll_create1(0);

	assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, xenevtchn_fd(f->ev), &ev), 0);
	assert_int_equal(epoll_wait(ep, &out, 1, 0), 0);
	assert_int_equal(guest_do(&g, 'n'), 0);
	assert_int_equal(epoll_wait(ep, &out, 1, 10000), 1);
	assert_int_equal(xenevtchn_pending(f->ev), lport);
	assert_int_equal(epoll_wait(ep, &out, 1, 0), 0);
	assert_int_equal(xenevtchn_unmask(f->ev, (evtchn_port_t)lport), 0);
	close(ep);
	assert_int_equal(guest_stop(&g), 0);
}

/* Peer unbind: our end becomes unbound, notify succeeds and is dropped
 * (Xen's evtchn_send on ECS_UNBOUND). */
static void peer_unbind_makes_port_unbound(void **state)
{
	struct sim_fixture *f = *state;
	struct guest g;
	int rport = guest_start(f, &g, GUEST, 0), lport = bind_to_guest(f, rport);

	assert_int_equal(guest_do(&g, 'u'), 0);
	assert_int_equal(xenevtchn_notify(f->ev, (evtchn_port_t)lport), 0);
	assert_int_equal(guest_do(&g, 'c'), 0);
	assert_int_equal(guest_do(&g, 'u'), -ENOTCONN); /* already unbound there */
	assert_int_equal(xenevtchn_unbind(f->ev, (evtchn_port_t)lport), 0);
	assert_int_equal(guest_stop(&g), 0);
}

/* Domain death closes its channels: our end is unbound, notify is
 * dropped, and binding to the dead domain is ESRCH. */
static void peer_death_unbinds_and_binding_fails(void **state)
{
	struct sim_fixture *f = *state;
	struct guest g;
	int rport, lport;

	assert_int_equal(simenv_domain_create(f->env, 3), 0);
	rport = guest_start(f, &g, 3, 0);
	lport = xenevtchn_bind_interdomain(f->ev, 3, (evtchn_port_t)rport);
	assert_true(lport > 0);
	assert_int_equal(xenevtchn_pending(f->ev), lport);
	assert_int_equal(xenevtchn_unmask(f->ev, (evtchn_port_t)lport), 0);
	assert_int_equal(simenv_domain_destroy(f->env, 3), 0);
	assert_int_equal(xenevtchn_notify(f->ev, (evtchn_port_t)lport), 0);
	errno = 0;
	assert_int_equal(xenevtchn_bind_interdomain(f->ev, 3, (evtchn_port_t)rport), -1);
	assert_int_equal(errno, ESRCH);
	assert_int_equal(xenevtchn_unbind(f->ev, (evtchn_port_t)lport), 0);
	guest_stop(&g); /* its domain is gone */
}

/* A domain id reused after destroy: events reach the new domain's handle,
 * not a cached wakeup of the old one. */
static void notify_reaches_recreated_domain(void **state)
{
	struct sim_fixture *f = *state;
	struct guest g;
	int rport, lport;

	for (int round = 0; round < 2; round++) {
		assert_int_equal(simenv_domain_create(f->env, 4), 0);
		rport = guest_start(f, &g, 4, 0);
		assert_true(rport > 0);
		lport = xenevtchn_bind_interdomain(f->ev, 4, (evtchn_port_t)rport);
		assert_true(lport > 0);
		assert_int_equal(xenevtchn_pending(f->ev), lport);
		assert_int_equal(xenevtchn_unmask(f->ev, (evtchn_port_t)lport), 0);
		assert_int_equal(xenevtchn_notify(f->ev, (evtchn_port_t)lport), 0);
		assert_int_equal(guest_do(&g, 'p'), rport);
		assert_int_equal(xenevtchn_unbind(f->ev, (evtchn_port_t)lport), 0);
		assert_int_equal(guest_stop(&g), 0);
		assert_int_equal(simenv_domain_destroy(f->env, 4), 0);
	}
}

/* Xen's evtchn_bind_interdomain: the remote port must be unbound and
 * offered to the caller's domain, else EINVAL. */
static void bind_interdomain_rules(void **state)
{
	struct sim_fixture *f = *state;
	struct guest g, h;
	int other = guest_start(f, &g, GUEST, OTHER), rport, lport;

	assert_true(other > 0);
	errno = 0;
	assert_int_equal(xenevtchn_bind_interdomain(f->ev, GUEST, (evtchn_port_t)other), -1);
	assert_int_equal(errno, EINVAL); /* offered to dom2, not to us */
	rport = guest_start(f, &h, GUEST, 0);
	lport = bind_to_guest(f, rport);
	errno = 0;
	assert_int_equal(xenevtchn_bind_interdomain(f->ev, GUEST, (evtchn_port_t)rport), -1);
	assert_int_equal(errno, EINVAL); /* already connected */
	errno = 0;
	assert_int_equal(xenevtchn_bind_interdomain(f->ev, GUEST, 0), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(xenevtchn_bind_interdomain(f->ev, GUEST, 100000), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(xenevtchn_bind_interdomain(f->ev, 99, 1), -1);
	assert_int_equal(errno, ESRCH);
	assert_int_equal(xenevtchn_unbind(f->ev, (evtchn_port_t)lport), 0);
	assert_int_equal(guest_stop(&h), 0);
	assert_int_equal(guest_stop(&g), 0);
}

/* Linux's evtchn driver: ports of other handles are ENOTCONN for notify
 * and unbind, out-of-range ones EINVAL for unbind; unmask ignores them. */
static void ports_of_other_handles_refused(void **state)
{
	struct sim_fixture *f = *state;
	xenevtchn_handle *other = xenevtchn_open(NULL, 0);
	int port;

	assert_non_null(other);
	port = xenevtchn_bind_unbound_port(other, GUEST);
	assert_true(port > 0);
	errno = 0;
	assert_int_equal(xenevtchn_notify(f->ev, (evtchn_port_t)port), -1);
	assert_int_equal(errno, ENOTCONN);
	errno = 0;
	assert_int_equal(xenevtchn_unbind(f->ev, (evtchn_port_t)port), -1);
	assert_int_equal(errno, ENOTCONN);
	errno = 0;
	assert_int_equal(xenevtchn_unbind(f->ev, 70000), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(xenevtchn_unmask(f->ev, (evtchn_port_t)port), 0);
	assert_int_equal(xenevtchn_notify(other, (evtchn_port_t)port), 0); /* unbound: dropped */
	assert_int_equal(xenevtchn_bind_virq(f->ev, 1), -1);
	assert_int_equal(xenevtchn_close(other), 0);
}

/* Loopback inside one domain, between two handles of one process. */
static void interdomain_loopback_same_domain(void **state)
{
	struct sim_fixture *f = *state;
	xenevtchn_handle *b = xenevtchn_open(NULL, 0);
	int pa, pb;

	assert_non_null(b);
	pa = xenevtchn_bind_unbound_port(f->ev, 0);
	assert_true(pa > 0);
	pb = xenevtchn_bind_interdomain(b, 0, (evtchn_port_t)pa);
	assert_true(pb > 0);
	assert_int_equal(xenevtchn_pending(b), pb);
	assert_int_equal(xenevtchn_unmask(b, (evtchn_port_t)pb), 0);
	assert_false(readable(xenevtchn_fd(f->ev)));
	assert_int_equal(xenevtchn_notify(b, (evtchn_port_t)pb), 0);
	assert_true(readable(xenevtchn_fd(f->ev)));
	assert_int_equal(xenevtchn_pending(f->ev), pa);
	assert_int_equal(xenevtchn_unmask(f->ev, (evtchn_port_t)pa), 0);
	/* closing a handle unbinds its ports: the peer's end becomes unbound */
	assert_int_equal(xenevtchn_close(b), 0);
	assert_int_equal(xenevtchn_notify(f->ev, (evtchn_port_t)pa), 0);
	assert_int_equal(xenevtchn_unbind(f->ev, (evtchn_port_t)pa), 0);
}

static void restrict_limits_binding(void **state)
{
	xenevtchn_handle *r = xenevtchn_open(NULL, 0);

	assert_non_null(r);
	errno = 0;
	assert_int_equal(xenevtchn_restrict(r, 0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(xenevtchn_restrict(r, GUEST), 0);
	errno = 0;
	assert_int_equal(xenevtchn_restrict(r, OTHER), -1);
	assert_int_equal(errno, EACCES);
	errno = 0;
	assert_int_equal(xenevtchn_bind_unbound_port(r, GUEST), -1);
	assert_int_equal(errno, EACCES);
	errno = 0;
	assert_int_equal(xenevtchn_bind_interdomain(r, OTHER, 1), -1);
	assert_int_equal(errno, EACCES);
	assert_int_equal(xenevtchn_close(r), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bind_interdomain_notify_both_ways),
		cmocka_unit_test(notify_coalesces_and_masks_until_unmask),
		cmocka_unit_test(fd_works_with_epoll),
		cmocka_unit_test(pending_nonblocking_fd_eagain),
		cmocka_unit_test(pending_after_late_doorbell_does_not_wait),
		cmocka_unit_test(pending_blocking_fd_waits),
		cmocka_unit_test(peer_unbind_makes_port_unbound),
		cmocka_unit_test(peer_death_unbinds_and_binding_fails),
		cmocka_unit_test(notify_reaches_recreated_domain),
		cmocka_unit_test(bind_interdomain_rules),
		cmocka_unit_test(ports_of_other_handles_refused),
		cmocka_unit_test(interdomain_loopback_same_domain),
		cmocka_unit_test(restrict_limits_binding),
	};

	return cmocka_run_group_tests(tests, setup, sim_fixture_teardown);
}
