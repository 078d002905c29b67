/* TX credit (see rate.h). */
#include "backend/rate.h"

static uint64_t cap_of(uint64_t bytes)
{
    return bytes > NBD_RATE_BURST_FLOOR ? bytes : NBD_RATE_BURST_FLOOR;
}

/* credit + add, never above cap (and never wrapping). */
static uint64_t add_capped(uint64_t credit, uint64_t add, uint64_t cap)
{
    if (credit >= cap)
        return cap;
    return add > cap - credit ? cap : credit + add;
}

uint64_t nbd_rate_take(struct nbd_rate *r, uint64_t bytes, uint32_t usecs,
                       uint64_t now_ns, uint32_t len)
{
    uint64_t window = (uint64_t)usecs * 1000u;
    uint64_t cap = cap_of(bytes);

    if (!bytes) {
        /* unlimited; a later limit starts afresh with one window's credit */
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
    } else if (now_ns - r->stamp_ns >= window) {
        /* one window's worth per elapsed window, never above the cap */
        uint64_t windows = window ? (now_ns - r->stamp_ns) / window : 1;
        r->credit = add_capped(r->credit, windows > cap / bytes ? cap : windows * bytes, cap);
        r->stamp_ns = now_ns;
    }
    r->bytes = bytes;
    r->usecs = usecs;
    if (r->credit > cap)
        r->credit = cap;
    if (len > r->credit) {
        r->limited = true;
        return r->stamp_ns + (window ? window : 1);
    }
    r->limited = false;
    r->credit -= len;
    return 0;
}
