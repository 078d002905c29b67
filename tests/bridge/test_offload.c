/* Software checksum and TCP segmentation, each result checked against an
 * independent recomputation (tests/bridge/frames.h). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "bridge/offload.h"
#include "tests/bridge/frames.h"

static int setup(void **state)
{
    *state = nb_pkt_pool_new("offload", 1024);
    return 0;
}

static int teardown(void **state)
{
    assert_int_equal(nb_pkt_pool_in_use(*state), 0);
    nb_pkt_pool_free(*state);
    return 0;
}

/* An Ethernet + IPv6 + hop-by-hop options (8 bytes) + UDP frame. */
static struct nb_pkt *make_udp6_hbh(struct nb_pkt_pool *pool, uint32_t payload)
{
    uint32_t len = 14 + 40 + 8 + 8 + payload;
    struct nb_pkt *p = nb_pkt_alloc(pool, len);
    uint8_t *ip = p->data + 14, *hbh = ip + 40, *udp = hbh + 8;

    memset(p->data, 0, len);
    put16(p->data + 12, 0x86dd);
    ip[0] = 0x60;
    put16(ip + 4, (uint16_t)(8 + 8 + payload));
    ip[6] = 0;                     /* hop-by-hop */
    ip[7] = 1;
    ip[8] = 0xfe; ip[9] = 0x80; ip[23] = 1;
    ip[24] = 0xfe; ip[25] = 0x80; ip[39] = 2;
    hbh[0] = 17;                   /* then UDP */
    hbh[1] = 0;
    hbh[2] = 1; hbh[3] = 4;        /* PadN */
    put16(udp, 5353);
    put16(udp + 2, 5353);
    put16(udp + 4, (uint16_t)(8 + payload));
    for (uint32_t i = 0; i < payload; i++)
        udp[8 + i] = (uint8_t)(0xa5 ^ i);
    return p;
}

static void nb_offload_csum_complete_tcpv4(void **state)
{
    struct nb_pkt *p = make_tcp(*state, 0, 1001, 42);   /* odd length */
    uint8_t *ip = p->data + 14;

    assert_int_equal(nb_offload_csum_setup(p, true), 0);
    assert_true(p->flags & NB_PKT_CSUM_PARTIAL);
    assert_int_equal(p->csum_start, 34);
    assert_int_equal(p->csum_offset, 16);
    assert_int_equal(nb_offload_csum_verify(p), -EBADMSG);   /* only the pseudo sum yet */
    assert_int_equal(nb_offload_csum_complete(p), 0);
    assert_false(p->flags & NB_PKT_CSUM_PARTIAL);
    assert_true(p->flags & NB_PKT_DATA_VALID);
    assert_int_equal(get16(ip + 20 + 16), ref_l4_csum(ip, 0, 6, ip + 20, 20 + 1001, 16));
    assert_int_equal(nb_offload_csum_verify(p), 0);
    nb_pkt_free(p);
}

static void nb_offload_csum_complete_tcpv6(void **state)
{
    struct nb_pkt *p = make_tcp(*state, 1, 1400, 42);
    uint8_t *ip = p->data + 14;

    assert_int_equal(nb_offload_csum_setup(p, true), 0);
    assert_int_equal(p->csum_start, 54);
    assert_int_equal(nb_offload_csum_complete(p), 0);
    assert_int_equal(get16(ip + 40 + 16), ref_l4_csum(ip, 1, 6, ip + 40, 20 + 1400, 16));
    assert_int_equal(nb_offload_csum_verify(p), 0);
    nb_pkt_free(p);
}

static void nb_offload_csum_setup_udpv6_extension_header(void **state)
{
    struct nb_pkt *p = make_udp6_hbh(*state, 77);
    uint8_t *ip = p->data + 14, *udp = ip + 48;

    assert_int_equal(nb_offload_csum_setup(p, true), 0);
    assert_int_equal(p->csum_start, 14 + 48);
    assert_int_equal(p->csum_offset, 6);
    assert_int_equal(nb_offload_csum_complete(p), 0);
    assert_int_equal(get16(udp + 6), ref_l4_csum(ip, 1, 17, udp, 8 + 77, 6));
    assert_int_equal(nb_offload_csum_verify(p), 0);
    nb_pkt_free(p);
}

