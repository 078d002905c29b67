/* Odd but legal TX slot layouts, end to end against raw scripted
 * frontends on the emulator (netbackd as a child): domain 1 sends, domain
 * 2 receives and checks every byte.
 *  - headers spread over many tiny slots (XSA-423: Linux once left
 *    protocol headers outside the linear area): an 18-slot IPv4/UDP packet
 *    whose IP and UDP headers come 1 to 4 bytes per slot, sent
 *    checksum-blank, so netbackd must find the headers across slots to
 *    complete the checksum for a receiver that takes no blank checksums
 *    (feature-no-csum-offload=1).
 *    The first slot carries the Ethernet header: Linux drops a packet
 *    whose first slot holds fewer than ETH_HLEN bytes of its own
 *    (xenvif_tx_build_gops checks the first request's size after
 *    xenvif_count_requests took the fragments' sizes off it), and so does
 *    netbackd: answered with errors, counted, the vif kept;
 *  - zero-length slots (XSA-448: all-zero fragments crashed Linux): empty
 *    slots between data slots, and a packet whose first slot holds it all
 *    followed by nothing but empty slots. Every slot is answered OKAY and
 *    the packet arrives whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include <xenctrl.h>
#include <xenstore.h>
#include <xen/io/netif.h>

#include "tests/backend/nbd_testenv.h"
#include "tests/backend/raw_front.h"
#include "tests/lib/simenv.h"

#define DOM_TX 1
#define DOM_RX 2
#define TX0 2u              /* one page per TX slot of a chain */
#define TX_PAGES 24u
#define RX0 (TX0 + TX_PAGES)
#define NR_PAGES (RX0 + RAW_FE_RX_PAGES)
#define MAX_SLOTS 19u
#define HDRS (14 + 20 + 8)

struct chain {
    unsigned n;                     /* slots */
    uint16_t size[MAX_SLOTS];       /* each slot's own bytes */
    uint16_t len;                   /* the packet */
    bool csum_blank;
    bool dropped;                   /* expected: every slot answered with an error */
};

/* Parent <-> guests, in shared memory. */
struct shared {
    struct chain c;
    int rx_ready;
    unsigned ok, bad;               /* sender: responses */
    int sent;                       /* sender: every slot answered */
    int rx_result;                  /* receiver: 1 = as expected, < 0 what was wrong */
    unsigned rx_len;
};

static void put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

static uint32_t sum16(uint32_t s, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    return s;
}

