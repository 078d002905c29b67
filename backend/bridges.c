/* The bridges vifs join. A vif's `bridge` key (what xl writes from
 * `bridge=` in the vif spec) names either one of netbackd's bridges, or a
 * Linux bridge in dom0 as it does for the kernel netback. For the latter,
 * netbackd plays the kernel's part and xl's vif-bridge script's at once: a
 * tap named vif<domid>.<devid> like the kernel's netdev, enslaved to the
 * Linux bridge and up, joined to the vif through a private bridge of two
 * ports. Anything else becomes a netbackd bridge on first use. A key in
 * the VLAN syntax of vif-openvswitch (bridge_key.h) puts the vif on a VLAN
 * of a netbackd bridge, unless the whole key names a bridge itself. */
#include <errno.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend/log.h"
#include "backend/netbackd.h"
#include "backend/bridge_key.h"
#include "backend/plane.h"
#include "backend/vif.h"
#include "bridge/port_tap.h"
#include "bridge/switchboard.h"

/* One vif on a Linux bridge: the tap and the private bridge joining them. */
struct nbd_vif_tap {
    struct nbd_vif_tap *next;
    char vif[32];                    /* the vif's name, vif<domid>.<devid> */
    char bridge[NB_BRIDGE_NAME_MAX]; /* private: "<vif>@<linux bridge>" */
    struct nb_bridge *br;
    struct nb_port *tap;
};

struct nb_bridge *nbd_bridge_get(struct nbd_ctx *ctx, const char *name)
{
    struct nb_bridge *br = nb_switchboard_find(ctx->sb, name);
    int rc;

    if (br)
        return br;
    rc = nb_switchboard_create(ctx->sb, name, NULL, &br);
    if (rc && rc != -EEXIST) {
        errno = -rc;
        return NULL;
    }
    if (!rc)
        nbd_log(NBD_LOG_INFO, "bridge %s created", name);
    return br;
}

/* Whether dom0 has a Linux bridge of that name. The name comes from
 * xenstore: only something that can be an interface name is looked up. */
static bool linux_bridge_exists(const char *name)
{
    char path[64];

    if (!name[0] || strlen(name) >= IFNAMSIZ || strchr(name, '/') || !strcmp(name, ".") ||
        !strcmp(name, ".."))
        return false;
    snprintf(path, sizeof(path), "/sys/class/net/%s/bridge", name);
    return access(path, F_OK) == 0;
}

/* The kernel netback gives every vifX.Y the address fe:ff:ff:ff:ff:ff, the
 * highest there is, so that a Linux bridge, which takes the lowest address
 * of its ports as its own, never changes address as guests come and go.
 * The tap gets it before it joins lbr for the same reason. */
static int tap_enslave(const char *ifname, const char *lbr)
{
    static const unsigned char vif_mac[6] = { 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff };
    struct ifreq ifr;
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

    if (s < 0)
        return -errno;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
    ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
    memcpy(ifr.ifr_hwaddr.sa_data, vif_mac, sizeof(vif_mac));
    if (ioctl(s, SIOCSIFHWADDR, &ifr) < 0)
        rc = -errno;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", lbr);
    ifr.ifr_ifindex = (int)if_nametoindex(ifname);
    if (!rc && (ifr.ifr_ifindex == 0 || ioctl(s, SIOCBRADDIF, &ifr) < 0))
        rc = ifr.ifr_ifindex == 0 ? -ENOENT : -errno;
    close(s);
    return rc;
}

static void vif_tap_free(struct nbd_ctx *ctx, struct nbd_vif_tap *vt)
{
    int rc;

    if (vt->tap)
        nb_bridge_del_port(vt->br, vt->tap);   /* closing the tap takes it off the Linux bridge */
    if (vt->br && (rc = nb_switchboard_remove(ctx->sb, vt->bridge)))
        nbd_log(NBD_LOG_WARN, "bridge %s: cannot remove: %s", vt->bridge, strerror(-rc));
    free(vt);
}

/* The tap vif<domid>.<devid> on Linux bridge lbr and the private bridge it
 * shares with vif. */