static void nb_offload_csum_verify_detects_corruption(void **state)
{
    struct nb_pkt *p = make_tcp(*state, 0, 200, 1);

    nb_offload_csum_setup(p, true);
    nb_offload_csum_complete(p);
    assert_int_equal(nb_offload_csum_verify(p), 0);
    p->data[100] ^= 0x40;
    assert_int_equal(nb_offload_csum_verify(p), -EBADMSG);
    p->data[100] ^= 0x40;
    p->data[14 + 8] ^= 1;                /* TTL: IPv4 header checksum now wrong */
    assert_int_equal(nb_offload_csum_verify(p), -EBADMSG);
    nb_pkt_free(p);
}

static void nb_offload_csum_setup_rejects_bad_headers(void **state)
{
    struct nb_pkt *p = make_tcp(*state, 0, 100, 1);
    uint8_t *ip = p->data + 14;

    put16(ip + 6, 0x2000);               /* more fragments */
    assert_int_equal(nb_offload_csum_setup(p, false), -EPROTONOSUPPORT);
    put16(ip + 6, 0);
    ip[0] = 0x4f;                        /* IHL 60 bytes: TCP header truncated */
    p->len = 14 + 60 + 10;
    assert_int_equal(nb_offload_csum_setup(p, false), -EBADMSG);
    ip[0] = 0x45;
    p->len = 14 + 20 + 120;
    put16(ip + 2, 2000);                 /* IP length beyond the frame */
    assert_int_equal(nb_offload_csum_setup(p, false), -EBADMSG);
    put16(ip + 2, 140);
    ip[9] = 1;                           /* ICMP */
    assert_int_equal(nb_offload_csum_setup(p, false), -EPROTONOSUPPORT);
    put16(p->data + 12, 0x0806);         /* ARP */
    assert_int_equal(nb_offload_csum_setup(p, false), -EPROTONOSUPPORT);
    p->len = 10;
    assert_int_equal(nb_offload_csum_setup(p, false), -EBADMSG);
    p->len = 14 + 20 + 120;
    p->flags = NB_PKT_CSUM_PARTIAL;
    p->csum_start = 200;                 /* past the end */
    assert_int_equal(nb_offload_csum_complete(p), -EBADMSG);
    nb_pkt_free(p);
}

/* Segments a 64 KiB TCP packet and checks every segment against the
 * original: headers, sequence numbers, flags, lengths, ids, payload bytes
 * and checksums. */
