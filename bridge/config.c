/* Parsing and validation of `eal`, `bridges` and `ports` with libconfig.
 * Every error names the file and the line of the setting at fault. */
#include "bridge/config.h"

#include <errno.h>
#include <libconfig.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge/port_dpdk.h"

/* What a parse is working on, for error messages. */
struct parse {
    const char *file;
    char *err;
    size_t errlen;
};

/* The line a setting starts on. libconfig dates a group from where the
 * enclosing list was, so a group is dated by its first member. */
static unsigned line_of(const config_setting_t *s)
{
    if (config_setting_is_group(s) && config_setting_length(s) > 0)
        s = config_setting_get_elem(s, 0);
    return config_setting_source_line(s);
}

__attribute__((format(printf, 3, 4)))
static int fail_at(struct parse *ps, const config_setting_t *s, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(ps->err, ps->errlen, "%s:%u: %s", ps->file,
             s ? line_of(s) : 0u, msg);
    return -EINVAL;
}

const char *nb_config_kind_name(enum nb_port_kind kind)
{
    return kind == NB_KIND_DPDK ? "dpdk" : kind == NB_KIND_DISCARD ? "discard" : "tap";
}

int nb_config_kind(const char *s, enum nb_port_kind *kind)
{
    if (!strcmp(s, "tap"))
        *kind = NB_KIND_TAP;
    else if (!strcmp(s, "dpdk"))
        *kind = NB_KIND_DPDK;
    else if (!strcmp(s, "discard"))
        *kind = NB_KIND_DISCARD;
    else
        return -EINVAL;
    return 0;
}

int nb_config_vlan_mode(const char *s, enum nb_vlan_mode *mode)
{
    if (!strcmp(s, "none"))
        *mode = NB_VLAN_NONE;
    else if (!strcmp(s, "access"))
        *mode = NB_VLAN_ACCESS;
    else if (!strcmp(s, "trunk"))
        *mode = NB_VLAN_TRUNK;
    else
        return -EINVAL;
    return 0;
}

/* Only the listed keys may appear in a group: a typo is an error, not a
 * silently ignored setting. */
static int only_keys(struct parse *ps, const config_setting_t *g, const char *const *keys)
{
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(s);
        bool known = false;
        for (const char *const *k = keys; *k && !known; k++)
            known = name && !strcmp(name, *k);
        if (!known)
            return fail_at(ps, s, "unknown setting '%s'", name ? name : "?");
    }
    return 0;
}

/* Optional string into a fixed buffer. */
static int get_str(struct parse *ps, const config_setting_t *g, const char *key, char *dst,
                   size_t size, bool required)
{
    const config_setting_t *s = config_setting_get_member(g, key);
    const char *v;

    if (!s) {
        if (required)
            return fail_at(ps, g, "'%s' is missing", key);
        return 0;
    }
    if (config_setting_type(s) != CONFIG_TYPE_STRING)
        return fail_at(ps, s, "'%s' must be a string", key);
    v = config_setting_get_string(s);
    if (strlen(v) >= size)
        return fail_at(ps, s, "'%s' is longer than %zu characters", key, size - 1);
    snprintf(dst, size, "%s", v);
    return 0;
}

static int get_uint(struct parse *ps, const config_setting_t *g, const char *key, unsigned lo,
                    unsigned hi, unsigned *out)
{
    const config_setting_t *s = config_setting_get_member(g, key);
    long long v;

    if (!s)
        return 0;
    if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64)
        return fail_at(ps, s, "'%s' must be an integer", key);
    v = config_setting_get_int64(s);
    if (v < lo || v > hi)
        return fail_at(ps, s, "'%s' must be in %u..%u", key, lo, hi);
    *out = (unsigned)v;
    return 0;
}

static int get_bool(struct parse *ps, const config_setting_t *g, const char *key, int *out)
{
    const config_setting_t *s = config_setting_get_member(g, key);

    if (!s)
        return 0;
    if (config_setting_type(s) != CONFIG_TYPE_BOOL)
        return fail_at(ps, s, "'%s' must be true or false", key);
    *out = config_setting_get_bool(s);
    return 0;
}

