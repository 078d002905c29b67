/* Guest TX rate limiting from the backend `rate` key ("bytes,usecs"), as
 * Linux netback does it: once per window of usecs the credit grows by
 * bytes, capped at max(bytes, 128 KiB) so that a 64 KiB packet always
 * fits eventually. Pure: the caller passes the time and the key's current
 * value on every call, so a live change of the key is seen at once. */
#ifndef NBD_RATE_H
#define NBD_RATE_H

#include <stdbool.h>
#include <stdint.h>

#define NBD_RATE_BURST_FLOOR 131072u

struct nbd_rate {
    uint64_t credit;     /* bytes that may go now */
    uint64_t stamp_ns;   /* start of the current window; 0 = not started */
    uint64_t bytes;      /* the key the state was last used with */
    uint32_t usecs;
    bool limited;        /* the last take was refused: waiting for credit */
};

/* Takes len bytes of credit at time now_ns. Returns 0 if the packet may go,
 * else the time (ns) at which to try again. bytes == 0: unlimited.
 *
 * A changed key (bytes or usecs differ from the last call) is applied as
 * Linux's rate watch does: a queue waiting for credit gets one window of
 * the new rate at once and a new window starts now; otherwise the credit
 * is clipped to the new bytes. */
uint64_t nbd_rate_take(struct nbd_rate *r, uint64_t bytes, uint32_t usecs,
                       uint64_t now_ns, uint32_t len);

#endif
