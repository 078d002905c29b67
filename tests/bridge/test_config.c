/* Config file parsing (valid, and invalid with the exact line), applying it
 * all-or-nothing, and the control-socket commands. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "bridge/bridge_ctl.h"
#include "bridge/config.h"
#include "bridge/port_dpdk.h"
#include "bridge/port_dummy.h"

static const char VALID[] =
    "# a whole file\n"
    "netbackd = { mode = \"event\"; };\n"       /* line 2: the backend's, ignored here */
    "eal = [ \"--no-huge\", \"-m\", \"256\" ];\n"
    "bridges = (\n"
    "  { name = \"xenbr0\"; },\n"                /* line 5 */
    "  { name = \"lab\"; aging = 30; }\n"
    ");\n"
    "ports = (\n"
    "  { name = \"nbtap0\"; kind = \"tap\"; bridge = \"xenbr0\"; linux_bridge = \"br0\"; mtu = 9000; },\n"
    "  { name = \"t1\"; kind = \"tap\"; bridge = \"lab\"; offload = false;\n"   /* line 10 */
    "    vlan = { mode = \"access\"; tag = 10; }; capture = \"/tmp/t1.pcap\"; },\n"
    "  { name = \"t2\"; kind = \"tap\"; bridge = \"lab\";\n"
    "    vlan = { mode = \"trunk\"; allowed = [ 10, 20, 4094 ]; untagged = true; }; }\n"
    ");\n";

static void nb_config_parse_valid(void **state)
{
    struct nb_config *cfg;
    char err[256] = "";
    (void)state;

    assert_int_equal(nb_config_parse(VALID, &cfg, err, sizeof(err)), 0);
    assert_string_equal(err, "");
    assert_int_equal(cfg->n_eal, 3);
    assert_string_equal(cfg->eal[0], "--no-huge");
    assert_string_equal(cfg->eal[2], "256");
    assert_int_equal(cfg->n_bridges, 2);
    assert_string_equal(cfg->bridges[0].name, "xenbr0");
    assert_int_equal(cfg->bridges[0].aging, 300);
    assert_int_equal(cfg->bridges[0].line, 5);
    assert_int_equal(cfg->bridges[1].aging, 30);
    assert_int_equal(cfg->n_ports, 3);
    struct nb_config_port *p = &cfg->ports[0];
    assert_int_equal(p->kind, NB_KIND_TAP);
    assert_string_equal(p->linux_bridge, "br0");
    assert_int_equal(p->mtu, 9000);
    assert_int_equal(p->vlan_mode, NB_VLAN_NONE);
    assert_int_equal(p->no_offload, 0);
    p = &cfg->ports[1];
    assert_int_equal(p->line, 10);
    assert_int_equal(p->no_offload, 1);
    assert_int_equal(p->vlan_mode, NB_VLAN_ACCESS);
    assert_int_equal(p->access_vlan, 10);
    assert_string_equal(p->capture, "/tmp/t1.pcap");
    p = &cfg->ports[2];
    assert_int_equal(p->vlan_mode, NB_VLAN_TRUNK);
    assert_int_equal(p->trunk_allowed[0], 1);                 /* untagged */
    assert_int_equal(p->trunk_allowed[10 / 8], 1u << (10 % 8));
    assert_int_equal(p->trunk_allowed[20 / 8], 1u << (20 % 8));
    assert_int_equal(p->trunk_allowed[4094 / 8], 1u << (4094 % 8));
    assert_int_equal(p->trunk_allowed[30 / 8] & (1u << (30 % 8)), 0);
    nb_config_free(cfg);
}