static struct nb_bridge *vif_tap_new(struct nbd_ctx *ctx, struct nbd_vif *vif, const char *lbr,
                                     char *err, size_t errlen)
{
    struct nbd_vif_tap *vt = calloc(1, sizeof(*vt));
    /* joins lbr only once it has the vif address (tap_enslave) */
    struct nb_tap_config tc = { .ifname = vif->name,
                                .mtu = vif->mtu >= 68 && vif->mtu <= 65535 ? vif->mtu : 0 };
    int rc;

    if (!vt) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(vt->vif, sizeof(vt->vif), "%s", vif->name);
    snprintf(vt->bridge, sizeof(vt->bridge), "%s@%s", vif->name, lbr);
    if (strlen(vif->name) >= IFNAMSIZ) {
        snprintf(err, errlen, "tap %s for Linux bridge %s: longer than an interface name",
                 vif->name, lbr);
        free(vt);
        return NULL;
    }
    if ((rc = nb_switchboard_create(ctx->sb, vt->bridge, NULL, &vt->br))) {
        snprintf(err, errlen, "bridge %s: %s", vt->bridge,
                 rc == -EEXIST ? "exists already" : strerror(-rc));
        vt->br = NULL;   /* someone else's */
        vif_tap_free(ctx, vt);
        return NULL;
    }
    if ((rc = nb_tap_port_new(&tc, ctx->plane->pool, &vt->tap))) {
        snprintf(err, errlen, "tap %s on Linux bridge %s: %s", vif->name, lbr, strerror(-rc));
        vt->tap = NULL;
        vif_tap_free(ctx, vt);
        return NULL;
    }
    if ((rc = tap_enslave(vif->name, lbr))) {
        snprintf(err, errlen, "tap %s: cannot join Linux bridge %s: %s", vif->name, lbr,
                 strerror(-rc));
        nb_tap_port_free(vt->tap);
        vt->tap = NULL;
        vif_tap_free(ctx, vt);
        return NULL;
    }
    /* The vif's own port is named vif<domid>.<devid> too. */
    snprintf(vt->tap->name, sizeof(vt->tap->name), "%s-tap", vif->name);
    if ((rc = nb_bridge_add_port(vt->br, vt->tap))) {
        snprintf(err, errlen, "bridge %s: adding tap %s: %s", vt->bridge, vif->name,
                 strerror(-rc));
        nb_tap_port_free(vt->tap);
        vt->tap = NULL;
        vif_tap_free(ctx, vt);
        return NULL;
    }
    if ((rc = nb_tap_port_start(vt->tap))) {
        snprintf(err, errlen, "tap %s: cannot start: %s", vif->name, strerror(-rc));
        vif_tap_free(ctx, vt);
        return NULL;
    }
    vt->next = ctx->plane->vif_taps;
    ctx->plane->vif_taps = vt;
    return vt->br;
}

/* A bridge the key may name literally: a netbackd one, or a Linux one that
 * would get the vif-bridge layout. */
static bool bridge_exists(struct nbd_ctx *ctx, const char *name)
{
    return nb_switchboard_find(ctx->sb, name) ||
           (ctx->set.linux_bridge_taps && ctx->plane && linux_bridge_exists(name));
}

int nbd_bridge_key_resolve(struct nbd_ctx *ctx, const char *key, struct nbd_bridge_key *out,
                           char *err, size_t errlen)
{
    char why[96];

    if (bridge_exists(ctx, key) || !key[strcspn(key, ".:")]) {
        memset(out, 0, sizeof(*out));
        snprintf(out->name, sizeof(out->name), "%s", key);
        return 0;
    }
    if (nbd_parse_bridge_key(key, out, why, sizeof(why))) {
        snprintf(err, errlen, "bridge \"%.64s\": %s", key, why);
        return -EINVAL;
    }
    /* A Linux bridge's VLANs are its own business (bridge vlan filtering);
     * netbackd would have to tag on the tap, which xl's vif-bridge never
     * did either. Refused rather than silently untagged. */
    if (!nb_switchboard_find(ctx->sb, out->name) && ctx->set.linux_bridge_taps && ctx->plane &&
        linux_bridge_exists(out->name)) {
        snprintf(err, errlen, "bridge \"%.64s\": %s is a Linux bridge: VLANs are supported on "
                 "netbackd bridges only", key, out->name);
        memset(out, 0, sizeof(*out));
        return -EINVAL;
    }
    return 0;
}

