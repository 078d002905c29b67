/* Private emulated host for the datapath tests (see dp_env.h). Everything
 * goes through the project's own command-line tools (xensim, netbackd,
 * netbackctl), exactly as a user would drive them. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <xenstore.h>

#include "tests/datapath/dp_env.h"

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static bool file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static void set_domain_env(const struct dp_env *e, unsigned domid)
{
    char v[512];
    setenv("XENSIM_DIR", e->dir, 1);
    snprintf(v, sizeof(v), "%u", domid);
    setenv("XENSIM_DOMID", v, 1);
    snprintf(v, sizeof(v), "%s/dom%u/xenstored.sock", e->dir, domid);
    setenv("XENSTORED_PATH", v, 1);
    const char *old = getenv("LD_LIBRARY_PATH");
    if (!old || strncmp(old, e->simlib, strlen(e->simlib)) != 0) {
        snprintf(v, sizeof(v), "%s%s%s", e->simlib, old && *old ? ":" : "", old ? old : "");
        setenv("LD_LIBRARY_PATH", v, 1);
    }
    char path[1024];
    const char *op = getenv("PATH");
    if (!op || !strstr(op, e->bindir)) {
        snprintf(path, sizeof(path), "%s:%s", e->bindir, op ? op : "/usr/bin:/bin");
        setenv("PATH", path, 1);
    }
}

void dp_enter_domain(const struct dp_env *e, unsigned domid)
{
    set_domain_env(e, domid);
}

int dp_run(struct dp_env *e, unsigned domid, char *out, size_t cap, const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    int pfd[2];
    if (pipe(pfd) < 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        set_domain_env(e, domid);
        dup2(pfd[1], 1);
        close(pfd[0]);
        close(pfd[1]);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    size_t got = 0;
    char sink[512];
    for (;;) {
        ssize_t n;
        if (out && got + 1 < cap)
            n = read(pfd[0], out + got, cap - 1 - got);
        else
            n = read(pfd[0], sink, sizeof(sink));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (out && got + 1 < cap)
            got += (size_t)n;
    }
    if (out && cap)
        out[got] = 0;
    close(pfd[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int locate_build(struct dp_env *e)
{
    char exe[512];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return -1;
    exe[n] = 0;
    /* $(O)/tests/test_x -> $(O) */
    char *o = dirname(dirname(exe));
    snprintf(e->bindir, sizeof(e->bindir), "%s/bin", o);
    snprintf(e->simlib, sizeof(e->simlib), "%s/simlib", o);
    return 0;
}

/* The child side of a fork for a daemon of the test: dies with the test
 * (even on SIGKILL from a timeout), gets dom0's environment and `log` as
 * stdout and stderr. Returns only in the child. */
static void daemon_child(const struct dp_env *e, pid_t parent, const char *log)
{
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        _exit(99);
    set_domain_env(e, 0);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
    }
}

static bool child_exited(pid_t *pid)
{
    if (*pid > 0 && waitpid(*pid, NULL, WNOHANG) == *pid) {
        *pid = -1;
        return true;
    }
    return false;
}

double dp_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Liveness bounds for start-up on a loaded machine (sanitizer builds,
 * xensim under memcheck). */
#define START_TIMEOUT_S 120

/* A daemon that is built but does not start is a failure, not a reason to
 * skip (a skip would pass unnoticed): prints why and the daemon's log,
 * stops what runs, fails the test. */
static void start_failed(struct dp_env *e, const char *why, const char *log)
{
    fprintf(stderr, "dp_env: %s; %s:\n", why, log);
    dp_run(e, 0, NULL, 0, "tail -n 20 %s >&2", log);
    dp_env_stop(e);
    fail_msg("dp_env: %s", why);
}

