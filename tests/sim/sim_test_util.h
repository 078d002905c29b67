/* Helpers shared by the emulator's conformance tests: a "granter" child
 * process in another domain that shares pages and obeys commands sent over
 * a pipe, so the test (the mapping/copying domain) controls when grants end
 * and can check what the granter sees in its own pages. */
#ifndef TESTS_SIM_TEST_UTIL_H
#define TESTS_SIM_TEST_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <xenevtchn.h>
#include <xengnttab.h>

#include "tests/lib/simenv.h"

#define GRANTER_MAX 64

/* The emulator of every test here: domains 1 and 2 besides dom0, and the
 * calling process entered into dom0. NULL on failure (simenv says why). */
struct simenv *sim_test_env_start(void);

struct granter {
	pid_t pid;
	int cmd;   /* test -> granter */
	int reply; /* granter -> test */
	int other_ends[2]; /* the test's ends, closed in the granter */
	unsigned domid;
	unsigned grantee;
	unsigned count;
	bool writable;
	uint32_t refs[GRANTER_MAX];
};

/* The cmocka fixture of the suites here: a private emulator per test
 * (sim_test_env_start) and the dom0 handles the suite asks for. */
enum { SIM_FIX_GNTTAB = 1, SIM_FIX_EVTCHN = 2 };

struct sim_fixture {
	struct simenv *env;
	xengnttab_handle *gt; /* with SIM_FIX_GNTTAB */
	xenevtchn_handle *ev; /* with SIM_FIX_EVTCHN */
	struct granter g;     /* for a test's granter process */
};

/* Allocates *state and starts it; -1 on failure (cmocka then fails the
 * test). Teardown closes the handles and stops the emulator. */
int sim_fixture_setup(void **state, unsigned handles);
int sim_fixture_teardown(void **state);

/* Page i of a granter starts filled with this byte pattern. */
static inline uint8_t granter_byte(unsigned page, unsigned off)
{
	return (uint8_t)(page * 31 + off * 7 + 1);
}

/* Starts a process in `domid` that shares `count` pages with `grantee`
 * (writable or not), fills them and reports the refs. Returns 0 or -1. */
int granter_start(struct simenv *env, struct granter *g, unsigned domid, unsigned grantee,
		  unsigned count, bool writable);
/* Reads page `page` as the granter sees it (4096 bytes into buf). */
int granter_read(struct granter *g, unsigned page, uint8_t *buf);
/* Unshares page `page` (the granter keeps running). */
int granter_unshare(struct granter *g, unsigned page);
/* Shares one more page with the same grantee; returns its ref or -1. */
long granter_share_one(struct granter *g);
/* Unshares everything and exits; returns the exit status. */
int granter_stop(struct granter *g);

#endif
