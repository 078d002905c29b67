/* The discard port (see port_discard.h). */
#include "bridge/port_discard.h"

#include <stdio.h>
#include <stdlib.h>

static void discard_tx_burst(struct nb_port *port, struct nb_pkt **pkts, unsigned n)
{
    (void)port;   /* the bridge counted them as this port's tx_packets */
    nb_pkt_free_burst(pkts, n);
}

static int discard_link_up(struct nb_port *port)
{
    (void)port;
    return 1;
}

static void discard_destroy(struct nb_port *port)
{
    free(port);
}

static const struct nb_port_ops discard_ops = {
    .kind = "discard",
    .tx_burst = discard_tx_burst,
    .link_up = discard_link_up,
    .destroy = discard_destroy,
};

struct nb_port *nb_discard_port_new(const char *name)
{
    struct nb_port *port = calloc(1, sizeof(*port));

    if (!port)
        return NULL;
    port->ops = &discard_ops;
    snprintf(port->name, sizeof(port->name), "%s", name);
    /* takes anything as is: nothing is completed or segmented for it */
    port->offloads = NB_PORT_OFF_CSUM | NB_PORT_OFF_TSO4 | NB_PORT_OFF_TSO6;
    return port;
}

void nb_discard_port_free(struct nb_port *port)
{
    free(port);
}
