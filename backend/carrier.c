/* The backend `carrier` key (see carrier.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <xen/io/xenbus.h>

#include "backend/carrier.h"
#include "backend/log.h"
#include "backend/netbackd.h"
#include "backend/xs_util.h"

bool nbd_vif_carrier(const struct nbd_vif *vif)
{
    if (!vif->data_up || vif->be_state != XenbusStateConnected ||
        atomic_load_explicit(&vif->disabled, memory_order_relaxed))
        return false;
    for (unsigned i = 0; i < vif->num_queues; i++)
        if (vif->queues[i] && __atomic_load_n(&vif->queues[i]->rx_stalled, __ATOMIC_RELAXED))
            return false;
    return true;
}

/* One attempt: write the key only if the backend dir still has its state
 * node, in one transaction. 0, -ENOENT (dir gone) or -errno (-EAGAIN:
 * conflict, retry). */
static int write_if_present(struct nbd_vif *vif, int carrier)
{
    struct xs_handle *xsh = vif->ctx->xsh;
    xs_transaction_t t = xs_transaction_start(xsh);
    char path[sizeof(vif->be_path) + 16], *state;
    int rc;

    if (t == XBT_NULL)
        return -errno;
    snprintf(path, sizeof(path), "%s/state", vif->be_path);
    if (!(state = xs_read(xsh, t, path, NULL))) {
        xs_transaction_end(xsh, t, true);
        return -ENOENT;
    }
    free(state);
    rc = nbd_xs_write(xsh, t, vif->be_path, "carrier", carrier ? "1" : "0");
    if (rc) {
        xs_transaction_end(xsh, t, true);
        return rc;
    }
    return xs_transaction_end(xsh, t, false) ? 0 : -errno;
}

void nbd_vif_carrier_sync(struct nbd_vif *vif)
{
    int carrier = nbd_vif_carrier(vif) ? 1 : 0, rc;

    if (vif->gone || carrier == vif->carrier_written)
        return;
    for (int tries = 0; (rc = write_if_present(vif, carrier)) == -EAGAIN && tries < 3; tries++)
        ;
    if (rc == 0) {
        vif->carrier_written = carrier;
        nbd_log(NBD_LOG_INFO, "%s: carrier %s", vif->name, carrier ? "on" : "off");
    } else if (rc != -ENOENT) {
        nbd_log(NBD_LOG_WARN, "%s: writing carrier: %s", vif->name, strerror(-rc));
    }
}