int dp_env_start(struct dp_env *e, const char *netbackd_args)
{
    memset(e, 0, sizeof(*e));
    e->xensim = -1;
    e->netbackd = -1;
    if (locate_build(e) < 0) {
        snprintf(e->skip_reason, sizeof(e->skip_reason), "cannot find the build directory");
        return -1;
    }
    const char *need[] = {"xensim", "netbackd", "netbackctl"};
    for (unsigned i = 0; i < 3; i++) {
        char p[300];
        snprintf(p, sizeof(p), "%s/%s", e->bindir, need[i]);
        if (access(p, X_OK) != 0) {
            snprintf(e->skip_reason, sizeof(e->skip_reason), "%s not built yet (%s)", need[i], p);
            return -1;
        }
    }
    if (!file_exists(e->simlib)) {
        snprintf(e->skip_reason, sizeof(e->skip_reason), "emulator libraries not built (%s)", e->simlib);
        return -1;
    }
    snprintf(e->dir, sizeof(e->dir), "/tmp/nb-dp-XXXXXX");
    if (!mkdtemp(e->dir)) {
        e->dir[0] = 0;
        snprintf(e->skip_reason, sizeof(e->skip_reason), "mkdtemp: %s", strerror(errno));
        return -1;
    }
    fflush(NULL);
    pid_t self = getpid();
    char log[200];
    snprintf(log, sizeof(log), "%s/xensim.log", e->dir);
    e->xensim = fork();
    if (e->xensim == 0) {
        daemon_child(e, self, log);
        char prog[300];
        snprintf(prog, sizeof(prog), "%s/xensim", e->bindir);
        execl(prog, "xensim", "start", "--foreground", "--dir", e->dir, (char *)NULL);
        _exit(127);
    }
    /* Ready once it answers on its control socket (a socket file may exist
     * before anyone listens on it). */
    char sock[256];
    snprintf(sock, sizeof(sock), "%s/dom0/xenstored.sock", e->dir);
    double end = dp_now_s() + START_TIMEOUT_S;
    bool up = false;
    while (!up && dp_now_s() < end && !child_exited(&e->xensim)) {
        up = file_exists(sock) &&
             dp_run(e, 0, NULL, 0, "xensim list --dir %s >/dev/null 2>&1", e->dir) == 0;
        if (!up)
            sleep_ms(20);
    }
    if (!up)
        start_failed(e, "xensim did not start", log);

    snprintf(e->netbackd_log, sizeof(e->netbackd_log), "%s/netbackd.log", e->dir);
    e->netbackd = fork();
    if (e->netbackd == 0) {
        daemon_child(e, self, e->netbackd_log);
        char cmd[1024];
        snprintf(cmd, sizeof(cmd), "exec netbackd --foreground --ctl %s/netbackd.sock %s", e->dir,
                 netbackd_args ? netbackd_args : "");
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    /* Ready once its control socket answers. */
    while (dp_now_s() < end) {
        if (dp_run(e, 0, NULL, 0, "netbackctl --ctl %s/netbackd.sock stats >/dev/null 2>&1", e->dir) == 0)
            return 0;
        if (child_exited(&e->netbackd))
            start_failed(e, "netbackd exited at start", e->netbackd_log);
        sleep_ms(20);
    }
    start_failed(e, "netbackd's control socket never answered", e->netbackd_log);
    return -1;
}

/* SIGTERM, then SIGKILL after timeout_s; always reaped. */
static void stop_child(pid_t *pid, unsigned timeout_s)
{
    if (*pid <= 0)
        return;
    kill(*pid, SIGTERM);
    dp_wait(*pid, timeout_s);
    *pid = -1;
}

void dp_env_stop(struct dp_env *e)
{
    if (e->xs) {
        xs_close(e->xs);
        e->xs = NULL;
    }
    stop_child(&e->netbackd, 10);
    stop_child(&e->xensim, 10);
    if (e->dir[0]) {
        if (!getenv("DP_KEEP"))
            dp_run(e, 0, NULL, 0, "rm -rf %s", e->dir);
        else
            fprintf(stderr, "dp_env: kept %s\n", e->dir);
        e->dir[0] = 0;
    }
}

int dp_suite_setup(void **state, const char *netbackd_args)
{
    struct dp_suite *s = calloc(1, sizeof(*s));
    if (!s)
        return -1;
    s->next_domid = 1;
    *state = s;   /* for the teardown, also when the start fails the setup */
    s->up = dp_env_start(&s->env, netbackd_args) == 0;
    if (!s->up) {
        printf("# emulator environment unavailable: %s\n", s->env.skip_reason);
        dp_env_stop(&s->env);
    }
    return 0;
}

int dp_suite_teardown(void **state)
{
    struct dp_suite *s = *state;
    dp_env_stop(&s->env);
    free(s);
    return 0;
}

struct dp_suite *dp_suite_or_skip(void **state)
{
    struct dp_suite *s = *state;
    if (!s->up) {
        printf("# skip: %s\n", s->env.skip_reason);
        skip();
    }
    return s;
}

void dp_suite_guests(struct dp_suite *s, unsigned *domids, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        domids[i] = s->next_domid++;
        assert_int_equal(dp_guest_add(&s->env, domids[i], 0, NULL), 0);
    }
}

