/* The learning switch with dummy ports: forwarding decisions, VLANs,
 * counters, offload fallbacks on egress, and port removal under traffic. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "bridge/bridge.h"
#include "bridge/bridge_ctl.h"
#include "bridge/offload.h"
#include "bridge/port_dummy.h"
#include "bridge/switchboard.h"
#include "tests/bridge/frames.h"

static const uint8_t MAC_A[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t MAC_B[6] = { 0x02, 0, 0, 0, 0, 0x0b };
static const uint8_t MAC_C[6] = { 0x02, 0, 0, 0, 0, 0x0c };
static const uint8_t MAC_X[6] = { 0x02, 0, 0, 0, 0, 0x99 };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t MCAST1[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };
static const uint8_t MCAST2[6] = { 0x01, 0x00, 0x5e, 0, 0, 2 };

struct fixture {
    struct nb_pkt_pool *pool;
    uint64_t now_ns;
    struct nb_bridge *br;
    struct nb_port *a, *b, *c;
};

static uint64_t fake_clock(void *ctx)
{
    return __atomic_load_n(&((struct fixture *)ctx)->now_ns, __ATOMIC_RELAXED);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct nb_bridge_config cfg = { .clock_ns = fake_clock, .clock_ctx = f };

    f->now_ns = 1000000000ull;
    f->pool = nb_pkt_pool_new("test", 8192);
    f->br = nb_bridge_new("br-test", &cfg);
    f->a = nb_dummy_port_new("a", 0);
    f->b = nb_dummy_port_new("b", 0);
    f->c = nb_dummy_port_new("c", 0);
    assert_int_equal(nb_bridge_add_port(f->br, f->a), 0);
    assert_int_equal(nb_bridge_add_port(f->br, f->b), 0);
    assert_int_equal(nb_bridge_add_port(f->br, f->c), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    nb_bridge_free(f->br);
    assert_int_equal(nb_pkt_pool_in_use(f->pool), 0);
    nb_pkt_pool_free(f->pool);
    free(f);
    return 0;
}

static void send1(struct fixture *f, struct nb_port *in, struct nb_pkt *p)
{
    assert_non_null(p);
    nb_bridge_input(f->br, in, &p, 1);
}

static void assert_frame(struct nb_pkt *got, const uint8_t *want, uint32_t len)
{
    assert_non_null(got);
    assert_int_equal(got->len, len);
    assert_memory_equal(got->data, want, len);
}

static void clear_all(struct fixture *f)
{
    nb_dummy_port_clear(f->a);
    nb_dummy_port_clear(f->b);
    nb_dummy_port_clear(f->c);
}

static void nb_bridge_input_floods_unknown_unicast(void **state)
{
    struct fixture *f = *state;
    struct nb_pkt *p = make_frame(f->pool, MAC_X, MAC_A, 0x0800, 50, 1);
    uint8_t want[64];

    memcpy(want, p->data, p->len);
    send1(f, f->a, p);
    assert_int_equal(nb_dummy_port_count(f->a), 0);
    assert_int_equal(nb_dummy_port_count(f->b), 1);
    assert_int_equal(nb_dummy_port_count(f->c), 1);
    assert_frame(nb_dummy_port_get(f->b, 0), want, 64);
    assert_frame(nb_dummy_port_get(f->c, 0), want, 64);
    /* One buffer shared by both destinations. */
    assert_ptr_equal(nb_dummy_port_get(f->b, 0), nb_dummy_port_get(f->c, 0));
}

static void nb_bridge_input_broadcast_reaches_all_but_ingress(void **state)
{
    struct fixture *f = *state;

    send1(f, f->b, make_frame(f->pool, BCAST, MAC_B, 0x0806, 46, 2));
    assert_int_equal(nb_dummy_port_count(f->a), 1);
    assert_int_equal(nb_dummy_port_count(f->b), 0);
    assert_int_equal(nb_dummy_port_count(f->c), 1);
}

static void nb_bridge_input_learns_then_unicasts(void **state)
{
    struct fixture *f = *state;
    struct nb_pkt *p;
    uint8_t want[114];

    send1(f, f->b, make_frame(f->pool, BCAST, MAC_B, 0x0806, 46, 2));
    assert_ptr_equal(nb_bridge_fdb_lookup(f->br, MAC_B, 0), f->b);
    clear_all(f);

    p = make_frame(f->pool, MAC_B, MAC_A, 0x0800, 100, 3);
    memcpy(want, p->data, p->len);
    send1(f, f->a, p);
    assert_int_equal(nb_dummy_port_count(f->b), 1);
    assert_int_equal(nb_dummy_port_count(f->c), 0);
    assert_frame(nb_dummy_port_get(f->b, 0), want, 114);
    assert_ptr_equal(nb_bridge_fdb_lookup(f->br, MAC_A, 0), f->a);
}

