/* netbackd logging (see log.h). */
#include "backend/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* The one piece of process-wide state: the threshold, set at start-up and
 * read by every thread. */
static struct nbd_log_config {
    atomic_int level;
} nbd_log_config = { NBD_LOG_INFO };

static const char *const level_names[] = { "err", "warn", "info", "debug" };

void nbd_log_set_level(enum nbd_log_level level)
{
    atomic_store(&nbd_log_config.level, (int)level);
}

int nbd_log_level_parse(const char *name)
{
    for (int i = 0; i < (int)(sizeof(level_names) / sizeof(level_names[0])); i++)
        if (!strcmp(name, level_names[i]))
            return i;
    return -1;
}

void nbd_log(enum nbd_log_level level, const char *fmt, ...)
{
    char line[512];
    struct timespec ts;
    va_list ap;

    if ((int)level > atomic_load_explicit(&nbd_log_config.level, memory_order_relaxed))
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    /* one fprintf per line so lines from several threads don't interleave */
    fprintf(stderr, "netbackd %lld.%03ld %s: %s\n", (long long)ts.tv_sec,
            ts.tv_nsec / 1000000, level_names[level], line);
}
