/* Runtime control across modules (issue 4): ports added and removed through
 * netbackd's control socket while two emulated guests talk leave their
 * traffic alone; a capture switched on and off at runtime on a vif port
 * holds exactly the frames that crossed it meanwhile, byte-exact.
 * The runtime port is a DPDK net_null vdev (no receive side), so it adds
 * no traffic of its own; its tx counter shows what the bridge gave it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "tests/integration/it_ctl.h"
#include "tests/integration/it_pcap.h"
#include "tests/integration/it_sys.h"
#include "tests/integration/it_world.h"

struct rt {
    struct it_world w;          /* first: it_world_free() frees the whole */
    char dir[64];
    char config[128];
};

static int rt_new(void **state)
{
    struct rt *r = test_calloc(1, sizeof(*r));

    if (!r)
        return -1;
    *state = r;
    return 0;
}

static int rt_free(void **state)
{
    struct rt *r = *state;
    char dir[sizeof(r->dir)];

    snprintf(dir, sizeof(dir), "%s", r->dir);
    int rc = it_world_free(state);            /* frees r */
    if (dir[0] && !getenv("DP_KEEP"))
        it_sh(NULL, 0, "rm -rf %s", dir);
    return rc;
}

/* Emulator, netbackd with `config_text` as its config file, two guests. */
static void rt_up(struct rt *r, const char *config_text)
{
    char args[256];

    snprintf(r->dir, sizeof(r->dir), "/tmp/nb-it-rt-XXXXXX");
    assert_non_null(mkdtemp(r->dir));
    snprintf(r->config, sizeof(r->config), "%s/netbackd.conf", r->dir);
    FILE *f = fopen(r->config, "w");
    assert_non_null(f);
    fputs(config_text, f);
    assert_int_equal(fclose(f), 0);
    snprintf(args, sizeof(args), "--config %s --bridge itbr", r->config);
    it_world_up(&r->w, args, 2, NULL);
}

static void unicast_both_ways(struct it_world *w, uint32_t len)
{
    bool to[IT_GUESTS] = { false };

    to[1] = true;
    it_send_expect(w, 0, it_make_frame(w, 0, w->mac[1], len), to);
    to[1] = false;
    to[0] = true;
    it_send_expect(w, 1, it_make_frame(w, 1, w->mac[0], len + 1), to);
    it_check_logs(w);
}

static void runtime_port_add_del_leaves_guest_traffic_alone(void **state)
{
    struct rt *r = *state;
    struct it_world *w = &r->w;
    bool to[IT_GUESTS];

    rt_up(r, "eal = [ \"--no-huge\", \"-m\", \"256\", \"--no-pci\", \"--no-shconf\", \"-l\", \"0\",\n"
             "        \"--log-level\", \"*:error\" ];\n"
             "bridges = ( { name = \"itbr\"; } );\n");
    it_broadcast_round(w);                 /* both MACs learned */
    for (unsigned round = 0; round < 3; round++) {
        char name[16];
        snprintf(name, sizeof(name), "null%u", round);
        json_decref(it_ctl_ok(&r->w.env, "{\"cmd\":\"port-add\",\"name\":\"%s\",\"kind\":\"dpdk\","
                              "\"bridge\":\"itbr\",\"devargs\":\"net_null%u,no-rx=1\"}", name, round));
        assert_int_equal(it_port_field(&r->w.env, name, "tx_packets"), 0);
        unicast_both_ways(w, 100 + round);     /* known unicast: not to the new port */
        /* a broadcast reaches the other guest and the port; the unicast
         * after it is the barrier for the port's counter */
        it_all_but(w, 0, to);
        it_send_expect(w, 0, it_make_frame(w, 0, it_bcast, 300), to);
        unicast_both_ways(w, 200 + round);
        assert_int_equal(it_port_field(&r->w.env, name, "tx_packets"), 1);
        json_decref(it_ctl_ok(&r->w.env, "{\"cmd\":\"port-del\",\"name\":\"%s\"}", name));
        assert_int_equal(it_port_field(&r->w.env, name, "tx_packets"), -1);
        unicast_both_ways(w, 400 + round);
    }
}

static void runtime_capture_on_vif_holds_exactly_the_frames_meanwhile(void **state)
{
    struct rt *r = *state;
    struct it_world *w = &r->w;
    char pcap[160];
    bool to[IT_GUESTS] = { false };

    rt_up(r, "bridges = ( { name = \"itbr\"; } );\n");
    it_broadcast_round(w);
    unicast_both_ways(w, 90);                       /* before: not captured */
    snprintf(pcap, sizeof(pcap), "%s/vif2.pcap", r->dir);
    json_decref(it_ctl_ok(&r->w.env, "{\"cmd\":\"capture\",\"port\":\"vif2.0\",\"file\":\"%s\"}", pcap));
    unsigned first = w->n_sent;
    to[1] = true;
    it_send_expect(w, 0, it_make_frame(w, 0, w->mac[1], 60), to);     /* egress to vif2.0 */
    it_send_expect(w, 0, it_make_frame(w, 0, w->mac[1], 1514), to);
    /* the capture holds them before the next frame only once they reached
     * vif2.0: the other direction is another worker, which could be first */
    it_check_logs(w);
    to[1] = false;
    to[0] = true;
    it_send_expect(w, 1, it_make_frame(w, 1, w->mac[0], 777), to);    /* ingress from vif2.0 */
    it_check_logs(w);
    /* stopping writes out everything queued before it returns */
    json_decref(it_ctl_ok(&r->w.env, "{\"cmd\":\"capture\",\"port\":\"vif2.0\",\"file\":null}"));
    unicast_both_ways(w, 95);                       /* after: not captured */

    struct it_pcap_frame *got;
    int n = it_pcap_read(pcap, &got);
    assert_int_equal(n, 3);
    for (int i = 0; i < 3; i++) {
        const struct it_frame *f = &w->sent[first + (unsigned)i];
        if (got[i].len != f->len || memcmp(got[i].data, f->data, f->len)) {
            it_pcap_frames_free(got, n);
            fail_msg("captured frame %d (%u bytes) is not sent frame %u (%u bytes)", i,
                     got[i].len, first + (unsigned)i, f->len);
        }
    }
    it_pcap_frames_free(got, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(runtime_port_add_del_leaves_guest_traffic_alone, rt_new, rt_free),
        cmocka_unit_test_setup_teardown(runtime_capture_on_vif_holds_exactly_the_frames_meanwhile,
                                        rt_new, rt_free),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
