/* netbackctl: talks to netbackd's control socket and writes vif devices
 * into xenstore the way xl does.
 *
 *   netbackctl [--ctl PATH] stats [--json]
 *   netbackctl [--ctl PATH] list [--json]
 *   netbackctl [--ctl PATH] set-mode VIF|all|default event|poll
 *   netbackctl [--ctl PATH] bridge-list
 *   netbackctl [--ctl PATH] bridge-add NAME [--aging SECONDS]
 *   netbackctl [--ctl PATH] bridge-del NAME
 *   netbackctl [--ctl PATH] port-add --bridge B --kind tap|dpdk|discard --name N [options]
 *   netbackctl [--ctl PATH] port-del NAME
 *   netbackctl [--ctl PATH] capture PORT --file F|--off
 *   netbackctl [--ctl PATH] ports [--bridge B] [--json]
 *   netbackctl vif-add --domid D --devid N [--mac M] [--bridge B]
 *                      [--backend-domid 0] [--mtu 1500] [--script PATH]
 *                      [--rate BYTES,USECS]
 *   netbackctl vif-set --domid D --devid N [--backend-domid 0] [--mtu M]
 *                      [--rate BYTES,USECS|none]
 *   netbackctl vif-del --domid D --devid N [--backend-domid 0] [--timeout MS]
 *   netbackctl pci-...                    (PCI pass-through, see pci/)
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <xenstore.h>

#include "backend/ctl_client.h"
#include "backend/vif_nodes.h"
#include "backend/xs_parse.h"

#if __has_include("pci/pci_cli.h")
#include "pci/pci_cli.h"
#define HAVE_PCI_CLI 1
#endif

static void usage(FILE *f)
{
    fprintf(f,
        "usage: netbackctl [--ctl PATH] COMMAND [ARGS]\n"
        "  stats [--json]              per-vif counters\n"
        "  list [--json]               vifs and their state\n"
        "  set-mode VIF|all|default event|poll\n"
        "  bridge-list                 bridges and ports (JSON)\n"
        "  bridge-add NAME [--aging SECONDS]\n"
        "  bridge-del NAME             (a bridge without ports)\n"
        "  port-add --bridge B --kind tap|dpdk|discard --name N [--linux-bridge BR] [--mtu M]\n"
        "           [--no-offload] [--devargs ARGS] [--busy-poll] [--capture FILE]\n"
        "           [--access VID | --trunk VID,... [--untagged]]\n"
        "  port-del NAME               a tap, dpdk or discard port\n"
        "  capture PORT --file F|--off pcap of a port's traffic, both directions\n"
        "  ports [--bridge B] [--json] every port with its counters\n"
        "  vif-add --domid D --devid N [--mac M] [--bridge B] [--backend-domid 0]\n"
        "          [--mtu 1500] [--script PATH] [--rate BYTES,USECS]\n"
        "          (B as xl's bridge=: NAME, NAME.VID access, NAME:VID:VID... trunk)\n"
        "  vif-set --domid D --devid N [--backend-domid 0] [--mtu M] [--rate BYTES,USECS|none]\n"
        "          (a live change of the backend keys; netbackd applies it at once)\n"
        "  vif-del --domid D --devid N [--backend-domid 0] [--timeout MS]\n"
        "  pci-*                       PCI pass-through (netbackctl pci-help)\n"
        "The control socket defaults to $NETBACKD_CTL or /run/netbackd.sock.\n");
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
    va_list ap;

    fputs("netbackctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

/* ---- control socket commands ---- */

static json_t *call(const char *ctl, json_t *req)
{
    json_t *reply = nbd_ctl_call(ctl, req);

    json_decref(req);
    if (!reply) {
        fail("%s: %s", ctl, strerror(errno));
        return NULL;
    }
    if (!json_is_true(json_object_get(reply, "ok"))) {
        fail("%s", json_string_value(json_object_get(reply, "error")) ?: "request failed");
        json_decref(reply);
        return NULL;
    }
    return reply;
}

static void print_json(json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

    if (s)
        puts(s);
    free(s);
}

