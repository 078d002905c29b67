/* Emulated libxenctrl.so.4.17: the few domctls and physdev ops that PCI
 * pass-through uses, with Xen 4.17's ownership rules, recorded in a text
 * file that tests can read:
 *
 *   $XENSIM_DIR/xenctrl.state   current facts, one per line (rewritten)
 *     device SSSS:BB:DD.F owner=<domid> quarantine=<0|1>
 *     iomem dom=<domid> mfn=0x<first> nr=0x<count>
 *     ioport dom=<domid> port=0x<first> nr=0x<count>
 *     irq dom=<domid> pirq=<pirq>
 *     pirq dom=<domid> index=<gsi> pirq=<pirq>
 *     hvm dom=<domid>              (written by tests: the domain is HVM)
 *     noiommu                      (written by tests: a host without an
 *                                   IOMMU; device domctls fail EOPNOTSUPP
 *                                   as iommu_do_domctl() makes them)
 *   $XENSIM_DIR/xenctrl.log     every call and its result, appended
 *
 * A device not listed is owned by the hardware domain (0). Ownership follows
 * xen/drivers/passthrough/pci.c: assignment is allowed from dom0 or from
 * quarantine (DOMID_IO) only, else EBUSY; test_assign reports EINVAL for a
 * device a guest owns; deassign of a device the domain does not own is
 * ENODEV; a device taken from a guest goes to quarantine (Xen's default
 * iommu=quarantine), one taken from DOMID_IO goes back to dom0.
 *
 * Domain existence comes from the emulator's registry ($XENSIM_DIR/domains)
 * when it exists; without it (a bare directory, as unit tests use) every
 * domid exists and is PV unless an "hvm" line says otherwise. Only the
 * control domain (XENSIM_DOMID=0) may call these, as on Xen. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xenctrl.h>

#include "sim/sim_layout.h"

#define EXPORT __attribute__((visibility("default")))
#define SIM_DOMID_IO 0x7FF1u

struct xc_interface_core {
	char *dir;
	uint32_t self;
};

enum fact_kind { F_DEVICE, F_IOMEM, F_IOPORT, F_IRQ, F_PIRQ, F_HVM, F_NOIOMMU };

struct fact {
	enum fact_kind kind;
	uint32_t dom;   /* device: owner */
	uint64_t a, b;  /* device: sbdf, quarantine; ranges: first, nr; pirq: index, pirq */
};

struct state {
	struct fact *f;
	size_t n, cap;
};

static int add_fact(struct state *s, struct fact f)
{
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 32;
		struct fact *nf = realloc(s->f, nc * sizeof(*nf));
		if (!nf)
			return -ENOMEM;
		s->f = nf;
		s->cap = nc;
	}
	s->f[s->n++] = f;
	return 0;
}

static void del_fact(struct state *s, size_t i)
{
	memmove(&s->f[i], &s->f[i + 1], (s->n - i - 1) * sizeof(*s->f));
	s->n--;
}

static char *path_of(const xc_interface *x, const char *name)
{
	char *p;

	return asprintf(&p, "%s/%s", x->dir, name) < 0 ? NULL : p;
}

static void parse_line(struct state *s, const char *l)
{
	unsigned d, b, dv, fn, owner, q, dom;
	unsigned long first, nr;
	int idx, pirq;
	struct fact f = { 0 };

	if (sscanf(l, "device %x:%x:%x.%x owner=%u quarantine=%u", &d, &b, &dv, &fn, &owner, &q) == 6)
		f = (struct fact){ F_DEVICE, owner, (d << 16) | (b << 8) | (dv << 3) | fn, q };
	else if (sscanf(l, "iomem dom=%u mfn=%lx nr=%lx", &dom, &first, &nr) == 3)
		f = (struct fact){ F_IOMEM, dom, first, nr };
	else if (sscanf(l, "ioport dom=%u port=%lx nr=%lx", &dom, &first, &nr) == 3)
		f = (struct fact){ F_IOPORT, dom, first, nr };
	else if (sscanf(l, "irq dom=%u pirq=%d", &dom, &pirq) == 2)
		f = (struct fact){ F_IRQ, dom, (uint64_t)pirq, 0 };
	else if (sscanf(l, "pirq dom=%u index=%d pirq=%d", &dom, &idx, &pirq) == 3)
		f = (struct fact){ F_PIRQ, dom, (uint64_t)idx, (uint64_t)pirq };
	else if (sscanf(l, "hvm dom=%u", &dom) == 1)
		f = (struct fact){ F_HVM, dom, 0, 0 };
	else if (!strncmp(l, "noiommu", 7))
		f = (struct fact){ F_NOIOMMU, 0, 0, 0 };
	else
		return;
	add_fact(s, f);
}

