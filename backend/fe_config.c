/* Frontend key validation (see fe_config.h). Linux netback accepts any
 * "%u"/"%d" and falls back silently on contradictions; here a frontend that
 * writes something no correct netfront writes is told so and not connected. */
#include "backend/fe_config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/xs_parse.h"

struct reader {
    nbd_key_reader read;
    void *arg;
    char *err;
    size_t errlen;
};

static int fail(struct reader *r, int rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(r->err, r->errlen, fmt, ap);
    va_end(ap);
    return rc;
}

/* 1: present and parsed, 0: absent, <0: malformed. */
static int read_u32(struct reader *r, const char *key, uint32_t max, uint32_t *out)
{
    char *v = r->read(r->arg, key);
    int rc;

    if (!v)
        return 0;
    rc = nbd_parse_u32(v, max, out) ? fail(r, -EINVAL, "%s: malformed value", key) : 1;
    free(v);
    return rc;
}

/* Absent keys take the default the protocol gives them. */
static int read_bool(struct reader *r, const char *key, bool dflt, bool *out)
{
    char *v = r->read(r->arg, key);
    int rc = 0;

    *out = dflt;
    if (v) {
        if (nbd_parse_bool(v, out))
            rc = fail(r, -EINVAL, "%s: must be 0 or 1", key);
        free(v);
    }
    return rc;
}

static int read_required_u32(struct reader *r, const char *key, uint32_t *out)
{
    int rc = read_u32(r, key, UINT32_MAX, out);

    if (rc == 0)
        return fail(r, -EINVAL, "%s: missing", key);
    return rc < 0 ? rc : 0;
}

static bool present(struct reader *r, const char *key)
{
    char *v = r->read(r->arg, key);

    free(v);
    return v != NULL;
}

/* Ring refs and event channels of one queue, under prefix ("" or
 * "queue-N/"). Exactly one event channel form is allowed. */
static int read_queue(struct reader *r, const char *prefix, bool split_ok,
                      struct nbd_fe_queue_keys *q)
{
    char key[80];
    int rc, has_tx, has_rx, has_single;
    uint32_t single = 0;

#define KEY(name) (snprintf(key, sizeof(key), "%s%s", prefix, name), key)
    if ((rc = read_required_u32(r, KEY("tx-ring-ref"), &q->tx_ring_ref)) ||
        (rc = read_required_u32(r, KEY("rx-ring-ref"), &q->rx_ring_ref)))
        return rc;
    if ((has_tx = read_u32(r, KEY("event-channel-tx"), UINT32_MAX, &q->evtchn_tx)) < 0 ||
        (has_rx = read_u32(r, KEY("event-channel-rx"), UINT32_MAX, &q->evtchn_rx)) < 0 ||
        (has_single = read_u32(r, KEY("event-channel"), UINT32_MAX, &single)) < 0)
        return -EINVAL;
    if (has_tx || has_rx) {
        if (!split_ok)
            return fail(r, -EINVAL, "%sevent-channel-tx/-rx: split event channels not offered", prefix);
        if (!has_tx || !has_rx)
            return fail(r, -EINVAL, "%sevent-channel-%s: missing (split needs both)",
                        prefix, has_tx ? "rx" : "tx");
        if (has_single)
            return fail(r, -EINVAL, "%sevent-channel: given together with -tx/-rx", prefix);
        q->split = true;
    } else if (has_single) {
        q->evtchn_tx = q->evtchn_rx = single;
        q->split = false;
    } else {
        return fail(r, -EINVAL, "%sevent-channel: missing", prefix);
    }
    if (q->evtchn_tx == 0 || q->evtchn_rx == 0)
        return fail(r, -EINVAL, "%sevent-channel: port 0 is invalid", prefix);
    return 0;
#undef KEY
}

static const char *const top_level_queue_keys[] = {
    "tx-ring-ref", "rx-ring-ref", "event-channel", "event-channel-tx", "event-channel-rx",
};

static int read_queues(struct reader *r, const struct nbd_fe_offer *offer,
                       struct nbd_fe_config *cfg)
{
    uint32_t nq = 1;
    int rc = read_u32(r, "multi-queue-num-queues", NBD_MAX_QUEUES, &nq);

