/* Frame builders and an independent checksum for the bridge tests. The
 * checksum here is the plain big-endian RFC 1071 loop on purpose: it must
 * not share code with bridge/offload.c, which it checks. */
#ifndef TESTS_BRIDGE_FRAMES_H
#define TESTS_BRIDGE_FRAMES_H

#include <stdint.h>
#include <string.h>
#include "bridge/pkt.h"

static inline void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get32(const uint8_t *p)
{
    return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* Ones' complement sum of big-endian 16-bit words, not complemented. */
static inline uint32_t ref_sum(uint32_t sum, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += get16(p + i);
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return sum;
}

/* The L4 checksum a correct sender would have written, computed with the
 * field taken as zero. */
static inline uint16_t ref_l4_csum(const uint8_t *ip, int v6, uint8_t proto,
                                   const uint8_t *l4, uint32_t l4len, unsigned field)
{
    uint8_t pseudo[40];
    uint32_t s;
    size_t plen;

    if (v6) {
        memcpy(pseudo, ip + 8, 32);
        pseudo[32] = (uint8_t)(l4len >> 24); pseudo[33] = (uint8_t)(l4len >> 16);
        pseudo[34] = (uint8_t)(l4len >> 8); pseudo[35] = (uint8_t)l4len;
        pseudo[36] = pseudo[37] = pseudo[38] = 0; pseudo[39] = proto;
        plen = 40;
    } else {
        memcpy(pseudo, ip + 12, 8);
        pseudo[8] = 0; pseudo[9] = proto;
        put16(pseudo + 10, (uint16_t)l4len);
        plen = 12;
    }
    s = ref_sum(0, pseudo, plen);
    s = ref_sum(s, l4, field);
    s = ref_sum(s, l4 + field + 2, l4len - field - 2);
    return (uint16_t)~s;
}

static inline struct nb_pkt *make_frame(struct nb_pkt_pool *pool, const uint8_t dst[6],
                                        const uint8_t src[6], uint16_t ethertype,
                                        uint32_t payload_len, uint8_t fill)
{
    struct nb_pkt *p = nb_pkt_alloc(pool, 14 + payload_len);
    if (!p)
        return NULL;
    memcpy(p->data, dst, 6);
    memcpy(p->data + 6, src, 6);
    put16(p->data + 12, ethertype);
    for (uint32_t i = 0; i < payload_len; i++)
        p->data[14 + i] = (uint8_t)(fill + i);
    return p;
}

/* An 802.1Q-tagged frame: dst, src, 0x8100, tci, ethertype, payload. */
static inline struct nb_pkt *make_tagged(struct nb_pkt_pool *pool, const uint8_t dst[6],
                                         const uint8_t src[6], uint16_t tci,
                                         uint32_t payload_len, uint8_t fill)
{
    struct nb_pkt *p = make_frame(pool, dst, src, 0x8100, 4 + payload_len, 0);
    if (!p)
        return NULL;
    put16(p->data + 14, tci);
    put16(p->data + 16, 0x0800);
    for (uint32_t i = 0; i < payload_len; i++)
        p->data[18 + i] = (uint8_t)(fill + i);
    return p;
}

/* Ethernet + IPv4/IPv6 + TCP (20-byte header, ACK|PSH) with payload_len
 * bytes of a counting pattern; checksums left as the caller wants them. */
static inline struct nb_pkt *make_tcp(struct nb_pkt_pool *pool, int v6, uint32_t payload_len,
                                      uint32_t seq)
{
    static const uint8_t dst[6] = { 0x02, 0, 0, 0, 0, 0xbb }, src[6] = { 0x02, 0, 0, 0, 0, 0xaa };
    uint32_t l3 = v6 ? 40 : 20, len = 14 + l3 + 20 + payload_len;
    struct nb_pkt *p = nb_pkt_alloc(pool, len);
    uint8_t *ip, *tcp;

    if (!p)
        return NULL;
    memset(p->data, 0, 14 + l3 + 20);
    memcpy(p->data, dst, 6);
    memcpy(p->data + 6, src, 6);
    put16(p->data + 12, v6 ? 0x86dd : 0x0800);
    ip = p->data + 14;
    if (v6) {
        ip[0] = 0x60;
        put16(ip + 4, (uint16_t)(20 + payload_len));
        ip[6] = 6;
        ip[7] = 64;
        ip[8] = 0x20; ip[9] = 0x01; ip[23] = 1;   /* 2001::1 */
        ip[24] = 0x20; ip[25] = 0x01; ip[39] = 2; /* 2001::2 */
    } else {
        ip[0] = 0x45;
        put16(ip + 2, (uint16_t)(20 + 20 + payload_len));
        put16(ip + 4, 0x1234);
        put16(ip + 6, 0x4000);                    /* DF */
        ip[8] = 64;
        ip[9] = 6;
        ip[12] = 10; ip[15] = 1;
        ip[16] = 10; ip[19] = 2;
        put16(ip + 10, (uint16_t)~ref_sum(0, ip, 20));
    }
    tcp = ip + l3;
    put16(tcp, 40000);
    put16(tcp + 2, 5201);
    put16(tcp + 4, (uint16_t)(seq >> 16));
    put16(tcp + 6, (uint16_t)seq);
    put16(tcp + 8, 0);
    put16(tcp + 10, 1);
    tcp[12] = 5 << 4;
    tcp[13] = 0x18 | 0x01 | 0x80;                 /* PSH|ACK|FIN|CWR */
    put16(tcp + 14, 65535);
    for (uint32_t i = 0; i < payload_len; i++)
        tcp[20 + i] = (uint8_t)(i * 7 + (i >> 8));
    return p;
}

#endif
