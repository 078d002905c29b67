/* Domain lifecycle: what Xen's domain_create and `xl destroy` amount to for
 * the emulator. Create: grant table, memory, event channels, a control
 * socket and a xenstore connection for the domain, then publish it in the
 * registry. Destroy: mark it dead first (new grant maps and copies fail with
 * GNTST_bad_domain), close its handles and event channels, remove its
 * xenstore nodes and backend directories, fire @releaseDomain. Memory that
 * other domains map stays alive through their mappings. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sim/daemon.h"
#include "sim/xs_server.h"

struct sim_dom *sim_dom_get(struct xensim *x, unsigned domid)
{
	return domid < SIM_NR_DOMIDS ? x->doms[domid] : NULL;
}

int sim_make_shm(const char *name, size_t size, int *fd_out, void **map_out)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0)
		goto fail;
	if (map_out) {
		*map_out = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (*map_out == MAP_FAILED) {
			*map_out = NULL;
			goto fail;
		}
	}
	*fd_out = fd;
	return 0;
fail:
	{
		int e = errno;

		close(fd);
		return -e;
	}
}

static int listen_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

int sim_listen_unix(const char *path)
{
	return listen_unix(path);
}

static void dom_free(struct sim_dom *d)
{
	if (d->listen_fd >= 0)
		close(d->listen_fd);
	if (d->gt)
		munmap(d->gt, sizeof(*d->gt));
	if (d->ev)
		munmap(d->ev, sizeof(*d->ev));
	if (d->gt_fd >= 0)
		close(d->gt_fd);
	if (d->mem_fd >= 0)
		close(d->mem_fd);
	if (d->ev_fd >= 0)
		close(d->ev_fd);
	for (unsigned s = 0; s < SIM_NR_EVH; s++)
		if (d->efd[s] >= 0)
			close(d->efd[s]);
	free(d->refs);
	free(d->free_refs);
	free(d);
}

static unsigned pick_domid(struct xensim *x)
{
	for (unsigned id = 1; id < SIM_NR_DOMIDS; id++)
		if (!x->doms[id])
			return id;
	return SIM_NR_DOMIDS;
}

int sim_dom_create(struct xensim *x, unsigned domid, const char *name, unsigned *out)
{
	struct sim_dom *d;
	char path[PATH_MAX + 64], key[64];
	int rc;

	if (domid == SIM_ANY_DOMID)
		domid = pick_domid(x);
	if (domid >= SIM_NR_DOMIDS)
		return -EINVAL;
	if (x->doms[domid])
		return -EEXIST;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->domid = domid;
	d->listen_fd = d->gt_fd = d->mem_fd = d->ev_fd = -1;
	for (unsigned s = 0; s < SIM_NR_EVH; s++)
		d->efd[s] = -1;
	snprintf(d->name, sizeof(d->name), "%s", name && *name ? name : "");
	if (!d->name[0])
		snprintf(d->name, sizeof(d->name), domid ? "dom%u" : "Domain-0", domid);
	snprintf(d->dir, sizeof(d->dir), "%s/dom%u", x->dir, domid);
	d->refs = calloc(SIM_NR_GREFS, sizeof(*d->refs));
	d->free_refs = calloc(SIM_NR_GREFS, sizeof(*d->free_refs));
	rc = -ENOMEM;
	if (!d->refs || !d->free_refs)
		goto fail;
	gnt_svc_init_dom(d);
	d->gntalloc_limit = SIM_GNTALLOC_LIMIT_DEFAULT;
	rc = sim_make_shm("xensim-gnttab", sizeof(*d->gt), &d->gt_fd, (void **)&d->gt);
	if (!rc)
		rc = sim_make_shm("xensim-mem", (size_t)SIM_NR_GREFS * SIM_PAGE_SIZE, &d->mem_fd, NULL);
	if (!rc)
		rc = sim_make_shm("xensim-evtchn", sizeof(*d->ev), &d->ev_fd, (void **)&d->ev);
	if (rc)
		goto fail;
	d->incarnation = ++x->next_incarnation;
	d->gt->magic = SIM_MAGIC;
	d->gt->nr_grefs = SIM_NR_GREFS;
	d->gt->domid = domid;
	d->gt->incarnation = d->incarnation;
	d->ev->magic = SIM_MAGIC;
	d->ev->nr_ports = SIM_NR_PORTS;
	d->ev->domid = domid;
	d->ev->incarnation = d->incarnation;

	if (mkdir(d->dir, 0700) < 0 && errno != EEXIST) {
		rc = -errno;
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/sim.sock", d->dir);
	d->listen_fd = listen_unix(path);
	if (d->listen_fd < 0) {
		rc = d->listen_fd;
		goto fail_dir;
	}
	d->listen_ep = (struct sim_ep){ .kind = SIM_EP_DOM_LISTEN, .obj = d };
	rc = sim_ep_add(x, d->listen_fd, &d->listen_ep);
	if (rc)
		goto fail_dir;
	snprintf(path, sizeof(path), "%s/xenstored.sock", d->dir);
	rc = xs_server_add_domain(x->xs, domid, path);
	if (rc)
		goto fail_dir;
	snprintf(key, sizeof(key), "/local/domain/%u/name", domid);
	xs_server_write(x->xs, key, d->name);
	snprintf(key, sizeof(key), "/local/domain/%u/domid", domid);
	snprintf(path, sizeof(path), "%u", domid);
	xs_server_write(x->xs, key, path);

	x->doms[domid] = d;
	atomic_store(&x->reg->dom[domid].incarnation, d->incarnation);
	atomic_store(&x->reg->dom[domid].state, SIM_DOM_ALIVE);
	xs_server_introduce(x->xs, domid);
	*out = domid;
	return 0;

fail_dir:
	snprintf(path, sizeof(path), "%s/sim.sock", d->dir);
	unlink(path);
	rmdir(d->dir);
fail:
	dom_free(d);
	return rc;
}

/* `xl destroy` removes the guest's frontend-side and backend-side nodes:
 * /local/domain/<N> and /local/domain/<any>/backend/<type>/<N>. */
