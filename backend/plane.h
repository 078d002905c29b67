/* netbackd's forwarding plane: the config file's `eal`, `bridges` and
 * `ports` (bridge/config.h) applied at start, the control socket's
 * bridge/port commands (bridge/bridge_ctl.h), and the taps of the xl
 * vif-bridge layout (bridges.c). Main thread only. */
#ifndef NBD_PLANE_H
#define NBD_PLANE_H

#include <stddef.h>

struct nbd_ctx;
struct nb_config;
struct nb_plane;
struct nb_pkt_pool;
struct nbd_vif_tap;

struct nbd_plane {
    struct nb_pkt_pool *pool;        /* receive buffers of tap and dpdk ports */
    struct nb_plane *nb;             /* ports and bridges made by config and control */
    struct nbd_vif_tap *vif_taps;    /* vif-bridge layout: one per vif on a Linux bridge */
};

/* Parses the config file (nothing is created): 0, or -errno with
 * "file:line: what" in err. A NULL or empty path gives an empty config. */
int nbd_plane_load(const char *path, struct nb_config **out, char *err, size_t errlen);
/* Creates ctx->plane over ctx->sb and applies cfg (may be NULL), all or
 * nothing: on error ctx->plane stays NULL and nothing cfg names exists. */
int nbd_plane_start(struct nbd_ctx *ctx, const struct nb_config *cfg, char *err, size_t errlen);
/* Removes every port the plane made (vif-bridge taps included). */
void nbd_plane_stop(struct nbd_ctx *ctx);

#endif
