/* Event delivery: per-port pending/mask bits and a bounded MPMC queue per
 * handle (each cell carries a sequence number: a producer may fill a cell
 * when seq == position, a consumer may take it when seq == position + 1). */
#include "sim/sim_evq.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

#define EVQ_MASK (SIM_EVQ_CAP - 1u)

void sim_evq_init(struct sim_evq *q)
{
	uint32_t port;

	/* Called by the daemon before the slot is published; a stale producer
	 * of the previous owner can only add entries, which are drained here. */
	while (sim_evq_pop(q, &port))
		;
	atomic_store(&q->overflow, 0);
	atomic_store(&q->signaled, 0);
}

static bool evq_push(struct sim_evq *q, uint32_t port)
{
	uint64_t pos = atomic_load_explicit(&q->head, memory_order_relaxed);

	for (;;) {
		struct sim_evq_cell *c = &q->cell[pos & EVQ_MASK];
		uint64_t seq = atomic_load_explicit(&c->seq, memory_order_acquire);
		int64_t dif = (int64_t)(seq - pos);

		if (dif == 0) {
			if (atomic_compare_exchange_weak_explicit(&q->head, &pos, pos + 1,
								  memory_order_relaxed,
								  memory_order_relaxed)) {
				c->port = port;
				atomic_store_explicit(&c->seq, pos + 1, memory_order_release);
				return true;
			}
		} else if (dif < 0) {
			return false;
		} else {
			pos = atomic_load_explicit(&q->head, memory_order_relaxed);
		}
	}
}

bool sim_evq_pop(struct sim_evq *q, uint32_t *port)
{
	uint64_t pos = atomic_load_explicit(&q->tail, memory_order_relaxed);

	for (;;) {
		struct sim_evq_cell *c = &q->cell[pos & EVQ_MASK];
		uint64_t seq = atomic_load_explicit(&c->seq, memory_order_acquire);
		int64_t dif = (int64_t)(seq - (pos + 1));

		if (dif == 0) {
			if (atomic_compare_exchange_weak_explicit(&q->tail, &pos, pos + 1,
								  memory_order_relaxed,
								  memory_order_relaxed)) {
				*port = c->port;
				atomic_store_explicit(&c->seq, pos + SIM_EVQ_CAP,
						      memory_order_release);
				return true;
			}
		} else if (dif < 0) {
			return false;
		} else {
			pos = atomic_load_explicit(&q->tail, memory_order_relaxed);
		}
	}
}

bool sim_evq_empty(struct sim_evq *q)
{
	uint64_t pos = atomic_load_explicit(&q->tail, memory_order_relaxed);
	uint64_t seq = atomic_load_explicit(&q->cell[pos & EVQ_MASK].seq, memory_order_acquire);

	return (int64_t)(seq - (pos + 1)) < 0;
}

static void evq_deliver(struct sim_evq *q, uint32_t port)
{
	if (!evq_push(q, port))
		atomic_store(&q->overflow, 1);
}

bool sim_evq_raise(struct sim_evtchn *ev, unsigned port, uint64_t binding, unsigned *slot)
{
	struct sim_port *p = &ev->port[port];
	uint32_t old = atomic_load(&p->bits), new;

	do {
		if (old & SIM_EV_PENDING)
			return false;
		new = (old & SIM_EV_MASKED) ? (old | SIM_EV_PENDING) : (old | SIM_EV_MASKED);
	} while (!atomic_compare_exchange_weak(&p->bits, &old, new));

	if (old & SIM_EV_MASKED)
		return false;
	*slot = SIM_EVB_SLOT(binding);
	if (*slot >= SIM_NR_EVH)
		return false;
	evq_deliver(&ev->q[*slot], port);
	return true;
}

bool sim_evq_unmask(struct sim_evtchn *ev, unsigned port, unsigned slot)
{
	struct sim_port *p = &ev->port[port];
	uint32_t old = atomic_load(&p->bits), new;

	do {
		if (old & SIM_EV_PENDING)
			new = (old & ~SIM_EV_PENDING) | SIM_EV_MASKED;
		else
			new = old & ~SIM_EV_MASKED;
	} while (!atomic_compare_exchange_weak(&p->bits, &old, new));

	if (!(old & SIM_EV_PENDING))
		return false;
	evq_deliver(&ev->q[slot], port);
	return true;
}

static void efd_signal(int efd)
{
	uint64_t one = 1;
	ssize_t r;

	do {
		r = write(efd, &one, sizeof(one));
	} while (r < 0 && errno == EINTR);
}

void sim_evq_wake(struct sim_evq *q, int efd)
{
	/* Pairs with the fence in sim_evq_quiesce: either the consumer sees our
	 * entry after clearing `signaled`, or we see `signaled` cleared. */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_exchange(&q->signaled, 1) == 0 && efd >= 0)
		efd_signal(efd);
}

int sim_evq_quiesce(struct sim_evq *q, int efd)
{
	struct pollfd pfd = { .fd = efd, .events = POLLIN };
	uint64_t cnt;

	if (!atomic_load(&q->signaled))
		return 0;
	/* The fd blocks unless its user made it O_NONBLOCK: look first. A
	 * producer that has announced its wakeup writes it next; wait for that
	 * briefly, or the fd would turn readable later with nothing queued (a
	 * poll then pending that blocks, which Linux's driver never does). */
	if (poll(&pfd, 1, 0) != 1 && poll(&pfd, 1, 10) != 1)
		return -EAGAIN; /* announced but not written in 10 ms: stays signaled */
	if (read(efd, &cnt, sizeof(cnt)) < 0)
		return -errno;
	atomic_store(&q->signaled, 0);
	atomic_thread_fence(memory_order_seq_cst);
	if (!sim_evq_empty(q))
		sim_evq_wake(q, efd);
	return 0;
}
