/* A fresh host for one PCI test: the kernel model (kmodel.h) with pciback
 * loaded, an e1000e NIC at 0000:03:00.0 bound to its driver and a
 * driverless device at 0000:04:00.0; the in-memory xenstore; the emulated
 * libxenctrl in a temporary XENSIM_DIR behind crash steps; and env->err
 * captured in memory. */
#ifndef TESTS_PCI_WORLD_H
#define TESTS_PCI_WORLD_H

#include <stdbool.h>
#include <stdio.h>

#include "pci/pci.h"
#include "tests/pci/kmodel.h"
#include "tests/pci/memstore.h"
#include "tests/pci/xcstate.h"

#define NIC "0000:03:00.0"
#define NIC_XS "/libxl/pci/0000-03-00-0"
#define BARE "0000:04:00.0"

struct world {
	struct kmodel *k;
	struct memstore *m;
	struct crash_plan crash;
	struct xc_crash hv;
	struct pci_env env;
	char dir[256];
	bool own_dir;
	char *errbuf;
	size_t errlen;
	char *outbuf;
	size_t outlen;
};

struct world *world_new(void);
/* The same with the libxenctrl state in an existing emulator directory
 * (XENSIM_DIR already set by simenv_enter). */
struct world *world_new_in(const char *xensim_dir);
void world_free(struct world *w);
/* Runs `netbackctl pci-*` in the world: pci_cli_run with argv a0... up to
 * a NULL (at most 15 words). Returns its exit status. */
int world_cli(struct world *w, const char *a0, ...);
/* Everything written to env->err (resp. env->out) since the last reset. */
const char *world_err(struct world *w);
const char *world_out(struct world *w);
void world_reset_msgs(struct world *w);
/* The process died; the next command is a new process. */
void world_restart(struct world *w);
struct pci_addr world_addr(const char *bdf);

#endif
