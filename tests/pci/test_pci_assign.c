/* pci-assignable-add / -list / -remove against the kernel model, the
 * in-memory xenstore and the emulated libxenctrl. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/pci/world.h"

#define QUARANTINED "device 0000:03:00.0 owner=32753 quarantine=1"

static int setup(void **state)
{
	*state = world_new();
	return 0;
}

static int teardown(void **state)
{
	world_free(*state);
	return 0;
}

static struct pci_addr nic(void)
{
	return world_addr(NIC);
}

/* The device is back where it started: its driver, no slot, no records,
 * no quarantine. */
static void assert_home(struct world *w)
{
	assert_string_equal(km_driver_of(w->k, NIC), "e1000e");
	assert_int_equal(km_slot_count(w->k, NIC), 0);
	assert_int_equal(ms_count(w->m, NIC_XS "/driver_path"), 0);
	assert_int_equal(ms_count(w->m, NIC_XS "/name"), 0);
	assert_int_equal(ms_count(w->m, "/netbackd/pci/0000-03-00-0"), 0);
	assert_int_equal(xcs_lines(w->dir), 0);
}

/* The device is assignable, exactly as after one clean add. */
static void assert_added(struct world *w)
{
	assert_string_equal(km_driver_of(w->k, NIC), "pciback");
	assert_int_equal(km_slot_count(w->k, NIC), 1);
	assert_string_equal(ms_get(w->m, NIC_XS "/driver_path"), "/sys/bus/pci/drivers/e1000e");
	assert_int_equal(ms_count(w->m, "/netbackd/pci/0000-03-00-0"), 0);
	assert_true(xcs_has(w->dir, QUARANTINED));
}

static void pci_assignable_add_list_remove_rebind(void **state)
{
	struct world *w = *state;
	struct pci_addr a = nic();
	struct pci_assignable *l;
	size_t n;

	assert_int_equal(pci_assignable_add(&w->env, &a, "nic0"), 0);
	assert_added(w);
	assert_string_equal(ms_get(w->m, NIC_XS "/name"), "nic0");
	assert_string_equal(world_err(w), "");
	/* the BDF went to e1000e/unbind, pciback/new_slot and pciback/bind once each */
	assert_int_equal(km_writes_to(w->k, "bus/pci/drivers/e1000e/unbind", NIC), 1);
	assert_int_equal(km_writes_to(w->k, "bus/pci/drivers/pciback/new_slot", NIC), 1);
	assert_int_equal(km_writes_to(w->k, "bus/pci/drivers/pciback/bind", NIC), 1);

	assert_int_equal(pci_assignable_list(&w->env, &l, &n, NULL, NULL), 0);
	assert_int_equal(n, 1);
	assert_true(pci_addr_eq(&l[0].addr, &a));
	assert_string_equal(l[0].name, "nic0");
	free(l);

	assert_int_equal(pci_assignable_remove(&w->env, "nic0", true), 0);
	assert_home(w);
	assert_string_equal(world_err(w), "info: Rebinding to driver at /sys/bus/pci/drivers/e1000e\n");
	assert_int_equal(pci_assignable_list(&w->env, &l, &n, NULL, NULL), 0);
	assert_int_equal(n, 0);
	free(l);
}

static void pci_assignable_add_twice_keeps_one_slot(void **state)
{
	struct world *w = *state;
	struct pci_addr a = nic();

	assert_int_equal(pci_assignable_add(&w->env, &a, NULL), 0);
	assert_int_equal(pci_assignable_add(&w->env, &a, NULL), 0);
	assert_string_equal(world_err(w), "warning: 0000:03:00.0 already assigned to pciback\n");
	assert_added(w);
	assert_int_equal(km_writes_to(w->k, "bus/pci/drivers/pciback/new_slot", NIC), 1);
}

