/* The learning switch: port table, MAC table (FDB), and the burst
 * forwarding path. See bridge.h for the concurrency contract. */
#include "bridge/bridge.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <endian.h>

#include "bridge/capture.h"
#include "bridge/epoch.h"
#include "bridge/offload.h"
#include "bridge/wire.h"

#define ETH_HLEN 14
#define VLAN_HLEN 4
#define ETHERTYPE_8021Q 0x8100

/* MAC table: FDB_BUCKETS buckets of FDB_WAYS entries, each bucket guarded
 * by a sequence counter (odd while a writer is inside). */
#define FDB_BUCKETS 2048u
#define FDB_WAYS 4u
#define FDB_KEY_VALID (1ull << 63)
/* A learned entry is refreshed at most this often, so steady traffic does
 * not keep writing the shared cache line. */
#define FDB_REFRESH_NS 1000000000ull   /* not above the 1 s minimum aging */
/* Most segments one software-segmented packet may become. */
#define TSO_MAX_SEGS 256u

#define DEST_FLOOD 0xffffu
#define DEST_DROP 0xfffeu

struct fdb_entry {
    _Atomic uint64_t key;       /* FDB_KEY_VALID | vid << 48 | mac */
    _Atomic uint64_t dest;      /* slot generation << 16 | slot */
    _Atomic uint64_t seen_ns;
};

struct fdb_bucket {
    atomic_uint seq;
    struct fdb_entry e[FDB_WAYS];
} __attribute__((aligned(64)));

struct nb_bridge {
    char name[NB_BRIDGE_NAME_MAX];
    pthread_mutex_t ctl;                      /* control operations */
    struct nb_epoch epoch;
    struct nb_port *_Atomic slot[NB_BRIDGE_MAX_PORTS];
    atomic_uint slot_gen[NB_BRIDGE_MAX_PORTS]; /* bumped when a slot empties */
    atomic_uint slot_end;                     /* slots in use are below this */
    unsigned nports;                          /* under ctl */
    _Atomic uint64_t aging_ns;
    uint64_t (*clock_ns)(void *ctx);
    void *clock_ctx;
    struct fdb_bucket *fdb;
};