static void nb_config_load_reads_file(void **state)
{
    char path[] = "/tmp/nb-config-XXXXXX", err[256];
    int fd = mkstemp(path);
    struct nb_config *cfg;
    (void)state;

    assert_true(fd >= 0);
    assert_int_equal(write(fd, VALID, sizeof(VALID) - 1), (ssize_t)(sizeof(VALID) - 1));
    close(fd);
    assert_int_equal(nb_config_load(path, &cfg, err, sizeof(err)), 0);
    assert_string_equal(cfg->file, path);
    assert_int_equal(cfg->n_ports, 3);
    nb_config_free(cfg);
    /* A syntax error names the file and line. */
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_int_equal(write(fd, "bridges = (\n  { name = \"a\";; }\n);\n", 32), 32);
    close(fd);
    assert_int_equal(nb_config_load(path, &cfg, err, sizeof(err)), -EINVAL);
    char want[128];
    snprintf(want, sizeof(want), "%s:2: ", path);
    assert_memory_equal(err, want, strlen(want));
    unlink(path);
    assert_int_equal(nb_config_load("/nonexistent/netbackd.conf", &cfg, err, sizeof(err)),
                     -ENOENT);
    assert_string_equal(err, "/nonexistent/netbackd.conf: No such file or directory");
}

/* Each invalid text, and the exact message it must produce. */
static const struct {
    const char *text, *error;
} INVALID[] = {
    { "bridges = ( { name = \"a\"; },\n { name = \"a\"; } );\n",
      "<string>:2: bridge 'a' is already defined at line 1" },
    { "bridges = ( { name = \"a\"; } );\nports = (\n { name = \"p\"; kind = \"tap\";\n   bridge = \"b\"; } );\n",
      "<string>:4: port 'p' names bridge 'b', which 'bridges' does not define" },
    { "bridges = ( { name = \"a\"; } );\nports = (\n { name = \"p\"; kind = \"vhost\"; bridge = \"a\"; } );\n",
      "<string>:3: port kind must be \"tap\", \"dpdk\" or \"discard\", not \"vhost\"" },
    { "bridges = ( { name = \"a\"; } );\nports = (\n { name = \"p\"; kind = \"discard\"; bridge = \"a\"; mtu = 1500; } );\n",
      "<string>:3: discard port p: takes no tap or dpdk settings" },
    { "bridges = ( { name = \"a\";\n  agin = 5; } );\n",
      "<string>:2: unknown setting 'agin'" },
    { "bridges = ( { name = \"a\"; aging = 0; } );\n",
      "<string>:1: 'aging' must be in 1..1000000" },
    { "bridges = ( { name = \"a\"; } );\nports = ( { name = \"p\"; kind = \"tap\"; bridge = \"a\";\n"
      "  vlan = { mode = \"access\"; tag = 4095; }; } );\n",
      "<string>:3: 'tag' must be in 1..4094" },
    { "bridges = ( { name = \"a\"; } );\nports = ( { name = \"p\"; kind = \"tap\"; bridge = \"a\";\n"
      "  vlan = { mode = \"trunk\";\n allowed = [ 5, 0 ]; }; } );\n",
      "<string>:4: VLAN ids in 'allowed' must be integers in 1..4094" },
    { "bridges = ( { name = \"a\"; } );\nports = ( { name = \"p\"; kind = \"tap\"; bridge = \"a\";\n"
      "  vlan = { mode = \"access\"; }; } );\n",
      "<string>:3: an access port needs 'tag' (1..4094)" },
    { "bridges = ( { name = \"a\"; } );\nports = (\n { name = \"averyverylongname\"; kind = \"tap\"; bridge = \"a\"; } );\n",
      "<string>:3: tap port averyverylongname: a Linux interface name has at most 15 characters" },
    { "bridges = ( { name = \"a\"; } );\nports = (\n { name = \"p\"; kind = \"tap\"; bridge = \"a\"; },\n"
      " { name = \"p\"; kind = \"tap\"; bridge = \"a\"; } );\n",
      "<string>:4: port 'p' is already defined at line 3" },
    { "eal = [ \"-l\", 3 ];\n", "<string>:1: mismatched element type in array" },
    { "eal = ( \"-l\", 3 );\n", "<string>:1: 'eal' must be an array of strings" },
    { "bridge = ( );\n", "<string>:1: unknown setting 'bridge'" },
    { "bridges = { name = \"a\"; };\n",
      "<string>:1: 'bridges' must be a list: bridges = ( { ... }, { ... } );" },
    { "bridges = ( { name = \"a\"; } );\nports = ( { name = \"p\"; kind = \"tap\"; bridge = \"a\"; mtu = \"big\"; } );\n",
      "<string>:2: 'mtu' must be an integer" },
    { "bridges = ( { name = \"a\"; aging = ; } );\n", "<string>:1: syntax error" },
};

