/* A tap port in a Linux bridge, in a private network namespace: the real
 * `ping` pings an address that a responder port on the same nb_bridge
 * owns (it answers ARP and ICMP echo), and a capture on the tap port shows
 * the exchange. Needs root, `ip` and `ping`. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>

#include "bridge/bridge.h"
#include "bridge/capture.h"
#include "bridge/offload.h"
#include "bridge/port_dummy.h"
#include "bridge/port_tap.h"
#include "bridge/vnet_hdr.h"
#include "tests/bridge/frames.h"

static const uint8_t RESP_MAC[6] = { 0x02, 0x4e, 0x42, 0, 0, 0x02 };
static const uint8_t RESP_IP[4] = { 192, 0, 2, 2 };

struct responder {
    struct nb_bridge *br;
    struct nb_pkt_pool *pool;
    unsigned arp_replies, echo_replies;
};

static void answer(struct responder *r, struct nb_port *port, struct nb_pkt *reply)
{
    nb_bridge_input(r->br, port, &reply, 1);
}

static void answer_arp(struct responder *r, struct nb_port *port, const uint8_t *req)
{
    const uint8_t *arp = req + 14;
    struct nb_pkt *p;

    if (get16(arp + 6) != 1 || memcmp(arp + 24, RESP_IP, 4) != 0)
        return;
    p = nb_pkt_alloc(r->pool, 60);
    if (!p)
        return;
    memset(p->data, 0, 60);
    memcpy(p->data, arp + 8, 6);                 /* to the asker */
    memcpy(p->data + 6, RESP_MAC, 6);
    put16(p->data + 12, 0x0806);
    memcpy(p->data + 14, arp, 6);                /* htype, ptype, hlen, plen */
    put16(p->data + 20, 2);                      /* reply */
    memcpy(p->data + 22, RESP_MAC, 6);
    memcpy(p->data + 28, RESP_IP, 4);
    memcpy(p->data + 32, arp + 8, 10);           /* their MAC and IP */
    __atomic_fetch_add(&r->arp_replies, 1, __ATOMIC_RELAXED);   /* the tap's thread */
    answer(r, port, p);
}

static void answer_echo(struct responder *r, struct nb_port *port, const struct nb_pkt *req)
{
    const uint8_t *ip = req->data + 14;
    uint32_t ihl = (ip[0] & 0xfu) * 4u, tot = get16(ip + 2);
    struct nb_pkt *p;
    uint8_t *rip, *icmp;

    if (ip[9] != 1 || memcmp(ip + 16, RESP_IP, 4) != 0 || 14 + tot > req->len ||
        ip[ihl] != 8)
        return;
    p = nb_pkt_alloc(r->pool, 14 + tot);
    if (!p)
        return;
    memcpy(p->data, req->data + 6, 6);
    memcpy(p->data + 6, RESP_MAC, 6);
    put16(p->data + 12, 0x0800);
    rip = p->data + 14;
    memcpy(rip, ip, tot);
    memcpy(rip + 12, ip + 16, 4);
    memcpy(rip + 16, ip + 12, 4);
    rip[8] = 64;
    put16(rip + 10, 0);
    put16(rip + 10, (uint16_t)~ref_sum(0, rip, ihl));
    icmp = rip + ihl;
    icmp[0] = 0;                                 /* echo reply */
    put16(icmp + 2, 0);
    put16(icmp + 2, (uint16_t)~ref_sum(0, icmp, tot - ihl));
    __atomic_fetch_add(&r->echo_replies, 1, __ATOMIC_RELAXED);
    answer(r, port, p);
}

static void responder_hook(struct nb_port *port, struct nb_pkt *pkt, void *ctx)
{
    struct responder *r = ctx;

    if (pkt->len < 42)
        return;
    if (get16(pkt->data + 12) == 0x0806)
        answer_arp(r, port, pkt->data);
    else if (get16(pkt->data + 12) == 0x0800 && pkt->len >= 14 + 28)
        answer_echo(r, port, pkt);
}

