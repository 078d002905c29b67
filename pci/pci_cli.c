/* Command-line front end of the PCI module; see pci_cli.h. */
#include "pci/pci_cli.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "pci/pci.h"

#define EXIT_USAGE 2

struct cli {
	const char *cmd;
	const char *sysfs_root, *proc_root;
	const char *name;    /* -n NAME (add) */
	bool names;          /* -n (list) */
	bool rebind;         /* -r */
	bool json;           /* --json */
	const char *config;  /* --config FILE */
	bool force;
	unsigned timeout_s;
	const char *pos[4];
	int npos;
};

static void usage(FILE *f)
{
	fputs("usage:\n"
	      "  pci-parse SPEC [--json]\n"
	      "  pci-assignable-add [-n NAME] [--force] BDF\n"
	      "  pci-assignable-list [-n]\n"
	      "  pci-assignable-remove [-r] BDF|NAME\n"
	      "  pci-attach DOMID [SPEC] [--config FILE] [--force]\n"
	      "  pci-detach [-f|--force] DOMID BDF|NAME\n"
	      "  pci-list DOMID\n"
	      "options: --sysfs-root DIR, --proc-root DIR, --timeout SECS\n",
	      f);
}

static int parse_args(struct cli *c, int argc, char **argv, FILE *err)
{
	c->cmd = argv[0];
	c->sysfs_root = getenv("NETBACKD_SYSFS_ROOT");
	c->proc_root = getenv("NETBACKD_PROC_ROOT");
	c->timeout_s = 10;
	bool add = !strcmp(c->cmd, "pci-assignable-add");
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **slot = NULL;
		if (!strcmp(a, "--sysfs-root"))
			slot = &c->sysfs_root;
		else if (!strcmp(a, "--proc-root"))
			slot = &c->proc_root;
		else if (!strcmp(a, "--config"))
			slot = &c->config;
		else if (!strcmp(a, "-n") && add)
			slot = &c->name;
		if (slot) {
			if (++i >= argc) {
				fprintf(err, "error: %s needs a value\n", a);
				return -1;
			}
			*slot = argv[i];
		} else if (!strncmp(a, "--sysfs-root=", 13)) {
			c->sysfs_root = a + 13;
		} else if (!strncmp(a, "--proc-root=", 12)) {
			c->proc_root = a + 12;
		} else if (!strncmp(a, "--config=", 9)) {
			c->config = a + 9;
		} else if (!strcmp(a, "--timeout") || !strncmp(a, "--timeout=", 10)) {
			const char *v = a[9] == '=' ? a + 10 : (++i < argc ? argv[i] : NULL);
			char *end;
			unsigned long t = v ? strtoul(v, &end, 10) : 0;
			if (!v || !*v || *end || t > 3600) {
				fprintf(err, "error: --timeout needs a number of seconds (0-3600)\n");
				return -1;
			}
			c->timeout_s = (unsigned)t;
		} else if (!strcmp(a, "-n")) {
			c->names = true;
		} else if (!strcmp(a, "-r")) {
			c->rebind = true;
		} else if (!strcmp(a, "--json")) {
			c->json = true;
		} else if (!strcmp(a, "--force") || !strcmp(a, "-f")) {
			c->force = true;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			return 1;
		} else if (a[0] == '-' && a[1]) {
			fprintf(err, "error: unknown option %s for %s\n", a, c->cmd);
			return -1;
		} else if (c->npos < 4) {
			c->pos[c->npos++] = a;
		} else {
			fprintf(err, "error: too many arguments for %s\n", c->cmd);
			return -1;
		}
	}
	return 0;
}

static int need_pos(struct cli *c, int min, int max, FILE *err)
{
	if (c->npos < min || c->npos > max) {
		fprintf(err, "error: %s takes %d%s argument%s\n", c->cmd, min,
			max > min ? " or more" : "", max == 1 ? "" : "s");
		usage(err);
		return -1;
	}
	return 0;
}

static void print_opt(FILE *f, const char *k, const struct pci_opt *o)
{
	fprintf(f, "%s: %d%s\n", k, o->set ? o->val : 0, o->set ? "" : " (default)");
}

