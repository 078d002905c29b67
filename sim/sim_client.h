/* What every emulated-library handle starts with: the calling process's
 * domain (XENSIM_DOMID), the emulator it belongs to (XENSIM_DIR), a control
 * connection to the daemon on that domain's socket, and the read-only
 * domain registry. The daemon ties the handle's resources to the
 * connection, so a process that dies is cleaned up like a closed device. */
#ifndef SIM_CLIENT_H
#define SIM_CLIENT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "sim/sim_layout.h"
#include "sim/sim_proto.h"

struct sim_client {
	pthread_mutex_t lock; /* one request in flight per connection */
	int sock;
	unsigned domid;
	char *dir; /* XENSIM_DIR at open: close pings the daemon there */
	const struct sim_registry *reg;
};

/* Reads XENSIM_DIR and XENSIM_DOMID, connects and maps the registry.
 * `what` names the library in the message printed on failure. Returns 0 or
 * -errno (ENOENT when no emulator is configured, as for a missing device). */
int sim_client_open(struct sim_client *c, const char *what);
/* Returns once the daemon has ended what the connection held, as closing
 * the device does in the kernel (unless another process shares it). */
void sim_client_close(struct sim_client *c);

/* One request/reply on the handle's connection (see sim_call); reply must
 * hold SIM_MSG_MAX bytes. Thread-safe. */
int sim_client_call(struct sim_client *c, struct sim_msg *req, const void *payload,
		    size_t len, const int *fds, unsigned nfds, void *reply, int *rfds,
		    unsigned *nrfds);

/* The registry's view of domain `domid`: its incarnation if alive, else 0. */
static inline uint32_t sim_client_alive(const struct sim_client *c, unsigned domid)
{
	if (domid >= SIM_NR_DOMIDS)
		return 0;
	if (atomic_load_explicit(&((struct sim_registry *)c->reg)->dom[domid].state,
				 memory_order_acquire) != SIM_DOM_ALIVE)
		return 0;
	return atomic_load_explicit(&((struct sim_registry *)c->reg)->dom[domid].incarnation,
				    memory_order_acquire);
}

/* Maps `len` bytes of fd shared, read-write. NULL with errno on failure. */
void *sim_map_fd(int fd, size_t len);

#endif
