/* The pci-* command line: output formats, exit codes, the interrupted-
 * operation report, and --sysfs-root / NETBACKD_SYSFS_ROOT on a real
 * on-disk tree (the real host implementation). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "pci/pci_cli.h"
#include "tests/pci/world.h"

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

static void pci_cli_parse_text(void **state)
{
	struct world *w = *state;

	assert_int_equal(world_cli(w, "pci-parse", "1:2:3.*@1f,seize=1,rdm_policy=relaxed", NULL), 0);
	assert_string_equal(world_out(w), "bdf: 0001:02:03.* (every function)\n"
					  "vslot: 0x1f (vdevfn 0xf8)\n"
					  "permissive: 0 (default)\n"
					  "msitranslate: 0 (default)\n"
					  "seize: 1\n"
					  "power_mgmt: 0 (default)\n"
					  "rdm_policy: relaxed\n");
}

static void pci_cli_parse_json(void **state)
{
	struct world *w = *state;

	assert_int_equal(world_cli(w, "pci-parse", "--json", "03:00.1@2,permissive=1", NULL), 0);
	assert_string_equal(world_out(w),
			    "{\"bdf\":\"0000:03:00.1\",\"bus\":3,\"device\":0,\"domain\":0,\"function\":1,"
			    "\"msitranslate\":0,\"name\":null,\"permissive\":1,\"power_mgmt\":0,"
			    "\"rdm_policy\":\"strict\",\"seize\":0,\"vdevfn\":16,\"vslot\":2}\n");
}

static void pci_cli_parse_error_exit_codes(void **state)
{
	struct world *w = *state;

	assert_int_equal(world_cli(w, "pci-parse", "03:00.0,colour=blue", NULL), 1);
	assert_string_equal(world_err(w), "error: Unknown PCI_SPEC_STRING option 'colour'\n");
	world_reset_msgs(w);
	assert_int_equal(world_cli(w, "pci-parse", NULL), 2);
	assert_int_equal(world_cli(w, "pci-assignable-add", "--bogus", NIC, NULL), 2);
	assert_int_equal(world_cli(w, "pci-frobnicate", NULL), 2);
	assert_int_equal(world_cli(w, "pci-assignable-add", "03:00", NULL), 2);
	assert_int_equal(world_cli(w, "pci-help", NULL), 0);
}

static void pci_cli_assignable_roundtrip(void **state)
{
	struct world *w = *state;

	assert_int_equal(world_cli(w, "pci-assignable-add", "-n", "nic0", "03:00.0", NULL), 0);
	assert_int_equal(world_cli(w, "pci-assignable-list", NULL), 0);
	assert_int_equal(world_cli(w, "pci-assignable-list", "-n", NULL), 0);
	assert_string_equal(world_out(w), "0000:03:00.0\n0000:03:00.0 nic0\n");
	assert_int_equal(world_cli(w, "pci-assignable-remove", "-r", "nic0", NULL), 0);
	assert_string_equal(km_driver_of(w->k, NIC), "e1000e");
}

static void pci_cli_list_reports_interrupted(void **state)
{
	struct world *w = *state;

	w->crash.at = 7; /* about to record the bind step: slot made, unbound */
	assert_int_equal(world_cli(w, "pci-assignable-add", NIC, NULL), 1);
	world_restart(w);
	assert_int_equal(world_cli(w, "pci-assignable-list", NULL), 0);
	assert_string_equal(world_out(w), "");
	assert_string_equal(world_err(w),
			    "warning: 0000:03:00.0: pci-assignable-add was interrupted before step "
			    "'new_slot' (bound to no driver; original driver on record: "
			    "/sys/bus/pci/drivers/e1000e); run pci-assignable-add 0000:03:00.0 again to "
			    "finish it, or pci-assignable-remove -r 0000:03:00.0 to undo it\n");
	assert_int_equal(km_slot_count(w->k, NIC), 1);
	world_reset_msgs(w);
	assert_int_equal(world_cli(w, "pci-assignable-add", NIC, NULL), 0);
	assert_string_equal(world_err(w),
			    "info: 0000:03:00.0: finishing the interrupted pci-assignable-add (stopped "
			    "before step 'new_slot')\n"
			    "info: 0000:03:00.0 not bound to a driver, will be rebound to "
			    "/sys/bus/pci/drivers/e1000e\n");
	assert_int_equal(km_slot_count(w->k, NIC), 1);
	assert_string_equal(km_driver_of(w->k, NIC), "pciback");
	world_reset_msgs(w);
	assert_int_equal(world_cli(w, "pci-assignable-list", NULL), 0);
	assert_string_equal(world_out(w), "0000:03:00.0\n");
	assert_string_equal(world_err(w), "");
}