static void nb_bridge_input_learns_station_move(void **state)
{
    struct fixture *f = *state;

    send1(f, f->b, make_frame(f->pool, BCAST, MAC_B, 0x0806, 46, 2));
    assert_ptr_equal(nb_bridge_fdb_lookup(f->br, MAC_B, 0), f->b);
    send1(f, f->c, make_frame(f->pool, BCAST, MAC_B, 0x0806, 46, 2));
    assert_ptr_equal(nb_bridge_fdb_lookup(f->br, MAC_B, 0), f->c);
    clear_all(f);
    send1(f, f->a, make_frame(f->pool, MAC_B, MAC_A, 0x0800, 46, 2));
    assert_int_equal(nb_dummy_port_count(f->b), 0);
    assert_int_equal(nb_dummy_port_count(f->c), 1);
}

static void nb_bridge_input_no_hairpin(void **state)
{
    struct fixture *f = *state;
    struct nb_port_stats s;
    json_t *j;

    /* MAC_B lives behind port a: a frame from a to MAC_B goes nowhere and
     * is counted as a hairpin drop of port a, the ingress. */
    send1(f, f->a, make_frame(f->pool, BCAST, MAC_B, 0x0806, 46, 2));
    clear_all(f);
    send1(f, f->a, make_frame(f->pool, MAC_B, MAC_C, 0x0800, 46, 2));
    send1(f, f->a, make_frame(f->pool, MAC_B, MAC_C, 0x0800, 46, 3));
    assert_int_equal(nb_dummy_port_count(f->a), 0);
    assert_int_equal(nb_dummy_port_count(f->b), 0);
    assert_int_equal(nb_dummy_port_count(f->c), 0);
    nb_port_stats_read(f->a, &s);
    assert_int_equal(s.rx_packets, 3);
    for (int r = 0; r < NB_DROP__COUNT; r++)
        assert_int_equal(s.drops[r], r == NB_DROP_HAIRPIN ? 2 : 0);
    nb_port_stats_read(f->b, &s);
    assert_int_equal(s.drops[NB_DROP_HAIRPIN], 0);
    /* visible in port-list */
    j = nb_ctl_port_json(f->a);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "drops"), "hairpin")), 2);
    json_decref(j);
    /* the same frame from another port is forwarded, no drop */
    send1(f, f->b, make_frame(f->pool, MAC_B, MAC_C, 0x0800, 46, 4));
    assert_int_equal(nb_dummy_port_count(f->a), 1);
    nb_port_stats_read(f->b, &s);
    assert_int_equal(s.drops[NB_DROP_HAIRPIN], 0);
}

static void nb_bridge_input_does_not_learn_multicast_source(void **state)
{
    struct fixture *f = *state;

    send1(f, f->a, make_frame(f->pool, BCAST, MCAST1, 0x0800, 46, 2));
    assert_null(nb_bridge_fdb_lookup(f->br, MCAST1, 0));
}

static void nb_bridge_fdb_lookup_ages_out(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(nb_bridge_aging(f->br), 300);
    send1(f, f->b, make_frame(f->pool, BCAST, MAC_B, 0x0806, 46, 2));
    f->now_ns += 299ull * 1000000000ull;
    assert_ptr_equal(nb_bridge_fdb_lookup(f->br, MAC_B, 0), f->b);
    f->now_ns += 2ull * 1000000000ull;
    assert_null(nb_bridge_fdb_lookup(f->br, MAC_B, 0));
    clear_all(f);
    /* Aged out: unicast to MAC_B floods again. */
    send1(f, f->a, make_frame(f->pool, MAC_B, MAC_A, 0x0800, 46, 2));
    assert_int_equal(nb_dummy_port_count(f->b), 1);
    assert_int_equal(nb_dummy_port_count(f->c), 1);
}

static void nb_bridge_set_aging_shortens(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(nb_bridge_set_aging(f->br, 0), -EINVAL);
    assert_int_equal(nb_bridge_set_aging(f->br, 10), 0);
    send1(f, f->b, make_frame(f->pool, BCAST, MAC_B, 0x0806, 46, 2));
    f->now_ns += 9ull * 1000000000ull;
    assert_ptr_equal(nb_bridge_fdb_lookup(f->br, MAC_B, 0), f->b);
    /* Traffic refreshes the entry. */
    send1(f, f->b, make_frame(f->pool, BCAST, MAC_B, 0x0806, 46, 2));
    f->now_ns += 9ull * 1000000000ull;
    assert_ptr_equal(nb_bridge_fdb_lookup(f->br, MAC_B, 0), f->b);
    f->now_ns += 2ull * 1000000000ull;
    assert_null(nb_bridge_fdb_lookup(f->br, MAC_B, 0));
}

