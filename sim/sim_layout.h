/* Shared-memory layout of the hypervisor emulator.
 *
 * The daemon creates these files in the run directory; the emulated
 * libxengnttab/libxenevtchn map them so that the data path (grant copy,
 * access to mapped pages, event notify/pending/unmask) runs without talking
 * to the daemon. Only the daemon changes bindings and grant states; clients
 * only touch the atomics documented as theirs (copy lanes, event bits, event
 * queues).
 *
 *   $XENSIM_DIR/ctl.sock            administration (xensim CLI)
 *   $XENSIM_DIR/domains             registry: which domids live (struct sim_registry)
 *   $XENSIM_DIR/dom<N>/sim.sock     control socket of domain N's processes
 *   $XENSIM_DIR/dom<N>/xenstored.sock
 *   (grant table, memory and event channel files are passed as fds and
 *    unlinked: nothing else on disk)
 */
#ifndef SIM_LAYOUT_H
#define SIM_LAYOUT_H

#include <stdatomic.h>
#include <stdint.h>

#define SIM_PAGE_SIZE 4096u
#define SIM_MAGIC 0x4d495358u /* "XSIM" */

/* Domain ids 0..SIM_NR_DOMIDS-1 are usable (DOMID_FIRST_RESERVED is 0x7FF0). */
#define SIM_NR_DOMIDS 0x7FF0u
#define SIM_DOMID_SELF 0x7FF0u

/* Grant references per domain. Ref r is always backed by page r of the
 * domain's memory file, so a ref cannot be reused while its page is still
 * mapped somewhere. Refs below SIM_GREF_RESERVED are kept for the toolstack
 * as on Xen (GNTTAB_NR_RESERVED_ENTRIES) and never handed out. */
#define SIM_NR_GREFS 32768u
#define SIM_GREF_RESERVED 8u

/* Event channel ports per domain (the 2-level ABI's 4096 on 64 bit);
 * port 0 is never valid. Handles (open xenevtchn handles) per domain. */
#define SIM_NR_PORTS 4096u
#define SIM_NR_EVH 256u /* the binding's slot field is 8 bits */
#define SIM_EVQ_CAP 8192u /* power of two */

/* ---- registry ---- */
enum { SIM_DOM_FREE = 0, SIM_DOM_ALIVE = 1, SIM_DOM_DYING = 2 };

struct sim_registry {
	uint32_t magic;
	uint32_t nr_domids;
	struct {
		_Atomic uint32_t state;
		_Atomic uint32_t incarnation; /* unique per creation, never 0 */
	} dom[SIM_NR_DOMIDS];
};

/* ---- grant table ---- */
/* One 32-bit word per entry that only the daemon writes:
 *   bits 0-15  grantee domid
 *   bits 16-17 state (SIM_GNT_*)
 *   bit  18    read-only
 *   bits 19-31 generation (bumped on every share, detects reuse) */
enum { SIM_GNT_FREE = 0, SIM_GNT_ACTIVE = 1, SIM_GNT_REVOKING = 2 };
#define SIM_GNT_DOMID(w) ((w) & 0xffffu)
#define SIM_GNT_STATE(w) (((w) >> 16) & 3u)
#define SIM_GNT_RO(w) (((w) >> 18) & 1u)
#define SIM_GNT_GEN(w) ((w) >> 19)
#define SIM_GNT_WORD(domid, state, ro, gen) \
	(((uint32_t)(gen) << 19) | ((uint32_t)(ro) << 18) | ((uint32_t)(state) << 16) | (uint32_t)(domid))

struct sim_grant {
	_Atomic uint32_t word;
};

struct sim_gnttab {
	uint32_t magic;
	uint32_t nr_grefs;
	uint32_t domid;
	uint32_t incarnation;
	_Atomic uint32_t dead; /* set first thing on domain destroy */
	uint8_t pad[SIM_PAGE_SIZE - 20];
	struct sim_grant ent[SIM_NR_GREFS];
};

