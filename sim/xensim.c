/* xensim: the hypervisor emulator's daemon and command line.
 *   xensim start [--dir D] [--foreground]
 *   xensim stop [--dir D]
 *   xensim domain-create [--dir D] [--domid N] [--name S] [--gntalloc-limit G]
 *   xensim domain-destroy [--dir D] N
 *   xensim list [--dir D]
 *   xensim env [--dir D] --domid N
 *   xensim exec [--dir D] [--domid N] [--create [--gntalloc-limit G]] -- CMD...
 *   xensim selfcheck
 * --dir defaults to $XENSIM_DIR. --gntalloc-limit is the new domain's
 * xen_gntalloc.limit (grants its processes may share at once; Linux's
 * default 1024 otherwise). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sim/admin.h"
#include "sim/daemon.h"
#include "sim/xensim_cli.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: xensim start [--dir D] [--foreground]\n"
		"       xensim stop [--dir D]\n"
		"       xensim domain-create [--dir D] [--domid N] [--name S] [--gntalloc-limit G]\n"
		"       xensim domain-destroy [--dir D] N\n"
		"       xensim list [--dir D]\n"
		"       xensim env [--dir D] --domid N\n"
		"       xensim exec [--dir D] [--domid N] [--create [--gntalloc-limit G]] -- CMD [ARGS...]\n"
		"       xensim selfcheck\n"
		"--dir defaults to $XENSIM_DIR; --gntalloc-limit defaults to 1024 (Linux).\n");
}

struct cli_opts {
	const char *dir;
	const char *name;
	unsigned domid; /* SIM_ANY_DOMID when not given */
	unsigned gntalloc_limit; /* 0: the default */
	bool foreground;
	bool create;
};

static int parse_uint(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v >= SIM_NR_DOMIDS)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int parse_opts(int argc, char **argv, struct cli_opts *o)
{
	static const struct option lopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "domid", required_argument, NULL, 'i' },
		{ "name", required_argument, NULL, 'n' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "create", no_argument, NULL, 'c' },
		{ "gntalloc-limit", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int ch;

	o->dir = getenv("XENSIM_DIR");
	o->domid = SIM_ANY_DOMID;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "+", lopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			o->dir = optarg;
			break;
		case 'i':
			if (parse_uint(optarg, &o->domid)) {
				fprintf(stderr, "xensim: bad domain id '%s'\n", optarg);
				return -1;
			}
			break;
		case 'n':
			o->name = optarg;
			break;
		case 'f':
			o->foreground = true;
			break;
		case 'c':
			o->create = true;
			break;
		case 'g': {
			char *end;
			unsigned long v;

			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || v == 0 || v > SIM_NR_GREFS) {
				fprintf(stderr, "xensim: bad gntalloc limit '%s' (1..%u)\n", optarg,
					SIM_NR_GREFS);
				return -1;
			}
			o->gntalloc_limit = (unsigned)v;
			break;
		}
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	return 0;
}

static int need_dir(const struct cli_opts *o)
{
	if (!o->dir || !*o->dir) {
		fprintf(stderr, "xensim: no --dir given and XENSIM_DIR is not set\n");
		return -1;
	}
	return 0;
}

static int fail(const char *what, int rc)
{
	fprintf(stderr, "xensim: %s: %s\n", what, strerror(-rc));
	return 1;
}

int xensim_serve(const char *dir, int ready_fd)
{
	struct xensim *x = calloc(1, sizeof(*x));
	int rc;

	if (!x)
		return -ENOMEM;
	rc = xensim_init(x, dir);
	if (rc)
		fprintf(stderr, "xensim: cannot start in %s: %s\n", dir, strerror(-rc));
	else
		rc = xensim_run(x, ready_fd);
	xensim_fini(x);
	free(x);
	return rc;
}

