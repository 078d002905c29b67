/* The bridges vifs join: a vif's `bridge` key names one in the daemon's
 * switchboard; it is created the first time a vif names it. */
#include <errno.h>

#include "backend/log.h"
#include "backend/netbackd.h"
#include "bridge/switchboard.h"

struct nb_bridge *nbd_bridge_get(struct nbd_ctx *ctx, const char *name)
{
    struct nb_bridge *br = nb_switchboard_find(ctx->sb, name);
    int rc;

    if (br)
        return br;
    rc = nb_switchboard_create(ctx->sb, name, NULL, &br);
    if (rc && rc != -EEXIST) {
        errno = -rc;
        return NULL;
    }
    if (!rc)
        nbd_log(NBD_LOG_INFO, "bridge %s created", name);
    return br;
}
