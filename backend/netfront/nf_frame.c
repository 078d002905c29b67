/* Test frames and the responder's answers. Fields are read and written by
 * byte offset (IP at offset 14 is not 4-byte aligned, so header structs
 * would be misaligned accesses). IPv4 addresses are in network byte order. */
#include <string.h>

#include "backend/netfront/nf_frame.h"

#define PATTERN_MAGIC 0x6e666e66u   /* "nfnf" */

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }

static uint8_t pattern_byte(uint64_t seq, size_t pos)
{
    return (uint8_t)(seq * 131u + pos * 7u + (pos >> 8) * 13u + 1u);
}

void nf_pattern_fill(uint8_t *buf, size_t len, const uint8_t dst[6], const uint8_t src[6], uint64_t seq)
{
    memcpy(buf, dst, 6);
    memcpy(buf + 6, src, 6);
    put16(buf + 12, NF_ETHERTYPE_TEST);
    size_t pos = NF_ETH_HLEN;
    if (len >= NF_ETH_HLEN + NF_PATTERN_HDR) {
        put32(buf + pos, PATTERN_MAGIC);
        put32(buf + pos + 4, (uint32_t)(seq >> 32));
        put32(buf + pos + 8, (uint32_t)seq);
        pos += NF_PATTERN_HDR;
    } else {
        seq = 0;
    }
    for (; pos < len; pos++)
        buf[pos] = pattern_byte(seq, pos);
}

bool nf_pattern_check(const uint8_t *buf, size_t len, uint64_t *seq)
{
    if (len < NF_ETH_HLEN || get16(buf + 12) != NF_ETHERTYPE_TEST)
        return false;
    uint64_t s = 0;
    size_t pos = NF_ETH_HLEN;
    if (len >= NF_ETH_HLEN + NF_PATTERN_HDR) {
        if (get32(buf + pos) != PATTERN_MAGIC)
            return false;
        s = (uint64_t)get32(buf + pos + 4) << 32 | get32(buf + pos + 8);
        pos += NF_PATTERN_HDR;
    }
    for (; pos < len; pos++)
        if (buf[pos] != pattern_byte(s, pos))
            return false;
    if (seq)
        *seq = s;
    return true;
}

uint32_t nf_csum_add(uint32_t sum, const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t s = sum;
    for (; len > 1; len -= 2, p += 2)
        s += get16(p);
    if (len)
        s += (uint32_t)p[0] << 8;
    while (s >> 32)
        s = (s & 0xffffffffu) + (s >> 32);
    return (uint32_t)s;
}

uint16_t nf_csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

/* Pseudo-header sum for IPv4 at ip (addresses taken from the header). */
static uint32_t pseudo4(const uint8_t *ip, uint8_t proto, uint16_t l4len)
{
    uint32_t s = nf_csum_add(0, ip + 12, 8);
    return s + proto + l4len;
}

void nf_build_udp4(uint8_t *buf, size_t len, const uint8_t dst[6], const uint8_t src[6],
                   uint32_t sip, uint32_t dip, uint64_t seq, bool partial,
                   uint16_t *csum_start, uint16_t *csum_offset)
{
    memcpy(buf, dst, 6);
    memcpy(buf + 6, src, 6);
    put16(buf + 12, 0x0800);
    uint8_t *ip = buf + NF_ETH_HLEN;
    uint16_t iplen = (uint16_t)(len - NF_ETH_HLEN);
    memset(ip, 0, 20);
    ip[0] = 0x45;
    put16(ip + 2, iplen);
    put16(ip + 4, (uint16_t)seq);
    ip[8] = 64;
    ip[9] = 17;
    memcpy(ip + 12, &sip, 4);
    memcpy(ip + 16, &dip, 4);
    put16(ip + 10, (uint16_t)~nf_csum_fold(nf_csum_add(0, ip, 20)));
    uint8_t *udp = ip + 20;
    uint16_t udplen = (uint16_t)(iplen - 20);
    put16(udp, 40000);
    put16(udp + 2, 9);
    put16(udp + 4, udplen);
    put16(udp + 6, 0);
    for (size_t i = 8; i < udplen; i++)
        udp[i] = (uint8_t)(seq * 31u + i * 5u + 3u);
    uint32_t ps = pseudo4(ip, 17, udplen);
    if (partial) {
        put16(udp + 6, nf_csum_fold(ps));
    } else {
        uint16_t c = (uint16_t)~nf_csum_fold(nf_csum_add(ps, udp, udplen));
        put16(udp + 6, c ? c : 0xffff);
    }
    if (csum_start)
        *csum_start = NF_ETH_HLEN + 20;
    if (csum_offset)
        *csum_offset = 6;
}