    if (rc < 0)
        return fail(r, -EINVAL, "multi-queue-num-queues: malformed or above %u", NBD_MAX_QUEUES);
    if (nq == 0 || nq > offer->max_queues)
        return fail(r, -EINVAL, "multi-queue-num-queues: %u requested, maximum is %u",
                    nq, offer->max_queues);
    cfg->num_queues = nq;
    if (nq == 1)
        return read_queue(r, "", offer->split_evtchn, &cfg->q[0]);

    for (size_t i = 0; i < sizeof(top_level_queue_keys) / sizeof(top_level_queue_keys[0]); i++)
        if (present(r, top_level_queue_keys[i]))
            return fail(r, -EINVAL, "%s: at top level with %u queues", top_level_queue_keys[i], nq);
    for (unsigned i = 0; i < nq; i++) {
        char prefix[24];
        snprintf(prefix, sizeof(prefix), "queue-%u/", i);
        if ((rc = read_queue(r, prefix, offer->split_evtchn, &cfg->q[i])))
            return rc;
    }
    return 0;
}

static int read_ctrl_ring(struct reader *r, const struct nbd_fe_offer *offer,
                          struct nbd_fe_config *cfg)
{
    int has_ref, has_evt;

    cfg->ctrl_ring = false;
    if (!offer->ctrl_ring)
        return 0;   /* not offered: whatever is there is not for us */
    if ((has_ref = read_u32(r, "ctrl-ring-ref", UINT32_MAX, &cfg->ctrl_ring_ref)) < 0 ||
        (has_evt = read_u32(r, "event-channel-ctrl", UINT32_MAX, &cfg->evtchn_ctrl)) < 0)
        return -EINVAL;
    if (has_ref != has_evt)
        return fail(r, -EINVAL, "%s: missing (control ring needs both keys)",
                    has_ref ? "event-channel-ctrl" : "ctrl-ring-ref");
    if (has_evt && cfg->evtchn_ctrl == 0)
        return fail(r, -EINVAL, "event-channel-ctrl: port 0 is invalid");
    cfg->ctrl_ring = has_ref;
    return 0;
}

static int read_xdp(struct reader *r, uint16_t *headroom)
{
    uint32_t v = 0;

    if (read_u32(r, "xdp-headroom", UINT16_MAX, &v) < 0)
        return -EINVAL;
    *headroom = (uint16_t)(v > NBD_MAX_XDP_HEADROOM ? NBD_MAX_XDP_HEADROOM : v);
    return 0;
}

int nbd_fe_read_xdp_headroom(uint16_t *headroom, nbd_key_reader read, void *arg,
                             char *err, size_t errlen)
{
    struct reader r = { read, arg, err, errlen };

    if (errlen)
        err[0] = '\0';
    return read_xdp(&r, headroom);
}

int nbd_fe_config_read(struct nbd_fe_config *cfg, const struct nbd_fe_offer *offer,
                       nbd_key_reader read, void *arg, char *err, size_t errlen)
{
    struct reader r = { read, arg, err, errlen };
    bool rx_copy, no_csum;
    int rc;

    memset(cfg, 0, sizeof(*cfg));
    if (errlen)
        err[0] = '\0';
    if ((rc = read_bool(&r, "request-rx-copy", false, &rx_copy)))
        return rc;
    if (!rx_copy)
        return fail(&r, -EOPNOTSUPP, "request-rx-copy: page flipping is not supported");
    if ((rc = read_queues(&r, offer, cfg)) ||
        (rc = read_bool(&r, "feature-rx-notify", false, &cfg->rx_notify)) ||
        (rc = read_bool(&r, "feature-sg", false, &cfg->sg)) ||
        (rc = read_bool(&r, "feature-gso-tcpv4", false, &cfg->gso_tcpv4)) ||
        (rc = read_bool(&r, "feature-gso-tcpv6", false, &cfg->gso_tcpv6)) ||
        (rc = read_bool(&r, "feature-no-csum-offload", false, &no_csum)) ||
        (rc = read_bool(&r, "feature-ipv6-csum-offload", false, &cfg->ipv6_csum)) ||
        (rc = read_bool(&r, "request-multicast-control", false, &cfg->mcast_control)) ||
        (rc = read_ctrl_ring(&r, offer, cfg)) ||
        (offer->xdp_headroom && (rc = read_xdp(&r, &cfg->xdp_headroom))))
        return rc;
    cfg->ipv4_csum = !no_csum;
    if (!offer->mcast_control)
        cfg->mcast_control = false;
    return 0;
}