static void nb_config_parse_invalid_names_line(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(INVALID) / sizeof(INVALID[0]); i++) {
        struct nb_config *cfg = NULL;
        char err[256] = "";
        int rc = nb_config_parse(INVALID[i].text, &cfg, err, sizeof(err));
        if (rc != -EINVAL || strcmp(err, INVALID[i].error) != 0)
            fail_msg("case %zu: rc %d, error \"%s\", want \"%s\"", i, rc, err, INVALID[i].error);
        assert_null(cfg);
    }
}

static void nb_config_parse_dpdk_port(void **state)
{
    const char *text = "bridges = ( { name = \"a\"; } );\n"
                       "ports = ( { name = \"nic0\"; kind = \"dpdk\"; bridge = \"a\";\n"
                       "  devargs = \"net_null0\"; busy_poll = true; } );\n";
    struct nb_config *cfg = NULL;
    char err[256] = "";
    (void)state;

    if (nb_dpdk_available()) {
        assert_int_equal(nb_config_parse(text, &cfg, err, sizeof(err)), 0);
        assert_string_equal(cfg->ports[0].devargs, "net_null0");
        assert_int_equal(cfg->ports[0].busy_poll, 1);
        nb_config_free(cfg);
    } else {
        assert_int_equal(nb_config_parse(text, &cfg, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, "<string>:2: dpdk port nic0: this netbackd was built without DPDK");
    }
    assert_int_equal(nb_config_parse("bridges = ( { name = \"a\"; } );\n"
                                     "ports = ( { name = \"nic0\"; kind = \"dpdk\"; bridge = \"a\"; } );\n",
                                     &cfg, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "<string>:2: dpdk port nic0: 'devargs' is missing");
}

static void nb_config_load_documented_example(void **state)
{
    struct nb_config *cfg = NULL;
    char err[256];
    int rc;
    (void)state;

    if (access("docs/netbackd.conf.example", R_OK) != 0)
        skip();                         /* run from outside the source tree */
    rc = nb_config_load("docs/netbackd.conf.example", &cfg, err, sizeof(err));
    if (!nb_dpdk_available()) {
        assert_int_equal(rc, -EINVAL);
        assert_non_null(strstr(err, "dpdk port uplink: this netbackd was built without DPDK"));
        return;
    }
    if (rc)
        fail_msg("%s", err);
    assert_int_equal(cfg->n_bridges, 2);
    assert_int_equal(cfg->n_ports, 3);
    assert_int_equal(cfg->ports[1].kind, NB_KIND_DPDK);
    assert_int_equal(cfg->ports[2].access_vlan, 10);
    nb_config_free(cfg);
}

/* ---- applying and control ---- */

struct plane_fixture {
    struct nb_switchboard *sb;
    struct nb_pkt_pool *pool;
    struct nb_plane *pl;
};

static int plane_setup(void **state)
{
    struct plane_fixture *f = calloc(1, sizeof(*f));
    f->sb = nb_switchboard_new();
    f->pool = nb_pkt_pool_new("plane", 256);
    f->pl = nb_plane_new(f->sb, f->pool);
    *state = f;
    return 0;
}

static int plane_teardown(void **state)
{
    struct plane_fixture *f = *state;
    nb_plane_free(f->pl);
    nb_switchboard_free(f->sb);
    nb_pkt_pool_free(f->pool);
    free(f);
    return 0;
}

static int count_bridges(struct nb_bridge *br, void *arg)
{
    (void)br;
    (*(int *)arg)++;
    return 0;
}

static void nb_plane_apply_all_or_nothing(void **state)
{
    struct plane_fixture *f = *state;
    const char *text = "bridges = ( { name = \"one\"; }, { name = \"two\"; } );\n"
                       "ports = (\n"
                       "  { name = \"nbok0\"; kind = \"tap\"; bridge = \"one\"; },\n"
                       "  { name = \"nbbad0\"; kind = \"tap\"; bridge = \"two\"; linux_bridge = \"nosuchbr\"; }\n"
                       ");\n";
    struct nb_config *cfg;
    char err[256] = "";
    int n = 0;

    /* As root in a private namespace the first tap works and the second
     * fails on its missing Linux bridge; otherwise the first fails. Either
     * way nothing may stay behind. */
    if (geteuid() == 0)
        assert_int_equal(unshare(CLONE_NEWNET), 0);
    assert_int_equal(nb_config_parse(text, &cfg, err, sizeof(err)), 0);
    assert_int_not_equal(nb_plane_apply(f->pl, cfg, err, sizeof(err)), 0);
    if (geteuid() == 0 && access("/dev/net/tun", W_OK) == 0)
        assert_string_equal(err, "<string>:4: tap port nbbad0: there is no Linux bridge nosuchbr");
    else
        assert_memory_equal(err, "<string>:3: tap port nbok0: ", 28);
    nb_switchboard_foreach(f->sb, count_bridges, &n);
    assert_int_equal(n, 0);
    assert_int_equal(system("ip link show nbok0 >/dev/null 2>&1") == 0, 0);
    nb_config_free(cfg);
}

static json_t *call(json_t *(*fn)(struct nb_plane *, json_t *), struct nb_plane *pl, const char *req)
{
    json_error_t je;
    json_t *r = json_loads(req, 0, &je), *reply;
    assert_non_null(r);
    reply = fn(pl, r);
    json_decref(r);
    return reply;
}

static void assert_error(json_t *reply, const char *msg)
{
    assert_true(json_is_false(json_object_get(reply, "ok")));
    assert_string_equal(json_string_value(json_object_get(reply, "error")), msg);
    json_decref(reply);
}

static void assert_ok(json_t *reply)
{
    if (!json_is_true(json_object_get(reply, "ok")))
        fail_msg("not ok: %s", json_string_value(json_object_get(reply, "error")));
    json_decref(reply);
}

static void nb_ctl_bridge_add_del_and_list(void **state)
{
    struct plane_fixture *f = *state;
    struct nb_port *d = nb_dummy_port_new("vif5.0", NB_PORT_OFF_CSUM);
    json_t *r, *br, *port;

    assert_ok(call(nb_ctl_bridge_add, f->pl, "{\"name\":\"xenbr0\",\"aging\":60}"));
    assert_error(call(nb_ctl_bridge_add, f->pl, "{\"name\":\"xenbr0\"}"), "bridge xenbr0: exists already");
    assert_error(call(nb_ctl_bridge_add, f->pl, "{\"name\":\"x\",\"aging\":0}"),
                 "\"aging\" must be an integer in 1..1000000");
    assert_error(call(nb_ctl_bridge_add, f->pl, "{}"), "bridge-add needs \"name\"");
    d->vlan_mode = NB_VLAN_ACCESS;
    d->access_vlan = 7;
    assert_int_equal(nb_bridge_add_port(nb_switchboard_find(f->sb, "xenbr0"), d), 0);

    r = call(nb_ctl_port_list, f->pl, "{}");
    assert_true(json_is_true(json_object_get(r, "ok")));
    br = json_array_get(json_object_get(r, "bridges"), 0);
    assert_string_equal(json_string_value(json_object_get(br, "name")), "xenbr0");
    assert_int_equal(json_integer_value(json_object_get(br, "aging")), 60);
    port = json_array_get(json_object_get(br, "ports"), 0);
    assert_string_equal(json_string_value(json_object_get(port, "name")), "vif5.0");
    assert_string_equal(json_string_value(json_object_get(port, "kind")), "dummy");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(port, "vlan"), "tag")), 7);
    assert_string_equal(json_string_value(json_array_get(json_object_get(port, "offloads"), 0)), "csum");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(port, "drops"), "vlan")), 0);
    assert_true(json_is_null(json_object_get(port, "capture")) || !json_object_get(port, "capture"));
    json_decref(r);
    assert_error(call(nb_ctl_port_list, f->pl, "{\"bridge\":\"nope\"}"), "no such bridge");

    assert_error(call(nb_ctl_bridge_del, f->pl, "{\"name\":\"xenbr0\"}"), "bridge xenbr0 still has ports");
    assert_error(call(nb_ctl_port_del, f->pl, "{\"name\":\"vif5.0\"}"),
                 "port vif5.0 is a vif: it goes when its guest does");
    assert_error(call(nb_ctl_port_del, f->pl, "{\"name\":\"nope\"}"), "no port nope");
    assert_int_equal(nb_bridge_del_port(nb_switchboard_find(f->sb, "xenbr0"), d), 0);
    assert_ok(call(nb_ctl_bridge_del, f->pl, "{\"name\":\"xenbr0\"}"));
    assert_error(call(nb_ctl_bridge_del, f->pl, "{\"name\":\"xenbr0\"}"), "no bridge xenbr0");
}

