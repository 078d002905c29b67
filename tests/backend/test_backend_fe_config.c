/* Frontend key validation and the strict xenstore value parsers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "backend/fe_config.h"
#include "backend/xs_parse.h"

/* A frontend directory as a NULL-terminated key/value table. */
struct kv { const char *k, *v; };

static char *table_read(void *arg, const char *key)
{
    for (const struct kv *kv = arg; kv->k; kv++)
        if (!strcmp(kv->k, key))
            return strdup(kv->v);
    return NULL;
}

static const struct nbd_fe_offer offer4 = { .max_queues = 4, .split_evtchn = true,
                                            .ctrl_ring = true, .mcast_control = true,
                                            .xdp_headroom = true };

static int read_table(const struct kv *t, struct nbd_fe_config *cfg, char *err)
{
    return nbd_fe_config_read(cfg, &offer4, table_read, (void *)t, err, 128);
}

/* What a Linux netfront with one vCPU writes (shared/notes/netif.md). */
static void nbd_fe_config_read_linux_single_queue(void **state)
{
    const struct kv t[] = {
        {"multi-queue-num-queues", "1"}, {"tx-ring-ref", "8"}, {"rx-ring-ref", "9"},
        {"event-channel-tx", "11"}, {"event-channel-rx", "12"}, {"request-rx-copy", "1"},
        {"feature-rx-notify", "1"}, {"feature-sg", "1"}, {"feature-gso-tcpv4", "1"},
        {"feature-gso-tcpv6", "1"}, {"feature-ipv6-csum-offload", "1"}, {NULL, NULL} };
    struct nbd_fe_config cfg;
    char err[128];

    assert_int_equal(read_table(t, &cfg, err), 0);
    assert_int_equal(cfg.num_queues, 1);
    assert_int_equal(cfg.q[0].tx_ring_ref, 8);
    assert_int_equal(cfg.q[0].rx_ring_ref, 9);
    assert_int_equal(cfg.q[0].evtchn_tx, 11);
    assert_int_equal(cfg.q[0].evtchn_rx, 12);
    assert_true(cfg.q[0].split);
    assert_true(cfg.rx_notify && cfg.sg && cfg.gso_tcpv4 && cfg.gso_tcpv6);
    assert_true(cfg.ipv4_csum);
    assert_true(cfg.ipv6_csum);
    assert_false(cfg.mcast_control);
    assert_false(cfg.ctrl_ring);
}

static void nbd_fe_config_read_defaults(void **state)
{
    const struct kv t[] = {
        {"tx-ring-ref", "8"}, {"rx-ring-ref", "9"}, {"event-channel", "5"},
        {"request-rx-copy", "1"}, {NULL, NULL} };
    struct nbd_fe_config cfg;
    char err[128];

    assert_int_equal(read_table(t, &cfg, err), 0);
    assert_int_equal(cfg.num_queues, 1);
    assert_false(cfg.q[0].split);
    assert_int_equal(cfg.q[0].evtchn_tx, 5);
    assert_int_equal(cfg.q[0].evtchn_rx, 5);
    assert_false(cfg.rx_notify);
    assert_false(cfg.sg);
    assert_true(cfg.ipv4_csum);     /* on unless feature-no-csum-offload */
    assert_false(cfg.ipv6_csum);    /* off unless asked */
}

static void nbd_fe_config_read_rx_flip_refused(void **state)
{
    const struct kv absent[] = {
        {"tx-ring-ref", "8"}, {"rx-ring-ref", "9"}, {"event-channel", "5"}, {NULL, NULL} };
    const struct kv zero[] = {
        {"tx-ring-ref", "8"}, {"rx-ring-ref", "9"}, {"event-channel", "5"},
        {"request-rx-copy", "0"}, {NULL, NULL} };
    struct nbd_fe_config cfg;
    char err[128];

    assert_int_equal(read_table(absent, &cfg, err), -EOPNOTSUPP);
    assert_non_null(strstr(err, "request-rx-copy"));
    assert_int_equal(read_table(zero, &cfg, err), -EOPNOTSUPP);
}

