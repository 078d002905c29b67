/* Connection of an emulated-library handle to the xensim daemon. */
#include "sim/sim_client.h"
#include "sim/admin.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int parse_domid(const char *s, unsigned *domid)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v >= SIM_NR_DOMIDS)
		return -EINVAL;
	*domid = (unsigned)v;
	return 0;
}

int sim_client_open(struct sim_client *c, const char *what)
{
	const char *dir = getenv("XENSIM_DIR");
	const char *dom = getenv("XENSIM_DOMID");
	char path[PATH_MAX];
	void *reg;
	int fd, rc;

	c->sock = -1;
	c->reg = NULL;
	c->dir = NULL;
	pthread_mutex_init(&c->lock, NULL);
	if (!dir || !*dir || !dom) {
		fprintf(stderr, "%s (xensim): no hypervisor emulator: XENSIM_DIR and XENSIM_DOMID "
			"must be set (see `xensim env`)\n", what);
		return -ENOENT;
	}
	if (parse_domid(dom, &c->domid)) {
		fprintf(stderr, "%s (xensim): XENSIM_DOMID=%s is not a domain id\n", what, dom);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "%s/domains", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		fprintf(stderr, "%s (xensim): no emulator at %s: %s\n", what, dir, strerror(-rc));
		return rc;
	}
	reg = mmap(NULL, sizeof(struct sim_registry), PROT_READ, MAP_SHARED, fd, 0);
	rc = -errno;
	close(fd);
	if (reg == MAP_FAILED) {
		fprintf(stderr, "%s (xensim): cannot map %s: %s\n", what, path, strerror(-rc));
		return rc;
	}
	c->reg = reg;
	c->dir = strdup(dir);
	snprintf(path, sizeof(path), "%s/dom%u/sim.sock", dir, c->domid);
	c->sock = sim_connect(path);
	if (c->sock < 0) {
		rc = c->sock;
		fprintf(stderr, "%s (xensim): domain %u does not exist in %s: %s\n", what,
			c->domid, dir, strerror(-rc));
		sim_client_close(c);
		return rc;
	}
	return 0;
}

void sim_client_close(struct sim_client *c)
{
	if (c->sock >= 0) {
		close(c->sock);
		/* the daemon sees the hang-up only as an event in its loop; its
		 * ping answers after ending hung-up connections */
		if (c->dir)
			sim_admin_ping(c->dir);
	}
	free(c->dir);
	c->dir = NULL;
	if (c->reg)
		munmap((void *)c->reg, sizeof(struct sim_registry));
	c->sock = -1;
	c->reg = NULL;
	pthread_mutex_destroy(&c->lock);
}

int sim_client_call(struct sim_client *c, struct sim_msg *req, const void *payload,
		    size_t len, const int *fds, unsigned nfds, void *reply, int *rfds,
		    unsigned *nrfds)
{
	int rc;

	req->magic = SIM_PROTO_MAGIC;
	pthread_mutex_lock(&c->lock);
	rc = sim_call(c->sock, req, payload, len, fds, nfds, reply, rfds, nrfds);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

void *sim_map_fd(int fd, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}
