/* xensim selfcheck: a private emulator in a temporary directory, a guest
 * (domain 1) that shares a page and offers an event channel through
 * xenstore, and dom0 that finds them with a watch, grant-copies both ways,
 * binds and notifies. Uses only the real Xen library API. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenstore.h>

#include "sim/admin.h"
#include "sim/xensim_cli.h"

#define KEY "/local/domain/1/selfcheck"
#define PING "ping from dom1"
#define PONG "pong from dom0"

static int check(bool ok, const char *what)
{
	if (!ok)
		fprintf(stderr, "selfcheck: %s failed (%s)\n", what, strerror(errno));
	return ok ? 0 : -1;
}

static bool wait_fd(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

static int guest(void)
{
	xengntshr_handle *gs = xengntshr_open(NULL, 0);
	xenevtchn_handle *ev = xenevtchn_open(NULL, 0);
	struct xs_handle *xs = xs_open(0);
	uint32_t ref;
	char val[64];
	char *page;
	int port;

	if (check(gs && ev && xs, "guest: opening gntshr, evtchn and xenstore"))
		return 1;
	page = xengntshr_share_pages(gs, 0, 1, &ref, 1);
	if (check(page != NULL, "guest: share_pages"))
		return 1;
	strcpy(page, PING);
	port = xenevtchn_bind_unbound_port(ev, 0);
	if (check(port > 0, "guest: bind_unbound_port"))
		return 1;
	snprintf(val, sizeof(val), "%u %d", ref, port);
	if (check(xs_write(xs, XBT_NULL, KEY, val, strlen(val)), "guest: xs_write"))
		return 1;
	if (check(wait_fd(xenevtchn_fd(ev), 10000), "guest: waiting for dom0's event"))
		return 1;
	if (check(xenevtchn_pending(ev) == port, "guest: pending port"))
		return 1;
	xenevtchn_unmask(ev, port);
	if (check(strcmp(page, PONG) == 0, "guest: dom0's reply in the shared page"))
		return 1;
	xengntshr_unshare(gs, page, 1);
	xs_close(xs);
	xenevtchn_close(ev);
	xengntshr_close(gs);
	return 0;
}

static int dom0(void)
{
	struct xs_handle *xs = xs_open(0);
	xengnttab_handle *gt = xengnttab_open(NULL, 0);
	xenevtchn_handle *ev = xenevtchn_open(NULL, 0);
	xengnttab_grant_copy_segment_t seg = { 0 };
	char buf[64] = "", *val = NULL;
	unsigned ref, len, n;
	int port, lport;

	if (check(xs && gt && ev, "dom0: opening xenstore, gnttab and evtchn"))
		return -1;
	if (check(xs_watch(xs, KEY, "sc"), "dom0: xs_watch"))
		return -1;
	for (int i = 0; i < 20 && !val; i++) {
		char **w;

		if (!wait_fd(xs_fileno(xs), 500))
			continue;
		w = xs_read_watch(xs, &n);
		free(w);
		val = xs_read(xs, XBT_NULL, KEY, &len);
	}
	if (check(val && sscanf(val, "%u %d", &ref, &port) == 2, "dom0: the guest's key"))
		return -1;
	free(val);
	seg.flags = GNTCOPY_source_gref;
	seg.source.foreign.domid = 1;
	seg.source.foreign.ref = ref;
	seg.dest.virt = buf;
	seg.len = sizeof(PING);
	if (check(xengnttab_grant_copy(gt, 1, &seg) == 0 && seg.status == GNTST_okay &&
			  strcmp(buf, PING) == 0,
		  "dom0: grant copy from the guest"))
		return -1;
	seg = (xengnttab_grant_copy_segment_t){ 0 };
	seg.flags = GNTCOPY_dest_gref;
	seg.dest.foreign.domid = 1;
	seg.dest.foreign.ref = ref;
	seg.source.virt = PONG;
	seg.len = sizeof(PONG);
	if (check(xengnttab_grant_copy(gt, 1, &seg) == 0 && seg.status == GNTST_okay,
		  "dom0: grant copy to the guest"))
		return -1;
	lport = xenevtchn_bind_interdomain(ev, 1, port);
	if (check(lport > 0, "dom0: bind_interdomain"))
		return -1;
	if (check(xenevtchn_notify(ev, lport) == 0, "dom0: notify"))
		return -1;
	xenevtchn_close(ev);
	xengnttab_close(gt);
	xs_close(xs);
	return 0;
}

int xensim_selfcheck(void)
{
	char dir[] = "/tmp/xensim-selfcheck.XXXXXX";
	int pfd[2], status = 1, ok = 0;
	pid_t daemon, g;
	char c;

	if (!mkdtemp(dir) || pipe2(pfd, O_CLOEXEC) < 0) {
		perror("selfcheck");
		return 1;
	}
	daemon = fork();
	if (daemon == 0) {
		close(pfd[0]);
		_exit(xensim_serve(dir, pfd[1]) ? 1 : 0);
	}
	close(pfd[1]);
	if (daemon < 0 || read(pfd[0], &c, 1) != 1) {
		fprintf(stderr, "selfcheck: the emulator did not start\n");
		puts("FAIL");
		return 1;
	}
	close(pfd[0]);
	if (sim_admin_create(dir, 1, "selfcheck-guest", 0, NULL) == 0) {
		g = fork();
		if (g == 0) {
			xensim_setenv(dir, 1);
			_exit(guest());
		}
		xensim_setenv(dir, 0);
		if (g > 0 && dom0() == 0 && waitpid(g, &status, 0) == g && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0)
			ok = 1;
		else if (g > 0) {
			kill(g, SIGKILL);
			waitpid(g, NULL, 0);
		}
		ok &= sim_admin_destroy(dir, 1) == 0;
	} else {
		fprintf(stderr, "selfcheck: cannot create domain 1\n");
	}
	sim_admin_stop(dir);
	waitpid(daemon, &status, 0);
	ok &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
	rmdir(dir);
	puts(ok ? "PASS" : "FAIL");
	return ok ? 0 : 1;
}
