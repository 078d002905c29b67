/* Pure tests of netfront's frame helpers: the pattern the datapath tests
 * rely on must catch every corruption, and the checksums and responder
 * answers must be right (checked against values computed by hand). */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend/netfront/nf_frame.h"

static const uint8_t A[6] = {0x00, 0x16, 0x3e, 0x00, 0x00, 0x01};
static const uint8_t B[6] = {0x00, 0x16, 0x3e, 0x00, 0x00, 0x02};

static void nf_pattern_check_accepts_every_length(void **state)
{
    (void)state;
    uint8_t *buf = malloc(65535);
    assert_non_null(buf);
    const size_t lens[] = {14, 15, 25, 26, 27, 60, 1514, 4097, 65535};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        uint64_t seq = 99;
        nf_pattern_fill(buf, lens[i], B, A, 1234567);
        assert_true(nf_pattern_check(buf, lens[i], &seq));
        assert_int_equal(seq, lens[i] >= 26 ? 1234567 : 0);
    }
    free(buf);
}

static void nf_pattern_check_catches_a_flipped_byte_anywhere(void **state)
{
    (void)state;
    uint8_t buf[4097];
    nf_pattern_fill(buf, sizeof(buf), B, A, 7);
    for (size_t pos = 12; pos < sizeof(buf); pos += 37) {
        buf[pos] ^= 0x01;
        assert_false(nf_pattern_check(buf, sizeof(buf), NULL));
        buf[pos] ^= 0x01;
    }
    assert_true(nf_pattern_check(buf, sizeof(buf), NULL));
}

static void nf_pattern_check_catches_truncation_and_other_seq(void **state)
{
    (void)state;
    uint8_t a[1514], b[1514];
    nf_pattern_fill(a, sizeof(a), B, A, 1);
    nf_pattern_fill(b, sizeof(b), B, A, 2);
    /* Same length, other sequence: bodies differ. */
    assert_memory_not_equal(a + 26, b + 26, sizeof(a) - 26);
    /* A packet cut short is still self-consistent but reports fewer bytes;
     * the tests compare lengths, so the check itself must not over-read. */
    assert_true(nf_pattern_check(a, 100, NULL));
}

