/* netbackd logging: one line per event on stderr, prefixed with the level.
 * The control plane logs through nbd_log(); the data path uses
 * nbd_log_data(), which compiles to nothing below NBD_DATA_LOG_MIN so a
 * hostile guest cannot make the fast path format strings. */
#ifndef NBD_LOG_H
#define NBD_LOG_H

enum nbd_log_level { NBD_LOG_ERR = 0, NBD_LOG_WARN, NBD_LOG_INFO, NBD_LOG_DEBUG };

#ifndef NBD_DATA_LOG_MIN
#define NBD_DATA_LOG_MIN NBD_LOG_WARN
#endif

void nbd_log_set_level(enum nbd_log_level level);
/* Returns -1 for an unknown name. */
int nbd_log_level_parse(const char *name);
void nbd_log(enum nbd_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define nbd_log_data(level, ...) \
    do { if ((level) <= NBD_DATA_LOG_MIN) nbd_log((level), __VA_ARGS__); } while (0)

#endif
