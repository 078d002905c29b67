/* DPDK port (issue 4): netbackd with a DPDK port on a --no-huge net_pcap
 * vdev next to one emulated guest on the same bridge. Frames the guest
 * sends leave on the DPDK port byte-exact (the tx_pcap file, read back with
 * libpcap), and frames injected on the DPDK port (its rx_pcap) reach the
 * guest byte-exact, in order.
 *
 * net_pcap reads its rx_pcap once, as fast as it can, as soon as the port
 * starts — before any guest is there to receive. So rx_pcap is a fifo: the
 * test writes the pcap header before netbackd starts (the PMD reads it at
 * probe), and the frames only once the guest is connected, then closes the
 * fifo so the PMD sees the end of the file. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "backend/netfront/nf_frame.h"
#include "tests/datapath/dp_env.h"
#include "tests/integration/it_ctl.h"
#include "tests/integration/it_pcap.h"
#include "tests/integration/it_probe.h"
#include "tests/integration/it_sys.h"

#define LIVENESS_S 60
#define N_OUT 4     /* guest -> DPDK */
#define N_IN 4      /* DPDK -> guest */

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t outside[6] = { 0x02, 0x00, 0x00, 0x00, 0x77, 0x01 };  /* a host beyond the NIC */

struct world {
    char dir[64];
    char config[128], rx_fifo[128], tx_pcap[128];
    pcap_t *dead;              /* the fifo writer's pcap handle */
    pcap_dumper_t *rx;         /* writes into rx_fifo; NULL once closed */
    struct dp_env env;
    bool env_up;
    struct it_probe *probe;
    pid_t pid;
};

static int world_new(void **state)
{
    struct world *w = test_calloc(1, sizeof(*w));

    if (!w)
        return -1;
    w->pid = -1;
    *state = w;
    return 0;
}

static void close_rx(struct world *w)
{
    if (w->rx)
        pcap_dump_close(w->rx);   /* EOF for the PMD: its rx burst returns */
    w->rx = NULL;
    if (w->dead)
        pcap_close(w->dead);
    w->dead = NULL;
}

static int world_free(void **state)
{
    struct world *w = *state;

    close_rx(w);                   /* before netbackd stops: its rx may wait on the fifo */
    if (w->probe) {
        __atomic_store_n(&w->probe->stop, 1, __ATOMIC_RELEASE);
        if (w->pid > 0)
            dp_wait(w->pid, LIVENESS_S);
        it_probe_free(w->probe);
    }
    if (w->env_up)
        dp_env_stop(&w->env);
    if (w->dir[0] && !getenv("DP_KEEP"))
        it_sh(NULL, 0, "rm -rf %s", w->dir);
    test_free(w);
    return 0;
}

/* Opens the fifo without waiting for the reader and writes the pcap header. */
static void open_rx_fifo(struct world *w)
{
    assert_int_equal(mkfifo(w->rx_fifo, 0600), 0);
    int fd = open(w->rx_fifo, O_RDWR | O_CLOEXEC);   /* O_RDWR: no wait for a reader */
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    w->dead = pcap_open_dead(DLT_EN10MB, 65535);
    assert_non_null(w->dead);
    w->rx = pcap_dump_fopen(w->dead, f);
    assert_non_null(w->rx);
    assert_int_equal(pcap_dump_flush(w->rx), 0);
}

/* The guest is forked while the test holds the fifo open; it must not keep
 * a copy of the writer, or the PMD would never see the end of the file. */
struct guest_arg {
    struct it_probe *probe;
    int fifo_fd;
};

static int guest_main(void *arg)
{
    struct guest_arg *g = arg;

    close(g->fifo_fd);
    return it_probe_main(g->probe);
}

static void write_config(struct world *w)
{
    FILE *f = fopen(w->config, "w");

    assert_non_null(f);
    fprintf(f,
            "eal = [ \"--no-huge\", \"-m\", \"256\", \"--no-pci\", \"--no-shconf\", \"-l\", \"0\",\n"
            "        \"--log-level\", \"*:error\" ];\n"
            "bridges = ( { name = \"itbr\"; } );\n"
            "ports = (\n"
            "  { name = \"dpdk0\"; kind = \"dpdk\"; bridge = \"itbr\";\n"
            "    devargs = \"net_pcap0,rx_pcap=%s,tx_pcap=%s\"; }\n"
            ");\n",
            w->rx_fifo, w->tx_pcap);
    assert_int_equal(fclose(f), 0);
}