static void check_tso(struct nb_pkt_pool *pool, int v6)
{
    const uint32_t payload = 65535 - 14 - (v6 ? 40 : 20) - 20, mss = 1448;
    const uint32_t l3 = v6 ? 40 : 20, hdr = 14 + l3 + 20;
    struct nb_pkt *p = make_tcp(pool, v6, payload, 0xfffff000u);   /* seq wraps */
    struct nb_pkt *seg[64];
    unsigned nseg = (payload + mss - 1) / mss;
    uint32_t covered = 0;

    nb_offload_csum_setup(p, true);
    p->gso_type = v6 ? NB_GSO_TCPV6 : NB_GSO_TCPV4;
    p->gso_size = mss;
    assert_int_equal(nb_offload_tso_segment(p, seg, 8), -ENOSPC);
    assert_int_equal(nb_offload_tso_segment(p, seg, 64), (int)nseg);
    for (unsigned i = 0; i < nseg; i++) {
        struct nb_pkt *s = seg[i];
        uint8_t *ip = s->data + 14, *tcp = ip + l3;
        uint32_t chunk = i == nseg - 1 ? payload - covered : mss;
        uint8_t flags = 0x10 | (i == 0 ? 0x80 : 0) | (i == nseg - 1 ? 0x09 : 0);

        assert_int_equal(s->len, hdr + chunk);
        assert_memory_equal(s->data, p->data, 14);
        assert_memory_equal(s->data + hdr, p->data + hdr + covered, chunk);
        if (v6) {
            assert_int_equal(get16(ip + 4), 20 + chunk);
            assert_memory_equal(ip + 6, p->data + 14 + 6, 34);
        } else {
            uint8_t h[20];
            assert_int_equal(get16(ip + 2), 40 + chunk);
            assert_int_equal(get16(ip + 4), (uint16_t)(0x1234 + i));
            memcpy(h, ip, 20);
            put16(h + 10, 0);
            assert_int_equal(get16(ip + 10), (uint16_t)~ref_sum(0, h, 20));
        }
        assert_int_equal(get32(tcp + 4), 0xfffff000u + covered);
        assert_int_equal(tcp[13], flags);
        assert_memory_equal(tcp, p->data + 14 + l3, 4);           /* ports */
        assert_memory_equal(tcp + 8, p->data + 14 + l3 + 8, 5);   /* ack, doff */
        assert_int_equal(get16(tcp + 16), ref_l4_csum(ip, v6, 6, tcp, 20 + chunk, 16));
        assert_int_equal(s->gso_type, NB_GSO_NONE);
        assert_true(s->flags & NB_PKT_DATA_VALID);
        assert_false(s->flags & NB_PKT_CSUM_PARTIAL);
        covered += chunk;
    }
    assert_int_equal(covered, payload);
    nb_pkt_free_burst(seg, nseg);
    nb_pkt_free(p);
}

static void nb_offload_tso_segment_tcpv4_64k(void **state)
{
    check_tso(*state, 0);
}

static void nb_offload_tso_segment_tcpv6_64k(void **state)
{
    check_tso(*state, 1);
}

static void nb_offload_tso_segment_rejects_mismatch(void **state)
{
    struct nb_pkt *p = make_tcp(*state, 0, 3000, 1), *seg[8];

    p->gso_type = NB_GSO_TCPV6;              /* says v6, is v4 */
    p->gso_size = 1000;
    assert_int_equal(nb_offload_tso_segment(p, seg, 8), -EPROTONOSUPPORT);
    p->gso_type = NB_GSO_TCPV4;
    p->gso_size = 0;
    assert_int_equal(nb_offload_tso_segment(p, seg, 8), -EBADMSG);
    p->gso_type = NB_GSO_NONE;
    assert_int_equal(nb_offload_tso_segment(p, seg, 8), -EPROTONOSUPPORT);
    nb_pkt_free(p);
}

static void nb_offload_tso_segment_out_of_buffers(void **state)
{
    struct nb_pkt_pool *tiny = nb_pkt_pool_new("tiny", 3);
    struct nb_pkt *p = make_tcp(tiny, 0, 5000, 1), *seg[8];
    (void)state;

    p->gso_type = NB_GSO_TCPV4;
    p->gso_size = 1000;                      /* 5 segments, 2 buffers left */
    assert_int_equal(nb_offload_tso_segment(p, seg, 8), -ENOBUFS);
    assert_int_equal(nb_pkt_pool_in_use(tiny), 1);
    nb_pkt_free(p);
    nb_pkt_pool_free(tiny);
}

/* A receiver that takes blank checksums of one IP family gets the other
 * family's completed: right by recomputation, DATA_VALID; a frame of the
 * family it takes, and a GSO frame, are left partial. */
