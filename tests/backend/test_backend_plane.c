/* netbackd's forwarding plane (issues 4 and 7): the config file's bridges
 * and tap ports applied at start, config errors that stop the daemon with
 * the line at fault, bridges and ports changed through the control socket,
 * and xl's vif-bridge layout: a vif whose `bridge` key names a Linux bridge
 * gets a tap vif<domid>.<devid> enslaved to it.
 *
 * Everything runs in a private network namespace (and a mount namespace
 * with its own /sys, as `ip netns exec` does), so the Linux bridge
 * nbtestbr0 and every tap vanish with the test process. Tests that create
 * devices need root, /dev/net/tun and `ip`; they skip otherwise. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>
#include <xenstore.h>
#include <xen/io/xenbus.h>

#include "backend/vif_nodes.h"
#include "tests/backend/nbd_testenv.h"
#include "tests/lib/simenv.h"

#define LINUX_BR "nbtestbr0"

static const char *const quiet[] = { "--log-level", "warn", NULL };
#define NS_ADDR "10.78.0.1"
#define GUEST_ADDR "10.78.0.2"

/* What main() found out once for every test. */
struct plane_test_env {
    char bindir[PATH_MAX];     /* netbackd, netbackctl, netfront */
    bool netns;                /* private network namespace with its own /sys */
    bool devices;              /* root, /dev/net/tun and ip: taps and bridges can be made */
    char why[128];             /* why not, for skip messages */
};

static struct plane_test_env test_env;

#define NEED_DEVICES() do { \
        if (!test_env.devices) { \
            fprintf(stderr, "skip: %s\n", test_env.why); \
            skip(); \
        } \
    } while (0)

/* ---- helpers ---- */

