/* Parser of the `bridge` key's VLAN syntax (see bridge_key.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backend/bridge_key.h"

/* One VID: 1..4 decimal digits, 1..4094, ending at *end (the next '.',
 * ':' or NUL). */
static int parse_vid(const char *s, const char **end, uint16_t *vid)
{
    unsigned v = 0, n = 0;

    while (s[n] >= '0' && s[n] <= '9') {
        if (n == 4)
            return -EINVAL;
        v = v * 10 + (unsigned)(s[n] - '0');
        n++;
    }
    if (n == 0 || v < 1 || v > 4094)
        return -EINVAL;
    *end = s + n;
    *vid = (uint16_t)v;
    return 0;
}

static int parse_key(const char *s, struct nbd_bridge_key *out, char *err, size_t errlen)
{
    size_t name_len = strcspn(s, ".:");
    const char *p = s + name_len;
    uint16_t vid;

    memset(out, 0, sizeof(*out));
    if (name_len == 0) {
        snprintf(err, errlen, "no bridge name before the VLAN");
        return -EINVAL;
    }
    if (name_len >= sizeof(out->name)) {
        snprintf(err, errlen, "bridge name longer than %zu bytes", sizeof(out->name) - 1);
        return -EINVAL;
    }
    memcpy(out->name, s, name_len);
    if (*p == '.') {
        if (parse_vid(p + 1, &p, &vid)) {
            snprintf(err, errlen, "access VLAN after '.': not a VID of 1..4094");
            return -EINVAL;
        }
        if (*p == ':') {
            snprintf(err, errlen, "both an access VLAN and trunk VLANs: not supported");
            return -EINVAL;
        }
        if (*p) {
            snprintf(err, errlen, "junk after the access VLAN");
            return -EINVAL;
        }
        out->mode = NB_VLAN_ACCESS;
        out->vids[out->n_vids++] = vid;
        return 0;
    }
    while (*p == ':') {
        if (parse_vid(p + 1, &p, &vid)) {
            snprintf(err, errlen, "trunk VLAN %u: not a VID of 1..4094", out->n_vids + 1);
            return -EINVAL;
        }
        for (unsigned i = 0; i < out->n_vids; i++)
            if (out->vids[i] == vid) {
                snprintf(err, errlen, "trunk VLAN %u given twice", vid);
                return -EINVAL;
            }
        if (out->n_vids == NBD_BRIDGE_KEY_TRUNK_MAX) {
            snprintf(err, errlen, "more than %d trunk VLANs", NBD_BRIDGE_KEY_TRUNK_MAX);
            return -EINVAL;
        }
        out->vids[out->n_vids++] = vid;
        out->mode = NB_VLAN_TRUNK;
    }
    if (*p) {
        snprintf(err, errlen, "junk after the trunk VLANs");
        return -EINVAL;
    }
    return 0;
}

int nbd_parse_bridge_key(const char *s, struct nbd_bridge_key *out, char *err, size_t errlen)
{
    int rc = parse_key(s, out, err, errlen);

    if (rc)   /* nothing half-parsed for a vif that fails */
        memset(out, 0, sizeof(*out));
    return rc;
}

void nbd_bridge_key_vlan_str(const struct nbd_bridge_key *k, char *buf, size_t cap)
{
    size_t off = 0;

    if (cap)
        buf[0] = 0;
    for (unsigned i = 0; i < k->n_vids && k->mode != NB_VLAN_NONE && off < cap; i++) {
        int n = snprintf(buf + off, cap - off, "%c%u", k->mode == NB_VLAN_ACCESS ? '.' : ':',
                         k->vids[i]);
        if (n < 0)
            break;
        off += (size_t)n;
    }
}
