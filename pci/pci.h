/* PCI pass-through assignment, as `xl pci-*` does it, plus the safety xl
 * lacks (dom0-usage checks, crash-safe steps). See docs/design.md and
 * ../shared/notes/pci.md for the xl facts this follows.
 *
 * State kept in xenstore, shared with xl:
 *   /libxl/pci/DDDD-BB-DD-F/driver_path   "/sys/bus/pci/drivers/<drv>"
 *   /libxl/pci/DDDD-BB-DD-F/name          assignable name
 *   /libxl/pci/DDDD-BB-DD-F/domid         the guest it is attached to
 * and ours alone:
 *   /netbackd/pci/DDDD-BB-DD-F/intent     "<op> <step>" written before each
 *                                         sysfs step, removed when done
 *
 * Every function returns 0 or a negative errno and explains failures on
 * env->err. */
#ifndef PCI_H
#define PCI_H

#include <errno.h>

#include "pci/pci_addr.h"
#include "pci/pci_env.h"

#define PCI_SYSFS_DEVICES "bus/pci/devices"
#define PCI_SYSFS_PCIBACK "bus/pci/drivers/pciback"
#define PCI_XS_INFO "/libxl/pci"
#define PCI_XS_INTENT "/netbackd/pci"
#define PCI_DOMID_IO 0x7FF1u

/* ---- assignable devices ---- */
struct pci_assignable {
	struct pci_addr addr;
	char name[PCI_NAME_MAX + 1];
};

/* An add or remove that stopped half-way (crash, power loss, failure). */
struct pci_interrupted {
	struct pci_addr addr;
	char op[24];      /* "add", "remove" or "remove-rebind" */
	char step[24];    /* the step that was about to run */
	char driver[128]; /* driver now bound ("" = none) */
	char driver_path[256]; /* recorded original driver ("" = none) */
};

int pci_assignable_add(struct pci_env *e, const struct pci_addr *a, const char *name);
/* Devices bound to pciback minus those attached to a guest; and the
 * interrupted operations (either list may be NULL when not wanted). */
int pci_assignable_list(struct pci_env *e, struct pci_assignable **list, size_t *n,
			struct pci_interrupted **intr, size_t *nintr);
/* which: a name given at add time, else a BDF. */
int pci_assignable_remove(struct pci_env *e, const char *which, bool rebind);
int pci_assignable_remove_addr(struct pci_env *e, const struct pci_addr *a, bool rebind);
/* Name -> BDF through /libxl/pci/<bdf>/name; -ENOENT when unknown. */
int pci_name_lookup(struct pci_env *e, const char *name, struct pci_addr *out);

/* ---- dom0 usage ---- */
/* Reasons dom0 needs the device, one per line, into why (may be NULL).
 * Returns how many reasons there are (0: free to take) or -errno. */
int pci_dom0_usage(struct pci_env *e, const struct pci_addr *a, char *why, size_t len);

/* ---- sysfs state of one device ---- */
bool pci_pciback_loaded(struct pci_env *e);
bool pci_in_pciback(struct pci_env *e, const struct pci_addr *a);
/* Driver bound now, as "bus/pci/drivers/<name>" relative to the sysfs root
 * (malloc'd), or NULL when none. */
char *pci_current_driver(struct pci_env *e, const struct pci_addr *a);
/* How many times the BDF is listed in pciback/slots. */
int pci_slot_count(struct pci_env *e, const struct pci_addr *a);

/* ---- guests (PV) ---- */
struct pci_attached {
	struct pci_addr addr;
	unsigned vdevfn;
	char name[PCI_NAME_MAX + 1];
	int msitranslate, power_mgmt, permissive;
	enum pci_rdm_policy rdm_policy;
	int state; /* state-N */
};

/* Domain-wide defaults an xl domain config gives (pci_permissive= ...). */
struct pci_domain_defaults {
	int permissive, msitranslate, power_mgmt, seize;
};

int pci_attach(struct pci_env *e, uint32_t domid, const struct pci_spec *spec,
	       const struct pci_domain_defaults *defs);
int pci_detach(struct pci_env *e, uint32_t domid, const struct pci_addr *a);
int pci_list_attached(struct pci_env *e, uint32_t domid, struct pci_attached **out, size_t *n);

/* ---- xl domain configs ---- */
struct pci_domcfg {
	struct pci_domain_defaults defs;
	struct pci_spec *specs;
	size_t nspecs;
};
int pci_domcfg_parse(const char *text, struct pci_domcfg *out, char *err, size_t errlen);
int pci_domcfg_read(const char *path, struct pci_domcfg *out, char *err, size_t errlen);
void pci_domcfg_free(struct pci_domcfg *c);

/* ---- small helpers shared by the module ---- */
/* A device domctl failed because the host has no IOMMU: Xen 4.17's
 * iommu_do_domctl() says EOPNOTSUPP (later versions ENXIO), old ones ENOSYS. */
static inline bool pci_no_iommu(int rc)
{
	return rc == -EOPNOTSUPP || rc == -ENXIO || rc == -ENOSYS;
}
char *pci_xs_info_path(const struct pci_addr *a, const char *node); /* malloc'd */
char *pci_xs_read(struct pci_env *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int pci_sysfs_write_bdf(struct pci_env *e, const char *path, const struct pci_addr *a);
/* "/sys/bus/pci/drivers/x" <-> "bus/pci/drivers/x" */
char *pci_driver_path_to_xs(const char *rel);
const char *pci_driver_path_from_xs(const char *abs);

#endif
