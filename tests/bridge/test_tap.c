/* A tap port in a Linux bridge, in a private network namespace: the real
 * `ping` pings an address that a responder port on the same nb_bridge
 * owns (it answers ARP and ICMP echo), and a capture on the tap port shows
 * the exchange. Needs root, `ip` and `ping`. */
#include <errno.h>
#include <pcap/pcap.h>
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
    r->arp_replies++;
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
    r->echo_replies++;
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

static void nb_tap_port_new_ping_through_linux_bridge(void **state)
{
    struct nb_pkt_pool *pool;
    struct nb_bridge *br;
    struct nb_port *tap, *resp;
    struct responder r = { 0 };
    struct nb_capture *cap, *old;
    struct nb_tap_config cfg = { .ifname = "nbtap0", .linux_bridge = "nbtbr0" };
    char dir[] = "/tmp/nb-tap-XXXXXX", path[64];
    int err = 0;
    (void)state;

    if (geteuid() != 0)
        skip();                                  /* needs root: namespaces and taps */
    if (run("command -v ip >/dev/null && command -v ping >/dev/null") != 0)
        skip();                                  /* needs iproute2 and iputils-ping */
    if (unshare(CLONE_NEWNET) != 0 || access("/dev/net/tun", R_OK | W_OK) != 0)
        skip();                                  /* no network namespaces or no tun */
    assert_int_equal(run("ip link add nbtbr0 type bridge && "
                         "ip addr add 192.0.2.1/24 dev nbtbr0 && ip link set nbtbr0 up"), 0);

    pool = nb_pkt_pool_new("tap", 4096);
    br = nb_bridge_new("nb0", NULL);
    r.br = br;
    r.pool = pool;
    assert_int_equal(nb_tap_port_new(&cfg, pool, &tap), 0);
    assert_string_equal(nb_tap_port_ifname(tap), "nbtap0");
    /* (sysfs still shows the old namespace: ask iproute2.) */
    assert_int_equal(run("ip -o link show nbtap0 | grep -q 'master nbtbr0'"), 0);
    resp = nb_dummy_port_new("responder", 0);
    nb_dummy_port_set_hook(resp, responder_hook, &r);
    assert_int_equal(nb_bridge_add_port(br, tap), 0);
    assert_int_equal(nb_bridge_add_port(br, resp), 0);
    assert_int_equal(nb_tap_port_start(tap), 0);

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/tap.pcap", dir);
    cap = nb_capture_open(path, 0, &err);
    assert_non_null(cap);
    assert_int_equal(nb_bridge_set_capture(br, tap, cap, &old), 0);

    /* -W bounds a lost reply, it is not a speed check. */
    assert_int_equal(run("ping -c 3 -i 0.2 -W 5 192.0.2.2 >/dev/null"), 0);

    assert_int_equal(nb_bridge_set_capture(br, tap, NULL, &old), 0);
    nb_capture_close(cap);
    assert_true(r.arp_replies >= 1);
    assert_true(r.echo_replies >= 3);
    assert_ptr_equal(nb_bridge_fdb_lookup(br, RESP_MAC, 0), resp);
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

    assert_int_equal(nb_bridge_del_port(br, tap), 0);
    nb_bridge_free(br);
    assert_int_equal(nb_pkt_pool_in_use(pool), 0);
    nb_pkt_pool_free(pool);
    unlink(path);
    rmdir(dir);
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
    };
    return cmocka_run_group_tests_name("bridge_tap", tests, NULL, NULL);
}