/* An on-disk sysfs tree with the kernel's relative symlinks. */
static void mk(const char *root, const char *rel)
{
	char p[512], cmd[600];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", p);
	assert_int_equal(system(cmd), 0);
}

static void ln(const char *root, const char *rel, const char *target)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(symlink(target, p), 0);
}

static void pci_cli_sysfs_root_on_disk(void **state)
{
	struct world *w = *state;
	char root[] = "/tmp/pcisysfs.XXXXXX", cmd[600];

	assert_non_null(mkdtemp(root));
	mk(root, "devices/pci0000:00/0000:03:00.0");
	mk(root, "devices/pci0000:00/0000:04:00.0");
	mk(root, "bus/pci/devices");
	mk(root, "bus/pci/drivers/pciback");
	mk(root, "bus/pci/drivers/e1000e");
	ln(root, "bus/pci/devices/0000:03:00.0", "../../../devices/pci0000:00/0000:03:00.0");
	ln(root, "bus/pci/devices/0000:04:00.0", "../../../devices/pci0000:00/0000:04:00.0");
	ln(root, "bus/pci/drivers/pciback/0000:04:00.0", "../../../../devices/pci0000:00/0000:04:00.0");
	ln(root, "devices/pci0000:00/0000:04:00.0/driver", "../../../bus/pci/drivers/pciback");
	ln(root, "devices/pci0000:00/0000:03:00.0/driver", "../../../bus/pci/drivers/e1000e");

	/* the real host implementation, rooted at the tree */
	w->env.host = NULL;
	assert_int_equal(world_cli(w, "pci-assignable-list", "--sysfs-root", root, NULL), 0);
	assert_string_equal(world_out(w), "0000:04:00.0\n");
	world_reset_msgs(w);
	setenv("NETBACKD_SYSFS_ROOT", root, 1);
	assert_int_equal(world_cli(w, "pci-assignable-list", NULL), 0);
	unsetenv("NETBACKD_SYSFS_ROOT");
	assert_string_equal(world_out(w), "0000:04:00.0\n");

	/* driver links resolve to root-relative driver paths, recorded as /sys/... */
	struct pci_env e = w->env;
	void *h = pci_host_real_new(root, "/proc");
	struct pci_addr a = world_addr(NIC);
	e.host = &pci_host_real;
	e.host_h = h;
	char *d = pci_current_driver(&e, &a);
	assert_string_equal(d, "bus/pci/drivers/e1000e");
	free(d);
	assert_true(pci_in_pciback(&e, &(struct pci_addr){ 0, 4, 0, 0, false }));
	assert_false(pci_in_pciback(&e, &a));
	pci_host_real_free(h);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(pci_cli_parse_text, setup, teardown),
		cmocka_unit_test_setup_teardown(pci_cli_parse_json, setup, teardown),
		cmocka_unit_test_setup_teardown(pci_cli_parse_error_exit_codes, setup, teardown),
		cmocka_unit_test_setup_teardown(pci_cli_assignable_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(pci_cli_list_reports_interrupted, setup, teardown),
		cmocka_unit_test_setup_teardown(pci_cli_sysfs_root_on_disk, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
