/* The dpdk port kind in a build without DPDK: every call says so. */
#include "bridge/port_dpdk.h"

#include <errno.h>
#include <stdio.h>

static int no_dpdk(const char *what)
{
    fprintf(stderr, "netbackd: %s: this netbackd was built without DPDK "
            "(pkg-config found no libdpdk); install libdpdk-dev and rebuild\n", what);
    return -ENOTSUP;
}

int nb_dpdk_available(void)
{
    return 0;
}

int nb_dpdk_open(const char *const *eal_args, unsigned n_args, struct nb_dpdk **out)
{
    (void)eal_args;
    (void)n_args;
    (void)out;
    return no_dpdk("DPDK EAL");
}

void nb_dpdk_close(struct nb_dpdk *dpdk)
{
    (void)dpdk;
}

int nb_dpdk_port_new(struct nb_dpdk *dpdk, const struct nb_dpdk_port_config *cfg,
                     struct nb_pkt_pool *pool, struct nb_port **out)
{
    char what[128];
    (void)dpdk;
    (void)pool;
    (void)out;
    snprintf(what, sizeof(what), "dpdk port %s", cfg && cfg->name ? cfg->name : "?");
    return no_dpdk(what);
}

int nb_dpdk_port_start(struct nb_port *port)
{
    (void)port;
    return -ENOTSUP;
}

void nb_dpdk_port_free(struct nb_port *port)
{
    (void)port;
}