static int cmd_parse(struct cli *c, struct pci_env *e)
{
	struct pci_spec s;
	char err[200];

	if (pci_parse_spec(c->pos[0], &s, err, sizeof(err))) {
		pci_error(e, "%s", err);
		return 1;
	}
	if (c->json) {
		json_t *o = json_object();
		char bdf[PCI_BDF_TEXT_MAX];
		if (s.has_addr) {
			pci_addr_sysfs(&s.addr, bdf);
			if (s.addr.all_funcs)
				bdf[11] = '*';
			json_object_set_new(o, "bdf", json_string(bdf));
			json_object_set_new(o, "domain", json_integer(s.addr.domain));
			json_object_set_new(o, "bus", json_integer(s.addr.bus));
			json_object_set_new(o, "device", json_integer(s.addr.dev));
			json_object_set_new(o, "function", s.addr.all_funcs ? json_string("*")
									    : json_integer(s.addr.func));
		} else {
			json_object_set_new(o, "bdf", json_null());
		}
		json_object_set_new(o, "vslot", s.has_vslot ? json_integer(s.vslot) : json_null());
		json_object_set_new(o, "vdevfn", json_integer(s.has_vslot ? s.vslot << 3 : 0));
		json_object_set_new(o, "permissive", json_integer(s.permissive.val));
		json_object_set_new(o, "msitranslate", json_integer(s.msitranslate.val));
		json_object_set_new(o, "seize", json_integer(s.seize.val));
		json_object_set_new(o, "power_mgmt", json_integer(s.power_mgmt.val));
		json_object_set_new(o, "rdm_policy", json_string(pci_rdm_policy_name(s.rdm_policy)));
		json_object_set_new(o, "name", s.name[0] ? json_string(s.name) : json_null());
		char *txt = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
		json_decref(o);
		if (!txt)
			return 1;
		fprintf(e->out, "%s\n", txt);
		free(txt);
		return 0;
	}
	if (s.has_addr) {
		char bdf[PCI_BDF_TEXT_MAX];
		pci_addr_sysfs(&s.addr, bdf);
		if (s.addr.all_funcs)
			fprintf(e->out, "bdf: %.11s* (every function)\n", bdf);
		else
			fprintf(e->out, "bdf: %s\n", bdf);
	} else {
		fprintf(e->out, "name: %s (an assignable device's name)\n", s.name);
	}
	if (s.has_vslot)
		fprintf(e->out, "vslot: 0x%02x (vdevfn 0x%02x)\n", s.vslot, s.vslot << 3);
	else
		fprintf(e->out, "vslot: none (the guest's pcifront picks)\n");
	print_opt(e->out, "permissive", &s.permissive);
	print_opt(e->out, "msitranslate", &s.msitranslate);
	print_opt(e->out, "seize", &s.seize);
	print_opt(e->out, "power_mgmt", &s.power_mgmt);
	fprintf(e->out, "rdm_policy: %s%s\n", pci_rdm_policy_name(s.rdm_policy),
		s.rdm_set ? "" : " (default)");
	return 0;
}

static int parse_bdf_arg(struct pci_env *e, const char *s, struct pci_addr *a)
{
	char err[200];

	if (pci_parse_bdf(s, a, err, sizeof(err))) {
		pci_error(e, "%s", err);
		return -EINVAL;
	}
	return 0;
}

static int parse_domid(struct pci_env *e, const char *s, uint32_t *domid)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	unsigned n = 0;

	if (*s && !*end && v < 0x7FF0) {
		*domid = (uint32_t)v;
		return 0;
	}
	/* a domain name, as xl accepts */
	char **doms = e->store->list(e->store_h, "/local/domain", &n);
	int rc = -ENOENT;
	for (unsigned i = 0; doms && i < n && rc; i++) {
		char *name = pci_xs_read(e, "/local/domain/%s/name", doms[i]);
		if (name && !strcmp(name, s)) {
			*domid = (uint32_t)strtoul(doms[i], NULL, 10);
			rc = 0;
		}
		free(name);
	}
	pci_strv_free(doms);
	if (rc)
		pci_error(e, "'%s' is not a domain id or the name of a domain", s);
	return rc;
}