static unsigned long long counter(json_t *obj, const char *name)
{
    return (unsigned long long)json_integer_value(json_object_get(obj, name));
}

/* Sum of every counter whose name starts with prefix. */
static unsigned long long counter_sum(json_t *obj, const char *prefix)
{
    unsigned long long sum = 0;
    const char *key;
    json_t *v;

    json_object_foreach(obj, key, v)
        if (!strncmp(key, prefix, strlen(prefix)))
            sum += (unsigned long long)json_integer_value(v);
    return sum;
}

static void print_stats_table(json_t *reply)
{
    json_t *vifs = json_object_get(reply, "vifs"), *v;
    size_t i;

    printf("%-10s %-10s %-5s %2s %12s %14s %12s %14s %8s %8s %8s %6s %9s %9s %9s %9s\n",
           "vif", "state", "mode", "q", "tx_pkts", "tx_bytes", "rx_pkts", "rx_bytes",
           "tx_drop", "rx_drop", "mtu_drop", "errors", "ntf_sent", "ntf_recv", "gc_calls",
           "gc_ops");
    json_array_foreach(vifs, i, v) {
        json_t *t = json_object_get(v, "totals");
        printf("%-10s %-10s %-5s %2lld %12llu %14llu %12llu %14llu %8llu %8llu %8llu %6llu %9llu %9llu %9llu %9llu%s\n",
               json_string_value(json_object_get(v, "name")),
               json_string_value(json_object_get(v, "state")),
               json_string_value(json_object_get(v, "mode")),
               json_integer_value(json_object_get(v, "queues")),
               counter(t, "tx_packets"), counter(t, "tx_bytes"),
               counter(t, "rx_packets"), counter(t, "rx_bytes"),
               counter_sum(t, "tx_drop_"), counter_sum(t, "rx_drop_"), counter(t, "rx_drop_mtu"),
               counter(t, "tx_errors") + counter(t, "rx_errors"),
               counter(t, "notify_sent"), counter(t, "notify_recv"),
               counter(t, "gcopy_calls"), counter(t, "gcopy_ops"),
               json_is_true(json_object_get(v, "disabled")) ? "  DISABLED" : "");
        if (json_is_true(json_object_get(v, "disabled")))
            printf("  disabled: %s\n",
                   json_string_value(json_object_get(v, "disable_reason")) ?: "?");
    }
}

/* A vif's vlan object as "-", "access 10" or "trunk 10,20". */
static void vlan_text(json_t *vlan, char *buf, size_t cap)
{
    const char *mode = json_string_value(json_object_get(vlan, "mode"));
    json_t *id;
    size_t i, off;

    if (!mode || !strcmp(mode, "none")) {
        snprintf(buf, cap, "-");
    } else if (!strcmp(mode, "access")) {
        snprintf(buf, cap, "access %lld", json_integer_value(json_object_get(vlan, "tag")));
    } else {
        off = (size_t)snprintf(buf, cap, "trunk ");
        json_array_foreach(json_object_get(vlan, "allowed"), i, id)
            if (off < cap)
                off += (size_t)snprintf(buf + off, cap - off, "%s%lld", i ? "," : "",
                                        json_integer_value(id));
    }
}

static void print_list_table(json_t *reply)
{
    json_t *vifs = json_object_get(reply, "vifs"), *v;
    char vlan[400];
    size_t i;

    printf("%-10s %5s %5s %-12s %-9s %-5s %2s %-10s %-17s %5s %s\n", "vif", "domid", "devid",
           "state", "connected", "mode", "q", "bridge", "mac", "mtu", "vlan");
    json_array_foreach(vifs, i, v) {
        vlan_text(json_object_get(v, "vlan"), vlan, sizeof(vlan));
        printf("%-10s %5lld %5lld %-12s %-9s %-5s %2lld %-10s %-17s %5lld %s\n",
               json_string_value(json_object_get(v, "name")),
               json_integer_value(json_object_get(v, "domid")),
               json_integer_value(json_object_get(v, "devid")),
               json_string_value(json_object_get(v, "state")),
               json_is_true(json_object_get(v, "connected")) ? "yes" : "no",
               json_string_value(json_object_get(v, "mode")),
               json_integer_value(json_object_get(v, "queues")),
               json_string_value(json_object_get(v, "bridge")),
               json_string_value(json_object_get(v, "mac")),
               json_integer_value(json_object_get(v, "mtu")), vlan);
    }
}

