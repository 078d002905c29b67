/* Shared emulator fixture for the backend tests (see nbd_testenv.h). */
#include "tests/backend/nbd_testenv.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "backend/ctl_client.h"
#include "backend/vif_nodes.h"
#include "tests/lib/simenv.h"

uint64_t nbd_test_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

bool nbd_test_wait_value(struct xs_handle *xsh, const char *path, const char *want)
{
    uint64_t deadline = nbd_test_now_ms() + NBD_TEST_WAIT_MS;

    do {
        char *v = xs_read(xsh, XBT_NULL, path, NULL);
        bool ok = want ? v && !strcmp(v, want) : !v;
        free(v);
        if (ok)
            return true;
        usleep(5000);
    } while (nbd_test_now_ms() < deadline);
    return false;
}

bool nbd_test_wait_be_state(struct xs_handle *xsh, unsigned domid, unsigned devid, int state)
{
    char path[128], want[12];

    snprintf(path, sizeof(path), "/local/domain/0/backend/vif/%u/%u/state", domid, devid);
    snprintf(want, sizeof(want), "%d", state);
    return nbd_test_wait_value(xsh, path, want);
}

json_t *nbd_test_call(struct nbd_testenv *t, json_t *req)
{
    json_t *r = nbd_ctl_call(t->ctl, req);

    json_decref(req);
    return r;
}

json_t *nbd_test_vif(struct nbd_testenv *t, const char *name)
{
    json_t *r = nbd_test_call(t, json_pack("{s:s}", "cmd", "stats")), *v, *found = NULL;
    size_t i;

    json_array_foreach(json_object_get(r, "vifs"), i, v)
        if (!strcmp(json_string_value(json_object_get(v, "name")), name))
            found = json_incref(v);
    json_decref(r);
    return found;
}

long long nbd_test_vif_counter(struct nbd_testenv *t, const char *name, const char *counter)
{
    json_t *v = nbd_test_vif(t, name);
    long long c = v ? json_integer_value(json_object_get(json_object_get(v, "totals"), counter)) : -1;

    json_decref(v);
    return c;
}

long long nbd_test_wait_counter(struct nbd_testenv *t, const char *name, const char *counter,
                                long long min)
{
    uint64_t deadline = nbd_test_now_ms() + 2 * NBD_TEST_WAIT_MS;
    long long c;

    while ((c = nbd_test_vif_counter(t, name, counter)) < min && nbd_test_now_ms() < deadline)
        usleep(2000);
    return c;
}

bool nbd_test_vif_disabled(struct nbd_testenv *t, const char *name)
{
    json_t *v = nbd_test_vif(t, name);
    bool d = v && json_is_true(json_object_get(v, "disabled"));

    json_decref(v);
    return d;
}

bool nbd_test_wait_vif_disabled(struct nbd_testenv *t, const char *name)
{
    uint64_t deadline = nbd_test_now_ms() + NBD_TEST_WAIT_MS;

    do {
        if (nbd_test_vif_disabled(t, name))
            return true;
        usleep(10000);
    } while (nbd_test_now_ms() < deadline);
    return false;
}

bool nbd_test_wait_vif_gone(struct nbd_testenv *t, const char *name)
{
    uint64_t deadline = nbd_test_now_ms() + NBD_TEST_WAIT_MS;

    do {
        json_t *v = nbd_test_vif(t, name);
        json_decref(v);
        if (!v)
            return true;
        usleep(10000);
    } while (nbd_test_now_ms() < deadline);
    return false;
}

