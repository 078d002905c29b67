/* The granter process of the emulator's conformance tests. */
#include "tests/sim/sim_test_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xengnttab.h>

#define PAGE 4096

/* Moves all of buf through the pipe fd, whatever the size of each read
 * or write. */
static int io_full(int fd, void *buf, size_t len, bool out)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t r = out ? write(fd, p, len) : read(fd, p, len);

		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

static int read_full(int fd, void *buf, size_t len)
{
	return io_full(fd, buf, len, false);
}

static int write_full(int fd, const void *buf, size_t len)
{
	return io_full(fd, (void *)buf, len, true);
}

struct simenv *sim_test_env_start(void)
{
	struct simenv *env = simenv_start();

	if (env && !simenv_domain_create(env, 1) && !simenv_domain_create(env, 2) &&
	    !simenv_enter(env, 0))
		return env;
	simenv_stop(env);
	return NULL;
}

int sim_fixture_setup(void **state, unsigned handles)
{
	struct sim_fixture *f = calloc(1, sizeof(*f));

	*state = f;
	if (!f || !(f->env = sim_test_env_start()))
		return -1;
	if ((handles & SIM_FIX_GNTTAB) && !(f->gt = xengnttab_open(NULL, 0)))
		return -1;
	if ((handles & SIM_FIX_EVTCHN) && !(f->ev = xenevtchn_open(NULL, 0)))
		return -1;
	return 0;
}

int sim_fixture_teardown(void **state)
{
	struct sim_fixture *f = *state;

	if (!f)
		return 0;
	xengnttab_close(f->gt);
	xenevtchn_close(f->ev);
	simenv_stop(f->env);
	free(f);
	return 0;
}

struct granter_cmd {
	char op;
	uint32_t arg;
};

static int granter_main(struct granter *g)
{
	xengntshr_handle *h = xengntshr_open(NULL, 0);
	uint8_t *pages, *extra[GRANTER_MAX];
	unsigned nextra = 0;
	struct granter_cmd c;
	int32_t status = 0;

	close(g->other_ends[0]);
	close(g->other_ends[1]);
	if (!h)
		return 10;
	pages = xengntshr_share_pages(h, g->grantee, (int)g->count, g->refs, g->writable);
	if (!pages)
		return 11;
	for (unsigned i = 0; i < g->count; i++)
		for (unsigned o = 0; o < PAGE; o++)
			pages[i * PAGE + o] = granter_byte(i, o);
	if (write_full(g->reply, g->refs, sizeof(g->refs[0]) * g->count))
		return 12;
	while (read_full(g->cmd, &c, sizeof(c)) == 0) {
		switch (c.op) {
		case 'r':
			if (write_full(g->reply, pages + (size_t)c.arg * PAGE, PAGE))
				return 13;
			break;
		case 'u':
			status = xengntshr_unshare(h, pages + (size_t)c.arg * PAGE, 1) ? -errno : 0;
			write_full(g->reply, &status, sizeof(status));
			break;
		case 's': {
			uint32_t ref = ~0u;

			if (nextra < GRANTER_MAX &&
			    (extra[nextra] = xengntshr_share_pages(h, g->grantee, 1, &ref, g->writable)))
				nextra++;
			write_full(g->reply, &ref, sizeof(ref));
			break;
		}
		case 'q':
			xengntshr_close(h);
			return 0;
		}
	}
	return 14;
}

static int granter_entry(void *arg)
{
	return granter_main(arg);
}

int granter_start(struct simenv *env, struct granter *g, unsigned domid, unsigned grantee,
		  unsigned count, bool writable)
{
	int cmd[2], rep[2];

	memset(g, 0, sizeof(*g));
	if (count > GRANTER_MAX || pipe(cmd) || pipe(rep))
		return -1;
	g->domid = domid;
	g->grantee = grantee;
	g->count = count;
	g->writable = writable;
	g->cmd = cmd[0];
	g->reply = rep[1];
	g->other_ends[0] = cmd[1];
	g->other_ends[1] = rep[0];
	g->pid = simenv_spawn(env, domid, granter_entry, g);
	close(cmd[0]);
	close(rep[1]);
	g->cmd = cmd[1];
	g->reply = rep[0];
	if (g->pid < 0)
		return -1;
	return read_full(g->reply, g->refs, sizeof(g->refs[0]) * count);
}

static int send_cmd(struct granter *g, char op, uint32_t arg)
{
	struct granter_cmd c;

	memset(&c, 0, sizeof(c)); /* the padding goes down the pipe too */
	c.op = op;
	c.arg = arg;
	return write_full(g->cmd, &c, sizeof(c));
}

int granter_read(struct granter *g, unsigned page, uint8_t *buf)
{
	if (send_cmd(g, 'r', page))
		return -1;
	return read_full(g->reply, buf, PAGE);
}

int granter_unshare(struct granter *g, unsigned page)
{
	int32_t status;

	if (send_cmd(g, 'u', page) || read_full(g->reply, &status, sizeof(status)))
		return -1;
	return status;
}

long granter_share_one(struct granter *g)
{
	uint32_t ref;

	if (send_cmd(g, 's', 0) || read_full(g->reply, &ref, sizeof(ref)) || ref == ~0u)
		return -1;
	return ref;
}

int granter_stop(struct granter *g)
{
	int rc;

	send_cmd(g, 'q', 0);
	close(g->cmd);
	rc = simenv_wait(g->pid);
	close(g->reply);
	return rc;
}
