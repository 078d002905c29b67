#include "bridge/port_tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bridge/bridge.h"
#include "bridge/vnet_hdr.h"

struct tap {
    struct nb_port port;
    int fd;
    int stop_fd;                 /* eventfd: wakes the receive thread to exit */
    struct nb_pkt_pool *pool;
    struct nb_bridge *bridge;    /* captured at start, for the receive thread */
    pthread_t rx_thread;
    bool running;
    char ifname[IFNAMSIZ];
    /* The receive thread reads each frame into spare, a packet with room
     * for the largest: a big (GSO) frame is handed on as it is, without a
     * copy, and a new spare taken; a small one is copied into a packet of
     * its size and spare stays. Without a spare (the pool ran dry) the
     * frame lands in scratch and is copied out if the pool has a buffer
     * of its size, else dropped and counted. */
    struct nb_pkt *spare;
    uint8_t scratch[NB_PKT_MAX_LEN + 1];
};

/* Frames up to this size are copied out of spare into a packet of their
 * own size (a standard frame's buffer); larger ones travel in spare. */
#define TAP_COPY_MAX 2048u

static struct tap *tap_of(struct nb_port *port)
{
    return (struct tap *)port;
}

static void tap_tx_burst(struct nb_port *port, struct nb_pkt **pkts, unsigned n)
{
    struct tap *t = tap_of(port);
    unsigned full = 0, down = 0;

    for (unsigned i = 0; i < n; i++) {
        struct virtio_net_hdr h;
        struct iovec iov[2] = {
            { .iov_base = &h, .iov_len = sizeof(h) },
            { .iov_base = pkts[i]->data, .iov_len = pkts[i]->len },
        };
        nb_pkt2vnethdr(pkts[i], &h);
        /* One writev is one frame: no lock needed between senders. */
        if (writev(t->fd, iov, 2) < 0) {
            if (errno == EAGAIN || errno == ENOBUFS)
                full++;
            else
                down++;        /* EIO: the device is down */
        }
    }
    nb_pkt_free_burst(pkts, n);
    if (full)
        nb_port_count_drop(port, NB_DROP_NO_BUFFER, full);
    if (down)
        nb_port_count_drop(port, NB_DROP_LINK_DOWN, down);
}

/* Reads what is ready (up to a burst) into packets. */
static unsigned tap_read_burst(struct tap *t, struct nb_pkt **pkts, unsigned *bad)
{
    unsigned n = 0;

    while (n < NB_BURST) {
        struct virtio_net_hdr h;
        struct nb_pkt *p;

        if (!t->spare)
            t->spare = nb_pkt_alloc(t->pool, NB_PKT_MAX_LEN);
        /* One byte more than the largest packet: a longer frame is seen
         * as such (and dropped), not cut to size. */
        uint8_t *dst = t->scratch;
        if (t->spare && t->spare->buf_size - NB_PKT_HEADROOM >= sizeof(t->scratch))
            dst = t->spare->data;
        struct iovec iov[2] = {
            { .iov_base = &h, .iov_len = sizeof(h) },
            { .iov_base = dst, .iov_len = sizeof(t->scratch) },
        };
        ssize_t r = readv(t->fd, iov, 2);
        if (r < 0)
            break;                                   /* EAGAIN: drained */
        if ((size_t)r <= sizeof(h)) {
            (*bad)++;
            continue;
        }
        uint32_t len = (uint32_t)((size_t)r - sizeof(h));
        if (len > NB_PKT_MAX_LEN) {
            (*bad)++;
            continue;
        }
        bool whole = dst != t->scratch && len > TAP_COPY_MAX;
        if (whole) {
            p = t->spare;
            p->len = len;
            t->spare = NULL;
        } else if ((p = nb_pkt_alloc(t->pool, len))) {
            memcpy(p->data, dst, len);
        } else {
            nb_port_count_drop(&t->port, NB_DROP_NO_BUFFER, 1);
            continue;
        }
        if (nb_vnethdr2pkt(&h, p) != 0) {
            if (whole)
                t->spare = p;                        /* still ours: keep it */
            else
                nb_pkt_free(p);
            (*bad)++;
            continue;
        }
        pkts[n++] = p;
    }
    return n;
}

static void *tap_rx_main(void *arg)
{
    struct tap *t = arg;
    struct pollfd pfd[2] = {
        { .fd = t->fd, .events = POLLIN },
        { .fd = t->stop_fd, .events = POLLIN },
    };

    for (;;) {
        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pfd[1].revents)
            break;
        if (pfd[0].revents & (POLLERR | POLLHUP | POLLNVAL))
            break;
        struct nb_pkt *pkts[NB_BURST];
        unsigned bad = 0, n = tap_read_burst(t, pkts, &bad);
        if (bad)
            nb_port_count_drop(&t->port, NB_DROP_MALFORMED, bad);
        if (n)
            nb_bridge_input(t->bridge, &t->port, pkts, n);
    }
    return NULL;
}

