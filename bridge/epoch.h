/* Read-side sections without a shared lock, for the forwarding fast path.
 * Any thread may enter a section without registering; a writer that has
 * unpublished something calls nb_epoch_synchronize() and, once it returns,
 * no reader that could have seen the old thing is still inside. Readers
 * count themselves in one of two phase counters (sharded per CPU to keep
 * the cache lines apart); the writer flips the phase and waits for the old
 * phase to drain, twice, so readers that raced with the flip are covered.
 * Sections must not nest a synchronize (deadlock). */
#ifndef NB_EPOCH_H
#define NB_EPOCH_H

#include <pthread.h>
#include <stdatomic.h>

#define NB_EPOCH_SHARDS 16

struct nb_epoch_shard {
    atomic_long readers[2];
} __attribute__((aligned(64)));

struct nb_epoch {
    atomic_uint phase;
    pthread_mutex_t sync_lock;     /* one synchronize at a time */
    struct nb_epoch_shard shard[NB_EPOCH_SHARDS];
};

/* What nb_epoch_enter() returns and nb_epoch_leave() takes back. */
struct nb_epoch_token {
    unsigned shard, phase;
};

void nb_epoch_init(struct nb_epoch *e);
void nb_epoch_destroy(struct nb_epoch *e);
struct nb_epoch_token nb_epoch_enter(struct nb_epoch *e);
void nb_epoch_leave(struct nb_epoch *e, struct nb_epoch_token t);
void nb_epoch_synchronize(struct nb_epoch *e);

#endif
