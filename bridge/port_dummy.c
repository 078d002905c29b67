#include "bridge/port_dummy.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dummy {
    struct nb_port port;
    pthread_mutex_t lock;
    struct nb_pkt **kept;
    unsigned n, cap;
    atomic_uint tx_calls;
    atomic_bool link;
    bool filter_on;
    uint8_t mcast[6];
    bool *destroyed;
    void (*hook)(struct nb_port *port, struct nb_pkt *pkt, void *ctx);
    void *hook_ctx;
};

static struct dummy *dummy_of(struct nb_port *port)
{
    return (struct dummy *)port;
}

static void dummy_tx_burst(struct nb_port *port, struct nb_pkt **pkts, unsigned n)
{
    struct dummy *d = dummy_of(port);
    unsigned dropped = 0;

    atomic_fetch_add(&d->tx_calls, 1);
    if (d->hook)
        for (unsigned i = 0; i < n; i++)
            d->hook(port, pkts[i], d->hook_ctx);
    pthread_mutex_lock(&d->lock);
    for (unsigned i = 0; i < n; i++) {
        if (d->n == d->cap && d->cap < NB_DUMMY_MAX_KEPT) {
            unsigned cap = d->cap ? d->cap * 2 : 64;
            struct nb_pkt **k = realloc(d->kept, cap * sizeof(*k));
            if (k) {
                d->kept = k;
                d->cap = cap;
            }
        }
        if (d->n < d->cap) {
            d->kept[d->n++] = pkts[i];
        } else {
            nb_pkt_free(pkts[i]);
            dropped++;
        }
    }
    pthread_mutex_unlock(&d->lock);
    if (dropped)
        nb_port_count_drop(port, NB_DROP_NO_BUFFER, dropped);
}

static int dummy_link_up(struct nb_port *port)
{
    return atomic_load(&dummy_of(port)->link);
}

static int dummy_accepts_mcast(struct nb_port *port, const uint8_t mac[6])
{
    struct dummy *d = dummy_of(port);
    return !d->filter_on || memcmp(mac, d->mcast, 6) == 0;
}

static void dummy_destroy(struct nb_port *port)
{
    struct dummy *d = dummy_of(port);
    if (d->destroyed)
        *d->destroyed = true;
    nb_dummy_port_free(port);
}

static const struct nb_port_ops dummy_ops = {
    .kind = "dummy",
    .tx_burst = dummy_tx_burst,
    .link_up = dummy_link_up,
    .destroy = dummy_destroy,
    .accepts_mcast = dummy_accepts_mcast,
};

struct nb_port *nb_dummy_port_new(const char *name, uint32_t offloads)
{
    struct dummy *d = calloc(1, sizeof(*d));

    if (!d)
        return NULL;
    d->port.ops = &dummy_ops;
    snprintf(d->port.name, sizeof(d->port.name), "%s", name);
    d->port.offloads = offloads;
    d->port.priv = d;
    atomic_store(&d->link, true);
    pthread_mutex_init(&d->lock, NULL);
    return &d->port;
}

void nb_dummy_port_free(struct nb_port *port)
{
    struct dummy *d = dummy_of(port);

    nb_dummy_port_clear(port);
    free(d->kept);
    pthread_mutex_destroy(&d->lock);
    free(d);
}

unsigned nb_dummy_port_count(struct nb_port *port)
{
    struct dummy *d = dummy_of(port);
    unsigned n;

    pthread_mutex_lock(&d->lock);
    n = d->n;
    pthread_mutex_unlock(&d->lock);
    return n;
}

struct nb_pkt *nb_dummy_port_get(struct nb_port *port, unsigned i)
{
    struct dummy *d = dummy_of(port);
    struct nb_pkt *p;

    pthread_mutex_lock(&d->lock);
    p = i < d->n ? d->kept[i] : NULL;
    pthread_mutex_unlock(&d->lock);
    return p;
}

void nb_dummy_port_clear(struct nb_port *port)
{
    struct dummy *d = dummy_of(port);

    pthread_mutex_lock(&d->lock);
    for (unsigned i = 0; i < d->n; i++)
        nb_pkt_free(d->kept[i]);
    d->n = 0;
    pthread_mutex_unlock(&d->lock);
}

void nb_dummy_port_set_link(struct nb_port *port, bool up)
{
    atomic_store(&dummy_of(port)->link, up);
}

void nb_dummy_port_set_mcast_filter(struct nb_port *port, const uint8_t *mcast)
{
    struct dummy *d = dummy_of(port);
    d->filter_on = mcast != NULL;
    if (mcast)
        memcpy(d->mcast, mcast, 6);
}

void nb_dummy_port_watch_destroy(struct nb_port *port, bool *flag)
{
    dummy_of(port)->destroyed = flag;
}

void nb_dummy_port_set_hook(struct nb_port *port,
                            void (*hook)(struct nb_port *port, struct nb_pkt *pkt, void *ctx),
                            void *ctx)
{
    struct dummy *d = dummy_of(port);
    d->hook = hook;
    d->hook_ctx = ctx;
}

unsigned nb_dummy_port_tx_calls(struct nb_port *port)
{
    return atomic_load(&dummy_of(port)->tx_calls);
}
