/* Reading the emulated libxenctrl's state file ($XENSIM_DIR/xenctrl.state)
 * and a test hypervisor that runs the real pci_hv_xc calls (which land in
 * sim/xenctrl through the rpath) behind crash steps. */
#ifndef TESTS_PCI_XCSTATE_H
#define TESTS_PCI_XCSTATE_H

#include <stdbool.h>

#include "pci/pci_env.h"
#include "tests/pci/crash.h"

/* Whether the state file has exactly this line. */
bool xcs_has(const char *dir, const char *line);
/* Number of lines (facts) in the state file. */
int xcs_lines(const char *dir);

struct xc_crash {
	void *real; /* pci_hv_xc handle */
	struct crash_plan *crash;
};
extern const struct pci_hv_ops xc_crash_ops;

#endif