static void pci_assignable_add_existing_slot_not_duplicated(void **state)
{
	struct world *w = *state;
	struct pci_addr a = nic();

	/* pciback.hide= or an earlier hand-made slot */
	assert_int_equal(kmodel_ops.write(w->k, PCI_SYS, "bus/pci/drivers/pciback/new_slot", NIC), 0);
	assert_int_equal(pci_assignable_add(&w->env, &a, NULL), 0);
	assert_added(w);
	assert_int_equal(km_writes_to(w->k, "bus/pci/drivers/pciback/new_slot", NIC), 1);
}

static void pci_assignable_remove_without_rebind_keeps_record(void **state)
{
	struct world *w = *state;
	struct pci_addr a = nic();

	assert_int_equal(pci_assignable_add(&w->env, &a, "nic0"), 0);
	assert_int_equal(pci_assignable_remove(&w->env, NIC, false), 0);
	assert_null(km_driver_of(w->k, NIC));
	assert_int_equal(km_slot_count(w->k, NIC), 0);
	assert_string_equal(ms_get(w->m, NIC_XS "/driver_path"), "/sys/bus/pci/drivers/e1000e");
	assert_null(ms_get(w->m, NIC_XS "/name"));
	assert_int_equal(xcs_lines(w->dir), 0);
	/* the kept record brings it home later */
	world_reset_msgs(w);
	assert_int_equal(pci_assignable_remove(&w->env, NIC, true), 0);
	assert_string_equal(world_err(w), "info: 0000:03:00.0 was not quarantined\n"
					  "warning: Not bound to pciback\n"
					  "info: Rebinding to driver at /sys/bus/pci/drivers/e1000e\n");
	assert_home(w);
}

static void pci_assignable_add_unbound_device(void **state)
{
	struct world *w = *state;
	struct pci_addr a = world_addr(BARE);

	assert_int_equal(pci_assignable_add(&w->env, &a, NULL), 0);
	assert_string_equal(world_err(w), "warning: 0000:04:00.0 not bound to a driver, will not be rebound\n");
	assert_string_equal(km_driver_of(w->k, BARE), "pciback");
	assert_null(ms_get(w->m, "/libxl/pci/0000-04-00-0/driver_path"));
	world_reset_msgs(w);
	assert_int_equal(pci_assignable_remove(&w->env, BARE, true), 0);
	assert_string_equal(world_err(w), "warning: Couldn't find path for original driver; not rebinding\n");
	assert_null(km_driver_of(w->k, BARE));
	assert_int_equal(km_slot_count(w->k, BARE), 0);
}

static void pci_assignable_list_sees_foreign_and_skips_attached(void **state)
{
	struct world *w = *state;
	struct pci_assignable *l;
	size_t n;

	/* bound by hand in sysfs, as the wiki tells people to */
	assert_int_equal(kmodel_ops.write(w->k, PCI_SYS, "bus/pci/drivers/pciback/new_slot", BARE), 0);
	assert_int_equal(kmodel_ops.write(w->k, PCI_SYS, "bus/pci/drivers/pciback/bind", BARE), 0);
	assert_int_equal(pci_assignable_list(&w->env, &l, &n, NULL, NULL), 0);
	assert_int_equal(n, 1);
	assert_int_equal(l[0].addr.bus, 4);
	free(l);
	ms_put(w->m, "/libxl/pci/0000-04-00-0/domid", "5");
	assert_int_equal(pci_assignable_list(&w->env, &l, &n, NULL, NULL), 0);
	assert_int_equal(n, 0);
	free(l);
	/* and remove refuses it while a guest has it */
	assert_int_equal(pci_assignable_remove(&w->env, BARE, true), -EBUSY);
	assert_string_equal(world_err(w), "error: 0000:04:00.0 is attached to domain 5; detach it first "
					  "(pci-detach 5 0000:04:00.0)\n");
	assert_string_equal(km_driver_of(w->k, BARE), "pciback");
}

