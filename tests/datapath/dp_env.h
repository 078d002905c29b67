/* A private emulated Xen host for the datapath end-to-end tests: the
 * emulator, netbackd as dom0, guests created with `netbackctl vif-add`, and
 * netfront guests running in child processes. */
#ifndef DP_ENV_H
#define DP_ENV_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "backend/netfront/netfront.h"

struct xs_handle;

struct dp_env {
    char dir[128];          /* the emulator's run directory (private, removed at stop) */
    char bindir[256];       /* $(O)/bin */
    char simlib[256];       /* $(O)/simlib */
    pid_t xensim;           /* `xensim start --foreground`, our child */
    pid_t netbackd;
    struct xs_handle *xs;   /* the test process's own dom0 xenstore connection */
    char netbackd_log[160];
    char skip_reason[640];  /* set when dp_env_start returns -1 */
};

/* Starts the emulator and netbackd (extra arguments for netbackd in
 * `netbackd_args`, may be NULL), both as children of the calling process
 * that die with it (PR_SET_PDEATHSIG), so a test killed by a timeout leaves
 * nothing running. Returns 0, or -1 with skip_reason set when a piece is
 * missing; call dp_env_stop either way. A daemon that is built but does
 * not start fails the calling test or setup (cmocka fail_msg). */
int dp_env_start(struct dp_env *e, const char *netbackd_args);
/* Stops netbackd and the emulator, reaps them and removes the run
 * directory (kept, and named on stderr, with DP_KEEP set). Idempotent. */
void dp_env_stop(struct dp_env *e);

/* One host shared by a cmocka group of tests, and the next unused domain
 * id (each test takes fresh domains). */
struct dp_suite {
    struct dp_env env;
    unsigned next_domid;
    bool up;                /* else every test skips with env.skip_reason */
};

/* Group setup: *state = a new suite with its host started (netbackd_args
 * as for dp_env_start). Returns 0 even when the host is unavailable: the
 * tests then skip, saying why. */
int dp_suite_setup(void **state, const char *netbackd_args);
/* Group teardown: stops the host (see dp_env_stop), frees the suite. */
int dp_suite_teardown(void **state);
/* The suite of a test, or skip() with the reason when there is no host. */
struct dp_suite *dp_suite_or_skip(void **state);
/* n fresh domains with vif 0 each (dp_guest_add asserted); ids in domids. */
void dp_suite_guests(struct dp_suite *s, unsigned *domids, unsigned n);

/* Runs a shell command line in domain `domid`'s environment (0 = the
 * backend domain); `out` (may be NULL) gets up to cap-1 bytes of stdout.
 * Returns the exit status, or -1. */
int dp_run(struct dp_env *e, unsigned domid, char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Creates domain `domid` and its vif <devid> with mac 00:16:3e:00:<domid>:<devid>
 * and mtu 65517 (every frame size fits). vif_args: extra netbackctl vif-add
 * arguments (may be NULL; a --mtu there overrides). */
int dp_guest_add(struct dp_env *e, unsigned domid, unsigned devid, const char *vif_args);
/* Destroys the domain (its backend dirs go with it), as a guest dying would. */
int dp_guest_destroy(struct dp_env *e, unsigned domid);
void dp_guest_mac(unsigned domid, unsigned devid, uint8_t mac[6]);

/* Makes the calling process (a fresh child) part of domain `domid`. */
void dp_enter_domain(const struct dp_env *e, unsigned domid);
/* Forks a child in domain `domid` running fn(arg); its return value is the
 * child's exit status. */
pid_t dp_spawn(const struct dp_env *e, unsigned domid, int (*fn)(void *), void *arg);
/* Waits for the child (at most timeout_s, then kills it). Returns its exit
 * status, 128+signal if it died of a signal, or -1. */
int dp_wait(pid_t pid, unsigned timeout_s);

/* Reads an integer xenstore key as dom0; -1 if absent. */
long dp_xs_read_long(struct dp_env *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Writes a key as dom0 (the toolstack). */
bool dp_xs_write(struct dp_env *e, const char *path, const char *value);
bool dp_xs_exists(struct dp_env *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A counter of vif <domid>/<devid> from `netbackctl stats --json`
 * (summed over queues), or -1 if the vif isn't listed. */
long long dp_vif_counter(struct dp_env *e, unsigned domid, unsigned devid, const char *name);
/* netbackd's view of the vif's `rate` key: bytes per window; -1 if
 * there is no limit (vif-list's rate is null) or the vif isn't listed. */
long long dp_vif_rate_bytes(struct dp_env *e, unsigned domid, unsigned devid);
/* netbackd's mtu for the vif (the backend `mtu` key as applied), -1 if
 * the vif isn't listed. */
long long dp_vif_mtu(struct dp_env *e, unsigned domid, unsigned devid);
/* True while netbackctl lists the vif; *disabled (may be NULL) gets its flag. */
bool dp_vif_listed(struct dp_env *e, unsigned domid, unsigned devid, bool *disabled);

/* CLOCK_MONOTONIC in seconds: for guests' liveness bounds, which are
 * deadlines (a count of waits runs out early when a wait returns early). */
double dp_now_s(void);
/* How long a guest's receive loop goes without any packet before giving up. */
#define DP_QUIET_S 30

/* Polls cond(arg) every 20 ms until true or timeout_s passes (a liveness
 * bound, not a timing assertion). */
bool dp_eventually(bool (*cond)(void *), void *arg, unsigned timeout_s);

/* Shared memory (MAP_SHARED|MAP_ANONYMOUS) for parent/guest coordination. */
void *dp_shared_alloc(size_t size);
void dp_shared_free(void *p, size_t size);

/* Opens and connects vif <devid> of the current domain, retrying open until
 * the toolstack's keys exist. Returns NULL on failure (printed). */
struct netfront *dp_netfront_up(const struct nf_config *cfg);

#endif