static void nb_bridge_input_counts_per_port(void **state)
{
    struct fixture *f = *state;
    struct nb_port_stats sa, sb;
    struct nb_pkt *burst[3] = {
        make_frame(f->pool, BCAST, MAC_A, 0x0806, 46, 1),
        make_frame(f->pool, MAC_X, MAC_A, 0x0800, 86, 1),
        nb_pkt_alloc(f->pool, 10),                          /* runt */
    };

    nb_bridge_input(f->br, f->a, burst, 3);
    nb_port_stats_read(f->a, &sa);
    nb_port_stats_read(f->b, &sb);
    assert_int_equal(sa.rx_packets, 3);
    assert_int_equal(sa.rx_bytes, 60 + 100 + 10);
    assert_int_equal(sa.drops[NB_DROP_MALFORMED], 1);
    assert_int_equal(sa.tx_packets, 0);
    assert_int_equal(sb.tx_packets, 2);
    assert_int_equal(sb.tx_bytes, 160);
    assert_int_equal(sb.rx_packets, 0);
}

static void nb_bridge_input_one_tx_burst_per_port(void **state)
{
    struct fixture *f = *state;
    struct nb_pkt *burst[NB_BURST];

    send1(f, f->b, make_frame(f->pool, BCAST, MAC_B, 0x0806, 46, 2));
    clear_all(f);
    unsigned calls_b = nb_dummy_port_tx_calls(f->b), calls_c = nb_dummy_port_tx_calls(f->c);
    for (unsigned i = 0; i < NB_BURST; i++)
        burst[i] = make_frame(f->pool, i % 2 ? MAC_B : BCAST, MAC_A, 0x0800, 46, (uint8_t)i);
    nb_bridge_input(f->br, f->a, burst, NB_BURST);
    assert_int_equal(nb_dummy_port_count(f->b), NB_BURST);
    assert_int_equal(nb_dummy_port_count(f->c), NB_BURST / 2);
    assert_int_equal(nb_dummy_port_tx_calls(f->b), calls_b + 1);
    assert_int_equal(nb_dummy_port_tx_calls(f->c), calls_c + 1);
    /* Order within the burst is kept. */
    for (unsigned i = 0; i < NB_BURST; i++)
        assert_int_equal(nb_dummy_port_get(f->b, i)->data[14], (uint8_t)i);
}

static void nb_bridge_input_link_down_drops(void **state)
{
    struct fixture *f = *state;
    struct nb_port_stats s;

    nb_dummy_port_set_link(f->c, false);
    send1(f, f->a, make_frame(f->pool, BCAST, MAC_A, 0x0806, 46, 2));
    assert_int_equal(nb_dummy_port_count(f->b), 1);
    assert_int_equal(nb_dummy_port_count(f->c), 0);
    nb_port_stats_read(f->c, &s);
    assert_int_equal(s.drops[NB_DROP_LINK_DOWN], 1);
    assert_int_equal(s.tx_packets, 0);
}

static void nb_bridge_input_multicast_filter(void **state)
{
    struct fixture *f = *state;
    struct nb_port_stats s;

    nb_dummy_port_set_mcast_filter(f->b, MCAST1);
    send1(f, f->a, make_frame(f->pool, MCAST1, MAC_A, 0x0800, 46, 2));
    send1(f, f->a, make_frame(f->pool, MCAST2, MAC_A, 0x0800, 46, 2));
    send1(f, f->a, make_frame(f->pool, BCAST, MAC_A, 0x0806, 46, 2));
    assert_int_equal(nb_dummy_port_count(f->b), 2);
    assert_memory_equal(nb_dummy_port_get(f->b, 0)->data, MCAST1, 6);
    assert_memory_equal(nb_dummy_port_get(f->b, 1)->data, BCAST, 6);
    assert_int_equal(nb_dummy_port_count(f->c), 3);
    nb_port_stats_read(f->b, &s);
    assert_int_equal(s.drops[NB_DROP_FILTER], 1);
}

/* ---- VLANs ---- */

static void vlan_ports(struct fixture *f, struct nb_port **t)
{
    /* a: access 10, b: access 10, c: access 20, t: trunk {10, 30}. */
    f->a->vlan_mode = f->b->vlan_mode = f->c->vlan_mode = NB_VLAN_ACCESS;
    f->a->access_vlan = f->b->access_vlan = 10;
    f->c->access_vlan = 20;
    *t = nb_dummy_port_new("t", 0);
    (*t)->vlan_mode = NB_VLAN_TRUNK;
    nb_port_trunk_allow(*t, 10);
    nb_port_trunk_allow(*t, 30);
    assert_int_equal(nb_bridge_add_port(f->br, *t), 0);
}