static void pci_assignable_add_refuses_dom0_nic(void **state)
{
	struct world *w = *state;
	struct pci_addr a = nic();

	km_add_netif(w->k, NIC, "eth0", true);
	km_add_ipv4(w->k, "eth0", "10.0.0.2");
	assert_int_equal(pci_assignable_add(&w->env, &a, NULL), -EBUSY);
	assert_string_equal(world_err(w), "error: 0000:03:00.0 is in use by dom0: network interface eth0 "
					  "is up with address 10.0.0.2; refusing without --force\n");
	assert_string_equal(km_driver_of(w->k, NIC), "e1000e");
	assert_int_equal(ms_count(w->m, "/libxl"), 0);
	assert_int_equal(ms_count(w->m, "/netbackd"), 0);

	world_reset_msgs(w);
	w->env.force = true;
	assert_int_equal(pci_assignable_add(&w->env, &a, NULL), 0);
	assert_string_equal(world_err(w), "warning: taking 0000:03:00.0 although dom0 uses it (--force): "
					  "network interface eth0 is up with address 10.0.0.2\n");
	assert_added(w);
}

struct usage_case {
	const char *what;
	void (*setup)(struct world *w);
	const char *why; /* "" = free */
};

static void u_down_with_addr(struct world *w)
{
	km_add_netif(w->k, NIC, "eth0", false);
	km_add_ipv4(w->k, "eth0", "10.0.0.2");
}
static void u_up_no_addr(struct world *w)
{
	km_add_netif(w->k, NIC, "eth0", true);
	km_set_file(w->k, PCI_PROC, "net/if_inet6",
		    "fe800000000000000211aafffe000001 02 40 20 80     eth0\n");
	km_set_file(w->k, PCI_PROC, "net/ipv6_route",
		    "fe800000000000000000000000000000 40 00000000000000000000000000000000 00 "
		    "00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0\n");
}
static void u_up_route(struct world *w)
{
	km_add_netif(w->k, NIC, "eth1", true);
	km_set_file(w->k, PCI_PROC, "net/route",
		    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
		    "eth1\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n");
}
static void u_up_ipv6(struct world *w)
{
	km_add_netif(w->k, NIC, "eth0", true);
	km_set_file(w->k, PCI_PROC, "net/if_inet6",
		    "20010db8000000000000000000000002 02 40 00 80     eth0\n");
}
static void u_mounted(struct world *w)
{
	km_add_block(w->k, NIC, "sda", "8:0\n", NULL);
	km_add_block(w->k, NIC, "sda1", "8:1\n", "sda");
	km_set_file(w->k, PCI_PROC, "self/mountinfo",
		    "22 1 0:21 / /proc rw - proc proc rw\n"
		    "25 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n");
}
static void u_swap(struct world *w)
{
	km_add_block(w->k, NIC, "sda", "8:0\n", NULL);
	km_add_block(w->k, NIC, "sda2", "8:2\n", "sda");
	km_set_file(w->k, PCI_PROC, "swaps",
		    "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
		    "/dev/sda2                               partition\t999420\t\t0\t\t-2\n");
}
static void u_dm_holder(struct world *w)
{
	km_add_block(w->k, NIC, "sdb", "8:16\n", NULL);
	km_add_holder(w->k, "sdb", "dm-0", "254:0\n");
	km_set_file(w->k, PCI_PROC, "self/mountinfo", "30 1 254:0 / /srv rw - xfs /dev/mapper/vg-srv rw\n");
}
static void u_unmounted_disk(struct world *w)
{
	km_add_block(w->k, NIC, "sdc", "8:32\n", NULL);
	km_set_file(w->k, PCI_PROC, "self/mountinfo", "25 1 8:1 / / rw - ext4 /dev/sda1 rw\n");
}
static void u_boot_vga(struct world *w)
{
	km_set_file(w->k, PCI_SYS, "devices/pci0000:00/" NIC "/boot_vga", "1\n");
}
static void u_other_device_nic(struct world *w)
{
	/* eth0 belongs to another device: none of our business */
	km_add_device(w->k, "0000:05:00.0", "e1000e", true);
	km_add_netif(w->k, "0000:05:00.0", "eth0", true);
	km_add_ipv4(w->k, "eth0", "10.0.0.2");
}

