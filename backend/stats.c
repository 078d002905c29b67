/* Counter names and summing (see stats.h). */
#include "backend/stats.h"

const char *const nbd_queue_counter_names[NBD_QUEUE_COUNTER_COUNT] = {
#define NBD_COUNTER_NAME(name) #name,
    NBD_QUEUE_COUNTERS(NBD_COUNTER_NAME)
#undef NBD_COUNTER_NAME
};

void nbd_queue_stats_accumulate(const struct nbd_queue_stats *q, uint64_t *sum)
{
    const uint64_t *words = (const uint64_t *)q;

    for (unsigned i = 0; i < NBD_QUEUE_COUNTER_COUNT; i++)
        sum[i] += nbd_stat_read(&words[i]);
}
