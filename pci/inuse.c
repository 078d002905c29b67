/* Is dom0 using this device? xl does not ask; taking the NIC that carries
 * dom0's own address, the disk controller under /, or the boot console
 * leaves the host unreachable. We look for:
 *   - a network interface below the device that is up with an address or
 *     a route (sysfs class/net + getifaddrs + /proc/net/{if_inet6,route,
 *     ipv6_route})
 *   - a block device below the device, or a device-mapper/md holder of
 *     one, that is mounted (/proc/self/mountinfo) or active swap
 *     (/proc/swaps)
 *   - the boot VGA device (boot_vga = 1)
 * "Below the device" means the sysfs path of the interface or disk starts
 * with the device's own sysfs path, which also catches virtio children. */
#include "pci/pci.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct why {
	char *buf;
	size_t len, used;
	int count;
};

static void add_reason(struct why *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_reason(struct why *w, const char *fmt, ...)
{
	va_list ap;

	w->count++;
	if (!w->buf || w->used + 1 >= w->len)
		return;
	if (w->used) {
		w->buf[w->used++] = '\n';
		w->buf[w->used] = 0;
	}
	va_start(ap, fmt);
	int n = vsnprintf(w->buf + w->used, w->len - w->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		w->used += (size_t)n < w->len - w->used ? (size_t)n : w->len - w->used - 1;
}

static bool below(const char *child, const char *dev)
{
	size_t n = strlen(dev);

	return !strncmp(child, dev, n) && child[n] == '/';
}

static char *read_trim(struct pci_env *e, enum pci_root r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static char *read_trim(struct pci_env *e, enum pci_root r, const char *fmt, ...)
{
	va_list ap;
	char *path, *v;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&path, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	v = e->host->read(e->host_h, r, path);
	free(path);
	if (v) {
		size_t l = strlen(v);
		while (l && (v[l - 1] == '\n' || v[l - 1] == ' '))
			v[--l] = 0;
	}
	return v;
}

/* Global or site IPv6 addresses of ifname (link-local ones come with any
 * interface that is up and mean nothing). */
static int ipv6_addrs(struct pci_env *e, const char *ifname, char *first, size_t len)
{
	char *t = e->host->read(e->host_h, PCI_PROC, "net/if_inet6"), *save, *line;
	int n = 0;

	if (!t)
		return 0;
	for (line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char addr[33], name[64];
		unsigned idx, plen, scope, flags;
		if (sscanf(line, "%32s %x %x %x %x %63s", addr, &idx, &plen, &scope, &flags, name) != 6)
			continue;
		if (strcmp(name, ifname) || scope == 0x20 || scope == 0x10)
			continue;
		if (n++ == 0 && first && len > 40) {
			char *o = first;
			for (int i = 0; i < 32; i += 4)
				o += sprintf(o, "%s%.4s", i ? ":" : "", addr + i);
		}
	}
	free(t);
	return n;
}

static int routes(struct pci_env *e, const char *ifname)
{
	char *t, *save, *line;
	int n = 0;

	t = e->host->read(e->host_h, PCI_PROC, "net/route");
	for (line = t ? strtok_r(t, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
		char name[64];
		if (sscanf(line, "%63s", name) == 1 && !strcmp(name, ifname))
			n++; /* the header line says "Iface", never an interface name */
	}
	free(t);
	t = e->host->read(e->host_h, PCI_PROC, "net/ipv6_route");
	for (line = t ? strtok_r(t, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
		const char *name = strrchr(line, ' ');
		/* fe80::/64 and ff00::/8 exist on every IPv6 interface that is up */
		if (!name || strcmp(name + 1, ifname) || !strncmp(line, "fe80", 4) || !strncmp(line, "ff", 2))
			continue;
		n++;
	}
	free(t);
	return n;
}

static void check_net(struct pci_env *e, const char *devpath, struct why *w)
{
	char **ifs = e->host->readdir(e->host_h, PCI_SYS, "class/net");

	for (size_t i = 0; ifs && ifs[i]; i++) {
		char path[300], *rp, *flags, addr[64] = "";
		snprintf(path, sizeof(path), "class/net/%s", ifs[i]);
		rp = e->host->realpath(e->host_h, PCI_SYS, path);
		bool mine = rp && below(rp, devpath);
		free(rp);
		if (!mine)
			continue;
		flags = read_trim(e, PCI_SYS, "class/net/%s/flags", ifs[i]);
		unsigned long f = flags ? strtoul(flags, NULL, 16) : 0;
		free(flags);
		if (!(f & 1u)) /* IFF_UP */
			continue;
		int n4 = e->host->ipv4_addrs(e->host_h, ifs[i], addr, sizeof(addr));
		if (n4 < 0)
			n4 = 0;
		int n6 = ipv6_addrs(e, ifs[i], n4 ? NULL : addr, sizeof(addr));
		int nr = routes(e, ifs[i]);
		if (n4 + n6 > 0)
			add_reason(w, "network interface %s is up with address %s%s", ifs[i], addr,
				   n4 + n6 > 1 ? " (and more)" : "");
		else if (nr > 0)
			add_reason(w, "network interface %s is up with %d route%s", ifs[i], nr,
				   nr > 1 ? "s" : "");
	}
	pci_strv_free(ifs);
}

/* Names of block devices below devpath, plus whatever holds them. */
static size_t collect_blocks(struct pci_env *e, const char *devpath, char ***out)
{
	char **all = e->host->readdir(e->host_h, PCI_SYS, "class/block"), **v = NULL;
	size_t n = 0;

	for (size_t i = 0; all && all[i]; i++) {
		char path[300], *rp;
		snprintf(path, sizeof(path), "class/block/%s", all[i]);
		rp = e->host->realpath(e->host_h, PCI_SYS, path);
		if (rp && below(rp, devpath)) {
			char **nv = realloc(v, (n + 1) * sizeof(*v));
			if (nv) {
				v = nv;
				v[n++] = strdup(all[i]);
			}
		}
		free(rp);
	}
	pci_strv_free(all);
	/* holders (dm, md) of what we have so far, transitively */
	for (size_t k = 0; k < n; k++) {
		char path[300];
		if (!v[k])
			continue;
		snprintf(path, sizeof(path), "class/block/%s/holders", v[k]);
		char **h = e->host->readdir(e->host_h, PCI_SYS, path);
		for (size_t j = 0; h && h[j] && n < 256; j++) {
			bool seen = false;
			for (size_t m = 0; m < n; m++)
				seen |= v[m] && !strcmp(v[m], h[j]);
			if (seen)
				continue;
			char **nv = realloc(v, (n + 1) * sizeof(*v));
			if (nv) {
				v = nv;
				v[n++] = strdup(h[j]);
			}
		}
		pci_strv_free(h);
	}
	*out = v;
	return n;
}

static void check_block(struct pci_env *e, const char *devpath, struct why *w)
{
	char **blk = NULL;
	size_t n = collect_blocks(e, devpath, &blk);
	char *mi = n ? e->host->read(e->host_h, PCI_PROC, "self/mountinfo") : NULL;
	char *sw = n ? e->host->read(e->host_h, PCI_PROC, "swaps") : NULL;

	for (size_t i = 0; i < n; i++) {
		if (!blk[i])
			continue;
		char *devno = read_trim(e, PCI_SYS, "class/block/%s/dev", blk[i]);
		char *copy, *save, *line;
		if (devno && mi && (copy = strdup(mi))) {
			for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
				char mm[32], mnt[256];
				unsigned id, parent;
				if (sscanf(line, "%u %u %31s %*s %255s", &id, &parent, mm, mnt) == 4 &&
				    !strcmp(mm, devno)) {
					add_reason(w, "block device %s is mounted on %s", blk[i], mnt);
					break;
				}
			}
			free(copy);
		}
		if (sw && (copy = strdup(sw))) {
			for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
				char file[256];
				const char *base;
				if (sscanf(line, "%255s", file) != 1)
					continue;
				base = strrchr(file, '/');
				if (base && !strcmp(base + 1, blk[i]) && !strncmp(file, "/dev/", 5)) {
					add_reason(w, "block device %s is active swap", blk[i]);
					break;
				}
			}
			free(copy);
		}
		free(devno);
	}
	for (size_t i = 0; i < n; i++)
		free(blk[i]);
	free(blk);
	free(mi);
	free(sw);
}

int pci_dom0_usage(struct pci_env *e, const struct pci_addr *a, char *why, size_t len)
{
	char bdf[PCI_BDF_TEXT_MAX], path[64], *devpath, *vga;
	struct why w = { why, len, 0, 0 };

	if (why && len)
		why[0] = 0;
	pci_addr_sysfs(a, bdf);
	snprintf(path, sizeof(path), PCI_SYSFS_DEVICES "/%s", bdf);
	devpath = e->host->realpath(e->host_h, PCI_SYS, path);
	if (!devpath)
		return -ENODEV;
	vga = read_trim(e, PCI_SYS, PCI_SYSFS_DEVICES "/%s/boot_vga", bdf);
	if (vga && !strcmp(vga, "1"))
		add_reason(&w, "it is the boot VGA device (boot_vga=1), dom0's console");
	free(vga);
	check_net(e, devpath, &w);
	check_block(e, devpath, &w);
	free(devpath);
	return w.count;
}
