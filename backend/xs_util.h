/* Small xenstore helpers for the main thread. */
#ifndef NBD_XS_UTIL_H
#define NBD_XS_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <xenstore.h>

/* Reads dir/key (key may be NULL); malloc'd string or NULL (errno set). */
char *nbd_xs_read(struct xs_handle *xsh, const char *dir, const char *key);
/* Writes dir/key = value; 0 or -errno. */
int nbd_xs_write(struct xs_handle *xsh, xs_transaction_t t, const char *dir,
                 const char *key, const char *value);
int nbd_xs_printf(struct xs_handle *xsh, xs_transaction_t t, const char *dir,
                  const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif
