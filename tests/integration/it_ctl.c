/* Control-socket requests with failure context (see it_ctl.h). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "backend/ctl_client.h"
#include "tests/integration/it_ctl.h"
#include "tests/integration/it_sys.h"

/* Prints whether netbackd still runs and the end of its log. */
static void report_daemon(struct dp_env *env)
{
    char tail[2048];
    int st;

    if (env->netbackd > 0 && waitpid(env->netbackd, &st, WNOHANG) == env->netbackd) {
        if (WIFSIGNALED(st))
            fprintf(stderr, "netbackd died of signal %d\n", WTERMSIG(st));
        else
            fprintf(stderr, "netbackd exited with status %d\n", WEXITSTATUS(st));
        env->netbackd = -1;
    } else {
        fprintf(stderr, "netbackd is still running\n");
    }
    if (it_sh(tail, sizeof(tail), "tail -n 15 %s 2>&1", env->netbackd_log) == 0)
        fprintf(stderr, "last lines of %s:\n%s", env->netbackd_log, tail);
}

json_t *it_ctl_ok(struct dp_env *env, const char *fmt, ...)
{
    char text[1024], sock[192];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    json_t *req = json_loads(text, 0, NULL);
    if (!req)
        fail_msg("bad request text %s", text);
    snprintf(sock, sizeof(sock), "%s/netbackd.sock", env->dir);
    json_t *reply = nbd_ctl_call(sock, req);
    int err = errno;
    json_decref(req);
    if (!reply) {
        report_daemon(env);
        fail_msg("%s: no reply from %s: %s", text, sock, strerror(err));
    }
    if (!json_is_true(json_object_get(reply, "ok"))) {
        char why[512];
        snprintf(why, sizeof(why), "%s", json_string_value(json_object_get(reply, "error")) ?: "ok:false");
        json_decref(reply);
        fail_msg("%s: %s", text, why);
    }
    return reply;
}

long long it_port_field(struct dp_env *env, const char *port, const char *field)
{
    json_t *reply = it_ctl_ok(env, "{\"cmd\":\"port-list\"}"), *br, *p;
    long long v = -1;
    size_t i, j;

    json_array_foreach(json_object_get(reply, "bridges"), i, br)
        json_array_foreach(json_object_get(br, "ports"), j, p)
            if (!strcmp(json_string_value(json_object_get(p, "name")) ?: "", port))
                v = json_integer_value(json_object_get(p, field));
    json_decref(reply);
    return v;
}