static void nf_csum_fold_matches_rfc1071_example(void **state)
{
    (void)state;
    /* RFC 1071 section 3 example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2. */
    const uint8_t d[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    assert_int_equal(nf_csum_fold(nf_csum_add(0, d, sizeof(d))), 0xddf2);
}

static void nf_build_udp4_full_checksum_verifies(void **state)
{
    (void)state;
    uint8_t f[301];
    nf_build_udp4(f, sizeof(f), B, A, htonl(0x0a000001), htonl(0x0a000002), 5, false, NULL, NULL);
    assert_true(nf_l4_csum_ok(f, sizeof(f)));
    f[200] ^= 0x40;
    assert_false(nf_l4_csum_ok(f, sizeof(f)));
}

static void nf_build_udp4_partial_checksum_completes(void **state)
{
    (void)state;
    uint8_t f[1000], full[1000];
    uint16_t start = 0, off = 0;
    nf_build_udp4(f, sizeof(f), B, A, htonl(0x0a000001), htonl(0x0a000002), 9, true, &start, &off);
    nf_build_udp4(full, sizeof(full), B, A, htonl(0x0a000001), htonl(0x0a000002), 9, false, NULL, NULL);
    assert_int_equal(start, 34);
    assert_int_equal(off, 6);
    assert_false(nf_l4_csum_ok(f, sizeof(f)));
    /* Completing as a backend would: sum from csum_start (pseudo-header sum
     * already in the field), invert, store. */
    uint16_t c = (uint16_t)~nf_csum_fold(nf_csum_add(0, f + start, sizeof(f) - start));
    f[start + off] = (uint8_t)(c >> 8);
    f[start + off + 1] = (uint8_t)c;
    assert_memory_equal(f, full, sizeof(f));
}

static void nf_build_tcp4_carries_its_stream_slice(void **state)
{
    (void)state;
    uint8_t f[54 + 1448];
    nf_build_tcp4(f, sizeof(f), B, A, htonl(0x0a000001), htonl(0x0a000002), 777, false);
    assert_true(nf_l4_csum_ok(f, sizeof(f)));
    assert_int_equal(nf_csum_fold(nf_csum_add(0, f + 14, 20)), 0xffff);
    uint32_t seq = 0;
    size_t plen = 0;
    const uint8_t *pl = nf_tcp4_payload(f, sizeof(f), &seq, &plen);
    assert_non_null(pl);
    assert_int_equal(seq, 777);
    assert_int_equal(plen, 1448);
    for (size_t i = 0; i < plen; i++)
        assert_int_equal(pl[i], nf_stream_byte(777 + (uint32_t)i));
    /* partial: only the pseudo-header sum, so the full check fails */
    nf_build_tcp4(f, sizeof(f), B, A, htonl(0x0a000001), htonl(0x0a000002), 777, true);
    assert_false(nf_l4_csum_ok(f, sizeof(f)));
    /* not TCP: no payload */
    nf_build_udp4(f, 100, B, A, htonl(0x0a000001), htonl(0x0a000002), 1, false, NULL, NULL);
    assert_null(nf_tcp4_payload(f, 100, &seq, &plen));
}

static void nf_answer_arp_request_for_our_ip(void **state)
{
    (void)state;
    uint8_t req[42] = {0}, out[128];
    memset(req, 0xff, 6);
    memcpy(req + 6, B, 6);
    req[12] = 0x08; req[13] = 0x06;
    const uint8_t arp[] = {0, 1, 8, 0, 6, 4, 0, 1};
    memcpy(req + 14, arp, 8);
    memcpy(req + 22, B, 6);
    uint32_t sip = htonl(0x0a000002), tip = htonl(0x0a000001);
    memcpy(req + 28, &sip, 4);
    memcpy(req + 38, &tip, 4);
    size_t n = nf_answer(req, sizeof(req), tip, A, out, sizeof(out));
    assert_int_equal(n, 60);
    assert_memory_equal(out, B, 6);
    assert_memory_equal(out + 6, A, 6);
    assert_int_equal(out[21], 2);                 /* reply */
    assert_memory_equal(out + 22, A, 6);          /* sender: us */
    assert_memory_equal(out + 28, &tip, 4);
    assert_memory_equal(out + 32, B, 6);          /* target: requester */
    assert_memory_equal(out + 38, &sip, 4);
    /* Not for us: no answer. */
    assert_int_equal(nf_answer(req, sizeof(req), htonl(0x0a000009), A, out, sizeof(out)), 0);
}

static void nf_answer_icmp_echo_with_valid_checksums(void **state)
{
    (void)state;
    uint8_t req[98] = {0}, out[128];
    memcpy(req, A, 6);
    memcpy(req + 6, B, 6);
    req[12] = 0x08;
    uint8_t *ip = req + 14;
    ip[0] = 0x45; ip[3] = 84; ip[8] = 64; ip[9] = 1;
    uint32_t sip = htonl(0x0a000002), dip = htonl(0x0a000001);
    memcpy(ip + 12, &sip, 4);
    memcpy(ip + 16, &dip, 4);
    uint16_t c = (uint16_t)~nf_csum_fold(nf_csum_add(0, ip, 20));
    ip[10] = (uint8_t)(c >> 8); ip[11] = (uint8_t)c;
    uint8_t *icmp = ip + 20;
    icmp[0] = 8; icmp[4] = 0x12; icmp[5] = 0x34; icmp[7] = 1;
    for (int i = 8; i < 64; i++)
        icmp[i] = (uint8_t)i;
    c = (uint16_t)~nf_csum_fold(nf_csum_add(0, icmp, 64));
    icmp[2] = (uint8_t)(c >> 8); icmp[3] = (uint8_t)c;

    size_t n = nf_answer(req, sizeof(req), dip, A, out, sizeof(out));
    assert_int_equal(n, 98);
    assert_memory_equal(out, B, 6);
    assert_int_equal(out[34], 0);                  /* echo reply */
    assert_memory_equal(out + 26, &dip, 4);
    assert_memory_equal(out + 30, &sip, 4);
    assert_int_equal(nf_csum_fold(nf_csum_add(0, out + 14, 20)), 0xffff);
    assert_int_equal(nf_csum_fold(nf_csum_add(0, out + 34, 64)), 0xffff);
    assert_memory_equal(out + 38, icmp + 4, 60);   /* id, seq and payload echoed */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nf_pattern_check_accepts_every_length),
        cmocka_unit_test(nf_pattern_check_catches_a_flipped_byte_anywhere),
        cmocka_unit_test(nf_pattern_check_catches_truncation_and_other_seq),
        cmocka_unit_test(nf_csum_fold_matches_rfc1071_example),
        cmocka_unit_test(nf_build_udp4_full_checksum_verifies),
        cmocka_unit_test(nf_build_udp4_partial_checksum_completes),
        cmocka_unit_test(nf_build_tcp4_carries_its_stream_slice),
        cmocka_unit_test(nf_answer_arp_request_for_our_ip),
        cmocka_unit_test(nf_answer_icmp_echo_with_valid_checksums),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
