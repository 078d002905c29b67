/* A dpdk port on a net_pcap vdev with --no-huge: frames in the vdev's rx
 * file reach a dummy port, and frames sent into the bridge leave through
 * the vdev into its tx file byte for byte. */
#include <errno.h>
#include <pcap/pcap.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "bridge/bridge.h"
#include "bridge/port_dpdk.h"
#include "bridge/port_dummy.h"
#include "tests/bridge/frames.h"

static const uint8_t MAC_WIRE[6] = { 0x02, 0xd0, 0, 0, 0, 1 };
static const uint8_t MAC_GUEST[6] = { 0x02, 0xd0, 0, 0, 0, 2 };
#define N_IN 20
#define N_OUT 17

static void write_rx_pcap(const char *path)
{
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
    pcap_dumper_t *d = pcap_dump_open(dead, path);
    uint8_t frame[1514];

    assert_non_null(d);
    for (unsigned i = 0; i < N_IN; i++) {
        struct pcap_pkthdr h = { .caplen = 60 + i * 70, .len = 60 + i * 70 };
        memcpy(frame, MAC_GUEST, 6);
        memcpy(frame + 6, MAC_WIRE, 6);
        put16(frame + 12, 0x88b5);
        for (unsigned j = 14; j < h.len; j++)
            frame[j] = (uint8_t)(i + j);
        pcap_dump((u_char *)d, &h, frame);
    }
    pcap_dump_close(d);
    pcap_close(dead);
}

static void nb_dpdk_port_new_pcap_vdev_both_ways(void **state)
{
    char dir[] = "/tmp/nb-dpdk-XXXXXX", in[64], out[64], devargs[200];
    const char *eal[] = { "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
                          "-l", "0", "--log-level", "*:error" };
    struct nb_dpdk *dpdk;
    struct nb_pkt_pool *pool = nb_pkt_pool_new("dpdk", 4096);
    struct nb_bridge *br = nb_bridge_new("br-dpdk", NULL);
    struct nb_port *port, *guest = nb_dummy_port_new("guest", 0);
    uint8_t sent[N_OUT][200];
    char err[PCAP_ERRBUF_SIZE];
    (void)state;

    assert_non_null(mkdtemp(dir));
    snprintf(in, sizeof(in), "%s/in.pcap", dir);
    snprintf(out, sizeof(out), "%s/out.pcap", dir);
    write_rx_pcap(in);
    snprintf(devargs, sizeof(devargs), "net_pcap0,rx_pcap=%s,tx_pcap=%s", in, out);

    assert_int_equal(nb_dpdk_open(eal, sizeof(eal) / sizeof(eal[0]), &dpdk), 0);
    struct nb_dpdk_port_config cfg = { .name = "wire", .devargs = devargs };
    assert_int_equal(nb_dpdk_port_new(dpdk, &cfg, pool, &port), 0);
    assert_int_equal(nb_bridge_add_port(br, port), 0);
    assert_int_equal(nb_bridge_add_port(br, guest), 0);
    assert_int_equal(nb_dpdk_port_start(port), 0);

    /* Injected on the DPDK side: all reach the guest port, in order. */
    /* a minute at least: the port polls under memcheck in make valgrind */
    for (int waited = 0; nb_dummy_port_count(guest) < N_IN && waited < 60000; waited++)
        nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
    assert_int_equal(nb_dummy_port_count(guest), N_IN);
    for (unsigned i = 0; i < N_IN; i++) {
        struct nb_pkt *p = nb_dummy_port_get(guest, i);
        assert_int_equal(p->len, 60 + i * 70);
        assert_int_equal(p->data[20], (uint8_t)(i + 20));
    }
    assert_ptr_equal(nb_bridge_fdb_lookup(br, MAC_WIRE, 0), port);

    /* From the guest: unicast to the learned MAC leaves on the vdev. */
    for (unsigned i = 0; i < N_OUT; i++) {
        struct nb_pkt *p = make_frame(pool, MAC_WIRE, MAC_GUEST, 0x88b5, 46 + i * 8, (uint8_t)(3 * i));
        memcpy(sent[i], p->data, p->len);
        nb_bridge_input(br, guest, &p, 1);
    }
    /* Removing the port stops and closes the vdev, which flushes its file. */
    assert_int_equal(nb_bridge_del_port(br, port), 0);

    pcap_t *pc = pcap_open_offline(out, err);
    struct pcap_pkthdr *h;
    const u_char *data;
    unsigned n = 0;
    assert_non_null(pc);
    while (pcap_next_ex(pc, &h, &data) == 1) {
        assert_true(n < N_OUT);
        assert_int_equal(h->caplen, 60 + n * 8);
        assert_memory_equal(data, sent[n], h->caplen);
        n++;
    }
    pcap_close(pc);
    assert_int_equal(n, N_OUT);

    nb_bridge_free(br);
    assert_int_equal(nb_pkt_pool_in_use(pool), 0);
    nb_pkt_pool_free(pool);
    nb_dpdk_close(dpdk);
    unlink(in);
    unlink(out);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nb_dpdk_port_new_pcap_vdev_both_ways),
    };
    return cmocka_run_group_tests_name("bridge_dpdk", tests, NULL, NULL);
}