static int cmd_query(const char *ctl, const char *cmd, int argc, char **argv,
                     void (*table)(json_t *))
{
    bool as_json = !table;
    json_t *reply;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            as_json = true;
        else
            return fail("%s: unknown argument %s", cmd, argv[i]);
    }
    if (!(reply = call(ctl, json_pack("{s:s}", "cmd", cmd))))
        return 1;
    if (as_json)
        print_json(reply);
    else
        table(reply);
    json_decref(reply);
    return 0;
}

static int cmd_set_mode(const char *ctl, int argc, char **argv)
{
    json_t *reply;

    if (argc != 3)
        return fail("usage: set-mode VIF|all|default event|poll");
    if (!(reply = call(ctl, json_pack("{s:s,s:s,s:s}", "cmd", "set-mode", "vif", argv[1],
                                      "mode", argv[2]))))
        return 1;
    json_decref(reply);
    return 0;
}

/* ---- forwarding plane commands (bridges, tap/dpdk ports, captures) ---- */

/* Sends req; prints nothing but errors. */
static int call_done(const char *ctl, json_t *req)
{
    json_t *reply = call(ctl, req);

    json_decref(reply);
    return reply ? 0 : 1;
}

static int cmd_bridge_add(const char *ctl, int argc, char **argv)
{
    json_t *req;
    uint32_t aging = 0;

    if (argc == 4 && !strcmp(argv[2], "--aging")) {
        if (nbd_parse_u32(argv[3], 1000000, &aging) || aging == 0)
            return fail("--aging: seconds, 1..1000000");
    } else if (argc != 2) {
        return fail("usage: bridge-add NAME [--aging SECONDS]");
    }
    req = json_pack("{s:s,s:s}", "cmd", "bridge-add", "name", argv[1]);
    if (aging)
        json_object_set_new(req, "aging", json_integer(aging));
    return call_done(ctl, req);
}

/* "bridge-del NAME", "port-del NAME": the request {"cmd", "name"}. */
static int cmd_named(const char *ctl, int argc, char **argv)
{
    if (argc != 2)
        return fail("usage: %s NAME", argv[0]);
    return call_done(ctl, json_pack("{s:s,s:s}", "cmd", argv[0], "name", argv[1]));
}

/* "10,20,30" into a JSON array of VLAN ids. */
static json_t *vid_list(const char *s)
{
    json_t *arr = json_array();
    char *copy = strdup(s), *save = NULL;

    for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok;
         tok = strtok_r(NULL, ",", &save)) {
        uint32_t vid;
        if (nbd_parse_u32(tok, 4094, &vid) || vid == 0) {
            json_decref(arr);
            arr = NULL;
            break;
        }
        json_array_append_new(arr, json_integer(vid));
    }
    if (!copy || (arr && json_array_size(arr) == 0)) {
        json_decref(arr);
        arr = NULL;
    }
    free(copy);
    return arr;
}