static void nb_bridge_input_vlan_access_tags_on_trunk(void **state)
{
    struct fixture *f = *state;
    struct nb_port *t;
    struct nb_pkt *p;
    uint8_t untagged[60], tagged[64];

    vlan_ports(f, &t);
    p = make_frame(f->pool, BCAST, MAC_A, 0x0800, 46, 5);
    memcpy(untagged, p->data, 60);
    memcpy(tagged, untagged, 12);
    put16(tagged + 12, 0x8100);
    put16(tagged + 14, 10);
    memcpy(tagged + 16, untagged + 12, 48);
    send1(f, f->a, p);
    assert_int_equal(nb_dummy_port_count(f->b), 1);
    assert_frame(nb_dummy_port_get(f->b, 0), untagged, 60);
    assert_int_equal(nb_dummy_port_count(f->c), 0);      /* other VLAN */
    assert_int_equal(nb_dummy_port_count(t), 1);
    assert_frame(nb_dummy_port_get(t, 0), tagged, 64);
    assert_int_equal(nb_dummy_port_get(t, 0)->vlan_tci, 10);
}

static void nb_bridge_input_vlan_trunk_strips_for_access(void **state)
{
    struct fixture *f = *state;
    struct nb_port *t;
    struct nb_pkt *p;
    uint8_t want[60];

    vlan_ports(f, &t);
    p = make_tagged(f->pool, BCAST, MAC_X, 10, 46, 9);
    memcpy(want, p->data, 12);
    memcpy(want + 12, p->data + 16, 48);
    send1(f, t, p);
    assert_int_equal(nb_dummy_port_count(f->a), 1);
    assert_int_equal(nb_dummy_port_count(f->b), 1);
    assert_int_equal(nb_dummy_port_count(f->c), 0);
    assert_frame(nb_dummy_port_get(f->a, 0), want, 60);
    assert_frame(nb_dummy_port_get(f->b, 0), want, 60);
    assert_ptr_equal(nb_bridge_fdb_lookup(f->br, MAC_X, 10), t);
    assert_null(nb_bridge_fdb_lookup(f->br, MAC_X, 0));
}

static void nb_bridge_input_vlan_filters(void **state)
{
    struct fixture *f = *state;
    struct nb_port *t;
    struct nb_port_stats s;

    vlan_ports(f, &t);
    /* Trunk: VLAN 20 not allowed, untagged not allowed (bit 0 clear). */
    send1(f, t, make_tagged(f->pool, BCAST, MAC_X, 20, 46, 9));
    send1(f, t, make_frame(f->pool, BCAST, MAC_X, 0x0800, 46, 9));
    nb_port_stats_read(t, &s);
    assert_int_equal(s.drops[NB_DROP_VLAN], 2);
    /* Access: a frame tagged with some VID is refused... */
    send1(f, f->a, make_tagged(f->pool, BCAST, MAC_A, 10, 46, 9));
    nb_port_stats_read(f->a, &s);
    assert_int_equal(s.drops[NB_DROP_VLAN], 1);
    assert_int_equal(nb_dummy_port_count(f->b), 0);
    assert_int_equal(nb_dummy_port_count(f->c), 0);
    /* ...a priority tag (VID 0) is accepted and removed. */
    send1(f, f->a, make_tagged(f->pool, BCAST, MAC_A, 0x6000, 46, 9));
    assert_int_equal(nb_dummy_port_count(f->b), 1);
    assert_int_equal(nb_dummy_port_get(f->b, 0)->len, 60);
    assert_int_equal(get16(nb_dummy_port_get(f->b, 0)->data + 12), 0x0800);
    /* The trunk gets it tagged with VID 10 and the frame's priority. */
    assert_int_equal(nb_dummy_port_count(t), 1);
    assert_int_equal(get16(nb_dummy_port_get(t, 0)->data + 14), 0x600a);
}

static void nb_bridge_input_vlan_trunk_native_untagged(void **state)
{
    struct fixture *f = *state;
    struct nb_port *t, *plain = nb_dummy_port_new("plain", 0);

    vlan_ports(f, &t);
    nb_port_trunk_allow(t, 0);
    assert_int_equal(nb_bridge_add_port(f->br, plain), 0);
    send1(f, t, make_frame(f->pool, BCAST, MAC_X, 0x0800, 46, 9));
    /* VLAN 0 is the untagged domain: only the VLAN-unaware port is in it. */
    assert_int_equal(nb_dummy_port_count(plain), 1);
    assert_int_equal(nb_dummy_port_get(plain, 0)->len, 60);
    assert_int_equal(nb_dummy_port_count(f->a), 0);
    send1(f, plain, make_frame(f->pool, BCAST, MAC_C, 0x0800, 46, 9));
    assert_int_equal(nb_dummy_port_count(t), 1);
    assert_int_equal(nb_dummy_port_get(t, 0)->len, 60);  /* untagged out */
}

/* ---- offload fallback on egress ---- */