static void xs_cleanup(struct xensim *x, unsigned domid)
{
	char path[128];
	unsigned ndoms, ntypes;
	char **doms, **types;

	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	xs_server_rm(x->xs, path);
	doms = xs_server_directory(x->xs, "/local/domain", &ndoms);
	for (unsigned i = 0; doms && i < ndoms; i++) {
		snprintf(path, sizeof(path), "/local/domain/%s/backend", doms[i]);
		types = xs_server_directory(x->xs, path, &ntypes);
		for (unsigned t = 0; types && t < ntypes; t++) {
			snprintf(path, sizeof(path), "/local/domain/%s/backend/%s/%u", doms[i],
				 types[t], domid);
			xs_server_rm(x->xs, path);
			free(types[t]);
		}
		free(types);
		free(doms[i]);
	}
	free(doms);
}

int sim_dom_destroy(struct xensim *x, unsigned domid)
{
	struct sim_dom *d = sim_dom_get(x, domid);
	char path[PATH_MAX + 64];

	if (!d)
		return -ESRCH;
	atomic_store(&x->reg->dom[domid].state, SIM_DOM_DYING);
	atomic_store(&d->gt->dead, 1);
	while (d->conns)
		xensim_conn_close(x, d->conns);
	evt_svc_dom_dying(x, d);
	xs_cleanup(x, domid);
	xs_server_remove_domain(x->xs, domid);
	epoll_ctl(x->epfd, EPOLL_CTL_DEL, d->listen_fd, NULL);
	snprintf(path, sizeof(path), "%s/sim.sock", d->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/xenstored.sock", d->dir);
	unlink(path);
	rmdir(d->dir);
	x->doms[domid] = NULL;
	atomic_store(&x->reg->dom[domid].state, SIM_DOM_FREE);
	dom_free(d);
	return 0;
}