static int parse_vlan(struct parse *ps, const config_setting_t *v, struct nb_config_port *p)
{
    static const char *const keys[] = { "mode", "tag", "allowed", "untagged", NULL };
    const config_setting_t *allowed;
    char mode[16] = "none";
    unsigned tag = 0;
    int untagged = 0, rc;

    if (!config_setting_is_group(v))
        return fail_at(ps, v, "'vlan' must be a group { mode = ...; }");
    if ((rc = only_keys(ps, v, keys)) || (rc = get_str(ps, v, "mode", mode, sizeof(mode), true)))
        return rc;
    if (nb_config_vlan_mode(mode, &p->vlan_mode))
        return fail_at(ps, config_setting_get_member(v, "mode"),
                       "vlan mode must be \"none\", \"access\" or \"trunk\", not \"%s\"", mode);
    if ((rc = get_uint(ps, v, "tag", 1, 4094, &tag)) || (rc = get_bool(ps, v, "untagged", &untagged)))
        return rc;
    allowed = config_setting_get_member(v, "allowed");
    switch (p->vlan_mode) {
    case NB_VLAN_ACCESS:
        if (!tag)
            return fail_at(ps, v, "an access port needs 'tag' (1..4094)");
        if (allowed || untagged)
            return fail_at(ps, allowed ? allowed : v, "'allowed'/'untagged' are for trunk ports");
        p->access_vlan = (uint16_t)tag;
        break;
    case NB_VLAN_TRUNK:
        if (tag)
            return fail_at(ps, config_setting_get_member(v, "tag"), "'tag' is for access ports");
        if (!allowed || !config_setting_is_array(allowed) || config_setting_length(allowed) == 0)
            return fail_at(ps, allowed ? allowed : v, "a trunk port needs 'allowed = [ vid, ... ]'");
        for (int i = 0; i < config_setting_length(allowed); i++) {
            const config_setting_t *e = config_setting_get_elem(allowed, (unsigned)i);
            long long vid = config_setting_get_int64(e);
            if (config_setting_type(e) != CONFIG_TYPE_INT || vid < 1 || vid > 4094)
                return fail_at(ps, e, "VLAN ids in 'allowed' must be integers in 1..4094");
            p->trunk_allowed[vid / 8] |= (uint8_t)(1u << (vid % 8));
        }
        if (untagged)
            p->trunk_allowed[0] |= 1;
        break;
    default:
        if (tag || allowed || untagged)
            return fail_at(ps, v, "vlan mode \"none\" takes no other settings");
    }
    return 0;
}

int nb_config_port_check(const struct nb_config_port *p, char *err, size_t errlen)
{
    if (!p->name[0]) {
        snprintf(err, errlen, "a port needs a name");
        return -EINVAL;
    }
    if (!p->bridge[0]) {
        snprintf(err, errlen, "port %s: 'bridge' is missing", p->name);
        return -EINVAL;
    }
    if (p->kind == NB_KIND_TAP && strlen(p->name) >= IFNAMSIZ) {
        snprintf(err, errlen, "tap port %s: a Linux interface name has at most %d characters",
                 p->name, IFNAMSIZ - 1);
        return -EINVAL;
    }
    if (p->kind == NB_KIND_DPDK) {
        if (!p->devargs[0]) {
            snprintf(err, errlen, "dpdk port %s: 'devargs' is missing", p->name);
            return -EINVAL;
        }
        if (!nb_dpdk_available()) {
            snprintf(err, errlen, "dpdk port %s: this netbackd was built without DPDK", p->name);
            return -EINVAL;
        }
        if (p->linux_bridge[0] || p->mtu || p->no_offload) {
            snprintf(err, errlen, "dpdk port %s: linux_bridge/mtu/offload are tap settings",
                     p->name);
            return -EINVAL;
        }
    }
    if (p->kind == NB_KIND_DISCARD && (p->linux_bridge[0] || p->mtu || p->no_offload ||
                                       p->devargs[0] || p->busy_poll)) {
        snprintf(err, errlen, "discard port %s: takes no tap or dpdk settings", p->name);
        return -EINVAL;
    }
    if (p->kind == NB_KIND_TAP && (p->devargs[0] || p->busy_poll)) {
        snprintf(err, errlen, "tap port %s: devargs/busy_poll are dpdk settings", p->name);
        return -EINVAL;
    }
    if (p->vlan_mode == NB_VLAN_ACCESS && (p->access_vlan < 1 || p->access_vlan > 4094)) {
        snprintf(err, errlen, "port %s: access VLAN must be in 1..4094", p->name);
        return -EINVAL;
    }
    return 0;
}