uint8_t nf_stream_byte(uint32_t i)
{
    return (uint8_t)(i * 11u + (i >> 9) + 0x21u);
}

void nf_build_tcp4(uint8_t *buf, size_t len, const uint8_t dst[6], const uint8_t src[6],
                   uint32_t sip, uint32_t dip, uint32_t tcp_seq, bool partial)
{
    memcpy(buf, dst, 6);
    memcpy(buf + 6, src, 6);
    put16(buf + 12, 0x0800);
    uint8_t *ip = buf + NF_ETH_HLEN;
    uint16_t iplen = (uint16_t)(len - NF_ETH_HLEN);
    memset(ip, 0, 20);
    ip[0] = 0x45;
    put16(ip + 2, iplen);
    put16(ip + 6, 0x4000);          /* DF, as TCP sets it */
    ip[8] = 64;
    ip[9] = 6;
    memcpy(ip + 12, &sip, 4);
    memcpy(ip + 16, &dip, 4);
    put16(ip + 10, (uint16_t)~nf_csum_fold(nf_csum_add(0, ip, 20)));
    uint8_t *tcp = ip + 20;
    uint16_t tcplen = (uint16_t)(iplen - 20);
    memset(tcp, 0, 20);
    put16(tcp, 40000);
    put16(tcp + 2, 5001);
    put32(tcp + 4, tcp_seq);
    put32(tcp + 8, 1);
    tcp[12] = 5 << 4;
    tcp[13] = 0x18;                 /* PSH, ACK */
    put16(tcp + 14, 65535);
    for (size_t i = 20; i < tcplen; i++)
        tcp[i] = nf_stream_byte(tcp_seq + (uint32_t)(i - 20));
    uint32_t ps = pseudo4(ip, 6, tcplen);
    if (partial)
        put16(tcp + 16, nf_csum_fold(ps));
    else
        put16(tcp + 16, (uint16_t)~nf_csum_fold(nf_csum_add(ps, tcp, tcplen)));
}

const uint8_t *nf_tcp4_payload(const uint8_t *buf, size_t len, uint32_t *tcp_seq, size_t *plen)
{
    if (len < NF_ETH_HLEN + 40 || get16(buf + 12) != 0x0800)
        return NULL;
    const uint8_t *ip = buf + NF_ETH_HLEN;
    size_t ihl = (size_t)(ip[0] & 0xf) * 4, iplen = get16(ip + 2);
    if ((ip[0] >> 4) != 4 || ip[9] != 6 || ihl < 20 || NF_ETH_HLEN + iplen > len || iplen < ihl + 20)
        return NULL;
    const uint8_t *tcp = ip + ihl;
    size_t thl = (size_t)(tcp[12] >> 4) * 4;
    if (thl < 20 || ihl + thl > iplen)
        return NULL;
    *tcp_seq = get32(tcp + 4);
    *plen = iplen - ihl - thl;
    return tcp + thl;
}

