/* netbackd's side of the forwarding plane (see plane.h): the config file's
 * bridges and ports exist before the first vif is looked at, so a vif whose
 * `bridge` key names a configured bridge joins it with its uplinks in place. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "backend/log.h"
#include "backend/netbackd.h"
#include "backend/plane.h"
#include "bridge/bridge_ctl.h"
#include "bridge/config.h"

/* Receive buffers shared by every tap and dpdk port; the pool allocates on
 * demand, this only bounds what may be outstanding (queued towards vifs). */
#define NBD_PLANE_POOL_PKTS 8192u

int nbd_plane_load(const char *path, struct nb_config **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!path || !path[0])
        return 0;
    return nb_config_load(path, out, err, errlen);
}

int nbd_plane_start(struct nbd_ctx *ctx, const struct nb_config *cfg, char *err, size_t errlen)
{
    struct nbd_plane *p = calloc(1, sizeof(*p));
    int rc = 0;

    if (!p || !(p->pool = nb_pkt_pool_new("plane", NBD_PLANE_POOL_PKTS)) ||
        !(p->nb = nb_plane_new(ctx->sb, p->pool))) {
        snprintf(err, errlen, "forwarding plane: out of memory");
        rc = -ENOMEM;
        goto fail;
    }
    if (cfg && (rc = nb_plane_apply(p->nb, cfg, err, errlen)))
        goto fail;
    if (cfg)
        nbd_log(NBD_LOG_INFO, "%s: %u bridge%s, %u port%s", cfg->file, cfg->n_bridges,
                cfg->n_bridges == 1 ? "" : "s", cfg->n_ports, cfg->n_ports == 1 ? "" : "s");
    ctx->plane = p;
    return 0;
fail:
    if (p) {
        nb_plane_free(p->nb);
        if (p->pool)
            nb_pkt_pool_free(p->pool);
        free(p);
    }
    return rc;
}

void nbd_plane_stop(struct nbd_ctx *ctx)
{
    struct nbd_plane *p = ctx->plane;

    if (!p)
        return;
    nbd_bridge_vif_taps_free(ctx);
    nb_plane_free(p->nb);
    nb_pkt_pool_free(p->pool);   /* goes when the last packet out comes back */
    free(p);
    ctx->plane = NULL;
}
