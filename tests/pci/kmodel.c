/* In-memory kernel PCI sysfs model; see kmodel.h. */
#include "tests/pci/kmodel.h"

#include "pci/pci_addr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum km_type { KM_FILE, KM_DIR, KM_LINK };

struct km_node {
	enum pci_root root;
	char *path;
	enum km_type type;
	char *data; /* file content or link target */
};

struct km_dev {
	char bdf[16];
	char native[32];
	char driver[32]; /* "" = unbound */
	bool permissive;
	int resets;
};

struct km_write {
	char *path, *data;
};

struct kmodel {
	struct km_node *n;
	size_t nn;
	struct km_dev dev[32];
	size_t ndev;
	char slots[64][16];
	size_t nslots;
	struct { char ifname[32], addr[48]; } v4[16];
	size_t nv4;
	struct km_write *w;
	size_t nw;
	struct crash_plan *crash;
};

static char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		abort();
	return p;
}

static struct km_node *find(struct kmodel *k, enum pci_root r, const char *path)
{
	for (size_t i = 0; i < k->nn; i++)
		if (k->n[i].root == r && !strcmp(k->n[i].path, path))
			return &k->n[i];
	return NULL;
}

static void rm_node(struct kmodel *k, enum pci_root r, const char *path)
{
	struct km_node *n = find(k, r, path);
	if (!n)
		return;
	free(n->path);
	free(n->data);
	*n = k->n[--k->nn];
}

static struct km_node *put(struct kmodel *k, enum pci_root r, const char *path, enum km_type t,
			   const char *data)
{
	struct km_node *n = find(k, r, path);
	char parent[512];
	const char *slash = strrchr(path, '/');

	if (slash) { /* mkdir -p the parent */
		snprintf(parent, sizeof(parent), "%.*s", (int)(slash - path), path);
		if (!find(k, r, parent))
			put(k, r, parent, KM_DIR, NULL);
		n = find(k, r, path);
	}
	if (!n) {
		k->n = realloc(k->n, (k->nn + 1) * sizeof(*k->n));
		if (!k->n)
			abort();
		n = &k->n[k->nn++];
		n->root = r;
		n->path = xstrdup(path);
		n->data = NULL;
	}
	free(n->data);
	n->type = t;
	n->data = data ? xstrdup(data) : NULL;
	return n;
}

