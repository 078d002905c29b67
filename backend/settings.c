/* Daemon settings: defaults, then the config file (libconfig), then the
 * command line. Config file format (all keys optional):
 *
 *   netbackd: {
 *     mode = "event";              # or "poll": default worker mode
 *     max_queues = 4;              # multi-queue-max-queues offered
 *     cpus = [ 2, 3 ];             # pin queue N's worker to cpus[N]
 *     rx_backlog_bytes = 524288;   # per queue
 *     rx_drain_timeout_ms = 10000;
 *     rx_stall_timeout_ms = 60000;
 *     pool_packets = 2048;         # TX buffers per queue
 *     ctl = "/run/netbackd.sock";
 *     default_bridge = "xenbr0";
 *     linux_bridge_taps = true;    # a vif's bridge naming a Linux bridge:
 *                                  # tap vif<domid>.<devid> enslaved to it
 *     log_level = "info";
 *   };
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libconfig.h>

#include "backend/log.h"
#include "backend/netbackd.h"
#include "backend/settings.h"

void nbd_settings_default(struct nbd_settings *s)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);

    memset(s, 0, sizeof(*s));
    s->mode = NBD_MODE_EVENT;
    s->max_queues = cpus < 1 ? 1 : cpus > 8 ? 8 : (unsigned)cpus;   /* Linux: min(8, CPUs) */
    s->rx_backlog_bytes = 512 * 1024;
    s->rx_drain_timeout_ms = 10000;
    s->rx_stall_timeout_ms = 60000;
    s->pool_pkts = 2 * NBD_BACKLOG_SLOTS;   /* one full receiver backlog never starves a sender */
    snprintf(s->ctl_path, sizeof(s->ctl_path), "/run/netbackd.sock");
    snprintf(s->default_bridge, sizeof(s->default_bridge), "xenbr0");
    s->linux_bridge_taps = true;
}

int nbd_parse_mode(const char *s, enum nbd_worker_mode *mode)
{
    if (!strcmp(s, "event"))
        *mode = NBD_MODE_EVENT;
    else if (!strcmp(s, "poll"))
        *mode = NBD_MODE_POLL;
    else
        return -EINVAL;
    return 0;
}

static int get_uint(config_setting_t *g, const char *key, unsigned lo, unsigned hi, unsigned *out)
{
    long long v;

    if (!config_setting_lookup_int64(g, key, &v)) {
        int i;
        if (!config_setting_lookup_int(g, key, &i))
            return 0;
        v = i;
    }
    if (v < lo || v > hi) {
        nbd_log(NBD_LOG_ERR, "config: %s must be in %u..%u", key, lo, hi);
        return -EINVAL;
    }
    *out = (unsigned)v;
    return 0;
}

/* cpus: a list of CPU numbers, one per queue; anything else (a string,
 * a negative number, more entries than queues can exist) is refused
 * rather than read as CPU 0. */
static int get_cpus(config_setting_t *cpus, const char *path, struct nbd_settings *s)
{
    int n = config_setting_length(cpus);
    long online = sysconf(_SC_NPROCESSORS_CONF);

    if (!config_setting_is_aggregate(cpus) || n > NBD_MAX_QUEUES) {
        nbd_log(NBD_LOG_ERR, "%s:%d: cpus must be a list of at most %d CPU numbers", path,
                config_setting_source_line(cpus), NBD_MAX_QUEUES);
        return -EINVAL;
    }
    for (int i = 0; i < n; i++) {
        config_setting_t *e = config_setting_get_elem(cpus, (unsigned)i);
        long long v = config_setting_type(e) == CONFIG_TYPE_INT ? config_setting_get_int(e)
                    : config_setting_type(e) == CONFIG_TYPE_INT64 ? config_setting_get_int64(e)
                    : -1;
        if (v < 0 || v >= CPU_SETSIZE || (online > 0 && v >= online)) {
            nbd_log(NBD_LOG_ERR, "%s:%d: cpus[%d] is not a CPU of this machine (0..%ld)", path,
                    config_setting_source_line(cpus), i, online > 0 ? online - 1 : CPU_SETSIZE - 1);
            return -EINVAL;
        }
        s->cpus[i] = (int)v;
    }
    s->n_cpus = (unsigned)n;
    return 0;
}

int nbd_settings_load(struct nbd_settings *s, const char *path)
{
    config_t cfg;
    config_setting_t *g, *cpus;
    const char *str;
    unsigned backlog = (unsigned)s->rx_backlog_bytes;
    int rc = 0;

    config_init(&cfg);
    if (!config_read_file(&cfg, path)) {
        nbd_log(NBD_LOG_ERR, "config %s:%d: %s", path, config_error_line(&cfg),
                config_error_text(&cfg));
        config_destroy(&cfg);
        return -EINVAL;
    }
    if (!(g = config_lookup(&cfg, "netbackd"))) {
        config_destroy(&cfg);
        return 0;
    }
    if (config_setting_lookup_string(g, "mode", &str) && nbd_parse_mode(str, &s->mode)) {
        nbd_log(NBD_LOG_ERR, "config: mode must be \"event\" or \"poll\"");
        rc = -EINVAL;
    }
    if (!rc)
        rc = get_uint(g, "max_queues", 1, NBD_MAX_QUEUES, &s->max_queues);
    if (!rc)
        rc = get_uint(g, "rx_backlog_bytes", 65536, 1u << 30, &backlog);
    if (!rc)
        rc = get_uint(g, "rx_drain_timeout_ms", 1, 3600000, &s->rx_drain_timeout_ms);
    if (!rc)
        rc = get_uint(g, "rx_stall_timeout_ms", 1, 3600000, &s->rx_stall_timeout_ms);
    if (!rc)
        rc = get_uint(g, "pool_packets", 64, 1u << 20, &s->pool_pkts);
    s->rx_backlog_bytes = backlog;
    if (!rc && (cpus = config_setting_lookup(g, "cpus")))
        rc = get_cpus(cpus, path, s);
    if (config_setting_lookup_string(g, "ctl", &str))
        snprintf(s->ctl_path, sizeof(s->ctl_path), "%s", str);
    if (config_setting_lookup_string(g, "default_bridge", &str))
        snprintf(s->default_bridge, sizeof(s->default_bridge), "%s", str);
    int taps;
    if (config_setting_lookup_bool(g, "linux_bridge_taps", &taps))
        s->linux_bridge_taps = taps != 0;
    if (config_setting_lookup_string(g, "log_level", &str)) {
        int lvl = nbd_log_level_parse(str);
        if (lvl < 0) {
            nbd_log(NBD_LOG_ERR, "config: unknown log_level %s", str);
            rc = -EINVAL;
        } else {
            nbd_log_set_level((enum nbd_log_level)lvl);
        }
    }
    config_destroy(&cfg);
    return rc;
}
