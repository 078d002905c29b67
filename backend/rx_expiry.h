/* The RX drain timeout's age test (XSA-392 protection, rx.c). */
#ifndef NBD_RX_EXPIRY_H
#define NBD_RX_EXPIRY_H

#include <stdbool.h>
#include <stdint.h>

/* Whether a backlog entry stamped enq_ns is older than timeout_ns at now_ns.
 * The worker reads its clock once per burst, before it looks at the
 * backlog, and other threads keep enqueuing meanwhile with their own,
 * later stamps (or a vCPU's clock a little ahead): such an entry is
 * younger than the burst, not 2^64 ns old. The unsigned difference alone
 * dropped it as expired, a random packet at a time. */
static inline bool nbd_rx_expired(uint64_t enq_ns, uint64_t now_ns, uint64_t timeout_ns)
{
    return now_ns > enq_ns && now_ns - enq_ns > timeout_ns;
}

#endif