static uint16_t fold(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

/* The UDP pseudo-header sum of the frame's datagram. */
static uint32_t udp_pseudo(const uint8_t *f, unsigned len)
{
    uint8_t tail[4] = { 0, 17, (uint8_t)((len - 34) >> 8), (uint8_t)(len - 34) };
    return sum16(sum16(0, f + 26, 8), tail, 4);
}

/* A broadcast-free IPv4/UDP frame to DOM_RX; partial: the checksum field
 * holds the pseudo-header sum (what csum_blank means), else complete. */
static void build(uint8_t *f, unsigned len, bool partial)
{
    static const uint8_t dst[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, DOM_RX };
    static const uint8_t src[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, DOM_TX };
    uint8_t *ip = f + 14, *udp = ip + 20;

    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    put16(f + 12, 0x0800);
    memset(ip, 0, 20);
    ip[0] = 0x45;
    put16(ip + 2, len - 14);
    ip[8] = 64;
    ip[9] = 17;
    ip[12] = 10; ip[15] = 1;
    ip[16] = 10; ip[19] = 2;
    put16(ip + 10, (uint16_t)~fold(sum16(0, ip, 20)));
    put16(udp, 4000);
    put16(udp + 2, 5000);
    put16(udp + 4, len - 34);
    put16(udp + 6, 0);
    for (unsigned i = HDRS; i < len; i++)
        f[i] = (uint8_t)(i * 13 + 7);
    uint32_t ps = udp_pseudo(f, len);
    put16(udp + 6, partial ? fold(ps) : (uint16_t)~fold(sum16(ps, udp, len - 34)));
}

static int guest_sender(void *arg)
{
    struct shared *sh = arg;
    const struct chain *c = &sh->c;
    struct raw_fe f = { .domid = DOM_TX };
    uint8_t frame[4096];
    unsigned off = 0, ok = 0, bad = 0;
    uint64_t deadline;
    int rc;

    if ((rc = raw_fe_connect(&f, NR_PAGES, 0)))
        return rc;
    deadline = nbd_test_now_ms() + 2 * NBD_TEST_WAIT_MS;
    while (!__atomic_load_n(&sh->rx_ready, __ATOMIC_ACQUIRE))
        if (nbd_test_now_ms() > deadline)
            return 10;
        else
            usleep(1000);
    build(frame, c->len, c->csum_blank);
    for (unsigned i = 0; i < c->n; i++) {
        netif_tx_request_t *r = RING_GET_REQUEST(&f.tx, f.tx.req_prod_pvt + i);
        memcpy(raw_fe_page(&f, TX0 + i), frame + off, c->size[i]);
        *r = (netif_tx_request_t){
            .gref = f.refs[TX0 + i], .offset = 0, .id = (uint16_t)i,
            .size = i == 0 ? c->len : c->size[i],
            .flags = (uint16_t)((i + 1 < c->n ? NETTXF_more_data : 0) |
                                (i == 0 && c->csum_blank ? NETTXF_csum_blank : 0)) };
        off += c->size[i];
    }
    f.tx.req_prod_pvt += c->n;
    raw_fe_push_tx(&f);
    deadline = nbd_test_now_ms() + 2 * NBD_TEST_WAIT_MS;
    while (ok + bad < c->n && nbd_test_now_ms() < deadline)
        if (!raw_fe_reap_tx(&f, &ok, &bad))
            usleep(1000);
    sh->ok = ok;
    sh->bad = bad;
    __atomic_store_n(&sh->sent, 1, __ATOMIC_RELEASE);
    raw_fe_close(&f);
    return 0;
}

/* Receives one frame: it must be the frame as built with a complete
 * checksum (whether it was sent blank or not). */
static int guest_receiver(void *arg)
{
    struct shared *sh = arg;
    struct raw_fe f = { .domid = DOM_RX };
    uint8_t want[4096];
    uint64_t deadline;
    const uint8_t *data;
    unsigned len;
    int rc, got = 0;

    /* No checksum offload at all: a frontend that doesn't write
     * feature-no-csum-offload=1 takes IPv4 blank checksums (netif.h; Linux's
     * ip_csum), and the packet would come as sent. Written before
     * connecting, where netbackd reads the frontend's features. */
    struct xs_handle *xsh = xs_open(0);
    const char *key = "/local/domain/2/device/vif/0/feature-no-csum-offload";
    if (!xsh || !xs_write(xsh, XBT_NULL, key, "1", 1))
        return 9;
    xs_close(xsh);
    /* feature-sg: a frontend without it has an mtu of at most 1500 (as a
     * Linux vif), and some chains here are longer than 1518 bytes; each
     * still arrives in one slot */
    if ((rc = raw_fe_connect(&f, NR_PAGES, RAW_FE_SG)))
        return rc;
    raw_fe_post_rx_all(&f, RX0);
    __atomic_store_n(&sh->rx_ready, 1, __ATOMIC_RELEASE);
    deadline = nbd_test_now_ms() + 2 * NBD_TEST_WAIT_MS;
    while (!(got = raw_fe_next_rx(&f, RX0, &data, &len)) && nbd_test_now_ms() < deadline) {
        /* a dropped packet never reaches the bridge: its answers come
         * after a delivered one would have been handed on */
        if (sh->c.dropped && __atomic_load_n(&sh->sent, __ATOMIC_ACQUIRE) &&
            deadline > nbd_test_now_ms() + 300)
            deadline = nbd_test_now_ms() + 300;
        usleep(1000);
    }
    build(want, sh->c.len, false);
    sh->rx_len = got > 0 ? len : 0;
    if (got <= 0)
        sh->rx_result = got < 0 ? -1 : -2;
    else if (len != sh->c.len)
        sh->rx_result = -3;
    else if (fold(sum16(udp_pseudo(data, len), data + 34, len - 34)) != 0xffff)
        sh->rx_result = -4;
    else if (memcmp(data, want, len))
        sh->rx_result = -5;
    else
        sh->rx_result = 1;
    raw_fe_close(&f);
    return 0;
}

static void run(struct nbd_testenv *w, const struct chain *c)
{
    struct shared *sh = nbd_test_shared(sizeof(*sh));
    sh->c = *c;
    pid_t rx = simenv_spawn(w->env, DOM_RX, guest_receiver, sh);
    pid_t tx = simenv_spawn(w->env, DOM_TX, guest_sender, sh);
    assert_int_equal(simenv_wait(tx), 0);
    assert_int_equal(simenv_wait(rx), 0);
    printf("# %u slots: %u OKAY, %u other; received %u bytes, verdict %d\n", c->n, sh->ok,
           sh->bad, sh->rx_len, sh->rx_result);
    if (c->dropped) {
        assert_int_equal(sh->ok, 0);
        assert_int_equal(sh->bad, c->n);
        assert_int_equal(sh->rx_result, -2);    /* nothing arrived */
        assert_int_equal(nbd_test_vif_counter(w, "vif1.0", "tx_packets"), 0);
        assert_int_equal(nbd_test_vif_counter(w, "vif1.0", "tx_drop_too_short"), 1);
    } else {
        assert_int_equal(sh->ok, c->n);
        assert_int_equal(sh->bad, 0);
        assert_int_equal(sh->rx_result, 1);
        assert_int_equal(nbd_test_vif_counter(w, "vif1.0", "tx_packets"), 1);
        assert_int_equal(nbd_test_vif_counter(w, "vif2.0", "rx_packets"), 1);
    }
    assert_int_equal(nbd_test_vif_counter(w, "vif1.0", "tx_errors"), 0);
    munmap(sh, sizeof(*sh));
}

static uint16_t total(const struct chain *c)
{
    unsigned t = 0;

    for (unsigned i = 0; i < c->n; i++)
        t += c->size[i];
    return (uint16_t)t;
}

/* The Ethernet header in slot 0, then 28 bytes of IP and UDP header over
 * 11 slots of 1-4 bytes, then 6 data slots: 18 slots (the most every
 * backend must take), checksum blank. */
static void nbd_tx_burst_headers_over_tiny_slots(void **state)
{
    NBD_TEST_NEED_WORLD(state);
    struct chain c = { .n = 18, .csum_blank = true,
                       .size = { 14, 1, 1, 2, 3, 1, 4, 2, 4, 4, 2, 4, 300, 1, 500, 999, 1, 7 } };
    c.len = total(&c);
    run(w, &c);
}

/* The same with the Ethernet header itself spread (1 byte in slot 0):
 * dropped, as Linux does. */
static void nbd_tx_burst_first_slot_shorter_than_ethernet_dropped(void **state)
{
    NBD_TEST_NEED_WORLD(state);
    struct chain c = { .n = 18, .csum_blank = true, .dropped = true,
                       .size = { 1, 1, 2, 3, 1, 4, 2, 4, 4, 4, 4, 4, 4, 4, 300, 1, 500, 999 } };
    c.len = total(&c);
    run(w, &c);
}

/* Empty slots among the data slots, and at the end. */
static void nbd_tx_burst_zero_length_slots_between_data(void **state)
{
    NBD_TEST_NEED_WORLD(state);
    struct chain c = { .n = 7, .len = 1000, .csum_blank = true,
                       .size = { 50, 0, 0, 400, 0, 550, 0 } };
    run(w, &c);
}

/* The whole packet in the first slot, then only empty fragments. */
static void nbd_tx_burst_all_zero_fragments(void **state)
{
    NBD_TEST_NEED_WORLD(state);
    struct chain c = { .n = 6, .len = 700, .size = { 700, 0, 0, 0, 0, 0 } };
    run(w, &c);
}

static int setup(void **state)
{
    *state = nbd_testenv_start_xenbr0(2, 1, NULL);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(nbd_tx_burst_headers_over_tiny_slots, setup, nbd_testenv_teardown),
        cmocka_unit_test_setup_teardown(nbd_tx_burst_first_slot_shorter_than_ethernet_dropped, setup, nbd_testenv_teardown),
        cmocka_unit_test_setup_teardown(nbd_tx_burst_zero_length_slots_between_data, setup, nbd_testenv_teardown),
        cmocka_unit_test_setup_teardown(nbd_tx_burst_all_zero_fragments, setup, nbd_testenv_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
