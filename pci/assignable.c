/* pci-assignable-add / -list / -remove.
 *
 * The order of steps is what makes them crash safe: the intent record goes
 * to xenstore before every sysfs step, and the original driver is recorded
 * BEFORE the device is unbound from it (xl records it after), so at any
 * point where the process may die the device is either still bound to its
 * driver or its driver is on record. A re-run of add picks up from the
 * state it finds (xl's own checks make each step skip when already done),
 * and remove -r takes the device home from any of those states. */
#include "pci/pci.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define RDM_RELAXED 1u /* XEN_DOMCTL_DEV_RDM_RELAXED */

static int intent_set(struct pci_env *e, const struct pci_addr *a, const char *op, const char *step)
{
	char bdf[PCI_BDF_TEXT_MAX], path[64], val[64];
	int rc;

	pci_addr_xs(a, bdf);
	snprintf(path, sizeof(path), PCI_XS_INTENT "/%s/intent", bdf);
	snprintf(val, sizeof(val), "%s %s", op, step);
	rc = e->store->write(e->store_h, path, val);
	if (rc)
		pci_error(e, "cannot record intent at %s: %s", path, strerror(-rc));
	return rc;
}

static int intent_clear(struct pci_env *e, const struct pci_addr *a)
{
	char bdf[PCI_BDF_TEXT_MAX], path[64];

	pci_addr_xs(a, bdf);
	snprintf(path, sizeof(path), PCI_XS_INTENT "/%s", bdf);
	return e->store->rm(e->store_h, path);
}

static char *info_read(struct pci_env *e, const struct pci_addr *a, const char *node)
{
	char *p = pci_xs_info_path(a, node), *v;

	if (!p)
		return NULL;
	v = e->store->read(e->store_h, p);
	free(p);
	return v;
}

static int info_write(struct pci_env *e, const struct pci_addr *a, const char *node, const char *val)
{
	char *p = pci_xs_info_path(a, node);
	int rc;

	if (!p)
		return -ENOMEM;
	rc = e->store->write(e->store_h, p, val);
	if (rc)
		pci_error(e, "cannot write %s: %s", p, strerror(-rc));
	free(p);
	return rc;
}

static int info_rm(struct pci_env *e, const struct pci_addr *a, const char *node)
{
	char *p = pci_xs_info_path(a, node);
	int rc;

	if (!p)
		return -ENOMEM;
	rc = e->store->rm(e->store_h, p);
	if (rc)
		pci_error(e, "cannot remove %s: %s", p, strerror(-rc));
	free(p);
	return rc;
}

static int write_step(struct pci_env *e, const struct pci_addr *a, const char *dir, const char *file,
		      const char *what)
{
	char path[300], bdf[PCI_BDF_TEXT_MAX];
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	rc = pci_sysfs_write_bdf(e, path, a);
	if (rc) {
		pci_addr_sysfs(a, bdf);
		pci_error(e, "couldn't %s %s (write to %s): %s", what, bdf, path, strerror(-rc));
	}
	return rc;
}

/* Checks that hold for add whatever state the device is in. */
static int add_precheck(struct pci_env *e, const struct pci_addr *a, const char *name, const char *bdf)
{
	char path[64], err[160], *domid;

	if (a->all_funcs) {
		pci_error(e, "%.10s*: pci-assignable-add takes one function, not '*'", bdf);
		return -EINVAL;
	}
	if (name && pci_check_name(name, err, sizeof(err))) {
		pci_error(e, "%s", err);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), PCI_SYSFS_DEVICES "/%s", bdf);
	if (!e->host->exists(e->host_h, PCI_SYS, path)) {
		pci_error(e, "no PCI device %s (%s does not exist)", bdf, path);
		return -ENODEV;
	}
	if (!pci_pciback_loaded(e)) {
		pci_error(e, "Looks like pciback driver is not loaded");
		return -ENOENT;
	}
	domid = info_read(e, a, "domid");
	if (domid) {
		pci_error(e, "%s is attached to domain %s; detach it first", bdf, domid);
		free(domid);
		return -EBUSY;
	}
	return 0;
}

