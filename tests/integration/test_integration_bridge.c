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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(bridge_broadcast_reaches_all_but_sender, it_world_new, it_world_free),
        cmocka_unit_test_setup_teardown(bridge_unknown_unicast_floods_to_all_but_sender, it_world_new, it_world_free),
        cmocka_unit_test_setup_teardown(bridge_unicast_after_learning_reaches_only_destination, it_world_new, it_world_free),
        cmocka_unit_test_setup_teardown(bridge_vlan_access_ports_isolate, it_world_new, it_world_free),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
