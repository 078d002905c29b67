/* simenv: a private hypervisor emulator for a test.
 *
 * Every test that needs Xen (backend, netfront, pci, bridge, sim) does:
 *
 *	struct simenv *env = simenv_start();     // daemon in a fresh temp dir
 *	simenv_domain_create(env, 1);            // a guest domain (dom0 exists)
 *	pid_t g = simenv_spawn(env, 1, guest_fn, arg);  // a process in dom1
 *	simenv_enter(env, 0);                    // this process is dom0 now
 *	... xengnttab_open(), xs_open(0), ... as on real Xen ...
 *	simenv_wait(g) == 0;                     // the guest's exit status
 *	simenv_stop(env);                        // kill the daemon, remove dir
 *
 * The test binary must be linked with $(SIM_RPATH) (so the emulator's
 * libxengnttab/libxenevtchn/libxenctrl are loaded instead of Debian's) and
 * depend on $(SIMLIBS) and $(O)/bin/xensim. The xensim program is found as
 * $XENSIM_BIN, else <dir of the test binary>/../bin/xensim (the build tree).
 *
 * The Xen libraries read XENSIM_DIR / XENSIM_DOMID / XENSTORED_PATH when a
 * handle is opened, so switch domains (simenv_enter) before opening
 * handles; a forked child must open its own handles (as on real Xen).
 * Functions return 0 / a pid on success and -errno on failure, printing
 * the reason on stderr. None of them calls cmocka. */
#ifndef TESTS_LIB_SIMENV_H
#define TESTS_LIB_SIMENV_H

#include <sys/types.h>

struct simenv;

/* Starts xensim in a new mkdtemp directory and waits until it serves.
 * NULL when it cannot (not built: the caller skips); a built xensim that
 * exits or does not serve fails the calling test or setup (cmocka). */
struct simenv *simenv_start(void);
/* Stops the daemon (the domains go with it), removes the directory, frees. */
void simenv_stop(struct simenv *env);

/* The run directory (XENSIM_DIR). */
const char *simenv_dir(const struct simenv *env);

/* Creates domain `domid` (> 0). Returns 0 or -errno (-EEXIST if it exists). */
int simenv_domain_create(struct simenv *env, unsigned domid);
/* Destroys it as `xl destroy` would (grants revoked, event channels closed,
 * xenstore nodes removed, @releaseDomain). Returns 0 or -errno. */
int simenv_domain_destroy(struct simenv *env, unsigned domid);

/* Makes the calling process a process of `domid`: sets XENSIM_DIR,
 * XENSIM_DOMID, XENSTORED_PATH and puts the emulator's library directory
 * first in LD_LIBRARY_PATH (for programs it executes). */
int simenv_enter(struct simenv *env, unsigned domid);

/* Forks a child that enters `domid` and runs fn(arg); the child exits with
 * fn's return value, and is killed if the test process dies first. Returns
 * the pid or -errno. */
pid_t simenv_spawn(struct simenv *env, unsigned domid, int (*fn)(void *arg), void *arg);
/* Waits for a spawned child: its exit status, 128 + signal if killed, or
 * -errno. */
int simenv_wait(pid_t pid);

/* Path of the xensim program simenv uses. */
const char *simenv_xensim(const struct simenv *env);

#endif
