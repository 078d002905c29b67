/* A port kind for tests (as netdev-dummy is for Open vSwitch): tx_burst
 * keeps every packet it is given, in order, for the test to inspect;
 * link state and the multicast filter are settable. */
#ifndef NB_PORT_DUMMY_H
#define NB_PORT_DUMMY_H

#include <stdbool.h>
#include "bridge/port.h"

#define NB_DUMMY_MAX_KEPT 65536u   /* beyond this tx_burst drops (NO_BUFFER) */

struct nb_port *nb_dummy_port_new(const char *name, uint32_t offloads);
/* Frees a port that was never attached (attached ones die in del_port). */
void nb_dummy_port_free(struct nb_port *port);
/* Packets kept so far; the array stays owned by the port. */
unsigned nb_dummy_port_count(struct nb_port *port);
struct nb_pkt *nb_dummy_port_get(struct nb_port *port, unsigned i);
/* How many times tx_burst was called. */
unsigned nb_dummy_port_tx_calls(struct nb_port *port);
/* Frees what was kept. */
void nb_dummy_port_clear(struct nb_port *port);
void nb_dummy_port_set_link(struct nb_port *port, bool up);
/* Only mcast (when set, and besides broadcast) passes the multicast filter. */
void nb_dummy_port_set_mcast_filter(struct nb_port *port, const uint8_t *mcast);
/* *flag is set to true when the port is destroyed. */
void nb_dummy_port_watch_destroy(struct nb_port *port, bool *flag);
/* Called (if set) from tx_burst with each packet before it is kept. */
void nb_dummy_port_set_hook(struct nb_port *port,
                            void (*hook)(struct nb_port *port, struct nb_pkt *pkt, void *ctx),
                            void *ctx);

#endif
