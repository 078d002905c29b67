/* A probe guest for the integration tests: an emulated domain whose netfront
 * sends exactly the frames the test hands it and records every frame it
 * receives, all through shared memory, so the test can assert byte-exact
 * what reached which guest.
 *
 * Ordering argument used by the "did NOT arrive" checks (no timing): one
 * vif queue delivers in FIFO order, and the bridge handles one ingress
 * burst completely before the next. So when a guest receives a barrier
 * frame that left the sender after frame X, any copy of X the bridge had
 * made for that guest has already been delivered before the barrier.
 * Order holds per sender only: it_probe_send returns once the sender's
 * netfront took the frame, and each vif has its own TX worker, so frames
 * of two senders reach a common receiver in either order unless the first
 * was seen to arrive (it_check_logs) before the second was handed over. */
#ifndef IT_PROBE_H
#define IT_PROBE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "backend/netfront/netfront.h"

#define IT_FRAME_MAX 1536u    /* largest frame a probe sends or logs */
#define IT_LOG_MAX 64u        /* frames a probe keeps (later ones are counted) */

struct it_probe {
    /* ---- set by the test before spawning ---- */
    struct nf_config cfg;
    /* ---- test -> guest mailbox: frames to send, in order ---- */
    unsigned tx_req;                /* frames handed over so far */
    uint32_t tx_len[IT_LOG_MAX];
    uint8_t tx_frame[IT_LOG_MAX][IT_FRAME_MAX];
    int stop;                       /* test: close and exit */
    /* ---- written by the guest (read with __atomic) ---- */
    int ready;                      /* 1 connected, -1 failed */
    unsigned tx_done;               /* frames accepted by netfront_tx_burst */
    unsigned rx_count;              /* frames received (may exceed IT_LOG_MAX) */
    uint32_t rx_len[IT_LOG_MAX];
    uint8_t rx_frame[IT_LOG_MAX][IT_FRAME_MAX];
    char err[256];
};

/* A probe in shared memory, with one queue; NULL on failure. */
struct it_probe *it_probe_new(unsigned devid);
void it_probe_free(struct it_probe *p);

/* Child entry point (arg = struct it_probe *): connect, then serve the
 * mailbox and log received frames until `stop`. Exit 0 on success. */
int it_probe_main(void *arg);

/* Waits (liveness bound timeout_s) for the probe to connect. */
bool it_probe_wait_ready(struct it_probe *p, unsigned timeout_s);
/* Hands one frame (len <= IT_FRAME_MAX) to the guest and waits until its
 * netfront accepted it. False on timeout or a full mailbox. */
bool it_probe_send(struct it_probe *p, const void *frame, uint32_t len, unsigned timeout_s);
/* Waits until the probe has received at least n frames in total. */
bool it_probe_wait_rx(struct it_probe *p, unsigned n, unsigned timeout_s);
unsigned it_probe_rx_count(struct it_probe *p);
/* True if logged frame i is exactly frame/len. */
bool it_probe_rx_is(struct it_probe *p, unsigned i, const void *frame, uint32_t len);

#endif
