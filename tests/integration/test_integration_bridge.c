/* Emulated guests through one netbackd bridge (issue 4): three probe
 * guests on a private emulator; broadcast reaches every other guest and not
 * the sender, unicast to an unknown MAC floods, unicast after learning
 * reaches only its destination; all byte-exact. The "did not arrive"
 * checks use barrier frames, not delays (see it_probe.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tests/integration/it_world.h"

/* netbackctl vif-add arguments putting a vif on access VLAN vid: the
 * `bridge` key in vif-openvswitch's NAME.VID form, as xl writes it. */
static void vif_vlan_args(char *buf, size_t cap, unsigned vid)
{
    snprintf(buf, cap, "--bridge itbr.%u", vid);
}

static void bridge_broadcast_reaches_all_but_sender(void **state)
{
    struct it_world *w = *state;

    it_world_up(w, NULL, 3, NULL);
    it_broadcast_round(w);
}

static void bridge_unknown_unicast_floods_to_all_but_sender(void **state)
{
    struct it_world *w = *state;
    static const uint8_t nobody[6] = { 0x00, 0x16, 0x3e, 0x7f, 0x7f, 0x7f };
    bool to[IT_GUESTS];

    it_world_up(w, NULL, 3, NULL);
    /* Nothing learned yet: even a guest's MAC is unknown. */
    it_all_but(w, 0, to);
    it_send_expect(w, 0, it_make_frame(w, 0, w->mac[1], 200), to);
    it_check_logs(w);
    /* A MAC nobody owns stays unknown after learning, so it still floods. */
    it_broadcast_round(w);
    it_all_but(w, 2, to);
    it_send_expect(w, 2, it_make_frame(w, 2, nobody, 1000), to);
    it_check_logs(w);
}

static void bridge_unicast_after_learning_reaches_only_destination(void **state)
{
    struct it_world *w = *state;
    bool to[IT_GUESTS];

    it_world_up(w, NULL, 3, NULL);
    it_broadcast_round(w);
    /* Every ordered pair: the unicast reaches only its destination; the
     * sender's broadcast right behind it is the barrier proving the third
     * guest was not sent a copy. */
    for (unsigned s = 0; s < w->n; s++)
        for (unsigned d = 0; d < w->n; d++) {
            if (d == s)
                continue;
            memset(to, 0, sizeof(to));
            to[d] = true;
            it_send_expect(w, s, it_make_frame(w, s, w->mac[d], 100 + 200 * s + 20 * d), to);
            it_all_but(w, s, to);
            it_send_expect(w, s, it_make_frame(w, s, it_bcast, 64), to);
            it_check_logs(w);
        }
}

/* Two guests on access VLAN 10 and two on access VLAN 20 of one bridge:
 * broadcast, unknown unicast and a unicast to a MAC known only in the other
 * VLAN all stay in the sender's VLAN; frames arrive untagged, byte-exact. */
static void bridge_vlan_access_ports_isolate(void **state)
{
    static const unsigned vlans[IT_GUESTS] = { 10, 10, 20, 20 };
    struct it_world *w = *state;
    bool to[IT_GUESTS];
    char args[IT_GUESTS][64];
    const char *argv[IT_GUESTS];

    for (unsigned g = 0; g < IT_GUESTS; g++) {
        w->vlan[g] = vlans[g];
        vif_vlan_args(args[g], sizeof(args[g]), vlans[g]);
        argv[g] = args[g];
    }
    it_world_up(w, NULL, IT_GUESTS, argv);
    it_broadcast_round(w);            /* also teaches the bridge every (MAC, VLAN) */
    /* dom1 (VLAN 10) to dom3's MAC, known only in VLAN 20: unknown in VLAN
     * 10, so it floods there (dom2) and nowhere else. dom1's broadcast is
     * the barrier for its own VLAN; dom4's broadcast to dom3 the barrier
     * for VLAN 20. */
    it_all_but(w, 0, to);
    it_send_expect(w, 0, it_make_frame(w, 0, w->mac[2], 700), to);
    it_send_expect(w, 0, it_make_frame(w, 0, it_bcast, 64), to);
    it_check_logs(w);
    it_all_but(w, 3, to);
    it_send_expect(w, 3, it_make_frame(w, 3, it_bcast, 80), to);
    it_check_logs(w);
    /* Unicast inside each VLAN reaches only its destination. */
    memset(to, 0, sizeof(to));
    to[1] = true;
    it_send_expect(w, 0, it_make_frame(w, 0, w->mac[1], 900), to);
    memset(to, 0, sizeof(to));
    to[2] = true;
    it_send_expect(w, 3, it_make_frame(w, 3, w->mac[2], 901), to);
    it_check_logs(w);
}