static void nb_ctl_capture_on_off(void **state)
{
    struct plane_fixture *f = *state;
    struct nb_port *d = nb_dummy_port_new("vif6.0", 0);
    char dir[] = "/tmp/nb-ctl-XXXXXX", req[200], path[64];
    json_t *r, *port;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/c.pcap", dir);
    assert_ok(call(nb_ctl_bridge_add, f->pl, "{\"name\":\"b\"}"));
    assert_int_equal(nb_bridge_add_port(nb_switchboard_find(f->sb, "b"), d), 0);
    snprintf(req, sizeof(req), "{\"port\":\"vif6.0\",\"file\":\"%s\"}", path);
    assert_ok(call(nb_ctl_capture, f->pl, req));
    r = call(nb_ctl_port_list, f->pl, "{\"bridge\":\"b\"}");
    port = json_array_get(json_object_get(json_array_get(json_object_get(r, "bridges"), 0), "ports"), 0);
    assert_string_equal(json_string_value(json_object_get(port, "capture")), path);
    json_decref(r);
    assert_ok(call(nb_ctl_capture, f->pl, "{\"port\":\"vif6.0\",\"file\":null}"));
    assert_null(atomic_load(&d->capture));
    assert_int_equal(access(path, R_OK), 0);
    assert_error(call(nb_ctl_capture, f->pl, "{\"port\":\"nope\",\"file\":null}"), "no port nope");
    assert_error(call(nb_ctl_capture, f->pl, "{\"port\":\"vif6.0\"}"),
                 "capture needs \"port\" and \"file\" (a path, or null to stop)");
    assert_error(call(nb_ctl_capture, f->pl, "{\"port\":\"vif6.0\",\"file\":\"/nonexistent/x\"}"),
                 "capture /nonexistent/x: No such file or directory");
    unlink(path);
    rmdir(dir);
}