void dp_guest_mac(unsigned domid, unsigned devid, uint8_t mac[6])
{
    uint8_t m[6] = {0x00, 0x16, 0x3e, (uint8_t)(domid >> 8), (uint8_t)domid, (uint8_t)devid};
    memcpy(mac, m, 6);
}

int dp_guest_add(struct dp_env *e, unsigned domid, unsigned devid, const char *vif_args)
{
    uint8_t m[6];
    dp_guest_mac(domid, devid, m);
    /* A netfront queue shares 514 pages (rings + pools): more than one
     * queue needs the guest's xen_gntalloc.limit above Linux's 1024, as a
     * real domU would. */
    if (dp_run(e, 0, NULL, 0, "xensim domain-create --dir %s --domid %u --gntalloc-limit 8192 >/dev/null",
               e->dir, domid) != 0)
        return -1;
    /* These guests take frames of up to 65535 bytes (the netif maximum), so
     * their vifs get the largest mtu netbackd accepts (65535 - 18), set as
     * an administrator would; a later --mtu in vif_args wins. */
    return dp_run(e, 0, NULL, 0,
                  "netbackctl --ctl %s/netbackd.sock vif-add --domid %u --devid %u "
                  "--mac %02x:%02x:%02x:%02x:%02x:%02x --mtu 65517 %s >/dev/null",
                  e->dir, domid, devid, m[0], m[1], m[2], m[3], m[4], m[5], vif_args ? vif_args : "");
}

int dp_guest_destroy(struct dp_env *e, unsigned domid)
{
    return dp_run(e, 0, NULL, 0, "xensim domain-destroy --dir %s %u >/dev/null", e->dir, domid);
}

