/* pci-attach / pci-detach / pci-list for PV guests: the steps of libxl's
 * PV path (assignable check, owner record, reset, iomem/ioport/irq
 * permissions, permissive, hypervisor assignment) and the pciback xenstore
 * protocol:
 *
 *   /local/domain/0/backend/pci/<domid>/0
 *       frontend frontend-id online=1 state domain num_devs
 *       key-N dev-N [vdevfn-N] [name-N] opts-N state-N
 *   /local/domain/<domid>/device/pci/0
 *       backend backend-id=0 state=1
 *
 * Hot-adding to a backend pciback has connected sets state=7
 * (Reconfiguring) for pciback to pick the new device up (to one still
 * Initialising, the device just joins the list); removing marks
 * state-N=5 (Closing) and state=7, waits for pciback to go back to 4
 * (Connected), then drops the entry and renumbers the rest, as xl does.
 * HVM guests get their devices through QEMU, which is xl's business. */
#include "pci/pci.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define XB_INITIALISING 1
#define XB_CONNECTED 4
#define XB_CLOSING 5
#define XB_RECONFIGURING 7
#define IORESOURCE_IO 0x100ull
#define NUM_RESOURCES 7 /* BARs 0-5 and the ROM, as libxl reads them */
#define PAGE_SHIFT 12

struct attach_opts {
	int permissive, msitranslate, power_mgmt, seize;
	enum pci_rdm_policy rdm;
	const char *name;
};

static void be_path(char *out, size_t len, uint32_t domid)
{
	snprintf(out, len, "/local/domain/0/backend/pci/%u/0", domid);
}

