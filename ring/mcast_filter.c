/* The per-vif multicast list (see mcast_filter.h). */
#include <errno.h>
#include <string.h>
#include "ring/mcast_filter.h"

void netif_mcast_init(struct netif_mcast_filter *f)
{
    f->n = 0;
}

static int find(const struct netif_mcast_filter *f, const uint8_t addr[6])
{
    for (unsigned i = 0; i < f->n; i++)
        if (memcmp(f->addr[i], addr, 6) == 0)
            return (int)i;
    return -1;
}

int netif_mcast_add(struct netif_mcast_filter *f, const uint8_t addr[6])
{
    if (find(f, addr) >= 0)
        return 0;
    if (f->n >= NETIF_MCAST_MAX)
        return -ENOSPC;
    memcpy(f->addr[f->n++], addr, 6);
    return 0;
}

int netif_mcast_del(struct netif_mcast_filter *f, const uint8_t addr[6])
{
    int i = find(f, addr);
    if (i < 0)
        return -ENOENT;
    /* Order does not matter: move the last entry into the hole. */
    f->n--;
    if ((unsigned)i != f->n)
        memcpy(f->addr[i], f->addr[f->n], 6);
    return 0;
}

bool netif_mcast_contains(const struct netif_mcast_filter *f,
                          const uint8_t addr[6])
{
    return find(f, addr) >= 0;
}

bool netif_mcast_pass(const struct netif_mcast_filter *f, const uint8_t dst[6])
{
    static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    if (!(dst[0] & 1) || memcmp(dst, bcast, 6) == 0)
        return true;
    return netif_mcast_contains(f, dst);
}
