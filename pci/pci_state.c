/* Reading the state of one device: its sysfs binding and its xenstore
 * records. */
#include "pci/pci.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

char *pci_xs_info_path(const struct pci_addr *a, const char *node)
{
	char bdf[PCI_BDF_TEXT_MAX], *p;

	pci_addr_xs(a, bdf);
	if (asprintf(&p, PCI_XS_INFO "/%s%s%s", bdf, node ? "/" : "", node ? node : "") < 0)
		return NULL;
	return p;
}

char *pci_xs_read(struct pci_env *e, const char *fmt, ...)
{
	va_list ap;
	char *path, *v;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&path, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	v = e->store->read(e->store_h, path);
	free(path);
	return v;
}

int pci_sysfs_write_bdf(struct pci_env *e, const char *path, const struct pci_addr *a)
{
	char bdf[PCI_BDF_TEXT_MAX];

	pci_addr_sysfs(a, bdf);
	return e->host->write(e->host_h, PCI_SYS, path, bdf);
}

char *pci_driver_path_to_xs(const char *rel)
{
	char *p;

	return asprintf(&p, "/sys/%s", rel) < 0 ? NULL : p;
}

const char *pci_driver_path_from_xs(const char *abs)
{
	if (strncmp(abs, "/sys/", 5) || strstr(abs, "/../") || !abs[5])
		return NULL;
	return abs + 5;
}

bool pci_pciback_loaded(struct pci_env *e)
{
	return e->host->exists(e->host_h, PCI_SYS, PCI_SYSFS_PCIBACK);
}

bool pci_in_pciback(struct pci_env *e, const struct pci_addr *a)
{
	char bdf[PCI_BDF_TEXT_MAX], path[64];

	pci_addr_sysfs(a, bdf);
	snprintf(path, sizeof(path), PCI_SYSFS_PCIBACK "/%s", bdf);
	return e->host->exists(e->host_h, PCI_SYS, path);
}

char *pci_current_driver(struct pci_env *e, const struct pci_addr *a)
{
	char bdf[PCI_BDF_TEXT_MAX], path[64];

	pci_addr_sysfs(a, bdf);
	snprintf(path, sizeof(path), PCI_SYSFS_DEVICES "/%s/driver", bdf);
	if (!e->host->exists(e->host_h, PCI_SYS, path))
		return NULL;
	return e->host->realpath(e->host_h, PCI_SYS, path);
}

int pci_slot_count(struct pci_env *e, const struct pci_addr *a)
{
	char *slots = e->host->read(e->host_h, PCI_SYS, PCI_SYSFS_PCIBACK "/slots"), *save, *line;
	struct pci_addr s;
	int n = 0;

	if (!slots)
		return -errno;
	for (line = strtok_r(slots, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned d, b, dv, f;
		/* pciback prints "%04x:%02x:%02x.%d" */
		if (sscanf(line, "%x:%x:%x.%u", &d, &b, &dv, &f) != 4)
			continue;
		s = (struct pci_addr){ (uint16_t)d, (uint8_t)b, (uint8_t)dv, (uint8_t)f, false };
		if (pci_addr_eq(&s, a))
			n++;
	}
	free(slots);
	return n;
}

int pci_name_lookup(struct pci_env *e, const char *name, struct pci_addr *out)
{
	unsigned n = 0;
	char **bdfs = e->store->list(e->store_h, PCI_XS_INFO, &n);
	int rc = -ENOENT;

	for (unsigned i = 0; bdfs && bdfs[i]; i++) {
		struct pci_addr a;
		char *v;
		if (!pci_parse_xs_name(bdfs[i], &a))
			continue;
		v = pci_xs_read(e, PCI_XS_INFO "/%s/name", bdfs[i]);
		if (v && !strcmp(v, name)) {
			*out = a;
			rc = 0;
		}
		free(v);
		if (!rc)
			break;
	}
	pci_strv_free(bdfs);
	return rc;
}