static void nb_ctl_port_add_validates(void **state)
{
    struct plane_fixture *f = *state;

    assert_ok(call(nb_ctl_bridge_add, f->pl, "{\"name\":\"b\"}"));
    assert_error(call(nb_ctl_port_add, f->pl, "{\"name\":\"p\",\"bridge\":\"b\"}"),
                 "port-add needs \"kind\": \"tap\", \"dpdk\" or \"discard\"");
    assert_error(call(nb_ctl_port_add, f->pl, "{\"name\":\"p\",\"kind\":\"tap\",\"bridge\":\"nob\"}"),
                 "port p: no bridge nob");
    assert_error(call(nb_ctl_port_add, f->pl, "{\"name\":\"p\",\"kind\":\"tap\",\"bridge\":\"b\","
                                              "\"vlan\":{\"mode\":\"access\",\"tag\":5000}}"),
                 "an access port needs \"tag\" in 1..4094");
    assert_error(call(nb_ctl_port_add, f->pl, "{\"name\":\"p\",\"kind\":\"tap\",\"bridge\":\"b\",\"mtu\":10}"),
                 "\"mtu\" must be an integer in 68..65535");
    assert_error(call(nb_ctl_port_add, f->pl, "{\"name\":\"p\",\"kind\":\"tap\"}"),
                 "port p: 'bridge' is missing");
}

