/* Small xenstore helpers (see xs_util.h). */
#include "backend/xs_util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

char *nbd_xs_read(struct xs_handle *xsh, const char *dir, const char *key)
{
    char path[256];
    unsigned len;

    if (snprintf(path, sizeof(path), "%s%s%s", dir, key ? "/" : "", key ? key : "")
        >= (int)sizeof(path)) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    return xs_read(xsh, XBT_NULL, path, &len);
}

int nbd_xs_write(struct xs_handle *xsh, xs_transaction_t t, const char *dir,
                 const char *key, const char *value)
{
    char path[256];

    if (snprintf(path, sizeof(path), "%s%s%s", dir, key ? "/" : "", key ? key : "")
        >= (int)sizeof(path))
        return -ENAMETOOLONG;
    return xs_write(xsh, t, path, value, (unsigned)strlen(value)) ? 0 : -errno;
}

int nbd_xs_printf(struct xs_handle *xsh, xs_transaction_t t, const char *dir,
                  const char *key, const char *fmt, ...)
{
    char value[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(value, sizeof(value), fmt, ap);
    va_end(ap);
    return nbd_xs_write(xsh, t, dir, key, value);
}
