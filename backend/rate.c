/* TX credit (see rate.h). */
#include "backend/rate.h"

static uint64_t cap_of(uint64_t bytes)
{
    return bytes > NBD_RATE_BURST_FLOOR ? bytes : NBD_RATE_BURST_FLOOR;
}

static uint64_t window_ns_of(uint64_t usecs)
{
    if (usecs < NBD_RATE_MIN_WINDOW_US)
        usecs = NBD_RATE_MIN_WINDOW_US;
    if (usecs > NBD_RATE_MAX_WINDOW_US)
        usecs = NBD_RATE_MAX_WINDOW_US;
    return usecs * 1000u;
}

/* credit + add, never above cap (and never wrapping). */
static uint64_t add_capped(uint64_t credit, uint64_t add, uint64_t cap)
{
    if (credit >= cap)
        return cap;
    return add > cap - credit ? cap : credit + add;
}

uint64_t nbd_rate_take(struct nbd_rate *r, uint64_t bytes, uint64_t usecs,
                       uint64_t now_ns, uint32_t len)
{
    uint64_t window = window_ns_of(usecs);
    uint64_t cap = cap_of(bytes);

    if (bytes == NBD_RATE_UNLIMITED) {
        /* a later limit starts afresh with one window's credit */
        *r = (struct nbd_rate){ 0 };
        return 0;
    }
    if (!r->stamp_ns) {
        /* a fresh queue starts with one window's credit, as Linux */
        r->credit = bytes;
        r->stamp_ns = now_ns ? now_ns : 1;
    } else if (bytes != r->bytes || usecs != r->usecs) {
        if (r->limited) {
            r->credit = add_capped(r->credit, bytes, cap);
            r->stamp_ns = now_ns ? now_ns : 1;
        } else if (r->credit > bytes) {
            r->credit = bytes;
        }
    } else if (now_ns > r->stamp_ns && now_ns - r->stamp_ns >= window) {
        /* one window's worth per elapsed window, never above the cap */
        uint64_t windows = (now_ns - r->stamp_ns) / window;
        uint64_t add = !bytes ? 0 : windows > cap / bytes ? cap : windows * bytes;
        r->credit = add_capped(r->credit, add, cap);
        r->stamp_ns = now_ns;
    }
    r->bytes = bytes;
    r->usecs = usecs;
    if (r->credit > cap)
        r->credit = cap;
    if (len > r->credit) {
        r->limited = true;
        /* no credit ever comes with 0 bytes: sleep until the key changes
         * (the caller is woken then) rather than once per window */
        return r->stamp_ns + (bytes ? window : window_ns_of(NBD_RATE_MAX_WINDOW_US));
    }
    r->limited = false;
    r->credit -= len;
    return 0;
}