static int cmd_port_add(const char *ctl, int argc, char **argv)
{
    enum { O_BRIDGE = 1, O_KIND, O_NAME, O_LBR, O_MTU, O_NOOFF, O_DEVARGS, O_BUSY,
           O_CAPTURE, O_ACCESS, O_TRUNK, O_UNTAGGED };
    static const struct option opts[] = {
        { "bridge", required_argument, NULL, O_BRIDGE },
        { "kind", required_argument, NULL, O_KIND },
        { "name", required_argument, NULL, O_NAME },
        { "linux-bridge", required_argument, NULL, O_LBR },
        { "mtu", required_argument, NULL, O_MTU },
        { "no-offload", no_argument, NULL, O_NOOFF },
        { "devargs", required_argument, NULL, O_DEVARGS },
        { "busy-poll", no_argument, NULL, O_BUSY },
        { "capture", required_argument, NULL, O_CAPTURE },
        { "access", required_argument, NULL, O_ACCESS },
        { "trunk", required_argument, NULL, O_TRUNK },
        { "untagged", no_argument, NULL, O_UNTAGGED },
        { NULL, 0, NULL, 0 },
    };
    json_t *req = json_pack("{s:s}", "cmd", "port-add"), *vlan = NULL, *vids;
    bool untagged = false;
    uint32_t v;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_BRIDGE: json_object_set_new(req, "bridge", json_string(optarg)); break;
        case O_KIND: json_object_set_new(req, "kind", json_string(optarg)); break;
        case O_NAME: json_object_set_new(req, "name", json_string(optarg)); break;
        case O_LBR: json_object_set_new(req, "linux_bridge", json_string(optarg)); break;
        case O_DEVARGS: json_object_set_new(req, "devargs", json_string(optarg)); break;
        case O_CAPTURE: json_object_set_new(req, "capture", json_string(optarg)); break;
        case O_NOOFF: json_object_set_new(req, "offload", json_false()); break;
        case O_BUSY: json_object_set_new(req, "busy_poll", json_true()); break;
        case O_UNTAGGED: untagged = true; break;
        case O_MTU:
            if (nbd_parse_u32(optarg, 65535, &v) || v < 68)
                goto bad_mtu;
            json_object_set_new(req, "mtu", json_integer(v));
            break;
        case O_ACCESS:
            if (nbd_parse_u32(optarg, 4094, &v) || v == 0)
                goto bad_vlan;
            json_decref(vlan);
            vlan = json_pack("{s:s,s:i}", "mode", "access", "tag", (int)v);
            break;
        case O_TRUNK:
            if (!(vids = vid_list(optarg)))
                goto bad_vlan;
            json_decref(vlan);
            vlan = json_pack("{s:s,s:o}", "mode", "trunk", "allowed", vids);
            break;
        default:
            json_decref(req);
            json_decref(vlan);
            return fail("port-add: unknown option (netbackctl help)");
        }
    }
    if (optind != argc || !json_object_get(req, "bridge") || !json_object_get(req, "kind") ||
        !json_object_get(req, "name")) {
        json_decref(req);
        json_decref(vlan);
        return fail("usage: port-add --bridge B --kind tap|dpdk|discard --name N [options]");
    }
    if (untagged && vlan && json_object_get(vlan, "allowed"))
        json_object_set_new(vlan, "untagged", json_true());
    if (vlan)
        json_object_set_new(req, "vlan", vlan);
    return call_done(ctl, req);
bad_mtu:
    json_decref(req);
    json_decref(vlan);
    return fail("--mtu: 68..65535");
bad_vlan:
    json_decref(req);
    json_decref(vlan);
    return fail("--access VID / --trunk VID,...: VLAN ids 1..4094");
}

static int cmd_capture(const char *ctl, int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[2], "--file"))
        return call_done(ctl, json_pack("{s:s,s:s,s:s}", "cmd", "capture", "port", argv[1],
                                        "file", argv[3]));
    if (argc == 3 && !strcmp(argv[2], "--off"))
        return call_done(ctl, json_pack("{s:s,s:s,s:n}", "cmd", "capture", "port", argv[1],
                                        "file"));
    return fail("usage: capture PORT --file F|--off");
}

static void print_ports_table(json_t *reply)
{
    json_t *bridges = json_object_get(reply, "bridges"), *b, *p;
    size_t i, j;

    printf("%-16s %-14s %-5s %-4s %12s %14s %12s %14s %8s %s\n", "bridge", "port", "kind",
           "link", "rx_pkts", "rx_bytes", "tx_pkts", "tx_bytes", "drops", "capture");
    json_array_foreach(bridges, i, b)
        json_array_foreach(json_object_get(b, "ports"), j, p)
            printf("%-16s %-14s %-5s %-4s %12llu %14llu %12llu %14llu %8llu %s\n",
                   json_string_value(json_object_get(b, "name")),
                   json_string_value(json_object_get(p, "name")),
                   json_string_value(json_object_get(p, "kind")),
                   json_is_true(json_object_get(p, "link")) ? "up" : "down",
                   counter(p, "rx_packets"), counter(p, "rx_bytes"),
                   counter(p, "tx_packets"), counter(p, "tx_bytes"),
                   counter_sum(json_object_get(p, "drops"), ""),
                   json_string_value(json_object_get(p, "capture")) ?: "-");
}