__attribute__((format(printf, 1, 2)))
static int sh(const char *fmt, ...)
{
    char cmd[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static bool link_exists(const char *ifname)
{
    char path[128];

    snprintf(path, sizeof(path), "/sys/class/net/%s", ifname);
    return access(path, F_OK) == 0;
}

/* The interface ifname is enslaved to, "" if none. */
static void link_master(const char *ifname, char *out, size_t len)
{
    char path[128], target[PATH_MAX];
    ssize_t n;

    snprintf(path, sizeof(path), "/sys/class/net/%s/master", ifname);
    n = readlink(path, target, sizeof(target) - 1);
    target[n > 0 ? n : 0] = '\0';
    if (snprintf(out, len, "%s", strrchr(target, '/') ? strrchr(target, '/') + 1 : target) >=
        (int)len)
        out[0] = '\0';   /* no interface name is that long */
}

/* The interface's MTU, -1 if it has none. */
static long link_mtu(const char *ifname)
{
    char path[128];
    long mtu = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/sys/class/net/%s/mtu", ifname);
    if (!(f = fopen(path, "r")))
        return -1;
    if (fscanf(f, "%ld", &mtu) != 1)
        mtu = -1;
    fclose(f);
    return mtu;
}

/* Writes the backend `mtu` key of vif 1/0 and waits (safety net only)
 * until the tap's MTU is want. */
static long set_vif_mtu_key(struct nbd_testenv *t, const char *val, long want)
{
    const char *key = "/local/domain/0/backend/vif/1/0/mtu";
    uint64_t end = nbd_test_now_ms() + NBD_TEST_WAIT_MS;

    assert_true(xs_write(t->xsh, XBT_NULL, key, val, (unsigned)strlen(val)));
    while (link_mtu("vif1.0") != want && nbd_test_now_ms() < end)
        usleep(10000);
    return link_mtu("vif1.0");
}

static bool link_up(const char *ifname)
{
    char path[128];
    unsigned flags = 0;
    FILE *f;

    snprintf(path, sizeof(path), "/sys/class/net/%s/flags", ifname);
    if (!(f = fopen(path, "r")))
        return false;
    if (fscanf(f, "%x", &flags) != 1)
        flags = 0;
    fclose(f);
    return flags & 1;   /* IFF_UP */
}

/* Runs `netbackctl --ctl CTL ARGS` and returns its stdout parsed as JSON. */
static json_t *netbackctl_json(struct nbd_testenv *t, const char *args)
{
    char cmd[PATH_MAX * 2];
    json_error_t jerr;
    json_t *j;
    FILE *p;

    if (snprintf(cmd, sizeof(cmd), "%s/netbackctl --ctl %s %s", test_env.bindir, t->ctl,
                 args) >= (int)sizeof(cmd) || !(p = popen(cmd, "r")))
        return NULL;
    j = json_loadf(p, 0, &jerr);
    if (pclose(p) != 0) {
        json_decref(j);
        return NULL;
    }
    return j;
}

/* The bridge object of that name in a port-list reply, or NULL. */
static json_t *bridge_in(json_t *reply, const char *name)
{
    json_t *b;
    size_t i;

    json_array_foreach(json_object_get(reply, "bridges"), i, b)
        if (!strcmp(json_string_value(json_object_get(b, "name")), name))
            return b;
    return NULL;
}

/* The port object of that name in a bridge object, or NULL. */
static json_t *port_in(json_t *bridge, const char *name)
{
    json_t *p;
    size_t i;

    json_array_foreach(json_object_get(bridge, "ports"), i, p)
        if (!strcmp(json_string_value(json_object_get(p, "name")), name))
            return p;
    return NULL;
}

static json_t *port_list(struct nbd_testenv *t)
{
    return nbd_test_call(t, json_pack("{s:s}", "cmd", "port-list"));
}

/* A control request that must fail; returns its error text (copied). */
static void call_fails(struct nbd_testenv *t, json_t *req, char *err, size_t len)
{
    json_t *r = nbd_test_call(t, req);

    assert_non_null(r);
    assert_false(json_is_true(json_object_get(r, "ok")));
    snprintf(err, len, "%s", json_string_value(json_object_get(r, "error")) ?: "");
    json_decref(r);
}

static void call_ok(struct nbd_testenv *t, json_t *req)
{
    json_t *r = nbd_test_call(t, req);

    assert_non_null(r);
    if (!json_is_true(json_object_get(r, "ok")))
        fail_msg("request failed: %s", json_string_value(json_object_get(r, "error")) ?: "?");
    json_decref(r);
}

/* Runs netbackd with --config text and no emulator; returns its exit
 * status and its stderr in log. Config errors stop it before xenstore. */
static int netbackd_with_config(const char *text, char *conf, size_t conflen, char *log,
                                size_t loglen, bool *ctl_made)
{
    char dir[] = "/tmp/nb-plane-XXXXXX", ctl[64], logpath[64], exe[PATH_MAX + 16];
    int st, fd;
    pid_t pid;
    FILE *f;

    assert_non_null(mkdtemp(dir));
    snprintf(conf, conflen, "%s/netbackd.conf", dir);
    snprintf(ctl, sizeof(ctl), "%s/ctl", dir);
    snprintf(logpath, sizeof(logpath), "%s/log", dir);
    snprintf(exe, sizeof(exe), "%s/netbackd", test_env.bindir);
    assert_non_null(f = fopen(conf, "w"));
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    if ((pid = fork()) == 0) {
        fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, 2);
        /* no emulator: should the config pass, xs_open fails (still nonzero) */
        unsetenv("XENSTORED_PATH");
        execl(exe, "netbackd", "--foreground", "--ctl", ctl, "--config", conf, (char *)NULL);
        _exit(127);
    }
    assert_true(pid > 0);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    *ctl_made = access(ctl, F_OK) == 0;
    log[0] = '\0';
    if ((f = fopen(logpath, "r"))) {
        size_t n = fread(log, 1, loglen - 1, f);
        log[n] = '\0';
        fclose(f);
    }
    sh("rm -rf %s", dir);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- the guest: the netfront tool as an ARP/ICMP responder ---- */

static int responder_main(void *arg)
{
    char exe[PATH_MAX + 16];

    (void)arg;
    snprintf(exe, sizeof(exe), "%s/netfront", test_env.bindir);
    execl(exe, "netfront", "--devid", "0", "--responder", GUEST_ADDR, "--quiet", (char *)NULL);
    return 127;
}

static int add_vif(struct nbd_testenv *t, unsigned domid, unsigned devid, const char *bridge)
{
    struct nbd_vif_spec spec = { .domid = domid, .devid = devid, .mtu = 1500,
                                 .mac = { 0x00, 0x16, 0x3e, 0x78, (uint8_t)domid, (uint8_t)devid } };
    char err[256];
    int rc;

    snprintf(spec.bridge, sizeof(spec.bridge), "%s", bridge);
    if ((rc = nbd_vif_nodes_add(t->xsh, &spec, err, sizeof(err))))
        fprintf(stderr, "vif-add: %s\n", err);
    return rc;
}

/* Starts netbackd (config may be NULL) with domain 1, a vif 1/0 on bridge
 * and the responder guest, and waits until the vif is Connected. */
static struct nbd_testenv *vif_world(const char *config, const char *bridge, pid_t *guest)
{
    struct nbd_testenv *t = nbd_testenv_start(1, quiet, config);

    assert_non_null(t);   /* with devices at hand, the emulator and netbackd must run */
    assert_int_equal(add_vif(t, 1, 0, bridge), 0);
    *guest = simenv_spawn(t->env, 1, responder_main, NULL);
    assert_true(*guest > 0);
    assert_true(nbd_test_wait_be_state(t->xsh, 1, 0, XenbusStateConnected));
    return t;
}

static void vif_world_end(struct nbd_testenv *t, pid_t guest)
{
    kill(guest, SIGTERM);
    simenv_wait(guest);
    nbd_testenv_stop(t);
}

/* ---- tests ---- */

static void plane_config_tap_port_listed(void **state)
{
    static const char config[] =
        "bridges = ( { name = \"lab\"; aging = 60; } );\n"
        "ports = ( { name = \"nbplanetap0\"; kind = \"tap\"; bridge = \"lab\";\n"
        "            vlan = { mode = \"access\"; tag = 10; }; } );\n";
    struct nbd_testenv *t;
    json_t *r, *br, *port;

    (void)state;
    NEED_DEVICES();
    assert_non_null(t = nbd_testenv_start(0, quiet, config));
    assert_true(link_exists("nbplanetap0"));
    assert_true(link_up("nbplanetap0"));
    assert_non_null(r = netbackctl_json(t, "ports --json"));
    assert_true(json_is_true(json_object_get(r, "ok")));
    assert_non_null(br = bridge_in(r, "lab"));
    assert_int_equal(json_integer_value(json_object_get(br, "aging")), 60);
    assert_non_null(port = port_in(br, "nbplanetap0"));
    assert_string_equal(json_string_value(json_object_get(port, "kind")), "tap");
    assert_string_equal(json_string_value(json_object_get(json_object_get(port, "vlan"), "mode")), "access");
    json_decref(r);
    nbd_testenv_stop(t);
    /* netbackd closed its tap on the way out */
    assert_false(link_exists("nbplanetap0"));
}

static void plane_config_error_exits_naming_line(void **state)
{
    static const char config[] =
        "# a port on a bridge nobody defined\n"
        "bridges = ( { name = \"lab\"; } );\n"
        "ports = ( { name = \"nbplanetap1\"; kind = \"tap\";\n"
        "            bridge = \"nope\"; } );\n";
    char conf[128], log[4096], want[256];
    bool ctl_made;

    (void)state;
    assert_int_equal(netbackd_with_config(config, conf, sizeof(conf), log, sizeof(log),
                                          &ctl_made), 1);
    snprintf(want, sizeof(want), "%s:4: port 'nbplanetap1' names bridge 'nope'", conf);
    if (!strstr(log, want))
        fail_msg("expected \"%s\" in netbackd's output:\n%s", want, log);
    assert_false(ctl_made);
}

/* The worker pinning list refuses what isn't a CPU number instead of
 * pinning to CPU 0 (a string read as 0) or ignoring it. */
static void plane_config_bad_cpus_refused(void **state)
{
    static const char *const configs[][2] = {
        { "netbackd: {\n  cpus = ( 0, \"one\" );\n};\n", ":2: cpus[1] is not a CPU" },
        { "netbackd: {\n\n  cpus = [ -1 ];\n};\n", ":3: cpus[0] is not a CPU" },
        { "netbackd: {\n  cpus = [ 100000 ];\n};\n", ":2: cpus[0] is not a CPU" },
        { "netbackd: {\n  cpus = 3;\n};\n", ":2: cpus must be a list" },
    };
    char conf[128], log[4096], want[256];
    bool ctl_made;

    (void)state;
    for (size_t i = 0; i < sizeof(configs) / sizeof(configs[0]); i++) {
        assert_int_equal(netbackd_with_config(configs[i][0], conf, sizeof(conf), log, sizeof(log),
                                              &ctl_made), 1);
        snprintf(want, sizeof(want), "%s%s", conf, configs[i][1]);
        if (!strstr(log, want))
            fail_msg("expected \"%s\" in netbackd's output:\n%s", want, log);
        assert_false(ctl_made);
    }
}

static void plane_config_apply_error_leaves_nothing(void **state)
{
    /* Valid on paper; only the system says there is no such Linux bridge,
     * after the first tap already exists. */
    static const char config[] =
        "bridges = ( { name = \"lab\"; } );\n"
        "ports = (\n"
        "  { name = \"nbplanetap2\"; kind = \"tap\"; bridge = \"lab\"; },\n"
        "  { name = \"nbplanetap3\"; kind = \"tap\"; bridge = \"lab\";\n"
        "    linux_bridge = \"nbnosuchbr\"; }\n"
        ");\n";
    char conf[128], log[4096], want[256];
    bool ctl_made;

    (void)state;
    NEED_DEVICES();
    assert_int_equal(netbackd_with_config(config, conf, sizeof(conf), log, sizeof(log),
                                          &ctl_made), 1);
    snprintf(want, sizeof(want), "%s:4: tap port nbplanetap3: there is no Linux bridge nbnosuchbr",
             conf);
    if (!strstr(log, want))
        fail_msg("expected \"%s\" in netbackd's output:\n%s", want, log);
    assert_false(ctl_made);
    assert_false(link_exists("nbplanetap2"));
    assert_false(link_exists("nbplanetap3"));
}

static void plane_ctl_bridge_and_port_runtime(void **state)
{
    struct nbd_testenv *t;
    char err[256];
    json_t *r, *port;

    (void)state;
    NEED_DEVICES();
    assert_non_null(t = nbd_testenv_start(0, quiet, NULL));
    call_ok(t, json_pack("{s:s,s:s,s:i}", "cmd", "bridge-add", "name", "rt", "aging", 30));
    call_fails(t, json_pack("{s:s,s:s}", "cmd", "bridge-add", "name", "rt"), err, sizeof(err));
    assert_string_equal(err, "bridge rt: exists already");
    call_fails(t, json_pack("{s:s,s:s,s:s,s:s}", "cmd", "port-add", "name", "nbplanetap4",
                            "kind", "tap", "bridge", "nope"), err, sizeof(err));
    assert_string_equal(err, "port nbplanetap4: no bridge nope");
    assert_false(link_exists("nbplanetap4"));

    call_ok(t, json_pack("{s:s,s:s,s:s,s:s,s:{s:s,s:[i,i],s:b}}", "cmd", "port-add",
                         "name", "nbplanetap4", "kind", "tap", "bridge", "rt",
                         "vlan", "mode", "trunk", "allowed", 10, 20, "untagged", 1));
    assert_true(link_exists("nbplanetap4"));
    assert_non_null(r = port_list(t));
    assert_non_null(port = port_in(bridge_in(r, "rt"), "nbplanetap4"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(port, "vlan"), "mode")),
                        "trunk");
    assert_int_equal(json_array_size(json_object_get(json_object_get(port, "vlan"), "allowed")), 2);
    json_decref(r);

    call_fails(t, json_pack("{s:s,s:s}", "cmd", "bridge-del", "name", "rt"), err, sizeof(err));
    assert_string_equal(err, "bridge rt still has ports");
    call_ok(t, json_pack("{s:s,s:s}", "cmd", "port-del", "name", "nbplanetap4"));
    assert_false(link_exists("nbplanetap4"));
    call_fails(t, json_pack("{s:s,s:s}", "cmd", "port-del", "name", "nbplanetap4"), err,
               sizeof(err));
    assert_string_equal(err, "no port nbplanetap4");
    call_ok(t, json_pack("{s:s,s:s}", "cmd", "bridge-del", "name", "rt"));
    assert_non_null(r = port_list(t));
    assert_null(bridge_in(r, "rt"));
    json_decref(r);
    nbd_testenv_stop(t);
}

/* netbackctl's subcommands speak the same requests. */
static void plane_netbackctl_subcommands(void **state)
{
    struct nbd_testenv *t;
    char cmd[PATH_MAX * 2];
    json_t *r, *port;

    (void)state;
    NEED_DEVICES();
    assert_non_null(t = nbd_testenv_start(0, quiet, NULL));
    assert_true(snprintf(cmd, sizeof(cmd), "%s/netbackctl --ctl %s", test_env.bindir, t->ctl) <
                (int)sizeof(cmd));
    assert_int_equal(sh("%s bridge-add ctlbr --aging 45", cmd), 0);
    assert_int_equal(sh("%s port-add --bridge ctlbr --kind tap --name nbplanetap5 --access 7 "
                        "--mtu 1400", cmd), 0);
    assert_true(link_exists("nbplanetap5"));
    assert_int_equal(sh("%s capture nbplanetap5 --file %s/cap.pcap", cmd, simenv_dir(t->env)), 0);
    assert_non_null(r = netbackctl_json(t, "ports --bridge ctlbr --json"));
    assert_int_equal(json_array_size(json_object_get(r, "bridges")), 1);
    assert_int_equal(json_integer_value(json_object_get(bridge_in(r, "ctlbr"), "aging")), 45);
    assert_non_null(port = port_in(bridge_in(r, "ctlbr"), "nbplanetap5"));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(port, "vlan"), "tag")), 7);
    assert_non_null(json_string_value(json_object_get(port, "capture")));
    json_decref(r);
    assert_int_equal(sh("%s capture nbplanetap5 --off", cmd), 0);
    assert_non_null(r = netbackctl_json(t, "ports --bridge ctlbr --json"));
    assert_true(json_is_null(json_object_get(port_in(bridge_in(r, "ctlbr"), "nbplanetap5"),
                                             "capture")));
    json_decref(r);
    assert_int_equal(sh("%s bridge-del ctlbr 2>/dev/null", cmd), 1);   /* still has a port */
    assert_int_equal(sh("%s port-del nbplanetap5", cmd), 0);
    assert_false(link_exists("nbplanetap5"));
    assert_int_equal(sh("%s bridge-del ctlbr", cmd), 0);
    nbd_testenv_stop(t);
}