struct kmodel *km_new(void)
{
	struct kmodel *k = calloc(1, sizeof(*k));
	if (!k)
		abort();
	put(k, PCI_SYS, "bus/pci/devices", KM_DIR, NULL);
	put(k, PCI_SYS, "bus/pci/drivers", KM_DIR, NULL);
	put(k, PCI_SYS, "class/net", KM_DIR, NULL);
	put(k, PCI_SYS, "class/block", KM_DIR, NULL);
	put(k, PCI_PROC, "self/mountinfo", KM_FILE, "");
	put(k, PCI_PROC, "swaps", KM_FILE, "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
	put(k, PCI_PROC, "net/route", KM_FILE,
	    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n");
	put(k, PCI_PROC, "net/ipv6_route", KM_FILE, "");
	put(k, PCI_PROC, "net/if_inet6", KM_FILE, "");
	return k;
}

void km_free(struct kmodel *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < k->nn; i++) {
		free(k->n[i].path);
		free(k->n[i].data);
	}
	for (size_t i = 0; i < k->nw; i++) {
		free(k->w[i].path);
		free(k->w[i].data);
	}
	free(k->w);
	free(k->n);
	free(k);
}

void km_set_crash(struct kmodel *k, struct crash_plan *c)
{
	k->crash = c;
}

void km_add_driver(struct kmodel *k, const char *name)
{
	char p[128];
	snprintf(p, sizeof(p), "bus/pci/drivers/%s/bind", name);
	put(k, PCI_SYS, p, KM_FILE, "");
	snprintf(p, sizeof(p), "bus/pci/drivers/%s/unbind", name);
	put(k, PCI_SYS, p, KM_FILE, "");
	snprintf(p, sizeof(p), "bus/pci/drivers/%s/uevent", name);
	put(k, PCI_SYS, p, KM_FILE, "");
}

void km_load_pciback(struct kmodel *k)
{
	km_add_driver(k, "pciback");
	put(k, PCI_SYS, "bus/pci/drivers/pciback/new_slot", KM_FILE, "");
	put(k, PCI_SYS, "bus/pci/drivers/pciback/remove_slot", KM_FILE, "");
	put(k, PCI_SYS, "bus/pci/drivers/pciback/slots", KM_FILE, "");
	put(k, PCI_SYS, "bus/pci/drivers/pciback/permissive", KM_FILE, "");
	put(k, PCI_SYS, "bus/pci/drivers/pciback/quirks", KM_FILE, "");
}

static struct km_dev *dev_of(struct kmodel *k, const char *bdf)
{
	for (size_t i = 0; i < k->ndev; i++)
		if (!strcmp(k->dev[i].bdf, bdf))
			return &k->dev[i];
	return NULL;
}

static void link_driver(struct kmodel *k, struct km_dev *d, const char *drv)
{
	char p[400], t[160];
	snprintf(p, sizeof(p), "devices/pci0000:00/%s/driver", d->bdf);
	snprintf(t, sizeof(t), "bus/pci/drivers/%s", drv);
	put(k, PCI_SYS, p, KM_LINK, t);
	snprintf(p, sizeof(p), "bus/pci/drivers/%s/%s", drv, d->bdf);
	snprintf(t, sizeof(t), "devices/pci0000:00/%s", d->bdf);
	put(k, PCI_SYS, p, KM_LINK, t);
	snprintf(d->driver, sizeof(d->driver), "%s", drv);
}

static void unlink_driver(struct kmodel *k, struct km_dev *d)
{
	char p[160];
	snprintf(p, sizeof(p), "devices/pci0000:00/%s/driver", d->bdf);
	rm_node(k, PCI_SYS, p);
	snprintf(p, sizeof(p), "bus/pci/drivers/%s/%s", d->driver, d->bdf);
	rm_node(k, PCI_SYS, p);
	d->driver[0] = 0;
	d->permissive = false; /* pciback forgets it with the device */
}

void km_add_device(struct kmodel *k, const char *bdf, const char *native, bool bind_now)
{
	struct km_dev *d = &k->dev[k->ndev++];
	char p[400], t[160];

	memset(d, 0, sizeof(*d));
	snprintf(d->bdf, sizeof(d->bdf), "%s", bdf);
	snprintf(d->native, sizeof(d->native), "%s", native ? native : "");
	snprintf(t, sizeof(t), "devices/pci0000:00/%s", bdf);
	snprintf(p, sizeof(p), "bus/pci/devices/%s", bdf);
	put(k, PCI_SYS, p, KM_LINK, t);
	const char *attrs[][2] = {
		{ "vendor", "0x8086\n" }, { "device", "0x100e\n" }, { "class", "0x020000\n" },
		{ "irq", "11\n" },        { "enable", "1\n" },      { "reset", "" },
		{ "resource", "0x00000000febc0000 0x00000000febdffff 0x0000000000040200\n"
			      "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
			      "0x000000000000c000 0x000000000000c03f 0x0000000000040101\n"
			      "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
			      "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
			      "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
			      "0x00000000feb80000 0x00000000febbffff 0x0000000000046200\n" },
	};
	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", t, attrs[i][0]);
		put(k, PCI_SYS, p, KM_FILE, attrs[i][1]);
	}
	if (native && bind_now)
		link_driver(k, d, native);
}

void km_set_file(struct kmodel *k, enum pci_root r, const char *path, const char *content)
{
	put(k, r, path, KM_FILE, content);
}

void km_add_netif(struct kmodel *k, const char *bdf, const char *ifname, bool up)
{
	char p[400], t[200];
	snprintf(t, sizeof(t), "devices/pci0000:00/%s/net/%s", bdf, ifname);
	snprintf(p, sizeof(p), "%s/flags", t);
	put(k, PCI_SYS, p, KM_FILE, up ? "0x1003\n" : "0x1002\n");
	snprintf(p, sizeof(p), "class/net/%s", ifname);
	put(k, PCI_SYS, p, KM_LINK, t);
}