static int cmd_ports(const char *ctl, int argc, char **argv)
{
    json_t *req = json_pack("{s:s}", "cmd", "port-list"), *reply;
    bool as_json = false;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) {
            as_json = true;
        } else if (!strcmp(argv[i], "--bridge") && i + 1 < argc) {
            json_object_set_new(req, "bridge", json_string(argv[++i]));
        } else {
            json_decref(req);
            return fail("usage: ports [--bridge B] [--json]");
        }
    }
    if (!(reply = call(ctl, req)))
        return 1;
    if (as_json)
        print_json(reply);
    else
        print_ports_table(reply);
    json_decref(reply);
    return 0;
}

/* ---- xenstore commands ---- */

struct vif_args {
    struct nbd_vif_spec spec;
    bool has_domid, has_devid, has_mac;
    unsigned timeout_ms;
};

static int parse_vif_args(int argc, char **argv, struct vif_args *a, bool del)
{
    enum { O_DOMID = 1, O_DEVID, O_MAC, O_BRIDGE, O_BEDOM, O_MTU, O_SCRIPT, O_RATE, O_TIMEOUT };
    static const struct option opts[] = {
        { "domid", required_argument, NULL, O_DOMID },
        { "devid", required_argument, NULL, O_DEVID },
        { "mac", required_argument, NULL, O_MAC },
        { "bridge", required_argument, NULL, O_BRIDGE },
        { "backend-domid", required_argument, NULL, O_BEDOM },
        { "mtu", required_argument, NULL, O_MTU },
        { "script", required_argument, NULL, O_SCRIPT },
        { "rate", required_argument, NULL, O_RATE },
        { "timeout", required_argument, NULL, O_TIMEOUT },
        { NULL, 0, NULL, 0 },
    };
    uint32_t v;
    int c;

    memset(a, 0, sizeof(*a));
    a->spec.mtu = 1500;
    a->timeout_ms = 10000;   /* libxl's LIBXL_DESTROY_TIMEOUT */
    snprintf(a->spec.bridge, sizeof(a->spec.bridge), "xenbr0");
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        const char *arg = optarg;
        switch (c) {
        case O_DOMID:
            if (nbd_parse_u32(arg, 0x7FEF, &v) || v == 0)
                return fail("--domid: a guest domain id, 1..32751");
            a->spec.domid = v;
            a->has_domid = true;
            break;
        case O_DEVID:
            if (nbd_parse_u32(arg, 0xFFFF, &v))
                return fail("--devid: 0..65535");
            a->spec.devid = v;
            a->has_devid = true;
            break;
        case O_BEDOM:
            if (nbd_parse_u32(arg, 0x7FEF, &v))
                return fail("--backend-domid: a domain id");
            a->spec.backend_domid = v;
            break;
        case O_TIMEOUT:
            if (nbd_parse_u32(arg, 600000, &v))
                return fail("--timeout: milliseconds, 0..600000");
            a->timeout_ms = v;
            break;
        default:
            if (del)
                return fail("vif-del takes --domid, --devid, --backend-domid, --timeout");
            switch (c) {
            case O_MAC:
                if (nbd_parse_mac(arg, a->spec.mac))
                    return fail("--mac: xx:xx:xx:xx:xx:xx");
                a->has_mac = true;
                break;
            case O_BRIDGE:
                if (!*arg || strlen(arg) >= sizeof(a->spec.bridge))
                    return fail("--bridge: a name of 1..%zu bytes", sizeof(a->spec.bridge) - 1);
                snprintf(a->spec.bridge, sizeof(a->spec.bridge), "%s", arg);
                break;
            case O_MTU:
                /* what netbackd (like Linux's vif) accepts; it would
                 * use 1500 for anything else */
                if (nbd_parse_u32(arg, 65517, &v) || v < 68)
                    return fail("--mtu: 68..65517");
                a->spec.mtu = v;
                break;
            case O_SCRIPT:
                if (strlen(arg) >= sizeof(a->spec.script))
                    return fail("--script: path too long");
                snprintf(a->spec.script, sizeof(a->spec.script), "%s", arg);
                break;
            case O_RATE:
                /* what libxl writes: never a zero (the key itself may hold
                 * "0,N", which passes nothing) */
                if (nbd_parse_rate(arg, &a->spec.rate_bytes, &a->spec.rate_usecs) ||
                    !a->spec.rate_bytes || !a->spec.rate_usecs)
                    return fail("--rate: BYTES,USECS, both > 0");
                break;
            default:
                return fail("vif-add: unknown option");
            }
        }
    }
    if (optind != argc)
        return fail("unexpected argument %s", argv[optind]);
    if (!a->has_domid || !a->has_devid)
        return fail("--domid and --devid are required");
    return 0;
}

