/* Toeplitz hash and its input selection (see toeplitz.h). */
#include "ring/toeplitz.h"
#include "ring/netif_abi.h"

static uint8_t key_byte(const uint8_t *key, unsigned keylen, unsigned i)
{
    return i < keylen ? key[i] : 0;
}

uint32_t netif_toeplitz(const uint8_t *key, unsigned keylen,
                        const uint8_t *buf, unsigned len)
{
    /* window = the 32 key bits aligned with the current input bit. */
    uint32_t hash = 0, window = 0;

    for (unsigned k = 0; k < 4; k++)
        window = (window << 8) | key_byte(key, keylen, k);
    for (unsigned i = 0; i < len; i++) {
        uint8_t next = key_byte(key, keylen, i + 4);
        for (int b = 7; b >= 0; b--) {
            if (buf[i] & (1u << b))
                hash ^= window;
            window = (window << 1) | ((next >> b) & 1u);
        }
    }
    return hash;
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

#define ETH_P_IPV4 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_P_8021Q 0x8100
#define IPPROTO_TCP_NUM 6

static bool ipv4_input(const uint8_t *ip, uint32_t len, uint32_t flags,
                       uint8_t *in, unsigned *in_len, uint8_t *type)
{
    if (len < 20 || (ip[0] >> 4) != 4)
        return false;
    unsigned ihl = (ip[0] & 0x0fu) * 4u;
    if (ihl < 20 || ihl > len)
        return false;
    bool fragment = (be16(ip + 6) & 0x3fffu) != 0; /* MF or an offset */
    bool tcp = ip[9] == IPPROTO_TCP_NUM && !fragment && len >= ihl + 4;

    if (tcp && (flags & XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP)) {
        memcpy(in, ip + 12, 8);
        memcpy(in + 8, ip + ihl, 4);
        *in_len = 12;
        *type = _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP;
        return true;
    }
    if (flags & XEN_NETIF_CTRL_HASH_TYPE_IPV4) {
        memcpy(in, ip + 12, 8);
        *in_len = 8;
        *type = _XEN_NETIF_CTRL_HASH_TYPE_IPV4;
        return true;
    }
    return false;
}

static bool ipv6_input(const uint8_t *ip, uint32_t len, uint32_t flags,
                       uint8_t *in, unsigned *in_len, uint8_t *type)
{
    if (len < 40 || (ip[0] >> 4) != 6)
        return false;
    bool tcp = ip[6] == IPPROTO_TCP_NUM && len >= 44;

    if (tcp && (flags & XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP)) {
        memcpy(in, ip + 8, 32);
        memcpy(in + 32, ip + 40, 4);
        *in_len = 36;
        *type = _XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP;
        return true;
    }
    if (flags & XEN_NETIF_CTRL_HASH_TYPE_IPV6) {
        memcpy(in, ip + 8, 32);
        *in_len = 32;
        *type = _XEN_NETIF_CTRL_HASH_TYPE_IPV6;
        return true;
    }
    return false;
}

bool netif_hash_input(const uint8_t *frame, uint32_t len, uint32_t type_flags,
                      uint8_t *in, unsigned *in_len, uint8_t *hash_type)
{
    uint32_t l3 = 14;

    if (len < l3)
        return false;
    uint16_t proto = be16(frame + 12);
    if (proto == ETH_P_8021Q) {
        l3 += 4;
        if (len < l3)
            return false;
        proto = be16(frame + 16);
    }
    if (proto == ETH_P_IPV4)
        return ipv4_input(frame + l3, len - l3, type_flags, in, in_len, hash_type);
    if (proto == ETH_P_IPV6)
        return ipv6_input(frame + l3, len - l3, type_flags, in, in_len, hash_type);
    return false;
}
