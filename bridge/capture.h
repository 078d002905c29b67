/* A capture sink: frames copied from the datapath into a bounded queue and
 * written by the capture's own thread as classic pcap (Ethernet link type)
 * to a regular file or a fifo (`tcpdump -r FIFO`, `tshark -i FIFO`). The
 * datapath never blocks on it: when the queue is full, frames are counted
 * as dropped. Attach to a port with nb_bridge_set_capture() (bridge.h);
 * ingress frames are captured as received, egress frames as handed to the
 * port (after VLAN and offload processing). */
#ifndef NB_CAPTURE_H
#define NB_CAPTURE_H

#include <stdint.h>
#include "bridge/pkt.h"

#define NB_CAPTURE_QUEUE_MAX 4096u          /* frames waiting for the writer */
#define NB_CAPTURE_QUEUE_BYTES (16u << 20)  /* and their bytes */

struct nb_capture;

/* Opens path: an existing fifo is opened by the writer thread (so this
 * does not wait for a reader); anything else is created or truncated here.
 * snaplen 0 means whole frames. NULL with *err a negative errno. */
struct nb_capture *nb_capture_open(const char *path, uint32_t snaplen, int *err);
/* Copies n frames into the queue (any thread, never blocks). */
void nb_capture_frames(struct nb_capture *cap, struct nb_pkt *const *pkts, unsigned n);
/* Writes what is queued, closes the file and frees cap. A fifo nobody has
 * opened yet is given up on, with what was queued for it. */
void nb_capture_close(struct nb_capture *cap);
const char *nb_capture_path(const struct nb_capture *cap);
/* Frames written so far and frames dropped (queue full or write error). */
void nb_capture_counts(struct nb_capture *cap, uint64_t *written, uint64_t *dropped);
/* Waits until every frame queued before the call is written and flushed
 * (on a fifo that includes waiting for a reader to open it). */
void nb_capture_flush(struct nb_capture *cap);

#endif