static void nb_bridge_input_completes_checksum_for_port_without_csum(void **state)
{
    struct fixture *f = *state;
    struct nb_port *off = nb_dummy_port_new("off", NB_PORT_OFF_CSUM);
    struct nb_pkt *p = make_tcp(f->pool, 0, 300, 1000), *got;
    uint8_t *ip;

    assert_int_equal(nb_bridge_add_port(f->br, off), 0);
    assert_int_equal(nb_offload_csum_setup(p, true), 0);
    send1(f, f->a, p);
    /* b cannot checksum: it gets a complete, correct one. */
    got = nb_dummy_port_get(f->b, 0);
    assert_non_null(got);
    assert_false(got->flags & NB_PKT_CSUM_PARTIAL);
    ip = got->data + 14;
    assert_int_equal(get16(ip + 20 + 16), ref_l4_csum(ip, 0, 6, ip + 20, 320, 16));
    /* the port that can gets the packet as it was. */
    got = nb_dummy_port_get(off, 0);
    assert_non_null(got);
    assert_true(got->flags & NB_PKT_CSUM_PARTIAL);
    assert_int_equal(got->csum_start, 34);
    assert_int_equal(got->csum_offset, 16);
}

static void nb_bridge_input_segments_for_port_without_tso(void **state)
{
    struct fixture *f = *state;
    struct nb_port *tso = nb_dummy_port_new("tso", NB_PORT_OFF_CSUM | NB_PORT_OFF_TSO4);
    struct nb_pkt *p = make_tcp(f->pool, 0, 4000, 1000);

    assert_int_equal(nb_bridge_add_port(f->br, tso), 0);
    assert_int_equal(nb_offload_csum_setup(p, true), 0);
    p->gso_type = NB_GSO_TCPV4;
    p->gso_size = 1000;
    send1(f, f->a, p);
    assert_int_equal(nb_dummy_port_count(tso), 1);
    assert_int_equal(nb_dummy_port_get(tso, 0)->len, 14 + 40 + 4000);
    assert_int_equal(nb_dummy_port_count(f->b), 4);
    for (unsigned i = 0; i < 4; i++) {
        struct nb_pkt *s = nb_dummy_port_get(f->b, i);
        assert_int_equal(s->len, 14 + 40 + 1000);
        assert_int_equal(s->gso_type, NB_GSO_NONE);
        assert_int_equal(nb_offload_csum_verify(s), 0);
        assert_int_equal(get32(s->data + 34 + 4), 1000 + i * 1000);
    }
}

static void nb_bridge_input_segments_then_tags_for_trunk(void **state)
{
    struct fixture *f = *state;
    struct nb_port *t;
    struct nb_pkt *p = make_tcp(f->pool, 1, 3000, 7);

    vlan_ports(f, &t);
    assert_int_equal(nb_offload_csum_setup(p, true), 0);
    p->gso_type = NB_GSO_TCPV6;
    p->gso_size = 1500;
    send1(f, f->a, p);
    assert_int_equal(nb_dummy_port_count(t), 2);
    for (unsigned i = 0; i < 2; i++) {
        struct nb_pkt *s = nb_dummy_port_get(t, i);
        assert_int_equal(s->len, 18 + 40 + 20 + 1500);
        assert_int_equal(get16(s->data + 12), 0x8100);
        assert_int_equal(get16(s->data + 14), 10);
        assert_int_equal(nb_offload_csum_verify(s), 0);
    }
}

static void nb_bridge_input_drops_bad_offload_metadata(void **state)
{
    struct fixture *f = *state;
    struct nb_port_stats s;
    struct nb_pkt *bad_csum = make_tcp(f->pool, 0, 100, 1);
    struct nb_pkt *no_mss = make_tcp(f->pool, 0, 3000, 1);
    struct nb_pkt *tiny_mss = make_tcp(f->pool, 0, 60000, 1);
    struct nb_pkt *burst[3] = { bad_csum, no_mss, tiny_mss };

    bad_csum->flags = NB_PKT_CSUM_PARTIAL;
    bad_csum->csum_start = (uint16_t)(bad_csum->len + 10);   /* outside the frame */
    no_mss->flags = NB_PKT_CSUM_PARTIAL;
    no_mss->csum_start = 34;
    no_mss->csum_offset = 16;
    no_mss->gso_type = NB_GSO_TCPV4;                         /* without a size */
    tiny_mss->gso_type = NB_GSO_TCPV4;
    tiny_mss->gso_size = 100;                                /* 600 segments */
    nb_bridge_input(f->br, f->a, burst, 3);
    assert_int_equal(nb_dummy_port_count(f->b), 0);
    assert_int_equal(nb_dummy_port_count(f->c), 0);
    nb_port_stats_read(f->b, &s);
    assert_int_equal(s.drops[NB_DROP_OFFLOAD], 3);
    assert_int_equal(s.tx_packets, 0);
    nb_port_stats_read(f->a, &s);
    assert_int_equal(s.rx_packets, 3);
}

