/* libFuzzer target for the hostile-input parsers (make fuzz-ring; not part
 * of make test). The input is a frontend's ring contents: parse it the way
 * the backend does and check the invariants the backend relies on. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ring/netif_tx.h"
#include "ring/netif_rx.h"
#include "ring/netif_ctrl.h"

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

static void fuzz_tx(const uint8_t *data, size_t size)
{
    netif_tx_request_t reqs[NETIF_TX_RING_SIZE];
    unsigned n = (unsigned)(size / sizeof(reqs[0]));
    if (n > NETIF_TX_RING_SIZE)
        n = NETIF_TX_RING_SIZE;
    memcpy(reqs, data, n * sizeof(reqs[0]));
    /* the first byte picks a copy window smaller than what was produced */
    unsigned avail = size ? n - (n ? data[0] % (n + 1) : 0) : 0;
    unsigned used = 0;
    struct netif_tx_pkt pkt;
    struct netif_tx_seg segs[NETIF_TX_MAX_DATA_SLOTS];

    for (;;) {
        enum netif_tx_verdict v = netif_tx_parse(reqs + used, avail - used, n - used, &pkt);
        if (v == NETIF_TX_NEED_MORE || v == NETIF_TX_FATAL)
            break;
        CHECK(pkt.nr_slots >= 1 && pkt.nr_slots <= avail - used);
        CHECK(pkt.nr_data >= 1 && pkt.nr_data <= NETIF_TX_MAX_DATA_SLOTS);
        CHECK(pkt.nr_slots == pkt.nr_data + pkt.nr_extras);
        if (v == NETIF_TX_OK) {
            unsigned k = netif_tx_copy_plan(&pkt, segs);
            uint32_t sum = 0;
            CHECK(pkt.nr_data <= 1 + NETIF_TX_LEGACY_SLOTS_MAX);
            for (unsigned i = 0; i < k; i++) {
                CHECK(segs[i].len > 0);
                CHECK((uint32_t)segs[i].src_off + segs[i].len <= NETIF_PAGE_SIZE);
                CHECK(segs[i].dst_off == sum);
                sum += segs[i].len;
            }
            CHECK(sum == pkt.len && pkt.len >= NETIF_ETH_HLEN);
        }
        used += pkt.nr_slots;
    }
}

static void fuzz_rx(const uint8_t *data, size_t size)
{
    struct netif_rx_pkt_desc d;
    struct netif_rx_caps caps;
    netif_rx_request_t reqs[32];
    struct netif_rx_plan p;
    if (size < sizeof(d) + 6)
        return;
    memcpy(&d, data, sizeof(d));
    caps.sg = data[sizeof(d)] & 1;
    caps.gso_tcpv4 = data[sizeof(d)] & 2;
    caps.gso_tcpv6 = data[sizeof(d)] & 4;
    memcpy(&caps.headroom, data + sizeof(d) + 1, 2);
    unsigned avail = data[sizeof(d) + 3] % 33;
    for (unsigned i = 0; i < 32; i++) {
        reqs[i].id = (uint16_t)i;
        reqs[i].gref = i;
    }
    enum netif_rx_verdict v = netif_rx_plan(reqs, avail, &d, &caps, &p);
    unsigned need = netif_rx_slots_needed(&d, &caps);
    if (v != NETIF_RX_OK) {
        CHECK(p.nr_slots == 0);
        CHECK((v == NETIF_RX_DROP) == (need == 0));
        return;
    }
    CHECK(p.nr_slots == need && need <= avail && need <= NETIF_RX_MAX_SLOTS);
    uint32_t src = 0;
    for (unsigned i = 0; i < p.nr_segs; i++) {
        CHECK(p.seg[i].src_off == src && p.seg[i].len > 0);
        CHECK((uint32_t)p.seg[i].dst_off + p.seg[i].len <= NETIF_PAGE_SIZE);
        CHECK((d.src_page_off + src) % NETIF_PAGE_SIZE + p.seg[i].len <= NETIF_PAGE_SIZE);
        src += p.seg[i].len;
    }
    CHECK(src == d.len);
}

/* Control requests with arbitrary words and arbitrary "guest" bytes: the
 * state must stay within its bounds whatever the order. */
static void fuzz_ctrl(const uint8_t *data, size_t size)
{
    static struct netif_ctrl_state st;
    uint32_t page[1024];
    netif_ctrl_init(&st, size ? 1u + data[0] % 8u : 1u);
    for (size_t at = 1; at + sizeof(struct xen_netif_ctrl_request) <= size;
         at += sizeof(struct xen_netif_ctrl_request)) {
        struct xen_netif_ctrl_request req;
        struct xen_netif_ctrl_response rsp;
        struct netif_ctrl_copy copy;
        memcpy(&req, data + at, sizeof(req));
        req.type = (uint16_t)(req.type % 12);
        if (netif_ctrl_handle(&st, &req, &rsp, &copy) == NETIF_CTRL_NEED_COPY) {
            CHECK(copy.len > 0 && copy.len <= sizeof(page));
            size_t left = size - at;
            memset(page, 0, sizeof(page));
            memcpy(page, data + at, left < copy.len ? left : copy.len);
            netif_ctrl_handle_data(&st, &req, page, copy.len, &rsp);
        }
        CHECK(rsp.id == req.id && rsp.type == req.type);
        CHECK(st.mapping_size <= NETIF_CTRL_HASH_MAPPING_MAX);
        for (unsigned i = 0; i < st.mapping_size; i++)
            CHECK(st.mapping[i] < st.num_queues);
        for (unsigned q = 0; q < NETIF_CTRL_MAX_QUEUES; q++)
            CHECK(st.gref[q].n <= NETIF_GREF_TABLE_MAX);
        CHECK(netif_ctrl_select_queue(&st, req.data[0]) < st.num_queues);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_tx(data, size);
    fuzz_rx(data, size);
    fuzz_ctrl(data, size);
    return 0;
}
