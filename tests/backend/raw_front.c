/* The raw frontend shared by the backend's emulator tests. */
#include "tests/backend/raw_front.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <stdint.h>
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

/* Unshares the pages and closes the handles that are open. */
static void release(struct raw_fe *f)
{
    if (f->pages)
        xengntshr_unshare(f->xgs, f->pages, f->nr_pages);
    if (f->xce)
        xenevtchn_close(f->xce);
    if (f->xgs)
        xengntshr_close(f->xgs);
    if (f->xsh)
        xs_close(f->xsh);
    f->pages = NULL;
    f->xce = NULL;
    f->xgs = NULL;
    f->xsh = NULL;
}

static int connect_steps(struct raw_fe *f, unsigned nr_pages, unsigned flags)
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

int raw_fe_connect(struct raw_fe *f, unsigned nr_pages, unsigned flags)
{
    int rc;

    f->xsh = NULL;   /* ours from here on (a caller may have used the field) */
    f->xgs = NULL;
    f->xce = NULL;
    f->pages = NULL;
    rc = connect_steps(f, nr_pages, flags);

    if (rc)
        release(f);   /* a failed guest leaks nothing either */
    return rc;
}

void raw_fe_close(struct raw_fe *f)
{
    raw_fe_write(f, "state", "6");
    nbd_test_wait_be_state(f->xsh, f->domid, f->devid, XenbusStateClosed);
    release(f);
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

void raw_fe_frame(uint8_t *p, unsigned len, const uint8_t dst[6], unsigned src, unsigned seq)
{
    const uint8_t mac[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, (uint8_t)src };

    memcpy(p, dst, 6);
    memcpy(p + 6, mac, 6);
    p[12] = 0x88;   /* an ethertype nobody parses */
    p[13] = 0xb5;
    p[14] = (uint8_t)(seq >> 8);
    p[15] = (uint8_t)seq;
    for (unsigned i = 16; i < len; i++)
        p[i] = (uint8_t)(seq * 31 + i * 7);
}

void raw_fe_queue_tx(struct raw_fe *f, unsigned tx0, const void *data, uint16_t len)
{
    RING_IDX i = f->tx.req_prod_pvt;
    unsigned area = i % (RAW_FE_TX_PAGES * 4096 / RAW_FE_AREA);
    unsigned page = tx0 + area / (4096 / RAW_FE_AREA);
    uint16_t off = (uint16_t)(area % (4096 / RAW_FE_AREA) * RAW_FE_AREA);

    if (data)
        memcpy(raw_fe_page(f, page) + off, data, len);
    *RING_GET_REQUEST(&f->tx, i) = (netif_tx_request_t){
        .gref = f->refs[page], .offset = off, .id = (uint16_t)area, .size = len };
    f->tx.req_prod_pvt = i + 1;
}

void raw_fe_push_tx(struct raw_fe *f)
{
    int notify;

    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&f->tx, notify);
    if (notify)
        xenevtchn_notify(f->xce, f->port);
}

unsigned raw_fe_reap_tx(struct raw_fe *f, unsigned *ok, unsigned *bad)
{
    unsigned n = 0;

    while (RING_HAS_UNCONSUMED_RESPONSES(&f->tx)) {
        xen_rmb();
        netif_tx_response_t r = *RING_GET_RESPONSE(&f->tx, f->tx.rsp_cons);
        f->tx.rsp_cons++;
        if (r.status == NETIF_RSP_OKAY) {
            if (ok)
                (*ok)++;
        } else if (bad) {
            (*bad)++;
        }
        n++;
    }
    return n;
}

void raw_fe_post_rx_all(struct raw_fe *f, unsigned rx0)
{
    int notify;

    while (!RING_FULL(&f->rx)) {
        RING_IDX i = f->rx.req_prod_pvt;
        netif_rx_request_t *req = RING_GET_REQUEST(&f->rx, i);
        req->id = (uint16_t)(i % RAW_FE_RX_PAGES);
        req->gref = f->refs[rx0 + i % RAW_FE_RX_PAGES];
        f->rx.req_prod_pvt = i + 1;
    }
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&f->rx, notify);
    if (notify)
        xenevtchn_notify(f->xce, f->port);
}

int raw_fe_next_rx(struct raw_fe *f, unsigned rx0, const uint8_t **data, unsigned *len)
{
    if (!RING_HAS_UNCONSUMED_RESPONSES(&f->rx))
        return 0;
    xen_rmb();
    netif_rx_response_t r = *RING_GET_RESPONSE(&f->rx, f->rx.rsp_cons);
    f->rx.rsp_cons++;
    if (r.status <= 0 || (r.flags & (NETRXF_more_data | NETRXF_extra_info)) ||
        r.id >= RAW_FE_RX_PAGES || r.offset + r.status > 4096)
        return -1;
    *data = raw_fe_page(f, rx0 + r.id) + r.offset;
    *len = (unsigned)r.status;
    return 1;
}

void raw_fe_mcast(struct raw_fe *f, uint8_t type, const uint8_t addr[6])
{
    netif_tx_request_t *req = RING_GET_REQUEST(&f->tx, f->tx.req_prod_pvt);
    struct netif_extra_info *ex;

    memset(req, 0, sizeof(*req));
    req->flags = NETTXF_extra_info;
    req->id = (uint16_t)(f->tx.req_prod_pvt % (RAW_FE_TX_PAGES * 4096 / RAW_FE_AREA));
    f->tx.req_prod_pvt++;
    ex = (struct netif_extra_info *)RING_GET_REQUEST(&f->tx, f->tx.req_prod_pvt);
    memset(ex, 0, sizeof(*ex));
    ex->type = type;
    memcpy(ex->u.mcast.addr, addr, 6);
    f->tx.req_prod_pvt++;
    raw_fe_push_tx(f);
}

/* A peer's whole memory, mapped at once for grant copies (sim/'s layout:
 * the grant table's 32768 frames). */
#define SIM_MEM_BYTES (32768ull * 4096)

unsigned long raw_fe_mem_inode(struct raw_fe *f)
{
    FILE *m = fopen("/proc/self/maps", "r");
    char line[512];
    unsigned long inode = 0;

    while (m && fgets(line, sizeof(line), m)) {
        unsigned long lo, hi, ino;
        char perms[8];
        unsigned long long off;
        unsigned maj, min;
        if (sscanf(line, "%lx-%lx %7s %llx %x:%x %lu", &lo, &hi, perms, &off, &maj, &min, &ino) == 7 &&
            (uintptr_t)f->pages >= lo && (uintptr_t)f->pages < hi)
            inode = ino;
    }
    if (m)
        fclose(m);
    return inode;
}

long raw_fe_mapped_by(pid_t pid, unsigned long inode)
{
    char path[64], line[512];
    long pages = 0;
    FILE *m;

    snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
    if (!(m = fopen(path, "r")))
        return -1;
    while (fgets(line, sizeof(line), m)) {
        unsigned long lo, hi, ino;
        char perms[8];
        unsigned long long off;
        unsigned maj, min;
        if (sscanf(line, "%lx-%lx %7s %llx %x:%x %lu", &lo, &hi, perms, &off, &maj, &min, &ino) == 7 &&
            ino == inode && hi - lo < SIM_MEM_BYTES && strcmp(perms, "---p"))
            pages += (long)((hi - lo) / 4096);
    }
    fclose(m);
    return pages;
}