static int count_icmp(const char *path, uint8_t type)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(path, err);
    struct pcap_pkthdr *h;
    const u_char *d;
    int n = 0;

    if (!pc)
        return -1;
    while (pcap_next_ex(pc, &h, &d) == 1)
        if (h->caplen >= 14 + 20 + 8 && get16(d + 12) == 0x0800 && d[14 + 9] == 1 &&
            d[14 + (d[14] & 0xf) * 4] == type)
            n++;
    pcap_close(pc);
    return n;
}

static int run(const char *cmd)
{
    int rc = system(cmd);
    return rc == -1 ? -1 : WEXITSTATUS(rc);
}

/* A private namespace with the Linux bridge nbtbr0 (192.0.2.1/24), our
 * tap nbtap0 in it, and the responder (192.0.2.2) on the same nb_bridge. */
struct netns {
    struct nb_pkt_pool *pool;
    struct nb_bridge *br;
    struct nb_port *tap, *resp;
    struct responder r;
    struct udp_seen {
        unsigned n, csum_ok, payload_ok;
        unsigned last_len;      /* UDP payload bytes of the last one */
    } udp;
};

static void udp_hook(struct nb_port *port, struct nb_pkt *pkt, void *ctx);

static int netns_setup(void **state)
{
    struct netns *ns = calloc(1, sizeof(*ns));
    struct nb_tap_config cfg = { .ifname = "nbtap0", .linux_bridge = "nbtbr0" };

    *state = ns;
    /* Without root, iproute2, ping, namespaces or tun the tests skip. */
    if (geteuid() != 0 || run("command -v ip >/dev/null && command -v ping >/dev/null") != 0 ||
        unshare(CLONE_NEWNET) != 0 || access("/dev/net/tun", R_OK | W_OK) != 0)
        return 0;
    if (run("ip link add nbtbr0 type bridge && "
            "ip addr add 192.0.2.1/24 dev nbtbr0 && ip link set nbtbr0 up") != 0)
        return -1;
    ns->pool = nb_pkt_pool_new("tap", 4096);
    ns->br = nb_bridge_new("nb0", NULL);
    ns->r.br = ns->br;
    ns->r.pool = ns->pool;
    if (nb_tap_port_new(&cfg, ns->pool, &ns->tap) != 0)
        return -1;
    ns->resp = nb_dummy_port_new("responder", 0);
    nb_dummy_port_set_hook(ns->resp, udp_hook, ns);
    if (nb_bridge_add_port(ns->br, ns->tap) || nb_bridge_add_port(ns->br, ns->resp) ||
        nb_tap_port_start(ns->tap))
        return -1;
    return 0;
}

static int netns_teardown(void **state)
{
    struct netns *ns = *state;

    if (ns->br) {
        assert_int_equal(nb_bridge_del_port(ns->br, ns->tap), 0);
        nb_bridge_free(ns->br);
        assert_int_equal(nb_pkt_pool_in_use(ns->pool), 0);
        nb_pkt_pool_free(ns->pool);
    }
    free(ns);
    return 0;
}

/* The responder's hook: answers ARP/ping, and checks UDP datagrams to
 * 192.0.2.2:7777 arrive with a correct checksum (the port takes no
 * offloads, so the bridge must have completed any the kernel left). */
