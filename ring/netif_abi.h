/* The one place ring/ pulls in the Xen netif ABI (xen/io/netif.h, ring.h,
 * grant_table.h as installed by libxen-dev). Nothing here redefines the
 * protocol; it only adds the include order those headers expect and the few
 * limits the protocol leaves to the backend.
 *
 * Barriers: the ring macros that push or check for notifications need
 * xen_wmb()/xen_mb(), which only <xenctrl.h> defines (defining __XEN_TOOLS__
 * alone is not enough with the 4.17 headers). ring/ never uses those macros;
 * a caller that does must include <xenctrl.h> before this header. */
#ifndef NB_RING_NETIF_ABI_H
#define NB_RING_NETIF_ABI_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/io/netif.h>

#define NETIF_PAGE_SIZE 4096u  /* XEN_PAGE_SIZE: every grant is one 4 KiB page */
#define NETIF_ETH_HLEN 14u     /* shortest frame a backend accepts */

/* Slots in a one-page ring (256, 256, 128), for sizing local copies. */
#define NETIF_TX_RING_SIZE __CONST_RING_SIZE(netif_tx, NETIF_PAGE_SIZE)
#define NETIF_RX_RING_SIZE __CONST_RING_SIZE(netif_rx, NETIF_PAGE_SIZE)
#define NETIF_CTRL_RING_SIZE __CONST_RING_SIZE(xen_netif_ctrl, NETIF_PAGE_SIZE)

/* How many requests a backend may take from a ring whose responses go in
 * their own slots (TX, control): those published (prod - cons), but no more
 * than there is room to answer, since slots consumed but not yet answered
 * cannot be reused. -1 when the frontend's producer index is impossible
 * (more than a ring ahead): the caller treats that as malicious. */
static inline int netif_ring_takeable(RING_IDX prod, RING_IDX cons,
                                      RING_IDX rsp_prod_pvt, unsigned size)
{
    unsigned pending = prod - cons;
    unsigned room = size - (cons - rsp_prod_pvt);

    if (pending > size)
        return -1;
    if (room > size)
        room = 0;
    return (int)(pending < room ? pending : room);
}

#endif