struct nbd_testenv *nbd_testenv_start(unsigned ndomains, const char *const *extra_args,
                                      const char *config)
{
    struct nbd_testenv *t = calloc(1, sizeof(*t));
    char self[PATH_MAX], netbackd[PATH_MAX + 16], conf[PATH_MAX + 16];
    const char *argv[32];
    unsigned argc = 0;
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

    if (!t)
        return NULL;
    self[n > 0 ? n : 0] = '\0';
    if (strrchr(self, '/'))
        *strrchr(self, '/') = '\0';
    snprintf(netbackd, sizeof(netbackd), "%s/../bin/netbackd", self);
    if (access(netbackd, X_OK)) {
        fprintf(stderr, "skipping: no %s\n", netbackd);
        free(t);
        return NULL;
    }
    if (!(t->env = simenv_start())) {
        free(t);
        return NULL;
    }
    for (unsigned d = 1; d <= ndomains; d++)
        simenv_domain_create(t->env, d);
    simenv_enter(t->env, 0);
    snprintf(t->ctl, sizeof(t->ctl), "%s/netbackd.sock", simenv_dir(t->env));
    argv[argc++] = "netbackd";
    argv[argc++] = "--foreground";
    argv[argc++] = "--ctl";
    argv[argc++] = t->ctl;
    if (config) {
        FILE *f;
        snprintf(conf, sizeof(conf), "%s/netbackd.conf", simenv_dir(t->env));
        if (!(f = fopen(conf, "w")) || fputs(config, f) < 0 || fclose(f)) {
            fprintf(stderr, "writing %s: %s\n", conf, strerror(errno));
            nbd_testenv_stop(t);
            return NULL;
        }
        argv[argc++] = "--config";
        argv[argc++] = conf;
    }
    for (unsigned i = 0; extra_args && extra_args[i] && argc < 31; i++)
        argv[argc++] = extra_args[i];
    argv[argc] = NULL;
    if ((t->daemon = fork()) == 0) {
        execv(netbackd, (char *const *)argv);
        _exit(127);
    }
    t->xsh = xs_open(0);
    for (uint64_t deadline = nbd_test_now_ms() + NBD_TEST_WAIT_MS;
         nbd_test_now_ms() < deadline; usleep(10000)) {
        json_t *r = nbd_test_call(t, json_pack("{s:s}", "cmd", "ping"));
        int st;

        json_decref(r);
        if (r)
            return t;
        if (waitpid(t->daemon, &st, WNOHANG) == t->daemon) {
            t->daemon = 0;
            break;
        }
    }
    /* it is there but does not answer: a failure, which a skip would hide */
    nbd_testenv_stop(t);
    fail_msg("netbackd did not come up (exited, or no answer within %d ms)", NBD_TEST_WAIT_MS);
    return NULL;
}

struct nbd_testenv *nbd_testenv_start_xenbr0(unsigned ndomains, unsigned max_queues,
                                             const char *config)
{
    char queues[16];
    const char *const args[] = { "--log-level", "warn", "--max-queues", queues, NULL };
    struct nbd_testenv *t;

    snprintf(queues, sizeof(queues), "%u", max_queues);
    t = nbd_testenv_start(ndomains, args, config);
    for (unsigned d = 1; t && d <= ndomains; d++)
        nbd_test_add_vif(t, d, "xenbr0");
    return t;
}

void nbd_testenv_stop(struct nbd_testenv *t)
{
    if (!t)
        return;
    if (t->daemon > 0) {
        int st;
        kill(t->daemon, SIGTERM);
        waitpid(t->daemon, &st, 0);
    }
    if (t->xsh)
        xs_close(t->xsh);
    simenv_stop(t->env);
    free(t);
}

void nbd_test_pipes_open(int ready[2], int go[2])
{
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(go), 0);
}

void nbd_test_pipes_close(int ready[2], int go[2])
{
    close(ready[0]);
    close(ready[1]);
    close(go[0]);
    close(go[1]);
}

bool nbd_test_wait_byte(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    char c;

    return poll(&p, 1, 3 * NBD_TEST_WAIT_MS) == 1 && read(fd, &c, 1) == 1;
}

void *nbd_test_shared(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    assert_true(p != MAP_FAILED);
    memset(p, 0, size);
    return p;
}

void nbd_test_add_vif(struct nbd_testenv *t, unsigned domid, const char *bridge)
{
    /* the tests' frames go up to 65535 bytes: the largest mtu (65535 - 18) */
    struct nbd_vif_spec spec = { .domid = domid, .devid = 0, .mtu = 65517,
                                 .mac = { 0x00, 0x16, 0x3e, 0, 0, (uint8_t)domid } };
    char err[256];

    snprintf(spec.bridge, sizeof(spec.bridge), "%s", bridge);
    if (nbd_vif_nodes_add(t->xsh, &spec, err, sizeof(err)))
        fprintf(stderr, "vif-add: %s\n", err);
}

int nbd_testenv_teardown(void **state)
{
    nbd_testenv_stop(*state);
    return 0;
}