/* Refuse a device dom0 is using unless --force. */
static int usage_check(struct pci_env *e, const struct pci_addr *a, const char *bdf)
{
	char why[1024];
	int n = pci_dom0_usage(e, a, why, sizeof(why));

	if (n <= 0)
		return 0;
	/* one line: reasons separated by "; " */
	char joined[1100], *o = joined;
	for (const char *p = why; *p && o < joined + sizeof(joined) - 3; p++) {
		if (*p == '\n') {
			*o++ = ';';
			*o++ = ' ';
		} else {
			*o++ = *p;
		}
	}
	*o = 0;
	if (!e->force) {
		pci_error(e, "%s is in use by dom0: %s; refusing without --force", bdf, joined);
		return -EBUSY;
	}
	pci_warn(e, "taking %s although dom0 uses it (--force): %s", bdf, joined);
	return 0;
}

int pci_assignable_add(struct pci_env *e, const struct pci_addr *a, const char *name)
{
	char bdf[PCI_BDF_TEXT_MAX], *drv = NULL, *stored = NULL, *resumed;
	int rc;

	pci_addr_sysfs(a, bdf);
	rc = add_precheck(e, a, name, bdf);
	if (rc)
		return rc;
	{
		char xb[PCI_BDF_TEXT_MAX];
		pci_addr_xs(a, xb);
		resumed = pci_xs_read(e, PCI_XS_INTENT "/%s/intent", xb);
		char op[24], step[24];
		if (resumed && sscanf(resumed, "%23s %23s", op, step) == 2) {
			if (!strcmp(op, "add"))
				pci_info(e, "%s: finishing the interrupted pci-assignable-add (stopped before "
					    "step '%s')", bdf, step);
			else
				pci_info(e, "%s: a pci-assignable-remove stopped before step '%s'; adding "
					    "the device back instead", bdf, step);
		}
		free(resumed);
	}

	if (pci_in_pciback(e, a)) {
		pci_warn(e, "%s already assigned to pciback", bdf);
		goto name;
	}
	rc = usage_check(e, a, bdf);
	if (rc)
		return rc;

	rc = intent_set(e, a, "add", "record-driver");
	if (rc)
		return rc;
	drv = pci_current_driver(e, a);
	if (drv) {
		char *xs = pci_driver_path_to_xs(drv);
		rc = xs ? info_write(e, a, "driver_path", xs) : -ENOMEM;
		free(xs);
		if (rc)
			goto out;
		rc = intent_set(e, a, "add", "unbind");
		if (!rc)
			rc = write_step(e, a, drv, "unbind", "unbind");
		if (rc)
			goto out;
	} else if ((stored = info_read(e, a, "driver_path"))) {
		pci_info(e, "%s not bound to a driver, will be rebound to %s", bdf, stored);
	} else {
		pci_warn(e, "%s not bound to a driver, will not be rebound", bdf);
	}

	rc = pci_slot_count(e, a);
	if (rc < 0) {
		pci_error(e, "couldn't read " PCI_SYSFS_PCIBACK "/slots: %s", strerror(-rc));
		goto out;
	}
	if (rc == 0) {
		/* pciback lists a BDF once per write: never write it twice */
		rc = intent_set(e, a, "add", "new_slot");
		if (!rc)
			rc = write_step(e, a, PCI_SYSFS_PCIBACK, "new_slot", "add a pciback slot for");
		if (rc)
			goto out;
	}
	rc = intent_set(e, a, "add", "bind");
	if (!rc)
		rc = write_step(e, a, PCI_SYSFS_PCIBACK, "bind", "bind to pciback");
	if (rc)
		goto out;

name:
	rc = name ? info_write(e, a, "name", name) : info_rm(e, a, "name");
	if (rc)
		goto out;
	rc = intent_set(e, a, "add", "quarantine");
	if (rc)
		goto out;
	rc = e->hv->assign(e->hv_h, PCI_DOMID_IO, pci_addr_sbdf(a), RDM_RELAXED);
	if (pci_no_iommu(rc)) {
		pci_warn(e, "the hypervisor offers no quarantine (no IOMMU): %s is not quarantined", bdf);
		rc = 0;
	} else if (rc) {
		pci_error(e, "failed to quarantine %s: %s", bdf, strerror(-rc));
		goto out;
	}
	rc = intent_clear(e, a);
out:
	if (rc)
		pci_error(e, "%s: pci-assignable-add stopped; run it again to finish, or "
			  "pci-assignable-remove -r %s to undo", bdf, bdf);
	free(drv);
	free(stored);
	return rc;
}

