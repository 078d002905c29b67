/* The `netbackctl pci-*` subcommands. netbackctl hands every argv whose
 * argv[0] starts with "pci-" to pci_cli_main():
 *
 *   pci-help
 *   pci-parse SPEC [--json]
 *   pci-assignable-add [-n NAME] [--force] BDF
 *   pci-assignable-list [-n]
 *   pci-assignable-remove [-r] BDF|NAME
 *   pci-attach DOMID [SPEC] [--config FILE] [--force]
 *   pci-detach [-f|--force] DOMID BDF|NAME
 *   pci-list DOMID
 *
 * Common options: --sysfs-root DIR (default $NETBACKD_SYSFS_ROOT or /sys),
 * --proc-root DIR (default $NETBACKD_PROC_ROOT or /proc), --timeout SECS
 * (how long to wait for pciback; default 10).
 * Exit status: 0 done, 1 failed, 2 usage error. */
#ifndef PCI_CLI_H
#define PCI_CLI_H

#include "pci/pci_env.h"

int pci_cli_main(int argc, char **argv);
/* The same against a prepared environment (tests). A NULL store or hv in
 * env means "open the real one when needed". */
int pci_cli_run(struct pci_env *env, int argc, char **argv);

#endif
