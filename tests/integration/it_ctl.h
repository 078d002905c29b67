/* netbackd control-socket requests for the integration tests, with enough
 * context on failure (errno, whether netbackd still runs, its last log
 * lines) to tell a refused request from a dead daemon. */
#ifndef IT_CTL_H
#define IT_CTL_H

#include <jansson.h>

#include "tests/datapath/dp_env.h"

/* Sends the request (JSON text from fmt) to env's netbackd and returns the
 * reply; fails the test unless the reply says "ok": true. */
json_t *it_ctl_ok(struct dp_env *env, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Field `field` (e.g. "tx_packets") of port `port` in port-list; -1 when
 * no bridge lists the port. */
long long it_port_field(struct dp_env *env, const char *port, const char *field);

#endif
