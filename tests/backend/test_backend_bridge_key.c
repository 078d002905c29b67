/* The `bridge` key's VLAN syntax (vif-openvswitch's NAME.VID and
 * NAME:VID:VID...): exact results for the accepted forms, -EINVAL with a
 * reason for every malformed one. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "backend/bridge_key.h"

static void nbd_parse_bridge_key_plain_name(void **state)
{
    struct nbd_bridge_key k;
    char err[96] = "";

    (void)state;
    assert_int_equal(nbd_parse_bridge_key("xenbr0", &k, err, sizeof(err)), 0);
    assert_string_equal(k.name, "xenbr0");
    assert_int_equal(k.mode, NB_VLAN_NONE);
    assert_int_equal(k.n_vids, 0);
    assert_string_equal(err, "");
}

static void nbd_parse_bridge_key_access(void **state)
{
    struct nbd_bridge_key k;
    char err[96], s[32];

    (void)state;
    assert_int_equal(nbd_parse_bridge_key("xenbr0.10", &k, err, sizeof(err)), 0);
    assert_string_equal(k.name, "xenbr0");
    assert_int_equal(k.mode, NB_VLAN_ACCESS);
    assert_int_equal(k.n_vids, 1);
    assert_int_equal(k.vids[0], 10);
    nbd_bridge_key_vlan_str(&k, s, sizeof(s));
    assert_string_equal(s, ".10");
    /* the ends of the range, and leading zeros as the script's [[:digit:]]+ */
    assert_int_equal(nbd_parse_bridge_key("b.1", &k, err, sizeof(err)), 0);
    assert_int_equal(k.vids[0], 1);
    assert_int_equal(nbd_parse_bridge_key("b.4094", &k, err, sizeof(err)), 0);
    assert_int_equal(k.vids[0], 4094);
    assert_int_equal(nbd_parse_bridge_key("b.0010", &k, err, sizeof(err)), 0);
    assert_int_equal(k.vids[0], 10);
}

static void nbd_parse_bridge_key_trunk(void **state)
{
    struct nbd_bridge_key k;
    char err[96], s[32];

    (void)state;
    assert_int_equal(nbd_parse_bridge_key("lab:20:10:4094", &k, err, sizeof(err)), 0);
    assert_string_equal(k.name, "lab");
    assert_int_equal(k.mode, NB_VLAN_TRUNK);
    assert_int_equal(k.n_vids, 3);
    assert_int_equal(k.vids[0], 20);
    assert_int_equal(k.vids[1], 10);
    assert_int_equal(k.vids[2], 4094);
    nbd_bridge_key_vlan_str(&k, s, sizeof(s));
    assert_string_equal(s, ":20:10:4094");
    assert_int_equal(nbd_parse_bridge_key("lab:7", &k, err, sizeof(err)), 0);
    assert_int_equal(k.mode, NB_VLAN_TRUNK);
    assert_int_equal(k.n_vids, 1);
    assert_int_equal(k.vids[0], 7);
}

static void nbd_parse_bridge_key_trunk_limit(void **state)
{
    struct nbd_bridge_key k;
    char err[96], key[NBD_BRIDGE_KEY_TRUNK_MAX * 5 + 16];
    size_t off = (size_t)snprintf(key, sizeof(key), "br");

    (void)state;
    for (unsigned i = 1; i <= NBD_BRIDGE_KEY_TRUNK_MAX; i++)
        off += (size_t)snprintf(key + off, sizeof(key) - off, ":%u", 100 + i);
    assert_int_equal(nbd_parse_bridge_key(key, &k, err, sizeof(err)), 0);
    assert_int_equal(k.n_vids, NBD_BRIDGE_KEY_TRUNK_MAX);
    assert_int_equal(k.vids[NBD_BRIDGE_KEY_TRUNK_MAX - 1], 100 + NBD_BRIDGE_KEY_TRUNK_MAX);
    snprintf(key + off, sizeof(key) - off, ":%u", 99);
    assert_int_equal(nbd_parse_bridge_key(key, &k, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "more than 64"));
}

static void nbd_parse_bridge_key_rejects_malformed(void **state)
{
    static const char *const bad[] = {
        ".10", ":10", "br.", "br:", "br.0", "br.4095", "br.65546", "br.10000",
        "br.-1", "br.+5", "br. 10", "br.10 ", "br.1a", "br.10.20", "br..10", "br.10:20",
        "br:10:", "br::10", "br:10:10", "br:0", "br:4095", "br:10.20", "br:x", "br.0x10",
    };
    struct nbd_bridge_key k;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char err[96] = "";

        if (!strchr(bad[i], '.') && !strchr(bad[i], ':'))
            continue;   /* no VLAN syntax: a plain name, tested above */
        if (nbd_parse_bridge_key(bad[i], &k, err, sizeof(err)) != -EINVAL)
            fail_msg("\"%s\" accepted", bad[i]);
        assert_true(err[0] != 0);
    }
}

static void nbd_parse_bridge_key_rejects_long_name(void **state)
{
    struct nbd_bridge_key k;
    char err[96], key[NBD_BRIDGE_KEY_NAME_MAX + 8];

    (void)state;
    memset(key, 'b', NBD_BRIDGE_KEY_NAME_MAX - 1);
    snprintf(key + NBD_BRIDGE_KEY_NAME_MAX - 1, 8, ".10");
    assert_int_equal(nbd_parse_bridge_key(key, &k, err, sizeof(err)), 0);
    assert_int_equal(strlen(k.name), NBD_BRIDGE_KEY_NAME_MAX - 1);
    memset(key, 'b', NBD_BRIDGE_KEY_NAME_MAX);
    snprintf(key + NBD_BRIDGE_KEY_NAME_MAX, 8, ".10");
    assert_int_equal(nbd_parse_bridge_key(key, &k, err, sizeof(err)), -EINVAL);
}

static void nbd_parse_bridge_key_reasons(void **state)
{
    struct nbd_bridge_key k;
    char err[96];

    (void)state;
    assert_int_equal(nbd_parse_bridge_key("br.10:20", &k, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "both an access VLAN and trunk VLANs: not supported");
    assert_int_equal(nbd_parse_bridge_key("br:10:30:10", &k, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "trunk VLAN 10 given twice");
    /* nothing half-parsed is left behind */
    assert_int_equal(k.mode, NB_VLAN_NONE);
    assert_int_equal(k.n_vids, 0);
    assert_string_equal(k.name, "");
    assert_int_equal(nbd_parse_bridge_key("br:10:4095", &k, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "trunk VLAN 2: not a VID of 1..4094");
    assert_int_equal(nbd_parse_bridge_key("br.4095", &k, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "access VLAN after '.': not a VID of 1..4094");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nbd_parse_bridge_key_plain_name),
        cmocka_unit_test(nbd_parse_bridge_key_access),
        cmocka_unit_test(nbd_parse_bridge_key_trunk),
        cmocka_unit_test(nbd_parse_bridge_key_trunk_limit),
        cmocka_unit_test(nbd_parse_bridge_key_rejects_malformed),
        cmocka_unit_test(nbd_parse_bridge_key_rejects_long_name),
        cmocka_unit_test(nbd_parse_bridge_key_reasons),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