/* A discard port frees what it is sent and counts it as its tx_packets. */
static void nb_ctl_port_add_discard_frees_and_counts(void **state)
{
    struct plane_fixture *f = *state;
    struct nb_port *d = nb_dummy_port_new("vif7.0", 0);
    struct nb_pkt *pkts[3];
    json_t *r, *ports, *sink = NULL;

    assert_ok(call(nb_ctl_bridge_add, f->pl, "{\"name\":\"b\"}"));
    assert_ok(call(nb_ctl_port_add, f->pl, "{\"name\":\"sink0\",\"kind\":\"discard\",\"bridge\":\"b\"}"));
    assert_error(call(nb_ctl_port_add, f->pl, "{\"name\":\"s1\",\"kind\":\"discard\",\"bridge\":\"b\","
                                              "\"devargs\":\"x\"}"),
                 "discard port s1: takes no tap or dpdk settings");
    assert_int_equal(nb_bridge_add_port(nb_switchboard_find(f->sb, "b"), d), 0);
    for (unsigned i = 0; i < 3; i++) {
        pkts[i] = nb_pkt_alloc(f->pool, 60);
        assert_non_null(pkts[i]);
        memset(pkts[i]->data, 0, 60);
        memcpy(pkts[i]->data, "\x00\x16\x3e\x00\x00\x09\x00\x16\x3e\x00\x00\x07", 12);
    }
    nb_bridge_input(nb_switchboard_find(f->sb, "b"), d, pkts, 3);
    assert_int_equal(nb_pkt_pool_in_use(f->pool), 0);
    assert_int_equal(nb_dummy_port_count(d), 0);
    r = call(nb_ctl_port_list, f->pl, "{\"bridge\":\"b\"}");
    ports = json_object_get(json_array_get(json_object_get(r, "bridges"), 0), "ports");
    for (size_t i = 0; i < json_array_size(ports); i++)
        if (!strcmp(json_string_value(json_object_get(json_array_get(ports, i), "name")), "sink0"))
            sink = json_array_get(ports, i);
    assert_non_null(sink);
    assert_string_equal(json_string_value(json_object_get(sink, "kind")), "discard");
    assert_int_equal(json_integer_value(json_object_get(sink, "tx_packets")), 3);
    assert_int_equal(json_integer_value(json_object_get(sink, "tx_bytes")), 180);
    json_decref(r);
    assert_int_equal(nb_bridge_del_port(nb_switchboard_find(f->sb, "b"), d), 0);
    assert_ok(call(nb_ctl_port_del, f->pl, "{\"name\":\"sink0\"}"));
    assert_ok(call(nb_ctl_bridge_del, f->pl, "{\"name\":\"b\"}"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nb_config_parse_valid),
        cmocka_unit_test(nb_config_load_reads_file),
        cmocka_unit_test(nb_config_parse_invalid_names_line),
        cmocka_unit_test(nb_config_parse_dpdk_port),
        cmocka_unit_test(nb_config_load_documented_example),
        cmocka_unit_test_setup_teardown(nb_ctl_bridge_add_del_and_list, plane_setup, plane_teardown),
        cmocka_unit_test_setup_teardown(nb_ctl_capture_on_off, plane_setup, plane_teardown),
        cmocka_unit_test_setup_teardown(nb_ctl_port_add_validates, plane_setup, plane_teardown),
        cmocka_unit_test_setup_teardown(nb_ctl_port_add_discard_frees_and_counts, plane_setup,
                                        plane_teardown),
        cmocka_unit_test_setup_teardown(nb_plane_apply_all_or_nothing, plane_setup, plane_teardown),
    };
    return cmocka_run_group_tests_name("bridge_config", tests, NULL, NULL);
}
