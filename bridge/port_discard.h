/* A port kind that takes every packet the bridge sends it and frees it at
 * once ("discard", as /dev/null): a counted sink for benchmarks (the
 * guest -> netbackd direction alone, like testpmd's rxonly) and a
 * placeholder uplink. What it took is the port's tx_packets/tx_bytes in
 * port-list; it never sends anything, so no MAC is learnt behind it and
 * unicast to it arrives by flooding. */
#ifndef NB_PORT_DISCARD_H
#define NB_PORT_DISCARD_H

#include "bridge/port.h"

/* A new, unattached discard port (NULL: out of memory). */
struct nb_port *nb_discard_port_new(const char *name);
/* Frees a port that was never attached (attached ones die in del_port). */
void nb_discard_port_free(struct nb_port *port);

#endif
