/* Daemon settings from the config file (format in settings.c). */
#ifndef NBD_SETTINGS_H
#define NBD_SETTINGS_H

#include "backend/netbackd.h"

/* Overlays the file's netbackd { } group on s. 0 or -EINVAL (logged). */
int nbd_settings_load(struct nbd_settings *s, const char *path);
int nbd_parse_mode(const char *s, enum nbd_worker_mode *mode);

#endif