int pci_assignable_remove_addr(struct pci_env *e, const struct pci_addr *a, bool rebind)
{
	const char *op = rebind ? "remove-rebind" : "remove";
	char bdf[PCI_BDF_TEXT_MAX], *domid, *dp = NULL, *cur = NULL;
	int rc;

	pci_addr_sysfs(a, bdf);
	if (a->all_funcs) {
		pci_error(e, "%.10s*: pci-assignable-remove takes one function, not '*'", bdf);
		return -EINVAL;
	}
	domid = info_read(e, a, "domid");
	if (domid) {
		pci_error(e, "%s is attached to domain %s; detach it first (pci-detach %s %s)", bdf, domid,
			  domid, bdf);
		free(domid);
		return -EBUSY;
	}

	rc = intent_set(e, a, op, "dequarantine");
	if (rc)
		return rc;
	rc = e->hv->deassign(e->hv_h, PCI_DOMID_IO, pci_addr_sbdf(a));
	if (rc == -ENODEV) {
		pci_info(e, "%s was not quarantined", bdf);
	} else if (rc && !pci_no_iommu(rc)) {
		pci_error(e, "failed to de-quarantine %s: %s", bdf, strerror(-rc));
		goto out;
	}
	rc = 0;

	if (pci_in_pciback(e, a)) {
		rc = intent_set(e, a, op, "unbind");
		if (!rc)
			rc = write_step(e, a, PCI_SYSFS_PCIBACK, "unbind", "unbind from pciback");
		if (rc)
			goto out;
	} else {
		pci_warn(e, "Not bound to pciback");
	}
	if (pci_pciback_loaded(e)) {
		/* also after an add that stopped between new_slot and bind */
		for (int guard = 0; guard < 16 && (rc = pci_slot_count(e, a)) > 0; guard++) {
			rc = intent_set(e, a, op, "remove_slot");
			if (!rc)
				rc = write_step(e, a, PCI_SYSFS_PCIBACK, "remove_slot",
						"remove the pciback slot of");
			if (rc)
				goto out;
		}
		if (rc < 0)
			goto out;
	}

	dp = info_read(e, a, "driver_path");
	if (rebind) {
		cur = pci_current_driver(e, a);
		if (cur) {
			pci_info(e, "%s is bound to /sys/%s already; not rebinding", bdf, cur);
			if (dp && (rc = info_rm(e, a, "driver_path")))
				goto out;
		} else if (dp) {
			const char *rel = pci_driver_path_from_xs(dp);
			if (!rel) {
				pci_error(e, "recorded driver path '%s' is not under /sys", dp);
				rc = -EINVAL;
				goto out;
			}
			pci_info(e, "Rebinding to driver at %s", dp);
			rc = intent_set(e, a, op, "rebind");
			if (!rc)
				rc = write_step(e, a, rel, "bind", "rebind");
			if (rc)
				goto out;
			rc = info_rm(e, a, "driver_path");
			if (rc)
				goto out;
		} else {
			pci_warn(e, "Couldn't find path for original driver; not rebinding");
		}
	}
	rc = info_rm(e, a, "name");
	if (!rc)
		rc = intent_clear(e, a);
out:
	if (rc)
		pci_error(e, "%s: pci-assignable-remove stopped; run it again to finish", bdf);
	free(dp);
	free(cur);
	return rc;
}