static void load(const xc_interface *x, struct state *s)
{
	char *p = path_of(x, "xenctrl.state"), line[256];
	FILE *fp = p ? fopen(p, "r") : NULL;

	free(p);
	if (!fp)
		return;
	while (fgets(line, sizeof(line), fp))
		parse_line(s, line);
	fclose(fp);
}

static int save(const xc_interface *x, const struct state *s)
{
	char *p = path_of(x, "xenctrl.state"), *tmp = path_of(x, "xenctrl.state.tmp");
	FILE *fp = tmp ? fopen(tmp, "w") : NULL;
	int rc = 0;

	if (!fp) {
		rc = -errno;
		goto out;
	}
	for (size_t i = 0; i < s->n; i++) {
		const struct fact *f = &s->f[i];
		switch (f->kind) {
		case F_DEVICE:
			if (f->dom == 0 && !f->b)
				break; /* dom0 owning a device is the default */
			fprintf(fp, "device %04x:%02x:%02x.%x owner=%u quarantine=%u\n",
				(unsigned)(f->a >> 16), (unsigned)((f->a >> 8) & 0xff),
				(unsigned)((f->a >> 3) & 0x1f), (unsigned)(f->a & 7), f->dom, (unsigned)f->b);
			break;
		case F_IOMEM:
			fprintf(fp, "iomem dom=%u mfn=0x%" PRIx64 " nr=0x%" PRIx64 "\n", f->dom, f->a, f->b);
			break;
		case F_IOPORT:
			fprintf(fp, "ioport dom=%u port=0x%" PRIx64 " nr=0x%" PRIx64 "\n", f->dom, f->a, f->b);
			break;
		case F_IRQ:
			fprintf(fp, "irq dom=%u pirq=%d\n", f->dom, (int)f->a);
			break;
		case F_PIRQ:
			fprintf(fp, "pirq dom=%u index=%d pirq=%d\n", f->dom, (int)f->a, (int)f->b);
			break;
		case F_HVM:
			fprintf(fp, "hvm dom=%u\n", f->dom);
			break;
		case F_NOIOMMU:
			fprintf(fp, "noiommu\n");
			break;
		}
	}
	if (fclose(fp) != 0 || rename(tmp, p) != 0)
		rc = -errno;
out:
	free(p);
	free(tmp);
	return rc;
}

static void logf_(const xc_interface *x, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void logf_(const xc_interface *x, int rc, const char *fmt, ...)
{
	char *p = path_of(x, "xenctrl.log");
	FILE *fp = p ? fopen(p, "a") : NULL;
	va_list ap;

	free(p);
	if (!fp)
		return;
	va_start(ap, fmt);
	vfprintf(fp, fmt, ap);
	va_end(ap);
	fprintf(fp, " = %d\n", rc);
	fclose(fp);
}

/* The emulator's domain registry, mapped read-only; NULL when there is
 * none (then every domid exists). */
static struct sim_registry *registry_map(const xc_interface *x)
{
	char *p = path_of(x, "domains");
	int fd = p ? open(p, O_RDONLY | O_CLOEXEC) : -1;
	struct sim_registry *reg;

	free(p);
	if (fd < 0)
		return NULL;
	reg = mmap(NULL, sizeof(*reg), PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (reg == MAP_FAILED)
		return NULL;
	if (reg->magic != SIM_MAGIC) {
		munmap(reg, sizeof(*reg));
		return NULL;
	}
	return reg;
}

static void registry_unmap(struct sim_registry *reg)
{
	if (reg)
		munmap(reg, sizeof(*reg));
}

static bool alive_in(const struct sim_registry *reg, uint32_t domid)
{
	return !reg || (domid < SIM_NR_DOMIDS && atomic_load(&reg->dom[domid].state) == SIM_DOM_ALIVE);
}

static bool domain_exists(const xc_interface *x, uint32_t domid)
{
	struct sim_registry *reg = registry_map(x);
	bool ok = alive_in(reg, domid);

	registry_unmap(reg);
	return ok;
}

/* Runs op on the locked, loaded state and saves it when op returns 0.
 * Returns -1 with errno like libxenctrl. */
typedef int (*state_op)(xc_interface *x, struct state *s, void *arg);

static int with_state(xc_interface *x, state_op op, void *arg)
{
	char *lp = path_of(x, "xenctrl.lock");
	int lfd = lp ? open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0644) : -1, rc;
	struct state s = { 0 };

	free(lp);
	if (lfd < 0)
		return -1;
	flock(lfd, LOCK_EX);
	load(x, &s);
	rc = op(x, &s, arg);
	if (rc == 0)
		rc = save(x, &s);
	flock(lfd, LOCK_UN);
	close(lfd);
	free(s.f);
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return 0;
}

static bool no_iommu(const struct state *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->f[i].kind == F_NOIOMMU)
			return true;
	return false;
}