/* ---- ports ---- */

static void nb_bridge_add_port_rejects_duplicates(void **state)
{
    struct fixture *f = *state;
    struct nb_port *dup = nb_dummy_port_new("b", 0);
    struct nb_bridge *other = nb_bridge_new("other", NULL);

    assert_int_equal(nb_bridge_add_port(f->br, dup), -EEXIST);
    assert_int_equal(nb_bridge_add_port(other, f->a), -EEXIST);   /* already attached */
    assert_int_equal(nb_bridge_del_port(other, f->a), -ENOENT);
    assert_int_equal(nb_bridge_del_port(f->br, dup), -ENOENT);
    assert_ptr_equal(nb_bridge_find_port(f->br, "c"), f->c);
    assert_int_equal(nb_bridge_port_count(f->br), 3);
    nb_dummy_port_free(dup);
    nb_bridge_free(other);
}

static void nb_bridge_del_port_forgets_its_macs(void **state)
{
    struct fixture *f = *state;
    bool destroyed = false;

    send1(f, f->c, make_frame(f->pool, BCAST, MAC_C, 0x0806, 46, 2));
    assert_ptr_equal(nb_bridge_fdb_lookup(f->br, MAC_C, 0), f->c);
    nb_dummy_port_watch_destroy(f->c, &destroyed);
    assert_int_equal(nb_bridge_del_port(f->br, f->c), 0);
    assert_true(destroyed);
    assert_null(nb_bridge_fdb_lookup(f->br, MAC_C, 0));
    assert_int_equal(nb_bridge_port_count(f->br), 2);
    /* A new port in the freed slot does not inherit MAC_C. */
    f->c = nb_dummy_port_new("c2", 0);
    assert_int_equal(nb_bridge_add_port(f->br, f->c), 0);
    assert_null(nb_bridge_fdb_lookup(f->br, MAC_C, 0));
    nb_dummy_port_clear(f->b);
    send1(f, f->a, make_frame(f->pool, MAC_C, MAC_A, 0x0800, 46, 2));
    assert_int_equal(nb_dummy_port_count(f->b), 1);                 /* flooded */
}

/* A port that outlives its membership (destroy NULL), as a vif's embedded
 * port does: a reconnecting vif is deleted and re-added as the same object. */
struct reusable_port {
    struct nb_port port;
    unsigned got;
};

static void reusable_tx_burst(struct nb_port *port, struct nb_pkt **pkts, unsigned n)
{
    ((struct reusable_port *)port->priv)->got += n;
    nb_pkt_free_burst(pkts, n);
}

static const struct nb_port_ops reusable_ops = { .kind = "reusable", .tx_burst = reusable_tx_burst };

static void nb_bridge_del_port_then_readd_same_port_relearns(void **state)
{
    struct fixture *f = *state;
    /* On the heap: if an assert fails, the fixture's teardown still finds it. */
    struct reusable_port *r = calloc(1, sizeof(*r));

    assert_non_null(r);
    r->port.ops = &reusable_ops;
    snprintf(r->port.name, sizeof(r->port.name), "r");
    r->port.priv = r;
    assert_int_equal(nb_bridge_del_port(f->br, f->c), 0);
    f->c = NULL;
    assert_int_equal(nb_bridge_add_port(f->br, &r->port), 0);         /* slot 2 */
    send1(f, &r->port, make_frame(f->pool, BCAST, MAC_C, 0x0806, 46, 1));
    assert_ptr_equal(nb_bridge_fdb_lookup(f->br, MAC_C, 0), &r->port);
    /* Reconnect: out, and back into another slot (b's, freed meanwhile). */
    assert_int_equal(nb_bridge_del_port(f->br, f->b), 0);
    f->b = NULL;
    assert_int_equal(nb_bridge_del_port(f->br, &r->port), 0);
    assert_null(nb_bridge_fdb_lookup(f->br, MAC_C, 0));
    assert_int_equal(nb_bridge_add_port(f->br, &r->port), 0);
    f->b = nb_dummy_port_new("b2", 0);                                /* r's old slot */
    assert_int_equal(nb_bridge_add_port(f->br, f->b), 0);
    r->got = 0;
    send1(f, f->a, make_frame(f->pool, MAC_C, MAC_A, 0x0800, 46, 2));
    assert_int_equal(r->got, 1);                                       /* flooded to it */
    assert_int_equal(nb_dummy_port_count(f->b), 1);
    send1(f, &r->port, make_frame(f->pool, MAC_A, MAC_C, 0x0800, 46, 3));
    assert_ptr_equal(nb_bridge_fdb_lookup(f->br, MAC_C, 0), &r->port);
    nb_dummy_port_clear(f->b);
    send1(f, f->a, make_frame(f->pool, MAC_C, MAC_A, 0x0800, 46, 4));
    assert_int_equal(r->got, 2);                                       /* unicast now */
    assert_int_equal(nb_dummy_port_count(f->b), 0);
    assert_int_equal(nb_bridge_del_port(f->br, &r->port), 0);
    free(r);
}

