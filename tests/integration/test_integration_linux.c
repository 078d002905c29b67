/* Real Linux networking (issue 4): a network namespace with an address on a
 * Linux bridge; netbackd (on a private emulator) has a tap port enslaved to
 * that bridge; an emulated guest runs the netfront tool as an ARP/ICMP
 * responder. The real `ping` from the namespace gets every answer, and the
 * capture netbackd writes for the tap port shows the echo requests and
 * replies in `tshark`. Both ways a vif reaches Linux: a tap port of a
 * netbackd bridge (config file), and xl's vif-bridge layout (the vif's
 * bridge key names the Linux bridge). Needs root, ip, ping and tshark;
 * skips otherwise. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <xenstore.h>

#include "tests/datapath/dp_env.h"
#include "tests/integration/it_ctl.h"
#include "tests/integration/it_sys.h"

#define LIVENESS_S 60
#define NS_ADDR "10.77.0.1"
#define GUEST_ADDR "10.77.0.2"
#define PINGS 5

struct world {
    char dir[64];              /* config and capture files */
    char config[128];
    char capture[128];
    char tap[16];
    unsigned domid;            /* the guest */
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

/* Root, the tools and /dev/net/tun, the scratch directory, and the
 * namespace on its Linux bridge. */
static void prepare(struct world *w, const char *tag)
{
    static const char *const tools[] = { "ip", "ping", "tshark", NULL };
    char why[256];

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
    snprintf(w->capture, sizeof(w->capture), "%s/capture.pcap", w->dir);
    /* a domid of our own: the vif-bridge tap is named after it */
    w->domid = 100 + (unsigned)getpid() % 20000u;
    assert_int_equal(it_linuxnet_up(&w->net, tag, NS_ADDR "/24"), 0);
}

static void start_netbackd(struct world *w, const char *args)
{
    if (dp_env_start(&w->env, args) != 0) {
        w->env_up = w->env.dir[0] != 0;
        fail_msg("%s", w->env.skip_reason);
    }
    w->env_up = true;
}

/* The tap exists and is a port of the namespace's Linux bridge. */
static void assert_enslaved(struct world *w, const char *tap)
{
    char out[1024];

    if (!it_link_wait(tap, LIVENESS_S))
        fail_msg("netbackd created no tap device %s (log %s)", tap, w->env.netbackd_log);
    assert_int_equal(it_sh(out, sizeof(out), "ip -o link show dev %s", tap), 0);
    if (!strstr(out, w->net.br))
        fail_msg("tap %s is not enslaved to %s: %s", tap, w->net.br, out);
}

/* The guest's vif joins `bridge`; the responder runs and connects. */
static void start_responder(struct world *w, const char *bridge)
{
    char args[128];
    bool connected = false;

    snprintf(args, sizeof(args), "--bridge %s", bridge);
    assert_int_equal(dp_guest_add(&w->env, w->domid, 0, args), 0);
    w->responder = dp_spawn(&w->env, w->domid, responder_main, NULL);
    assert_true(w->responder > 0);
    for (unsigned i = 0; i < LIVENESS_S * 50 && !connected; i++) {
        connected = dp_xs_read_long(&w->env, "/local/domain/0/backend/vif/%u/0/state", w->domid) == 4;
        if (!connected)
            usleep(20000);
    }
    if (!connected)
        fail_msg("guest vif never connected (log %s)", w->env.netbackd_log);
}

/* PINGS echo requests, one ping each: a single probe waits for its reply
 * up to -W (a liveness bound). One `ping -c PINGS` would wait only two of
 * its longest round trips so far for the last reply, which a guest slowed
 * down by memcheck on loaded cores can miss ("5 transmitted, 4 received");
 * -w instead would send more than PINGS probes. */
static void ping_from_namespace(struct world *w)
{
    char out[4096];

    for (unsigned i = 0; i < PINGS; i++) {
        int rc = it_sh(out, sizeof(out), "ip netns exec %s ping -n -c 1 -W %d %s 2>&1",
                       w->net.ns, LIVENESS_S, GUEST_ADDR);

        fprintf(stderr, "%s", out);
        assert_int_equal(rc, 0);
        if (!strstr(out, "1 packets transmitted, 1 received, 0% packet loss"))
            fail_msg("ping %u: no reply", i + 1);
    }
}