static void udp_hook(struct nb_port *port, struct nb_pkt *pkt, void *ctx)
{
    struct netns *ns = ctx;
    const uint8_t *ip = pkt->data + 14;

    responder_hook(port, pkt, &ns->r);
    if (pkt->len >= 14 + 28 && get16(pkt->data + 12) == 0x0800 && ip[9] == 17 &&
        memcmp(ip + 16, RESP_IP, 4) == 0 && get16(ip + (ip[0] & 0xf) * 4 + 2) == 7777) {
        const uint8_t *udp = ip + (ip[0] & 0xf) * 4;
        unsigned plen = get16(udp + 4) - 8u, i;

        if (!(pkt->flags & NB_PKT_CSUM_PARTIAL) && nb_offload_csum_verify(pkt) == 0)
            __atomic_fetch_add(&ns->udp.csum_ok, 1, __ATOMIC_RELAXED);
        /* The senders fill payload byte i with i * 13. */
        for (i = 0; i < plen && udp + 8 + i < pkt->data + pkt->len; i++)
            if (udp[8 + i] != (uint8_t)(i * 13))
                break;
        if (i == plen && pkt->len == (unsigned)(udp + 8 + plen - pkt->data))
            __atomic_fetch_add(&ns->udp.payload_ok, 1, __ATOMIC_RELAXED);
        __atomic_store_n(&ns->udp.last_len, plen, __ATOMIC_RELAXED);
        __atomic_fetch_add(&ns->udp.n, 1, __ATOMIC_RELEASE);
    }
}

static void nb_tap_port_new_ping_through_linux_bridge(void **state)
{
    struct netns *ns = *state;
    struct nb_capture *cap, *old;
    char dir[] = "/tmp/nb-tap-XXXXXX", path[64];
    int err = 0;

    if (!ns->br)
        skip();                                  /* needs root, ip, ping, netns, tun */
    /* (sysfs still shows the old namespace: ask iproute2.) */
    assert_string_equal(nb_tap_port_ifname(ns->tap), "nbtap0");
    assert_int_equal(run("ip -o link show nbtap0 | grep -q 'master nbtbr0'"), 0);

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/tap.pcap", dir);
    cap = nb_capture_open(path, 0, &err);
    assert_non_null(cap);
    assert_int_equal(nb_bridge_set_capture(ns->br, ns->tap, cap, &old), 0);

    /* -W bounds a lost reply, it is not a speed check. */
    assert_int_equal(run("ping -c 3 -i 0.2 -W 5 192.0.2.2 >/dev/null"), 0);

    assert_int_equal(nb_bridge_set_capture(ns->br, ns->tap, NULL, &old), 0);
    nb_capture_close(cap);
    assert_true(__atomic_load_n(&ns->r.arp_replies, __ATOMIC_RELAXED) >= 1);
    assert_true(__atomic_load_n(&ns->r.echo_replies, __ATOMIC_RELAXED) >= 3);
    assert_ptr_equal(nb_bridge_fdb_lookup(ns->br, RESP_MAC, 0), ns->resp);
    /* Both directions are in the capture. */
    assert_true(count_icmp(path, 8) >= 3);
    assert_true(count_icmp(path, 0) >= 3);
    if (run("command -v tshark >/dev/null") == 0) {
        char cmd[256];
        snprintf(cmd, sizeof(cmd),
                 "test $(tshark -r %s -Y 'icmp.type == 0 && ip.src == 192.0.2.2' 2>/dev/null"
                 " | wc -l) -ge 3", path);
        assert_int_equal(run(cmd), 0);
    }
    unlink(path);
    rmdir(dir);
}

/* A UDP datagram with its checksum left to the receiver (CSUM_PARTIAL),
 * from the responder to the namespace's socket at 192.0.2.1:9999. */
static struct nb_pkt *udp_to_namespace(struct netns *ns, const uint8_t dst_mac[6],
                                       const uint8_t *payload, unsigned len)
{
    struct nb_pkt *p = nb_pkt_alloc(ns->pool, 14 + 20 + 8 + len);
    uint8_t *ip = p->data + 14, *udp = ip + 20;

    memset(p->data, 0, 14 + 28);
    memcpy(p->data, dst_mac, 6);
    memcpy(p->data + 6, RESP_MAC, 6);
    put16(p->data + 12, 0x0800);
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)(28 + len));
    ip[8] = 64;
    ip[9] = 17;
    memcpy(ip + 12, RESP_IP, 4);
    ip[16] = 192; ip[17] = 0; ip[18] = 2; ip[19] = 1;
    put16(ip + 10, (uint16_t)~ref_sum(0, ip, 20));
    put16(udp, 5555);
    put16(udp + 2, 9999);
    put16(udp + 4, (uint16_t)(8 + len));
    memcpy(udp + 8, payload, len);
    assert_int_equal(nb_offload_csum_setup(p, true), 0);
    return p;
}