static void plane_vif_on_linux_bridge_gets_enslaved_tap(void **state)
{
    struct nbd_testenv *t;
    pid_t guest;
    char master[32], err[256];
    json_t *r, *br, *p;

    (void)state;
    NEED_DEVICES();
    t = vif_world(NULL, LINUX_BR, &guest);
    /* the kernel netback's vif1.0, placed as xl's vif-bridge would */
    assert_true(link_exists("vif1.0"));
    link_master("vif1.0", master, sizeof(master));
    assert_string_equal(master, LINUX_BR);
    assert_true(link_up("vif1.0"));
    /* the kernel netback's address: a Linux bridge never adopts it */
    assert_int_equal(sh("grep -qx fe:ff:ff:ff:ff:ff /sys/class/net/vif1.0/address"), 0);
    assert_non_null(r = port_list(t));
    assert_null(bridge_in(r, LINUX_BR));           /* no netbackd bridge of that name */
    assert_non_null(br = bridge_in(r, "vif1.0@" LINUX_BR));
    assert_int_equal(json_array_size(json_object_get(br, "ports")), 2);
    assert_non_null(p = port_in(br, "vif1.0"));
    assert_string_equal(json_string_value(json_object_get(p, "kind")), "vif");
    assert_non_null(p = port_in(br, "vif1.0-tap"));
    assert_string_equal(json_string_value(json_object_get(p, "kind")), "tap");
    json_decref(r);

    /* A live change of the backend `mtu` key reaches the tap, as `ip link
     * set vif1.0 mtu` would on a Linux dom0 (a garbage value: 1500) */
    assert_int_equal(link_mtu("vif1.0"), 1500);
    assert_int_equal(set_vif_mtu_key(t, "1400", 1400), 1400);
    assert_int_equal(set_vif_mtu_key(t, "9000", 9000), 9000);
    assert_int_equal(set_vif_mtu_key(t, "9x", 1500), 1500);

    /* A real ping from the Linux bridge's side to the guest. */
    if (sh("command -v ping >/dev/null") == 0) {
        assert_int_equal(sh("ip addr add " NS_ADDR "/24 dev " LINUX_BR), 0);
        assert_int_equal(sh("ping -n -q -c 3 -i 0.2 -W 5 " GUEST_ADDR " >/dev/null"), 0);
        assert_int_equal(sh("ip addr del " NS_ADDR "/24 dev " LINUX_BR), 0);
    } else {
        fprintf(stderr, "note: no ping, the path itself is not exercised\n");
    }

    /* The toolstack removes the device: tap and private bridge go with it. */
    assert_int_equal(nbd_vif_nodes_del(t->xsh, 1, 0, 0, 0, err, sizeof(err)), 0);
    assert_true(nbd_test_wait_vif_gone(t, "vif1.0"));
    assert_false(link_exists("vif1.0"));
    assert_non_null(r = port_list(t));
    assert_null(bridge_in(r, "vif1.0@" LINUX_BR));
    json_decref(r);
    vif_world_end(t, guest);
}

