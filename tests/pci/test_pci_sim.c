/* PCI attach/detach/list and the assignable records on the hypervisor
 * emulator: the real libxenstore talking to xensim's xenstored, the
 * emulated libxenctrl recording permissions, the kernel model as sysfs.
 * The nodes checked are the ones xl writes and reads (libxl_pci.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <xenstore.h>

#include "pci/pci_cli.h"
#include "tests/lib/simenv.h"
#include "tests/pci/world.h"

#define BE1 "/local/domain/0/backend/pci/1/0"
#define FE1 "/local/domain/1/device/pci/0"

struct simt {
	struct simenv *env;
	struct world *w;
	void *xs;
	pid_t responder;
};

static int setup(void **state)
{
	struct simt *t = calloc(1, sizeof(*t));

	*state = t;
	t->env = simenv_start();
	if (!t->env)
		return 0; /* the test skips */
	if (simenv_domain_create(t->env, 1) || simenv_domain_create(t->env, 2) || simenv_enter(t->env, 0))
		return -1;
	t->w = world_new_in(simenv_dir(t->env));
	t->xs = pci_store_xs_open();
	if (!t->xs)
		return -1;
	t->w->env.store = &pci_store_xs;
	t->w->env.store_h = t->xs;
	t->w->env.wait_ms = 60000;   /* for pciback_responder: a hang's bound */
	return 0;
}

static int teardown(void **state)
{
	struct simt *t = *state;

	if (t->responder > 0) {
		t->w->env.store->write(t->xs, "/test/stop", "1");
		simenv_wait(t->responder);
	}
	pci_store_xs_close(t->xs);
	world_free(t->w);
	if (t->env)
		simenv_stop(t->env);
	free(t);
	return 0;
}

static struct world *W(void **state)
{
	struct simt *t = *state;

	if (!t->env)
		skip(); /* simenv_start printed why */
	return t->w;
}

static char *rd(struct world *w, const char *path)
{
	return w->env.store->read(w->env.store_h, path);
}

