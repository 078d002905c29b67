#include "bridge/epoch.h"

#include <sched.h>
#include <string.h>

void nb_epoch_init(struct nb_epoch *e)
{
    memset(e, 0, sizeof(*e));
    pthread_mutex_init(&e->sync_lock, NULL);
}

void nb_epoch_destroy(struct nb_epoch *e)
{
    pthread_mutex_destroy(&e->sync_lock);
}

struct nb_epoch_token nb_epoch_enter(struct nb_epoch *e)
{
    int cpu = sched_getcpu();
    struct nb_epoch_token t = {
        .shard = (unsigned)(cpu < 0 ? 0 : cpu) % NB_EPOCH_SHARDS,
        .phase = atomic_load(&e->phase) & 1,
    };
    /* seq_cst: the increment is ordered before every load the reader then
     * makes of published pointers, against the writer's seq_cst stores. */
    atomic_fetch_add(&e->shard[t.shard].readers[t.phase], 1);
    return t;
}

void nb_epoch_leave(struct nb_epoch *e, struct nb_epoch_token t)
{
    atomic_fetch_sub_explicit(&e->shard[t.shard].readers[t.phase], 1,
                              memory_order_release);
}

static long readers_in(struct nb_epoch *e, unsigned phase)
{
    long sum = 0;
    for (unsigned i = 0; i < NB_EPOCH_SHARDS; i++)
        sum += atomic_load(&e->shard[i].readers[phase]);
    return sum;
}

static void flip_and_drain(struct nb_epoch *e)
{
    unsigned old = atomic_fetch_add(&e->phase, 1) & 1;
    /* A reader leaves through the shard it entered (the token says which),
     * so the sum over shards is exact. */
    while (readers_in(e, old) != 0)
        sched_yield();
}

void nb_epoch_synchronize(struct nb_epoch *e)
{
    atomic_thread_fence(memory_order_seq_cst);
    pthread_mutex_lock(&e->sync_lock);
    flip_and_drain(e);
    flip_and_drain(e);
    pthread_mutex_unlock(&e->sync_lock);
}