static void report_interrupted(struct pci_env *e, const struct pci_interrupted *in, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char bdf[PCI_BDF_TEXT_MAX], now[160];
		pci_addr_sysfs(&in[i].addr, bdf);
		snprintf(now, sizeof(now), "%s%s", in[i].driver[0] ? "/sys/" : "",
			 in[i].driver[0] ? in[i].driver : "no driver");
		const char *orig = in[i].driver_path[0] ? in[i].driver_path : "none";
		if (!strcmp(in[i].op, "add"))
			pci_warn(e, "%s: pci-assignable-add was interrupted before step '%s' (bound to %s; "
				    "original driver on record: %s); run pci-assignable-add %s again to finish "
				    "it, or pci-assignable-remove -r %s to undo it",
				 bdf, in[i].step, now, orig, bdf, bdf);
		else
			pci_warn(e, "%s: pci-assignable-remove was interrupted before step '%s' (bound to %s; "
				    "original driver on record: %s); run pci-assignable-remove%s %s again to "
				    "finish it",
				 bdf, in[i].step, now, orig, !strcmp(in[i].op, "remove-rebind") ? " -r" : "", bdf);
	}
}

static int cmd_list(struct cli *c, struct pci_env *e)
{
	struct pci_assignable *l = NULL;
	struct pci_interrupted *in = NULL;
	size_t n = 0, nin = 0;
	int rc = pci_assignable_list(e, &l, &n, &in, &nin);

	for (size_t i = 0; i < n; i++) {
		char bdf[PCI_BDF_TEXT_MAX];
		pci_addr_sysfs(&l[i].addr, bdf);
		fprintf(e->out, "%s%s%s\n", bdf, c->names && l[i].name[0] ? " " : "",
			c->names ? l[i].name : "");
	}
	report_interrupted(e, in, nin);
	free(l);
	free(in);
	return rc ? 1 : 0;
}

static int cmd_pci_list(struct pci_env *e, uint32_t domid)
{
	struct pci_attached *l;
	size_t n;

	if (pci_list_attached(e, domid, &l, &n))
		return 1;
	if (n)
		fprintf(e->out, "Vdev Device\n");
	for (size_t i = 0; i < n; i++)
		fprintf(e->out, "%02x.%01x %04x:%02x:%02x.%01x\n", l[i].vdevfn >> 3, l[i].vdevfn & 7,
			l[i].addr.domain, l[i].addr.bus, l[i].addr.dev, l[i].addr.func);
	free(l);
	return 0;
}

static int cmd_attach(struct cli *c, struct pci_env *e, uint32_t domid)
{
	struct pci_domcfg cfg = { 0 };
	char err[300];
	int rc = 0;

	if (c->config && pci_domcfg_read(c->config, &cfg, err, sizeof(err))) {
		pci_error(e, "%s: %s", c->config, err);
		return 1;
	}
	if (c->npos == 2) {
		struct pci_spec s;
		if (pci_parse_spec(c->pos[1], &s, err, sizeof(err))) {
			pci_error(e, "%s", err);
			rc = -EINVAL;
		} else {
			rc = pci_attach(e, domid, &s, &cfg.defs);
		}
	} else if (!c->config) {
		pci_error(e, "pci-attach needs a SPEC or --config FILE");
		rc = -EINVAL;
	} else if (!cfg.nspecs) {
		pci_error(e, "%s has no pci = [ ... ] devices", c->config);
		rc = -ENOENT;
	} else {
		for (size_t i = 0; i < cfg.nspecs && !rc; i++)
			rc = pci_attach(e, domid, &cfg.specs[i], &cfg.defs);
	}
	pci_domcfg_free(&cfg);
	return rc ? 1 : 0;
}

