/* Client side of the control socket (docs/control.md). */
#ifndef NBD_CTL_CLIENT_H
#define NBD_CTL_CLIENT_H

#include <jansson.h>

/* Sends one request, returns the reply (new reference) or NULL with errno. */
json_t *nbd_ctl_call(const char *path, json_t *req);

#endif
