/* Static grants, frontend side: hands the backend the TX and RX buffer
 * pools of every queue once, over the control ring (ADD_GREF_MAPPING), so
 * a backend that supports it maps them persistently and copies packets
 * without a grant operation each. Optional: a frontend that never calls
 * this works the same, one grant copy per slot. */
#ifndef NF_STATIC_H
#define NF_STATIC_H

#include "backend/netfront/netfront.h"

/* After netfront_connect() with cfg.ctrl_ring: asks each queue's table size
 * (GET_GREF_MAPPING_SIZE) and registers the RX pool (granted writable),
 * then as much of the TX pool (granted read-only, flagged so) as the table
 * still holds. Returns the number of pages registered over all queues, or
 * -ENOTCONN (no control ring), -EOPNOTSUPP (the backend answers
 * NOT_SUPPORTED), -EIO (a request refused: nothing of that request is
 * mapped), -ETIMEDOUT, or another -errno. */
int netfront_static_grants_register(struct netfront *nf);

#endif