static int cmd_detach(struct cli *c, struct pci_env *e, uint32_t domid)
{
	struct pci_addr a;
	char err[200];

	if (pci_name_lookup(e, c->pos[1], &a) != 0 && pci_parse_bdf(c->pos[1], &a, err, sizeof(err))) {
		pci_error(e, "'%s' is neither the name of an assignable device nor a BDF (%s)", c->pos[1],
			  err);
		return 1;
	}
	return pci_detach(e, domid, &a) ? 1 : 0;
}

static int dispatch(struct cli *c, struct pci_env *e)
{
	struct pci_addr a;
	uint32_t domid;

	if (!strcmp(c->cmd, "pci-assignable-add")) {
		if (need_pos(c, 1, 1, e->err) || parse_bdf_arg(e, c->pos[0], &a))
			return EXIT_USAGE;
		return pci_assignable_add(e, &a, c->name) ? 1 : 0;
	}
	if (!strcmp(c->cmd, "pci-assignable-list"))
		return need_pos(c, 0, 0, e->err) ? EXIT_USAGE : cmd_list(c, e);
	if (!strcmp(c->cmd, "pci-assignable-remove")) {
		if (need_pos(c, 1, 1, e->err))
			return EXIT_USAGE;
		return pci_assignable_remove(e, c->pos[0], c->rebind) ? 1 : 0;
	}
	if (!strcmp(c->cmd, "pci-attach")) {
		if (need_pos(c, 1, 2, e->err))
			return EXIT_USAGE;
		return parse_domid(e, c->pos[0], &domid) ? 1 : cmd_attach(c, e, domid);
	}
	if (!strcmp(c->cmd, "pci-detach")) {
		if (need_pos(c, 2, 2, e->err))
			return EXIT_USAGE;
		return parse_domid(e, c->pos[0], &domid) ? 1 : cmd_detach(c, e, domid);
	}
	if (!strcmp(c->cmd, "pci-list")) {
		if (need_pos(c, 1, 1, e->err))
			return EXIT_USAGE;
		return parse_domid(e, c->pos[0], &domid) ? 1 : cmd_pci_list(e, domid);
	}
	pci_error(e, "unknown command %s", c->cmd);
	usage(e->err);
	return EXIT_USAGE;
}

int pci_cli_run(struct pci_env *env, int argc, char **argv)
{
	struct cli c = { 0 };
	struct pci_env e = *env;
	void *own_host = NULL, *own_store = NULL, *own_hv = NULL;
	int rc;

	if (!e.out)
		e.out = stdout;
	if (!e.err)
		e.err = stderr;
	if (argc < 1)
		return EXIT_USAGE;
	rc = parse_args(&c, argc, argv, e.err);
	if (rc) {
		usage(rc > 0 ? e.out : e.err);
		return rc > 0 ? 0 : EXIT_USAGE;
	}
	if (!strcmp(c.cmd, "pci-help")) {
		usage(e.out);
		return 0;
	}
	if (!strcmp(c.cmd, "pci-parse")) {
		if (need_pos(&c, 1, 1, e.err))
			return EXIT_USAGE;
		return cmd_parse(&c, &e);
	}
	e.force = e.force || c.force;
	e.wait_ms = c.timeout_s * 1000u;
	if (!e.host) {
		own_host = pci_host_real_new(c.sysfs_root, c.proc_root);
		if (!own_host)
			return 1;
		e.host = &pci_host_real;
		e.host_h = own_host;
	}
	if (!e.store) {
		own_store = pci_store_xs_open();
		if (!own_store) {
			pci_error(&e, "cannot connect to xenstore: %s", strerror(errno));
			pci_host_real_free(own_host);
			return 1;
		}
		e.store = &pci_store_xs;
		e.store_h = own_store;
	}
	if (!e.hv) {
		own_hv = pci_hv_xc_new();
		e.hv = &pci_hv_xc;
		e.hv_h = own_hv;
	}
	rc = dispatch(&c, &e);
	fflush(e.out);
	pci_hv_xc_free(own_hv);
	pci_store_xs_close(own_store);
	pci_host_real_free(own_host);
	return rc;
}

int pci_cli_main(int argc, char **argv)
{
	struct pci_env e = { 0 };

	return pci_cli_run(&e, argc, argv);
}