void km_add_ipv4(struct kmodel *k, const char *ifname, const char *addr)
{
	snprintf(k->v4[k->nv4].ifname, sizeof(k->v4[0].ifname), "%s", ifname);
	snprintf(k->v4[k->nv4].addr, sizeof(k->v4[0].addr), "%s", addr);
	k->nv4++;
}

void km_add_block(struct kmodel *k, const char *bdf, const char *name, const char *devno,
		  const char *parent)
{
	char p[700], t[300];
	if (parent)
		snprintf(t, sizeof(t), "devices/pci0000:00/%s/ata1/host0/target0:0:0/0:0:0:0/block/%s/%s",
			 bdf, parent, name);
	else
		snprintf(t, sizeof(t), "devices/pci0000:00/%s/ata1/host0/target0:0:0/0:0:0:0/block/%s",
			 bdf, name);
	snprintf(p, sizeof(p), "%s/dev", t);
	put(k, PCI_SYS, p, KM_FILE, devno);
	snprintf(p, sizeof(p), "%s/holders", t);
	put(k, PCI_SYS, p, KM_DIR, NULL);
	snprintf(p, sizeof(p), "class/block/%s", name);
	put(k, PCI_SYS, p, KM_LINK, t);
}

void km_add_holder(struct kmodel *k, const char *lower, const char *holder, const char *devno)
{
	char p[700], t[300];
	snprintf(t, sizeof(t), "devices/virtual/block/%s", holder);
	snprintf(p, sizeof(p), "%s/dev", t);
	put(k, PCI_SYS, p, KM_FILE, devno);
	snprintf(p, sizeof(p), "class/block/%s", holder);
	put(k, PCI_SYS, p, KM_LINK, t);
	snprintf(p, sizeof(p), "class/block/%s/holders", lower);
	/* holders/<holder> lives in the lower device's real directory */
	char *rp = kmodel_ops.realpath(k, PCI_SYS, p);
	if (rp) {
		snprintf(p, sizeof(p), "%s/%s", rp, holder);
		put(k, PCI_SYS, p, KM_LINK, t);
		free(rp);
	}
}

