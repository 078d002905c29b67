/* An in-memory model of the Linux PCI sysfs (and the bits of /proc the PCI
 * module reads) that reacts like the kernel:
 *   drivers/<d>/bind, unbind   move the device's driver link (ENODEV when
 *                              the device is not theirs / not matched,
 *                              EBUSY when it is bound already)
 *   pciback/new_slot           appends to pciback/slots (twice = listed
 *                              twice, as pciback does)
 *   pciback/remove_slot        drops every matching slot, ENOENT if none
 *   pciback/bind               matches only devices with a slot
 *   pciback/permissive         ENODEV unless bound to pciback
 *   devices/<bdf>/reset        counted
 * Plain attribute files are read-only. Paths are relative to the root,
 * symlink targets too. It serves pci_host_ops (kmodel_ops). */
#ifndef TESTS_PCI_KMODEL_H
#define TESTS_PCI_KMODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "pci/pci_env.h"
#include "tests/pci/crash.h"

struct kmodel;

struct kmodel *km_new(void);
void km_free(struct kmodel *k);
extern const struct pci_host_ops kmodel_ops;

void km_add_driver(struct kmodel *k, const char *name);
void km_load_pciback(struct kmodel *k);
/* A device under devices/pci0000:00/<bdf>; native_driver is the driver
 * whose id table matches it (NULL: none), bound at once when bind_now. */
void km_add_device(struct kmodel *k, const char *bdf, const char *native_driver, bool bind_now);
void km_set_file(struct kmodel *k, enum pci_root r, const char *path, const char *content);
void km_add_netif(struct kmodel *k, const char *bdf, const char *ifname, bool up);
void km_add_ipv4(struct kmodel *k, const char *ifname, const char *addr);
/* A disk (parent NULL) or partition below the device's storage host. */
void km_add_block(struct kmodel *k, const char *bdf, const char *name, const char *devno,
		  const char *parent);
void km_add_holder(struct kmodel *k, const char *lower, const char *holder, const char *devno);

/* Observations. */
const char *km_driver_of(struct kmodel *k, const char *bdf); /* NULL: none */
int km_slot_count(struct kmodel *k, const char *bdf);
bool km_is_permissive(struct kmodel *k, const char *bdf);
int km_resets(struct kmodel *k, const char *bdf);
/* How many writes of data to path were accepted. */
int km_writes_to(struct kmodel *k, const char *path, const char *data);

void km_set_crash(struct kmodel *k, struct crash_plan *c);

#endif
