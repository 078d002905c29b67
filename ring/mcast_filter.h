/* A vif's multicast filter (feature-multicast-control): the addresses the
 * frontend subscribed with MCAST_ADD/MCAST_DEL extras. Bounded like Linux
 * (XEN_NETBK_MCAST_MAX 64); adding to a full list fails and the caller
 * answers the request with NETIF_RSP_ERROR. Pure, no allocation. */
#ifndef NB_RING_MCAST_FILTER_H
#define NB_RING_MCAST_FILTER_H

#include <stdbool.h>
#include <stdint.h>

#define NETIF_MCAST_MAX 64u

struct netif_mcast_filter {
    unsigned n;
    uint8_t addr[NETIF_MCAST_MAX][6];
};

void netif_mcast_init(struct netif_mcast_filter *f);
/* 0 on success (also when already present: an address takes one entry),
 * -ENOSPC when the list is full. */
int netif_mcast_add(struct netif_mcast_filter *f, const uint8_t addr[6]);
/* 0 if removed, -ENOENT if it was not there (Linux answers OKAY either way). */
int netif_mcast_del(struct netif_mcast_filter *f, const uint8_t addr[6]);
bool netif_mcast_contains(const struct netif_mcast_filter *f,
                          const uint8_t addr[6]);
/* Whether a frame to dst may be delivered to a frontend that asked for
 * multicast control: unicast and broadcast always, multicast only when
 * subscribed (Linux drops PACKET_MULTICAST frames not in the list). */
bool netif_mcast_pass(const struct netif_mcast_filter *f,
                      const uint8_t dst[6]);

#endif
