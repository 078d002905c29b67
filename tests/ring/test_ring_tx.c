/* ring/netif_tx: one test per verdict. The test is the frontend: front and
 * back ring share one 4 KiB page, requests are written with the front ring
 * and published, the code under test reads them through the back ring. */
#include <xenctrl.h> /* xen_wmb() for RING_PUSH_REQUESTS */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>

#include "ring/netif_tx.h"

struct txfix {
    void *page;
    netif_tx_sring_t *s;
    netif_tx_front_ring_t f;
    netif_tx_back_ring_t b;
};

static struct txfix *fix_new_at(RING_IDX start)
{
    struct txfix *x = calloc(1, sizeof(*x));
    assert_non_null(x);
    assert_int_equal(posix_memalign(&x->page, NETIF_PAGE_SIZE, NETIF_PAGE_SIZE), 0);
    x->s = x->page;
    SHARED_RING_INIT(x->s);
    x->s->req_prod = x->s->rsp_prod = start;
    FRONT_RING_ATTACH(&x->f, x->s, start, NETIF_PAGE_SIZE);
    BACK_RING_ATTACH(&x->b, x->s, start, NETIF_PAGE_SIZE);
    return x;
}

static int setup(void **state)
{
    *state = fix_new_at(0);
    return 0;
}

static int setup_wrap(void **state)
{
    /* Three slots before the 32-bit index wraps, and at ring slot 253. */
    *state = fix_new_at(0xfffffffdu);
    return 0;
}

static int teardown(void **state)
{
    struct txfix *x = *state;
    free(x->page);
    free(x);
    return 0;
}

static void req(struct txfix *x, grant_ref_t gref, uint16_t off, uint16_t flags,
                uint16_t id, uint16_t size)
{
    netif_tx_request_t *r = RING_GET_REQUEST(&x->f, x->f.req_prod_pvt++);
    r->gref = gref;
    r->offset = off;
    r->flags = flags;
    r->id = id;
    r->size = size;
}

static void extra(struct txfix *x, uint8_t type, uint8_t flags,
                  const struct netif_extra_info *body)
{
    struct netif_extra_info ex;
    if (body)
        ex = *body;
    else
        memset(&ex, 0, sizeof(ex));
    ex.type = type;
    ex.flags = flags;
    netif_tx_request_t *slot = RING_GET_REQUEST(&x->f, x->f.req_prod_pvt++);
    memset(slot, 0, sizeof(*slot));
    memcpy(slot, &ex, sizeof(ex));
}

static void publish(struct txfix *x)
{
    RING_PUSH_REQUESTS(&x->f);
}

static enum netif_tx_verdict parse(struct txfix *x, struct netif_tx_pkt *pkt)
{
    netif_tx_request_t reqs[NETIF_TX_RING_SIZE];
    unsigned produced;
    int n = netif_tx_copy_requests(&x->b, reqs, NETIF_TX_RING_SIZE, &produced);
    assert_true(n >= 0);
    return netif_tx_parse(reqs, (unsigned)n, produced, pkt);
}

/* A chain of n data slots: slot 0 announces the total, the others carry
 * `each` bytes; ids are 100 + index. */
static uint32_t chain(struct txfix *x, unsigned n, uint16_t first_own, uint16_t each)
{
    uint32_t total = first_own + (n - 1) * each;
    req(x, 1, 0, n > 1 ? NETTXF_more_data : 0, 100, (uint16_t)total);
    for (unsigned i = 1; i < n; i++)
        req(x, 1 + i, 0, i + 1 < n ? NETTXF_more_data : 0, (uint16_t)(100 + i), each);
    return total;
}

static void netif_tx_parse_single_slot(void **state)
{
    struct txfix *x = *state;
    struct netif_tx_pkt pkt;
    req(x, 7, 64, NETTXF_csum_blank | NETTXF_data_validated, 42, 60);
    publish(x);
    assert_int_equal(parse(x, &pkt), NETIF_TX_OK);
    assert_int_equal(pkt.nr_slots, 1);
    assert_int_equal(pkt.nr_data, 1);
    assert_int_equal(pkt.nr_extras, 0);
    assert_int_equal(pkt.len, 60);
    assert_int_equal(pkt.flags, NETTXF_csum_blank | NETTXF_data_validated);
    assert_int_equal(pkt.data[0].gref, 7);
    assert_int_equal(pkt.data[0].offset, 64);
    assert_int_equal(pkt.data[0].size, 60);
    assert_int_equal(pkt.data[0].id, 42);
    assert_int_equal(pkt.gso_type, XEN_NETIF_GSO_TYPE_NONE);
}