/* vif-set: the backend `mtu` and `rate` keys of an existing vif, changed
 * in place, as an admin would with xenstore-write (Linux: ip link set
 * vifX.Y mtu; the rate key's watch). */
static int cmd_vif_set(int argc, char **argv)
{
    enum { O_DOMID = 1, O_DEVID, O_BEDOM, O_MTU, O_RATE };
    static const struct option opts[] = {
        { "domid", required_argument, NULL, O_DOMID },
        { "devid", required_argument, NULL, O_DEVID },
        { "backend-domid", required_argument, NULL, O_BEDOM },
        { "mtu", required_argument, NULL, O_MTU },
        { "rate", required_argument, NULL, O_RATE },
        { NULL, 0, NULL, 0 },
    };
    unsigned domid = 0, devid = 0, bedom = 0;
    bool has_domid = false, has_devid = false, rm_rate = false;
    char mtu[16] = "", rate[48] = "", err[256] = "";
    uint64_t bytes, usecs;
    struct xs_handle *xsh;
    uint32_t v;
    int c, rc = 0;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        const char *arg = optarg;
        switch (c) {
        case O_DOMID:
            if (nbd_parse_u32(arg, 0x7FEF, &v) || v == 0)
                return fail("--domid: a guest domain id, 1..32751");
            domid = v;
            has_domid = true;
            break;
        case O_DEVID:
            if (nbd_parse_u32(arg, 0xFFFF, &v))
                return fail("--devid: 0..65535");
            devid = v;
            has_devid = true;
            break;
        case O_BEDOM:
            if (nbd_parse_u32(arg, 0x7FEF, &v))
                return fail("--backend-domid: a domain id");
            bedom = v;
            break;
        case O_MTU:
            if (nbd_parse_u32(arg, 65517, &v) || v < 68)
                return fail("--mtu: 68..65517");
            snprintf(mtu, sizeof(mtu), "%u", v);
            break;
        case O_RATE:
            if (!strcmp(arg, "none")) {
                rm_rate = true;
                rate[0] = '\0';
                break;
            }
            if (nbd_parse_rate(arg, &bytes, &usecs) || !bytes || !usecs)
                return fail("--rate: BYTES,USECS, both > 0, or none");
            snprintf(rate, sizeof(rate), "%llu,%llu", (unsigned long long)bytes,
                     (unsigned long long)usecs);
            rm_rate = false;
            break;
        default:
            return fail("vif-set takes --domid, --devid, --backend-domid, --mtu, --rate");
        }
    }
    if (optind != argc)
        return fail("unexpected argument %s", argv[optind]);
    if (!has_domid || !has_devid)
        return fail("--domid and --devid are required");
    if (!mtu[0] && !rate[0] && !rm_rate)
        return fail("vif-set: nothing to set (--mtu, --rate)");
    if (!(xsh = xs_open(0)))
        return fail("xenstore: %s", strerror(errno));
    if (mtu[0])
        rc = nbd_vif_nodes_set(xsh, domid, devid, bedom, "mtu", mtu, err, sizeof(err));
    if (!rc && (rate[0] || rm_rate))
        rc = nbd_vif_nodes_set(xsh, domid, devid, bedom, "rate", rm_rate ? NULL : rate, err,
                               sizeof(err));
    xs_close(xsh);
    return rc ? fail("vif-set: %s", err) : 0;
}

