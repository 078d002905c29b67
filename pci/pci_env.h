/* The outside world of the PCI module, as three small vtables.
 *
 * Everything the module does to the host goes through one of these, so that
 * tests can swap in an in-memory kernel model, an in-memory xenstore and a
 * hypervisor that records calls, and can stop the "process" at any step.
 * The real implementations are pci_host_real(), pci_store_xs() and
 * pci_hv_xc().
 *
 * Conventions (all three): return 0 or a negative errno; a function that
 * returns a string or list returns a malloc'd one, or NULL with errno set. */
#ifndef PCI_ENV_H
#define PCI_ENV_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* Which tree a host path is relative to: "bus/pci/devices" is under
 * PCI_SYS, "self/mountinfo" under PCI_PROC. */
enum pci_root { PCI_SYS = 0, PCI_PROC = 1 };

struct pci_host_ops {
	/* Whole file into a NUL-terminated malloc'd buffer. */
	char *(*read)(void *h, enum pci_root r, const char *path);
	/* One write(2) of data, as `echo -n data > path`. */
	int (*write)(void *h, enum pci_root r, const char *path, const char *data);
	/* lstat() succeeds. */
	bool (*exists)(void *h, enum pci_root r, const char *path);
	/* Canonical path, relative to the root ("bus/pci/drivers/e1000e"). */
	char *(*realpath)(void *h, enum pci_root r, const char *path);
	/* Entry names without "." and ".."; NULL-terminated array. */
	char **(*readdir)(void *h, enum pci_root r, const char *path);
	/* IPv4 addresses on an interface (the kernel keeps no /proc file of
	 * them): count, and the first one written into first. */
	int (*ipv4_addrs)(void *h, const char *ifname, char *first, size_t len);
};

struct pci_store_ops {
	char *(*read)(void *h, const char *path);
	int (*write)(void *h, const char *path, const char *val);
	int (*rm)(void *h, const char *path);
	char **(*list)(void *h, const char *path, unsigned *n);
	/* Create path owned by owner, readable by reader (xl's backend and
	 * frontend directories). */
	int (*mkdir_perms)(void *h, const char *path, unsigned owner, unsigned reader);
	/* A transaction covers every call between begin and commit; commit
	 * returns -EAGAIN when it must be retried. */
	int (*begin)(void *h);
	int (*commit)(void *h, bool abort);
};

enum pci_domtype { PCI_DOM_PV = 1, PCI_DOM_HVM = 2 };

struct pci_hv_ops {
	int (*assign)(void *h, uint32_t domid, uint32_t sbdf, uint32_t flags);
	int (*deassign)(void *h, uint32_t domid, uint32_t sbdf);
	int (*test_assign)(void *h, uint32_t domid, uint32_t sbdf);
	int (*iomem)(void *h, uint32_t domid, unsigned long first_mfn, unsigned long nr, bool allow);
	int (*ioport)(void *h, uint32_t domid, uint32_t first, uint32_t nr, bool allow);
	int (*irq)(void *h, uint32_t domid, uint32_t pirq, bool allow);
	int (*map_pirq)(void *h, uint32_t domid, int index, int *pirq);
	int (*unmap_pirq)(void *h, uint32_t domid, int pirq);
	/* PCI_DOM_PV, PCI_DOM_HVM, or -ESRCH. */
	int (*domain_type)(void *h, uint32_t domid);
};

/* Everything one command needs; no global state. */
struct pci_env {
	const struct pci_host_ops *host;
	void *host_h;
	const struct pci_store_ops *store;
	void *store_h;
	const struct pci_hv_ops *hv;
	void *hv_h;
	FILE *out; /* results (lists, parse output) */
	FILE *err; /* warnings and errors, one line each */
	bool force;          /* --force: take a device dom0 uses */
	unsigned wait_ms;    /* how long to wait for pciback in attach/detach */
};

/* Real implementations. Roots default to /sys and /proc. */
void *pci_host_real_new(const char *sys_root, const char *proc_root);
void pci_host_real_free(void *h);
extern const struct pci_host_ops pci_host_real;

void *pci_store_xs_open(void); /* NULL + errno when xenstore is unreachable */
void pci_store_xs_close(void *h);
extern const struct pci_store_ops pci_store_xs;

void *pci_hv_xc_new(void); /* opens libxenctrl lazily, on first call */
void pci_hv_xc_free(void *h);
extern const struct pci_hv_ops pci_hv_xc;

/* Helpers over the vtables. */
void pci_strv_free(char **v);
void pci_log(struct pci_env *e, const char *level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define pci_warn(e, ...) pci_log(e, "warning", __VA_ARGS__)
#define pci_error(e, ...) pci_log(e, "error", __VA_ARGS__)
#define pci_info(e, ...) pci_log(e, "info", __VA_ARGS__)

#endif
