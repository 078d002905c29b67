/* The forwarding plane's part of the netbackd config file (libconfig):
 * top-level `eal`, `bridges` and `ports` (docs/config.md). The `netbackd`
 * group (vif defaults: mode, cpus, max_queues, ...) belongs to
 * backend/settings.c and is left alone here. Loading parses and validates
 * everything; nothing is created until nb_plane_apply() (bridge_ctl.h). */
#ifndef NB_CONFIG_H
#define NB_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include "bridge/bridge.h"

enum nb_port_kind { NB_KIND_TAP, NB_KIND_DPDK, NB_KIND_DISCARD };

struct nb_config_port {
    enum nb_port_kind kind;
    char name[64];
    char bridge[NB_BRIDGE_NAME_MAX];
    enum nb_vlan_mode vlan_mode;
    uint16_t access_vlan;
    uint8_t trunk_allowed[4096 / 8];
    char linux_bridge[16];     /* tap: Linux bridge to join ("" none) */
    unsigned mtu;              /* tap: 0 = kernel default */
    int no_offload;            /* tap: no checksum/TSO through the vnet header */
    char devargs[256];         /* dpdk */
    int busy_poll;             /* dpdk: receive thread spins */
    char capture[256];         /* pcap file or fifo ("" none) */
    unsigned line;             /* where it was defined (0: not from a file) */
};

struct nb_config_bridge {
    char name[NB_BRIDGE_NAME_MAX];
    unsigned aging;            /* seconds */
    unsigned line;
};

struct nb_config {
    char file[256];
    char **eal;                /* EAL arguments, as given */
    unsigned n_eal;
    struct nb_config_bridge *bridges;
    unsigned n_bridges;
    struct nb_config_port *ports;
    unsigned n_ports;
};

/* Reads and validates path. On error returns -EINVAL (or -ENOENT/-errno for
 * an unreadable file) with "file:line: what" in err. */
int nb_config_load(const char *path, struct nb_config **out, char *err, size_t errlen);
/* The same from a string (file name "<string>"), for tests and the control
 * socket. */
int nb_config_parse(const char *text, struct nb_config **out, char *err, size_t errlen);
void nb_config_free(struct nb_config *cfg);

/* Checks one port on its own (names, VLANs, what its kind needs). 0 or
 * -EINVAL with the reason in err (no file:line prefix). */
int nb_config_port_check(const struct nb_config_port *p, char *err, size_t errlen);
/* Parses "access" / "trunk" / "none". */
int nb_config_vlan_mode(const char *s, enum nb_vlan_mode *mode);
const char *nb_config_kind_name(enum nb_port_kind kind);
int nb_config_kind(const char *s, enum nb_port_kind *kind);

#endif