static void nb_bridge_input_from_detached_port_frees(void **state)
{
    struct fixture *f = *state;
    struct nb_port *gone = nb_dummy_port_new("gone", 0);
    struct nb_pkt *p;

    /* Never attached, and attached elsewhere: nothing forwarded, all freed
     * (teardown checks the pool). */
    p = make_frame(f->pool, BCAST, MAC_X, 0x0800, 46, 1);
    nb_bridge_input(f->br, gone, &p, 1);
    p = make_frame(f->pool, BCAST, MAC_X, 0x0800, 46, 1);
    nb_bridge_input(NULL, gone, &p, 1);
    assert_int_equal(nb_dummy_port_count(f->b), 0);
    assert_int_equal(nb_pkt_pool_in_use(f->pool), 0);
    nb_dummy_port_free(gone);
}

struct sender {
    struct fixture *f;
    struct nb_pkt_pool *pool;   /* its own, so its backlog cannot starve the test */
    struct nb_port *in;
    atomic_bool stop;
    atomic_ulong bursts;
};

static void *sender_main(void *arg)
{
    struct sender *s = arg;
    while (!atomic_load(&s->stop)) {
        struct nb_pkt *burst[8];
        unsigned n = 0;
        for (unsigned i = 0; i < 8; i++) {
            /* Alternate flooding and unicast to MAC_C (learned on c*). */
            burst[n] = make_frame(s->pool, i % 2 ? BCAST : MAC_C, MAC_A, 0x0800, 46, 1);
            if (burst[n])
                n++;
        }
        nb_bridge_input(s->f->br, s->in, burst, n);
        nb_dummy_port_clear(s->in);
        atomic_fetch_add(&s->bursts, 1);
    }
    return NULL;
}

static void nb_bridge_del_port_under_traffic(void **state)
{
    struct fixture *f = *state;
    struct nb_pkt_pool *pool = nb_pkt_pool_new("senders", 4096);
    struct sender s[2] = { { .f = f, .pool = pool, .in = f->a }, { .f = f, .pool = pool, .in = f->b } };
    pthread_t th[2];

    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, sender_main, &s[i]), 0);
    for (int round = 0; round < 200; round++) {
        bool destroyed = false;
        char name[16];
        /* Each round overlaps fresh bursts from both senders. */
        for (int i = 0; i < 2; i++) {
            unsigned long seen = atomic_load(&s[i].bursts);
            while (atomic_load(&s[i].bursts) < seen + 2)
                sched_yield();
        }
        /* c learns MAC_C so that unicast goes there too. */
        send1(f, f->c, make_frame(f->pool, BCAST, MAC_C, 0x0806, 46, 2));
        nb_dummy_port_watch_destroy(f->c, &destroyed);
        assert_int_equal(nb_bridge_del_port(f->br, f->c), 0);
        assert_true(destroyed);
        snprintf(name, sizeof(name), "c%d", round);
        f->c = nb_dummy_port_new(name, round % 2 ? NB_PORT_OFF_CSUM : 0);
        assert_int_equal(nb_bridge_add_port(f->br, f->c), 0);
    }
    for (int i = 0; i < 2; i++) {
        atomic_store(&s[i].stop, true);
        pthread_join(th[i], NULL);
    }
    assert_true(atomic_load(&s[0].bursts) >= 400);
    assert_true(atomic_load(&s[1].bursts) >= 400);
    /* Every packet came back: nothing leaked or was freed twice. */
    clear_all(f);
    assert_int_equal(nb_pkt_pool_in_use(pool), 0);
    nb_pkt_pool_free(pool);
}

/* ---- pool and switchboard ---- */

static void *free_elsewhere(void *arg)
{
    nb_pkt_free_burst(arg, 4);
    return NULL;
}

static void nb_pkt_free_burst_from_other_thread(void **state)
{
    struct fixture *f = *state;
    struct nb_pkt *p[4];
    pthread_t th;

    for (int i = 0; i < 4; i++)
        p[i] = nb_pkt_alloc(f->pool, i == 3 ? 60000 : 100);
    nb_pkt_ref(p[0]);
    assert_int_equal(nb_pkt_pool_in_use(f->pool), 4);
    assert_int_equal(pthread_create(&th, NULL, free_elsewhere, p), 0);
    pthread_join(th, NULL);
    assert_int_equal(nb_pkt_pool_in_use(f->pool), 1);   /* p[0] still referenced */
    nb_pkt_free(p[0]);
    assert_int_equal(nb_pkt_pool_in_use(f->pool), 0);
}

