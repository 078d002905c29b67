/* The backend `bridge` key with a VLAN, in the syntax of Xen's
 * vif-openvswitch hotplug script (xl passes `bridge=` through verbatim):
 *   NAME            the bridge, no VLAN
 *   NAME.VID        access port on VLAN VID of bridge NAME
 *   NAME:VID[:VID]  trunk port carrying those VLANs (tagged) on NAME
 * NAME has no '.' or ':'; a VID is 1..4094 in decimal. Pure: whether a name
 * already exists as a bridge (and so keeps its literal meaning) is the
 * caller's business (bridges.c). */
#ifndef NBD_BRIDGE_KEY_H
#define NBD_BRIDGE_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "bridge/port.h"

#define NBD_BRIDGE_KEY_NAME_MAX 64   /* with the NUL, like a bridge name */
#define NBD_BRIDGE_KEY_TRUNK_MAX 64  /* VLANs one trunk vif may carry */

struct nbd_bridge_key {
    char name[NBD_BRIDGE_KEY_NAME_MAX];   /* the bridge to join */
    enum nb_vlan_mode mode;               /* NONE, ACCESS (vids[0]) or TRUNK */
    unsigned n_vids;
    uint16_t vids[NBD_BRIDGE_KEY_TRUNK_MAX]; /* in the key's order */
};

/* Parses s into out. A value without '.' or ':' is a plain name (mode NONE).
 * -EINVAL, with the reason in err, for anything else that is not exactly
 * one of the forms above: empty parts, non-digits, a VID out of 1..4094 or
 * of more than 4 digits, a repeated trunk VID, more than
 * NBD_BRIDGE_KEY_TRUNK_MAX of them, both an access VID and trunk VIDs
 * (OVS's "NAME.VID:VID..."; netbackd has no native-VLAN trunk), a name too
 * long. On error *out is all zero (mode NONE, no name). */
int nbd_parse_bridge_key(const char *s, struct nbd_bridge_key *out, char *err, size_t errlen);

/* The VLAN part alone as the key writes it (".10", ":10:20", "" for NONE),
 * for logs. */
void nbd_bridge_key_vlan_str(const struct nbd_bridge_key *k, char *buf, size_t cap);

#endif