static struct fact *find_device(struct state *s, uint32_t sbdf)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->f[i].kind == F_DEVICE && s->f[i].a == sbdf)
			return &s->f[i];
	return NULL;
}

static struct fact *device(struct state *s, uint32_t sbdf)
{
	struct fact *f = find_device(s, sbdf);

	if (f || add_fact(s, (struct fact){ F_DEVICE, 0, sbdf, 0 }))
		return f;
	return &s->f[s->n - 1];
}

EXPORT xc_interface *xc_interface_open(xentoollog_logger *logger, xentoollog_logger *dombuild_logger,
				       unsigned open_flags)
{
	const char *dir = getenv("XENSIM_DIR"), *dom = getenv("XENSIM_DOMID");
	xc_interface *x;

	if (!dir || !*dir) {
		errno = ENOENT; /* as if /dev/xen/privcmd were missing */
		return NULL;
	}
	x = calloc(1, sizeof(*x));
	if (!x || !(x->dir = strdup(dir))) {
		free(x);
		errno = ENOMEM;
		return NULL;
	}
	x->self = dom ? (uint32_t)strtoul(dom, NULL, 10) : 0;
	return x;
}

EXPORT int xc_interface_close(xc_interface *x)
{
	if (x) {
		free(x->dir);
		free(x);
	}
	return 0;
}

/* Common checks of a domctl aimed at domid. */
static int domctl_check(const xc_interface *x, uint32_t domid, bool io_ok)
{
	if (x->self != 0)
		return -EPERM;
	if (domid == SIM_DOMID_IO)
		return io_ok ? 0 : -ESRCH;
	if (!domain_exists(x, domid))
		return -ESRCH;
	return 0;
}

struct assign_arg {
	uint32_t domid, sbdf, flag;
};

/* What every device (de)assignment checks first: a privileged caller, a
 * live target (or DOMID_IO), an IOMMU, and a target other than ourselves. */
static int assign_check(xc_interface *x, struct state *s, const struct assign_arg *a)
{
	int rc = domctl_check(x, a->domid, true);

	if (rc)
		return rc;
	if (no_iommu(s))
		return -EOPNOTSUPP;
	return a->domid == x->self ? -EINVAL : 0;
}

static int op_assign(xc_interface *x, struct state *s, void *argp)
{
	struct assign_arg *a = argp;
	int rc = assign_check(x, s, a);
	struct fact *d;

	if (rc)
		return rc;
	if (a->flag & ~(uint32_t)XEN_DOMCTL_DEV_RDM_RELAXED)
		return -EINVAL;
	d = device(s, a->sbdf);
	if (!d)
		return -ENOMEM;
	if (d->dom != 0 && d->dom != SIM_DOMID_IO)
		return -EBUSY;
	d->dom = a->domid;
	if (a->domid == SIM_DOMID_IO)
		d->b = 1;
	return 0;
}

static int op_deassign(xc_interface *x, struct state *s, void *argp)
{
	struct assign_arg *a = argp;
	int rc = assign_check(x, s, a);
	struct fact *d;

	if (rc)
		return rc;
	d = find_device(s, a->sbdf);
	if (!d || d->dom != a->domid)
		return -ENODEV;
	if (a->domid == SIM_DOMID_IO) {
		d->dom = 0;
		d->b = 0;
	} else {
		d->dom = SIM_DOMID_IO;
		d->b = 1;
	}
	return 0;
}

static int op_test_assign(xc_interface *x, struct state *s, void *argp)
{
	struct assign_arg *a = argp;
	int rc = assign_check(x, s, a);
	struct fact *d;

	if (rc)
		return rc;
	d = find_device(s, a->sbdf);
	if (d && d->dom != 0 && d->dom != SIM_DOMID_IO)
		return -EINVAL;
	return 1; /* nothing to save */
}