struct nb_bridge *nbd_bridge_for_vif(struct nbd_ctx *ctx, struct nbd_vif *vif, char *err,
                                     size_t errlen)
{
    const char *name;
    struct nb_bridge *br;
    char vlan[NBD_BRIDGE_KEY_TRUNK_MAX * 5 + 1];

    nbd_bridge_vif_left(ctx, vif);   /* a reconnect starts afresh */
    /* Again: bridges may have come or gone since the device appeared. */
    if (nbd_bridge_key_resolve(ctx, vif->bridge_name, &vif->vlan, err, errlen))
        return NULL;
    name = vif->vlan.name;
    nbd_bridge_key_vlan_str(&vif->vlan, vlan, sizeof(vlan));
    if (vif->vlan.mode != NB_VLAN_NONE) {
        if (!(br = nbd_bridge_get(ctx, name))) {
            snprintf(err, errlen, "bridge %s: %s", name, strerror(errno));
            return NULL;
        }
        nbd_log(NBD_LOG_INFO, "%s: joins netbackd bridge %s as %s port, VLAN %s", vif->name,
                name, vif->vlan.mode == NB_VLAN_ACCESS ? "access" : "trunk", vlan + 1);
        return br;
    }
    if ((br = nb_switchboard_find(ctx->sb, name))) {
        nbd_log(NBD_LOG_INFO, "%s: joins netbackd bridge %s", vif->name, name);
        return br;
    }
    if (ctx->set.linux_bridge_taps && ctx->plane && linux_bridge_exists(name)) {
        if ((br = vif_tap_new(ctx, vif, name, err, errlen)))
            nbd_log(NBD_LOG_INFO, "%s: Linux bridge %s: tap %s enslaved to it, bridge %s",
                    vif->name, name, vif->name, nb_bridge_name(br));
        return br;
    }
    if (!(br = nbd_bridge_get(ctx, name))) {
        snprintf(err, errlen, "bridge %s: %s", name, strerror(errno));
        return NULL;
    }
    nbd_log(NBD_LOG_INFO, "%s: joins netbackd bridge %s (new)", vif->name, name);
    return br;
}

void nbd_bridge_vif_left(struct nbd_ctx *ctx, struct nbd_vif *vif)
{
    if (!ctx->plane)
        return;
    for (struct nbd_vif_tap **pp = &ctx->plane->vif_taps; *pp; pp = &(*pp)->next)
        if (!strcmp((*pp)->vif, vif->name)) {
            struct nbd_vif_tap *vt = *pp;
            *pp = vt->next;
            nbd_log(NBD_LOG_INFO, "%s: tap %s and bridge %s removed", vif->name, vif->name,
                    vt->bridge);
            vif_tap_free(ctx, vt);
            return;
        }
}

void nbd_bridge_vif_mtu(struct nbd_ctx *ctx, struct nbd_vif *vif)
{
    struct ifreq ifr;
    int s;

    if (!ctx->plane)
        return;
    for (struct nbd_vif_tap *vt = ctx->plane->vif_taps; vt; vt = vt->next) {
        if (strcmp(vt->vif, vif->name))
            continue;
        memset(&ifr, 0, sizeof(ifr));
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%.*s", (int)sizeof(ifr.ifr_name) - 1,
                 vt->vif);
        ifr.ifr_mtu = (int)vif->mtu;
        s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s < 0 || ioctl(s, SIOCSIFMTU, &ifr) < 0)
            nbd_log(NBD_LOG_WARN, "%s: tap mtu %u: %s", vif->name, vif->mtu, strerror(errno));
        else
            nbd_log(NBD_LOG_INFO, "%s: tap mtu %u", vif->name, vif->mtu);
        if (s >= 0)
            close(s);
        return;
    }
}

void nbd_bridge_vif_taps_free(struct nbd_ctx *ctx)
{
    while (ctx->plane && ctx->plane->vif_taps) {
        struct nbd_vif_tap *vt = ctx->plane->vif_taps;
        ctx->plane->vif_taps = vt->next;
        vif_tap_free(ctx, vt);
    }
}
