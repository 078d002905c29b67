/* A raw, scripted netfront for the backend's emulator tests: a guest
 * process shares its ring and data pages by hand, advertises them in
 * xenstore and drives the rings itself, so a test controls every field
 * netbackd sees. Page 0 is the TX ring, page 1 the RX ring; with
 * RAW_FE_CTRL_RING page 2 is the control ring; the rest is the test's. */
#ifndef TESTS_BACKEND_RAW_FRONT_H
#define TESTS_BACKEND_RAW_FRONT_H

#include <stdint.h>
#include <sys/types.h>

#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenstore.h>
#include <xen/io/netif.h>

#define RAW_FE_MAX_PAGES 300u

enum {
    RAW_FE_CTRL_RING = 1 << 0,   /* page 2 is a control ring (initialised) */
    RAW_FE_CTRL = 1 << 1,        /* ...and advertised (implies CTRL_RING) */
    RAW_FE_MCAST = 1 << 2,       /* request-multicast-control */
    RAW_FE_SG = 1 << 3,          /* feature-sg */
};

struct raw_fe {
    struct xs_handle *xsh;
    xengntshr_handle *xgs;
    xenevtchn_handle *xce;
    unsigned domid, devid;
    unsigned nr_pages;           /* set by raw_fe_connect */
    void *pages;
    uint32_t refs[RAW_FE_MAX_PAGES];
    evtchn_port_t port, ctrl_port;
    netif_tx_front_ring_t tx;
    netif_rx_front_ring_t rx;
    xen_netif_ctrl_front_ring_t ctrl;
    uint16_t next_ctrl_id;
};

/* Writes the frontend key device/vif/<devid>/<key> (printf-style value). */
void raw_fe_write(struct raw_fe *f, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
uint8_t *raw_fe_page(struct raw_fe *f, unsigned i);
/* Waits for the backend's InitWait, shares nr_pages pages, initialises the
 * rings, writes the keys (flags: RAW_FE_*) and state 4, and waits for
 * Connected. 0, or an exit code 1..7 saying which step failed (having
 * released whatever it had opened and shared). */
int raw_fe_connect(struct raw_fe *f, unsigned nr_pages, unsigned flags);
/* Closes (state 6, waits for Closed) and releases everything. */
void raw_fe_close(struct raw_fe *f);
/* Posts one RX request per page first..first+n-1 (id = page index) and
 * pushes them. */
void raw_fe_post_rx(struct raw_fe *f, unsigned first, unsigned n);
/* One control request, answered synchronously: 0, -ETIMEDOUT, or -EPROTO
 * when the response carries another id. */
int raw_fe_ctrl_call(struct raw_fe *f, uint16_t type, uint32_t d0, uint32_t d1, uint32_t d2,
                     struct xen_netif_ctrl_response *out);


/* ---- small frames for traffic tests (at most RAW_FE_AREA bytes) ----
 * TX slot i carries its frame in the 64-byte area i % 256 of the 4 pages
 * from tx0; RX slot i receives into page rx0 + i % 256. */
#define RAW_FE_AREA 64u
#define RAW_FE_TX_PAGES 4u
#define RAW_FE_RX_PAGES 256u

/* A test frame of len (>= 16) bytes: dst, source 00:16:3e:00:00:<src>,
 * ethertype 0x88b5, seq in bytes 14-15, then a pattern of seq. */
void raw_fe_frame(uint8_t *p, unsigned len, const uint8_t dst[6], unsigned src, unsigned seq);
/* Queues one single-slot request of size len (not pushed); data (may be
 * NULL: the area is left as is) is copied into the slot's area. */
void raw_fe_queue_tx(struct raw_fe *f, unsigned tx0, const void *data, uint16_t len);
/* Pushes queued TX requests, notifying if the backend asked. */
void raw_fe_push_tx(struct raw_fe *f);
/* Takes the TX responses there are: counts OKAY ones in *ok and others in
 * *bad (either may be NULL). Returns how many. */
unsigned raw_fe_reap_tx(struct raw_fe *f, unsigned *ok, unsigned *bad);
/* Posts every free RX slot and pushes. */
void raw_fe_post_rx_all(struct raw_fe *f, unsigned rx0);
/* The next RX response, if any: 1 with data and len set (a one-slot packet),
 * 0 when none, -1 on an error status or a multi-slot packet. */
int raw_fe_next_rx(struct raw_fe *f, unsigned rx0, const uint8_t **data, unsigned *len);
/* Queues an MCAST_ADD/DEL (XEN_NETIF_EXTRA_TYPE_*): a zero-size request
 * carrying the extra, and pushes. Its answer is one data-slot response
 * plus a NULL one for the extra. */
void raw_fe_mcast(struct raw_fe *f, uint8_t type, const uint8_t addr[6]);

/* Inode of the emulator's memory file behind our shared pages, and the
 * pages of that file process pid maps (one grant at a time: the whole-
 * memory mapping used for copies doesn't count). For checking what a
 * backend still maps of us. */
unsigned long raw_fe_mem_inode(struct raw_fe *f);
long raw_fe_mapped_by(pid_t pid, unsigned long inode);

#endif