static uint64_t monotonic_ns(void *ctx)
{
    struct timespec ts;
    (void)ctx;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void stat_add(uint64_t *ctr, uint64_t v)
{
    if (v)
        __atomic_fetch_add(ctr, v, __ATOMIC_RELAXED);
}

/* ---- bridge lifecycle ---------------------------------------------------- */

struct nb_bridge *nb_bridge_new(const char *name, const struct nb_bridge_config *cfg)
{
    struct nb_bridge *br;
    unsigned aging = cfg && cfg->aging_sec ? cfg->aging_sec : NB_BRIDGE_AGING_DEFAULT;

    if (!name || !*name || strlen(name) >= NB_BRIDGE_NAME_MAX) {
        errno = EINVAL;
        return NULL;
    }
    br = calloc(1, sizeof(*br));
    if (!br)
        return NULL;
    br->fdb = aligned_alloc(64, FDB_BUCKETS * sizeof(struct fdb_bucket));
    if (!br->fdb) {
        free(br);
        errno = ENOMEM;
        return NULL;
    }
    memset(br->fdb, 0, FDB_BUCKETS * sizeof(struct fdb_bucket));
    snprintf(br->name, sizeof(br->name), "%s", name);
    pthread_mutex_init(&br->ctl, NULL);
    nb_epoch_init(&br->epoch);
    atomic_store(&br->aging_ns, (uint64_t)aging * 1000000000ull);
    br->clock_ns = cfg && cfg->clock_ns ? cfg->clock_ns : monotonic_ns;
    br->clock_ctx = cfg ? cfg->clock_ctx : NULL;
    return br;
}

void nb_bridge_free(struct nb_bridge *br)
{
    if (!br)
        return;
    for (unsigned i = 0; i < NB_BRIDGE_MAX_PORTS; i++) {
        struct nb_port *p = atomic_load(&br->slot[i]);
        if (p)
            nb_bridge_del_port(br, p);
    }
    nb_epoch_destroy(&br->epoch);
    pthread_mutex_destroy(&br->ctl);
    free(br->fdb);
    free(br);
}

const char *nb_bridge_name(const struct nb_bridge *br)
{
    return br->name;
}

int nb_bridge_set_aging(struct nb_bridge *br, unsigned aging_sec)
{
    if (aging_sec == 0)
        return -EINVAL;
    atomic_store(&br->aging_ns, (uint64_t)aging_sec * 1000000000ull);
    return 0;
}

unsigned nb_bridge_aging(const struct nb_bridge *br)
{
    return (unsigned)(atomic_load(&br->aging_ns) / 1000000000ull);
}

/* ---- ports --------------------------------------------------------------- */

static struct nb_port *find_port_locked(struct nb_bridge *br, const char *name)
{
    unsigned end = atomic_load(&br->slot_end);
    for (unsigned i = 0; i < end; i++) {
        struct nb_port *p = atomic_load(&br->slot[i]);
        if (p && strcmp(p->name, name) == 0)
            return p;
    }
    return NULL;
}

int nb_bridge_add_port(struct nb_bridge *br, struct nb_port *port)
{
    unsigned i;

    if (!port->ops || !port->ops->tx_burst || !port->name[0])
        return -EINVAL;
    pthread_mutex_lock(&br->ctl);
    if (port->bridge || find_port_locked(br, port->name)) {
        pthread_mutex_unlock(&br->ctl);
        return -EEXIST;
    }
    for (i = 0; i < NB_BRIDGE_MAX_PORTS && atomic_load(&br->slot[i]); i++)
        ;
    if (i == NB_BRIDGE_MAX_PORTS) {
        pthread_mutex_unlock(&br->ctl);
        return -ENOSPC;
    }
    port->bridge = br;
    port->bridge_slot = i;
    atomic_store(&br->slot[i], port);
    if (i >= atomic_load(&br->slot_end))
        atomic_store(&br->slot_end, i + 1);
    br->nports++;
    pthread_mutex_unlock(&br->ctl);
    return 0;
}

int nb_bridge_del_port(struct nb_bridge *br, struct nb_port *port)
{
    unsigned i = port->bridge_slot;
    struct nb_capture *cap;

    pthread_mutex_lock(&br->ctl);
    if (port->bridge != br || i >= NB_BRIDGE_MAX_PORTS || atomic_load(&br->slot[i]) != port) {
        pthread_mutex_unlock(&br->ctl);
        return -ENOENT;
    }
    atomic_store(&br->slot[i], NULL);
    /* MAC entries pointing at the old generation of this slot die with it. */
    atomic_fetch_add(&br->slot_gen[i], 1);
    br->nports--;
    nb_epoch_synchronize(&br->epoch);
    /* No ingress thread holds the port any more. */
    cap = atomic_exchange(&port->capture, NULL);
    port->bridge = NULL;
    pthread_mutex_unlock(&br->ctl);
    if (cap)
        nb_capture_close(cap);
    if (port->ops->destroy)
        port->ops->destroy(port);
    return 0;
}

struct nb_port *nb_bridge_find_port(struct nb_bridge *br, const char *name)
{
    struct nb_port *p;

    pthread_mutex_lock(&br->ctl);
    p = find_port_locked(br, name);
    pthread_mutex_unlock(&br->ctl);
    return p;
}

unsigned nb_bridge_port_count(struct nb_bridge *br)
{
    unsigned n;

    pthread_mutex_lock(&br->ctl);
    n = br->nports;
    pthread_mutex_unlock(&br->ctl);
    return n;
}

int nb_bridge_foreach_port(struct nb_bridge *br,
                           int (*fn)(struct nb_port *port, void *ctx), void *ctx)
{
    int rc = 0;

    pthread_mutex_lock(&br->ctl);
    for (unsigned i = 0; i < atomic_load(&br->slot_end) && rc == 0; i++) {
        struct nb_port *p = atomic_load(&br->slot[i]);
        if (p)
            rc = fn(p, ctx);
    }
    pthread_mutex_unlock(&br->ctl);
    return rc;
}

/* Swaps the capture of port (NULL: look it up by name) under the control
 * lock; returns once no ingress thread can still use the old one. */
static int swap_capture(struct nb_bridge *br, struct nb_port *port, const char *name,
                        struct nb_capture *cap, struct nb_capture **old)
{
    int rc = 0;

    pthread_mutex_lock(&br->ctl);
    if (!port)
        port = find_port_locked(br, name);
    if (!port || port->bridge != br) {
        rc = -ENOENT;
    } else {
        *old = atomic_exchange(&port->capture, cap);
        nb_epoch_synchronize(&br->epoch);
    }
    pthread_mutex_unlock(&br->ctl);
    return rc;
}

int nb_bridge_set_capture(struct nb_bridge *br, struct nb_port *port, struct nb_capture *cap,
                          struct nb_capture **old)
{
    return swap_capture(br, port, NULL, cap, old);
}

int nb_bridge_set_capture_named(struct nb_bridge *br, const char *name, struct nb_capture *cap,
                                struct nb_capture **old)
{
    return swap_capture(br, NULL, name, cap, old);
}

void nb_port_stats_read(const struct nb_port *port, struct nb_port_stats *out)
{
    const struct nb_port_stats *s = &port->stats;

    out->rx_packets = __atomic_load_n(&s->rx_packets, __ATOMIC_RELAXED);
    out->rx_bytes = __atomic_load_n(&s->rx_bytes, __ATOMIC_RELAXED);
    out->tx_packets = __atomic_load_n(&s->tx_packets, __ATOMIC_RELAXED);
    out->tx_bytes = __atomic_load_n(&s->tx_bytes, __ATOMIC_RELAXED);
    for (int r = 0; r < NB_DROP__COUNT; r++)
        out->drops[r] = __atomic_load_n(&s->drops[r], __ATOMIC_RELAXED);
}

/* ---- MAC table ----------------------------------------------------------- */

static uint64_t fdb_key(const uint8_t mac[6], uint16_t vid)
{
    uint8_t b[8] = { 0 };
    uint64_t k;

    memcpy(b + 2, mac, 6);   /* one load instead of six shifts */
    memcpy(&k, b, 8);
    return FDB_KEY_VALID | (uint64_t)(vid & 0xfff) << 48 | be64toh(k);
}

static struct fdb_bucket *fdb_bucket(struct nb_bridge *br, uint64_t key)
{
    uint64_t h = key * 0x9e3779b97f4a7c15ull;
    return &br->fdb[(h >> 40) % FDB_BUCKETS];
}

/* The slot a destination refers to while its port is still there. */
static bool dest_live(struct nb_bridge *br, uint64_t dest, unsigned *slot)
{
    unsigned s = (unsigned)(dest & 0xffff);
    return s < NB_BRIDGE_MAX_PORTS &&
           atomic_load_explicit(&br->slot_gen[s], memory_order_acquire) == (unsigned)(dest >> 16) &&
           (*slot = s, true);
}

/* Threads read the clock at different moments: an entry another thread
 * stamped a little after our `now` is fresh, not 2^64 ns old. */
static bool fresh(uint64_t seen, uint64_t now, uint64_t aging)
{
    return seen >= now || now - seen < aging;
}

/* Reads the entry for key without taking anything: retries while a writer
 * changes the bucket. Returns false if absent. */
static bool fdb_read(struct nb_bridge *br, uint64_t key, uint64_t *dest, uint64_t *seen)
{
    struct fdb_bucket *b = fdb_bucket(br, key);
    unsigned s1, s2;
    bool found;

    do {
        s1 = atomic_load_explicit(&b->seq, memory_order_acquire);
        if (s1 & 1)
            continue;
        found = false;
        for (unsigned w = 0; w < FDB_WAYS; w++) {
            if (atomic_load_explicit(&b->e[w].key, memory_order_relaxed) == key) {
                *dest = atomic_load_explicit(&b->e[w].dest, memory_order_relaxed);
                *seen = atomic_load_explicit(&b->e[w].seen_ns, memory_order_relaxed);
                found = true;
                break;
            }
        }
        atomic_thread_fence(memory_order_acquire);
        s2 = atomic_load_explicit(&b->seq, memory_order_relaxed);
        if (s1 == s2)
            return found;
    } while (1);
}

static void bucket_lock(struct fdb_bucket *b)
{
    unsigned s;
    do {
        s = atomic_load_explicit(&b->seq, memory_order_relaxed);
    } while ((s & 1) || !atomic_compare_exchange_weak_explicit(&b->seq, &s, s + 1,
                                                               memory_order_acquire,
                                                               memory_order_relaxed));
    atomic_thread_fence(memory_order_release);
}

static void bucket_unlock(struct fdb_bucket *b)
{
    atomic_fetch_add_explicit(&b->seq, 1, memory_order_release);
}

static void fdb_learn(struct nb_bridge *br, uint64_t key, uint64_t dest, uint64_t now,
                      uint64_t aging)
{
    struct fdb_bucket *b;
    uint64_t old_dest, seen;
    unsigned victim = 0, w, slot;
    uint64_t victim_seen = UINT64_MAX;

    if (fdb_read(br, key, &old_dest, &seen) && old_dest == dest &&
        fresh(seen, now, FDB_REFRESH_NS))
        return;

    b = fdb_bucket(br, key);
    bucket_lock(b);
    for (w = 0; w < FDB_WAYS; w++) {
        uint64_t k = atomic_load_explicit(&b->e[w].key, memory_order_relaxed);
        uint64_t d = atomic_load_explicit(&b->e[w].dest, memory_order_relaxed);
        uint64_t s = atomic_load_explicit(&b->e[w].seen_ns, memory_order_relaxed);
        if (k == key) {
            victim = w;
            break;
        }
        /* Free, aged or orphaned entries go first, then the oldest. */
        if (k == 0 || !fresh(s, now, aging) || !dest_live(br, d, &slot))
            s = 0;
        if (s < victim_seen) {
            victim_seen = s;
            victim = w;
        }
    }
    atomic_store_explicit(&b->e[victim].key, key, memory_order_relaxed);
    atomic_store_explicit(&b->e[victim].dest, dest, memory_order_relaxed);
    atomic_store_explicit(&b->e[victim].seen_ns, now, memory_order_relaxed);
    bucket_unlock(b);
}

static struct nb_port *fdb_lookup_slot(struct nb_bridge *br, uint64_t key, uint64_t now,
                                       unsigned *slot)
{
    uint64_t dest, seen;
    struct nb_port *p;

    if (!fdb_read(br, key, &dest, &seen) || !fresh(seen, now, atomic_load(&br->aging_ns)) ||
        !dest_live(br, dest, slot))
        return NULL;
    p = atomic_load_explicit(&br->slot[*slot], memory_order_acquire);
    /* The slot may have been emptied (and refilled) after the check. */
    if (atomic_load_explicit(&br->slot_gen[*slot], memory_order_acquire) != (unsigned)(dest >> 16))
        return NULL;
    return p;
}

struct nb_port *nb_bridge_fdb_lookup(struct nb_bridge *br, const uint8_t mac[6], uint16_t vid)
{
    unsigned slot;
    return fdb_lookup_slot(br, fdb_key(mac, vid), br->clock_ns(br->clock_ctx), &slot);
}

void nb_bridge_fdb_flush(struct nb_bridge *br)
{
    for (unsigned i = 0; i < FDB_BUCKETS; i++) {
        struct fdb_bucket *b = &br->fdb[i];
        bucket_lock(b);
        for (unsigned w = 0; w < FDB_WAYS; w++)
            atomic_store_explicit(&b->e[w].key, 0, memory_order_relaxed);
        bucket_unlock(b);
    }
}

/* ---- VLAN ---------------------------------------------------------------- */

/* Whether a frame of VLAN vid may leave through p, with p's mode and own
 * VID (access VLAN, 0 untagged) already loaded. */
static inline bool vlan_member_of(const struct nb_port *p, enum nb_vlan_mode mode,
                                  uint16_t own_vid, uint16_t vid)
{
    return mode != NB_VLAN_TRUNK ? vid == own_vid : nb_port_trunk_allowed(p, vid);
}

static void strip_tag(struct nb_pkt *pkt)
{
    memmove(pkt->data + VLAN_HLEN, pkt->data, 12);
    pkt->data += VLAN_HLEN;
    pkt->len -= VLAN_HLEN;
    if ((pkt->flags & NB_PKT_CSUM_PARTIAL) && pkt->csum_start >= VLAN_HLEN)
        pkt->csum_start -= VLAN_HLEN;
}

static bool push_tag(struct nb_pkt *pkt, uint16_t tci)
{
    uint8_t *d = nb_pkt_push(pkt, VLAN_HLEN);
    if (!d)
        return false;
    memmove(d, d + VLAN_HLEN, 12);
    nb_wr16(d + 12, ETHERTYPE_8021Q);
    nb_wr16(d + 14, tci);
    if (pkt->flags & NB_PKT_CSUM_PARTIAL)
        pkt->csum_start += VLAN_HLEN;
    return true;
}

/* Decides the packet's VLAN from the ingress port's mode, removing an
 * in-band tag where the mode says so. May replace *pp (unsharing). Returns
 * NB_DROP__COUNT to keep the packet, or why to drop it. */
static enum nb_drop_reason vlan_ingress(const struct nb_port *in, struct nb_pkt **pp)
{
    struct nb_pkt *pkt = *pp;

    if (in->vlan_mode == NB_VLAN_NONE) {
        pkt->vlan_tci = 0;
        return NB_DROP__COUNT;
    }
    bool tagged = pkt->len >= ETH_HLEN + VLAN_HLEN && nb_rd16(pkt->data + 12) == ETHERTYPE_8021Q;
    uint16_t tci = tagged ? nb_rd16(pkt->data + 14) : 0, vid = tci & 0xfff;

    if (in->vlan_mode == NB_VLAN_ACCESS) {
        if (vid != 0)
            return NB_DROP_VLAN;
        tci = (uint16_t)((tci & 0xf000) | (in->access_vlan & 0xfff));
    } else if (!nb_port_trunk_allowed(in, vid)) {
        return NB_DROP_VLAN;
    }
    if (tagged) {
        struct nb_pkt *w = nb_pkt_unshare(pkt);
        if (!w)
            return NB_DROP_NO_BUFFER;
        strip_tag(w);
        *pp = pkt = w;
    }
    pkt->vlan_tci = tci;
    return NB_DROP__COUNT;
}

/* ---- forwarding ---------------------------------------------------------- */

/* Everything one nb_bridge_input() call accumulates. */
struct fwd_burst {
    struct nb_bridge *br;
    struct nb_pkt *pkts[NB_BURST];
    uint16_t dest[NB_BURST];        /* slot, DEST_FLOOD or DEST_DROP */
    unsigned n;
    unsigned taken;                 /* handed over to a port (dest now DEST_DROP) */
    bool any_flood;
};

/* Egress staging for one port: filled, then handed over in NB_BURST lots. */
struct egress {
    struct nb_port *port;
    struct nb_pkt *out[NB_BURST];
    unsigned n;
    uint64_t tx_packets, tx_bytes;
    uint64_t drops[NB_DROP__COUNT];
};

static void egress_flush(struct egress *eg)
{
    struct nb_capture *cap;

    if (!eg->n)
        return;
    cap = atomic_load_explicit(&eg->port->capture, memory_order_acquire);
    if (cap)
        nb_capture_frames(cap, eg->out, eg->n);
    eg->port->ops->tx_burst(eg->port, eg->out, eg->n);
    eg->n = 0;
}

static void egress_drop(struct egress *eg, struct nb_pkt *pkt, enum nb_drop_reason why)
{
    eg->drops[why]++;
    nb_pkt_free(pkt);
}

/* Last step for one frame: the 802.1Q tag a trunk wants, then staging. */
static void egress_tag_and_stage(struct egress *eg, struct nb_pkt *pkt)
{
    uint16_t tci = pkt->vlan_tci;

    if (eg->port->vlan_mode == NB_VLAN_TRUNK && (tci & 0xfff) != 0) {
        struct nb_pkt *w = nb_pkt_unshare(pkt);
        if (!w) {
            egress_drop(eg, pkt, NB_DROP_NO_BUFFER);
            return;
        }
        if (!push_tag(w, tci)) {
            egress_drop(eg, w, NB_DROP_NO_BUFFER);
            return;
        }
        pkt = w;
    }
    if (eg->n == NB_BURST)
        egress_flush(eg);
    eg->tx_packets++;
    eg->tx_bytes += pkt->len;
    eg->out[eg->n++] = pkt;
}

/* Applies the software fallbacks the port needs, then stages. */
static void egress_one(struct egress *eg, struct nb_pkt *pkt)
{
    uint32_t off = eg->port->offloads;

    if (pkt->gso_type != NB_GSO_NONE) {
        uint32_t need = pkt->gso_type == NB_GSO_TCPV4 ? NB_PORT_OFF_TSO4 : NB_PORT_OFF_TSO6;
        if (!(off & need)) {
            struct nb_pkt *segs[TSO_MAX_SEGS];
            int n = nb_offload_tso_segment(pkt, segs, TSO_MAX_SEGS);
            if (n < 0) {
                egress_drop(eg, pkt, n == -ENOBUFS ? NB_DROP_NO_BUFFER : NB_DROP_OFFLOAD);
                return;
            }
            nb_pkt_free(pkt);
            for (int i = 0; i < n; i++)
                egress_tag_and_stage(eg, segs[i]);
            return;
        }
    }
    if ((pkt->flags & NB_PKT_CSUM_PARTIAL) && !(off & NB_PORT_OFF_CSUM) &&
        pkt->gso_type == NB_GSO_NONE) {
        struct nb_pkt *w = nb_pkt_unshare(pkt);
        if (!w) {
            egress_drop(eg, pkt, NB_DROP_NO_BUFFER);
            return;
        }
        if (nb_offload_csum_complete(w) != 0) {
            egress_drop(eg, w, NB_DROP_OFFLOAD);
            return;
        }
        pkt = w;
    }
    egress_tag_and_stage(eg, pkt);
}

static bool is_broadcast(const uint8_t *mac)
{
    static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    return memcmp(mac, bcast, 6) == 0;
}

/* Sends port (in slot) everything of the burst addressed to it. */
/* last: the final port a flood visits, which takes the flooded originals
 * themselves instead of a reference of its own (one atomic pair less per
 * packet; on a two-port bridge unknown unicast costs no reference at all). */
static void forward_to(struct fwd_burst *fb, unsigned slot, struct nb_port *port, bool last)
{
    struct egress eg;               /* out[] is filled before it is read */
    struct nb_pkt *down[NB_BURST];  /* taken while the link is down */
    unsigned ndown = 0;
    /* a query without side effects: asked once per visit, before the
     * packets are taken, instead of once they are */
    bool up = !port->ops->link_up || port->ops->link_up(port);
    uint32_t off = port->offloads;
    bool trunk = port->vlan_mode == NB_VLAN_TRUNK;

    eg.port = port;
    eg.n = 0;
    eg.tx_packets = eg.tx_bytes = 0;
    memset(eg.drops, 0, sizeof(eg.drops));
    unsigned nout = 0, taken = 0, nfb = fb->n;
    uint64_t pk = 0, by = 0;
    /* vlan_member's answer for the untagged domain and the access VLAN,
     * worked out once (the stores below may alias port for the compiler) */
    enum nb_vlan_mode mode = port->vlan_mode;
    uint16_t own_vid = mode == NB_VLAN_ACCESS ? port->access_vlan : 0;
    for (unsigned i = 0; i < nfb; i++) {
        struct nb_pkt *pkt = fb->pkts[i];
        uint16_t vid = pkt->vlan_tci & 0xfff;
        uint16_t d = fb->dest[i];
        if (d == slot) {
            fb->dest[i] = DEST_DROP;         /* handed over: not ours to free */
            taken++;
            if (!vlan_member_of(port, mode, own_vid, vid)) {
                egress_drop(&eg, pkt, NB_DROP_VLAN);
                continue;
            }
        } else if (d == DEST_FLOOD && vlan_member_of(port, mode, own_vid, vid)) {
            const uint8_t *dst = pkt->data;
            if ((dst[0] & 1) && !is_broadcast(dst) && port->ops->accepts_mcast &&
                !port->ops->accepts_mcast(port, dst)) {
                eg.drops[NB_DROP_FILTER]++;
                continue;
            }
            if (last) {
                fb->dest[i] = DEST_DROP;     /* handed over: not ours to free */
                taken++;
            } else {
                nb_pkt_ref(pkt);
            }
        } else {
            continue;
        }
        if (!up) {
            down[ndown++] = pkt;
            continue;
        }
        /* A packet that needs no software fallback and no tag (the common
         * case) is staged right here; the others take egress_one, in order
         * (eg's counters live in registers meanwhile: synced around it). */
        if (pkt->gso_type != NB_GSO_NONE ||
            ((pkt->flags & NB_PKT_CSUM_PARTIAL) && !(off & NB_PORT_OFF_CSUM)) ||
            (trunk && vid) || nout == NB_BURST) {
            eg.n = nout;
            eg.tx_packets += pk;
            eg.tx_bytes += by;
            egress_one(&eg, pkt);
            nout = eg.n;
            pk = by = 0;
            continue;
        }
        pk++;
        by += pkt->len;
        eg.out[nout++] = pkt;
    }
    eg.n = nout;
    eg.tx_packets += pk;
    eg.tx_bytes += by;
    fb->taken += taken;
    if (ndown) {
        eg.drops[NB_DROP_LINK_DOWN] += ndown;
        nb_pkt_free_burst(down, ndown);
    }
    egress_flush(&eg);

    stat_add(&port->stats.tx_packets, eg.tx_packets);
    stat_add(&port->stats.tx_bytes, eg.tx_bytes);
    for (int r = 0; r < NB_DROP__COUNT; r++)
        stat_add(&port->stats.drops[r], eg.drops[r]);
}

/* Classifies, learns (as coming from self, the ingress slot and its
 * generation) and looks up each packet; fills fb. */
static void ingress(struct fwd_burst *fb, struct nb_port *in, uint64_t self, struct nb_pkt **pkts,
                    unsigned n)
{
    struct nb_bridge *br = fb->br;
    uint64_t now = br->clock_ns(br->clock_ctx);
    uint64_t aging = atomic_load(&br->aging_ns);
    uint64_t rx_bytes = 0, drops[NB_DROP__COUNT] = { 0 };
    struct nb_pkt *dropped[NB_BURST];
    unsigned nd = 0;
    /* A burst from one port mostly repeats one source and one destination:
     * learn a source once per burst and reuse the last lookup until the
     * next learn (which may have changed what a lookup would return). */
    uint64_t learnt = 0, looked_up = 0;
    uint16_t looked_up_dest = DEST_FLOOD;
    /* The next step of the same idea: a packet whose addresses and VLAN
     * are the previous packet's gets its decision without recomputing the
     * keys (learning and lookup would answer exactly as they just did). */
    uint64_t prev_a = 0, prev_b = 0;
    uint16_t prev_vid = 0, prev_dest = DEST_FLOOD;
    bool have_prev = false, any_flood = false;
    unsigned nf = 0;                         /* fb->n, in a register */

    for (unsigned i = 0; i < n; i++) {
        struct nb_pkt *pkt = pkts[i];
        enum nb_drop_reason why = NB_DROP__COUNT;
        unsigned slot;

        rx_bytes += pkt->len;
        if (pkt->len < ETH_HLEN)
            why = NB_DROP_MALFORMED;
        else
            why = vlan_ingress(in, &pkt);
        if (why != NB_DROP__COUNT) {
            drops[why]++;
            dropped[nd++] = pkt;
            continue;
        }
        const uint8_t *dst = pkt->data, *src = pkt->data + 6;
        uint16_t vid = pkt->vlan_tci & 0xfff;
        uint64_t a, b;
        memcpy(&a, dst, 8);                  /* bytes 0-7 and 4-11: both MACs */
        memcpy(&b, dst + 4, 8);
        uint16_t dest;
        if (have_prev && a == prev_a && b == prev_b && vid == prev_vid) {
            dest = prev_dest;
            goto decided;
        }
        static const uint8_t zero[6];
        if (!(src[0] & 1) && memcmp(src, zero, 6) != 0) {
            uint64_t key = fdb_key(src, vid);
            if (key != learnt) {
                fdb_learn(br, key, self, now, aging);
                learnt = key;
                looked_up = 0;
            }
        }

        dest = DEST_FLOOD;
        if (!(dst[0] & 1)) {
            uint64_t key = fdb_key(dst, vid);
            if (key != looked_up) {
                looked_up_dest = DEST_FLOOD;
                if (fdb_lookup_slot(br, key, now, &slot))
                    looked_up_dest = slot == in->bridge_slot ? DEST_DROP : (uint16_t)slot;
                looked_up = key;
            }
            dest = looked_up_dest;
        }
        prev_a = a;
        prev_b = b;
        prev_vid = vid;
        prev_dest = dest;
        have_prev = true;
decided:
        if (dest == DEST_DROP) {             /* no hairpin: it is already there */
            drops[NB_DROP_HAIRPIN]++;
            dropped[nd++] = pkt;
            continue;
        }
        any_flood |= dest == DEST_FLOOD;
        fb->pkts[nf] = pkt;
        fb->dest[nf++] = dest;
    }
    fb->n = nf;
    fb->any_flood = any_flood;
    if (nd)
        nb_pkt_free_burst(dropped, nd);
    stat_add(&in->stats.rx_packets, n);
    stat_add(&in->stats.rx_bytes, rx_bytes);
    for (int r = 0; r < NB_DROP__COUNT; r++)
        stat_add(&in->stats.drops[r], drops[r]);
}

void nb_bridge_input(struct nb_bridge *br, struct nb_port *in, struct nb_pkt **pkts, unsigned n)
{
    struct fwd_burst fb;            /* pkts[] and dest[] are filled before they are read */
    struct nb_epoch_token tok;
    struct nb_capture *cap;
    unsigned in_slot = in->bridge_slot, end;
    uint64_t self;

    if (n == 0)
        return;
    if (!br) {                        /* a receive side still running after detach */
        nb_pkt_free_burst(pkts, n);
        return;
    }
    if (n > NB_BURST) {               /* a caller bug; still keep the contract */
        nb_bridge_input(br, in, pkts, NB_BURST);
        nb_bridge_input(br, in, pkts + NB_BURST, n - NB_BURST);
        return;
    }
    fb.br = br;
    fb.n = fb.taken = 0;
    fb.any_flood = false;
    tok = nb_epoch_enter(&br->epoch);
    /* The generation is read before the slot is checked: del_port empties
     * the slot before bumping it, so a port seen in its slot comes with its
     * own generation, and nothing is learnt for a later occupant. */
    self = in_slot < NB_BRIDGE_MAX_PORTS ? atomic_load(&br->slot_gen[in_slot]) : 0;
    if (in_slot >= NB_BRIDGE_MAX_PORTS || atomic_load(&br->slot[in_slot]) != in) {
        /* Detached while its receive thread was still running. */
        nb_epoch_leave(&br->epoch, tok);
        nb_pkt_free_burst(pkts, n);
        return;
    }
    cap = atomic_load_explicit(&in->capture, memory_order_acquire);
    if (cap)
        nb_capture_frames(cap, pkts, n);

    ingress(&fb, in, self << 16 | in_slot, pkts, n);

    end = atomic_load(&br->slot_end);
    if (fb.any_flood) {
        /* The visit stops at the last port seen now: one attached later
         * must not reference packets the last one already took. */
        unsigned last = end;
        for (unsigned s = end; s-- > 0;)
            if (s != in_slot && atomic_load_explicit(&br->slot[s], memory_order_relaxed)) {
                last = s;
                break;
            }
        for (unsigned s = 0; s < end && last < end && s <= last; s++) {
            struct nb_port *p = atomic_load_explicit(&br->slot[s], memory_order_acquire);
            if (p && s != in_slot)
                forward_to(&fb, s, p, s == last);
        }
    } else {
        /* Unicast only: visit just the ports named, in order of first use. */
        for (unsigned i = 0; i < fb.n; i++) {
            unsigned s = fb.dest[i];
            if (s == DEST_DROP)
                continue;
            struct nb_port *p = atomic_load_explicit(&br->slot[s], memory_order_acquire);
            if (p)
                forward_to(&fb, s, p, false);
        }
    }
    /* Whatever is left: flooded originals the last port did not take (each
     * other destination took its own reference) and unicast to a port that
     * vanished meanwhile. */
    if (fb.taken < fb.n) {
        struct nb_pkt *rest[NB_BURST];
        unsigned nr = 0;
        for (unsigned i = 0; i < fb.n; i++)
            if (fb.dest[i] != DEST_DROP)
                rest[nr++] = fb.pkts[i];
        nb_pkt_free_burst(rest, nr);
    }
    nb_epoch_leave(&br->epoch, tok);
}
