/* The frontend side of the netif control ring: one request at a time,
 * answered synchronously (hash configuration is rare and not on the data
 * path), plus one granted page for the key and mapping tables. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>

#include "backend/netfront/nf_priv.h"

int nf_ctrl_setup(struct netfront *nf)
{
    struct nf_ctrl *c = &nf->ctrl;
    memset(c, 0, sizeof(*c));
    c->port = -1;
    uint32_t be = nf->backend_domid;
    c->xce = xenevtchn_open(NULL, 0);
    if (!c->xce)
        return -errno;
    c->sring = xengntshr_share_pages(nf->xgs, be, 1, &c->ring_ref, 1);
    c->page = c->sring ? xengntshr_share_pages(nf->xgs, be, 1, &c->page_ref, 0) : NULL;
    if (!c->page) {
        int rc = errno ? -errno : -ENOMEM;
        nf_ctrl_teardown(nf);
        return rc;
    }
    xen_netif_ctrl_sring_t *s = c->sring;
    SHARED_RING_INIT(s);
    FRONT_RING_INIT(&c->ring, s, NF_PAGE_SIZE);
    xenevtchn_port_or_error_t p = xenevtchn_bind_unbound_port(c->xce, be);
    if (p < 0) {
        int rc = -errno;
        nf_ctrl_teardown(nf);
        return rc;
    }
    c->port = p;
    return 0;
}

void nf_ctrl_teardown(struct netfront *nf)
{
    struct nf_ctrl *c = &nf->ctrl;
    if (c->xce) {
        if (c->port >= 0)
            xenevtchn_unbind(c->xce, (evtchn_port_t)c->port);
        xenevtchn_close(c->xce);
    }
    if (c->page)
        xengntshr_unshare(nf->xgs, c->page, 1);
    if (c->sring)
        xengntshr_unshare(nf->xgs, c->sring, 1);
    memset(c, 0, sizeof(*c));
    c->port = -1;
}

bool netfront_has_ctrl(const struct netfront *nf)
{
    return nf->connected && nf->has_ctrl;
}

void *netfront_ctrl_page(struct netfront *nf, uint32_t *gref)
{
    if (!netfront_has_ctrl(nf))
        return NULL;
    *gref = nf->ctrl.page_ref;
    return nf->ctrl.page;
}

static int64_t ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int netfront_ctrl(struct netfront *nf, uint16_t type, uint32_t d0, uint32_t d1, uint32_t d2,
                  uint32_t *status, uint32_t *data, int timeout_ms)
{
    if (!netfront_has_ctrl(nf))
        return -ENOTCONN;
    struct nf_ctrl *c = &nf->ctrl;
    uint16_t id = c->next_id++;
    struct xen_netif_ctrl_request *req = RING_GET_REQUEST(&c->ring, c->ring.req_prod_pvt);
    req->id = id;
    req->type = type;
    req->data[0] = d0;
    req->data[1] = d1;
    req->data[2] = d2;
    c->ring.req_prod_pvt++;
    int notify;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&c->ring, notify);
    if (notify)
        xenevtchn_notify(c->xce, (evtchn_port_t)c->port);

    int64_t deadline = ms_now() + timeout_ms;
    for (;;) {
        int more;
        RING_FINAL_CHECK_FOR_RESPONSES(&c->ring, more);
        while (more && c->ring.rsp_cons != c->ring.sring->rsp_prod) {
            xen_rmb();
            struct xen_netif_ctrl_response r = *RING_GET_RESPONSE(&c->ring, c->ring.rsp_cons);
            c->ring.rsp_cons++;
            if (r.id == id) {
                *status = r.status;
                *data = r.data;
                return 0;
            }
            /* an answer to an earlier, timed-out request: skip it */
        }
        int64_t left = deadline - ms_now();
        if (left <= 0)
            return -ETIMEDOUT;
        struct pollfd pfd = {.fd = xenevtchn_fd(c->xce), .events = POLLIN};
        if (poll(&pfd, 1, left > 100 ? 100 : (int)left) > 0) {
            xenevtchn_port_or_error_t p = xenevtchn_pending(c->xce);
            if (p >= 0)
                xenevtchn_unmask(c->xce, (evtchn_port_t)p);
        }
    }
}
