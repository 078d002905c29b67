/* ring/netif_rx: slot plans for boundary sizes, with and without SG, GSO
 * and hash extras; responses land in the request's own ring slot. The test
 * is the frontend posting RX requests on a shared page. */
#include <xenctrl.h> /* xen_wmb() for RING_PUSH_REQUESTS */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>

#include "ring/netif_rx.h"

static const struct netif_rx_caps caps_sg = { .sg = true, .gso_tcpv4 = true,
                                              .gso_tcpv6 = true };
static const struct netif_rx_caps caps_nosg = { 0 };

/* Posted requests with distinct ids and grefs. */
static void post(netif_rx_request_t *reqs, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        reqs[i].id = (uint16_t)(500 + i);
        reqs[i].pad = 0;
        reqs[i].gref = 1000 + i;
    }
}

static struct netif_rx_pkt_desc desc(uint32_t len)
{
    struct netif_rx_pkt_desc d = { 0 };
    d.len = len;
    return d;
}

/* Segments must cover the packet exactly once, in order, each inside one
 * guest page and one source page. */
static void check_segments(const struct netif_rx_plan *p, uint32_t len,
                           uint16_t src_page_off, uint16_t headroom)
{
    uint32_t src = 0;
    for (unsigned i = 0; i < p->nr_segs; i++) {
        const struct netif_rx_seg *g = &p->seg[i];
        assert_int_equal(g->src_off, src);
        assert_true(g->len > 0);
        assert_true(g->dst_off >= headroom);
        assert_true((uint32_t)g->dst_off + g->len <= NETIF_PAGE_SIZE);
        uint32_t s = (src_page_off + g->src_off) % NETIF_PAGE_SIZE;
        assert_true(s + g->len <= NETIF_PAGE_SIZE);
        assert_int_equal(g->gref, 1000 + g->slot);
        src += g->len;
    }
    assert_int_equal(src, len);
}

static void netif_rx_plan_14_bytes(void **state)
{
    (void)state;
    netif_rx_request_t reqs[4];
    struct netif_rx_plan p;
    struct netif_rx_pkt_desc d = desc(14);
    post(reqs, 4);
    assert_int_equal(netif_rx_plan(reqs, 4, &d, &caps_nosg, &p), NETIF_RX_OK);
    assert_int_equal(p.nr_slots, 1);
    assert_int_equal(p.nr_segs, 1);
    assert_int_equal(p.rsp[0].rsp.id, 500);
    assert_int_equal(p.rsp[0].rsp.status, 14);
    assert_int_equal(p.rsp[0].rsp.offset, 0);
    assert_int_equal(p.rsp[0].rsp.flags, 0);
    assert_int_equal(p.seg[0].gref, 1000);
    assert_int_equal(p.seg[0].dst_off, 0);
    assert_int_equal(p.seg[0].len, 14);
}

static void netif_rx_plan_4096_one_slot(void **state)
{
    (void)state;
    netif_rx_request_t reqs[4];
    struct netif_rx_plan p;
    struct netif_rx_pkt_desc d = desc(4096);
    post(reqs, 4);
    assert_int_equal(netif_rx_plan(reqs, 4, &d, &caps_nosg, &p), NETIF_RX_OK);
    assert_int_equal(p.nr_slots, 1);
    assert_int_equal(p.nr_segs, 1);
    assert_int_equal(p.rsp[0].rsp.status, 4096);
    assert_int_equal(p.rsp[0].rsp.flags, 0);
}

static void netif_rx_plan_4097_sg(void **state)
{
    (void)state;
    netif_rx_request_t reqs[4];
    struct netif_rx_plan p;
    struct netif_rx_pkt_desc d = desc(4097);
    post(reqs, 4);
    assert_int_equal(netif_rx_slots_needed(&d, &caps_sg), 2);
    assert_int_equal(netif_rx_plan(reqs, 4, &d, &caps_sg, &p), NETIF_RX_OK);
    assert_int_equal(p.nr_slots, 2);
    assert_int_equal(p.rsp[0].rsp.status, 4096);
    assert_int_equal(p.rsp[0].rsp.flags, NETRXF_more_data);
    assert_int_equal(p.rsp[1].rsp.status, 1);
    assert_int_equal(p.rsp[1].rsp.flags, 0);
    assert_int_equal(p.rsp[1].rsp.id, 501);
    check_segments(&p, 4097, 0, 0);
}

