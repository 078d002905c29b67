/* Strict xenstore value parsers (see xs_parse.h). */
#include "backend/xs_parse.h"

#include <errno.h>
#include <string.h>

/* Parses the decimal digits in s[0..len), refusing empty, non-digit and
 * overflowing input. Leading zeros are harmless and accepted. */
static int parse_digits(const char *s, size_t len, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (len == 0 || len > 20)
        return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (max - d) / 10)
            return -EINVAL;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int nbd_parse_u32(const char *s, uint32_t max, uint32_t *out)
{
    uint64_t v;

    if (!s || parse_digits(s, strlen(s), max, &v))
        return -EINVAL;
    *out = (uint32_t)v;
    return 0;
}

int nbd_parse_u64(const char *s, uint64_t *out)
{
    if (!s)
        return -EINVAL;
    return parse_digits(s, strlen(s), UINT64_MAX, out);
}

int nbd_parse_bool(const char *s, bool *out)
{
    if (!s || (strcmp(s, "0") && strcmp(s, "1")))
        return -EINVAL;
    *out = s[0] == '1';
    return 0;
}

static int hex_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int nbd_parse_mac(const char *s, uint8_t mac[6])
{
    uint8_t tmp[6];

    if (!s || strlen(s) != 17)
        return -EINVAL;
    for (int i = 0; i < 6; i++) {
        int hi = hex_nibble(s[i * 3]), lo = hex_nibble(s[i * 3 + 1]);
        if (hi < 0 || lo < 0 || (i < 5 && s[i * 3 + 2] != ':'))
            return -EINVAL;
        tmp[i] = (uint8_t)(hi << 4 | lo);
    }
    memcpy(mac, tmp, 6);
    return 0;
}

int nbd_parse_rate(const char *s, uint64_t *bytes, uint64_t *usecs)
{
    const char *comma;
    uint64_t b, u;

    if (!s || !(comma = strchr(s, ',')))
        return -EINVAL;
    if (parse_digits(s, (size_t)(comma - s), UINT64_MAX, &b) ||
        parse_digits(comma + 1, strlen(comma + 1), UINT64_MAX, &u))
        return -EINVAL;
    *bytes = b;
    *usecs = u;
    return 0;
}