int pci_assignable_remove(struct pci_env *e, const char *which, bool rebind)
{
	struct pci_addr a;
	char err[160];

	if (pci_name_lookup(e, which, &a) == 0)
		return pci_assignable_remove_addr(e, &a, rebind);
	if (pci_parse_bdf(which, &a, err, sizeof(err))) {
		pci_error(e, "'%s' is neither the name of an assignable device nor a BDF (%s)", which, err);
		return -EINVAL;
	}
	return pci_assignable_remove_addr(e, &a, rebind);
}

static int addr_cmp(const void *x, const void *y)
{
	const struct pci_addr *a = x, *b = y;

	return (int)(pci_addr_sbdf(a) > pci_addr_sbdf(b)) - (int)(pci_addr_sbdf(a) < pci_addr_sbdf(b));
}

static int list_interrupted(struct pci_env *e, struct pci_interrupted **out, size_t *nout)
{
	unsigned n = 0;
	char **keys = e->store->list(e->store_h, PCI_XS_INTENT, &n);
	struct pci_interrupted *v = calloc(n + 1, sizeof(*v));
	size_t k = 0;

	if (!v) {
		pci_strv_free(keys);
		return -ENOMEM;
	}
	for (unsigned i = 0; keys && keys[i]; i++) {
		struct pci_interrupted *it = &v[k];
		char *intent, *dp, *cur;
		if (!pci_parse_xs_name(keys[i], &it->addr))
			continue;
		intent = pci_xs_read(e, PCI_XS_INTENT "/%s/intent", keys[i]);
		if (!intent)
			continue;
		if (sscanf(intent, "%23s %23s", it->op, it->step) != 2) {
			free(intent);
			continue;
		}
		free(intent);
		dp = info_read(e, &it->addr, "driver_path");
		cur = pci_current_driver(e, &it->addr);
		snprintf(it->driver_path, sizeof(it->driver_path), "%s", dp ? dp : "");
		snprintf(it->driver, sizeof(it->driver), "%s", cur ? cur : "");
		free(dp);
		free(cur);
		k++;
	}
	pci_strv_free(keys);
	qsort(v, k, sizeof(*v), addr_cmp);
	*out = v;
	*nout = k;
	return 0;
}

int pci_assignable_list(struct pci_env *e, struct pci_assignable **list, size_t *n,
			struct pci_interrupted **intr, size_t *nintr)
{
	char **ents;
	struct pci_assignable *v = NULL;
	size_t k = 0;
	int rc = 0;

	if (intr && (rc = list_interrupted(e, intr, nintr)))
		return rc;
	if (!list)
		return 0;
	*list = NULL;
	*n = 0;
	ents = e->host->readdir(e->host_h, PCI_SYS, PCI_SYSFS_PCIBACK);
	if (!ents) {
		pci_error(e, "Looks like pciback driver is not loaded");
		return -ENOENT;
	}
	for (size_t i = 0; ents[i]; i++) {
		struct pci_addr a;
		char *domid, *name;
		if (!pci_parse_sysfs_name(ents[i], &a))
			continue;
		domid = info_read(e, &a, "domid");
		bool attached = domid != NULL;
		free(domid);
		if (attached)
			continue; /* attached to a guest */
		struct pci_assignable *nv = realloc(v, (k + 1) * sizeof(*v));
		if (!nv) {
			rc = -ENOMEM;
			break;
		}
		v = nv;
		v[k].addr = a;
		name = info_read(e, &a, "name");
		snprintf(v[k].name, sizeof(v[k].name), "%s", name ? name : "");
		free(name);
		k++;
	}
	pci_strv_free(ents);
	if (rc) {
		free(v);
		return rc;
	}
	if (k)
		qsort(v, k, sizeof(*v), addr_cmp);
	*list = v;
	*n = k;
	return 0;
}
