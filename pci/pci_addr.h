/* PCI addresses and PCI_SPEC_STRINGs as xl writes them.
 *
 *   BDF              [DDDD:]BB:DD.F     hex; F may be '*' (every function)
 *   PCI_SPEC_STRING  BDF[@VSLOT][,key=value]...   or  key=value,... with
 *                    bdf= / vslot= / name= among the keys
 *
 * Stricter than libxlu: trailing characters, empty fields, signs and
 * out-of-range values are errors, and the error text names the part that
 * was wrong. */
#ifndef PCI_ADDR_H
#define PCI_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCI_NAME_MAX 64

struct pci_addr {
	uint16_t domain;
	uint8_t bus;
	uint8_t dev;  /* 0..0x1f */
	uint8_t func; /* 0..7; meaningless when all_funcs */
	bool all_funcs;
};

enum pci_rdm_policy { PCI_RDM_STRICT = 0, PCI_RDM_RELAXED = 1 };

/* One integer option of a spec; 'set' tells whether the string gave it, so
 * a domain-wide default (pci_permissive=1) can apply to the rest. */
struct pci_opt {
	bool set;
	int val;
};

struct pci_spec {
	bool has_addr;
	struct pci_addr addr;
	bool has_vslot;
	uint8_t vslot; /* 0..0x1f; vdevfn = vslot << 3 */
	struct pci_opt permissive, msitranslate, seize, power_mgmt;
	bool rdm_set;
	enum pci_rdm_policy rdm_policy;
	char name[PCI_NAME_MAX + 1]; /* "" when none */
};

/* Text formats used by sysfs ("0000:03:00.0") and xenstore ("0000-03-00-0"). */
#define PCI_BDF_TEXT_MAX 16
void pci_addr_sysfs(const struct pci_addr *a, char out[PCI_BDF_TEXT_MAX]);
void pci_addr_xs(const struct pci_addr *a, char out[PCI_BDF_TEXT_MAX]);
/* Machine SBDF as XEN_DOMCTL_*assign_device wants it. */
uint32_t pci_addr_sbdf(const struct pci_addr *a);
bool pci_addr_eq(const struct pci_addr *a, const struct pci_addr *b);

/* Parse a whole string as a BDF. On error returns -EINVAL and writes a
 * message naming the offending part into err (may be NULL). */
int pci_parse_bdf(const char *s, struct pci_addr *out, char *err, size_t errlen);
/* Parse the canonical sysfs form "%04x:%02x:%02x.%x" only (directory names). */
bool pci_parse_sysfs_name(const char *s, struct pci_addr *out);
/* Parse "DDDD-BB-DD-F" (xenstore key). */
bool pci_parse_xs_name(const char *s, struct pci_addr *out);

int pci_parse_spec(const char *s, struct pci_spec *out, char *err, size_t errlen);
/* Name rule shared with xl: 1..64 characters, all isgraph(). */
int pci_check_name(const char *name, char *err, size_t errlen);

const char *pci_rdm_policy_name(enum pci_rdm_policy p);

#endif
