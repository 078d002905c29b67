/* An in-memory xenstore serving pci_store_ops: nodes with values, parents
 * created on write, rm removes a subtree. Transactions apply at once (the
 * tests are single-threaded). Writes and removals count as crash steps. */
#ifndef TESTS_PCI_MEMSTORE_H
#define TESTS_PCI_MEMSTORE_H

#include "pci/pci_env.h"
#include "tests/pci/crash.h"

struct memstore;
struct memstore *ms_new(void);
void ms_free(struct memstore *m);
void ms_set_crash(struct memstore *m, struct crash_plan *c);
extern const struct pci_store_ops memstore_ops;
/* Direct access for assertions and setup (no crash steps). */
const char *ms_get(struct memstore *m, const char *path);
void ms_put(struct memstore *m, const char *path, const char *val);
/* Number of nodes at or below path. */
int ms_count(struct memstore *m, const char *path);

#endif