bool nf_l4_csum_ok(const uint8_t *buf, size_t len)
{
    if (len < NF_ETH_HLEN + 20 || get16(buf + 12) != 0x0800)
        return false;
    const uint8_t *ip = buf + NF_ETH_HLEN;
    size_t ihl = (size_t)(ip[0] & 0xf) * 4;
    size_t iplen = get16(ip + 2);
    if ((ip[0] >> 4) != 4 || ihl < 20 || iplen < ihl || NF_ETH_HLEN + iplen > len)
        return false;
    uint8_t proto = ip[9];
    if (proto != 6 && proto != 17)
        return false;
    uint16_t l4len = (uint16_t)(iplen - ihl);
    uint32_t s = nf_csum_add(pseudo4(ip, proto, l4len), ip + ihl, l4len);
    return nf_csum_fold(s) == 0xffff;
}

static size_t answer_arp(const uint8_t *f, size_t len, uint32_t ip, const uint8_t mac[6],
                         uint8_t *out, size_t cap)
{
    /* htype 1, ptype IPv4, hlen 6, plen 4, op 1 (request), target = ip */
    if (len < 42 || cap < 60 || get16(f + 14) != 1 || get16(f + 16) != 0x0800 || f[18] != 6 ||
        f[19] != 4 || get16(f + 20) != 1 || memcmp(f + 38, &ip, 4) != 0)
        return 0;
    memset(out, 0, 60);
    memcpy(out, f + 6, 6);
    memcpy(out + 6, mac, 6);
    put16(out + 12, 0x0806);
    memcpy(out + 14, f + 14, 6);
    put16(out + 20, 2);
    memcpy(out + 22, mac, 6);
    memcpy(out + 28, &ip, 4);
    memcpy(out + 32, f + 22, 10);   /* requester's MAC and IP become the target */
    return 60;
}

static size_t answer_icmp(const uint8_t *f, size_t len, uint32_t ip, const uint8_t mac[6],
                          uint8_t *out, size_t cap)
{
    if (len < NF_ETH_HLEN + 20 + 8)
        return 0;
    const uint8_t *iph = f + NF_ETH_HLEN;
    size_t ihl = (size_t)(iph[0] & 0xf) * 4;
    size_t iplen = get16(iph + 2);
    if ((iph[0] >> 4) != 4 || ihl < 20 || iplen < ihl + 8 || NF_ETH_HLEN + iplen > len ||
        iplen + NF_ETH_HLEN > cap || cap < 60 || iph[9] != 1 || memcmp(iph + 16, &ip, 4) != 0 ||
        iph[ihl] != 8 /* echo request */)
        return 0;
    size_t n = NF_ETH_HLEN + iplen;
    memcpy(out, f, n);
    memcpy(out, f + 6, 6);
    memcpy(out + 6, mac, 6);
    uint8_t *oip = out + NF_ETH_HLEN;
    memcpy(oip + 12, iph + 16, 4);
    memcpy(oip + 16, iph + 12, 4);
    oip[8] = 64;
    put16(oip + 10, 0);
    put16(oip + 10, (uint16_t)~nf_csum_fold(nf_csum_add(0, oip, ihl)));
    uint8_t *icmp = oip + ihl;
    icmp[0] = 0;    /* echo reply */
    put16(icmp + 2, 0);
    put16(icmp + 2, (uint16_t)~nf_csum_fold(nf_csum_add(0, icmp, iplen - ihl)));
    if (n < 60) {
        memset(out + n, 0, 60 - n);   /* Ethernet minimum frame */
        n = 60;
    }
    return n;
}

size_t nf_answer(const uint8_t *frame, size_t len, uint32_t ip, const uint8_t mac[6],
                 uint8_t *out, size_t cap)
{
    if (len < NF_ETH_HLEN)
        return 0;
    switch (get16(frame + 12)) {
    case 0x0806:
        return answer_arp(frame, len, ip, mac, out, cap);
    case 0x0800:
        return answer_icmp(frame, len, ip, mac, out, cap);
    default:
        return 0;
    }
}
