/* The raw frontend shared by the backend's emulator tests. */
#include "tests/backend/raw_front.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <xenctrl.h>
#include <xen/io/xenbus.h>

#include "tests/backend/nbd_testenv.h"

void raw_fe_write(struct raw_fe *f, const char *key, const char *fmt, ...)
{
    char path[160], val[64];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(val, sizeof(val), fmt, ap);
    va_end(ap);
    snprintf(path, sizeof(path), "/local/domain/%u/device/vif/%u/%s", f->domid, f->devid, key);
    xs_write(f->xsh, XBT_NULL, path, val, (unsigned)strlen(val));
}

uint8_t *raw_fe_page(struct raw_fe *f, unsigned i)
{
    return (uint8_t *)f->pages + (size_t)i * 4096;
}

int raw_fe_connect(struct raw_fe *f, unsigned nr_pages, unsigned flags)
{
    bool ctrl_ring = flags & (RAW_FE_CTRL_RING | RAW_FE_CTRL);
    int p;

    if (nr_pages > RAW_FE_MAX_PAGES || nr_pages < (ctrl_ring ? 3u : 2u))
        return 1;
    f->nr_pages = nr_pages;
    f->xsh = xs_open(0);
    f->xgs = xengntshr_open(NULL, 0);
    f->xce = xenevtchn_open(NULL, 0);
    if (!f->xsh || !f->xgs || !f->xce)
        return 2;
    if (!nbd_test_wait_be_state(f->xsh, f->domid, f->devid, XenbusStateInitWait))
        return 3;
    if (!(f->pages = xengntshr_share_pages(f->xgs, 0, nr_pages, f->refs, 1)))
        return 4;
    netif_tx_sring_t *txs = f->pages;
    netif_rx_sring_t *rxs = (void *)raw_fe_page(f, 1);
    SHARED_RING_INIT(txs);
    SHARED_RING_INIT(rxs);
    FRONT_RING_INIT(&f->tx, txs, 4096);
    FRONT_RING_INIT(&f->rx, rxs, 4096);
    if (ctrl_ring) {
        xen_netif_ctrl_sring_t *cs = (void *)raw_fe_page(f, 2);
        SHARED_RING_INIT(cs);
        FRONT_RING_INIT(&f->ctrl, cs, 4096);
    }
    if ((p = xenevtchn_bind_unbound_port(f->xce, 0)) < 0)
        return 5;
    f->port = (evtchn_port_t)p;
    raw_fe_write(f, "tx-ring-ref", "%u", f->refs[0]);
    raw_fe_write(f, "rx-ring-ref", "%u", f->refs[1]);
    raw_fe_write(f, "event-channel", "%u", f->port);
    if (flags & RAW_FE_CTRL) {
        if ((p = xenevtchn_bind_unbound_port(f->xce, 0)) < 0)
            return 6;
        f->ctrl_port = (evtchn_port_t)p;
        raw_fe_write(f, "ctrl-ring-ref", "%u", f->refs[2]);
        raw_fe_write(f, "event-channel-ctrl", "%u", f->ctrl_port);
    }
    if (flags & RAW_FE_MCAST)
        raw_fe_write(f, "request-multicast-control", "1");
    raw_fe_write(f, "request-rx-copy", "1");
    raw_fe_write(f, "feature-rx-notify", "1");
    if (flags & RAW_FE_SG)
        raw_fe_write(f, "feature-sg", "1");
    raw_fe_write(f, "state", "4");
    return nbd_test_wait_be_state(f->xsh, f->domid, f->devid, XenbusStateConnected) ? 0 : 7;
}

void raw_fe_close(struct raw_fe *f)
{
    raw_fe_write(f, "state", "6");
    nbd_test_wait_be_state(f->xsh, f->domid, f->devid, XenbusStateClosed);
    if (f->pages)
        xengntshr_unshare(f->xgs, f->pages, f->nr_pages);
    xenevtchn_close(f->xce);
    xengntshr_close(f->xgs);
    xs_close(f->xsh);
}

void raw_fe_post_rx(struct raw_fe *f, unsigned first, unsigned n)
{
    int notify;

    for (unsigned i = 0; i < n; i++) {
        netif_rx_request_t *req = RING_GET_REQUEST(&f->rx, f->rx.req_prod_pvt);
        req->id = (uint16_t)(first + i);
        req->gref = f->refs[first + i];
        f->rx.req_prod_pvt++;
    }
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&f->rx, notify);
    if (notify)
        xenevtchn_notify(f->xce, f->port);
}

int raw_fe_ctrl_call(struct raw_fe *f, uint16_t type, uint32_t d0, uint32_t d1, uint32_t d2,
                     struct xen_netif_ctrl_response *out)
{
    struct xen_netif_ctrl_request *req = RING_GET_REQUEST(&f->ctrl, f->ctrl.req_prod_pvt);
    uint64_t deadline = nbd_test_now_ms() + NBD_TEST_WAIT_MS;
    uint16_t id = ++f->next_ctrl_id;
    int notify;

    *req = (struct xen_netif_ctrl_request){ .id = id, .type = type, .data = { d0, d1, d2 } };
    f->ctrl.req_prod_pvt++;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&f->ctrl, notify);
    if (notify)
        xenevtchn_notify(f->xce, f->ctrl_port);
    while (!RING_HAS_UNCONSUMED_RESPONSES(&f->ctrl)) {
        if (nbd_test_now_ms() > deadline)
            return -ETIMEDOUT;
        usleep(1000);
    }
    xen_rmb();
    *out = *RING_GET_RESPONSE(&f->ctrl, f->ctrl.rsp_cons);
    f->ctrl.rsp_cons++;
    return out->id == id ? 0 : -EPROTO;
}