/* Follow links in every component; returns a malloc'd canonical path. */
static char *resolve(struct kmodel *k, enum pci_root r, const char *path, bool follow_last, int depth)
{
	char *copy = xstrdup(path), *save, *comp, cur[1024] = "";

	if (depth > 16) {
		free(copy);
		errno = ELOOP;
		return NULL;
	}
	for (comp = strtok_r(copy, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		char cand[1024];
		bool last = !save || !*save;
		snprintf(cand, sizeof(cand), "%s%s%s", cur, *cur ? "/" : "", comp);
		struct km_node *n = find(k, r, cand);
		if (!n) {
			free(copy);
			errno = ENOENT;
			return NULL;
		}
		if (n->type == KM_LINK && (!last || follow_last)) {
			char *t = resolve(k, r, n->data, true, depth + 1);
			if (!t) {
				free(copy);
				return NULL;
			}
			snprintf(cur, sizeof(cur), "%s", t);
			free(t);
		} else {
			snprintf(cur, sizeof(cur), "%s", cand);
		}
	}
	free(copy);
	return xstrdup(cur);
}

static char *slots_text(struct kmodel *k)
{
	char *buf = calloc(1, 64 * 16 + 1);
	if (!buf)
		abort();
	for (size_t i = 0; i < k->nslots; i++) {
		strcat(buf, k->slots[i]);
		strcat(buf, "\n");
	}
	return buf;
}

static char *permissive_text(struct kmodel *k)
{
	char *buf = calloc(1, 32 * 16 + 1);
	if (!buf)
		abort();
	for (size_t i = 0; i < k->ndev; i++)
		if (k->dev[i].permissive) {
			strcat(buf, k->dev[i].bdf);
			strcat(buf, "\n");
		}
	return buf;
}

static char *km_read(void *h, enum pci_root r, const char *path)
{
	struct kmodel *k = h;
	char *rp;
	struct km_node *n;

	if (crash_dead(k->crash)) {
		errno = ECANCELED;
		return NULL;
	}
	rp = resolve(k, r, path, true, 0);
	if (!rp)
		return NULL;
	n = find(k, r, rp);
	if (n->type == KM_DIR) {
		free(rp);
		errno = EISDIR;
		return NULL;
	}
	char *out;
	if (r == PCI_SYS && !strcmp(rp, "bus/pci/drivers/pciback/slots"))
		out = slots_text(k);
	else if (r == PCI_SYS && !strcmp(rp, "bus/pci/drivers/pciback/permissive"))
		out = permissive_text(k);
	else
		out = xstrdup(n->data ? n->data : "");
	free(rp);
	return out;
}

/* The device named by a write to a driver attribute ("0000:03:00.0\n"). */
static struct km_dev *named_dev(struct kmodel *k, const char *data)
{
	char name[32];
	size_t n = strlen(data);
	if (n && data[n - 1] == '\n')
		n--;
	if (n >= sizeof(name))
		return NULL;
	memcpy(name, data, n);
	name[n] = 0;
	return dev_of(k, name);
}

static int slot_index(struct kmodel *k, const char *bdf)
{
	for (size_t i = 0; i < k->nslots; i++)
		if (!strcmp(k->slots[i], bdf))
			return (int)i;
	return -1;
}

static int apply_write(struct kmodel *k, const char *rp, const char *data)
{
	const char *base = strrchr(rp, '/');
	char dir[512];
	struct km_dev *d;

	if (!base)
		return -EACCES;
	snprintf(dir, sizeof(dir), "%.*s", (int)(base - rp), rp);
	base++;
	if (!strncmp(dir, "bus/pci/drivers/", 16) && !strchr(dir + 16, '/')) {
		const char *drv = dir + 16;
		bool pciback = !strcmp(drv, "pciback");
		if (!strcmp(base, "unbind")) {
			d = named_dev(k, data);
			if (!d || strcmp(d->driver, drv))
				return -ENODEV;
			unlink_driver(k, d);
			return 0;
		}
		if (!strcmp(base, "bind")) {
			d = named_dev(k, data);
			if (!d)
				return -ENODEV;
			bool match = pciback ? slot_index(k, d->bdf) >= 0 : !strcmp(d->native, drv);
			if (!match)
				return -ENODEV;
			if (d->driver[0])
				return -EBUSY;
			link_driver(k, d, drv);
			return 0;
		}
		if (pciback && !strcmp(base, "new_slot")) {
			struct pci_addr a;
			char canon[PCI_BDF_TEXT_MAX], tmp[32];
			snprintf(tmp, sizeof(tmp), "%s", data);
			tmp[strcspn(tmp, "\n")] = 0;
			if (pci_parse_bdf(tmp, &a, NULL, 0) || a.all_funcs)
				return -EINVAL;
			pci_addr_sysfs(&a, canon);
			if (k->nslots == 64)
				return -ENOMEM;
			snprintf(k->slots[k->nslots++], 16, "%s", canon);
			return 0;
		}
		if (pciback && !strcmp(base, "remove_slot")) {
			struct pci_addr a;
			char canon[PCI_BDF_TEXT_MAX], tmp[32];
			int i, removed = 0;
			snprintf(tmp, sizeof(tmp), "%s", data);
			tmp[strcspn(tmp, "\n")] = 0;
			if (pci_parse_bdf(tmp, &a, NULL, 0) || a.all_funcs)
				return -EINVAL;
			pci_addr_sysfs(&a, canon);
			while ((i = slot_index(k, canon)) >= 0) {
				memmove(k->slots[i], k->slots[i + 1], (k->nslots - (size_t)i - 1) * 16);
				k->nslots--;
				removed++;
			}
			return removed ? 0 : -ENOENT;
		}
		if (pciback && !strcmp(base, "permissive")) {
			d = named_dev(k, data);
			if (!d || strcmp(d->driver, "pciback"))
				return -ENODEV;
			d->permissive = true;
			return 0;
		}
		return -EACCES;
	}
	if (!strncmp(dir, "devices/pci0000:00/", 19) && !strcmp(base, "reset")) {
		d = dev_of(k, dir + 19);
		if (!d || strcmp(data, "1"))
			return -EINVAL;
		d->resets++;
		return 0;
	}
	return -EACCES; /* plain attributes are read-only */
}

static int km_write(void *h, enum pci_root r, const char *path, const char *data)
{
	struct kmodel *k = h;
	int c = crash_step(k->crash), rc;
	char *rp;

	if (c < 0)
		return -ECANCELED;
	rp = resolve(k, r, path, true, 0);
	if (!rp)
		return -errno;
	rc = r == PCI_SYS ? apply_write(k, rp, data) : -EACCES;
	if (rc == 0) {
		k->w = realloc(k->w, (k->nw + 1) * sizeof(*k->w));
		if (!k->w)
			abort();
		k->w[k->nw].path = xstrdup(rp);
		k->w[k->nw].data = xstrdup(data);
		k->nw++;
	}
	free(rp);
	return c > 0 ? -ECANCELED : rc;
}

static bool km_exists(void *h, enum pci_root r, const char *path)
{
	struct kmodel *k = h;
	char *rp;

	if (crash_dead(k->crash))
		return false;
	rp = resolve(k, r, path, false, 0);
	free(rp);
	return rp != NULL;
}

static char *km_realpath(void *h, enum pci_root r, const char *path)
{
	struct kmodel *k = h;

	if (crash_dead(k->crash)) {
		errno = ECANCELED;
		return NULL;
	}
	return resolve(k, r, path, true, 0);
}

static char **km_readdir(void *h, enum pci_root r, const char *path)
{
	struct kmodel *k = h;
	char *rp;
	char **v;
	size_t n = 0, len;

	if (crash_dead(k->crash)) {
		errno = ECANCELED;
		return NULL;
	}
	rp = resolve(k, r, path, true, 0);
	if (!rp)
		return NULL;
	if (find(k, r, rp)->type != KM_DIR) {
		free(rp);
		errno = ENOTDIR;
		return NULL;
	}
	len = strlen(rp);
	v = calloc(k->nn + 1, sizeof(*v));
	if (!v)
		abort();
	for (size_t i = 0; i < k->nn; i++) {
		const char *p = k->n[i].path;
		if (k->n[i].root == r && !strncmp(p, rp, len) && p[len] == '/' && !strchr(p + len + 1, '/'))
			v[n++] = xstrdup(p + len + 1);
	}
	free(rp);
	return v;
}

static int km_ipv4(void *h, const char *ifname, char *first, size_t len)
{
	struct kmodel *k = h;
	int n = 0;

	for (size_t i = 0; i < k->nv4; i++)
		if (!strcmp(k->v4[i].ifname, ifname) && n++ == 0 && first)
			snprintf(first, len, "%s", k->v4[i].addr);
	return n;
}

const struct pci_host_ops kmodel_ops = {
	.read = km_read,
	.write = km_write,
	.exists = km_exists,
	.realpath = km_realpath,
	.readdir = km_readdir,
	.ipv4_addrs = km_ipv4,
};

const char *km_driver_of(struct kmodel *k, const char *bdf)
{
	struct km_dev *d = dev_of(k, bdf);
	return d && d->driver[0] ? d->driver : NULL;
}

int km_slot_count(struct kmodel *k, const char *bdf)
{
	int n = 0;
	for (size_t i = 0; i < k->nslots; i++)
		n += !strcmp(k->slots[i], bdf);
	return n;
}

bool km_is_permissive(struct kmodel *k, const char *bdf)
{
	struct km_dev *d = dev_of(k, bdf);
	return d && d->permissive;
}

int km_resets(struct kmodel *k, const char *bdf)
{
	struct km_dev *d = dev_of(k, bdf);
	return d ? d->resets : -1;
}

int km_writes_to(struct kmodel *k, const char *path, const char *data)
{
	int n = 0;
	for (size_t i = 0; i < k->nw; i++)
		n += !strcmp(k->w[i].path, path) && !strcmp(k->w[i].data, data);
	return n;
}