#define SBDF_ARGS(s) (s) >> 16, ((s) >> 8) & 0xff, ((s) >> 3) & 0x1f, (s) & 7

static int finish(const xc_interface *x, int rc, int e)
{
	if (rc < 0)
		errno = e;
	return rc < 0 ? -1 : 0;
}

/* Runs op on the state, logs the call (fmt) with its outcome, and returns
 * as libxenctrl does: 0, or -1 with errno. */
static int run_logged(xc_interface *x, state_op op, void *arg, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int run_logged(xc_interface *x, state_op op, void *arg, const char *fmt, ...)
{
	int rc = with_state(x, op, arg), e = errno;
	char call[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(call, sizeof(call), fmt, ap);
	va_end(ap);
	logf_(x, rc < 0 ? -e : 0, "%s", call);
	return finish(x, rc, e);
}

EXPORT int xc_assign_device(xc_interface *x, uint32_t domid, uint32_t sbdf, uint32_t flag)
{
	struct assign_arg a = { domid, sbdf, flag };

	return run_logged(x, op_assign, &a, "assign dom=%u %04x:%02x:%02x.%x flag=%u",
			  domid, SBDF_ARGS(sbdf), flag);
}

EXPORT int xc_deassign_device(xc_interface *x, uint32_t domid, uint32_t sbdf)
{
	struct assign_arg a = { domid, sbdf, 0 };

	return run_logged(x, op_deassign, &a, "deassign dom=%u %04x:%02x:%02x.%x",
			  domid, SBDF_ARGS(sbdf));
}

EXPORT int xc_test_assign_device(xc_interface *x, uint32_t domid, uint32_t sbdf)
{
	struct assign_arg a = { domid, sbdf, 0 };

	return run_logged(x, op_test_assign, &a, "test_assign dom=%u %04x:%02x:%02x.%x",
			  domid, SBDF_ARGS(sbdf));
}

struct range_arg {
	enum fact_kind kind;
	uint32_t domid;
	uint64_t first, nr;
	bool allow;
};

static int op_range(xc_interface *x, struct state *s, void *argp)
{
	struct range_arg *r = argp;
	int rc = domctl_check(x, r->domid, false);
	uint64_t end = r->first + r->nr;

	if (rc)
		return rc;
	if (r->nr == 0 || end < r->first)
		return -EINVAL;
	/* Take [first, end) out of every range, then add it back if allowed. */
	for (size_t i = 0; i < s->n;) {
		struct fact *f = &s->f[i];
		uint64_t fe = f->a + f->b;
		if (f->kind != r->kind || f->dom != r->domid || fe <= r->first || f->a >= end) {
			i++;
			continue;
		}
		struct fact lo = *f, hi = *f;
		del_fact(s, i);
		if (lo.a < r->first) {
			lo.b = r->first - lo.a;
			if (add_fact(s, lo))
				return -ENOMEM;
		}
		if (fe > end) {
			hi.a = end;
			hi.b = fe - end;
			if (add_fact(s, hi))
				return -ENOMEM;
		}
	}
	if (r->allow && add_fact(s, (struct fact){ r->kind, r->domid, r->first, r->nr }))
		return -ENOMEM;
	return 0;
}

EXPORT int xc_domain_iomem_permission(xc_interface *x, uint32_t domid, unsigned long first_mfn,
				      unsigned long nr_mfns, uint8_t allow_access)
{
	struct range_arg r = { F_IOMEM, domid, first_mfn, nr_mfns, allow_access != 0 };

	return run_logged(x, op_range, &r, "iomem dom=%u mfn=0x%lx nr=0x%lx allow=%u",
			  domid, first_mfn, nr_mfns, allow_access);
}

EXPORT int xc_domain_ioport_permission(xc_interface *x, uint32_t domid, uint32_t first_port,
				       uint32_t nr_ports, uint32_t allow_access)
{
	struct range_arg r = { F_IOPORT, domid, first_port, nr_ports, allow_access != 0 };

	return run_logged(x, op_range, &r, "ioport dom=%u port=0x%x nr=0x%x allow=%u",
			  domid, first_port, nr_ports, allow_access);
}

struct irq_arg {
	uint32_t domid;
	int index;
	int pirq;
	bool allow;
};

static int op_irq(xc_interface *x, struct state *s, void *argp)
{
	struct irq_arg *a = argp;
	int rc = domctl_check(x, a->domid, false);

	if (rc)
		return rc;
	if (a->pirq < 0)
		return -EINVAL;
	for (size_t i = 0; i < s->n; i++)
		if (s->f[i].kind == F_IRQ && s->f[i].dom == a->domid && (int)s->f[i].a == a->pirq) {
			if (!a->allow)
				del_fact(s, i);
			return 0;
		}
	return a->allow ? add_fact(s, (struct fact){ F_IRQ, a->domid, (uint64_t)a->pirq, 0 }) : 0;
}

EXPORT int xc_domain_irq_permission(xc_interface *x, uint32_t domid, uint32_t pirq, bool allow_access)
{
	struct irq_arg a = { domid, 0, (int)pirq, allow_access };

	return run_logged(x, op_irq, &a, "irq dom=%u pirq=%u allow=%d", domid, pirq, allow_access);
}

static int op_map_pirq(xc_interface *x, struct state *s, void *argp)
{
	struct irq_arg *a = argp;
	int rc = domctl_check(x, a->domid, false), maxp = 15;

	if (rc)
		return rc;
	if (a->index < 0)
		return -EINVAL;
	for (size_t i = 0; i < s->n; i++) {
		struct fact *f = &s->f[i];
		if (f->kind != F_PIRQ || f->dom != a->domid)
			continue;
		if ((int)f->a == a->index) {
			a->pirq = (int)f->b; /* already mapped: Xen hands back the same pirq */
			return 0;
		}
		if (a->pirq >= 0 && (int)f->b == a->pirq)
			return -EEXIST;
		if ((int)f->b > maxp)
			maxp = (int)f->b;
	}
	if (a->pirq < 0)
		a->pirq = maxp + 1;
	return add_fact(s, (struct fact){ F_PIRQ, a->domid, (uint64_t)a->index, (uint64_t)a->pirq });
}

EXPORT int xc_physdev_map_pirq(xc_interface *x, uint32_t domid, int index, int *pirq)
{
	struct irq_arg a = { domid, index, pirq ? *pirq : 0, true };
	int rc, e;

	if (!pirq) {
		errno = EINVAL;
		return -1;
	}
	rc = with_state(x, op_map_pirq, &a);
	e = errno;
	logf_(x, rc < 0 ? -e : 0, "map_pirq dom=%u index=%d pirq=%d", domid, index, a.pirq);
	if (rc == 0)
		*pirq = a.pirq;
	return finish(x, rc, e);
}

static int op_unmap_pirq(xc_interface *x, struct state *s, void *argp)
{
	struct irq_arg *a = argp;
	int rc = domctl_check(x, a->domid, false);

	if (rc)
		return rc;
	for (size_t i = 0; i < s->n; i++)
		if (s->f[i].kind == F_PIRQ && s->f[i].dom == a->domid && (int)s->f[i].b == a->pirq) {
			del_fact(s, i);
			return 0;
		}
	return -EINVAL;
}

EXPORT int xc_physdev_unmap_pirq(xc_interface *x, uint32_t domid, int pirq)
{
	struct irq_arg a = { domid, 0, pirq, false };

	return run_logged(x, op_unmap_pirq, &a, "unmap_pirq dom=%u pirq=%d", domid, pirq);
}

struct info_arg {
	uint32_t first;
	unsigned max;
	xc_domaininfo_t *info;
	int n;
};

static int op_getinfo(xc_interface *x, struct state *s, void *argp)
{
	struct info_arg *a = argp;

	struct sim_registry *reg = registry_map(x);

	a->n = 0;
	for (uint32_t d = a->first; d < SIM_NR_DOMIDS && (unsigned)a->n < a->max; d++) {
		if (!alive_in(reg, d))
			continue;
		xc_domaininfo_t *i = &a->info[a->n++];
		memset(i, 0, sizeof(*i));
		i->domain = (domid_t)d;
		i->flags = XEN_DOMINF_running;
		for (size_t k = 0; k < s->n; k++)
			if (s->f[k].kind == F_HVM && s->f[k].dom == d)
				i->flags |= XEN_DOMINF_hvm_guest;
	}
	registry_unmap(reg);
	return 1; /* read only */
}

EXPORT int xc_domain_getinfolist(xc_interface *x, uint32_t first_domain, unsigned int max_domains,
				 xc_domaininfo_t *info)
{
	struct info_arg a = { first_domain, max_domains, info, 0 };

	if (x->self != 0) {
		errno = EPERM;
		return -1;
	}
	if (with_state(x, op_getinfo, &a) < 0)
		return -1;
	return a.n;
}
