/* Real Linux networking (issue 4): a network namespace with an address on a
 * Linux bridge; netbackd (on a private emulator) has a tap port enslaved to
 * that bridge; an emulated guest runs the netfront tool as an ARP/ICMP
 * responder. The real `ping` from the namespace gets every answer, and the
 * capture netbackd writes for the tap port shows the echo requests and
 * replies in `tshark`. Needs root, ip, ping and tshark; skips otherwise. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/datapath/dp_env.h"
#include "tests/integration/it_sys.h"

#define LIVENESS_S 20
#define NS_ADDR "10.77.0.1"
#define GUEST_ADDR "10.77.0.2"
#define PINGS 5

struct world {
    char dir[64];              /* config and capture files */
    char config[128];
    char capture[128];
    char tap[16];
    struct it_linuxnet net;
    struct dp_env env;
    bool env_up;
    pid_t responder;
};

static int world_new(void **state)
{
    struct world *w = test_calloc(1, sizeof(*w));

    if (!w)
        return -1;
    w->responder = -1;
    *state = w;
    return 0;
}

static int world_free(void **state)
{
    struct world *w = *state;

    if (w->responder > 0) {
        kill(w->responder, SIGTERM);
        dp_wait(w->responder, LIVENESS_S);
    }
    if (w->env_up)
        dp_env_stop(&w->env);      /* netbackd closes its tap device */
    it_link_del(w->tap);           /* in case netbackd could not */
    it_linuxnet_down(&w->net);
    if (w->dir[0] && !getenv("DP_KEEP"))
        it_sh(NULL, 0, "rm -rf %s", w->dir);
    test_free(w);
    return 0;
}

/* The responder guest: the netfront tool, exec'd inside domain 1. */
static int responder_main(void *arg)
{
    (void)arg;
    execlp("netfront", "netfront", "--devid", "0", "--responder", GUEST_ADDR, "--quiet",
           (char *)NULL);
    perror("exec netfront");
    return 127;
}

/* netbackd's configuration: bridge "itbr" with a tap port enslaved to the
 * Linux bridge, captured into w->capture. */
static void write_config(struct world *w)
{
    FILE *f = fopen(w->config, "w");

    assert_non_null(f);
    fprintf(f,
            "bridges = ( { name = \"itbr\"; } );\n"
            "ports = (\n"
            "  { name = \"%s\"; kind = \"tap\"; bridge = \"itbr\"; linux_bridge = \"%s\";\n"
            "    capture = \"%s\"; }\n"
            ");\n",
            w->tap, w->net.br, w->capture);
    assert_int_equal(fclose(f), 0);
}

static void linux_ping_through_tap_port_answered_and_captured(void **state)
{
    static const char *const tools[] = { "ip", "ping", "tshark", NULL };
    struct world *w = *state;
    char why[256], args[256], out[8192];

    if (!it_need(why, sizeof(why), tools, true)) {
        fprintf(stderr, "skip: %s\n", why);
        skip();
    }
    if (access("/dev/net/tun", R_OK | W_OK) != 0) {
        fprintf(stderr, "skip: no /dev/net/tun\n");
        skip();
    }
    snprintf(w->dir, sizeof(w->dir), "/tmp/nb-it-linux-XXXXXX");
    assert_non_null(mkdtemp(w->dir));
    snprintf(w->config, sizeof(w->config), "%s/netbackd.conf", w->dir);
    snprintf(w->capture, sizeof(w->capture), "%s/tap.pcap", w->dir);
    snprintf(w->tap, sizeof(w->tap), "nbtap%u", (unsigned)getpid() % 100000u);

    assert_int_equal(it_linuxnet_up(&w->net, "png", NS_ADDR "/24"), 0);
    write_config(w);
    snprintf(args, sizeof(args), "--config %s --bridge itbr", w->config);
    if (dp_env_start(&w->env, args) != 0) {
        w->env_up = w->env.dir[0] != 0;
        fail_msg("%s", w->env.skip_reason);
    }
    w->env_up = true;
    if (!it_link_wait(w->tap, LIVENESS_S))
        fail_msg("netbackd created no tap device %s (log %s)", w->tap, w->env.netbackd_log);
    assert_int_equal(it_sh(out, sizeof(out), "ip -o link show dev %s", w->tap), 0);
    if (!strstr(out, w->net.br))
        fail_msg("tap %s is not enslaved to %s: %s", w->tap, w->net.br, out);

    assert_int_equal(dp_guest_add(&w->env, 1, 0, "--bridge itbr"), 0);
    w->responder = dp_spawn(&w->env, 1, responder_main, NULL);
    assert_true(w->responder > 0);
    bool connected = false;
    for (unsigned i = 0; i < LIVENESS_S * 50 && !connected; i++) {
        connected = dp_xs_read_long(&w->env, "/local/domain/0/backend/vif/1/0/state") == 4;
        if (!connected)
            usleep(20000);
    }
    if (!connected)
        fail_msg("guest vif never connected (log %s)", w->env.netbackd_log);

    int rc = it_sh(out, sizeof(out), "ip netns exec %s ping -n -c %d -i 0.2 -W 5 %s 2>&1",
                   w->net.ns, PINGS, GUEST_ADDR);
    fprintf(stderr, "%s", out);
    assert_int_equal(rc, 0);
    char want[64];
    snprintf(want, sizeof(want), "%d packets transmitted, %d received, 0%% packet loss",
             PINGS, PINGS);
    if (!strstr(out, want))
        fail_msg("ping: expected \"%s\"", want);

    /* Stopping netbackd closes the capture, so every frame is on disk. */
    kill(w->responder, SIGTERM);
    assert_int_equal(dp_wait(w->responder, LIVENESS_S), 0);
    w->responder = -1;
    dp_env_stop(&w->env);
    w->env_up = false;

    rc = it_sh(out, sizeof(out),
               "tshark -n -r %s -Y icmp -T fields -e icmp.type -e ip.src -e ip.dst 2>/dev/null",
               w->capture);
    fprintf(stderr, "tshark:\n%s", out);
    assert_int_equal(rc, 0);
    unsigned requests = 0, replies = 0;
    for (char *save = NULL, *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        unsigned type;
        char src[32], dst[32];
        if (sscanf(l, "%u %31s %31s", &type, src, dst) != 3)
            continue;
        if (type == 8 && !strcmp(src, NS_ADDR) && !strcmp(dst, GUEST_ADDR))
            requests++;
        else if (type == 0 && !strcmp(src, GUEST_ADDR) && !strcmp(dst, NS_ADDR))
            replies++;
    }
    assert_int_equal(requests, PINGS);
    assert_int_equal(replies, PINGS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(linux_ping_through_tap_port_answered_and_captured,
                                        world_new, world_free),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