static void netif_rx_plan_4097_no_sg_dropped(void **state)
{
    (void)state;
    netif_rx_request_t reqs[4];
    struct netif_rx_plan p;
    struct netif_rx_pkt_desc d = desc(4097);
    post(reqs, 4);
    assert_int_equal(netif_rx_slots_needed(&d, &caps_nosg), 0);
    assert_int_equal(netif_rx_plan(reqs, 4, &d, &caps_nosg, &p), NETIF_RX_DROP);
    assert_int_equal(p.reason, NETIF_RX_R_NO_SG);
    assert_int_equal(p.nr_slots, 0);
}

static void netif_rx_plan_65535_plain(void **state)
{
    (void)state;
    netif_rx_request_t reqs[32];
    struct netif_rx_plan p;
    struct netif_rx_pkt_desc d = desc(65535);
    post(reqs, 32);
    assert_int_equal(netif_rx_plan(reqs, 32, &d, &caps_sg, &p), NETIF_RX_OK);
    assert_int_equal(p.nr_slots, 16);
    assert_int_equal(p.nr_extras, 0);
    for (unsigned i = 0; i < 15; i++) {
        assert_int_equal(p.rsp[i].rsp.status, 4096);
        assert_int_equal(p.rsp[i].rsp.flags & NETRXF_more_data, NETRXF_more_data);
    }
    assert_int_equal(p.rsp[15].rsp.status, 4095);
    assert_int_equal(p.rsp[15].rsp.flags, 0);
    check_segments(&p, 65535, 0, 0);
}

static void netif_rx_plan_65535_gso_hash(void **state)
{
    (void)state;
    netif_rx_request_t reqs[32];
    struct netif_rx_plan p;
    struct netif_rx_pkt_desc d = desc(65535);
    d.gso_type = XEN_NETIF_GSO_TYPE_TCPV4;
    d.gso_size = 1448;
    d.flags = NETIF_RX_PKT_CSUM_PARTIAL | NETIF_RX_PKT_HASH;
    d.hash_type = _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP;
    d.hash = 0x51ccc178;
    post(reqs, 32);
    assert_int_equal(netif_rx_slots_needed(&d, &caps_sg), 18);
    assert_int_equal(netif_rx_plan(reqs, 18, &d, &caps_sg, &p), NETIF_RX_OK);
    assert_int_equal(p.nr_slots, 18);
    assert_int_equal(p.nr_extras, 2);
    /* slot 0: data with the checksum bits (RX numbering) and extra_info */
    assert_int_equal(p.rsp[0].rsp.flags, NETRXF_csum_blank | NETRXF_data_validated |
                                         NETRXF_extra_info | NETRXF_more_data);
    assert_int_equal(p.rsp[0].rsp.status, 4096);
    /* slots 1 and 2: GSO then HASH extras, chained with FLAG_MORE */
    assert_int_equal(p.rsp[1].extra.type, XEN_NETIF_EXTRA_TYPE_GSO);
    assert_int_equal(p.rsp[1].extra.flags, XEN_NETIF_EXTRA_FLAG_MORE);
    assert_int_equal(p.rsp[1].extra.u.gso.size, 1448);
    assert_int_equal(p.rsp[1].extra.u.gso.type, XEN_NETIF_GSO_TYPE_TCPV4);
    assert_int_equal(p.rsp[2].extra.type, XEN_NETIF_EXTRA_TYPE_HASH);
    assert_int_equal(p.rsp[2].extra.flags, 0);
    assert_int_equal(p.rsp[2].extra.u.hash.type, _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP);
    assert_int_equal(p.rsp[2].extra.u.hash.algorithm, XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ);
    uint32_t v;
    memcpy(&v, p.rsp[2].extra.u.hash.value, 4);
    assert_int_equal(v, 0x51ccc178);
    /* data continues in slot 3 with request 503 */
    assert_int_equal(p.rsp[3].rsp.id, 503);
    assert_int_equal(p.rsp[3].rsp.flags, NETRXF_more_data);
    assert_int_equal(p.rsp[17].rsp.status, 4095);
    assert_int_equal(p.rsp[17].rsp.flags, 0);
    for (unsigned i = 0; i < p.nr_segs; i++)
        assert_true(p.seg[i].slot == 0 || p.seg[i].slot >= 3);
    check_segments(&p, 65535, 0, 0);
}