static void pci_dom0_usage_table(void **state)
{
	static const struct usage_case cases[] = {
		{ "nic down with an address", u_down_with_addr, "" },
		{ "nic up, link-local only", u_up_no_addr, "" },
		{ "nic up with a route", u_up_route, "network interface eth1 is up with 1 route" },
		{ "nic up with a global ipv6", u_up_ipv6,
		  "network interface eth0 is up with address 2001:0db8:0000:0000:0000:0000:0000:0002" },
		{ "mounted partition", u_mounted, "block device sda1 is mounted on /" },
		{ "swap partition", u_swap, "block device sda2 is active swap" },
		{ "dm holder mounted", u_dm_holder, "block device dm-0 is mounted on /srv" },
		{ "disk not mounted", u_unmounted_disk, "" },
		{ "boot vga", u_boot_vga, "it is the boot VGA device (boot_vga=1), dom0's console" },
		{ "another device's nic", u_other_device_nic, "" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct world *w = world_new();
		struct pci_addr a = nic();
		char why[512];
		print_message("  %s\n", cases[i].what);
		cases[i].setup(w);
		int n = pci_dom0_usage(&w->env, &a, why, sizeof(why));
		assert_int_equal(n, cases[i].why[0] ? 1 : 0);
		assert_string_equal(why, cases[i].why);
		world_free(w);
	}
}

static void pci_assignable_add_without_pciback(void **state)
{
	struct kmodel *k = km_new();
	struct world *w = *state;
	struct pci_addr a = nic();

	km_add_driver(k, "e1000e");
	km_add_device(k, NIC, "e1000e", true);
	w->env.host_h = k;
	assert_int_equal(pci_assignable_add(&w->env, &a, NULL), -ENOENT);
	assert_string_equal(world_err(w), "error: Looks like pciback driver is not loaded\n");
	assert_string_equal(km_driver_of(k, NIC), "e1000e");
	w->env.host_h = w->k;
	km_free(k);
}

static void pci_assignable_add_bad_inputs(void **state)
{
	struct world *w = *state;
	struct pci_addr a = world_addr("0000:09:00.0");

	assert_int_equal(pci_assignable_add(&w->env, &a, NULL), -ENODEV);
	assert_string_equal(world_err(w), "error: no PCI device 0000:09:00.0 "
					  "(bus/pci/devices/0000:09:00.0 does not exist)\n");
	world_reset_msgs(w);
	a = nic();
	assert_int_equal(pci_assignable_add(&w->env, &a, "two words"), -EINVAL);
	assert_string_equal(world_err(w), "error: invalid name 'two words': only printable characters "
					  "without spaces allowed\n");
	world_reset_msgs(w);
	assert_int_equal(pci_assignable_remove(&w->env, "nosuchname", true), -EINVAL);
	assert_string_equal(world_err(w), "error: 'nosuchname' is neither the name of an assignable "
					  "device nor a BDF (invalid BDF 'nosuchname': expected [DDDD:]BB:DD.F)\n");
}

static bool add_finished(struct world *w);
static bool home(struct world *w);

/* After any crash: nothing is lost, and the state is finished, untouched,
 * or reported by pci-assignable-list. */
static void assert_crash_invariants(struct world *w, const char *op, bool finished, bool untouched)
{
	struct pci_interrupted *in;
	size_t nin;
	const char *intent = ms_get(w->m, "/netbackd/pci/0000-03-00-0/intent");

	if (!km_driver_of(w->k, NIC))
		assert_string_equal(ms_get(w->m, NIC_XS "/driver_path"), "/sys/bus/pci/drivers/e1000e");
	assert_int_equal(pci_assignable_list(&w->env, NULL, NULL, &in, &nin), 0);
	if (intent) {
		assert_int_equal(nin, 1);
		assert_string_equal(in[0].op, op);
		assert_true(pci_addr_eq(&in[0].addr, &(struct pci_addr){ 0, 3, 0, 0, false }));
	} else {
		assert_int_equal(nin, 0);
		assert_true(finished || untouched);
	}
	free(in);
}

static bool add_finished(struct world *w)
{
	const char *d = km_driver_of(w->k, NIC);
	return d && !strcmp(d, "pciback") && xcs_has(w->dir, QUARANTINED);
}

static bool home(struct world *w)
{
	const char *d = km_driver_of(w->k, NIC);
	return d && !strcmp(d, "e1000e") && km_slot_count(w->k, NIC) == 0 && xcs_lines(w->dir) == 0 &&
	       !ms_get(w->m, NIC_XS "/driver_path");
}

/* Crash add at every step (before and after the step takes effect), then
 * finish it by re-running add, or undo it with remove -r. */
static void pci_assignable_add_crash_every_step(void **state)
{
	int last = 0;

	for (int at = 1; at < 64; at++) {
		bool covered = false;
		for (int after = 0; after < 2; after++) {
			for (int undo = 0; undo < 2; undo++) {
				struct world *w = world_new();
				struct pci_addr a = nic();
				w->crash.at = at;
				w->crash.after = after;
				int rc = pci_assignable_add(&w->env, &a, "nic0");
				if (!w->crash.crashed) {
					assert_int_equal(rc, 0);
					world_free(w);
					continue;
				}
				covered = true;
				assert_int_not_equal(rc, 0);
				world_restart(w);
				assert_crash_invariants(w, "add", add_finished(w), home(w));
				if (undo) {
					assert_int_equal(pci_assignable_remove(&w->env, NIC, true), 0);
					assert_home(w);
				} else {
					assert_int_equal(pci_assignable_add(&w->env, &a, "nic0"), 0);
					assert_added(w);
					assert_string_equal(ms_get(w->m, NIC_XS "/name"), "nic0");
				}
				world_free(w);
			}
		}
		if (!covered)
			break;
		last = at;
	}
	/* intent, driver_path, intent, unbind, intent, new_slot, intent, bind,
	 * name, intent, quarantine, clear intent */
	assert_int_equal(last, 12);
}

static void pci_assignable_remove_crash_every_step(void **state)
{
	int last = 0;

	for (int at = 1; at < 64; at++) {
		bool covered = false;
		for (int after = 0; after < 2; after++) {
			struct world *w = world_new();
			struct pci_addr a = nic();
			assert_int_equal(pci_assignable_add(&w->env, &a, "nic0"), 0);
			w->crash.steps = 0;
			w->crash.at = at;
			w->crash.after = after;
			int rc = pci_assignable_remove(&w->env, "nic0", true);
			if (!w->crash.crashed) {
				assert_int_equal(rc, 0);
				assert_home(w);
				world_free(w);
				continue;
			}
			covered = true;
			assert_int_not_equal(rc, 0);
			world_restart(w);
			assert_crash_invariants(w, "remove-rebind", home(w), add_finished(w));
			/* the name may be gone already: the BDF always works */
			assert_int_equal(pci_assignable_remove(&w->env, NIC, true), 0);
			assert_home(w);
			world_free(w);
		}
		if (!covered)
			break;
		last = at;
	}
	/* intent, dequarantine, intent, unbind, intent, remove_slot, intent,
	 * rebind, rm driver_path, rm name, clear intent */
	assert_int_equal(last, 11);
}

static void pci_assignable_list_reports_interrupted(void **state)
{
	struct world *w = *state;
	struct pci_addr a = nic();
	struct pci_interrupted *in;
	size_t nin;

	w->crash.at = 5; /* about to write new_slot: unbound, driver on record */
	assert_int_not_equal(pci_assignable_add(&w->env, &a, NULL), 0);
	world_restart(w);
	assert_int_equal(pci_assignable_list(&w->env, NULL, NULL, &in, &nin), 0);
	assert_int_equal(nin, 1);
	assert_string_equal(in[0].op, "add");
	assert_string_equal(in[0].step, "unbind");
	assert_string_equal(in[0].driver, "");
	assert_string_equal(in[0].driver_path, "/sys/bus/pci/drivers/e1000e");
	free(in);
}

/* What xl leaves behind (its own sysfs steps and xenstore nodes) is what
 * remove -r undoes; what add leaves is exactly the nodes xl reads. */
static void pci_assignable_interop_with_xl_state(void **state)
{
	struct world *w = *state;
	struct pci_addr a = nic();

	/* xl pci-assignable-add -n nic0 03:00.0, done by hand */
	assert_int_equal(kmodel_ops.write(w->k, PCI_SYS, "bus/pci/drivers/e1000e/unbind", NIC), 0);
	ms_put(w->m, NIC_XS "/driver_path", "/sys/bus/pci/drivers/e1000e");
	assert_int_equal(kmodel_ops.write(w->k, PCI_SYS, "bus/pci/drivers/pciback/new_slot", NIC), 0);
	assert_int_equal(kmodel_ops.write(w->k, PCI_SYS, "bus/pci/drivers/pciback/bind", NIC), 0);
	ms_put(w->m, NIC_XS "/name", "nic0");
	assert_int_equal(pci_assignable_remove(&w->env, "nic0", true), 0);
	assert_string_equal(km_driver_of(w->k, NIC), "e1000e");
	assert_int_equal(ms_count(w->m, NIC_XS), 1); /* the empty directory xl leaves too */

	assert_int_equal(pci_assignable_add(&w->env, &a, "nic0"), 0);
	assert_int_equal(ms_count(w->m, NIC_XS), 3);
	assert_string_equal(ms_get(w->m, NIC_XS "/driver_path"), "/sys/bus/pci/drivers/e1000e");
	assert_string_equal(ms_get(w->m, NIC_XS "/name"), "nic0");
}

/* Xen without an IOMMU (as under QEMU's TCG) refuses quarantine with
 * EOPNOTSUPP: the device is still made assignable, with a warning. */
static void pci_assignable_add_without_iommu(void **state)
{
	struct world *w = *state;
	struct pci_addr a = nic();
	char p[320];

	snprintf(p, sizeof(p), "%s/xenctrl.state", w->dir);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs("noiommu\n", f);
	fclose(f);
	assert_int_equal(pci_assignable_add(&w->env, &a, NULL), 0);
	assert_string_equal(world_err(w), "warning: the hypervisor offers no quarantine (no IOMMU): "
					  "0000:03:00.0 is not quarantined\n");
	assert_string_equal(km_driver_of(w->k, NIC), "pciback");
	assert_int_equal(ms_count(w->m, "/netbackd/pci/0000-03-00-0"), 0);
	assert_false(xcs_has(w->dir, QUARANTINED));
	world_reset_msgs(w);
	assert_int_equal(pci_assignable_remove(&w->env, NIC, true), 0);
	assert_string_equal(world_err(w), "info: Rebinding to driver at /sys/bus/pci/drivers/e1000e\n");
	assert_string_equal(km_driver_of(w->k, NIC), "e1000e");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(pci_assignable_add_list_remove_rebind, setup, teardown),
		cmocka_unit_test_setup_teardown(pci_assignable_add_twice_keeps_one_slot, setup, teardown),
		cmocka_unit_test_setup_teardown(pci_assignable_add_existing_slot_not_duplicated, setup, teardown),
		cmocka_unit_test_setup_teardown(pci_assignable_remove_without_rebind_keeps_record, setup, teardown),
		cmocka_unit_test_setup_teardown(pci_assignable_add_unbound_device, setup, teardown),
		cmocka_unit_test_setup_teardown(pci_assignable_list_sees_foreign_and_skips_attached, setup, teardown),
		cmocka_unit_test_setup_teardown(pci_assignable_add_refuses_dom0_nic, setup, teardown),
		cmocka_unit_test(pci_dom0_usage_table),
		cmocka_unit_test_setup_teardown(pci_assignable_add_without_pciback, setup, teardown),
		cmocka_unit_test_setup_teardown(pci_assignable_add_bad_inputs, setup, teardown),
		cmocka_unit_test(pci_assignable_add_crash_every_step),
		cmocka_unit_test(pci_assignable_remove_crash_every_step),
		cmocka_unit_test_setup_teardown(pci_assignable_list_reports_interrupted, setup, teardown),
		cmocka_unit_test_setup_teardown(pci_assignable_interop_with_xl_state, setup, teardown),
		cmocka_unit_test_setup_teardown(pci_assignable_add_without_iommu, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
