/* ring/toeplitz: Microsoft's RSS verification suite (the key and the
 * IPv4/IPv6 vectors of "Verifying the RSS Hash Calculation"), computed both
 * from raw inputs and from Ethernet frames through netif_hash_input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "ring/toeplitz.h"
#include "ring/netif_abi.h"

static const uint8_t ms_key[40] = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
    0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
    0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
    0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

struct vec {
    const char *src, *dst;
    uint16_t sport, dport;
    uint32_t l3, l4;
};

static const struct vec v4[] = {
    { "66.9.149.187", "161.142.100.80", 2794, 1766, 0x323e8fc2, 0x51ccc178 },
    { "199.92.111.2", "65.69.140.83", 14230, 4739, 0xd718262a, 0xc626b0ea },
    { "24.19.198.95", "12.22.207.184", 12898, 38024, 0xd2d0a5de, 0x5c2b394a },
    { "38.27.205.30", "209.142.163.6", 48228, 2217, 0x82989176, 0xafc7327f },
    { "153.39.163.191", "202.188.127.2", 44251, 1303, 0x5d1809c5, 0x10e828a2 },
};

static const struct vec v6[] = {
    { "3ffe:2501:200:1fff::7", "3ffe:2501:200:3::1", 2794, 1766,
      0x2cc18cd5, 0x40207d3d },
    { "3ffe:501:8::260:97ff:fe40:efab", "ff02::1", 14230, 4739,
      0x0f0c461c, 0xdde51bbf },
    { "3ffe:1900:4545:3:200:f8ff:fe21:67cf", "fe80::200:f8ff:fe21:67cf", 44251, 38024,
      0x4b61e985, 0x02d1feef },
};

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* Ethernet + IPv4 (optionally with options) + TCP or UDP header start. */
static uint32_t frame4(uint8_t *f, const struct vec *v, uint8_t proto,
                       unsigned opt_words, uint16_t frag, bool vlan)
{
    memset(f, 0, 128);
    unsigned l3 = 14;
    if (vlan) {
        put16(f + 12, 0x8100);
        put16(f + 14, 5);
        l3 = 18;
    }
    put16(f + l3 - 2, 0x0800);
    uint8_t *ip = f + l3;
    ip[0] = (uint8_t)(0x40 | (5 + opt_words));
    put16(ip + 6, frag);
    ip[9] = proto;
    assert_int_equal(inet_pton(AF_INET, v->src, ip + 12), 1);
    assert_int_equal(inet_pton(AF_INET, v->dst, ip + 16), 1);
    uint8_t *l4 = ip + 20 + 4 * opt_words;
    put16(l4, v->sport);
    put16(l4 + 2, v->dport);
    return (uint32_t)(l4 + 20 - f);
}

static uint32_t frame6(uint8_t *f, const struct vec *v, uint8_t nexthdr)
{
    memset(f, 0, 128);
    put16(f + 12, 0x86dd);
    uint8_t *ip = f + 14;
    ip[0] = 0x60;
    ip[6] = nexthdr;
    assert_int_equal(inet_pton(AF_INET6, v->src, ip + 8), 1);
    assert_int_equal(inet_pton(AF_INET6, v->dst, ip + 24), 1);
    put16(ip + 40, v->sport);
    put16(ip + 42, v->dport);
    return 14 + 40 + 20;
}

static uint32_t hash_frame(const uint8_t *f, uint32_t len, uint32_t flags,
                           uint8_t *type)
{
    uint8_t in[NETIF_HASH_INPUT_MAX];
    unsigned n;
    assert_true(netif_hash_input(f, len, flags, in, &n, type));
    return netif_toeplitz(ms_key, sizeof(ms_key), in, n);
}

static void netif_toeplitz_ms_ipv4_vectors(void **state)
{
    (void)state;
    for (unsigned i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
        uint8_t in[12];
        assert_int_equal(inet_pton(AF_INET, v4[i].src, in), 1);
        assert_int_equal(inet_pton(AF_INET, v4[i].dst, in + 4), 1);
        put16(in + 8, v4[i].sport);
        put16(in + 10, v4[i].dport);
        assert_int_equal(netif_toeplitz(ms_key, 40, in, 8), v4[i].l3);
        assert_int_equal(netif_toeplitz(ms_key, 40, in, 12), v4[i].l4);
    }
}