static int cmd_start(struct cli_opts *o)
{
	char tmpl[] = "/tmp/xensim.XXXXXX";
	char dir[PATH_MAX];
	int pfd[2];
	char c;
	pid_t pid;

	if (!o->dir) {
		if (!mkdtemp(tmpl))
			return fail("mkdtemp", -errno);
		o->dir = tmpl;
	}
	if (!realpath(o->dir, dir)) {
		if (mkdir(o->dir, 0700) < 0 || !realpath(o->dir, dir))
			return fail(o->dir, -errno);
	}
	if (sim_admin_ping(dir) == 0) {
		fprintf(stderr, "xensim: an emulator is already running in %s\n", dir);
		return 1;
	}
	if (o->foreground) {
		printf("%s\n", dir);
		fflush(stdout);
		return xensim_serve(dir, -1) ? 1 : 0;
	}
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return fail("pipe", -errno);
	pid = fork();
	if (pid < 0)
		return fail("fork", -errno);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		close(pfd[0]);
		setsid();
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			close(null);
		}
		_exit(xensim_serve(dir, pfd[1]) ? 1 : 0);
	}
	close(pfd[1]);
	if (read(pfd[0], &c, 1) != 1) {
		fprintf(stderr, "xensim: the emulator failed to start\n");
		return 1;
	}
	printf("%s\n", dir);
	return 0;
}

static int cmd_stop(struct cli_opts *o)
{
	char path[PATH_MAX + 16];
	int rc;

	if (need_dir(o))
		return 2;
	rc = sim_admin_stop(o->dir);
	if (rc)
		return fail("stop", rc);
	snprintf(path, sizeof(path), "%s/ctl.sock", o->dir);
	for (int i = 0; i < 500 && access(path, F_OK) == 0; i++)
		usleep(10000);
	return 0;
}

/* Where the emulator's Xen libraries are: $XENSIM_LIBDIR, or next to this
 * program in the build tree (bin/../simlib) or the installed tree
 * (sbin/../lib/netbackd/sim). */
