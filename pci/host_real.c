/* The host as it is: files under a sysfs root and a proc root, and
 * getifaddrs() for IPv4 addresses. */
#include "pci/pci_env.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct host_real {
	char *root[2];
};

void *pci_host_real_new(const char *sys_root, const char *proc_root)
{
	struct host_real *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->root[PCI_SYS] = strdup(sys_root ? sys_root : "/sys");
	h->root[PCI_PROC] = strdup(proc_root ? proc_root : "/proc");
	if (!h->root[0] || !h->root[1]) {
		pci_host_real_free(h);
		return NULL;
	}
	/* "/sys/" and "/sys" must give the same canonical prefix. */
	for (int i = 0; i < 2; i++) {
		size_t n = strlen(h->root[i]);
		while (n > 1 && h->root[i][n - 1] == '/')
			h->root[i][--n] = 0;
	}
	return h;
}

void pci_host_real_free(void *hp)
{
	struct host_real *h = hp;

	if (!h)
		return;
	free(h->root[0]);
	free(h->root[1]);
	free(h);
}

static char *full(struct host_real *h, enum pci_root r, const char *path)
{
	char *p;

	if (asprintf(&p, "%s/%s", h->root[r], path) < 0)
		return NULL;
	return p;
}

static char *real_read(void *hp, enum pci_root r, const char *path)
{
	char *p = full(hp, r, path), *buf = NULL;
	size_t len = 0, cap = 0;
	int fd, e;

	if (!p)
		return NULL;
	fd = open(p, O_RDONLY | O_CLOEXEC);
	free(p);
	if (fd < 0)
		return NULL;
	for (;;) {
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap + 8192);
			if (!nb)
				goto fail;
			buf = nb;
			cap += 8192;
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = 0;
	return buf;
fail:
	e = errno;
	close(fd);
	free(buf);
	errno = e;
	return NULL;
}

static int real_write(void *hp, enum pci_root r, const char *path, const char *data)
{
	char *p = full(hp, r, path);
	int fd, rc = 0;

	if (!p)
		return -ENOMEM;
	fd = open(p, O_WRONLY | O_CLOEXEC);
	free(p);
	if (fd < 0)
		return -errno;
	if (write(fd, data, strlen(data)) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

static bool real_exists(void *hp, enum pci_root r, const char *path)
{
	char *p = full(hp, r, path);
	struct stat st;
	bool ok;

	if (!p)
		return false;
	ok = lstat(p, &st) == 0;
	free(p);
	return ok;
}

static char *real_realpath(void *hp, enum pci_root r, const char *path)
{
	struct host_real *h = hp;
	char *p = full(h, r, path), *rp, *rootp, *out = NULL;

	if (!p)
		return NULL;
	rp = realpath(p, NULL);
	free(p);
	rootp = realpath(h->root[r], NULL);
	if (rp && rootp) {
		size_t n = strlen(rootp);
		if (!strcmp(rootp, "/"))
			n = 0;
		if (!strncmp(rp, rootp, n) && rp[n] == '/')
			out = strdup(rp + n + 1);
		else
			errno = EXDEV; /* the link leaves the root */
	}
	free(rp);
	free(rootp);
	return out;
}

static char **real_readdir(void *hp, enum pci_root r, const char *path)
{
	char *p = full(hp, r, path);
	DIR *d;
	struct dirent *de;
	char **v = NULL;
	size_t n = 0;

	if (!p)
		return NULL;
	d = opendir(p);
	free(p);
	if (!d)
		return NULL;
	v = calloc(1, sizeof(*v));
	while (v && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char **nv = realloc(v, (n + 2) * sizeof(*v));
		if (!nv || !(nv[n] = strdup(de->d_name))) {
			pci_strv_free(nv ? nv : v);
			v = NULL;
			break;
		}
		v = nv;
		v[++n] = NULL;
	}
	closedir(d);
	if (!v)
		errno = ENOMEM;
	return v;
}

static int real_ipv4_addrs(void *hp, const char *ifname, char *first, size_t len)
{
	struct ifaddrs *ifa, *i;
	int n = 0;

	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || strcmp(i->ifa_name, ifname))
			continue;
		if (n++ == 0 && first)
			inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, first,
				  (socklen_t)len);
	}
	freeifaddrs(ifa);
	return n;
}

const struct pci_host_ops pci_host_real = {
	.read = real_read,
	.write = real_write,
	.exists = real_exists,
	.realpath = real_realpath,
	.readdir = real_readdir,
	.ipv4_addrs = real_ipv4_addrs,
};

void pci_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

void pci_log(struct pci_env *e, const char *level, const char *fmt, ...)
{
	va_list ap;
	FILE *f = e->err ? e->err : stderr;

	fprintf(f, "%s: ", level);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fflush(f);
}
