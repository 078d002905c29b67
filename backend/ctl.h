/* The control socket (protocol: docs/control.md). Main thread only. */
#ifndef NBD_CTL_H
#define NBD_CTL_H

#include <stdbool.h>
#include <jansson.h>

struct nbd_ctx;
struct nbd_ctl;

/* Listens on path and registers with ctx->epfd (events carry data.fd). */
struct nbd_ctl *nbd_ctl_open(struct nbd_ctx *ctx, const char *path);
void nbd_ctl_close(struct nbd_ctl *ctl, const char *path);
/* Whether fd is the listener or one of its clients. */
bool nbd_ctl_owns(const struct nbd_ctl *ctl, int fd);
void nbd_ctl_event(struct nbd_ctl *ctl, int fd);
/* One request -> one reply (new reference). Exposed for tests. */
json_t *nbd_ctl_handle(struct nbd_ctx *ctx, json_t *req);

#endif
