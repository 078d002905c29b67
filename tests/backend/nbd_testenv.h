/* What the backend's emulator tests share: a private emulator with guest
 * domains, netbackd running in dom0 as a child process, the test process
 * entered into dom0 (toolstack role), and small xenstore/control helpers.
 * Waits are bounded by NBD_TEST_WAIT_MS: a limit on a hang, never a speed
 * check. */
#ifndef TESTS_BACKEND_NBD_TESTENV_H
#define TESTS_BACKEND_NBD_TESTENV_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>
#include <xenstore.h>

#define NBD_TEST_WAIT_MS 10000

struct simenv;

struct nbd_testenv {
    struct simenv *env;
    pid_t daemon;
    char ctl[PATH_MAX];
    struct xs_handle *xsh;     /* the test's own, as dom0 */
};

/* Starts the emulator with domains 1..ndomains and netbackd (found next to
 * the test binary, ../bin/netbackd) with --foreground --ctl and extra_args
 * (NULL-terminated, may be NULL); config, if not NULL, is written to a file
 * passed with --config. Returns NULL (after printing why) when the
 * emulator or netbackd is unavailable: the caller skips. */
struct nbd_testenv *nbd_testenv_start(unsigned ndomains, const char *const *extra_args,
                                      const char *config);
void nbd_testenv_stop(struct nbd_testenv *t);

uint64_t nbd_test_now_ms(void);
/* Polls path until it reads want (NULL: until it is absent). */
bool nbd_test_wait_value(struct xs_handle *xsh, const char *path, const char *want);
bool nbd_test_wait_be_state(struct xs_handle *xsh, unsigned domid, unsigned devid, int state);
/* One control request; takes req, returns the reply or NULL. */
json_t *nbd_test_call(struct nbd_testenv *t, json_t *req);
/* The vif object from "stats" (new reference) or NULL. */
json_t *nbd_test_vif(struct nbd_testenv *t, const char *name);
/* Waits until netbackd no longer lists the vif. */
bool nbd_test_wait_vif_gone(struct nbd_testenv *t, const char *name);

#endif