static void nb_tap_port_new_checksum_offload_both_ways(void **state)
{
    struct netns *ns = *state;
    struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(9999) };
    struct sockaddr_in peer = { .sin_family = AF_INET, .sin_port = htons(7777) };
    struct ifreq ifr = { 0 };
    uint8_t payload[1000], got[2000];
    struct pollfd pfd;
    int s;

    if (!ns->br)
        skip();                                  /* needs root, ip, ping, netns, tun */
    for (unsigned i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)(i * 13);
    s = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(s >= 0);
    inet_pton(AF_INET, "192.0.2.1", &me.sin_addr);
    assert_int_equal(bind(s, (struct sockaddr *)&me, sizeof(me)), 0);
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "nbtbr0");
    assert_int_equal(ioctl(s, SIOCGIFHWADDR, &ifr), 0);

    /* Into the kernel: the vnet header tells it where the sum goes; a
     * wrong csum_start/offset would make it drop the datagram. */
    struct nb_pkt *p = udp_to_namespace(ns, (const uint8_t *)ifr.ifr_hwaddr.sa_data, payload,
                                        sizeof(payload));
    nb_bridge_input(ns->br, ns->resp, &p, 1);
    pfd = (struct pollfd){ .fd = s, .events = POLLIN };
    assert_int_equal(poll(&pfd, 1, 5000), 1);      /* bounds a lost datagram */
    assert_int_equal(recv(s, got, sizeof(got), 0), (ssize_t)sizeof(payload));
    assert_memory_equal(got, payload, sizeof(payload));

    /* Out of the kernel: whatever it leaves partial, the responder (no
     * offloads) receives complete and correct. The responder answers the
     * ARP the kernel sends first. */
    inet_pton(AF_INET, "192.0.2.2", &peer.sin_addr);
    for (int i = 0; i < 3; i++)
        assert_int_equal(sendto(s, payload, sizeof(payload), 0, (struct sockaddr *)&peer,
                                sizeof(peer)), (ssize_t)sizeof(payload));
    for (int waited = 0; __atomic_load_n(&ns->udp.n, __ATOMIC_ACQUIRE) < 3 && waited < 5000;
         waited++)
        poll(NULL, 0, 1);                          /* bounds lost datagrams */
    assert_int_equal(__atomic_load_n(&ns->udp.n, __ATOMIC_ACQUIRE), 3);
    assert_int_equal(ns->udp.csum_ok, 3);
    close(s);
}

/* Frames of every size come out of the tap whole and byte-exact: big ones
 * travel in the buffer the port read them into, small ones are copied out
 * of it (port_tap.c), so sizes alternate to take both paths and reuse the
 * buffer. One datagram at a time, each waited for. */