static void netif_tx_parse_first_fragment_size(void **state)
{
    struct txfix *x = *state;
    struct netif_tx_pkt pkt;
    struct netif_tx_seg segs[NETIF_TX_MAX_DATA_SLOTS];
    req(x, 1, 100, NETTXF_more_data, 1, 3000);
    req(x, 2, 0, NETTXF_more_data, 2, 1000);
    req(x, 3, 10, 0, 3, 500);
    publish(x);
    assert_int_equal(parse(x, &pkt), NETIF_TX_OK);
    assert_int_equal(pkt.nr_slots, 3);
    assert_int_equal(pkt.len, 3000);
    assert_int_equal(pkt.data[0].size, 1500);
    assert_int_equal(pkt.data[1].size, 1000);
    assert_int_equal(pkt.data[2].size, 500);
    assert_int_equal(netif_tx_copy_plan(&pkt, segs), 3);
    assert_int_equal(segs[0].gref, 1);
    assert_int_equal(segs[0].src_off, 100);
    assert_int_equal(segs[0].len, 1500);
    assert_int_equal(segs[0].dst_off, 0);
    assert_int_equal(segs[1].dst_off, 1500);
    assert_int_equal(segs[2].src_off, 10);
    assert_int_equal(segs[2].dst_off, 2500);
}

static void netif_tx_parse_gso_and_hash_extras(void **state)
{
    struct txfix *x = *state;
    struct netif_tx_pkt pkt;
    struct netif_extra_info gso = { 0 }, hash = { 0 };
    gso.u.gso.size = 1448;
    gso.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV6;
    hash.u.hash.type = _XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP;
    hash.u.hash.algorithm = XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ;
    uint32_t hv = 0xdeadbeef;
    memcpy(hash.u.hash.value, &hv, 4);

    req(x, 1, 0, NETTXF_extra_info | NETTXF_more_data | NETTXF_csum_blank, 9, 5000);
    extra(x, XEN_NETIF_EXTRA_TYPE_GSO, XEN_NETIF_EXTRA_FLAG_MORE, &gso);
    extra(x, XEN_NETIF_EXTRA_TYPE_HASH, 0, &hash);
    req(x, 2, 0, 0, 10, 2000);
    publish(x);
    assert_int_equal(parse(x, &pkt), NETIF_TX_OK);
    assert_int_equal(pkt.nr_slots, 4);
    assert_int_equal(pkt.nr_extras, 2);
    assert_int_equal(pkt.nr_data, 2);
    assert_int_equal(pkt.data[0].size, 3000);
    assert_int_equal(pkt.data[1].id, 10);
    assert_int_equal(pkt.gso_type, XEN_NETIF_GSO_TYPE_TCPV6);
    assert_int_equal(pkt.gso_size, 1448);
    assert_int_equal(pkt.hash_valid, 1);
    assert_int_equal(pkt.hash_type, _XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP);
    assert_int_equal(pkt.hash, 0xdeadbeef);
    assert_int_equal(pkt.flags, NETTXF_csum_blank);
}