static void netif_toeplitz_ms_ipv6_vectors(void **state)
{
    (void)state;
    for (unsigned i = 0; i < sizeof(v6) / sizeof(v6[0]); i++) {
        uint8_t in[36];
        assert_int_equal(inet_pton(AF_INET6, v6[i].src, in), 1);
        assert_int_equal(inet_pton(AF_INET6, v6[i].dst, in + 16), 1);
        put16(in + 32, v6[i].sport);
        put16(in + 34, v6[i].dport);
        assert_int_equal(netif_toeplitz(ms_key, 40, in, 32), v6[i].l3);
        assert_int_equal(netif_toeplitz(ms_key, 40, in, 36), v6[i].l4);
    }
}

static void netif_toeplitz_empty_key_zero(void **state)
{
    (void)state;
    uint8_t in[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
    assert_int_equal(netif_toeplitz(NULL, 0, in, 12), 0);
    /* A short key is the long key with zeros: only its first bits count. */
    static const uint8_t short_key[4] = { 0x80, 0, 0, 0 };
    static const uint8_t one[1] = { 0x80 };
    assert_int_equal(netif_toeplitz(short_key, 4, one, 1), 0x80000000u);
}

static void netif_hash_input_ipv4_frames(void **state)
{
    (void)state;
    uint8_t f[128];
    uint8_t type;
    const uint32_t all = XEN_NETIF_CTRL_HASH_TYPE_IPV4 | XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP;
    for (unsigned i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
        uint32_t len = frame4(f, &v4[i], 6, 0, 0, false);
        assert_int_equal(hash_frame(f, len, all, &type), v4[i].l4);
        assert_int_equal(type, _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP);
        assert_int_equal(hash_frame(f, len, XEN_NETIF_CTRL_HASH_TYPE_IPV4, &type), v4[i].l3);
        assert_int_equal(type, _XEN_NETIF_CTRL_HASH_TYPE_IPV4);
        /* options move the ports, VLAN moves the header */
        len = frame4(f, &v4[i], 6, 2, 0, true);
        assert_int_equal(hash_frame(f, len, all, &type), v4[i].l4);
        /* UDP and fragments fall back to the address-only hash */
        len = frame4(f, &v4[i], 17, 0, 0, false);
        assert_int_equal(hash_frame(f, len, all, &type), v4[i].l3);
        len = frame4(f, &v4[i], 6, 0, 0x2000 /* MF */, false);
        assert_int_equal(hash_frame(f, len, all, &type), v4[i].l3);
    }
}

static void netif_hash_input_ipv6_frames(void **state)
{
    (void)state;
    uint8_t f[128];
    uint8_t type;
    const uint32_t all = XEN_NETIF_CTRL_HASH_TYPE_IPV6 | XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP;
    for (unsigned i = 0; i < sizeof(v6) / sizeof(v6[0]); i++) {
        uint32_t len = frame6(f, &v6[i], 6);
        assert_int_equal(hash_frame(f, len, all, &type), v6[i].l4);
        assert_int_equal(type, _XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP);
        assert_int_equal(hash_frame(f, len, XEN_NETIF_CTRL_HASH_TYPE_IPV6, &type), v6[i].l3);
        assert_int_equal(type, _XEN_NETIF_CTRL_HASH_TYPE_IPV6);
    }
}

static void netif_hash_input_no_match(void **state)
{
    (void)state;
    uint8_t f[128], in[NETIF_HASH_INPUT_MAX], type;
    unsigned n;
    uint32_t len = frame4(f, &v4[0], 6, 0, 0, false);
    /* only IPv6 types enabled */
    assert_false(netif_hash_input(f, len, XEN_NETIF_CTRL_HASH_TYPE_IPV6, in, &n, &type));
    /* TCP-only flags and a UDP packet */
    len = frame4(f, &v4[0], 17, 0, 0, false);
    assert_false(netif_hash_input(f, len, XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP, in, &n, &type));
    /* truncated frames */
    assert_false(netif_hash_input(f, 13, ~0u, in, &n, &type));
    assert_false(netif_hash_input(f, 14 + 19, ~0u, in, &n, &type));
    f[14] = 0x4f; /* IHL 60 bytes beyond the frame */
    assert_false(netif_hash_input(f, 14 + 40, ~0u, in, &n, &type));
    /* ARP */
    put16(f + 12, 0x0806);
    assert_false(netif_hash_input(f, 60, ~0u, in, &n, &type));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(netif_toeplitz_ms_ipv4_vectors),
        cmocka_unit_test(netif_toeplitz_ms_ipv6_vectors),
        cmocka_unit_test(netif_toeplitz_empty_key_zero),
        cmocka_unit_test(netif_hash_input_ipv4_frames),
        cmocka_unit_test(netif_hash_input_ipv6_frames),
        cmocka_unit_test(netif_hash_input_no_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
