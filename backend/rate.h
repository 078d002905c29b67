/* Guest TX rate limiting from the backend `rate` key ("bytes,usecs"), as
 * Linux netback does it: once per window of usecs the credit grows by
 * bytes, capped at max(bytes, 128 KiB) so that a 64 KiB packet always
 * fits eventually. Every request the queue consumes is charged its first
 * slot's size, packets then dropped included. Pure: the caller passes the
 * time and the key's current value on every call, so a live change of the
 * key is seen at once. */
#ifndef NBD_RATE_H
#define NBD_RATE_H

#include <stdbool.h>
#include <stdint.h>

#define NBD_RATE_BURST_FLOOR 131072u
/* bytes when there is no key, or it does not parse: no limit (Linux's
 * default credit_bytes, ~0UL) */
#define NBD_RATE_UNLIMITED UINT64_MAX
/* Windows are kept in microseconds but never shorter than 1 ms: Linux
 * counts them in timer ticks (usecs / 1000 ms, rounded up to a tick), so
 * "N,0" refills at most once a tick there; here once a millisecond, never
 * a worker spinning on a 0 ns window. Nor longer than ~31 years (the retry
 * time stays a positive int64 of nanoseconds). */
#define NBD_RATE_MIN_WINDOW_US 1000u
#define NBD_RATE_MAX_WINDOW_US 1000000000000000ull

struct nbd_rate {
    uint64_t credit;     /* bytes that may go now */
    uint64_t stamp_ns;   /* start of the current window; 0 = not started */
    uint64_t bytes;      /* the key the state was last used with */
    uint64_t usecs;
    bool limited;        /* the last take was refused: waiting for credit */
};

/* Takes len bytes of credit at time now_ns. Returns 0 if the request may
 * be consumed, else the time (ns) at which to try again.
 * bytes == NBD_RATE_UNLIMITED: no limit (the state is forgotten).
 * bytes == 0: nothing but zero-length requests ever passes (Linux parses
 * "0,N" and then its credit never grows).
 *
 * A changed key (bytes or usecs differ from the last call) is applied as
 * Linux's rate watch does: a queue waiting for credit gets one window of
 * the new rate at once and a new window starts now; otherwise the credit
 * is clipped to the new bytes. */
uint64_t nbd_rate_take(struct nbd_rate *r, uint64_t bytes, uint64_t usecs,
                       uint64_t now_ns, uint32_t len);

#endif