pid_t dp_spawn(const struct dp_env *e, unsigned domid, int (*fn)(void *), void *arg)
{
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        /* A guest never outlives its test: a failed assert in the parent
         * must not leave it streaming forever. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(99);
        dp_enter_domain(e, domid);
        _exit(fn(arg));
    }
    return pid;
}

int dp_wait(pid_t pid, unsigned timeout_s)
{
    for (unsigned i = 0; i < timeout_s * 50; i++) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        if (r < 0)
            return -1;
        sleep_ms(20);
    }
    kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
    return -1;
}

/* The test process's dom0 xenstore connection, opened on first use. */
static struct xs_handle *xs_conn(struct dp_env *e)
{
    if (!e->xs) {
        char sock[256];
        snprintf(sock, sizeof(sock), "%s/dom0/xenstored.sock", e->dir);
        setenv("XENSTORED_PATH", sock, 1);   /* the test process acts as dom0 */
        e->xs = xs_open(0);
    }
    return e->xs;
}

static char *xs_read_path(struct dp_env *e, const char *path)
{
    unsigned len;
    return xs_conn(e) ? xs_read(e->xs, XBT_NULL, path, &len) : NULL;
}

bool dp_xs_write(struct dp_env *e, const char *path, const char *value)
{
    return xs_conn(e) && xs_write(e->xs, XBT_NULL, path, value, (unsigned)strlen(value));
}

/* The value at the path fmt/ap names, or NULL. */
static char *xs_read_vfmt(struct dp_env *e, const char *fmt, va_list ap)
{
    char path[512];
    vsnprintf(path, sizeof(path), fmt, ap);
    return xs_read_path(e, path);
}

long dp_xs_read_long(struct dp_env *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *v = xs_read_vfmt(e, fmt, ap);
    va_end(ap);
    if (!v)
        return -1;
    long r = strtol(v, NULL, 10);
    free(v);
    return r;
}

bool dp_xs_exists(struct dp_env *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *v = xs_read_vfmt(e, fmt, ap);
    va_end(ap);
    free(v);
    return v != NULL;
}

/* The vif's JSON object from `netbackctl stats --json`, or NULL. */
static json_t *vif_json(struct dp_env *e, unsigned domid, unsigned devid, json_t **root)
{
    static const size_t cap = 1 << 20;
    char *out = malloc(cap);
    *root = NULL;
    if (!out)
        return NULL;
    int rc = dp_run(e, 0, out, cap, "netbackctl --ctl %s/netbackd.sock stats --json", e->dir);
    if (rc != 0) {
        free(out);
        return NULL;
    }
    json_error_t err;
    *root = json_loads(out, 0, &err);
    free(out);
    if (!*root)
        return NULL;
    json_t *vifs = json_object_get(*root, "vifs");
    size_t i;
    json_t *v;
    json_array_foreach(vifs, i, v) {
        if (json_integer_value(json_object_get(v, "domid")) == (json_int_t)domid &&
            json_integer_value(json_object_get(v, "devid")) == (json_int_t)devid)
            return v;
    }
    return NULL;
}

long long dp_vif_counter(struct dp_env *e, unsigned domid, unsigned devid, const char *name)
{
    json_t *root;
    json_t *v = vif_json(e, domid, devid, &root);
    long long r = -1;
    if (v) {
        /* per-queue counters summed in "totals", control-plane ones in "control" */
        json_t *c = json_object_get(json_object_get(v, "totals"), name);
        if (!c)
            c = json_object_get(json_object_get(v, "control"), name);
        if (!c)
            c = json_object_get(v, name);
        if (json_is_integer(c))
            r = json_integer_value(c);
    }
    json_decref(root);
    return r;
}

long long dp_vif_rate_bytes(struct dp_env *e, unsigned domid, unsigned devid)
{
    json_t *root;
    json_t *v = vif_json(e, domid, devid, &root);
    json_t *b = v ? json_object_get(json_object_get(v, "rate"), "bytes") : NULL;
    long long r = json_is_integer(b) ? json_integer_value(b) : -1;

    json_decref(root);
    return r;
}

long long dp_vif_mtu(struct dp_env *e, unsigned domid, unsigned devid)
{
    json_t *root;
    json_t *v = vif_json(e, domid, devid, &root);
    json_t *m = v ? json_object_get(v, "mtu") : NULL;
    long long r = json_is_integer(m) ? json_integer_value(m) : -1;

    json_decref(root);
    return r;
}

bool dp_vif_listed(struct dp_env *e, unsigned domid, unsigned devid, bool *disabled)
{
    json_t *root;
    json_t *v = vif_json(e, domid, devid, &root);
    if (v && disabled)
        *disabled = json_is_true(json_object_get(v, "disabled"));
    json_decref(root);
    return v != NULL;
}

bool dp_eventually(bool (*cond)(void *), void *arg, unsigned timeout_s)
{
    /* a deadline, not a count: cond itself may take a while (netbackctl) */
    double end = dp_now_s() + timeout_s;
    while (dp_now_s() < end) {
        if (cond(arg))
            return true;
        sleep_ms(20);
    }
    return cond(arg);
}

void *dp_shared_alloc(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void dp_shared_free(void *p, size_t size)
{
    if (p)
        munmap(p, size);
}

struct netfront *dp_netfront_up(const struct nf_config *cfg)
{
    struct netfront *nf = NULL;
    int rc = -ENOENT;
    for (int i = 0; i < 250; i++) {
        rc = netfront_open(&nf, cfg);
        if (rc == 0)
            break;
        sleep_ms(20);
    }
    if (rc < 0) {
        fprintf(stderr, "guest: netfront_open vif %u: %s\n", cfg->devid, strerror(-rc));
        return NULL;
    }
    /* the backend's xenbus answers may take long under memcheck on loaded
     * cores: a minute unless the guest chose (the library's default is 10 s) */
    if (!cfg->timeout_ms)
        netfront_set_timeout(nf, 60000);
    rc = netfront_connect(nf);
    if (rc < 0) {
        fprintf(stderr, "guest dom%u: netfront_connect: %s\n", netfront_domid(nf), strerror(-rc));
        netfront_free(nf);
        return NULL;
    }
    return nf;
}