static void assert_node(struct world *w, const char *path, const char *want)
{
	char *v = rd(w, path);

	if (!want) {
		if (v)
			fail_msg("%s = '%s', expected no node", path, v);
		return;
	}
	if (!v)
		fail_msg("%s missing, expected '%s'", path, want);
	if (strcmp(v, want))
		fail_msg("%s = '%s', expected '%s'", path, v, want);
	free(v);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The children of path, sorted, joined with ' '. */
static void assert_children(struct world *w, const char *path, const char *want)
{
	unsigned n = 0;
	char **v = w->env.store->list(w->env.store_h, path, &n), buf[1024] = "";

	if (!v)
		fail_msg("%s: no such directory", path);
	qsort(v, n, sizeof(*v), cmp_str);
	for (unsigned i = 0; i < n; i++) {
		strcat(buf, i ? " " : "");
		strcat(buf, v[i]);
	}
	pci_strv_free(v);
	assert_string_equal(buf, want);
}

static void assert_state_has(struct world *w, const char *line)
{
	if (!xcs_has(w->dir, line))
		fail_msg("xenctrl.state lacks '%s'", line);
}

static void pci_attach_writes_xl_nodes_and_permissions(void **state)
{
	struct world *w = W(state);
	char *dname;

	assert_int_equal(world_cli(w, "pci-assignable-add", "-n", "nic0", NIC, NULL), 0);
	assert_node(w, NIC_XS "/driver_path", "/sys/bus/pci/drivers/e1000e");
	assert_node(w, NIC_XS "/name", "nic0");
	world_reset_msgs(w);

	assert_int_equal(world_cli(w, "pci-attach", "1", "03:00.0@3,permissive=1", NULL), 0);
	assert_string_equal(world_err(w),
			    "warning: 0000:03:00.0 is attached in permissive mode: domain 1 may write any "
			    "PCI configuration register of the device; use it only for a device and guest "
			    "you trust\n");
	dname = rd(w, "/local/domain/1/name");
	assert_non_null(dname);
	assert_children(w, BE1, "dev-0 domain frontend frontend-id key-0 num_devs online opts-0 state "
				"state-0 vdevfn-0");
	assert_node(w, BE1 "/frontend", FE1);
	assert_node(w, BE1 "/frontend-id", "1");
	assert_node(w, BE1 "/online", "1");
	assert_node(w, BE1 "/state", "1");
	assert_node(w, BE1 "/domain", dname);
	assert_node(w, BE1 "/num_devs", "1");
	assert_node(w, BE1 "/key-0", NIC);
	assert_node(w, BE1 "/dev-0", NIC);
	assert_node(w, BE1 "/vdevfn-0", "18");
	assert_node(w, BE1 "/opts-0", "msitranslate=0,power_mgmt=0,permissive=1,rdm_policy=strict");
	assert_node(w, BE1 "/state-0", "1");
	assert_children(w, FE1, "backend backend-id state");
	assert_node(w, FE1 "/backend", BE1);
	assert_node(w, FE1 "/backend-id", "0");
	assert_node(w, FE1 "/state", "1");
	assert_node(w, NIC_XS "/domid", "1");
	free(dname);
	/* as libxl: the backend is dom0's and readable by the guest, the
	 * frontend the guest's and readable by dom0 */
	struct xs_handle *xs = xs_open(0);
	unsigned np;
	struct xs_permissions *perm = xs_get_permissions(xs, XBT_NULL, BE1, &np);
	assert_non_null(perm);
	assert_int_equal(np, 2);
	assert_int_equal(perm[0].id, 0);
	assert_int_equal(perm[0].perms, XS_PERM_NONE);
	assert_int_equal(perm[1].id, 1);
	assert_int_equal(perm[1].perms, XS_PERM_READ);
	free(perm);
	perm = xs_get_permissions(xs, XBT_NULL, FE1, &np);
	assert_non_null(perm);
	assert_int_equal(np, 2);
	assert_int_equal(perm[0].id, 1);
	assert_int_equal(perm[0].perms, XS_PERM_NONE);
	assert_int_equal(perm[1].id, 0);
	assert_int_equal(perm[1].perms, XS_PERM_READ);
	free(perm);
	xs_close(xs);

	assert_true(km_is_permissive(w->k, NIC));
	assert_int_equal(km_resets(w->k, NIC), 1);
	assert_state_has(w, "device 0000:03:00.0 owner=1 quarantine=1");
	assert_state_has(w, "iomem dom=1 mfn=0xfebc0 nr=0x20");
	assert_state_has(w, "iomem dom=1 mfn=0xfeb80 nr=0x40");
	assert_state_has(w, "ioport dom=1 port=0xc000 nr=0x40");
	assert_state_has(w, "pirq dom=1 index=11 pirq=11");
	assert_state_has(w, "irq dom=1 pirq=11");
	assert_int_equal(xcs_lines(w->dir), 6);

	world_reset_msgs(w);
	assert_int_equal(world_cli(w, "pci-list", "1", NULL), 0);
	assert_string_equal(world_out(w), "Vdev Device\n03.0 0000:03:00.0\n");
	world_reset_msgs(w);
	assert_int_equal(world_cli(w, "pci-assignable-list", NULL), 0);
	assert_string_equal(world_out(w), "");
	assert_int_equal(world_cli(w, "pci-assignable-remove", "-r", "nic0", NULL), 1);
	assert_string_equal(world_err(w), "error: 0000:03:00.0 is attached to domain 1; detach it first "
					  "(pci-detach 1 0000:03:00.0)\n");

	/* the backend never connected (no pcifront): no hand-shake needed */
	world_reset_msgs(w);
	assert_int_equal(world_cli(w, "pci-detach", "1", "nic0", NULL), 0);
	assert_string_equal(world_err(w), "");
	assert_node(w, BE1, NULL);
	assert_node(w, FE1, NULL);
	assert_node(w, NIC_XS "/domid", NULL);
	assert_int_equal(km_resets(w->k, NIC), 2);
	/* Xen sends a device taken from a guest to quarantine */
	assert_state_has(w, "device 0000:03:00.0 owner=32753 quarantine=1");
	assert_int_equal(xcs_lines(w->dir), 1);
	world_reset_msgs(w);
	assert_int_equal(world_cli(w, "pci-assignable-list", "-n", NULL), 0);
	assert_string_equal(world_out(w), "0000:03:00.0 nic0\n");

	assert_int_equal(world_cli(w, "pci-assignable-remove", "-r", "nic0", NULL), 0);
	assert_string_equal(km_driver_of(w->k, NIC), "e1000e");
	assert_int_equal(xcs_lines(w->dir), 0);
	assert_node(w, NIC_XS "/driver_path", NULL);
}

/* Plays pciback: answers Reconfiguring (7) by closing the devices marked
 * Closing (5 -> 6), initialising new ones (1 -> 3), and going back to
 * Connected (4). Stops when /test/stop appears. */
static int pciback_responder(void *arg)
{
	struct xs_handle *xs = xs_open(0);
	unsigned len;

	if (!xs)
		return 1;
	for (;;) {
		char *stop = xs_read(xs, XBT_NULL, "/test/stop", &len);
		if (stop) {
			free(stop);
			break;
		}
		char *st = xs_read(xs, XBT_NULL, BE1 "/state", &len);
		if (st && !strcmp(st, "7")) {
			char *nd = xs_read(xs, XBT_NULL, BE1 "/num_devs", &len);
			int n = nd ? atoi(nd) : 0;
			for (int i = 0; i < n; i++) {
				char p[96], *s;
				snprintf(p, sizeof(p), BE1 "/state-%d", i);
				s = xs_read(xs, XBT_NULL, p, &len);
				if (s && !strcmp(s, "5"))
					xs_write(xs, XBT_NULL, p, "6", 1);
				else if (s && !strcmp(s, "1"))
					xs_write(xs, XBT_NULL, p, "3", 1);
				free(s);
			}
			free(nd);
			xs_write(xs, XBT_NULL, BE1 "/state", "4", 1);
		}
		free(st);
		struct timespec ts = { 0, 5 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	xs_close(xs);
	return 0;
}

static void pci_attach_hotplug_and_detach_renumber(void **state)
{
	struct world *w = W(state);
	struct simt *t = *state;

	km_add_device(w->k, "0000:05:00.0", "e1000e", true);
	assert_int_equal(world_cli(w, "pci-assignable-add", NIC, NULL), 0);
	assert_int_equal(world_cli(w, "pci-assignable-add", "05:00.0", NULL), 0);
	assert_int_equal(world_cli(w, "pci-attach", "1", NIC, NULL), 0);
	/* the guest's pcifront connected */
	assert_int_equal(w->env.store->write(t->xs, BE1 "/state", "4"), 0);
	t->responder = simenv_spawn(t->env, 0, pciback_responder, NULL);
	assert_true(t->responder > 0);

	assert_int_equal(world_cli(w, "pci-attach", "1", "05:00.0@7,msitranslate=1,rdm_policy=relaxed", NULL), 0);
	assert_node(w, BE1 "/num_devs", "2");
	assert_node(w, BE1 "/dev-1", "0000:05:00.0");
	assert_node(w, BE1 "/vdevfn-1", "38");
	assert_node(w, BE1 "/opts-1", "msitranslate=1,power_mgmt=0,permissive=0,rdm_policy=relaxed");
	assert_state_has(w, "device 0000:05:00.0 owner=1 quarantine=1");
	world_reset_msgs(w);
	assert_int_equal(world_cli(w, "pci-list", "1", NULL), 0);
	assert_string_equal(world_out(w), "Vdev Device\n00.0 0000:03:00.0\n07.0 0000:05:00.0\n");

	/* detach the first: pciback closes it, the second moves to index 0 */
	assert_int_equal(world_cli(w, "pci-detach", "1", NIC, NULL), 0);
	assert_node(w, BE1 "/num_devs", "1");
	assert_node(w, BE1 "/dev-0", "0000:05:00.0");
	assert_node(w, BE1 "/key-0", "0000:05:00.0");
	assert_node(w, BE1 "/vdevfn-0", "38");
	assert_node(w, BE1 "/opts-0", "msitranslate=1,power_mgmt=0,permissive=0,rdm_policy=relaxed");
	assert_node(w, BE1 "/dev-1", NULL);
	assert_node(w, BE1 "/state-1", NULL);
	assert_node(w, NIC_XS "/domid", NULL);
	assert_node(w, "/libxl/pci/0000-05-00-0/domid", "1");
	assert_state_has(w, "device 0000:03:00.0 owner=32753 quarantine=1");
	assert_false(xcs_has(w->dir, "irq dom=1 pirq=11")); /* both share irq 11: revoked with the first */
}

static void pci_attach_hvm_is_xls_job(void **state)
{
	struct world *w = W(state);
	char p[300];

	snprintf(p, sizeof(p), "%s/xenctrl.state", w->dir);
	FILE *f = fopen(p, "a");
	assert_non_null(f);
	fputs("hvm dom=2\n", f);
	fclose(f);
	assert_int_equal(world_cli(w, "pci-assignable-add", NIC, NULL), 0);
	world_reset_msgs(w);
	assert_int_equal(world_cli(w, "pci-attach", "2", NIC, NULL), 1);
	assert_string_equal(world_err(w), "error: domain 2 is an HVM guest: its PCI devices are emulated "
					  "by its device model (QEMU), so pci-attach is xl's job (xl "
					  "pci-attach)\n");
	assert_node(w, "/local/domain/0/backend/pci/2", NULL);
	assert_node(w, NIC_XS "/domid", NULL);
	world_reset_msgs(w);
	assert_int_equal(world_cli(w, "pci-attach", "9", NIC, NULL), 1);
	assert_string_equal(world_err(w), "error: domain 9 does not exist\n");
}

static void pci_attach_config_permissive_default(void **state)
{
	struct world *w = W(state);
	char cfg[] = "/tmp/pcicfg.XXXXXX";
	int fd = mkstemp(cfg);

	assert_true(fd >= 0);
	const char *text = "# an xl domain config\n"
			   "name = \"guest\"\nmemory = 512\nvif = [ 'bridge=xenbr0' ]\n"
			   "pci_permissive = 1\n"
			   "pci = [ '03:00.0@2',\n"
			   "        \"05:00.0,permissive=0,seize=1\" ]\n";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	km_add_device(w->k, "0000:05:00.0", "e1000e", true);
	assert_int_equal(world_cli(w, "pci-assignable-add", NIC, NULL), 0);
	world_reset_msgs(w);
	int rc = world_cli(w, "pci-attach", "1", "--config", cfg, NULL);
	unlink(cfg);
	assert_int_equal(rc, 0);
	/* pci_permissive=1 applies where the entry does not say otherwise */
	assert_node(w, BE1 "/num_devs", "2");
	assert_node(w, BE1 "/state", "1");
	assert_node(w, BE1 "/dev-0", NIC);
	assert_node(w, BE1 "/vdevfn-0", "10");
	assert_node(w, BE1 "/opts-0", "msitranslate=0,power_mgmt=0,permissive=1,rdm_policy=strict");
	assert_node(w, BE1 "/dev-1", "0000:05:00.0");
	assert_node(w, BE1 "/vdevfn-1", NULL);
	assert_node(w, BE1 "/opts-1", "msitranslate=0,power_mgmt=0,permissive=0,rdm_policy=strict");
	assert_true(km_is_permissive(w->k, NIC));
	assert_false(km_is_permissive(w->k, "0000:05:00.0"));
	/* seize=1 made 05:00.0 assignable first, remembering its driver */
	assert_string_equal(km_driver_of(w->k, "0000:05:00.0"), "pciback");
	assert_node(w, "/libxl/pci/0000-05-00-0/driver_path", "/sys/bus/pci/drivers/e1000e");
	assert_node(w, "/libxl/pci/0000-05-00-0/domid", "1");
	assert_string_equal(world_err(w),
			    "warning: 0000:03:00.0 is attached in permissive mode: domain 1 may write any "
			    "PCI configuration register of the device; use it only for a device and guest "
			    "you trust\n");
}

static void pci_attach_config_errors(void **state)
{
	struct world *w = W(state);
	char cfg[] = "/tmp/pcicfg.XXXXXX";
	int fd = mkstemp(cfg);
	const char *text = "pci_permissive = 1\npci = [ '03:00.0',\n  '03:00.0,bogus=1' ]\n";

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	int rc = world_cli(w, "pci-attach", "1", "--config", cfg, NULL);
	assert_int_equal(rc, 1);
	char want[400];
	snprintf(want, sizeof(want), "error: %s: line 3: pci entry '03:00.0,bogus=1': Unknown "
				     "PCI_SPEC_STRING option 'bogus'\n", cfg);
	unlink(cfg);
	assert_string_equal(world_err(w), want);
	assert_node(w, BE1, NULL);
}

static void pci_attach_refuses_unassignable(void **state)
{
	struct world *w = W(state);

	assert_int_equal(world_cli(w, "pci-attach", "1", NIC, NULL), 1);
	assert_string_equal(world_err(w), "error: PCI device 0000:03:00.0 is not assignable (not bound "
					  "to pciback; pci-assignable-add it or use seize=1)\n");
	assert_node(w, NIC_XS "/domid", NULL);
	assert_node(w, BE1, NULL);
	assert_int_equal(xcs_lines(w->dir), 0);
	/* seize=1 still refuses a device dom0 is using */
	km_add_netif(w->k, NIC, "eth0", true);
	km_add_ipv4(w->k, "eth0", "192.168.1.5");
	world_reset_msgs(w);
	assert_int_equal(world_cli(w, "pci-attach", "1", "03:00.0,seize=1", NULL), 1);
	assert_string_equal(world_err(w), "error: 0000:03:00.0 is in use by dom0: network interface eth0 "
					  "is up with address 192.168.1.5; refusing without --force\n");
	assert_string_equal(km_driver_of(w->k, NIC), "e1000e");
}

static void pci_attach_multifunction_needs_vslot(void **state)
{
	struct world *w = W(state);

	km_add_device(w->k, "0000:06:00.0", "e1000e", true);
	km_add_device(w->k, "0000:06:00.1", "e1000e", true);
	assert_int_equal(world_cli(w, "pci-assignable-add", "06:00.0", NULL), 0);
	assert_int_equal(world_cli(w, "pci-assignable-add", "06:00.1", NULL), 0);
	world_reset_msgs(w);
	assert_int_equal(world_cli(w, "pci-attach", "1", "06:00.*", NULL), 1);
	assert_string_equal(world_err(w), "error: Must specify a v-slot for multi-function devices\n");
	assert_int_equal(world_cli(w, "pci-attach", "1", "06:00.*@4", NULL), 0);
	assert_node(w, BE1 "/num_devs", "2");
	assert_node(w, BE1 "/dev-0", "0000:06:00.1");
	assert_node(w, BE1 "/vdevfn-0", "21");
	assert_node(w, BE1 "/dev-1", "0000:06:00.0");
	assert_node(w, BE1 "/vdevfn-1", "20");
}

/* A hypervisor refusal half-way through attach leaves nothing behind:
 * no owner record, no permissions, no backend. */
static void pci_attach_rolls_back_on_hypervisor_refusal(void **state)
{
	struct world *w = W(state);
	char p[300];

	assert_int_equal(world_cli(w, "pci-assignable-add", NIC, NULL), 0);
	/* someone else's guest holds the device in Xen's eyes */
	snprintf(p, sizeof(p), "%s/xenctrl.state", w->dir);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs("device 0000:03:00.0 owner=2 quarantine=0\n", f);
	fclose(f);
	world_reset_msgs(w);
	assert_int_equal(world_cli(w, "pci-attach", "1", NIC, NULL), 1);
	assert_string_equal(world_err(w), "error: xc_assign_device 0000:03:00.0 to domain 1 failed: "
					  "Device or resource busy\n");
	assert_node(w, NIC_XS "/domid", NULL);
	assert_node(w, BE1, NULL);
	assert_node(w, FE1, NULL);
	assert_int_equal(xcs_lines(w->dir), 1); /* only the device line: permissions revoked */
	assert_state_has(w, "device 0000:03:00.0 owner=2 quarantine=0");
}

/* xl's records on the shared xenstore are ours to undo, and the reverse:
 * a device xl attached is listed and detached by us. */
static void pci_interop_xl_records(void **state)
{
	struct world *w = W(state);
	struct pci_store_ops const *s = w->env.store;
	void *h = w->env.store_h;

	/* xl pci-assignable-add -n gpu 03:00.0 (sysfs by hand, nodes as xl writes) */
	assert_int_equal(kmodel_ops.write(w->k, PCI_SYS, "bus/pci/drivers/e1000e/unbind", NIC), 0);
	assert_int_equal(kmodel_ops.write(w->k, PCI_SYS, "bus/pci/drivers/pciback/new_slot", NIC), 0);
	assert_int_equal(kmodel_ops.write(w->k, PCI_SYS, "bus/pci/drivers/pciback/bind", NIC), 0);
	assert_int_equal(s->write(h, NIC_XS "/driver_path", "/sys/bus/pci/drivers/e1000e"), 0);
	assert_int_equal(s->write(h, NIC_XS "/name", "gpu"), 0);
	assert_int_equal(world_cli(w, "pci-assignable-list", "-n", NULL), 0);
	assert_string_equal(world_out(w), "0000:03:00.0 gpu\n");

	/* xl pci-attach 1 gpu: the backend as libxl writes it */
	assert_int_equal(s->write(h, NIC_XS "/domid", "1"), 0);
	assert_int_equal(s->write(h, BE1 "/frontend", FE1), 0);
	assert_int_equal(s->write(h, BE1 "/frontend-id", "1"), 0);
	assert_int_equal(s->write(h, BE1 "/online", "1"), 0);
	assert_int_equal(s->write(h, BE1 "/state", "1"), 0);
	assert_int_equal(s->write(h, BE1 "/key-0", NIC), 0);
	assert_int_equal(s->write(h, BE1 "/dev-0", NIC), 0);
	assert_int_equal(s->write(h, BE1 "/name-0", "gpu"), 0);
	assert_int_equal(s->write(h, BE1 "/opts-0", "msitranslate=0,power_mgmt=0,permissive=0,rdm_policy=strict"), 0);
	assert_int_equal(s->write(h, BE1 "/state-0", "1"), 0);
	assert_int_equal(s->write(h, BE1 "/num_devs", "1"), 0);
	assert_int_equal(s->write(h, FE1 "/backend", BE1), 0);
	world_reset_msgs(w);
	assert_int_equal(world_cli(w, "pci-list", "1", NULL), 0);
	assert_string_equal(world_out(w), "Vdev Device\n00.0 0000:03:00.0\n");
	assert_int_equal(world_cli(w, "pci-detach", "1", "gpu", NULL), 0);
	assert_node(w, BE1, NULL);
	assert_node(w, FE1, NULL);
	assert_node(w, NIC_XS "/domid", NULL);
	assert_int_equal(world_cli(w, "pci-assignable-remove", "-r", "gpu", NULL), 0);
	assert_string_equal(km_driver_of(w->k, NIC), "e1000e");
	assert_int_equal(km_slot_count(w->k, NIC), 0);
	assert_node(w, NIC_XS "/driver_path", NULL);
	assert_node(w, NIC_XS "/name", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(pci_attach_writes_xl_nodes_and_permissions, setup, teardown),
		cmocka_unit_test_setup_teardown(pci_attach_hotplug_and_detach_renumber, setup, teardown),
		cmocka_unit_test_setup_teardown(pci_attach_hvm_is_xls_job, setup, teardown),
		cmocka_unit_test_setup_teardown(pci_attach_config_permissive_default, setup, teardown),
		cmocka_unit_test_setup_teardown(pci_attach_config_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(pci_attach_refuses_unassignable, setup, teardown),
		cmocka_unit_test_setup_teardown(pci_attach_multifunction_needs_vslot, setup, teardown),
		cmocka_unit_test_setup_teardown(pci_attach_rolls_back_on_hypervisor_refusal, setup, teardown),
		cmocka_unit_test_setup_teardown(pci_interop_xl_records, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