static void netif_rx_plan_hash_only(void **state)
{
    (void)state;
    netif_rx_request_t reqs[4];
    struct netif_rx_plan p;
    struct netif_rx_pkt_desc d = desc(60);
    d.flags = NETIF_RX_PKT_DATA_VALID | NETIF_RX_PKT_HASH;
    d.hash_type = _XEN_NETIF_CTRL_HASH_TYPE_IPV4;
    post(reqs, 4);
    assert_int_equal(netif_rx_plan(reqs, 4, &d, &caps_nosg, &p), NETIF_RX_OK);
    assert_int_equal(p.nr_slots, 2);
    assert_int_equal(p.rsp[0].rsp.flags, NETRXF_data_validated | NETRXF_extra_info);
    assert_int_equal(p.rsp[1].extra.type, XEN_NETIF_EXTRA_TYPE_HASH);
}

static void netif_rx_plan_no_space(void **state)
{
    (void)state;
    netif_rx_request_t reqs[32];
    struct netif_rx_plan p;
    struct netif_rx_pkt_desc d = desc(65535);
    d.gso_type = XEN_NETIF_GSO_TYPE_TCPV6;
    d.gso_size = 1440;
    post(reqs, 32);
    assert_int_equal(netif_rx_slots_needed(&d, &caps_sg), 17);
    assert_int_equal(netif_rx_plan(reqs, 16, &d, &caps_sg, &p), NETIF_RX_NO_SPACE);
    assert_int_equal(p.nr_slots, 0);
    assert_int_equal(netif_rx_plan(reqs, 1, &d, &caps_sg, &p), NETIF_RX_NO_SPACE);
    assert_int_equal(netif_rx_plan(reqs, 17, &d, &caps_sg, &p), NETIF_RX_OK);
}

static void netif_rx_plan_gso_not_negotiated(void **state)
{
    (void)state;
    netif_rx_request_t reqs[32];
    struct netif_rx_plan p;
    struct netif_rx_caps caps = { .sg = true, .gso_tcpv4 = true };
    struct netif_rx_pkt_desc d = desc(9000);
    d.gso_type = XEN_NETIF_GSO_TYPE_TCPV6;
    d.gso_size = 1440;
    post(reqs, 32);
    assert_int_equal(netif_rx_plan(reqs, 32, &d, &caps, &p), NETIF_RX_DROP);
    assert_int_equal(p.reason, NETIF_RX_R_GSO_NOT_NEG);
    d.gso_size = 0;
    d.gso_type = XEN_NETIF_GSO_TYPE_TCPV4;
    assert_int_equal(netif_rx_plan(reqs, 32, &d, &caps, &p), NETIF_RX_DROP);
    assert_int_equal(p.reason, NETIF_RX_R_BAD_GSO);
}

static void netif_rx_plan_bad_len(void **state)
{
    (void)state;
    netif_rx_request_t reqs[32];
    struct netif_rx_plan p;
    struct netif_rx_pkt_desc d = desc(0);
    post(reqs, 32);
    assert_int_equal(netif_rx_plan(reqs, 32, &d, &caps_sg, &p), NETIF_RX_DROP);
    assert_int_equal(p.reason, NETIF_RX_R_BAD_LEN);
    d.len = 65536;
    assert_int_equal(netif_rx_plan(reqs, 32, &d, &caps_sg, &p), NETIF_RX_DROP);
    assert_int_equal(p.reason, NETIF_RX_R_BAD_LEN);
}

