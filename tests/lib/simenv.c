/* simenv: private emulator per test (see simenv.h). Talks to the daemon
 * through the xensim CLI so tests need nothing but the installed program;
 * simenv_wait's ping alone goes straight to the control socket. */
#include "tests/lib/simenv.h"
#include "sim/admin.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

struct simenv {
	char dir[PATH_MAX];
	char xensim[PATH_MAX];
	char libdir[PATH_MAX];
	pid_t daemon;
};

static int find_xensim(struct simenv *env)
{
	const char *bin = getenv("XENSIM_BIN");
	char exe[PATH_MAX], cand[PATH_MAX + 32];
	ssize_t n;

	if (bin && *bin) {
		snprintf(env->xensim, sizeof(env->xensim), "%s", bin);
	} else {
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (n < 0)
			return -errno;
		exe[n] = 0;
		snprintf(cand, sizeof(cand), "%s/../bin/xensim", dirname(exe));
		if (!realpath(cand, env->xensim)) {
			fprintf(stderr, "simenv: no xensim at %s (set XENSIM_BIN)\n", cand);
			return -ENOENT;
		}
	}
	if (access(env->xensim, X_OK) != 0) {
		fprintf(stderr, "simenv: %s is not executable\n", env->xensim);
		return -ENOENT;
	}
	/* The libraries live beside the program: bin/../simlib. */
	snprintf(exe, sizeof(exe), "%s", env->xensim);
	snprintf(cand, sizeof(cand), "%s/../simlib", dirname(exe));
	if (!realpath(cand, env->libdir))
		env->libdir[0] = 0;
	return 0;
}

/* Runs `xensim ARGS...` and returns its exit status (or -errno). With
 * out != NULL, its first output line goes there. */
static int run_xensim(struct simenv *env, char *out, size_t cap, const char *const *args)
{
	const char *argv[16];
	int pfd[2], status;
	unsigned n = 0;
	pid_t pid;

	argv[n++] = env->xensim;
	for (; *args && n < 15; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	if (pipe(pfd) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		close(pfd[0]);
		dup2(out ? pfd[1] : null, 1);
		execv(env->xensim, (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	if (out && cap) { /* one short line: a single read gets it */
		ssize_t r = read(pfd[0], out, cap - 1);

		out[r > 0 ? r : 0] = 0;
		out[strcspn(out, "\n")] = 0;
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

struct simenv *simenv_start(void)
{
	struct simenv *env = calloc(1, sizeof(*env));
	char sock[PATH_MAX + 16];
	struct timespec ten_ms = { 0, 10 * 1000 * 1000 };

	if (!env)
		return NULL;
	if (find_xensim(env))
		goto fail;
	snprintf(env->dir, sizeof(env->dir), "%s/simenv.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(env->dir)) {
		fprintf(stderr, "simenv: mkdtemp: %s\n", strerror(errno));
		goto fail;
	}
	env->daemon = fork();
	if (env->daemon < 0)
		goto fail_dir;
	if (env->daemon == 0) {
		int null = open("/dev/null", O_WRONLY);

		/* a test that crashes must not leave its emulator behind */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (null >= 0)
			dup2(null, 1); /* it prints the directory */
		execl(env->xensim, env->xensim, "start", "--foreground", "--dir", env->dir,
		      (char *)NULL);
		_exit(127);
	}
	snprintf(sock, sizeof(sock), "%s/ctl.sock", env->dir);
	/* 6000 x 10 ms and more: xensim may start under memcheck on loaded cores */
	for (int i = 0; i < 6000; i++) {
		const char *ping[] = { "list", "--dir", env->dir, NULL };

		if (access(sock, F_OK) == 0 && run_xensim(env, NULL, 0, ping) == 0)
			return env;
		if (waitpid(env->daemon, NULL, WNOHANG) == env->daemon) {
			env->daemon = 0;
			simenv_stop(env);
			/* built but not starting: a failure, which a skip would hide */
			fail_msg("simenv: xensim exited during start");
		}
		nanosleep(&ten_ms, NULL);
	}
	kill(env->daemon, SIGKILL);
	waitpid(env->daemon, NULL, 0);
	env->daemon = 0;
	simenv_stop(env);
	fail_msg("simenv: xensim did not become ready");
	return NULL;
fail_dir:
	rmdir(env->dir);
fail:
	free(env);
	return NULL;
}

static void remove_tree(const char *dir)
{
	char cmd[PATH_MAX + 32];

	/* the daemon removes its files; anything a test left behind goes too */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "simenv: could not remove %s\n", dir);
}

void simenv_stop(struct simenv *env)
{
	if (!env)
		return;
	if (env->daemon > 0) {
		int status;

		kill(env->daemon, SIGTERM);
		for (int i = 0; i < 3000; i++) {
			if (waitpid(env->daemon, &status, WNOHANG) == env->daemon)
				goto reaped;
			usleep(10000);
		}
		fprintf(stderr, "simenv: xensim ignored SIGTERM, killing it\n");
		kill(env->daemon, SIGKILL);
		waitpid(env->daemon, &status, 0);
	}
reaped:
	remove_tree(env->dir);
	free(env);
}

const char *simenv_dir(const struct simenv *env)
{
	return env->dir;
}

const char *simenv_xensim(const struct simenv *env)
{
	return env->xensim;
}

int simenv_domain_create(struct simenv *env, unsigned domid)
{
	char id[16], out[64];
	const char *args[] = { "domain-create", "--dir", env->dir, "--domid", id, NULL };
	int rc;

	snprintf(id, sizeof(id), "%u", domid);
	rc = run_xensim(env, out, sizeof(out), args);
	if (rc != 0)
		return rc < 0 ? rc : -EEXIST;
	return strtoul(out, NULL, 10) == domid ? 0 : -EPROTO;
}

int simenv_domain_destroy(struct simenv *env, unsigned domid)
{
	char id[16];
	const char *args[] = { "domain-destroy", "--dir", env->dir, id, NULL };
	int rc;

	snprintf(id, sizeof(id), "%u", domid);
	rc = run_xensim(env, NULL, 0, args);
	return rc == 0 ? 0 : rc < 0 ? rc : -ESRCH;
}

int simenv_enter(struct simenv *env, unsigned domid)
{
	char buf[2 * PATH_MAX + 64];
	const char *old = getenv("LD_LIBRARY_PATH");

	setenv("XENSIM_DIR", env->dir, 1);
	snprintf(buf, sizeof(buf), "%u", domid);
	setenv("XENSIM_DOMID", buf, 1);
	snprintf(buf, sizeof(buf), "%s/dom%u/xenstored.sock", env->dir, domid);
	setenv("XENSTORED_PATH", buf, 1);
	if (env->libdir[0] && (!old || strncmp(old, env->libdir, strlen(env->libdir)))) {
		snprintf(buf, sizeof(buf), "%s%s%s", env->libdir, old && *old ? ":" : "",
			 old ? old : "");
		setenv("LD_LIBRARY_PATH", buf, 1);
	}
	return 0;
}

pid_t simenv_spawn(struct simenv *env, unsigned domid, int (*fn)(void *arg), void *arg)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* a guest must not outlive a test that failed half-way */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		simenv_enter(env, domid);
		_exit(fn(arg));
	}
	return pid;
}

int simenv_wait(pid_t pid)
{
	int status;

	const char *dir = getenv("XENSIM_DIR");

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	/* as after a real exit, its grants and ports are gone by now */
	if (dir)
		sim_admin_ping(dir);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
