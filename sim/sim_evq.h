/* Event delivery on the emulator's shared event-channel state, used by the
 * emulated libxenevtchn (notify, pending, unmask) and by the daemon (events
 * it raises itself). Lock-free; no system call except the eventfd write that
 * wakes an idle consumer and the poll and read that rearm it. */
#ifndef SIM_EVQ_H
#define SIM_EVQ_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/sim_layout.h"

/* Empties and readies a queue whose slot is (re)allocated. */
void sim_evq_init(struct sim_evq *q);

/* Raises port `port` of the domain whose table is `ev`, as Xen's
 * evtchn_set_pending plus Linux's evtchn interrupt handler: if the port is
 * already pending nothing happens (coalescing); if it is masked it becomes
 * pending; otherwise it is masked and queued to its owning handle. Returns
 * true when the owner's queue needs a wakeup (caller then calls
 * sim_evq_wake with the owner's eventfd); *slot gets the owner slot. */
bool sim_evq_raise(struct sim_evtchn *ev, unsigned port, uint64_t binding, unsigned *slot);

/* After sim_evq_raise returned true: makes sure the queue's eventfd is
 * readable (writes it only if no wakeup is already outstanding). */
void sim_evq_wake(struct sim_evq *q, int efd);

/* Clears the mask of a port owned by the caller; a port that became
 * pending while masked is queued again (returns true: wake as above). */
bool sim_evq_unmask(struct sim_evtchn *ev, unsigned port, unsigned slot);

/* Takes the next delivered port; false if the queue is empty. */
bool sim_evq_pop(struct sim_evq *q, uint32_t *port);

/* Consumer side: the queue looks empty, consume the outstanding wakeup so
 * the eventfd stops being readable, then re-signal if a producer raced in.
 * Never blocks on the fd, whatever its flags; waits up to 10 ms for a
 * wakeup a producer announced but has not written yet. The caller must be
 * the fd's only reader meanwhile (the handle's consumer lock). Returns 0,
 * or -errno (-EAGAIN: that write did not come; the queue stays
 * signaled). */
int sim_evq_quiesce(struct sim_evq *q, int efd);

bool sim_evq_empty(struct sim_evq *q);

#endif