/* A netbackd bridge of that name wins over the Linux bridge. */
static void plane_vif_prefers_netbackd_bridge(void **state)
{
    static const char config[] = "bridges = ( { name = \"" LINUX_BR "\"; } );\n";
    struct nbd_testenv *t;
    pid_t guest;
    json_t *r;

    (void)state;
    NEED_DEVICES();
    t = vif_world(config, LINUX_BR, &guest);
    assert_false(link_exists("vif1.0"));
    assert_non_null(r = port_list(t));
    assert_non_null(port_in(bridge_in(r, LINUX_BR), "vif1.0"));
    json_decref(r);
    vif_world_end(t, guest);
}

/* linux_bridge_taps = false: the name makes a netbackd bridge, as before. */
static void plane_vif_linux_bridge_taps_off(void **state)
{
    static const char config[] = "netbackd = { linux_bridge_taps = false; };\n";
    struct nbd_testenv *t;
    pid_t guest;
    json_t *r;

    (void)state;
    NEED_DEVICES();
    t = vif_world(config, LINUX_BR, &guest);
    assert_false(link_exists("vif1.0"));
    assert_non_null(r = port_list(t));
    assert_non_null(port_in(bridge_in(r, LINUX_BR), "vif1.0"));
    json_decref(r);
    vif_world_end(t, guest);
}