static int check_domain(struct pci_env *e, uint32_t domid, const char *what)
{
	int t = e->hv->domain_type(e->hv_h, domid);

	if (t == -ESRCH) {
		pci_error(e, "domain %u does not exist", domid);
		return t;
	}
	if (t < 0) {
		pci_error(e, "cannot get the type of domain %u: %s", domid, strerror(-t));
		return t;
	}
	if (t == PCI_DOM_HVM) {
		pci_error(e, "domain %u is an HVM guest: its PCI devices are emulated by its device "
			     "model (QEMU), so %s is xl's job (xl %s)", domid, what, what);
		return -EOPNOTSUPP;
	}
	return 0;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* Poll the backend state until it is want (pciback moves it). */
static int wait_state(struct pci_env *e, const char *be, int want)
{
	for (unsigned waited = 0;; waited += 20) {
		char *s = pci_xs_read(e, "%s/state", be);
		int v = s ? atoi(s) : -1;
		free(s);
		if (v == want)
			return 0;
		if (waited >= e->wait_ms)
			return v;
		sleep_ms(20);
	}
}

static int write_kv(struct pci_env *e, const char *dir, const char *key, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	return e->store->write(e->store_h, path, val);
}

/* Grant (allow) or revoke the device's BARs and legacy IRQ. */
static int io_permissions(struct pci_env *e, uint32_t domid, const struct pci_addr *a, bool allow)
{
	char bdf[PCI_BDF_TEXT_MAX], path[96], *res, *line, *save, *irqs;
	int rc = 0, r;

	pci_addr_sysfs(a, bdf);
	snprintf(path, sizeof(path), PCI_SYSFS_DEVICES "/%s/resource", bdf);
	res = e->host->read(e->host_h, PCI_SYS, path);
	if (!res) {
		pci_error(e, "couldn't read %s: %s", path, strerror(errno));
		return allow ? -errno : 0;
	}
	line = strtok_r(res, "\n", &save);
	for (int i = 0; line && i < NUM_RESOURCES; i++, line = strtok_r(NULL, "\n", &save)) {
		unsigned long long start, end, flags;
		if (sscanf(line, "%llx %llx %llx", &start, &end, &flags) != 3 || !start || end < start)
			continue;
		unsigned long long size = end - start + 1;
		if (flags & IORESOURCE_IO)
			r = e->hv->ioport(e->hv_h, domid, (uint32_t)start, (uint32_t)size, allow);
		else
			r = e->hv->iomem(e->hv_h, domid, (unsigned long)(start >> PAGE_SHIFT),
					 (unsigned long)((size + (1ull << PAGE_SHIFT) - 1) >> PAGE_SHIFT), allow);
		if (r) {
			pci_error(e, "%s %s 0x%llx/0x%llx for domain %u: %s", allow ? "granting" : "revoking",
				  flags & IORESOURCE_IO ? "ioport" : "iomem", start, size, domid, strerror(-r));
			if (allow) {
				free(res);
				return r;
			}
			rc = r;
		}
	}
	free(res);

	snprintf(path, sizeof(path), PCI_SYSFS_DEVICES "/%s/irq", bdf);
	irqs = e->host->read(e->host_h, PCI_SYS, path);
	int irq = irqs ? atoi(irqs) : 0;
	free(irqs);
	if (irq <= 0)
		return rc;
	if (allow) {
		int pirq = irq;
		r = e->hv->map_pirq(e->hv_h, domid, irq, &pirq);
		if (!r)
			r = e->hv->irq(e->hv_h, domid, (uint32_t)pirq, true);
		if (r)
			pci_error(e, "granting irq %d to domain %u: %s", irq, domid, strerror(-r));
		return r;
	}
	r = e->hv->unmap_pirq(e->hv_h, domid, irq);
	if (r)
		pci_error(e, "xc_physdev_unmap_pirq irq=%d for domain %u: %s", irq, domid, strerror(-r));
	r = e->hv->irq(e->hv_h, domid, (uint32_t)irq, false);
	if (r)
		pci_error(e, "revoking irq %d from domain %u: %s", irq, domid, strerror(-r));
	return rc;
}

/* Function-level reset, through pciback when it offers do_flr. */
static void reset_device(struct pci_env *e, const struct pci_addr *a)
{
	char bdf[PCI_BDF_TEXT_MAX], path[96];

	if (e->host->exists(e->host_h, PCI_SYS, PCI_SYSFS_PCIBACK "/do_flr") &&
	    pci_sysfs_write_bdf(e, PCI_SYSFS_PCIBACK "/do_flr", a) == 0)
		return;
	pci_addr_sysfs(a, bdf);
	snprintf(path, sizeof(path), PCI_SYSFS_DEVICES "/%s/reset", bdf);
	if (!e->host->exists(e->host_h, PCI_SYS, path)) {
		pci_warn(e, "The kernel doesn't support reset from sysfs for PCI device %s", bdf);
		return;
	}
	int rc = e->host->write(e->host_h, PCI_SYS, path, "1");
	if (rc)
		pci_warn(e, "reset of %s failed: %s", bdf, strerror(-rc));
}

static int xs_add_device(struct pci_env *e, uint32_t domid, const struct pci_addr *a, unsigned vdevfn,
			 const struct attach_opts *o)
{
	char be[96], fe[96], bdf[PCI_BDF_TEXT_MAX], key[32], val[128], *nd, *dname;
	int num, rc;

	be_path(be, sizeof(be), domid);
	snprintf(fe, sizeof(fe), "/local/domain/%u/device/pci/0", domid);
	pci_addr_sysfs(a, bdf);
	nd = pci_xs_read(e, "%s/num_devs", be);
	num = nd ? atoi(nd) : 0;
	/* A backend still Initialising has not been read by pciback: more
	 * devices simply join it. A live one must be Connected before it is
	 * asked to reconfigure (xl waits the same way). */
	char *st = nd ? pci_xs_read(e, "%s/state", be) : NULL;
	bool live = st && atoi(st) != XB_INITIALISING;
	free(st);
	if (live && (rc = wait_state(e, be, XB_CONNECTED)) != 0) {
		pci_error(e, "pci backend at %s is not ready (state %d, waiting for %d)", be, rc,
			  XB_CONNECTED);
		free(nd);
		return -ETIMEDOUT;
	}
	dname = pci_xs_read(e, "/local/domain/%u/name", domid);
	for (int tries = 0; tries < 16; tries++) {
		rc = e->store->begin(e->store_h);
		if (rc)
			break;
		if (!nd) {
			/* first device: the backend and frontend directories */
			char id[16];
			snprintf(id, sizeof(id), "%u", domid);
			e->store->rm(e->store_h, be);
			rc = e->store->mkdir_perms(e->store_h, be, 0, domid);
			rc = rc ?: write_kv(e, be, "frontend", fe);
			rc = rc ?: write_kv(e, be, "frontend-id", id);
			rc = rc ?: write_kv(e, be, "online", "1");
			rc = rc ?: write_kv(e, be, "state", "1");
			if (dname)
				rc = rc ?: write_kv(e, be, "domain", dname);
			e->store->rm(e->store_h, fe);
			rc = rc ?: e->store->mkdir_perms(e->store_h, fe, domid, 0);
			rc = rc ?: write_kv(e, fe, "backend", be);
			rc = rc ?: write_kv(e, fe, "backend-id", "0");
			rc = rc ?: write_kv(e, fe, "state", "1");
		}
		snprintf(key, sizeof(key), "key-%d", num);
		rc = rc ?: write_kv(e, be, key, bdf);
		snprintf(key, sizeof(key), "dev-%d", num);
		rc = rc ?: write_kv(e, be, key, bdf);
		if (vdevfn) {
			snprintf(key, sizeof(key), "vdevfn-%d", num);
			snprintf(val, sizeof(val), "%x", vdevfn);
			rc = rc ?: write_kv(e, be, key, val);
		}
		if (o->name && *o->name) {
			snprintf(key, sizeof(key), "name-%d", num);
			rc = rc ?: write_kv(e, be, key, o->name);
		}
		snprintf(key, sizeof(key), "opts-%d", num);
		snprintf(val, sizeof(val), "msitranslate=%d,power_mgmt=%d,permissive=%d,rdm_policy=%s",
			 o->msitranslate, o->power_mgmt, o->permissive, pci_rdm_policy_name(o->rdm));
		rc = rc ?: write_kv(e, be, key, val);
		snprintf(key, sizeof(key), "state-%d", num);
		rc = rc ?: write_kv(e, be, key, "1");
		snprintf(val, sizeof(val), "%d", num + 1);
		rc = rc ?: write_kv(e, be, "num_devs", val);
		if (live)
			rc = rc ?: write_kv(e, be, "state", "7");
		int c = e->store->commit(e->store_h, rc != 0);
		if (rc)
			break;
		if (c != -EAGAIN) {
			rc = c;
			break;
		}
	}
	if (rc)
		pci_error(e, "writing %s: %s", be, strerror(-rc));
	free(nd);
	free(dname);
	return rc;
}

static int attach_one(struct pci_env *e, uint32_t domid, const struct pci_addr *a, unsigned vdevfn,
		      const struct attach_opts *o)
{
	char bdf[PCI_BDF_TEXT_MAX], id[16], *p, *owner;
	int rc;

	pci_addr_sysfs(a, bdf);
	if (o->seize && !pci_in_pciback(e, a)) {
		rc = pci_assignable_add(e, a, NULL);
		if (rc)
			return rc;
	}
	p = pci_xs_info_path(a, "domid");
	if (!p)
		return -ENOMEM;
	owner = e->store->read(e->store_h, p);
	if (owner || !pci_in_pciback(e, a)) {
		if (owner)
			pci_error(e, "PCI device %s is not assignable: attached to domain %s", bdf, owner);
		else
			pci_error(e, "PCI device %s is not assignable (not bound to pciback; "
				     "pci-assignable-add it or use seize=1)", bdf);
		free(owner);
		free(p);
		return -EBUSY;
	}
	snprintf(id, sizeof(id), "%u", domid);
	rc = e->store->write(e->store_h, p, id);
	if (rc) {
		pci_error(e, "cannot write %s: %s", p, strerror(-rc));
		free(p);
		return rc;
	}
	reset_device(e, a);
	rc = io_permissions(e, domid, a, true);
	if (rc)
		goto fail;
	if (o->permissive) {
		pci_warn(e, "%s is attached in permissive mode: domain %u may write any PCI "
			    "configuration register of the device; use it only for a device and guest "
			    "you trust", bdf, domid);
		rc = pci_sysfs_write_bdf(e, PCI_SYSFS_PCIBACK "/permissive", a);
		if (rc) {
			pci_error(e, "Setting permissive for device %s: %s", bdf, strerror(-rc));
			goto fail;
		}
	}
	rc = e->hv->assign(e->hv_h, domid, pci_addr_sbdf(a), o->rdm == PCI_RDM_RELAXED ? 1u : 0u);
	if (pci_no_iommu(rc)) {
		pci_warn(e, "the hypervisor has no IOMMU: domain %u's DMA through %s is not confined",
			 domid, bdf);
		rc = 0;
	} else if (rc) {
		pci_error(e, "xc_assign_device %s to domain %u failed: %s", bdf, domid, strerror(-rc));
		goto fail;
	}
	rc = xs_add_device(e, domid, a, vdevfn, o);
	if (rc) {
		e->hv->deassign(e->hv_h, domid, pci_addr_sbdf(a));
		goto fail;
	}
	free(p);
	return 0;
fail:
	io_permissions(e, domid, a, false);
	e->store->rm(e->store_h, p);
	free(p);
	return rc;
}

static unsigned functions_present(struct pci_env *e, const struct pci_addr *a)
{
	char **ents = e->host->readdir(e->host_h, PCI_SYS, PCI_SYSFS_DEVICES);
	unsigned mask = 0;

	for (size_t i = 0; ents && ents[i]; i++) {
		struct pci_addr f;
		if (pci_parse_sysfs_name(ents[i], &f) && f.domain == a->domain && f.bus == a->bus &&
		    f.dev == a->dev)
			mask |= 1u << f.func;
	}
	pci_strv_free(ents);
	return mask;
}

static int pick(const struct pci_opt *o, int def)
{
	return o->set ? o->val : def;
}

int pci_attach(struct pci_env *e, uint32_t domid, const struct pci_spec *spec,
	       const struct pci_domain_defaults *defs)
{
	static const struct pci_domain_defaults none;
	struct attach_opts o;
	struct pci_addr a;
	int rc;

	if (!defs)
		defs = &none;
	rc = check_domain(e, domid, "pci-attach");
	if (rc)
		return rc;
	if (spec->has_addr) {
		a = spec->addr;
	} else if (pci_name_lookup(e, spec->name, &a)) {
		pci_error(e, "no assignable device is named '%s'", spec->name);
		return -ENOENT;
	}
	o = (struct attach_opts){
		.permissive = pick(&spec->permissive, defs->permissive),
		.msitranslate = pick(&spec->msitranslate, defs->msitranslate),
		.power_mgmt = pick(&spec->power_mgmt, defs->power_mgmt),
		.seize = pick(&spec->seize, defs->seize),
		.rdm = spec->rdm_set ? spec->rdm_policy : PCI_RDM_STRICT,
		.name = spec->name,
	};
	unsigned vslot_fn = spec->has_vslot ? (unsigned)spec->vslot << 3 : 0;
	if (!a.all_funcs)
		return attach_one(e, domid, &a, vslot_fn, &o);

	if (!spec->has_vslot) {
		pci_error(e, "Must specify a v-slot for multi-function devices");
		return -EINVAL;
	}
	unsigned mask = functions_present(e, &a);
	if (!mask) {
		pci_error(e, "no functions of %04x:%02x:%02x.* exist", a.domain, a.bus, a.dev);
		return -ENODEV;
	}
	/* every function must be assignable before any is attached */
	for (int f = 0; f < 8; f++) {
		struct pci_addr fa = a;
		fa.all_funcs = false;
		fa.func = (uint8_t)f;
		if ((mask & (1u << f)) && !o.seize && !pci_in_pciback(e, &fa)) {
			char bdf[PCI_BDF_TEXT_MAX];
			pci_addr_sysfs(&fa, bdf);
			pci_error(e, "%s is not assigned to pciback driver", bdf);
			return -EBUSY;
		}
	}
	/* xl's order: the highest function first */
	for (int f = 7; f >= 0; f--) {
		struct pci_addr fa = a;
		if (!(mask & (1u << f)))
			continue;
		fa.all_funcs = false;
		fa.func = (uint8_t)f;
		rc = attach_one(e, domid, &fa, vslot_fn | (unsigned)f, &o);
		if (rc)
			return rc;
	}
	return 0;
}

static void parse_opts(const char *s, struct pci_attached *d)
{
	char *copy = strdup(s), *save, *kv;

	for (kv = copy ? strtok_r(copy, ",", &save) : NULL; kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		if (!eq)
			continue;
		*eq = 0;
		if (!strcmp(kv, "msitranslate"))
			d->msitranslate = atoi(eq + 1);
		else if (!strcmp(kv, "power_mgmt"))
			d->power_mgmt = atoi(eq + 1);
		else if (!strcmp(kv, "permissive"))
			d->permissive = atoi(eq + 1);
		else if (!strcmp(kv, "rdm_policy"))
			d->rdm_policy = strcmp(eq + 1, "relaxed") ? PCI_RDM_STRICT : PCI_RDM_RELAXED;
	}
	free(copy);
}

int pci_list_attached(struct pci_env *e, uint32_t domid, struct pci_attached **out, size_t *n)
{
	char be[96], *nd, *s;
	int num;
	struct pci_attached *v;

	*out = NULL;
	*n = 0;
	be_path(be, sizeof(be), domid);
	nd = pci_xs_read(e, "%s/num_devs", be);
	num = nd ? atoi(nd) : 0;
	free(nd);
	if (num <= 0 || num > 256)
		return 0;
	v = calloc((size_t)num, sizeof(*v));
	if (!v)
		return -ENOMEM;
	size_t k = 0;
	for (int i = 0; i < num; i++) {
		struct pci_attached *d = &v[k];
		s = pci_xs_read(e, "%s/dev-%d", be, i);
		bool ok = s && pci_parse_sysfs_name(s, &d->addr);
		free(s);
		if (!ok)
			continue;
		s = pci_xs_read(e, "%s/vdevfn-%d", be, i);
		d->vdevfn = s ? (unsigned)strtoul(s, NULL, 16) : 0;
		free(s);
		s = pci_xs_read(e, "%s/name-%d", be, i);
		snprintf(d->name, sizeof(d->name), "%s", s ? s : "");
		free(s);
		s = pci_xs_read(e, "%s/opts-%d", be, i);
		if (s)
			parse_opts(s, d);
		free(s);
		s = pci_xs_read(e, "%s/state-%d", be, i);
		d->state = s ? atoi(s) : -1;
		free(s);
		k++;
	}
	*out = v;
	*n = k;
	return 0;
}

static const char *const dev_keys[] = { "state", "key", "dev", "vdev", "opts", "vdevfn", "name" };

/* Drop entry i and move the ones after it down, in one transaction. */
static int xs_remove_device(struct pci_env *e, const char *be, const char *fe, int i, int num)
{
	char path[160], to[160], val[16];
	int rc = 0;

	if (num == 1) {
		rc = e->store->rm(e->store_h, be);
		int r2 = e->store->rm(e->store_h, fe);
		return rc ? rc : r2;
	}
	for (int tries = 0; tries < 16; tries++) {
		rc = e->store->begin(e->store_h);
		if (rc)
			return rc;
		for (size_t k = 0; !rc && k < sizeof(dev_keys) / sizeof(dev_keys[0]); k++) {
			snprintf(path, sizeof(path), "%s/%s-%d", be, dev_keys[k], i);
			rc = e->store->rm(e->store_h, path);
		}
		for (int j = i + 1; !rc && j < num; j++)
			for (size_t k = 0; !rc && k < sizeof(dev_keys) / sizeof(dev_keys[0]); k++) {
				char *v = pci_xs_read(e, "%s/%s-%d", be, dev_keys[k], j);
				if (!v)
					continue;
				snprintf(to, sizeof(to), "%s/%s-%d", be, dev_keys[k], j - 1);
				snprintf(path, sizeof(path), "%s/%s-%d", be, dev_keys[k], j);
				rc = e->store->write(e->store_h, to, v);
				rc = rc ?: e->store->rm(e->store_h, path);
				free(v);
			}
		snprintf(val, sizeof(val), "%d", num - 1);
		rc = rc ?: write_kv(e, be, "num_devs", val);
		int c = e->store->commit(e->store_h, rc != 0);
		if (rc || c != -EAGAIN)
			return rc ? rc : c;
	}
	return -EAGAIN;
}

static int detach_one(struct pci_env *e, uint32_t domid, const struct pci_addr *a)
{
	char be[96], fe[96], bdf[PCI_BDF_TEXT_MAX], key[32], *nd, *st;
	int num, i, rc;

	be_path(be, sizeof(be), domid);
	snprintf(fe, sizeof(fe), "/local/domain/%u/device/pci/0", domid);
	pci_addr_sysfs(a, bdf);
	nd = pci_xs_read(e, "%s/num_devs", be);
	num = nd ? atoi(nd) : 0;
	free(nd);
	for (i = 0; i < num; i++) {
		char *d = pci_xs_read(e, "%s/dev-%d", be, i);
		struct pci_addr da;
		bool match = d && pci_parse_sysfs_name(d, &da) && pci_addr_eq(&da, a);
		free(d);
		if (match)
			break;
	}
	if (i >= num) {
		pci_error(e, "PCI device %s is not attached to domain %u", bdf, domid);
		return -ENOENT;
	}

	st = pci_xs_read(e, "%s/state", be);
	int state = st ? atoi(st) : -1;
	free(st);
	if (state == XB_INITIALISING) {
		/* no pciback instance serves it yet: nothing to hand-shake with */
	} else if ((rc = wait_state(e, be, XB_CONNECTED)) != 0 && !e->force) {
		pci_error(e, "pci backend at %s is not ready (state %d); --force detaches anyway", be, rc);
		return -ETIMEDOUT;
	} else if (rc == 0) {
		for (int tries = 0; tries < 16; tries++) {
			rc = e->store->begin(e->store_h);
			snprintf(key, sizeof(key), "state-%d", i);
			rc = rc ?: write_kv(e, be, key, "5");
			rc = rc ?: write_kv(e, be, "state", "7");
			int c = e->store->commit(e->store_h, rc != 0);
			if (rc || c != -EAGAIN) {
				rc = rc ? rc : c;
				break;
			}
		}
		if (rc)
			return rc;
		if ((rc = wait_state(e, be, XB_CONNECTED)) != 0 && !e->force) {
			pci_error(e, "pci backend at %s did not release %s (state %d); --force detaches "
				     "anyway", be, bdf, rc);
			return -ETIMEDOUT;
		}
	} else {
		pci_warn(e, "pci backend at %s is not ready; detaching %s anyway (--force)", be, bdf);
	}

	io_permissions(e, domid, a, false);
	reset_device(e, a);
	rc = e->hv->deassign(e->hv_h, domid, pci_addr_sbdf(a));
	if (rc && !pci_no_iommu(rc))
		pci_error(e, "xc_deassign_device %s from domain %u failed: %s", bdf, domid, strerror(-rc));
	rc = xs_remove_device(e, be, fe, i, num);
	if (rc) {
		pci_error(e, "removing %s from %s: %s", bdf, be, strerror(-rc));
		return rc;
	}
	char *p = pci_xs_info_path(a, "domid");
	rc = p ? e->store->rm(e->store_h, p) : -ENOMEM;
	free(p);
	return rc;
}

int pci_detach(struct pci_env *e, uint32_t domid, const struct pci_addr *a)
{
	int rc = check_domain(e, domid, "pci-detach");
	struct pci_attached *l;
	size_t n;

	if (rc)
		return rc;
	if (!a->all_funcs)
		return detach_one(e, domid, a);
	rc = pci_list_attached(e, domid, &l, &n);
	if (rc)
		return rc;
	int found = 0;
	for (size_t i = n; i-- > 0 && !rc;) {
		if (l[i].addr.domain != a->domain || l[i].addr.bus != a->bus || l[i].addr.dev != a->dev)
			continue;
		found++;
		rc = detach_one(e, domid, &l[i].addr);
	}
	free(l);
	if (!rc && !found) {
		pci_error(e, "no function of %04x:%02x:%02x.* is attached to domain %u", a->domain, a->bus,
			  a->dev, domid);
		rc = -ENOENT;
	}
	return rc;
}
