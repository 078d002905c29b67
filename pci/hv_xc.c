/* pci_hv_ops over libxenctrl. On the emulator the same calls land in
 * sim/xenctrl's libxenctrl.so.4.17. */
#include "pci/pci_env.h"

#include <errno.h>
#include <stdlib.h>
#include <xenctrl.h>

struct hv_xc {
	xc_interface *xch;
};

void *pci_hv_xc_new(void)
{
	return calloc(1, sizeof(struct hv_xc));
}

void pci_hv_xc_free(void *h)
{
	struct hv_xc *x = h;

	if (!x)
		return;
	if (x->xch)
		xc_interface_close(x->xch);
	free(x);
}

static xc_interface *xch(void *h)
{
	struct hv_xc *x = h;

	if (!x->xch)
		x->xch = xc_interface_open(NULL, NULL, 0);
	return x->xch;
}

/* libxenctrl returns -1 with errno set. */
#define XC_CALL(h, call)                           \
	do {                                       \
		xc_interface *c_ = xch(h);         \
		if (!c_)                           \
			return -(errno ? errno : ENXIO); \
		return (call) < 0 ? -errno : 0;    \
	} while (0)

static int x_assign(void *h, uint32_t domid, uint32_t sbdf, uint32_t flags)
{
	XC_CALL(h, xc_assign_device(c_, domid, sbdf, flags));
}

static int x_deassign(void *h, uint32_t domid, uint32_t sbdf)
{
	XC_CALL(h, xc_deassign_device(c_, domid, sbdf));
}

static int x_test_assign(void *h, uint32_t domid, uint32_t sbdf)
{
	XC_CALL(h, xc_test_assign_device(c_, domid, sbdf));
}

static int x_iomem(void *h, uint32_t domid, unsigned long first, unsigned long nr, bool allow)
{
	XC_CALL(h, xc_domain_iomem_permission(c_, domid, first, nr, allow));
}

static int x_ioport(void *h, uint32_t domid, uint32_t first, uint32_t nr, bool allow)
{
	XC_CALL(h, xc_domain_ioport_permission(c_, domid, first, nr, allow));
}

static int x_irq(void *h, uint32_t domid, uint32_t pirq, bool allow)
{
	XC_CALL(h, xc_domain_irq_permission(c_, domid, pirq, allow));
}

static int x_map_pirq(void *h, uint32_t domid, int index, int *pirq)
{
	XC_CALL(h, xc_physdev_map_pirq(c_, domid, index, pirq));
}

static int x_unmap_pirq(void *h, uint32_t domid, int pirq)
{
	XC_CALL(h, xc_physdev_unmap_pirq(c_, domid, pirq));
}

static int x_domain_type(void *h, uint32_t domid)
{
	xc_domaininfo_t info;
	xc_interface *c = xch(h);
	int n;

	if (!c)
		return -(errno ? errno : ENXIO);
	n = xc_domain_getinfolist(c, domid, 1, &info);
	if (n < 0)
		return -errno;
	if (n != 1 || info.domain != domid)
		return -ESRCH;
	return (info.flags & XEN_DOMINF_hvm_guest) ? PCI_DOM_HVM : PCI_DOM_PV;
}

const struct pci_hv_ops pci_hv_xc = {
	.assign = x_assign,
	.deassign = x_deassign,
	.test_assign = x_test_assign,
	.iomem = x_iomem,
	.ioport = x_ioport,
	.irq = x_irq,
	.map_pirq = x_map_pirq,
	.unmap_pirq = x_unmap_pirq,
	.domain_type = x_domain_type,
};