/* The capture, read by tshark, holds every echo request and reply. */
static void assert_capture_has_pings(struct world *w)
{
    char out[8192];
    unsigned requests = 0, replies = 0;
    int rc = it_sh(out, sizeof(out),
                   "tshark -n -r %s -Y icmp -T fields -e icmp.type -e ip.src -e ip.dst 2>/dev/null",
                   w->capture);

    fprintf(stderr, "tshark:\n%s", out);
    assert_int_equal(rc, 0);
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

/* Switches the capture of `port` to file (NULL: off) over the control socket. */
static void set_capture(struct world *w, const char *port, const char *file)
{
    char q[300];

    if (file)
        snprintf(q, sizeof(q), "\"%s\"", file);
    json_decref(it_ctl_ok(&w->env, "{\"cmd\":\"capture\",\"port\":\"%s\",\"file\":%s}", port,
                          file ? q : "null"));
}

/* A tap port from the config file, enslaved to the Linux bridge, captured
 * from the start; the guest's vif is on the same netbackd bridge. */
static void linux_ping_through_tap_port_answered_and_captured(void **state)
{
    struct world *w = *state;
    char args[256];

    prepare(w, "tap");
    snprintf(w->tap, sizeof(w->tap), "nbtap%u", (unsigned)getpid() % 100000u);
    write_config(w);
    snprintf(args, sizeof(args), "--config %s --bridge itbr", w->config);
    start_netbackd(w, args);
    assert_enslaved(w, w->tap);
    start_responder(w, "itbr");
    ping_from_namespace(w);
    /* Stopping netbackd closes the capture, so every frame is on disk. */
    kill(w->responder, SIGTERM);
    assert_int_equal(dp_wait(w->responder, LIVENESS_S), 0);
    w->responder = -1;
    dp_env_stop(&w->env);
    w->env_up = false;
    assert_capture_has_pings(w);
}

/* xl's layout: the vif's `bridge` key names the Linux bridge itself, so
 * netbackd makes the tap vif<domid>.<devid> and enslaves it, as the kernel
 * netback and the vif-bridge script do. The capture is switched on and off
 * at runtime on the vif's port through the control socket. */
static void linux_ping_through_vif_bridge_layout_answered_and_captured(void **state)
{
    struct world *w = *state;
    char port[32];

    prepare(w, "vbr");
    start_netbackd(w, "--bridge itdefault");
    snprintf(w->tap, sizeof(w->tap), "vif%u.0", w->domid);
    start_responder(w, w->net.br);
    assert_enslaved(w, w->tap);
    snprintf(port, sizeof(port), "vif%u.0", w->domid);
    set_capture(w, port, w->capture);
    ping_from_namespace(w);
    set_capture(w, port, NULL);    /* returns once every frame is written */
    assert_capture_has_pings(w);
}

/* A vif asking for a VLAN (`bridge=BR.10`, vif-openvswitch's syntax) on a
 * Linux bridge BR: refused, not silently untagged. The vif fails with an
 * error node that says so and goes to Closing; no tap appears. */
static void linux_vlan_on_linux_bridge_refused(void **state)
{
    struct world *w = *state;
    char args[128], path[96], *err = NULL;
    long be_state = -1;

    prepare(w, "vlr");
    snprintf(w->tap, sizeof(w->tap), "vif%u.0", w->domid);   /* removed if made after all */
    start_netbackd(w, "--bridge itdefault");
    snprintf(args, sizeof(args), "--bridge %s.10", w->net.br);
    assert_int_equal(dp_guest_add(&w->env, w->domid, 0, args), 0);
    snprintf(path, sizeof(path), "/local/domain/0/error/backend/vif/%u/0/error", w->domid);
    for (unsigned i = 0; i < LIVENESS_S * 50 && !dp_xs_exists(&w->env, "%s", path); i++)
        usleep(20000);
    if (!w->env.xs || !(err = xs_read(w->env.xs, XBT_NULL, path, &(unsigned){ 0 })))
        fail_msg("no error node %s (log %s)", path, w->env.netbackd_log);
    if (!strstr(err, "is a Linux bridge: VLANs are supported on netbackd bridges only"))
        fail_msg("error node says \"%s\"", err);
    free(err);
    for (unsigned i = 0; i < LIVENESS_S * 50 && be_state != 5; i++) {
        be_state = dp_xs_read_long(&w->env, "/local/domain/0/backend/vif/%u/0/state", w->domid);
        if (be_state != 5)
            usleep(20000);
    }
    assert_int_equal(be_state, 5);   /* XenbusStateClosing */
    assert_int_not_equal(it_sh(NULL, 0, "ip link show dev %s >/dev/null 2>&1", w->tap), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(linux_ping_through_tap_port_answered_and_captured,
                                        world_new, world_free),
        cmocka_unit_test_setup_teardown(linux_ping_through_vif_bridge_layout_answered_and_captured,
                                        world_new, world_free),
        cmocka_unit_test_setup_teardown(linux_vlan_on_linux_bridge_refused, world_new, world_free),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
