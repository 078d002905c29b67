/* Pieces of the xensim program shared between its commands. */
#ifndef SIM_XENSIM_CLI_H
#define SIM_XENSIM_CLI_H

#include <stddef.h>

/* Runs the daemon in this process until stopped; writes one byte to
 * ready_fd (if >= 0) once it serves. Returns 0 or -errno. */
int xensim_serve(const char *dir, int ready_fd);
/* Sets XENSIM_DIR, XENSIM_DOMID, XENSTORED_PATH and LD_LIBRARY_PATH (the
 * emulator's libraries first) for a process of domain `domid`. */
int xensim_setenv(const char *dir, unsigned domid);
int xensim_libdir(char *out, size_t cap);
/* Private emulator, one grant + event channel + xenstore round trip
 * between dom0 and a guest; prints PASS or FAIL. Returns the exit code. */
int xensim_selfcheck(void);

#endif
