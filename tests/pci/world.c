#include "tests/pci/world.h"

#include "pci/pci_cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void open_streams(struct world *w)
{
	w->env.err = open_memstream(&w->errbuf, &w->errlen);
	w->env.out = open_memstream(&w->outbuf, &w->outlen);
	if (!w->env.err || !w->env.out)
		abort();
}

static void close_streams(struct world *w)
{
	fclose(w->env.err);
	fclose(w->env.out);
	free(w->errbuf);
	free(w->outbuf);
	w->errbuf = w->outbuf = NULL;
}

struct world *world_new(void)
{
	return world_new_in(NULL);
}

struct world *world_new_in(const char *xensim_dir)
{
	struct world *w = calloc(1, sizeof(*w));

	if (!w)
		abort();
	if (xensim_dir) {
		snprintf(w->dir, sizeof(w->dir), "%s", xensim_dir);
	} else {
		w->own_dir = true;
		snprintf(w->dir, sizeof(w->dir), "/tmp/pcitest.XXXXXX");
		if (!mkdtemp(w->dir))
			abort();
		setenv("XENSIM_DIR", w->dir, 1);
		setenv("XENSIM_DOMID", "0", 1);
	}
	w->k = km_new();
	km_add_driver(w->k, "e1000e");
	km_load_pciback(w->k);
	km_add_device(w->k, NIC, "e1000e", true);
	km_add_device(w->k, BARE, NULL, false);
	w->m = ms_new();
	km_set_crash(w->k, &w->crash);
	ms_set_crash(w->m, &w->crash);
	w->hv.real = pci_hv_xc_new();
	w->hv.crash = &w->crash;
	w->env.host = &kmodel_ops;
	w->env.host_h = w->k;
	w->env.store = &memstore_ops;
	w->env.store_h = w->m;
	w->env.hv = &xc_crash_ops;
	w->env.hv_h = &w->hv;
	open_streams(w);
	return w;
}

void world_free(struct world *w)
{
	char p[320];

	if (!w)
		return;
	close_streams(w);
	km_free(w->k);
	ms_free(w->m);
	pci_hv_xc_free(w->hv.real);
	if (!w->own_dir) {
		free(w);
		return;
	}
	const char *files[] = { "xenctrl.state", "xenctrl.log", "xenctrl.lock" };
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s", w->dir, files[i]);
		unlink(p);
	}
	rmdir(w->dir);
	free(w);
}

const char *world_err(struct world *w)
{
	fflush(w->env.err);
	return w->errbuf ? w->errbuf : "";
}

const char *world_out(struct world *w)
{
	fflush(w->env.out);
	return w->outbuf ? w->outbuf : "";
}

void world_reset_msgs(struct world *w)
{
	close_streams(w);
	open_streams(w);
}

void world_restart(struct world *w)
{
	w->crash.at = 0;
	w->crash.crashed = false;
	w->crash.steps = 0;
	w->env.force = false;
	world_reset_msgs(w);
}

struct pci_addr world_addr(const char *bdf)
{
	struct pci_addr a;

	if (pci_parse_bdf(bdf, &a, NULL, 0))
		abort();
	return a;
}

int world_cli(struct world *w, const char *a0, ...)
{
	char *argv[16];
	int argc = 0;
	va_list ap;

	argv[argc++] = (char *)a0;
	va_start(ap, a0);
	for (char *a; argc < 15 && (a = va_arg(ap, char *));)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	return pci_cli_run(&w->env, argc, argv);
}