static void dpdk_port_frames_byte_exact_both_ways(void **state)
{
    static const uint32_t out_len[N_OUT] = { 60, 61, 1000, 1514 };
    static const uint32_t in_len[N_IN] = { 60, 333, 1514, 64 };
    struct world *w = *state;
    uint8_t out[N_OUT][1514], in[N_IN][1514], guest_mac[6];
    char args[256];

    snprintf(w->dir, sizeof(w->dir), "/tmp/nb-it-dpdk-XXXXXX");
    assert_non_null(mkdtemp(w->dir));
    snprintf(w->config, sizeof(w->config), "%s/netbackd.conf", w->dir);
    snprintf(w->rx_fifo, sizeof(w->rx_fifo), "%s/rx.fifo", w->dir);
    snprintf(w->tx_pcap, sizeof(w->tx_pcap), "%s/tx.pcap", w->dir);
    open_rx_fifo(w);
    write_config(w);

    snprintf(args, sizeof(args), "--config %s --bridge itbr", w->config);
    if (dp_env_start(&w->env, args) != 0) {
        w->env_up = w->env.dir[0] != 0;
        fail_msg("%s", w->env.skip_reason);
    }
    w->env_up = true;
    if (it_port_field(&w->env, "dpdk0", "tx_packets") < 0)
        fail_msg("netbackd has no port dpdk0 on bridge itbr (log %s)", w->env.netbackd_log);

    assert_int_equal(dp_guest_add(&w->env, 1, 0, "--bridge itbr"), 0);
    dp_guest_mac(1, 0, guest_mac);
    w->probe = it_probe_new(0);
    assert_non_null(w->probe);
    struct guest_arg ga = { w->probe, fileno(pcap_dump_file(w->rx)) };
    w->pid = dp_spawn(&w->env, 1, guest_main, &ga);
    assert_true(w->pid > 0);
    if (!it_probe_wait_ready(w->probe, LIVENESS_S))
        fail_msg("guest: %s", w->probe->err);

    /* guest -> DPDK: broadcast and unicast to a MAC beyond the port */
    for (unsigned i = 0; i < N_OUT; i++) {
        nf_pattern_fill(out[i], out_len[i], i % 2 ? outside : bcast, guest_mac, 100 + i);
        assert_true(it_probe_send(w->probe, out[i], out_len[i], LIVENESS_S));
    }
    /* DPDK -> guest: to its MAC (learned by now) and broadcast */
    for (unsigned i = 0; i < N_IN; i++) {
        nf_pattern_fill(in[i], in_len[i], i % 2 ? bcast : guest_mac, outside, 200 + i);
        struct pcap_pkthdr h = { .ts = { 1, (suseconds_t)i }, .caplen = in_len[i], .len = in_len[i] };
        pcap_dump((u_char *)w->rx, &h, in[i]);
    }
    close_rx(w);

    if (!it_probe_wait_rx(w->probe, N_IN, LIVENESS_S))
        fail_msg("guest received %u of %u frames from the DPDK port", it_probe_rx_count(w->probe), N_IN);
    assert_int_equal(it_probe_rx_count(w->probe), N_IN);
    for (unsigned i = 0; i < N_IN; i++)
        if (!it_probe_rx_is(w->probe, i, in[i], in_len[i]))
            fail_msg("guest frame %u differs from injected frame %u (%u bytes, got %u)", i, i,
                     in_len[i], w->probe->rx_len[i]);

    /* everything the bridge handed the DPDK port is in tx_pcap once netbackd is gone */
    long long sent = -1;
    for (unsigned i = 0; i < LIVENESS_S * 50 && sent < N_OUT; i++) {
        sent = it_port_field(&w->env, "dpdk0", "tx_packets");
        if (sent < N_OUT)
            usleep(20000);
    }
    assert_int_equal(sent, N_OUT);
    __atomic_store_n(&w->probe->stop, 1, __ATOMIC_RELEASE);
    assert_int_equal(dp_wait(w->pid, LIVENESS_S), 0);
    w->pid = -1;
    dp_env_stop(&w->env);
    w->env_up = false;

    struct it_pcap_frame *got;
    int n = it_pcap_read(w->tx_pcap, &got);
    assert_int_equal(n, N_OUT);
    for (unsigned i = 0; i < N_OUT; i++) {
        if (got[i].len != out_len[i] || memcmp(got[i].data, out[i], out_len[i])) {
            it_pcap_frames_free(got, n);
            fail_msg("tx_pcap frame %u differs from the guest's frame %u (%u bytes)", i, i, out_len[i]);
        }
    }
    it_pcap_frames_free(got, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(dpdk_port_frames_byte_exact_both_ways, world_new, world_free),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