static void nb_offload_csum_for_completes_the_other_family(void **state)
{
    for (int v6 = 0; v6 <= 1; v6++) {
        struct nb_pkt *p = make_tcp(*state, v6, 700, 9), *orig;
        uint8_t *ip = p->data + 14;
        unsigned iph = v6 ? 40 : 20;

        assert_int_equal(nb_offload_csum_setup(p, true), 0);
        assert_int_equal(nb_offload_ip_version(p), v6 ? 6 : 4);
        orig = p;
        /* takes this family (and maybe the other): untouched */
        assert_int_equal(nb_offload_csum_for(&p, !v6, v6), 0);
        assert_int_equal(nb_offload_csum_for(&p, true, true), 0);
        assert_ptr_equal(p, orig);
        assert_true(p->flags & NB_PKT_CSUM_PARTIAL);
        assert_int_equal(nb_offload_csum_verify(p), -EBADMSG);
        /* a GSO frame is the bridge's to segment */
        p->gso_type = v6 ? NB_GSO_TCPV6 : NB_GSO_TCPV4;
        p->gso_size = 100;
        assert_int_equal(nb_offload_csum_for(&p, v6, !v6), 0);
        assert_true(p->flags & NB_PKT_CSUM_PARTIAL);
        p->gso_type = NB_GSO_NONE;
        p->gso_size = 0;
        /* takes only the other family: completed in place (not shared) */
        assert_int_equal(nb_offload_csum_for(&p, v6, !v6), 0);
        assert_ptr_equal(p, orig);
        assert_false(p->flags & NB_PKT_CSUM_PARTIAL);
        assert_true(p->flags & NB_PKT_DATA_VALID);
        assert_int_equal(get16(ip + iph + 16),
                         ref_l4_csum(ip, v6, 6, ip + iph, 20 + 700, 16));
        assert_int_equal(nb_offload_csum_verify(p), 0);
        nb_pkt_free(p);
    }
}

/* A shared (flooded) frame is never written: the receiver gets a private,
 * completed copy and the other holders keep the partial original. Out of
 * buffers: -ENOBUFS, the frame untouched and still the caller's. Non-IP
 * partial frames are completed for a receiver that takes only IP ones. */
static void nb_offload_csum_for_shared_frame_copied(void **state)
{
    struct nb_pkt *p = make_tcp(*state, 1, 300, 5), *q;

    assert_int_equal(nb_offload_csum_setup(p, true), 0);
    nb_pkt_ref(p);                 /* a second holder */
    q = p;
    assert_int_equal(nb_offload_csum_for(&q, true, false), 0);
    assert_ptr_not_equal(q, p);
    assert_int_equal(nb_offload_csum_verify(q), 0);
    assert_true(p->flags & NB_PKT_CSUM_PARTIAL);
    assert_int_equal(nb_offload_csum_verify(p), -EBADMSG);
    nb_pkt_free(q);
    nb_pkt_free(p);

    struct nb_pkt_pool *tiny = nb_pkt_pool_new("tiny", 1);
    p = make_tcp(tiny, 0, 300, 5);
    assert_int_equal(nb_offload_csum_setup(p, true), 0);
    nb_pkt_ref(p);
    q = p;
    assert_int_equal(nb_offload_csum_for(&q, false, true), -ENOBUFS);
    assert_ptr_equal(q, p);
    assert_true(p->flags & NB_PKT_CSUM_PARTIAL);
    nb_pkt_free(p);
    nb_pkt_free(p);
    nb_pkt_pool_free(tiny);

    p = make_tcp(*state, 0, 300, 5);
    assert_int_equal(nb_offload_csum_setup(p, true), 0);
    p->data[12] = 0x88;            /* ethertype 0x88xx: not IP */
    assert_int_equal(nb_offload_ip_version(p), 0);
    assert_int_equal(nb_offload_csum_for(&p, true, true), 0);
    assert_false(p->flags & NB_PKT_CSUM_PARTIAL);
    nb_pkt_free(p);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(nb_offload_csum_complete_tcpv4),
        T(nb_offload_csum_complete_tcpv6),
        T(nb_offload_csum_setup_udpv6_extension_header),
        T(nb_offload_csum_verify_detects_corruption),
        T(nb_offload_csum_for_completes_the_other_family),
        T(nb_offload_csum_for_shared_frame_copied),
        T(nb_offload_csum_setup_rejects_bad_headers),
        T(nb_offload_tso_segment_tcpv4_64k),
        T(nb_offload_tso_segment_tcpv6_64k),
        T(nb_offload_tso_segment_rejects_mismatch),
        T(nb_offload_tso_segment_out_of_buffers),
    };
    return cmocka_run_group_tests_name("bridge_offload", tests, NULL, NULL);
}
