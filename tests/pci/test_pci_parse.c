/* BDF and PCI_SPEC_STRING parser: a table of strings with the exact fields
 * or the exact error text each must give. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>

#include "pci/pci.h"

#define U -1 /* option not given */

struct spec_case {
	const char *in;
	const char *err; /* NULL: must parse */
	unsigned dom, bus, dev, func;
	int all, vslot; /* vslot -1: none */
	int permissive, msitranslate, seize, power_mgmt;
	int rdm; /* -1 not given, 0 strict, 1 relaxed */
	const char *name;
	int has_addr;
};

static const struct spec_case spec_cases[] = {
	/* BDF forms and domain defaulting */
	{ "03:00.0", NULL, 0, 3, 0, 0, 0, -1, U, U, U, U, -1, "", 1 },
	{ "0000:03:00.0", NULL, 0, 3, 0, 0, 0, -1, U, U, U, U, -1, "", 1 },
	{ "1:2:3.4", NULL, 1, 2, 3, 4, 0, -1, U, U, U, U, -1, "", 1 },
	{ "ffff:ff:1f.7", NULL, 0xffff, 0xff, 0x1f, 7, 0, -1, U, U, U, U, -1, "", 1 },
	{ "FFFF:FF:1F.7", NULL, 0xffff, 0xff, 0x1f, 7, 0, -1, U, U, U, U, -1, "", 1 },
	{ "0a:1b.*", NULL, 0, 0x0a, 0x1b, 0, 1, -1, U, U, U, U, -1, "", 1 },
	{ "0a:1b.*@3", NULL, 0, 0x0a, 0x1b, 0, 1, 3, U, U, U, U, -1, "", 1 },
	{ "03:00.1@1f", NULL, 0, 3, 0, 1, 0, 0x1f, U, U, U, U, -1, "", 1 },
	/* every key */
	{ "03:00.0,permissive=1", NULL, 0, 3, 0, 0, 0, -1, 1, U, U, U, -1, "", 1 },
	{ "03:00.0,msitranslate=1,power_mgmt=0", NULL, 0, 3, 0, 0, 0, -1, U, 1, U, 0, -1, "", 1 },
	{ "03:00.0,seize=1", NULL, 0, 3, 0, 0, 0, -1, U, U, 1, U, -1, "", 1 },
	{ "03:00.0,rdm_policy=relaxed", NULL, 0, 3, 0, 0, 0, -1, U, U, U, U, 1, "", 1 },
	{ "03:00.0,rdm_policy=strict", NULL, 0, 3, 0, 0, 0, -1, U, U, U, U, 0, "", 1 },
	{ "bdf=0001:03:00.2,vslot=5", NULL, 1, 3, 0, 2, 0, 5, U, U, U, U, -1, "", 1 },
	{ "vslot=5,bdf=03:00.2", NULL, 0, 3, 0, 2, 0, 5, U, U, U, U, -1, "", 1 },
	{ "name=nic0", NULL, 0, 0, 0, 0, 0, -1, U, U, U, U, -1, "nic0", 0 },
	{ "name=nic0,permissive=0,vslot=2", NULL, 0, 0, 0, 0, 0, 2, 0, U, U, U, -1, "nic0", 0 },
	{ "03:00.0@2,permissive=1,msitranslate=0,seize=1,power_mgmt=1,rdm_policy=relaxed", NULL, 0, 3,
	  0, 0, 0, 2, 1, 0, 1, 1, 1, "", 1 },
	/* errors name the part */
	{ .in = "", .err = "empty PCI_SPEC_STRING" },
	{ .in = "03:00", .err = "invalid BDF '03:00': missing '.F' (function)" },
	{ .in = "0300.0", .err = "invalid BDF '0300.0': expected [DDDD:]BB:DD.F" },
	{ .in = "1:2:3:4.0", .err = "invalid BDF '1:2:3:4.0': too many ':' (expected [DDDD:]BB:DD.F)" },
	{ .in = "10000:00:00.0", .err = "invalid domain '10000': out of range (max ffff)" },
	{ .in = "100:00.0", .err = "invalid bus '100': out of range (max ff)" },
	{ .in = "00:20.0", .err = "invalid device '20': out of range (max 1f)" },
	{ .in = "00:00.8", .err = "invalid function '8': out of range (max 7)" },
	{ .in = "0g:00.0", .err = "invalid bus '0g': not a hex number" },
	{ .in = ":00.0", .err = "invalid bus '': empty" },
	{ .in = "00:.0", .err = "invalid device '': empty" },
	{ .in = "00:00.", .err = "invalid function '': expected 0-7 or '*'" },
	{ .in = "00:00.0x", .err = "trailing characters 'x' after BDF '00:00.0'" },
	{ .in = "00:00.0 ", .err = "trailing characters ' ' after BDF '00:00.0'" },
	{ .in = "00:00.*1", .err = "trailing characters '1' after BDF '00:00.*'" },
	{ .in = "-1:00.0", .err = "invalid bus '-1': not a hex number" },
	{ .in = "03:00.0@20", .err = "invalid vslot '20': out of range (max 1f)" },
	{ .in = "03:00.0@", .err = "invalid vslot '': empty" },
	{ .in = "03:00.0,vslot=zz", .err = "invalid vslot 'zz': not a hex number" },
	{ .in = "03:00.0,foo=1", .err = "Unknown PCI_SPEC_STRING option 'foo'" },
	{ .in = "03:00.0,permissive", .err = "invalid option 'permissive': expected key=value" },
	{ .in = "03:00.0,permissive=2", .err = "invalid permissive '2': must be 0 or 1" },
	{ .in = "03:00.0,seize=yes", .err = "invalid seize 'yes': must be 0 or 1" },
	{ .in = "03:00.0,rdm_policy=loose", .err = "invalid rdm_policy 'loose': must be strict or relaxed" },
	{ .in = "03:00.0,permissive=1,permissive=0", .err = "option 'permissive' given twice" },
	{ .in = "03:00.0,", .err = "empty option at offset 8 in '03:00.0,'" },
	{ .in = "03:00.0,bdf=03:00.1", .err = "BDF given twice" },
	{ .in = "bdf=03:00.0@2", .err = "invalid bdf '03:00.0@2': '@VSLOT' not allowed in bdf=, use vslot=" },
	{ .in = "03:00.0@1,vslot=2", .err = "vslot given twice" },
	{ .in = "03:00.0,name=x", .err = "both a BDF and name= given: use exactly one" },
	{ .in = "permissive=1", .err = "no BDF: give BDF, bdf= or name=" },
	{ .in = "name=a b", .err = "invalid name 'a b': only printable characters without spaces allowed" },
	{ .in = "name=", .err = "invalid name '': empty" },
};

