/* The xensim daemon: owns the emulated domains, their grant tables, event
 * channels and xenstore, and serves control requests from the emulated
 * libraries (sim_proto.h) and from the xensim CLI. Single-threaded: one
 * epoll loop over the admin socket, one socket per domain, the client
 * connections and the embedded xenstored. */
#ifndef SIM_DAEMON_H
#define SIM_DAEMON_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "sim/sim_layout.h"
#include "sim/sim_proto.h"

struct xs_server;
struct sim_dom;

/* Linux's gntalloc module parameter `limit`: grants its users in one
 * kernel (one domain) may hold at once; a share beyond it is ENOSPC. */
#define SIM_GNTALLOC_LIMIT_DEFAULT 1024u

/* What an epoll event refers to. */
enum sim_ep_kind { SIM_EP_ADMIN_LISTEN, SIM_EP_DOM_LISTEN, SIM_EP_CONN, SIM_EP_XS, SIM_EP_SIGNAL };

struct sim_ep {
	enum sim_ep_kind kind;
	void *obj;
};

/* A mapping made by a gnttab handle: the pages it holds of other domains. */
struct sim_mapping {
	struct sim_mapping *next;
	uint32_t id;
	uint32_t count;
	uint32_t notify_offset, notify_port; /* SIM_NO_NOTIFY when unused */
	struct {
		uint32_t domid, incarnation, ref;
	} item[];
};

/* One client connection (one library handle, or one CLI request). */
struct sim_conn {
	struct sim_ep ep;
	struct sim_conn *next; /* in the domain's (or the admin) list */
	int fd;
	struct sim_dom *dom;   /* NULL for an admin connection */
	int evt_slot;          /* xenevtchn handle slot, or -1 */
	int copier_slot;       /* xengnttab copy lanes slot, or -1 */
	struct sim_mapping *maps;
	uint32_t next_map_id;
};

/* Daemon-private state of one grant ref. */
struct sim_ref {
	struct sim_conn *sharer;  /* NULL once unshared */
	uint32_t maps;            /* live foreign mappings */
	uint32_t notify_offset, notify_port;
};

struct sim_dom {
	struct sim_ep listen_ep;
	unsigned domid;
	uint32_t incarnation;
	char name[64];
	char dir[PATH_MAX + 32];
	int listen_fd;
	int gt_fd, mem_fd, ev_fd;
	struct sim_gnttab *gt;
	struct sim_evtchn *ev;
	struct sim_ref *refs;      /* SIM_NR_GREFS */
	uint32_t *free_refs;       /* stack of unused refs */
	uint32_t nfree;
	uint32_t nshared;          /* refs shared and not yet unshared */
	uint32_t gntalloc_limit;   /* the guest kernel's xen_gntalloc.limit */
	int efd[SIM_NR_EVH];       /* eventfd of each open xenevtchn handle, or -1 */
	struct sim_conn *conns;
};

struct xensim {
	char dir[PATH_MAX];
	int epfd;
	int admin_fd;
	int sig_fd;
	struct sim_ep admin_ep, xs_ep, sig_ep;
	struct sim_registry *reg;
	int copiers_fd;
	struct sim_copiers *copiers;
	struct sim_conn *copier_owner[SIM_NR_COPIERS];
	struct sim_dom *doms[SIM_NR_DOMIDS];
	struct sim_conn *admin_conns;
	uint32_t next_incarnation;
	struct xs_server *xs;
	bool stop;
	unsigned long bad_requests; /* malformed or refused control messages */
};

/* daemon.c */
int xensim_init(struct xensim *x, const char *dir);
int xensim_run(struct xensim *x, int ready_fd);
void xensim_fini(struct xensim *x);
void xensim_conn_close(struct xensim *x, struct sim_conn *c);
int sim_ep_add(struct xensim *x, int fd, struct sim_ep *ep);

/* dom.c */
int sim_make_shm(const char *name, size_t size, int *fd_out, void **map_out);
int sim_dom_create(struct xensim *x, unsigned domid, const char *name, unsigned *out);
int sim_dom_destroy(struct xensim *x, unsigned domid);
struct sim_dom *sim_dom_get(struct xensim *x, unsigned domid);

/* gnt_svc.c */
int gnt_svc_open_copier(struct xensim *x, struct sim_conn *c, uint32_t *slot);
int gnt_svc_share(struct xensim *x, struct sim_conn *c, const struct sim_msg *m,
		  uint32_t *refs_out);
int gnt_svc_unshare(struct xensim *x, struct sim_conn *c, const uint32_t *refs, uint32_t n);
int gnt_svc_map(struct xensim *x, struct sim_conn *c, const struct sim_msg *m,
		const struct sim_map_item *items, uint32_t *id_out);
int gnt_svc_unmap(struct xensim *x, struct sim_conn *c, uint32_t id);
void gnt_svc_conn_closed(struct xensim *x, struct sim_conn *c);
void gnt_svc_init_dom(struct sim_dom *d);

/* evt_svc.c */
int evt_svc_open(struct xensim *x, struct sim_conn *c, int efd, uint32_t *slot, uint32_t *gen);
int evt_svc_bind_unbound(struct xensim *x, struct sim_conn *c, uint32_t rdom, uint32_t *port);
int evt_svc_bind_inter(struct xensim *x, struct sim_conn *c, uint32_t rdom, uint32_t rport,
		       uint32_t *port);
int evt_svc_unbind(struct xensim *x, struct sim_conn *c, uint32_t port);
void evt_svc_conn_closed(struct xensim *x, struct sim_conn *c);
/* Closes every port of a dying domain (peers' ends become unbound). */
void evt_svc_dom_dying(struct xensim *x, struct sim_dom *d);
/* Sends an event from port `port` of domain `d` to its peer (as
 * xenevtchn_notify would). */
void evt_svc_notify(struct xensim *x, struct sim_dom *d, uint32_t port);

#endif