/* A copy of sent frame idx with an 802.1Q tag for vid after the MACs (as
 * the bridge pushes it towards a trunk), added to sent[] for expectations;
 * its index. */
static unsigned tagged_copy(struct it_world *w, unsigned idx, unsigned vid)
{
    assert_true(w->n_sent < IT_MAX_SENT);
    const struct it_frame *f = &w->sent[idx];
    struct it_frame *t = &w->sent[w->n_sent];

    assert_true(f->len + 4 <= IT_FRAME_MAX);
    memcpy(t->data, f->data, 12);
    t->data[12] = 0x81;
    t->data[13] = 0x00;
    t->data[14] = (uint8_t)(vid >> 8);
    t->data[15] = (uint8_t)vid;
    memcpy(t->data + 16, f->data + 12, f->len - 12);
    t->len = f->len + 4;
    return w->n_sent++;
}

/* Guest `from` sends sent[out]; the guests in to[] must receive sent[in]. */
static void send_expect_as(struct it_world *w, unsigned from, unsigned out, unsigned in,
                           const bool to[IT_GUESTS])
{
    assert_true(it_probe_send(w->probe[from], w->sent[out].data, w->sent[out].len, IT_LIVENESS_S));
    for (unsigned g = 0; g < w->n; g++)
        if (to[g]) {
            assert_true(w->n_expect[g] < IT_MAX_SENT);
            w->expect[g][w->n_expect[g]++] = in;
        }
}

/* dom1 on access VLAN 10, dom2 on access VLAN 20, dom3 a trunk of both
 * (`bridge=itbr:10:20`): the trunk gets each access guest's broadcast
 * tagged with that guest's VLAN; its tagged frames reach the access guest
 * of that VLAN untagged; its untagged frames (no native VLAN) reach
 * nobody. Byte-exact both ways. */
static void bridge_vlan_trunk_vif_carries_both_vlans(void **state)
{
    struct it_world *w = *state;
    const char *argv[IT_GUESTS] = { "--bridge itbr.10", "--bridge itbr.20", "--bridge itbr:10:20" };
    bool to[IT_GUESTS] = { false };
    unsigned f;

    it_world_up(w, NULL, 3, argv);
    /* access -> trunk, tagged; the other access guest gets nothing (the
     * later frames to it are the barrier) */
    to[2] = true;
    f = it_make_frame(w, 0, it_bcast, 100);
    send_expect_as(w, 0, f, tagged_copy(w, f, 10), to);
    /* two senders: the trunk's log has them in this order only if the
     * first arrived before the second left (their vifs' TX workers race) */
    it_check_logs(w);
    f = it_make_frame(w, 1, it_bcast, 1400);
    send_expect_as(w, 1, f, tagged_copy(w, f, 20), to);
    it_check_logs(w);
    /* trunk -> access: VLAN 20 to dom2, VLAN 10 to dom1, untagged. The
     * untagged frame in between reaches nobody: dom1's next frame, from
     * the same sender, is its barrier; dom2 had the VLAN 20 frame first. */
    memset(to, 0, sizeof(to));
    to[1] = true;
    f = it_make_frame(w, 2, it_bcast, 120);
    send_expect_as(w, 2, tagged_copy(w, f, 20), f, to);
    memset(to, 0, sizeof(to));
    send_expect_as(w, 2, it_make_frame(w, 2, it_bcast, 90), 0, to);
    to[0] = true;
    f = it_make_frame(w, 2, it_bcast, 1000);
    send_expect_as(w, 2, tagged_copy(w, f, 10), f, to);
    memset(to, 0, sizeof(to));
    to[1] = true;
    f = it_make_frame(w, 2, it_bcast, 64);
    send_expect_as(w, 2, tagged_copy(w, f, 20), f, to);
    it_check_logs(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(bridge_broadcast_reaches_all_but_sender, it_world_new, it_world_free),
        cmocka_unit_test_setup_teardown(bridge_unknown_unicast_floods_to_all_but_sender, it_world_new, it_world_free),
        cmocka_unit_test_setup_teardown(bridge_unicast_after_learning_reaches_only_destination, it_world_new, it_world_free),
        cmocka_unit_test_setup_teardown(bridge_vlan_access_ports_isolate, it_world_new, it_world_free),
        cmocka_unit_test_setup_teardown(bridge_vlan_trunk_vif_carries_both_vlans, it_world_new, it_world_free),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
