/* TX credit (see rate.h). */
#include "backend/rate.h"

uint64_t nbd_rate_take(struct nbd_rate *r, uint64_t bytes, uint32_t usecs,
                       uint64_t now_ns, uint32_t len)
{
    uint64_t window = (uint64_t)usecs * 1000u;
    uint64_t cap = bytes > NBD_RATE_BURST_FLOOR ? bytes : NBD_RATE_BURST_FLOOR;

    if (!bytes)
        return 0;
    if (!r->stamp_ns) {
        /* a fresh queue starts with one window's credit, as Linux */
        r->credit = bytes < cap ? bytes : cap;
        r->stamp_ns = now_ns ? now_ns : 1;
    } else if (now_ns - r->stamp_ns >= window) {
        /* one window's worth per elapsed window, never above the cap */
        uint64_t windows = window ? (now_ns - r->stamp_ns) / window : 1;
        uint64_t add = windows > cap / bytes ? cap : windows * bytes;
        r->credit = add > cap - (r->credit < cap ? r->credit : cap) ? cap : r->credit + add;
        r->stamp_ns = now_ns;
    }
    if (r->credit > cap)
        r->credit = cap;
    if (len > r->credit)
        return r->stamp_ns + (window ? window : 1);
    r->credit -= len;
    return 0;
}
