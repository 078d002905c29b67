/* Control messages between the emulated Xen libraries (or the xensim CLI)
 * and the xensim daemon: one SOCK_SEQPACKET message per request and per
 * reply, a fixed header, then `count` items, and file descriptors passed
 * with SCM_RIGHTS where noted. Only control operations travel here; the data
 * path works on shared memory (sim_layout.h). */
#ifndef SIM_PROTO_H
#define SIM_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define SIM_PROTO_MAGIC 0x4d495358u
#define SIM_MSG_MAX 65536u
#define SIM_MAX_FDS 4

enum sim_op {
	/* domain sockets ($XENSIM_DIR/dom<N>/sim.sock) */
	SIM_OP_OPEN_GNT = 1,   /* reply: a=incarnation; fds: gnttab, mem */
	SIM_OP_OPEN_EVT,       /* fds in: eventfd. reply: a=slot b=gen; fd: evtchn table */
	SIM_OP_PEER_GNT,       /* a=domid. reply: a=incarnation; fds: gnttab, mem */
	SIM_OP_PEER_EVT,       /* a=domid. reply: a=incarnation; fd: evtchn table */
	SIM_OP_PEER_EFD,       /* a=domid b=slot. reply: a=gen b=incarnation; fd: eventfd */
	SIM_OP_SHARE,          /* a=domid b=writable c=notify_offset d=notify_port, count.
	                          reply: count refs (u32) */
	SIM_OP_UNSHARE,        /* count refs (u32) */
	SIM_OP_MAP,            /* a=prot(1 ro,3 rw) c=notify_offset d=notify_port,
	                          count items {domid,ref}. reply: a=map id */
	SIM_OP_UNMAP,          /* a=map id */
	SIM_OP_BIND_UNBOUND,   /* a=remote domid. reply: a=port */
	SIM_OP_BIND_INTER,     /* a=remote domid b=remote port. reply: a=port */
	SIM_OP_UNBIND,         /* a=port */
	SIM_OP_OPEN_COPIER,    /* reply: a=copier slot; fd: the copiers file */
	/* administration socket ($XENSIM_DIR/ctl.sock) */
	SIM_OP_PING = 100,
	SIM_OP_DOM_CREATE,     /* a=domid or SIM_ANY_DOMID, b=gntalloc limit (0: default),
	                          payload name. reply: a=domid */
	SIM_OP_DOM_DESTROY,    /* a=domid */
	SIM_OP_LIST,           /* reply payload: text, one domain a line */
	SIM_OP_STOP,
};

/* Pages per share or map request (the reply/request must fit a message). */
#define SIM_SHARE_MAX 4096u

#define SIM_ANY_DOMID 0xffffffffu
#define SIM_NO_NOTIFY 0xffffffffu

struct sim_msg {
	uint32_t magic;
	uint32_t op;
	int32_t err; /* reply: 0 or a positive errno */
	uint32_t count;
	uint32_t a, b, c, d;
};

struct sim_map_item {
	uint32_t domid;
	uint32_t ref;
};

/* Sends header + payload (+ fds). Returns 0 or -errno. */
int sim_msg_send(int sock, const struct sim_msg *m, const void *payload, size_t len,
		 const int *fds, unsigned nfds);
/* Receives one message into buf (SIM_MSG_MAX bytes, header first). Returns
 * the message length (0 on orderly close) or -errno; received fds go to
 * fds[] (set to -1 when absent), *nfds is their number. */
long sim_msg_recv(int sock, void *buf, size_t cap, int *fds, unsigned *nfds);

/* Client: sends a request and waits for its reply. Returns 0 or -errno
 * (transport error or the reply's err). reply_buf gets the whole reply. */
int sim_call(int sock, const struct sim_msg *req, const void *payload, size_t len,
	     const int *fds, unsigned nfds, void *reply_buf, int *rfds, unsigned *nrfds);

/* Connects a SOCK_SEQPACKET socket to path. Returns the fd or -errno. */
int sim_connect(const char *path);

#endif