static void nbd_fe_config_read_garbage_values(void **state)
{
    static const char *const bad[] = { "", "-1", "+8", " 8", "8 ", "0x8", "4294967296", "8a" };
    struct nbd_fe_config cfg;
    char err[128];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const struct kv t[] = {
            {"tx-ring-ref", bad[i]}, {"rx-ring-ref", "9"}, {"event-channel", "5"},
            {"request-rx-copy", "1"}, {NULL, NULL} };
        assert_int_equal(read_table(t, &cfg, err), -EINVAL);
        assert_non_null(strstr(err, "tx-ring-ref"));
    }
    const struct kv badbool[] = {
        {"tx-ring-ref", "8"}, {"rx-ring-ref", "9"}, {"event-channel", "5"},
        {"request-rx-copy", "1"}, {"feature-sg", "2"}, {NULL, NULL} };
    assert_int_equal(read_table(badbool, &cfg, err), -EINVAL);
    assert_non_null(strstr(err, "feature-sg"));
}

static void nbd_fe_config_read_missing_ring_ref(void **state)
{
    const struct kv t[] = {
        {"tx-ring-ref", "8"}, {"event-channel", "5"}, {"request-rx-copy", "1"}, {NULL, NULL} };
    struct nbd_fe_config cfg;
    char err[128];

    assert_int_equal(read_table(t, &cfg, err), -EINVAL);
    assert_string_equal(err, "rx-ring-ref: missing");
}

static void nbd_fe_config_read_event_channel_forms(void **state)
{
    const struct kv lone_tx[] = {
        {"tx-ring-ref", "8"}, {"rx-ring-ref", "9"}, {"event-channel-tx", "5"},
        {"request-rx-copy", "1"}, {NULL, NULL} };
    const struct kv both_forms[] = {
        {"tx-ring-ref", "8"}, {"rx-ring-ref", "9"}, {"event-channel-tx", "5"},
        {"event-channel-rx", "6"}, {"event-channel", "7"}, {"request-rx-copy", "1"}, {NULL, NULL} };
    const struct kv none[] = {
        {"tx-ring-ref", "8"}, {"rx-ring-ref", "9"}, {"request-rx-copy", "1"}, {NULL, NULL} };
    const struct kv port0[] = {
        {"tx-ring-ref", "8"}, {"rx-ring-ref", "9"}, {"event-channel", "0"},
        {"request-rx-copy", "1"}, {NULL, NULL} };
    const struct nbd_fe_offer nosplit = { .max_queues = 1 };
    const struct kv split[] = {
        {"tx-ring-ref", "8"}, {"rx-ring-ref", "9"}, {"event-channel-tx", "5"},
        {"event-channel-rx", "6"}, {"request-rx-copy", "1"}, {NULL, NULL} };
    struct nbd_fe_config cfg;
    char err[128];

    assert_int_equal(read_table(lone_tx, &cfg, err), -EINVAL);
    assert_string_equal(err, "event-channel-rx: missing (split needs both)");
    assert_int_equal(read_table(both_forms, &cfg, err), -EINVAL);
    assert_int_equal(read_table(none, &cfg, err), -EINVAL);
    assert_int_equal(read_table(port0, &cfg, err), -EINVAL);
    assert_int_equal(nbd_fe_config_read(&cfg, &nosplit, table_read, (void *)split, err, sizeof(err)),
                     -EINVAL);
}

static void nbd_fe_config_read_multi_queue(void **state)
{
    const struct kv t[] = {
        {"multi-queue-num-queues", "2"}, {"request-rx-copy", "1"},
        {"queue-0/tx-ring-ref", "10"}, {"queue-0/rx-ring-ref", "11"},
        {"queue-0/event-channel-tx", "3"}, {"queue-0/event-channel-rx", "4"},
        {"queue-1/tx-ring-ref", "12"}, {"queue-1/rx-ring-ref", "13"},
        {"queue-1/event-channel", "5"}, {NULL, NULL} };
    struct nbd_fe_config cfg;
    char err[128];

    assert_int_equal(read_table(t, &cfg, err), 0);
    assert_int_equal(cfg.num_queues, 2);
    assert_int_equal(cfg.q[1].tx_ring_ref, 12);
    assert_int_equal(cfg.q[1].rx_ring_ref, 13);
    assert_int_equal(cfg.q[1].evtchn_tx, 5);
    assert_false(cfg.q[1].split);
    assert_true(cfg.q[0].split);
}

static void nbd_fe_config_read_queue_count_bounds(void **state)
{
    static const char *const bad[] = { "0", "5", "17", "99999999999" };
    struct nbd_fe_config cfg;
    char err[128];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const struct kv t[] = {
            {"multi-queue-num-queues", bad[i]}, {"request-rx-copy", "1"}, {NULL, NULL} };
        assert_int_equal(read_table(t, &cfg, err), -EINVAL);
        assert_non_null(strstr(err, "multi-queue-num-queues"));
    }
}