static void nb_tap_port_start_frames_of_any_size_arrive_whole(void **state)
{
    static const unsigned sizes[] = { 8000, 100, 60000, 3000, 2048 - 42, 2049 - 42, 64000 };
    struct netns *ns = *state;
    struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(9998) };
    struct sockaddr_in peer = { .sin_family = AF_INET, .sin_port = htons(7777) };
    static uint8_t payload[64000];
    int s;

    if (!ns->br)
        skip();                                  /* needs root, ip, ping, netns, tun */
    for (unsigned i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)(i * 13);
    /* An MTU that takes the largest datagram unfragmented. */
    assert_int_equal(run("ip link set nbtap0 mtu 65000 && ip link set nbtbr0 mtu 65000"), 0);
    s = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(s >= 0);
    inet_pton(AF_INET, "192.0.2.1", &me.sin_addr);
    assert_int_equal(bind(s, (struct sockaddr *)&me, sizeof(me)), 0);
    inet_pton(AF_INET, "192.0.2.2", &peer.sin_addr);
    for (unsigned k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        unsigned n0 = __atomic_load_n(&ns->udp.n, __ATOMIC_ACQUIRE);
        unsigned ok0 = __atomic_load_n(&ns->udp.payload_ok, __ATOMIC_RELAXED);

        assert_int_equal(sendto(s, payload, sizes[k], 0, (struct sockaddr *)&peer, sizeof(peer)),
                         (ssize_t)sizes[k]);
        for (int waited = 0; __atomic_load_n(&ns->udp.n, __ATOMIC_ACQUIRE) == n0 && waited < 5000;
             waited++)
            poll(NULL, 0, 1);                      /* bounds a lost datagram */
        assert_int_equal(__atomic_load_n(&ns->udp.n, __ATOMIC_ACQUIRE), n0 + 1);
        assert_int_equal(__atomic_load_n(&ns->udp.last_len, __ATOMIC_RELAXED), sizes[k]);
        assert_int_equal(__atomic_load_n(&ns->udp.payload_ok, __ATOMIC_RELAXED), ok0 + 1);
    }
    close(s);
    assert_int_equal(run("ip link set nbtbr0 mtu 1500 && ip link set nbtap0 mtu 1500"), 0);
}

static void nb_vnethdr2pkt_maps_offloads(void **state)
{
    struct nb_pkt_pool *pool = nb_pkt_pool_new("vnet", 4);
    struct nb_pkt *p = nb_pkt_alloc(pool, 1000);
    struct virtio_net_hdr h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
                                .gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN,
                                .gso_size = 1448, .csum_start = 34, .csum_offset = 16 };
    struct virtio_net_hdr back;
    (void)state;

    memset(p->data, 0, 1000);
    p->data[34 + 12] = 0x80;                      /* TCP data offset 32 */
    assert_int_equal(nb_vnethdr2pkt(&h, p), 0);
    assert_int_equal(p->flags, NB_PKT_CSUM_PARTIAL);
    assert_int_equal(p->gso_type, NB_GSO_TCPV4);
    assert_int_equal(p->gso_size, 1448);
    nb_pkt2vnethdr(p, &back);
    assert_int_equal(back.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
    assert_int_equal(back.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
    assert_int_equal(back.gso_size, 1448);
    assert_int_equal(back.csum_start, 34);
    assert_int_equal(back.csum_offset, 16);
    assert_int_equal(back.hdr_len, 34 + 32);

    h.csum_start = 990;                           /* field past the end */
    assert_int_equal(nb_vnethdr2pkt(&h, p), -EINVAL);
    h.csum_start = 34;
    h.gso_size = 0;
    assert_int_equal(nb_vnethdr2pkt(&h, p), -EINVAL);
    h.gso_type = VIRTIO_NET_HDR_GSO_UDP;
    h.gso_size = 1000;
    assert_int_equal(nb_vnethdr2pkt(&h, p), -EPROTONOSUPPORT);
    h = (struct virtio_net_hdr){ .flags = VIRTIO_NET_HDR_F_DATA_VALID };
    assert_int_equal(nb_vnethdr2pkt(&h, p), 0);
    assert_int_equal(p->flags, NB_PKT_DATA_VALID);
    assert_int_equal(p->gso_type, NB_GSO_NONE);
    nb_pkt_free(p);
    nb_pkt_pool_free(pool);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nb_vnethdr2pkt_maps_offloads),
        cmocka_unit_test(nb_tap_port_new_ping_through_linux_bridge),
        cmocka_unit_test(nb_tap_port_new_checksum_offload_both_ways),
        cmocka_unit_test(nb_tap_port_start_frames_of_any_size_arrive_whole),
    };
    return cmocka_run_group_tests_name("bridge_tap", tests, netns_setup, netns_teardown);
}