/* ---- setup: a private network namespace with nbtestbr0 ---- */

static bool enter_private_netns(char *why, size_t len)
{
    if (unshare(CLONE_NEWNET | CLONE_NEWNS)) {
        snprintf(why, len, "no private network namespace: %s", strerror(errno));
        return false;
    }
    /* our own /sys shows our own interfaces (what `ip netns exec` does) */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
        mount("sysfs", "/sys", "sysfs", 0, NULL)) {
        snprintf(why, len, "cannot mount a private /sys: %s", strerror(errno));
        return false;
    }
    return true;
}

static void probe_env(void)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

    self[n > 0 ? n : 0] = '\0';
    if (strrchr(self, '/'))
        *strrchr(self, '/') = '\0';
    if (snprintf(test_env.bindir, sizeof(test_env.bindir), "%s/../bin", self) >=
        (int)sizeof(test_env.bindir)) {
        snprintf(test_env.why, sizeof(test_env.why), "test binary path too long");
        return;
    }
    if (geteuid() != 0) {
        snprintf(test_env.why, sizeof(test_env.why), "needs root (network devices)");
        return;
    }
    if (access("/dev/net/tun", R_OK | W_OK)) {
        snprintf(test_env.why, sizeof(test_env.why), "no /dev/net/tun");
        return;
    }
    if (sh("command -v ip >/dev/null")) {
        snprintf(test_env.why, sizeof(test_env.why), "no ip command");
        return;
    }
    if (!(test_env.netns = enter_private_netns(test_env.why, sizeof(test_env.why))))
        return;
    if (sh("ip link set lo up && ip link add " LINUX_BR " type bridge && "
           "ip link set " LINUX_BR " up")) {
        snprintf(test_env.why, sizeof(test_env.why), "cannot create Linux bridge " LINUX_BR);
        return;
    }
    test_env.devices = true;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plane_config_error_exits_naming_line),
        cmocka_unit_test(plane_config_bad_cpus_refused),
        cmocka_unit_test(plane_config_apply_error_leaves_nothing),
        cmocka_unit_test(plane_config_tap_port_listed),
        cmocka_unit_test(plane_ctl_bridge_and_port_runtime),
        cmocka_unit_test(plane_netbackctl_subcommands),
        cmocka_unit_test(plane_vif_on_linux_bridge_gets_enslaved_tap),
        cmocka_unit_test(plane_vif_prefers_netbackd_bridge),
        cmocka_unit_test(plane_vif_linux_bridge_taps_off),
    };

    probe_env();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