static void nbd_fe_config_read_mixed_top_level_and_queue_keys(void **state)
{
    const struct kv t[] = {
        {"multi-queue-num-queues", "2"}, {"request-rx-copy", "1"}, {"tx-ring-ref", "1"},
        {"queue-0/tx-ring-ref", "10"}, {"queue-0/rx-ring-ref", "11"},
        {"queue-0/event-channel", "3"}, {"queue-1/tx-ring-ref", "12"},
        {"queue-1/rx-ring-ref", "13"}, {"queue-1/event-channel", "5"}, {NULL, NULL} };
    struct nbd_fe_config cfg;
    char err[128];

    assert_int_equal(read_table(t, &cfg, err), -EINVAL);
    assert_string_equal(err, "tx-ring-ref: at top level with 2 queues");
}

static void nbd_fe_config_read_missing_queue_dir(void **state)
{
    const struct kv t[] = {
        {"multi-queue-num-queues", "2"}, {"request-rx-copy", "1"},
        {"queue-0/tx-ring-ref", "10"}, {"queue-0/rx-ring-ref", "11"},
        {"queue-0/event-channel", "3"}, {NULL, NULL} };
    struct nbd_fe_config cfg;
    char err[128];

    assert_int_equal(read_table(t, &cfg, err), -EINVAL);
    assert_string_equal(err, "queue-1/tx-ring-ref: missing");
}

static void nbd_fe_config_read_ctrl_ring(void **state)
{
    const struct kv ok[] = {
        {"tx-ring-ref", "8"}, {"rx-ring-ref", "9"}, {"event-channel", "5"},
        {"request-rx-copy", "1"}, {"ctrl-ring-ref", "20"}, {"event-channel-ctrl", "6"},
        {"request-multicast-control", "1"}, {NULL, NULL} };
    const struct kv half[] = {
        {"tx-ring-ref", "8"}, {"rx-ring-ref", "9"}, {"event-channel", "5"},
        {"request-rx-copy", "1"}, {"ctrl-ring-ref", "20"}, {NULL, NULL} };
    const struct nbd_fe_offer plain = { .max_queues = 1 };
    struct nbd_fe_config cfg;
    char err[128];

    assert_int_equal(read_table(ok, &cfg, err), 0);
    assert_true(cfg.ctrl_ring);
    assert_int_equal(cfg.ctrl_ring_ref, 20);
    assert_int_equal(cfg.evtchn_ctrl, 6);
    assert_true(cfg.mcast_control);
    assert_int_equal(read_table(half, &cfg, err), -EINVAL);
    assert_string_equal(err, "event-channel-ctrl: missing (control ring needs both keys)");
    /* Not offered: the keys are ignored, as are unoffered requests. */
    assert_int_equal(nbd_fe_config_read(&cfg, &plain, table_read, (void *)ok, err, sizeof(err)), 0);
    assert_false(cfg.ctrl_ring);
    assert_false(cfg.mcast_control);
}

static void nbd_fe_config_read_xdp_headroom(void **state)
{
    static const struct { const char *v; int rc; unsigned want; } cases[] = {
        { NULL, 0, 0 }, { "0", 0, 0 }, { "256", 0, 256 }, { "512", 0, 512 },
        { "1000", 0, NBD_MAX_XDP_HEADROOM }, { "65535", 0, NBD_MAX_XDP_HEADROOM },
        { "65536", -EINVAL, 0 }, { "-1", -EINVAL, 0 }, { "x", -EINVAL, 0 },
    };
    struct nbd_fe_config cfg;
    char err[128];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct kv t[] = {
            {"tx-ring-ref", "8"}, {"rx-ring-ref", "9"}, {"event-channel", "5"},
            {"request-rx-copy", "1"}, {cases[i].v ? "xdp-headroom" : "unrelated", cases[i].v ? cases[i].v : "1"},
            {NULL, NULL} };
        assert_int_equal(read_table(t, &cfg, err), cases[i].rc);
        if (!cases[i].rc)
            assert_int_equal(cfg.xdp_headroom, cases[i].want);
        else
            assert_non_null(strstr(err, "xdp-headroom"));
        uint16_t h = 7;
        assert_int_equal(nbd_fe_read_xdp_headroom(&h, table_read, (void *)t, err, sizeof(err)),
                         cases[i].rc);
        if (!cases[i].rc)
            assert_int_equal(h, cases[i].want);
    }
}