/* ---- grant copies in flight ----
 * Instead of pinning each grant entry (two atomic read-modify-writes per
 * segment), a grant copy marks its whole call in flight: it takes a free
 * lane of its handle's copier slot, makes the lane's sequence odd, checks
 * grant words and copies, then makes it even. Before a revoked page is
 * reused the daemon waits for every odd lane to move on; a copy that began
 * after the revocation sees the new grant word (both sides sequentially
 * consistent). One file for all handles; slot per xengnttab handle. */
#define SIM_NR_COPIERS 1024u
#define SIM_COPIER_LANES 64u /* concurrent calls per handle (threads) */

struct sim_copier_lane {
	_Atomic uint64_t seq; /* odd while a copy call runs */
	uint8_t pad[56];
};

struct sim_copier {
	_Atomic uint64_t busy; /* bit per lane taken */
	uint8_t pad[56];
	struct sim_copier_lane lane[SIM_COPIER_LANES];
};

struct sim_copiers {
	struct sim_copier slot[SIM_NR_COPIERS];
};

/* ---- event channels ---- */
/* Port binding, one 64-bit word written only by the daemon:
 *   bits 0-1   status (SIM_EVS_*)
 *   bits 8-23  remote domid (interdomain: peer; unbound: who may bind)
 *   bits 24-39 remote port (interdomain)
 *   bits 40-47 owning handle slot
 *   bits 48-63 owning handle generation */
enum { SIM_EVS_FREE = 0, SIM_EVS_UNBOUND = 1, SIM_EVS_INTERDOMAIN = 2 };
#define SIM_EVB_STATUS(b) ((unsigned)((b) & 3u))
#define SIM_EVB_RDOM(b) ((unsigned)(((b) >> 8) & 0xffffu))
#define SIM_EVB_RPORT(b) ((unsigned)(((b) >> 24) & 0xffffu))
#define SIM_EVB_SLOT(b) ((unsigned)(((b) >> 40) & 0xffu))
#define SIM_EVB_GEN(b) ((unsigned)(((b) >> 48) & 0xffffu))
#define SIM_EVB(status, rdom, rport, slot, gen)                                \
	((uint64_t)(status) | ((uint64_t)(rdom) << 8) | ((uint64_t)(rport) << 24) | \
	 ((uint64_t)(slot) << 40) | ((uint64_t)((gen) & 0xffffu) << 48))

/* Whether binding b is the interdomain end connected to port `port` of
 * domain `dom` (both ends must agree before an event crosses). */
#define SIM_EVB_PEER_OF(b, dom, port)                                                  \
	(SIM_EVB_STATUS(b) == SIM_EVS_INTERDOMAIN && SIM_EVB_RDOM(b) == (unsigned)(dom) && \
	 SIM_EVB_RPORT(b) == (unsigned)(port))

/* Event bits of a port (clients and daemon, atomically). */
#define SIM_EV_PENDING 1u
#define SIM_EV_MASKED 2u

struct sim_port {
	_Atomic uint64_t binding;
	_Atomic uint32_t bits;
	uint32_t pad;
};

/* A bounded multi-producer multi-consumer queue of delivered ports, one per
 * open xenevtchn handle, plus the state that keeps the handle's eventfd
 * readable exactly while something may be queued. */
struct sim_evq_cell {
	_Atomic uint64_t seq;
	uint32_t port;
	uint32_t pad;
};

struct sim_evq {
	_Atomic uint32_t gen;       /* bumped by the daemon when the slot is reused */
	_Atomic uint32_t signaled;  /* 1: the eventfd has been (or is being) written */
	_Atomic uint32_t overflow;  /* a delivery found the queue full */
	uint8_t pad0[64 - 12];
	_Atomic uint64_t head; /* next to enqueue */
	uint8_t pad1[64 - 8];
	_Atomic uint64_t tail; /* next to dequeue */
	uint8_t pad2[64 - 8];
	struct sim_evq_cell cell[SIM_EVQ_CAP];
};

struct sim_evtchn {
	uint32_t magic;
	uint32_t nr_ports;
	uint32_t domid;
	uint32_t incarnation;
	uint8_t pad[SIM_PAGE_SIZE - 16];
	struct sim_port port[SIM_NR_PORTS];
	struct sim_evq q[SIM_NR_EVH];
};

#endif