static void pci_parse_spec_table(void **state)
{
	for (size_t i = 0; i < sizeof(spec_cases) / sizeof(spec_cases[0]); i++) {
		const struct spec_case *c = &spec_cases[i];
		struct pci_spec s;
		char err[200] = "";
		int rc = pci_parse_spec(c->in, &s, err, sizeof(err));

		print_message("  '%s' -> %s\n", c->in, rc ? err : "ok");
		if (c->err) {
			assert_int_equal(rc, -EINVAL);
			assert_string_equal(err, c->err);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(s.has_addr, c->has_addr);
		if (c->has_addr) {
			assert_int_equal(s.addr.domain, c->dom);
			assert_int_equal(s.addr.bus, c->bus);
			assert_int_equal(s.addr.dev, c->dev);
			assert_int_equal(s.addr.func, c->func);
			assert_int_equal(s.addr.all_funcs, c->all);
		}
		assert_int_equal(s.has_vslot, c->vslot >= 0);
		if (c->vslot >= 0)
			assert_int_equal(s.vslot, c->vslot);
		const struct pci_opt *o[4] = { &s.permissive, &s.msitranslate, &s.seize, &s.power_mgmt };
		int want[4] = { c->permissive, c->msitranslate, c->seize, c->power_mgmt };
		for (int k = 0; k < 4; k++) {
			assert_int_equal(o[k]->set, want[k] != U);
			if (want[k] != U)
				assert_int_equal(o[k]->val, want[k]);
		}
		assert_int_equal(s.rdm_set, c->rdm >= 0);
		if (c->rdm >= 0)
			assert_int_equal(s.rdm_policy, c->rdm);
		assert_string_equal(s.name, c->name);
	}
}

static void pci_parse_bdf_formats(void **state)
{
	struct pci_addr a;
	char t[PCI_BDF_TEXT_MAX], err[100];

	assert_int_equal(pci_parse_bdf("1:2:3.4", &a, err, sizeof(err)), 0);
	pci_addr_sysfs(&a, t);
	assert_string_equal(t, "0001:02:03.4");
	pci_addr_xs(&a, t);
	assert_string_equal(t, "0001-02-03-4");
	assert_int_equal(pci_addr_sbdf(&a), 0x0001021cu);
	/* bdf parser alone rejects the spec extras */
	assert_int_equal(pci_parse_bdf("03:00.0@2", &a, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "trailing characters '@2' after BDF '03:00.0'");
}

static void pci_parse_sysfs_name_canonical_only(void **state)
{
	struct pci_addr a;

	assert_true(pci_parse_sysfs_name("0000:03:00.0", &a));
	assert_int_equal(a.bus, 3);
	assert_false(pci_parse_sysfs_name("03:00.0", &a));
	assert_false(pci_parse_sysfs_name("new_slot", &a));
	assert_false(pci_parse_sysfs_name("0000:03:00.*", &a));
	assert_true(pci_parse_xs_name("0000-03-1f-7", &a));
	assert_int_equal(a.dev, 0x1f);
	assert_false(pci_parse_xs_name("0000:03:1f.7", &a));
}

static void pci_check_name_limits(void **state)
{
	char n65[66], err[120];

	memset(n65, 'a', 65);
	n65[65] = 0;
	assert_int_equal(pci_check_name(n65, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "invalid name 'aaaaaaaaaaaaaaaa...': longer than 64 characters");
	n65[64] = 0;
	assert_int_equal(pci_check_name(n65, err, sizeof(err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pci_parse_spec_table),
		cmocka_unit_test(pci_parse_bdf_formats),
		cmocka_unit_test(pci_parse_sysfs_name_canonical_only),
		cmocka_unit_test(pci_check_name_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