static int parse_port(struct parse *ps, const config_setting_t *g, struct nb_config_port *p)
{
    static const char *const keys[] = { "name", "kind", "bridge", "vlan", "linux_bridge", "mtu",
                                        "offload", "devargs", "busy_poll", "capture", NULL };
    const config_setting_t *vlan;
    char kind[16], why[200];
    int offload = 1, rc;

    memset(p, 0, sizeof(*p));
    p->line = line_of(g);
    if (!config_setting_is_group(g))
        return fail_at(ps, g, "each port must be a group { name = ...; kind = ...; }");
    if ((rc = only_keys(ps, g, keys)) ||
        (rc = get_str(ps, g, "name", p->name, sizeof(p->name), true)) ||
        (rc = get_str(ps, g, "kind", kind, sizeof(kind), true)) ||
        (rc = get_str(ps, g, "bridge", p->bridge, sizeof(p->bridge), true)) ||
        (rc = get_str(ps, g, "linux_bridge", p->linux_bridge, sizeof(p->linux_bridge), false)) ||
        (rc = get_uint(ps, g, "mtu", 68, 65535, &p->mtu)) ||
        (rc = get_bool(ps, g, "offload", &offload)) ||
        (rc = get_str(ps, g, "devargs", p->devargs, sizeof(p->devargs), false)) ||
        (rc = get_bool(ps, g, "busy_poll", &p->busy_poll)) ||
        (rc = get_str(ps, g, "capture", p->capture, sizeof(p->capture), false)))
        return rc;
    p->no_offload = !offload;
    if (nb_config_kind(kind, &p->kind))
        return fail_at(ps, config_setting_get_member(g, "kind"),
                       "port kind must be \"tap\", \"dpdk\" or \"discard\", not \"%s\"", kind);
    if ((vlan = config_setting_get_member(g, "vlan")) && (rc = parse_vlan(ps, vlan, p)))
        return rc;
    if (nb_config_port_check(p, why, sizeof(why)))
        return fail_at(ps, g, "%s", why);
    return 0;
}

static int parse_bridge(struct parse *ps, const config_setting_t *g, struct nb_config_bridge *b)
{
    static const char *const keys[] = { "name", "aging", NULL };
    int rc;

    memset(b, 0, sizeof(*b));
    b->line = line_of(g);
    b->aging = NB_BRIDGE_AGING_DEFAULT;
    if (!config_setting_is_group(g))
        return fail_at(ps, g, "each bridge must be a group { name = ...; }");
    if ((rc = only_keys(ps, g, keys)) ||
        (rc = get_str(ps, g, "name", b->name, sizeof(b->name), true)) ||
        (rc = get_uint(ps, g, "aging", 1, 1000000, &b->aging)))
        return rc;
    if (!b->name[0])
        return fail_at(ps, g, "a bridge name must not be empty");
    return 0;
}

/* A list ( ... ) or, for one item, a bare group. */
static int list_of_groups(struct parse *ps, const config_setting_t *s, const char *what)
{
    if (!config_setting_is_list(s))
        return fail_at(ps, s, "'%s' must be a list: %s = ( { ... }, { ... } );", what, what);
    return 0;
}

