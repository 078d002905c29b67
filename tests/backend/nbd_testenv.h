/* What the backend's emulator tests share: a private emulator with guest
 * domains, netbackd running in dom0 as a child process, the test process
 * entered into dom0 (toolstack role), and small xenstore/control helpers.
 * Waits are bounded by NBD_TEST_WAIT_MS: a limit on a hang, never a speed
 * check, so it is what `make valgrind` on two loaded cores needs times ten
 * (netbackd, xensim and the guests all under memcheck). Every wait ends on
 * the event it waits for; only a hang waits this long. */
#ifndef TESTS_BACKEND_NBD_TESTENV_H
#define TESTS_BACKEND_NBD_TESTENV_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>
#include <xenstore.h>

#define NBD_TEST_WAIT_MS 60000

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
 * emulator or netbackd is unavailable: the caller skips. A netbackd that
 * is there but exits or does not answer fails the test (cmocka fail_msg). */
struct nbd_testenv *nbd_testenv_start(unsigned ndomains, const char *const *extra_args,
                                      const char *config);
void nbd_testenv_stop(struct nbd_testenv *t);
/* The usual world: nbd_testenv_start with --log-level warn --max-queues
 * max_queues, and vif<d>.0 on xenbr0 for every domain d of 1..ndomains. */
struct nbd_testenv *nbd_testenv_start_xenbr0(unsigned ndomains, unsigned max_queues,
                                             const char *config);

uint64_t nbd_test_now_ms(void);
/* Polls path until it reads want (NULL: until it is absent). */
bool nbd_test_wait_value(struct xs_handle *xsh, const char *path, const char *want);
bool nbd_test_wait_be_state(struct xs_handle *xsh, unsigned domid, unsigned devid, int state);
/* One control request; takes req, returns the reply or NULL. */
json_t *nbd_test_call(struct nbd_testenv *t, json_t *req);
/* The vif object from "stats" (new reference) or NULL. */
json_t *nbd_test_vif(struct nbd_testenv *t, const char *name);
/* One of the vif's "totals" counters, or -1 when the vif is not listed. */
long long nbd_test_vif_counter(struct nbd_testenv *t, const char *name, const char *counter);
/* Waits until the vif's counter is at least min; returns its last value. */
long long nbd_test_wait_counter(struct nbd_testenv *t, const char *name, const char *counter,
                                long long min);
/* Waits until netbackd no longer lists the vif. */
bool nbd_test_wait_vif_gone(struct nbd_testenv *t, const char *name);
/* Whether netbackd lists the vif as disabled (now; or once it is, within
 * the wait bound). */
bool nbd_test_vif_disabled(struct nbd_testenv *t, const char *name);
bool nbd_test_wait_vif_disabled(struct nbd_testenv *t, const char *name);

/* Adds vif<domid>.0 (MTU 65517: every frame fits; MAC 00:16:3e:00:00:<domid>) on bridge;
 * a failure is printed and shows later as a vif that never connects. */
void nbd_test_add_vif(struct nbd_testenv *t, unsigned domid, const char *bridge);
/* A cmocka teardown stopping the nbd_testenv in *state (NULL is fine). */
int nbd_testenv_teardown(void **state);

/* Opens a cmocka test whose setup left its nbd_testenv in *state: binds
 * it to w, or skips when the emulator or netbackd was unavailable. */
#define NBD_TEST_NEED_WORLD(state) \
    struct nbd_testenv *w = *(state); \
    if (!w) { skip(); return; }

/* A guest/parent handshake: opens two pipes (asserting success) and
 * closes all four ends. */
void nbd_test_pipes_open(int ready[2], int go[2]);
void nbd_test_pipes_close(int ready[2], int go[2]);
/* Reads one byte of such a pipe, waiting for it; false on EOF or timeout. */
bool nbd_test_wait_byte(int fd);
/* size zeroed bytes shared with the guests forked later (asserted); munmap
 * them when done. */
void *nbd_test_shared(size_t size);

#endif