/* libxl's default: Xen's OUI 00:16:3e and three random octets. */
static void random_mac(uint8_t mac[6])
{
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();

    mac[0] = 0x00;
    mac[1] = 0x16;
    mac[2] = 0x3e;
    for (int i = 3; i < 6; i++)
        mac[i] = (uint8_t)(rand_r(&seed) & (i == 3 ? 0x7f : 0xff));
}

static int cmd_vif(int argc, char **argv, bool del)
{
    struct vif_args a;
    struct xs_handle *xsh;
    char err[256] = "";
    int rc;

    if (parse_vif_args(argc, argv, &a, del))
        return 1;
    if (!(xsh = xs_open(0)))
        return fail("xenstore: %s", strerror(errno));
    if (del) {
        rc = nbd_vif_nodes_del(xsh, a.spec.domid, a.spec.devid, a.spec.backend_domid,
                               a.timeout_ms, err, sizeof(err));
        if (rc == -ETIMEDOUT) {
            fprintf(stderr, "netbackctl: warning: %s\n", err);
            rc = 0;
        }
    } else {
        if (!a.has_mac)
            random_mac(a.spec.mac);
        rc = nbd_vif_nodes_add(xsh, &a.spec, err, sizeof(err));
    }
    xs_close(xsh);
    if (rc)
        return fail("%s: %s", argv[0], err);
    return 0;
}

int main(int argc, char **argv)
{
    const char *ctl = getenv("NETBACKD_CTL") ?: "/run/netbackd.sock";
    int i = 1;

    if (i + 1 < argc && !strcmp(argv[i], "--ctl")) {
        ctl = argv[i + 1];
        i += 2;
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[i];
    int sub_argc = argc - i;
    char **sub_argv = argv + i;

    if (!strcmp(cmd, "stats"))
        return cmd_query(ctl, "stats", sub_argc, sub_argv, print_stats_table);
    if (!strcmp(cmd, "list"))
        return cmd_query(ctl, "vif-list", sub_argc, sub_argv, print_list_table);
    if (!strcmp(cmd, "bridge-list"))
        return cmd_query(ctl, "bridge-list", sub_argc, sub_argv, NULL);
    if (!strcmp(cmd, "set-mode"))
        return cmd_set_mode(ctl, sub_argc, sub_argv);
    if (!strcmp(cmd, "bridge-add"))
        return cmd_bridge_add(ctl, sub_argc, sub_argv);
    if (!strcmp(cmd, "bridge-del") || !strcmp(cmd, "port-del"))
        return cmd_named(ctl, sub_argc, sub_argv);
    if (!strcmp(cmd, "port-add"))
        return cmd_port_add(ctl, sub_argc, sub_argv);
    if (!strcmp(cmd, "capture"))
        return cmd_capture(ctl, sub_argc, sub_argv);
    if (!strcmp(cmd, "ports") || !strcmp(cmd, "port-list"))
        return cmd_ports(ctl, sub_argc, sub_argv);
    if (!strcmp(cmd, "vif-add"))
        return cmd_vif(sub_argc, sub_argv, false);
    if (!strcmp(cmd, "vif-del"))
        return cmd_vif(sub_argc, sub_argv, true);
    if (!strcmp(cmd, "vif-set"))
        return cmd_vif_set(sub_argc, sub_argv);
    if (!strncmp(cmd, "pci-", 4)) {
#ifdef HAVE_PCI_CLI
        return pci_cli_main(sub_argc, sub_argv);
#else
        return fail("%s: this build has no PCI pass-through support", cmd);
#endif
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help")) {
        usage(stdout);
        return 0;
    }
    usage(stderr);
    return 2;
}