static void netif_rx_plan_source_page_split(void **state)
{
    (void)state;
    netif_rx_request_t reqs[4];
    struct netif_rx_plan p;
    struct netif_rx_pkt_desc d = desc(5000);
    d.src_page_off = 4000;
    post(reqs, 4);
    assert_int_equal(netif_rx_plan(reqs, 4, &d, &caps_sg, &p), NETIF_RX_OK);
    assert_int_equal(p.nr_slots, 2);
    /* slot 0: 96 bytes to the source page end, then 4000 more */
    assert_int_equal(p.nr_segs, 4);
    assert_int_equal(p.seg[0].len, 96);
    assert_int_equal(p.seg[1].dst_off, 96);
    assert_int_equal(p.seg[1].len, 4000);
    assert_int_equal(p.seg[2].slot, 1);
    assert_int_equal(p.seg[2].len, 96);
    assert_int_equal(p.seg[3].len, 904 - 96);
    check_segments(&p, 5000, 4000, 0);
}

static void netif_rx_plan_headroom(void **state)
{
    (void)state;
    netif_rx_request_t reqs[32];
    struct netif_rx_plan p;
    struct netif_rx_caps caps = caps_sg;
    caps.headroom = 256;
    struct netif_rx_pkt_desc d = desc(8000);
    post(reqs, 32);
    assert_int_equal(netif_rx_slots_needed(&d, &caps), 3);
    assert_int_equal(netif_rx_plan(reqs, 32, &d, &caps, &p), NETIF_RX_OK);
    assert_int_equal(p.rsp[0].rsp.offset, 256);
    assert_int_equal(p.rsp[0].rsp.status, 3840);
    assert_int_equal(p.rsp[2].rsp.status, 8000 - 2 * 3840);
    assert_int_equal(p.seg[0].dst_off, 256);
    check_segments(&p, 8000, 0, 256);
    caps.headroom = NETIF_RX_MAX_HEADROOM + 1;
    assert_int_equal(netif_rx_plan(reqs, 32, &d, &caps, &p), NETIF_RX_DROP);
    assert_int_equal(p.reason, NETIF_RX_R_BAD_HEADROOM);
}

static void netif_rx_plan_fail_seg_error(void **state)
{
    (void)state;
    netif_rx_request_t reqs[4];
    struct netif_rx_plan p;
    struct netif_rx_pkt_desc d = desc(6000);
    post(reqs, 4);
    assert_int_equal(netif_rx_plan(reqs, 4, &d, &caps_sg, &p), NETIF_RX_OK);
    netif_rx_plan_fail_seg(&p, 1);
    assert_int_equal(p.rsp[0].rsp.status, 4096);
    assert_int_equal(p.rsp[1].rsp.status, NETIF_RSP_ERROR);
    netif_rx_plan_fail_seg(&p, 99); /* out of range: ignored */
}