static void netif_tx_parse_mcast_add(void **state)
{
    struct txfix *x = *state;
    struct netif_tx_pkt pkt;
    struct netif_extra_info m = { 0 };
    static const uint8_t addr[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
    memcpy(m.u.mcast.addr, addr, 6);
    req(x, 1, 0, NETTXF_extra_info, 5, 0);
    extra(x, XEN_NETIF_EXTRA_TYPE_MCAST_ADD, 0, &m);
    publish(x);
    assert_int_equal(parse(x, &pkt), NETIF_TX_MCAST);
    assert_int_equal(pkt.mcast_op, XEN_NETIF_EXTRA_TYPE_MCAST_ADD);
    assert_memory_equal(pkt.mcast_addr, addr, 6);
    assert_int_equal(pkt.nr_slots, 2);
    assert_int_equal(pkt.nr_data, 1);
}

static void netif_tx_parse_mcast_del(void **state)
{
    struct txfix *x = *state;
    struct netif_tx_pkt pkt;
    struct netif_extra_info m = { 0 };
    m.u.mcast.addr[0] = 0x33;
    req(x, 1, 0, NETTXF_extra_info, 5, 0);
    extra(x, XEN_NETIF_EXTRA_TYPE_MCAST_DEL, 0, &m);
    publish(x);
    assert_int_equal(parse(x, &pkt), NETIF_TX_MCAST);
    assert_int_equal(pkt.mcast_op, XEN_NETIF_EXTRA_TYPE_MCAST_DEL);
    assert_int_equal(pkt.mcast_addr[0], 0x33);
}

static void netif_tx_parse_19_slots_accepted(void **state)
{
    struct txfix *x = *state;
    struct netif_tx_pkt pkt;
    uint32_t total = chain(x, 19, 100, 60);
    publish(x);
    assert_int_equal(parse(x, &pkt), NETIF_TX_OK);
    assert_int_equal(pkt.nr_slots, 19);
    assert_int_equal(pkt.len, total);
    assert_int_equal(pkt.data[0].size, 100);
    assert_int_equal(pkt.data[18].id, 118);
}

static void netif_tx_parse_20_slots_dropped(void **state)
{
    struct txfix *x = *state;
    struct netif_tx_pkt pkt;
    chain(x, 20, 100, 60);
    publish(x);
    assert_int_equal(parse(x, &pkt), NETIF_TX_DROP);
    assert_int_equal(pkt.reason, NETIF_TX_R_TOO_MANY_SLOTS);
    assert_int_equal(pkt.nr_slots, 20);
    assert_int_equal(pkt.nr_data, 20);
    assert_int_equal(pkt.data[19].id, 119);
}

static void netif_tx_parse_21_slots_dropped(void **state)
{
    struct txfix *x = *state;
    struct netif_tx_pkt pkt;
    chain(x, 21, 100, 60);
    publish(x);
    assert_int_equal(parse(x, &pkt), NETIF_TX_DROP);
    assert_int_equal(pkt.reason, NETIF_TX_R_TOO_MANY_SLOTS);
    assert_int_equal(pkt.nr_slots, 21);
}

static void netif_tx_parse_22_slots_fatal(void **state)
{
    struct txfix *x = *state;
    struct netif_tx_pkt pkt;
    chain(x, 22, 100, 60);
    publish(x);
    assert_int_equal(parse(x, &pkt), NETIF_TX_FATAL);
    assert_int_equal(pkt.reason, NETIF_TX_R_MALICIOUS_SLOTS);
}

static void netif_tx_parse_dropped_before_gso_check(void **state)
{
    /* Linux drops a 20-slot packet before it looks at its GSO extra, so a
     * bad GSO on a dropped packet is not fatal. */
    struct txfix *x = *state;
    struct netif_tx_pkt pkt;
    struct netif_extra_info gso = { 0 };
    gso.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4; /* size 0 */
    req(x, 1, 0, NETTXF_extra_info | NETTXF_more_data, 100, 100 + 19 * 60);
    extra(x, XEN_NETIF_EXTRA_TYPE_GSO, 0, &gso);
    for (unsigned i = 1; i < 20; i++)
        req(x, 1 + i, 0, i + 1 < 20 ? NETTXF_more_data : 0, (uint16_t)(100 + i), 60);
    publish(x);
    assert_int_equal(parse(x, &pkt), NETIF_TX_DROP);
    assert_int_equal(pkt.reason, NETIF_TX_R_TOO_MANY_SLOTS);
    assert_int_equal(pkt.nr_slots, 21);
    assert_int_equal(pkt.nr_extras, 1);
}

static void netif_tx_parse_cross_page_first_fatal(void **state)
{
    struct txfix *x = *state;
    struct netif_tx_pkt pkt;
    req(x, 1, 4000, 0, 1, 200);
    publish(x);
    assert_int_equal(parse(x, &pkt), NETIF_TX_FATAL);
    assert_int_equal(pkt.reason, NETIF_TX_R_CROSS_PAGE);
}

static void netif_tx_parse_cross_page_frag_fatal(void **state)
{
    struct txfix *x = *state;
    struct netif_tx_pkt pkt;
    req(x, 1, 0, NETTXF_more_data, 1, 100);
    req(x, 2, 4090, 0, 2, 10);
    publish(x);
    assert_int_equal(parse(x, &pkt), NETIF_TX_FATAL);
    assert_int_equal(pkt.reason, NETIF_TX_R_CROSS_PAGE);
}

static void netif_tx_parse_page_end_accepted(void **state)
{
    struct txfix *x = *state;
    struct netif_tx_pkt pkt;
    req(x, 1, 4096 - 60, 0, 1, 60);
    publish(x);
    assert_int_equal(parse(x, &pkt), NETIF_TX_OK);
}

static void netif_tx_parse_extra_type_zero_fatal(void **state)
{
    struct txfix *x = *state;
    struct netif_tx_pkt pkt;
    req(x, 1, 0, NETTXF_extra_info, 1, 60);
    extra(x, XEN_NETIF_EXTRA_TYPE_NONE, 0, NULL);
    publish(x);
    assert_int_equal(parse(x, &pkt), NETIF_TX_FATAL);
    assert_int_equal(pkt.reason, NETIF_TX_R_BAD_EXTRA_TYPE);
}

static void netif_tx_parse_extra_type_max_fatal(void **state)
{
    struct txfix *x = *state;
    struct netif_tx_pkt pkt;
    req(x, 1, 0, NETTXF_extra_info, 1, 60);
    extra(x, XEN_NETIF_EXTRA_TYPE_MAX, 0, NULL);
    publish(x);
    assert_int_equal(parse(x, &pkt), NETIF_TX_FATAL);
    assert_int_equal(pkt.reason, NETIF_TX_R_BAD_EXTRA_TYPE);
}

static void netif_tx_parse_missing_extra_fatal(void **state)
{
    struct txfix *x = *state;
    struct netif_tx_pkt pkt;
    req(x, 1, 0, NETTXF_extra_info, 1, 60);
    publish(x);
    assert_int_equal(parse(x, &pkt), NETIF_TX_FATAL);
    assert_int_equal(pkt.reason, NETIF_TX_R_MISSING_EXTRA);
}

static void netif_tx_parse_missing_chained_extra_fatal(void **state)
{
    struct txfix *x = *state;
    struct netif_tx_pkt pkt;
    struct netif_extra_info gso = { 0 };
    gso.u.gso.size = 1000;
    gso.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
    req(x, 1, 0, NETTXF_extra_info, 1, 60);
    extra(x, XEN_NETIF_EXTRA_TYPE_GSO, XEN_NETIF_EXTRA_FLAG_MORE, &gso);
    publish(x);
    assert_int_equal(parse(x, &pkt), NETIF_TX_FATAL);
    assert_int_equal(pkt.reason, NETIF_TX_R_MISSING_EXTRA);
}

static void netif_tx_parse_gso_size_zero_fatal(void **state)
{
    struct txfix *x = *state;
    struct netif_tx_pkt pkt;
    struct netif_extra_info gso = { 0 };
    gso.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
    req(x, 1, 0, NETTXF_extra_info, 1, 60);
    extra(x, XEN_NETIF_EXTRA_TYPE_GSO, 0, &gso);
    publish(x);
    assert_int_equal(parse(x, &pkt), NETIF_TX_FATAL);
    assert_int_equal(pkt.reason, NETIF_TX_R_BAD_GSO_SIZE);
}

static void netif_tx_parse_gso_bad_type_fatal(void **state)
{
    struct txfix *x = *state;
    struct netif_tx_pkt pkt;
    struct netif_extra_info gso = { 0 };
    gso.u.gso.size = 1448;
    gso.u.gso.type = 3;
    req(x, 1, 0, NETTXF_extra_info, 1, 60);
    extra(x, XEN_NETIF_EXTRA_TYPE_GSO, 0, &gso);
    publish(x);
    assert_int_equal(parse(x, &pkt), NETIF_TX_FATAL);
    assert_int_equal(pkt.reason, NETIF_TX_R_BAD_GSO_TYPE);
}

static void netif_tx_parse_frag_too_big_dropped(void **state)
{
    struct txfix *x = *state;
    struct netif_tx_pkt pkt;
    req(x, 1, 0, NETTXF_more_data, 1, 100);
    req(x, 2, 0, 0, 2, 200);
    publish(x);
    assert_int_equal(parse(x, &pkt), NETIF_TX_DROP);
    assert_int_equal(pkt.reason, NETIF_TX_R_FRAG_TOO_BIG);
    assert_int_equal(pkt.nr_slots, 2);
}

static void netif_tx_parse_too_short_dropped(void **state)
{
    struct txfix *x = *state;
    struct netif_tx_pkt pkt;
    req(x, 1, 0, 0, 1, 13);
    publish(x);
    assert_int_equal(parse(x, &pkt), NETIF_TX_DROP);
    assert_int_equal(pkt.reason, NETIF_TX_R_TOO_SHORT);
    assert_int_equal(pkt.nr_slots, 1);
}

static void netif_tx_parse_short_first_fragment_dropped(void **state)
{
    /* Linux checks slot 0's own bytes against ETH_HLEN, not the total. */
    struct txfix *x = *state;
    struct netif_tx_pkt pkt;
    req(x, 1, 0, NETTXF_more_data, 1, 60);
    req(x, 2, 0, 0, 2, 50);
    publish(x);
    assert_int_equal(parse(x, &pkt), NETIF_TX_DROP);
    assert_int_equal(pkt.reason, NETIF_TX_R_TOO_SHORT);
    assert_int_equal(pkt.nr_slots, 2);
}

static void netif_tx_parse_chain_past_prod_fatal(void **state)
{
    struct txfix *x = *state;
    struct netif_tx_pkt pkt;
    req(x, 1, 0, NETTXF_more_data, 1, 100);
    req(x, 2, 0, NETTXF_more_data, 2, 20);
    publish(x);
    assert_int_equal(parse(x, &pkt), NETIF_TX_FATAL);
    assert_int_equal(pkt.reason, NETIF_TX_R_CHAIN_PAST_PROD);
}

static void netif_tx_parse_need_more_within_produced(void **state)
{
    struct txfix *x = *state;
    struct netif_tx_pkt pkt;
    netif_tx_request_t reqs[4];
    unsigned produced;
    req(x, 1, 0, NETTXF_extra_info | NETTXF_more_data, 1, 100);
    extra(x, XEN_NETIF_EXTRA_TYPE_HASH, 0, NULL);
    req(x, 2, 0, 0, 2, 20);
    publish(x);
    /* A copy window of 1 or 2 requests cuts the packet: come back later. */
    assert_int_equal(netif_tx_copy_requests(&x->b, reqs, 1, &produced), 1);
    assert_int_equal(produced, 3);
    assert_int_equal(netif_tx_parse(reqs, 1, produced, &pkt), NETIF_TX_NEED_MORE);
    assert_int_equal(netif_tx_copy_requests(&x->b, reqs, 2, &produced), 2);
    assert_int_equal(netif_tx_parse(reqs, 2, produced, &pkt), NETIF_TX_NEED_MORE);
    assert_int_equal(netif_tx_copy_requests(&x->b, reqs, 4, &produced), 3);
    assert_int_equal(netif_tx_parse(reqs, 3, produced, &pkt), NETIF_TX_OK);
    assert_int_equal(netif_tx_parse(reqs, 0, 0, &pkt), NETIF_TX_NEED_MORE);
}

static void netif_tx_copy_requests_ring_overflow(void **state)
{
    struct txfix *x = *state;
    netif_tx_request_t reqs[4];
    unsigned produced = 99;
    x->s->req_prod = x->b.req_cons + NETIF_TX_RING_SIZE + 1;
    assert_int_equal(netif_tx_copy_requests(&x->b, reqs, 4, &produced), -1);
    assert_int_equal(produced, 0);
    x->s->req_prod = x->b.req_cons + NETIF_TX_RING_SIZE;
    assert_int_equal(netif_tx_copy_requests(&x->b, reqs, 4, &produced), 4);
    assert_int_equal(produced, NETIF_TX_RING_SIZE);
}

static void netif_tx_copy_requests_unanswered_slots(void **state)
{
    /* Consumed but unanswered slots shrink what may be consumed, so a
     * frontend overwriting them is caught as a chain past its requests. */
    struct txfix *x = *state;
    netif_tx_request_t reqs[4];
    unsigned produced;
    x->b.req_cons = 250;
    x->s->req_prod = 250 + 10;
    assert_int_equal(netif_tx_copy_requests(&x->b, reqs, 4, &produced), 4);
    assert_int_equal(produced, 6);
}

static void netif_tx_parse_zero_length_slot_okay(void **state)
{
    struct txfix *x = *state;
    struct netif_tx_pkt pkt;
    struct netif_tx_seg segs[NETIF_TX_MAX_DATA_SLOTS];
    req(x, 1, 0, NETTXF_more_data, 1, 60);
    req(x, 2, 0, NETTXF_more_data, 2, 0);
    req(x, 3, 0, 0, 3, 0);
    publish(x);
    assert_int_equal(parse(x, &pkt), NETIF_TX_OK);
    assert_int_equal(pkt.nr_data, 3);
    assert_int_equal(netif_tx_copy_plan(&pkt, segs), 1);
    assert_int_equal(segs[0].len, 60);
    /* A failed copy of the real data still answers the empty slots OKAY. */
    netif_tx_respond(&x->b, &pkt, NETIF_RSP_ERROR);
    assert_int_equal(RING_GET_RESPONSE(&x->b, 0)->status, NETIF_RSP_ERROR);
    assert_int_equal(RING_GET_RESPONSE(&x->b, 1)->status, NETIF_RSP_OKAY);
    assert_int_equal(RING_GET_RESPONSE(&x->b, 2)->status, NETIF_RSP_OKAY);
    assert_int_equal(RING_GET_RESPONSE(&x->b, 2)->id, 3);
}

static void netif_tx_copy_plan_tiny_slots(void **state)
{
    /* Headers spread over many 1-byte slots (XSA-423/432) assemble into
     * one contiguous buffer. */
    struct txfix *x = *state;
    struct netif_tx_pkt pkt;
    struct netif_tx_seg segs[NETIF_TX_MAX_DATA_SLOTS];
    uint32_t total = chain(x, 19, 14, 1);
    publish(x);
    assert_int_equal(parse(x, &pkt), NETIF_TX_OK);
    assert_int_equal(total, 32);
    assert_int_equal(netif_tx_copy_plan(&pkt, segs), 19);
    for (unsigned i = 1; i < 19; i++) {
        assert_int_equal(segs[i].gref, 1 + i);
        assert_int_equal(segs[i].len, 1);
        assert_int_equal(segs[i].dst_off, 13 + i);
    }
}

static void netif_tx_respond_error(void **state)
{
    struct txfix *x = *state;
    struct netif_tx_pkt pkt;
    req(x, 1, 0, NETTXF_extra_info | NETTXF_more_data, 11, 100);
    extra(x, XEN_NETIF_EXTRA_TYPE_HASH, 0, NULL);
    req(x, 2, 0, 0, 12, 200);
    publish(x);
    assert_int_equal(parse(x, &pkt), NETIF_TX_DROP);
    netif_tx_respond(&x->b, &pkt, NETIF_RSP_ERROR);
    assert_int_equal(x->b.rsp_prod_pvt, 3);
    assert_int_equal(x->s->rsp_prod, 0); /* not pushed */
    assert_int_equal(RING_GET_RESPONSE(&x->b, 0)->id, 11);
    assert_int_equal(RING_GET_RESPONSE(&x->b, 0)->status, NETIF_RSP_ERROR);
    assert_int_equal(RING_GET_RESPONSE(&x->b, 1)->status, NETIF_RSP_NULL);
    assert_int_equal(RING_GET_RESPONSE(&x->b, 2)->id, 12);
    assert_int_equal(RING_GET_RESPONSE(&x->b, 2)->status, NETIF_RSP_ERROR);
}

static void netif_tx_parse_wraps(void **state)
{
    /* Ring indexes wrap at 2^32 and slots at 256 in the middle of a packet;
     * the frontend sees its responses. */
    struct txfix *x = *state;
    struct netif_tx_pkt pkt;
    req(x, 1, 0, NETTXF_more_data | NETTXF_extra_info, 1, 1000);
    struct netif_extra_info gso = { 0 };
    gso.u.gso.size = 500;
    gso.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
    extra(x, XEN_NETIF_EXTRA_TYPE_GSO, 0, &gso);
    req(x, 2, 0, NETTXF_more_data, 2, 300);
    req(x, 3, 0, NETTXF_more_data, 3, 300);
    req(x, 4, 0, 0, 4, 300);
    publish(x);
    assert_int_equal(parse(x, &pkt), NETIF_TX_OK);
    assert_int_equal(pkt.nr_slots, 5);
    assert_int_equal(pkt.data[0].size, 100);
    assert_int_equal(pkt.data[3].gref, 4);
    netif_tx_respond(&x->b, &pkt, NETIF_RSP_OKAY);
    x->b.req_cons += pkt.nr_slots;
    RING_PUSH_RESPONSES(&x->b);
    assert_int_equal(x->s->rsp_prod, 2u);
    uint16_t ids[5];
    int16_t st[5];
    unsigned k = 0;
    while (x->f.rsp_cons != x->s->rsp_prod) {
        netif_tx_response_t r = *RING_GET_RESPONSE(&x->f, x->f.rsp_cons++);
        ids[k] = r.id;
        st[k++] = r.status;
    }
    assert_int_equal(k, 5);
    assert_int_equal(ids[0], 1);
    assert_int_equal(st[0], NETIF_RSP_OKAY);
    assert_int_equal(st[1], NETIF_RSP_NULL);
    assert_int_equal(ids[4], 4);
    assert_int_equal(st[4], NETIF_RSP_OKAY);
}

static void netif_tx_parse_burst(void **state)
{
    /* Several packets parsed out of one copy, consuming in order. */
    struct txfix *x = *state;
    struct netif_tx_pkt pkt;
    netif_tx_request_t reqs[NETIF_TX_RING_SIZE];
    unsigned produced, used = 0, got = 0;
    for (unsigned i = 0; i < 10; i++) {
        req(x, i, 0, NETTXF_more_data, (uint16_t)(2 * i), 100);
        req(x, i, 100, 0, (uint16_t)(2 * i + 1), 40);
    }
    publish(x);
    int n = netif_tx_copy_requests(&x->b, reqs, NETIF_TX_RING_SIZE, &produced);
    assert_int_equal(n, 20);
    while (netif_tx_parse(reqs + used, (unsigned)n - used, produced - used, &pkt) == NETIF_TX_OK) {
        assert_int_equal(pkt.data[0].id, 2 * got);
        assert_int_equal(pkt.data[1].offset, 100);
        used += pkt.nr_slots;
        got++;
    }
    assert_int_equal(got, 10);
    assert_int_equal(used, 20);
}

static void netif_tx_reason_str_names(void **state)
{
    (void)state;
    assert_string_equal(netif_tx_reason_str(NETIF_TX_R_CROSS_PAGE), "cross_page");
    assert_string_equal(netif_tx_reason_str(NETIF_TX_R_COUNT), "unknown");
    for (unsigned r = 0; r < NETIF_TX_R_COUNT; r++)
        assert_non_null(netif_tx_reason_str(r));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
int main(void)
{
    const struct CMUnitTest tests[] = {
        T(netif_tx_parse_single_slot),
        T(netif_tx_parse_first_fragment_size),
        T(netif_tx_parse_gso_and_hash_extras),
        T(netif_tx_parse_mcast_add),
        T(netif_tx_parse_mcast_del),
        T(netif_tx_parse_19_slots_accepted),
        T(netif_tx_parse_20_slots_dropped),
        T(netif_tx_parse_21_slots_dropped),
        T(netif_tx_parse_22_slots_fatal),
        T(netif_tx_parse_dropped_before_gso_check),
        T(netif_tx_parse_cross_page_first_fatal),
        T(netif_tx_parse_cross_page_frag_fatal),
        T(netif_tx_parse_page_end_accepted),
        T(netif_tx_parse_extra_type_zero_fatal),
        T(netif_tx_parse_extra_type_max_fatal),
        T(netif_tx_parse_missing_extra_fatal),
        T(netif_tx_parse_missing_chained_extra_fatal),
        T(netif_tx_parse_gso_size_zero_fatal),
        T(netif_tx_parse_gso_bad_type_fatal),
        T(netif_tx_parse_frag_too_big_dropped),
        T(netif_tx_parse_too_short_dropped),
        T(netif_tx_parse_short_first_fragment_dropped),
        T(netif_tx_parse_chain_past_prod_fatal),
        T(netif_tx_parse_need_more_within_produced),
        T(netif_tx_copy_requests_ring_overflow),
        T(netif_tx_copy_requests_unanswered_slots),
        T(netif_tx_parse_zero_length_slot_okay),
        T(netif_tx_copy_plan_tiny_slots),
        T(netif_tx_respond_error),
        cmocka_unit_test_setup_teardown(netif_tx_parse_wraps, setup_wrap, teardown),
        T(netif_tx_parse_burst),
        cmocka_unit_test(netif_tx_reason_str_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
