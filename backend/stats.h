/* Counters. Each queue's counters are written only by the thread that owns
 * the queue (its worker; the RX backlog counters under the backlog lock) and
 * read by the control socket while running, so they are plain 64-bit words
 * updated with relaxed atomic stores: no locked instruction on the data
 * path, no torn reads. A vif's totals are the sum over its queues plus the
 * vif's own (control-plane) counters, computed only when asked. */
#ifndef NBD_STATS_H
#define NBD_STATS_H

#include <stdint.h>

/* X(name): every per-queue counter, in the order they are printed. */
#define NBD_QUEUE_COUNTERS(X) \
    X(tx_packets) X(tx_bytes) X(rx_packets) X(rx_bytes) \
    X(tx_drop_too_many_slots) X(tx_drop_frag_too_big) X(tx_drop_too_short) \
    X(tx_drop_copy_failed) X(tx_drop_no_buffer) X(tx_drop_offload) \
    X(rx_drop_backlog_full) X(rx_drop_expired) X(rx_drop_bad_len) X(rx_drop_no_sg) \
    X(rx_drop_gso) X(rx_drop_copy_failed) X(rx_drop_filter) X(rx_drop_mtu) X(rx_drop_disabled) \
    X(rx_drop_offload) \
    X(tx_errors) X(rx_errors) \
    X(notify_sent) X(notify_recv) X(gcopy_calls) X(gcopy_ops) \
    X(mcast_add) X(mcast_del) X(mcast_overflow) X(ctrl_requests) \
    X(rx_stalls) X(spurious_events) \
    X(sgrant_copies) X(sgrant_maps) X(sgrant_unmaps) \
    X(tx_gcopy_calls) X(rx_gcopy_calls) X(tx_pool_waits) X(tx_rate_waits)

struct nbd_queue_stats {
#define NBD_DECLARE_COUNTER(name) uint64_t name;
    NBD_QUEUE_COUNTERS(NBD_DECLARE_COUNTER)
#undef NBD_DECLARE_COUNTER
};

#define NBD_QUEUE_COUNTER_COUNT (sizeof(struct nbd_queue_stats) / sizeof(uint64_t))

/* Control-plane counters of a vif (main thread only). */
#define NBD_VIF_COUNTERS(X) X(connects) X(disconnects) X(xenstore_errors) X(disables)

struct nbd_vif_stats {
#define NBD_DECLARE_COUNTER(name) uint64_t name;
    NBD_VIF_COUNTERS(NBD_DECLARE_COUNTER)
#undef NBD_DECLARE_COUNTER
};

/* Single-writer increment. */
static inline void nbd_stat_add(uint64_t *c, uint64_t n)
{
    __atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

static inline uint64_t nbd_stat_read(const uint64_t *c)
{
    return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* Names of the per-queue counters, index-aligned with the struct's words. */
extern const char *const nbd_queue_counter_names[NBD_QUEUE_COUNTER_COUNT];

/* sum[i] += every counter of q, read relaxed. */
void nbd_queue_stats_accumulate(const struct nbd_queue_stats *q, uint64_t *sum);

#endif
