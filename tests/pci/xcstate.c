#include "tests/pci/xcstate.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static FILE *open_state(const char *dir)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/xenctrl.state", dir);
	return fopen(p, "r");
}

bool xcs_has(const char *dir, const char *line)
{
	FILE *f = open_state(dir);
	char buf[256];
	bool found = false;

	while (f && !found && fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\n")] = 0;
		found = !strcmp(buf, line);
	}
	if (f)
		fclose(f);
	return found;
}

int xcs_lines(const char *dir)
{
	FILE *f = open_state(dir);
	char buf[256];
	int n = 0;

	while (f && fgets(buf, sizeof(buf), f))
		n++;
	if (f)
		fclose(f);
	return n;
}

#define STEP(x)                                         \
	struct xc_crash *c = h;                         \
	int s_ = crash_step(c->crash);                  \
	if (s_ < 0)                                     \
		return -ECANCELED;                      \
	int r_ = (x);                                   \
	return s_ ? -ECANCELED : r_

static int c_assign(void *h, uint32_t d, uint32_t sbdf, uint32_t fl)
{
	STEP(pci_hv_xc.assign(c->real, d, sbdf, fl));
}
static int c_deassign(void *h, uint32_t d, uint32_t sbdf)
{
	STEP(pci_hv_xc.deassign(c->real, d, sbdf));
}
static int c_test_assign(void *h, uint32_t d, uint32_t sbdf)
{
	struct xc_crash *c = h;
	return crash_dead(c->crash) ? -ECANCELED : pci_hv_xc.test_assign(c->real, d, sbdf);
}
static int c_iomem(void *h, uint32_t d, unsigned long f, unsigned long n, bool a)
{
	STEP(pci_hv_xc.iomem(c->real, d, f, n, a));
}
static int c_ioport(void *h, uint32_t d, uint32_t f, uint32_t n, bool a)
{
	STEP(pci_hv_xc.ioport(c->real, d, f, n, a));
}
static int c_irq(void *h, uint32_t d, uint32_t p, bool a)
{
	STEP(pci_hv_xc.irq(c->real, d, p, a));
}
static int c_map_pirq(void *h, uint32_t d, int idx, int *p)
{
	STEP(pci_hv_xc.map_pirq(c->real, d, idx, p));
}
static int c_unmap_pirq(void *h, uint32_t d, int p)
{
	STEP(pci_hv_xc.unmap_pirq(c->real, d, p));
}
static int c_domain_type(void *h, uint32_t d)
{
	struct xc_crash *c = h;
	return crash_dead(c->crash) ? -ECANCELED : pci_hv_xc.domain_type(c->real, d);
}

const struct pci_hv_ops xc_crash_ops = {
	.assign = c_assign,
	.deassign = c_deassign,
	.test_assign = c_test_assign,
	.iomem = c_iomem,
	.ioport = c_ioport,
	.irq = c_irq,
	.map_pirq = c_map_pirq,
	.unmap_pirq = c_unmap_pirq,
	.domain_type = c_domain_type,
};