static void nb_pkt_alloc_respects_pool_limit(void **state)
{
    struct nb_pkt_pool *pool = nb_pkt_pool_new("small", 2);
    struct nb_pkt *a = nb_pkt_alloc(pool, 64), *b = nb_pkt_alloc(pool, 64);
    (void)state;

    assert_non_null(a);
    assert_non_null(b);
    assert_null(nb_pkt_alloc(pool, 64));
    assert_null(nb_pkt_alloc(pool, NB_PKT_MAX_LEN + 1));
    nb_pkt_free(a);
    a = nb_pkt_alloc(pool, 64);
    assert_non_null(a);
    /* Freed after the pool: the pool goes with the last packet. */
    nb_pkt_pool_free(pool);
    nb_pkt_free(a);
    nb_pkt_free(b);
}

static void nb_pkt_unshare_copies_only_when_shared(void **state)
{
    struct fixture *f = *state;
    struct nb_pkt *p = nb_pkt_alloc(f->pool, 60), *w;

    if (!p)
        fail();
    memset(p->data, 0x5a, 60);
    assert_ptr_equal(nb_pkt_unshare(p), p);
    nb_pkt_ref(p);
    p->flags = NB_PKT_DATA_VALID;
    w = nb_pkt_unshare(p);
    assert_ptr_not_equal(w, p);
    assert_int_equal(w->len, p->len);
    assert_memory_equal(w->data, p->data, p->len);
    assert_int_equal(w->flags, NB_PKT_DATA_VALID);
    assert_int_equal(atomic_load(&p->refcnt), 1);
    nb_pkt_free(p);
    nb_pkt_free(w);
}

static void nb_switchboard_create_find_remove(void **state)
{
    struct nb_switchboard *sb = nb_switchboard_new();
    struct nb_bridge *br, *again;
    struct nb_port *p = nb_dummy_port_new("p", 0);
    (void)state;

    assert_int_equal(nb_switchboard_create(sb, "xenbr0", NULL, &br), 0);
    assert_int_equal(nb_switchboard_create(sb, "xenbr0", NULL, &again), -EEXIST);
    assert_ptr_equal(again, br);
    assert_ptr_equal(nb_switchboard_find(sb, "xenbr0"), br);
    assert_null(nb_switchboard_find(sb, "xenbr1"));
    assert_int_equal(nb_bridge_add_port(br, p), 0);
    assert_int_equal(nb_switchboard_remove(sb, "xenbr0"), -EBUSY);
    assert_int_equal(nb_switchboard_remove(sb, "nope"), -ENOENT);
    assert_int_equal(nb_bridge_del_port(br, p), 0);
    assert_int_equal(nb_switchboard_remove(sb, "xenbr0"), 0);
    assert_null(nb_switchboard_find(sb, "xenbr0"));
    assert_int_equal(nb_switchboard_create(sb, "", NULL, NULL), -EINVAL);
    nb_switchboard_free(sb);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(nb_bridge_input_floods_unknown_unicast),
        T(nb_bridge_input_broadcast_reaches_all_but_ingress),
        T(nb_bridge_input_learns_then_unicasts),
        T(nb_bridge_input_learns_station_move),
        T(nb_bridge_input_no_hairpin),
        T(nb_bridge_input_does_not_learn_multicast_source),
        T(nb_bridge_fdb_lookup_ages_out),
        T(nb_bridge_set_aging_shortens),
        T(nb_bridge_input_counts_per_port),
        T(nb_bridge_input_one_tx_burst_per_port),
        T(nb_bridge_input_link_down_drops),
        T(nb_bridge_input_multicast_filter),
        T(nb_bridge_input_vlan_access_tags_on_trunk),
        T(nb_bridge_input_vlan_trunk_strips_for_access),
        T(nb_bridge_input_vlan_filters),
        T(nb_bridge_input_vlan_trunk_native_untagged),
        T(nb_bridge_input_completes_checksum_for_port_without_csum),
        T(nb_bridge_input_segments_for_port_without_tso),
        T(nb_bridge_input_segments_then_tags_for_trunk),
        T(nb_bridge_input_drops_bad_offload_metadata),
        T(nb_bridge_add_port_rejects_duplicates),
        T(nb_bridge_del_port_forgets_its_macs),
        T(nb_bridge_del_port_under_traffic),
        T(nb_bridge_del_port_then_readd_same_port_relearns),
        T(nb_bridge_input_from_detached_port_frees),
        T(nb_pkt_free_burst_from_other_thread),
        cmocka_unit_test(nb_pkt_alloc_respects_pool_limit),
        T(nb_pkt_unshare_copies_only_when_shared),
        cmocka_unit_test(nb_switchboard_create_find_remove),
    };
    return cmocka_run_group_tests_name("bridge_switch", tests, NULL, NULL);
}