int xensim_libdir(char *out, size_t cap)
{
	const char *env = getenv("XENSIM_LIBDIR");
	char exe[PATH_MAX], cand[PATH_MAX + 32];
	ssize_t n;

	if (env && *env) {
		snprintf(out, cap, "%s", env);
		return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -errno;
	exe[n] = 0;
	dirname(exe);
	snprintf(cand, sizeof(cand), "%s/../simlib", exe);
	if (access(cand, F_OK) != 0)
		snprintf(cand, sizeof(cand), "%s/../lib/netbackd/sim", exe);
	if (!realpath(cand, out))
		return -errno;
	(void)cap;
	return 0;
}

int xensim_setenv(const char *dir, unsigned domid)
{
	char buf[PATH_MAX * 2 + 64], lib[PATH_MAX];
	const char *old = getenv("LD_LIBRARY_PATH");

	setenv("XENSIM_DIR", dir, 1);
	snprintf(buf, sizeof(buf), "%u", domid);
	setenv("XENSIM_DOMID", buf, 1);
	snprintf(buf, sizeof(buf), "%s/dom%u/xenstored.sock", dir, domid);
	setenv("XENSTORED_PATH", buf, 1);
	if (xensim_libdir(lib, sizeof(lib)) == 0) {
		snprintf(buf, sizeof(buf), "%s%s%s", lib, old && *old ? ":" : "", old ? old : "");
		setenv("LD_LIBRARY_PATH", buf, 1);
	}
	return 0;
}

static int cmd_env(struct cli_opts *o)
{
	if (need_dir(o))
		return 2;
	if (o->domid == SIM_ANY_DOMID) {
		fprintf(stderr, "xensim env: --domid N is required\n");
		return 2;
	}
	xensim_setenv(o->dir, o->domid);
	printf("export XENSIM_DIR='%s'\n", getenv("XENSIM_DIR"));
	printf("export XENSIM_DOMID=%s\n", getenv("XENSIM_DOMID"));
	printf("export XENSTORED_PATH='%s'\n", getenv("XENSTORED_PATH"));
	printf("export LD_LIBRARY_PATH='%s'\n", getenv("LD_LIBRARY_PATH"));
	return 0;
}

static int cmd_create(struct cli_opts *o)
{
	unsigned domid;
	int rc;

	if (need_dir(o))
		return 2;
	rc = sim_admin_create(o->dir, o->domid, o->name, o->gntalloc_limit, &domid);
	if (rc)
		return fail("domain-create", rc);
	printf("%u\n", domid);
	return 0;
}

static int cmd_destroy(struct cli_opts *o, int argc, char **argv)
{
	unsigned domid;
	int rc;

	if (need_dir(o))
		return 2;
	if (optind >= argc || parse_uint(argv[optind], &domid)) {
		fprintf(stderr, "xensim domain-destroy: a domain id is required\n");
		return 2;
	}
	rc = sim_admin_destroy(o->dir, domid);
	return rc ? fail("domain-destroy", rc) : 0;
}

static int cmd_list(struct cli_opts *o)
{
	char buf[65536];
	int rc;

	if (need_dir(o))
		return 2;
	rc = sim_admin_list(o->dir, buf, sizeof(buf));
	if (rc)
		return fail("list", rc);
	fputs(buf, stdout);
	return 0;
}

static int cmd_exec(struct cli_opts *o, int argc, char **argv)
{
	unsigned domid = o->domid;
	int status, rc;
	pid_t pid;

	if (need_dir(o))
		return 2;
	if (optind >= argc) {
		fprintf(stderr, "xensim exec: no command\n");
		return 2;
	}
	if (o->create) {
		rc = sim_admin_create(o->dir, o->domid, o->name, o->gntalloc_limit, &domid);
		if (rc)
			return fail("exec --create", rc);
	} else if (domid == SIM_ANY_DOMID) {
		fprintf(stderr, "xensim exec: --domid N (or --create) is required\n");
		return 2;
	}
	/* The guest's lifetime is the command's: termination requests are
	 * passed on to it, and it dies if we are killed outright. Signals are
	 * taken synchronously so no handler needs to know the child's pid. */
	sigset_t fwd, old;
	sigemptyset(&fwd);
	sigaddset(&fwd, SIGINT);
	sigaddset(&fwd, SIGTERM);
	sigaddset(&fwd, SIGHUP);
	sigaddset(&fwd, SIGCHLD);
	sigprocmask(SIG_BLOCK, &fwd, &old);
	pid = fork();
	if (pid < 0)
		return fail("fork", -errno);
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		xensim_setenv(o->dir, domid);
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "xensim exec: %s: %s\n", argv[optind], strerror(errno));
		_exit(127);
	}
	for (;;) {
		int sig = sigwaitinfo(&fwd, NULL);

		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			kill(pid, sig);
			continue;
		}
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
	}
	if (o->create) {
		rc = sim_admin_destroy(o->dir, domid);
		if (rc)
			fail("exec: destroying the domain", rc);
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int main(int argc, char **argv)
{
	struct cli_opts o = { 0 };
	const char *cmd;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	cmd = argv[1];
	if (parse_opts(argc - 1, argv + 1, &o))
		return 2;
	argc--;
	argv++;
	if (!strcmp(cmd, "start"))
		return cmd_start(&o);
	if (!strcmp(cmd, "stop"))
		return cmd_stop(&o);
	if (!strcmp(cmd, "domain-create"))
		return cmd_create(&o);
	if (!strcmp(cmd, "domain-destroy"))
		return cmd_destroy(&o, argc, argv);
	if (!strcmp(cmd, "list"))
		return cmd_list(&o);
	if (!strcmp(cmd, "env"))
		return cmd_env(&o);
	if (!strcmp(cmd, "exec"))
		return cmd_exec(&o, argc, argv);
	if (!strcmp(cmd, "selfcheck"))
		return xensim_selfcheck();
	usage(stderr);
	return 2;
}
