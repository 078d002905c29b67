/* The L2 learning switch. One struct nb_bridge per bridge instance; ports
 * (bridge/port.h) attach to one bridge each. Control operations (new, free,
 * add/del port, set aging, capture) run on control threads and are
 * serialised per bridge; nb_bridge_input() runs on any number of ingress
 * threads at once and takes no shared lock: the MAC table is read under
 * per-bucket sequence counters and port removal waits for a quiescent
 * state (bridge/epoch.h). Errors: 0 or a negative errno. */
#ifndef NB_BRIDGE_H
#define NB_BRIDGE_H

#include <stdint.h>
#include "bridge/pkt.h"
#include "bridge/port.h"

#define NB_BRIDGE_AGING_DEFAULT 300u   /* seconds, as Linux bridges */
#define NB_BRIDGE_MAX_PORTS 256u
#define NB_BRIDGE_NAME_MAX 64u

struct nb_bridge_config {
    unsigned aging_sec;                 /* 0: NB_BRIDGE_AGING_DEFAULT */
    /* Monotonic clock in ns; NULL: CLOCK_MONOTONIC. Tests inject their own. */
    uint64_t (*clock_ns)(void *ctx);
    void *clock_ctx;
};

struct nb_bridge;

/* cfg may be NULL. Returns NULL with errno set on failure. */
struct nb_bridge *nb_bridge_new(const char *name, const struct nb_bridge_config *cfg);
/* Detaches and destroys every port still attached, then frees the bridge. */
void nb_bridge_free(struct nb_bridge *br);
const char *nb_bridge_name(const struct nb_bridge *br);
int nb_bridge_set_aging(struct nb_bridge *br, unsigned aging_sec);
unsigned nb_bridge_aging(const struct nb_bridge *br);

/* Attaches port (ops set, name unique in the bridge). -EEXIST for a name in
 * use or a port already attached somewhere, -ENOSPC when full, -EINVAL for
 * a port without tx_burst. */
int nb_bridge_add_port(struct nb_bridge *br, struct nb_port *port);
/* Detaches port; once no thread is inside its tx_burst any more, calls
 * ops->destroy (if set). -ENOENT if port is not attached to br. Must not be
 * called from inside nb_bridge_input() or a tx_burst. */
int nb_bridge_del_port(struct nb_bridge *br, struct nb_port *port);
/* Control-thread lookups; the pointer stays valid until the port is
 * deleted by the same control thread. */
struct nb_port *nb_bridge_find_port(struct nb_bridge *br, const char *name);
unsigned nb_bridge_port_count(struct nb_bridge *br);
/* Calls fn for each attached port under the bridge's control lock; stops
 * and returns fn's value when nonzero. fn must not add or delete ports. */
int nb_bridge_foreach_port(struct nb_bridge *br,
                           int (*fn)(struct nb_port *port, void *ctx), void *ctx);

/* Forwards a burst (n <= NB_BURST) received on port in; takes ownership
 * of every packet. Learning, lookup, flooding, VLAN and offload fallbacks
 * happen here; each egress port gets its packets in one tx_burst call per
 * input burst (more only when software segmentation multiplies them).
 * Packets from a port no longer attached to br, or with br NULL (as
 * port->bridge is after nb_bridge_del_port), are freed. */
void nb_bridge_input(struct nb_bridge *br, struct nb_port *in, struct nb_pkt **pkts, unsigned n);

/* The port a (mac, vid) was last seen on and is not aged out, or NULL. */
struct nb_port *nb_bridge_fdb_lookup(struct nb_bridge *br, const uint8_t mac[6], uint16_t vid);
void nb_bridge_fdb_flush(struct nb_bridge *br);

/* A consistent-enough copy of a port's counters (each one read atomically). */
void nb_port_stats_read(const struct nb_port *port, struct nb_port_stats *out);

/* Capture (bridge/capture.h) attaches through these so that detaching waits
 * for every ingress thread to be done with the old capture. */
int nb_bridge_set_capture(struct nb_bridge *br, struct nb_port *port, struct nb_capture *cap,
                          struct nb_capture **old);
/* The same by port name, for callers that do not own the port (-ENOENT). */
int nb_bridge_set_capture_named(struct nb_bridge *br, const char *name, struct nb_capture *cap,
                                struct nb_capture **old);

#endif