/* Through a real shared ring, with the index wrapping at 2^32. */
static void netif_rx_respond_same_slot(void **state)
{
    (void)state;
    void *page = NULL;
    assert_int_equal(posix_memalign(&page, NETIF_PAGE_SIZE, NETIF_PAGE_SIZE), 0);
    netif_rx_sring_t *s = page;
    netif_rx_front_ring_t f;
    netif_rx_back_ring_t b;
    RING_IDX start = 0xfffffffeu;
    SHARED_RING_INIT(s);
    s->req_prod = s->rsp_prod = start;
    FRONT_RING_ATTACH(&f, s, start, NETIF_PAGE_SIZE);
    BACK_RING_ATTACH(&b, s, start, NETIF_PAGE_SIZE);
    for (unsigned i = 0; i < 8; i++) {
        netif_rx_request_t *r = RING_GET_REQUEST(&f, f.req_prod_pvt++);
        r->id = (uint16_t)(77 * i + 3);   /* ids unrelated to slots */
        r->gref = 900 + i;
    }
    RING_PUSH_REQUESTS(&f);

    netif_rx_request_t reqs[NETIF_RX_RING_SIZE];
    unsigned produced;
    int n = netif_rx_copy_requests(&b, reqs, NETIF_RX_RING_SIZE, &produced);
    assert_int_equal(n, 8);
    assert_int_equal(produced, 8);
    struct netif_rx_plan p;
    struct netif_rx_pkt_desc d = desc(5000);
    d.gso_type = XEN_NETIF_GSO_TYPE_TCPV4;
    d.gso_size = 1000;
    assert_int_equal(netif_rx_plan(reqs, (unsigned)n, &d, &caps_sg, &p), NETIF_RX_OK);
    assert_int_equal(p.nr_slots, 3);
    assert_int_equal(p.seg[0].gref, 900);
    assert_int_equal(p.seg[p.nr_segs - 1].gref, 902);
    netif_rx_respond(&b, b.req_cons, &p);
    b.req_cons += p.nr_slots;
    assert_int_equal(s->rsp_prod, start);  /* not pushed */
    RING_PUSH_RESPONSES(&b);
    assert_int_equal(s->rsp_prod, 1u);

    netif_rx_response_t r0 = *RING_GET_RESPONSE(&f, start);
    struct netif_extra_info ex;
    memcpy(&ex, RING_GET_RESPONSE(&f, start + 1), sizeof(ex));
    netif_rx_response_t r2 = *RING_GET_RESPONSE(&f, start + 2);
    assert_int_equal(r0.id, 3);
    assert_int_equal(r0.status, 4096);
    assert_int_equal(r0.flags, NETRXF_more_data | NETRXF_extra_info);
    assert_int_equal(ex.type, XEN_NETIF_EXTRA_TYPE_GSO);
    assert_int_equal(ex.u.gso.size, 1000);
    assert_int_equal(r2.id, 2 * 77 + 3);
    assert_int_equal(r2.status, 5000 - 4096);
    /* the untouched requests behind it are still there */
    assert_int_equal(RING_GET_REQUEST(&f, start + 3)->gref, 903);
    free(page);
}

static void netif_rx_copy_requests_overflow(void **state)
{
    (void)state;
    void *page = NULL;
    assert_int_equal(posix_memalign(&page, NETIF_PAGE_SIZE, NETIF_PAGE_SIZE), 0);
    netif_rx_sring_t *s = page;
    netif_rx_back_ring_t b;
    netif_rx_request_t reqs[4];
    unsigned produced;
    SHARED_RING_INIT(s);
    BACK_RING_INIT(&b, s, NETIF_PAGE_SIZE);
    assert_int_equal(RING_SIZE(&b), 256);
    s->req_prod = 257;
    assert_int_equal(netif_rx_copy_requests(&b, reqs, 4, &produced), -1);
    s->req_prod = 256;
    assert_int_equal(netif_rx_copy_requests(&b, reqs, 4, &produced), 4);
    assert_int_equal(produced, 256);
    free(page);
}

static void netif_rx_reason_str_names(void **state)
{
    (void)state;
    assert_string_equal(netif_rx_reason_str(NETIF_RX_R_NO_SG), "no_sg");
    assert_string_equal(netif_rx_reason_str(NETIF_RX_R_COUNT), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(netif_rx_plan_14_bytes),
        cmocka_unit_test(netif_rx_plan_4096_one_slot),
        cmocka_unit_test(netif_rx_plan_4097_sg),
        cmocka_unit_test(netif_rx_plan_4097_no_sg_dropped),
        cmocka_unit_test(netif_rx_plan_65535_plain),
        cmocka_unit_test(netif_rx_plan_65535_gso_hash),
        cmocka_unit_test(netif_rx_plan_hash_only),
        cmocka_unit_test(netif_rx_plan_no_space),
        cmocka_unit_test(netif_rx_plan_gso_not_negotiated),
        cmocka_unit_test(netif_rx_plan_bad_len),
        cmocka_unit_test(netif_rx_plan_source_page_split),
        cmocka_unit_test(netif_rx_plan_headroom),
        cmocka_unit_test(netif_rx_plan_fail_seg_error),
        cmocka_unit_test(netif_rx_respond_same_slot),
        cmocka_unit_test(netif_rx_copy_requests_overflow),
        cmocka_unit_test(netif_rx_reason_str_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
