/* The xensim program: CLI, domain lifecycle as `xl destroy` (xenstore
 * cleanup, @releaseDomain), refusal of malformed control messages while the
 * emulator keeps serving other domains, and the selfcheck. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xengnttab.h>
#include <xenstore.h>

#include <cmocka.h>

#include "sim/sim_proto.h"
#include "tests/lib/simenv.h"
#include "tests/sim/sim_test_util.h"

static int setup(void **state)
{
	return sim_fixture_setup(state, 0);
}

/* Runs a shell command line, returns its exit status; its stdout (first
 * 4 KiB) in out. */
static int sh(char *out, size_t cap, const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	FILE *p;
	size_t n;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	n = fread(out, 1, cap - 1, p);
	out[n] = 0;
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void xensim_cli_domain_lifecycle(void **state)
{
	struct sim_fixture *f = *state;
	const char *x = simenv_xensim(f->env), *d = simenv_dir(f->env);
	char out[4096];

	assert_int_equal(sh(out, sizeof(out), "%s domain-create --dir %s --domid 7 --name web", x, d),
			 0);
	assert_string_equal(out, "7\n");
	assert_int_equal(sh(out, sizeof(out), "%s list --dir %s", x, d), 0);
	assert_string_equal(out, "0 Domain-0\n1 dom1\n2 dom2\n7 web\n");
	assert_int_not_equal(sh(out, sizeof(out), "%s domain-create --dir %s --domid 7 2>/dev/null",
				x, d),
			     0); /* exists */
	assert_int_equal(sh(out, sizeof(out), "%s domain-destroy --dir %s 7", x, d), 0);
	assert_int_not_equal(sh(out, sizeof(out), "%s domain-destroy --dir %s 7 2>/dev/null", x, d),
			     0); /* gone */
	assert_int_not_equal(sh(out, sizeof(out), "%s domain-destroy --dir %s 0 2>/dev/null", x, d),
			     0); /* dom0 stays */
	assert_int_equal(sh(out, sizeof(out), "%s list --dir %s", x, d), 0);
	assert_string_equal(out, "0 Domain-0\n1 dom1\n2 dom2\n");
}

/* domain-create --gntalloc-limit is the guest kernel's xen_gntalloc.limit:
 * a process of that domain may share that many pages at once, no more. */
static int share_count(void *arg)
{
	xengntshr_handle *h = xengntshr_open(NULL, 0);
	uint32_t refs[4];
	void *p;

	if (!h)
		return 10;
	p = xengntshr_share_pages(h, 0, 3, refs, 1);
	if (!p)
		return 11;
	if (xengntshr_share_pages(h, 0, 1, refs + 3, 1) || errno != ENOSPC)
		return 12;
	xengntshr_close(h);
	return 0;
}

static void xensim_cli_domain_create_gntalloc_limit(void **state)
{
	struct sim_fixture *f = *state;
	const char *x = simenv_xensim(f->env), *d = simenv_dir(f->env);
	char out[4096];

	assert_int_equal(sh(out, sizeof(out),
			    "%s domain-create --dir %s --domid 8 --gntalloc-limit 3", x, d), 0);
	assert_int_equal(simenv_wait(simenv_spawn(f->env, 8, share_count, NULL)), 0);
	assert_int_not_equal(sh(out, sizeof(out),
				"%s domain-create --dir %s --domid 9 --gntalloc-limit 0 2>&1", x, d),
			     0);
	assert_non_null(strstr(out, "bad gntalloc limit"));
	assert_int_equal(sh(out, sizeof(out), "%s domain-destroy --dir %s 8", x, d), 0);
}

static void xensim_env_prints_the_four_variables(void **state)
{
	struct sim_fixture *f = *state;
	const char *d = simenv_dir(f->env);
	char out[4096], want[2048];

	assert_int_equal(sh(out, sizeof(out), "env -u LD_LIBRARY_PATH %s env --dir %s --domid 1",
			    simenv_xensim(f->env), d),
			 0);
	snprintf(want, sizeof(want),
		 "export XENSIM_DIR='%s'\nexport XENSIM_DOMID=1\n"
		 "export XENSTORED_PATH='%s/dom1/xenstored.sock'\n",
		 d, d);
	assert_memory_equal(out, want, strlen(want));
	assert_non_null(strstr(out + strlen(want), "export LD_LIBRARY_PATH='/"));
	assert_non_null(strstr(out + strlen(want), "simlib'\n"));
}

/* exec --create: a new domain for the command's lifetime. */
static void xensim_exec_create_lives_as_long_as_command(void **state)
{
	struct sim_fixture *f = *state;
	const char *x = simenv_xensim(f->env), *d = simenv_dir(f->env);
	char out[4096];

	assert_int_equal(sh(out, sizeof(out),
			    "%s exec --dir %s --domid 9 --create -- sh -c "
			    "'echo $XENSIM_DOMID $XENSTORED_PATH; %s list --dir %s | grep -c ^9'",
			    x, d, x, d),
			 0);
	assert_non_null(strstr(out, "9 "));
	assert_non_null(strstr(out, "/dom9/xenstored.sock\n1\n"));
	assert_int_equal(sh(out, sizeof(out), "%s list --dir %s", x, d), 0);
	assert_null(strstr(out, "\n9 "));
	assert_int_equal(sh(out, sizeof(out), "%s exec --dir %s --domid 1 -- sh -c 'exit 3'", x, d),
			 3);
}

/* SIGTERM to a backgrounded `xensim exec` reaches the command and the
 * created domain is destroyed: a script that stops its guests by killing
 * their wrappers leaves nothing running. */
static void xensim_exec_passes_sigterm_to_command(void **state)
{
	struct sim_fixture *f = *state;
	const char *x = simenv_xensim(f->env), *d = simenv_dir(f->env);
	char pidfile[4200], cmd[8192], out[4096];
	pid_t wrapper, inner = 0;
	int status, tries;
	FILE *pf;

	snprintf(pidfile, sizeof(pidfile), "%s/exec-inner.pid", d);
	snprintf(cmd, sizeof(cmd), "echo $$ > %s; exec sleep 60", pidfile);
	wrapper = fork();
	assert_true(wrapper >= 0);
	if (wrapper == 0) {
		execl(x, "xensim", "exec", "--dir", d, "--domid", "12", "--create", "--",
		      "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	/* up to a minute: xensim exec and sh may run under memcheck */
	for (tries = 0; tries < 6000 && inner <= 0; tries++) {
		pf = fopen(pidfile, "r");
		if (pf) {
			if (fscanf(pf, "%d", &inner) != 1)
				inner = 0;
			fclose(pf);
		}
		if (inner <= 0)
			usleep(10000);
	}
	assert_true(inner > 0);
	assert_int_equal(kill(wrapper, SIGTERM), 0);
	assert_int_equal(waitpid(wrapper, &status, 0), wrapper);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 128 + SIGTERM);
	/* the command is gone (reaped by the wrapper), and so is its domain */
	assert_int_equal(kill(inner, 0), -1);
	assert_int_equal(errno, ESRCH);
	assert_int_equal(sh(out, sizeof(out), "%s list --dir %s", x, d), 0);
	assert_null(strstr(out, "\n12 "));
}

static int raw_connect(const char *dir, const char *name)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return sim_connect(path);
}

static int32_t raw_call(int fd, const void *msg, size_t len)
{
	char rep[SIM_MSG_MAX];
	struct sim_msg r;

	if (send(fd, msg, len, 0) != (ssize_t)len)
		return -1;
	if (recv(fd, rep, sizeof(rep), 0) < (ssize_t)sizeof(r))
		return -2;
	memcpy(&r, rep, sizeof(r));
	return r.magic == SIM_PROTO_MAGIC ? r.err : -3;
}

/* Garbage on a domain's control socket gets EPROTO on that connection;
 * the connection, the domain and every other domain keep working. */
static void malformed_control_messages_refused(void **state)
{
	struct sim_fixture *f = *state;
	int fd = raw_connect(simenv_dir(f->env), "dom1/sim.sock");
	struct sim_msg m = { .magic = SIM_PROTO_MAGIC, .op = 4242 };
	struct {
		struct sim_msg h;
		uint32_t item[3];
	} map = { .h = { .magic = SIM_PROTO_MAGIC, .op = SIM_OP_MAP, .count = 2, .a = 1 } };
	xengnttab_grant_copy_segment_t s = { 0 };
	struct granter g;
	xengnttab_handle *gt;
	uint8_t buf[64];

	assert_true(fd >= 0);
	assert_int_equal(raw_call(fd, "xyz", 3), EPROTO);  /* too short */
	m.magic = 0x1234;
	assert_int_equal(raw_call(fd, &m, sizeof(m)), EPROTO); /* bad magic */
	m.magic = SIM_PROTO_MAGIC;
	assert_int_equal(raw_call(fd, &m, sizeof(m)), EPROTO); /* unknown op */
	assert_int_equal(raw_call(fd, &map, sizeof(map)), EPROTO); /* count vs length */
	m.op = SIM_OP_UNSHARE;
	m.count = 1000;
	assert_int_equal(raw_call(fd, &m, sizeof(m)), EPROTO);
	m.op = SIM_OP_SHARE;
	m.count = 0;
	assert_int_equal(raw_call(fd, &m, sizeof(m)), EINVAL);
	m.op = SIM_OP_OPEN_EVT; /* without its eventfd */
	assert_int_equal(raw_call(fd, &m, sizeof(m)), EPROTO);
	m.op = SIM_OP_UNMAP;
	m.a = 77; /* no such mapping */
	assert_int_equal(raw_call(fd, &m, sizeof(m)), EINVAL);
	m.op = SIM_OP_PEER_GNT;
	m.a = 1234; /* no such domain */
	assert_int_equal(raw_call(fd, &m, sizeof(m)), ESRCH);
	m.op = SIM_OP_PEER_GNT;
	m.a = 2;
	assert_int_equal(raw_call(fd, &m, sizeof(m)), 0); /* still served */
	close(fd);

	fd = raw_connect(simenv_dir(f->env), "ctl.sock");
	assert_true(fd >= 0);
	assert_int_equal(raw_call(fd, "\1\2\3\4\5\6\7", 7), EPROTO);
	m = (struct sim_msg){ .magic = SIM_PROTO_MAGIC, .op = SIM_OP_DOM_CREATE, .a = 0x9999 };
	assert_int_equal(raw_call(fd, &m, sizeof(m)), EINVAL);
	close(fd);

	/* other domains are still served */
	assert_int_equal(granter_start(f->env, &g, 2, 0, 1, true), 0);
	gt = xengnttab_open(NULL, 0);
	assert_non_null(gt);
	s.flags = GNTCOPY_source_gref;
	s.source.foreign.domid = 2;
	s.source.foreign.ref = g.refs[0];
	s.dest.virt = buf;
	s.len = sizeof(buf);
	assert_int_equal(xengnttab_grant_copy(gt, 1, &s), 0);
	assert_int_equal(s.status, GNTST_okay);
	assert_int_equal(buf[63], granter_byte(0, 63));
	xengnttab_close(gt);
	assert_int_equal(granter_stop(&g), 0);
}

static bool watch_fires(struct xs_handle *xs, const char *token)
{
	for (int i = 0; i < 300; i++) {   /* a minute at most */
		struct pollfd p = { .fd = xs_fileno(xs), .events = POLLIN };
		unsigned n;
		char **w;
		bool hit;

		if (poll(&p, 1, 200) != 1)
			continue;
		w = xs_read_watch(xs, &n);
		hit = w && !strcmp(w[XS_WATCH_TOKEN], token);
		free(w);
		if (hit)
			return true;
	}
	return false;
}

static bool exists(struct xs_handle *xs, const char *path)
{
	unsigned len;
	char *v = xs_read(xs, XBT_NULL, path, &len);

	free(v);
	return v != NULL;
}

/* Destroy does what Xen + `xl destroy` do to xenstore: /local/domain/<N>
 * and every /local/domain/<M>/backend/<type>/<N> go, @releaseDomain fires;
 * creation fires @introduceDomain. */
static void domain_destroy_cleans_xenstore(void **state)
{
	struct sim_fixture *f = *state;
	struct xs_handle *xs = xs_open(0);

	assert_non_null(xs);
	assert_true(xs_watch(xs, "@introduceDomain", "intro"));
	assert_true(watch_fires(xs, "intro")); /* fires once when set */
	assert_int_equal(simenv_domain_create(f->env, 5), 0);
	assert_true(watch_fires(xs, "intro"));
	assert_true(exists(xs, "/local/domain/5"));
	assert_true(xs_write(xs, XBT_NULL, "/local/domain/0/backend/vif/5/0/state", "4", 1));
	assert_true(xs_write(xs, XBT_NULL, "/local/domain/0/backend/vif/2/0/state", "4", 1));
	assert_true(xs_write(xs, XBT_NULL, "/local/domain/1/backend/vbd/5/51712/state", "4", 1));
	assert_true(xs_watch(xs, "@releaseDomain", "rel"));
	assert_true(watch_fires(xs, "rel"));
	assert_int_equal(simenv_domain_destroy(f->env, 5), 0);
	assert_true(watch_fires(xs, "rel"));
	assert_false(exists(xs, "/local/domain/5"));
	assert_false(exists(xs, "/local/domain/0/backend/vif/5"));
	assert_false(exists(xs, "/local/domain/1/backend/vbd/5"));
	assert_true(exists(xs, "/local/domain/0/backend/vif/2/0/state"));
	xs_close(xs);
}

/* The emulator's libraries export exactly the versioned symbols of
 * Debian's, so a binary linked against those runs unchanged on them. */
static void simlibs_export_debians_symbol_versions(void **state)
{
	struct sim_fixture *f = *state;
	static const char *const libs[] = { "libxengnttab.so.1", "libxenevtchn.so.1" };
	char real[8192], sim[8192], simlib[4096];
	const char *list = "objdump -T %s | awk '$2 == \"g\" {print $NF \"@\" $(NF-1)}' | sort";

	if (system("command -v objdump >/dev/null 2>&1") != 0)
		skip(); /* binutils missing: nothing to compare with */
	snprintf(simlib, sizeof(simlib), "%s", simenv_xensim(f->env));
	*strrchr(simlib, '/') = 0; /* .../bin */
	for (unsigned i = 0; i < 2; i++) {
		char path[8192];

		snprintf(path, sizeof(path), "/usr/lib/x86_64-linux-gnu/%s", libs[i]);
		if (access(path, R_OK) != 0)
			skip();
		assert_int_equal(sh(real, sizeof(real), list, path), 0);
		snprintf(path, sizeof(path), "%s/../simlib/%s", simlib, libs[i]);
		assert_int_equal(sh(sim, sizeof(sim), list, path), 0);
		assert_non_null(strstr(real, "VERS_1.1"));
		assert_string_equal(sim, real);
	}
}

static void xensim_selfcheck_passes(void **state)
{
	struct sim_fixture *f = *state;
	char out[4096];

	assert_int_equal(sh(out, sizeof(out), "%s selfcheck", simenv_xensim(f->env)), 0);
	assert_string_equal(out, "PASS\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(xensim_cli_domain_lifecycle),
		cmocka_unit_test(xensim_cli_domain_create_gntalloc_limit),
		cmocka_unit_test(xensim_env_prints_the_four_variables),
		cmocka_unit_test(xensim_exec_create_lives_as_long_as_command),
		cmocka_unit_test(xensim_exec_passes_sigterm_to_command),
		cmocka_unit_test(malformed_control_messages_refused),
		cmocka_unit_test(domain_destroy_cleans_xenstore),
		cmocka_unit_test(simlibs_export_debians_symbol_versions),
		cmocka_unit_test(xensim_selfcheck_passes),
	};

	return cmocka_run_group_tests(tests, setup, sim_fixture_teardown);
}