static int parse_root(struct parse *ps, const config_setting_t *root, struct nb_config *cfg)
{
    static const char *const keys[] = { "netbackd", "eal", "bridges", "ports", NULL };
    const config_setting_t *eal, *bridges, *ports;
    int rc;

    if ((rc = only_keys(ps, root, keys)))
        return rc;
    if ((eal = config_setting_get_member(root, "eal"))) {
        if (!config_setting_is_array(eal) && !config_setting_is_list(eal))
            return fail_at(ps, eal, "'eal' must be an array of strings");
        cfg->n_eal = (unsigned)config_setting_length(eal);
        cfg->eal = calloc(cfg->n_eal + 1, sizeof(char *));
        if (!cfg->eal)
            return -ENOMEM;
        for (unsigned i = 0; i < cfg->n_eal; i++) {
            const config_setting_t *e = config_setting_get_elem(eal, i);
            if (config_setting_type(e) != CONFIG_TYPE_STRING)
                return fail_at(ps, e, "'eal' must be an array of strings");
            if (!(cfg->eal[i] = strdup(config_setting_get_string(e))))
                return -ENOMEM;
        }
    }
    if ((bridges = config_setting_get_member(root, "bridges"))) {
        if ((rc = list_of_groups(ps, bridges, "bridges")))
            return rc;
        cfg->n_bridges = (unsigned)config_setting_length(bridges);
        cfg->bridges = calloc(cfg->n_bridges + 1, sizeof(*cfg->bridges));
        if (!cfg->bridges)
            return -ENOMEM;
        for (unsigned i = 0; i < cfg->n_bridges; i++) {
            const config_setting_t *g = config_setting_get_elem(bridges, i);
            if ((rc = parse_bridge(ps, g, &cfg->bridges[i])))
                return rc;
            for (unsigned j = 0; j < i; j++)
                if (!strcmp(cfg->bridges[j].name, cfg->bridges[i].name))
                    return fail_at(ps, g, "bridge '%s' is already defined at line %u",
                                   cfg->bridges[i].name, cfg->bridges[j].line);
        }
    }
    if ((ports = config_setting_get_member(root, "ports"))) {
        if ((rc = list_of_groups(ps, ports, "ports")))
            return rc;
        cfg->n_ports = (unsigned)config_setting_length(ports);
        cfg->ports = calloc(cfg->n_ports + 1, sizeof(*cfg->ports));
        if (!cfg->ports)
            return -ENOMEM;
        for (unsigned i = 0; i < cfg->n_ports; i++) {
            const config_setting_t *g = config_setting_get_elem(ports, i);
            struct nb_config_port *p = &cfg->ports[i];
            bool bridge_known = false;
            if ((rc = parse_port(ps, g, p)))
                return rc;
            for (unsigned j = 0; j < i; j++)
                if (!strcmp(cfg->ports[j].name, p->name))
                    return fail_at(ps, g, "port '%s' is already defined at line %u", p->name,
                                   cfg->ports[j].line);
            for (unsigned j = 0; j < cfg->n_bridges; j++)
                bridge_known |= !strcmp(cfg->bridges[j].name, p->bridge);
            if (!bridge_known)
                return fail_at(ps, config_setting_get_member(g, "bridge"),
                               "port '%s' names bridge '%s', which 'bridges' does not define",
                               p->name, p->bridge);
        }
    }
    return 0;
}

void nb_config_free(struct nb_config *cfg)
{
    if (!cfg)
        return;
    for (unsigned i = 0; cfg->eal && i < cfg->n_eal; i++)
        free(cfg->eal[i]);
    free(cfg->eal);
    free(cfg->bridges);
    free(cfg->ports);
    free(cfg);
}

/* Shared tail of load and parse: config_read_* has run with result ok. */
static int finish(config_t *lc, bool ok, const char *file, struct nb_config **out, char *err,
                  size_t errlen)
{
    struct parse ps = { .file = file, .err = err, .errlen = errlen };
    struct nb_config *cfg;
    int rc;

    if (!ok) {
        snprintf(err, errlen, "%s:%d: %s", file, config_error_line(lc), config_error_text(lc));
        config_destroy(lc);
        return -EINVAL;
    }
    cfg = calloc(1, sizeof(*cfg));
    if (!cfg) {
        config_destroy(lc);
        return -ENOMEM;
    }
    snprintf(cfg->file, sizeof(cfg->file), "%s", file);
    rc = parse_root(&ps, config_root_setting(lc), cfg);
    config_destroy(lc);
    if (rc) {
        if (rc == -ENOMEM)
            snprintf(err, errlen, "%s: out of memory", file);
        nb_config_free(cfg);
        return rc;
    }
    *out = cfg;
    return 0;
}

int nb_config_load(const char *path, struct nb_config **out, char *err, size_t errlen)
{
    config_t lc;
    FILE *f = fopen(path, "r");
    bool ok;

    if (!f) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    config_init(&lc);
    ok = config_read(&lc, f) == CONFIG_TRUE;
    fclose(f);
    return finish(&lc, ok, path, out, err, errlen);
}

int nb_config_parse(const char *text, struct nb_config **out, char *err, size_t errlen)
{
    config_t lc;

    config_init(&lc);
    return finish(&lc, config_read_string(&lc, text) == CONFIG_TRUE, "<string>", out, err,
                  errlen);
}