static void nbd_parse_u32_cases(void **state)
{
    uint32_t v = 7;

    assert_int_equal(nbd_parse_u32("4294967295", UINT32_MAX, &v), 0);
    assert_int_equal(v, UINT32_MAX);
    assert_int_equal(nbd_parse_u32("4294967296", UINT32_MAX, &v), -EINVAL);
    assert_int_equal(nbd_parse_u32("17", 16, &v), -EINVAL);
    assert_int_equal(nbd_parse_u32("16", 16, &v), 0);
    assert_int_equal(v, 16);
    assert_int_equal(nbd_parse_u32("", 16, &v), -EINVAL);
    assert_int_equal(nbd_parse_u32(NULL, 16, &v), -EINVAL);
}

static void nbd_parse_mac_cases(void **state)
{
    uint8_t mac[6];
    const uint8_t want[6] = { 0x00, 0x16, 0x3e, 0xAB, 0xcd, 0x01 };

    assert_int_equal(nbd_parse_mac("00:16:3e:AB:cd:01", mac), 0);
    assert_memory_equal(mac, want, 6);
    assert_int_equal(nbd_parse_mac("00:16:3e:ab:cd", mac), -EINVAL);
    assert_int_equal(nbd_parse_mac("00-16-3e-ab-cd-01", mac), -EINVAL);
    assert_int_equal(nbd_parse_mac("00:16:3e:ab:cd:0g", mac), -EINVAL);
}

static void nbd_parse_rate_cases(void **state)
{
    uint64_t bytes, usecs;

    assert_int_equal(nbd_parse_rate("125000,50000", &bytes, &usecs), 0);
    assert_int_equal(bytes, 125000);
    assert_int_equal(usecs, 50000);
    /* zeros parse, as in Linux's xen_net_read_rate ("0,N" passes nothing) */
    assert_int_equal(nbd_parse_rate("0,5", &bytes, &usecs), 0);
    assert_int_equal(bytes, 0);
    assert_int_equal(usecs, 5);
    assert_int_equal(nbd_parse_rate("5,0", &bytes, &usecs), 0);
    assert_int_equal(usecs, 0);
    assert_int_equal(nbd_parse_rate("5,4294967296", &bytes, &usecs), 0);
    assert_int_equal(usecs, 4294967296ull);
    assert_int_equal(nbd_parse_rate("18446744073709551615,1", &bytes, &usecs), 0);
    assert_int_equal(bytes, UINT64_MAX);
    /* Linux's simple_strtoul forms only: digits, no sign, no space, no
     * prefix, nothing after; overflow refused (Linux would wrap) */
    assert_int_equal(nbd_parse_rate("125000", &bytes, &usecs), -EINVAL);
    assert_int_equal(nbd_parse_rate(",5", &bytes, &usecs), -EINVAL);
    assert_int_equal(nbd_parse_rate("5,", &bytes, &usecs), -EINVAL);
    assert_int_equal(nbd_parse_rate("-5,5", &bytes, &usecs), -EINVAL);
    assert_int_equal(nbd_parse_rate("+5,5", &bytes, &usecs), -EINVAL);
    assert_int_equal(nbd_parse_rate(" 5,5", &bytes, &usecs), -EINVAL);
    assert_int_equal(nbd_parse_rate("5, 5", &bytes, &usecs), -EINVAL);
    assert_int_equal(nbd_parse_rate("5,5 ", &bytes, &usecs), -EINVAL);
    assert_int_equal(nbd_parse_rate("0x5,5", &bytes, &usecs), -EINVAL);
    assert_int_equal(nbd_parse_rate("5,5,5", &bytes, &usecs), -EINVAL);
    assert_int_equal(nbd_parse_rate("18446744073709551616,5", &bytes, &usecs), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nbd_fe_config_read_linux_single_queue),
        cmocka_unit_test(nbd_fe_config_read_defaults),
        cmocka_unit_test(nbd_fe_config_read_rx_flip_refused),
        cmocka_unit_test(nbd_fe_config_read_garbage_values),
        cmocka_unit_test(nbd_fe_config_read_missing_ring_ref),
        cmocka_unit_test(nbd_fe_config_read_event_channel_forms),
        cmocka_unit_test(nbd_fe_config_read_multi_queue),
        cmocka_unit_test(nbd_fe_config_read_queue_count_bounds),
        cmocka_unit_test(nbd_fe_config_read_mixed_top_level_and_queue_keys),
        cmocka_unit_test(nbd_fe_config_read_missing_queue_dir),
        cmocka_unit_test(nbd_fe_config_read_ctrl_ring),
        cmocka_unit_test(nbd_fe_config_read_xdp_headroom),
        cmocka_unit_test(nbd_parse_u32_cases),
        cmocka_unit_test(nbd_parse_mac_cases),
        cmocka_unit_test(nbd_parse_rate_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