static void tap_stop(struct tap *t)
{
    if (!t->running)
        return;
    eventfd_write(t->stop_fd, 1);
    pthread_join(t->rx_thread, NULL);
    t->running = false;
}

void nb_tap_port_free(struct nb_port *port)
{
    struct tap *t = tap_of(port);

    tap_stop(t);
    if (t->spare)
        nb_pkt_free(t->spare);
    if (t->fd >= 0)
        close(t->fd);
    if (t->stop_fd >= 0)
        close(t->stop_fd);
    free(t);
}

static void tap_destroy(struct nb_port *port)
{
    nb_tap_port_free(port);
}

static const struct nb_port_ops tap_ops = {
    .kind = "tap",
    .tx_burst = tap_tx_burst,
    .destroy = tap_destroy,
};

/* Sets the interface flags (up) and MTU, and joins a Linux bridge, with
 * the classic socket ioctls (what brctl and ifconfig use). */
static int tap_configure(const char *ifname, const struct nb_tap_config *cfg)
{
    struct ifreq ifr;
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

    if (s < 0)
        return -errno;
    if (cfg->mtu) {
        memset(&ifr, 0, sizeof(ifr));
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
        ifr.ifr_mtu = (int)cfg->mtu;
        if (ioctl(s, SIOCSIFMTU, &ifr) < 0) {
            rc = -errno;
            goto out;
        }
    }
    if (cfg->linux_bridge && cfg->linux_bridge[0]) {
        memset(&ifr, 0, sizeof(ifr));
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", cfg->linux_bridge);
        ifr.ifr_ifindex = (int)if_nametoindex(ifname);
        if (ifr.ifr_ifindex == 0 || ioctl(s, SIOCBRADDIF, &ifr) < 0) {
            rc = ifr.ifr_ifindex == 0 ? -ENOENT : -errno;   /* ENODEV: no such bridge */
            goto out;
        }
    }
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
        rc = -errno;
        goto out;
    }
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
        rc = -errno;
out:
    close(s);
    return rc;
}

int nb_tap_port_new(const struct nb_tap_config *cfg, struct nb_pkt_pool *pool,
                    struct nb_port **out)
{
    struct tap *t;
    struct ifreq ifr = { 0 };
    unsigned offload = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
    int hdr_size = sizeof(struct virtio_net_hdr), rc;

    if (cfg->ifname && strlen(cfg->ifname) >= IFNAMSIZ)
        return -ENAMETOOLONG;
    t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    t->stop_fd = -1;
    t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (t->fd < 0) {
        rc = -errno;
        goto fail;
    }
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    if (cfg->ifname)
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", cfg->ifname);
    if (ioctl(t->fd, TUNSETIFF, &ifr) < 0 ||
        ioctl(t->fd, TUNSETVNETHDRSZ, &hdr_size) < 0) {
        rc = -errno;
        goto fail;
    }
    /* What the kernel may hand us: with TSO it sends 64 KiB GSO frames,
     * which the bridge segments for any port that cannot take them. */
    if (cfg->no_offload)
        offload = 0;
    if (ioctl(t->fd, TUNSETOFFLOAD, offload) < 0) {
        rc = -errno;
        goto fail;
    }
    snprintf(t->ifname, sizeof(t->ifname), "%s", ifr.ifr_name);
    rc = tap_configure(t->ifname, cfg);
    if (rc)
        goto fail;
    t->stop_fd = eventfd(0, EFD_CLOEXEC);
    if (t->stop_fd < 0) {
        rc = -errno;
        goto fail;
    }
    t->pool = pool;
    t->port.ops = &tap_ops;
    t->port.priv = t;
    snprintf(t->port.name, sizeof(t->port.name), "%s", t->ifname);
    /* The kernel finishes checksums and segments whatever we write. */
    t->port.offloads = NB_PORT_OFF_CSUM | NB_PORT_OFF_TSO4 | NB_PORT_OFF_TSO6;
    *out = &t->port;
    return 0;
fail:
    nb_tap_port_free(&t->port);
    return rc;
}

int nb_tap_port_start(struct nb_port *port)
{
    struct tap *t = tap_of(port);
    int rc;

    if (!port->bridge)
        return -ENOTCONN;
    if (t->running)
        return -EALREADY;
    t->bridge = port->bridge;
    rc = pthread_create(&t->rx_thread, NULL, tap_rx_main, t);
    if (rc)
        return -rc;
    t->running = true;
    return 0;
}

const char *nb_tap_port_ifname(const struct nb_port *port)
{
    return ((const struct tap *)port)->ifname;
}
