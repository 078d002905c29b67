/* ring/netif_ctrl: every control request type, every XSA-270 bound, the
 * static-grant bookkeeping, and a round trip through a shared ring. */
#include <xenctrl.h> /* xen_wmb() for RING_PUSH_* */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>

#include "ring/netif_ctrl.h"

static struct xen_netif_ctrl_request mkreq(uint16_t type, uint32_t d0,
                                           uint32_t d1, uint32_t d2)
{
    struct xen_netif_ctrl_request r = { .id = 77, .type = type };
    r.data[0] = d0;
    r.data[1] = d1;
    r.data[2] = d2;
    return r;
}

/* Runs a request that needs no guest memory; returns the status. */
static uint32_t run(struct netif_ctrl_state *st, uint16_t type, uint32_t d0,
                    uint32_t d1, uint32_t d2, uint32_t *data)
{
    struct xen_netif_ctrl_request r = mkreq(type, d0, d1, d2);
    struct xen_netif_ctrl_response rsp;
    struct netif_ctrl_copy copy;
    assert_int_equal(netif_ctrl_handle(st, &r, &rsp, &copy), NETIF_CTRL_DONE);
    assert_int_equal(rsp.id, 77);
    assert_int_equal(rsp.type, type);
    if (data)
        *data = rsp.data;
    return rsp.status;
}

/* Runs a request that carries a grant: checks the copy asked for, then
 * completes it with `bytes`. */
static uint32_t run_copy(struct netif_ctrl_state *st, uint16_t type, uint32_t d0,
                         uint32_t d1, uint32_t d2, grant_ref_t want_gref,
                         void *bytes, size_t len, uint32_t *data)
{
    struct xen_netif_ctrl_request r = mkreq(type, d0, d1, d2);
    struct xen_netif_ctrl_response rsp;
    struct netif_ctrl_copy copy;
    assert_int_equal(netif_ctrl_handle(st, &r, &rsp, &copy), NETIF_CTRL_NEED_COPY);
    assert_int_equal(copy.gref, want_gref);
    assert_int_equal(copy.offset, 0);
    assert_int_equal(copy.len, len);
    netif_ctrl_handle_data(st, &r, bytes, len, &rsp);
    assert_int_equal(rsp.id, 77);
    if (data)
        *data = rsp.data;
    return rsp.status;
}

static void netif_ctrl_handle_algorithm(void **state)
{
    (void)state;
    struct netif_ctrl_state st;
    uint32_t data;
    netif_ctrl_init(&st, 4);
    assert_int_equal(run(&st, XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM, 2, 0, 0, NULL),
                     XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
    /* flags need an algorithm first */
    assert_int_equal(run(&st, XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS, 0, 0, 0, NULL),
                     XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED);
    assert_int_equal(run(&st, XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS,
                         XEN_NETIF_CTRL_HASH_TYPE_IPV4, 0, 0, NULL),
                     XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED);
    assert_int_equal(run(&st, XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM,
                         XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ, 0, 0, NULL),
                     XEN_NETIF_CTRL_STATUS_SUCCESS);
    assert_int_equal(st.hash_alg, XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ);
    assert_int_equal(run(&st, XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS, 0, 0, 0, &data),
                     XEN_NETIF_CTRL_STATUS_SUCCESS);
    assert_int_equal(data, 0xf);
}

static void netif_ctrl_handle_hash_flags(void **state)
{
    (void)state;
    struct netif_ctrl_state st;
    netif_ctrl_init(&st, 4);
    st.hash_alg = XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ;
    assert_int_equal(run(&st, XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, 0x10, 0, 0, NULL),
                     XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
    assert_int_equal(st.hash_flags, 0);
    assert_int_equal(run(&st, XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS,
                         XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP, 0, 0, NULL),
                     XEN_NETIF_CTRL_STATUS_SUCCESS);
    assert_int_equal(st.hash_flags, XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP);
}

static void netif_ctrl_handle_hash_key(void **state)
{
    (void)state;
    struct netif_ctrl_state st;
    uint8_t key[40];
    netif_ctrl_init(&st, 4);
    for (unsigned i = 0; i < 40; i++)
        key[i] = (uint8_t)(i + 1);
    assert_int_equal(run_copy(&st, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 55, 40, 0, 55,
                              key, 40, NULL), XEN_NETIF_CTRL_STATUS_SUCCESS);
    assert_memory_equal(st.key, key, 40);
    /* a shorter key zeroes the rest */
    assert_int_equal(run_copy(&st, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 56, 4, 0, 56,
                              key + 10, 4, NULL), XEN_NETIF_CTRL_STATUS_SUCCESS);
    assert_memory_equal(st.key, key + 10, 4);
    for (unsigned i = 4; i < 40; i++)
        assert_int_equal(st.key[i], 0);
    /* size 0 clears the key without touching guest memory */
    assert_int_equal(run(&st, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 57, 0, 0, NULL),
                     XEN_NETIF_CTRL_STATUS_SUCCESS);
    assert_int_equal(st.key[0], 0);
}

static void netif_ctrl_handle_hash_key_too_long(void **state)
{
    (void)state;
    struct netif_ctrl_state st;
    netif_ctrl_init(&st, 4);
    assert_int_equal(run(&st, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 55, 41, 0, NULL),
                     XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW);
    assert_int_equal(run(&st, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 55, 0xffffffffu, 0, NULL),
                     XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW);
}

static void netif_ctrl_handle_data_copy_failed(void **state)
{
    (void)state;
    struct netif_ctrl_state st;
    struct xen_netif_ctrl_request r = mkreq(XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 5, 8, 0);
    struct xen_netif_ctrl_response rsp;
    uint8_t key[8] = { 1 };
    netif_ctrl_init(&st, 4);
    netif_ctrl_handle_data(&st, &r, NULL, 8, &rsp);
    assert_int_equal(rsp.status, XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
    /* a length other than what was asked for is refused too */
    netif_ctrl_handle_data(&st, &r, key, 7, &rsp);
    assert_int_equal(rsp.status, XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
    assert_int_equal(st.key[0], 0);
}

static void netif_ctrl_handle_mapping_size(void **state)
{
    (void)state;
    struct netif_ctrl_state st;
    uint32_t data;
    netif_ctrl_init(&st, 4);
    assert_int_equal(run(&st, XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE, 0, 0, 0, &data),
                     XEN_NETIF_CTRL_STATUS_SUCCESS);
    assert_int_equal(data, NETIF_CTRL_HASH_MAPPING_MAX);
    assert_int_equal(run(&st, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, 129, 0, 0, NULL),
                     XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
    assert_int_equal(st.mapping_size, 0);
    st.mapping[3] = 2;
    assert_int_equal(run(&st, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, 128, 0, 0, NULL),
                     XEN_NETIF_CTRL_STATUS_SUCCESS);
    assert_int_equal(st.mapping_size, 128);
    assert_int_equal(st.mapping[3], 0); /* the new table is zero-filled */
}

static void netif_ctrl_handle_mapping(void **state)
{
    (void)state;
    struct netif_ctrl_state st;
    uint32_t entries[4] = { 3, 2, 1, 0 };
    netif_ctrl_init(&st, 4);
    st.mapping_size = 8;
    assert_int_equal(run_copy(&st, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 9, 4, 4, 9,
                              entries, sizeof(entries), NULL),
                     XEN_NETIF_CTRL_STATUS_SUCCESS);
    assert_int_equal(st.mapping[4], 3);
    assert_int_equal(st.mapping[7], 0);
    assert_int_equal(st.mapping[0], 0);
    assert_int_equal(netif_ctrl_select_queue(&st, 4), 3);
    assert_int_equal(netif_ctrl_select_queue(&st, 8 + 5), 2);
    /* no table: modular arithmetic */
    st.mapping_size = 0;
    assert_int_equal(netif_ctrl_select_queue(&st, 7), 3);
}

static void netif_ctrl_handle_mapping_entry_ge_queues(void **state)
{
    (void)state;
    struct netif_ctrl_state st;
    uint32_t entries[3] = { 1, 4, 0 };   /* 4 >= num_queues */
    netif_ctrl_init(&st, 4);
    st.mapping_size = 8;
    assert_int_equal(run_copy(&st, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 9, 3, 0, 9,
                              entries, sizeof(entries), NULL),
                     XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
    /* nothing taken, not even the valid first entry */
    assert_int_equal(st.mapping[0], 0);
}

static void netif_ctrl_handle_mapping_off_len_overflow(void **state)
{
    (void)state;
    struct netif_ctrl_state st;
    netif_ctrl_init(&st, 4);
    st.mapping_size = 8;
    assert_int_equal(run(&st, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 9, 2, 0xffffffffu, NULL),
                     XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
    assert_int_equal(run(&st, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 9, 1, 0xfffffff0u, NULL),
                     XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
}

static void netif_ctrl_handle_mapping_beyond_size(void **state)
{
    (void)state;
    struct netif_ctrl_state st;
    netif_ctrl_init(&st, 4);
    st.mapping_size = 8;
    assert_int_equal(run(&st, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 9, 4, 5, NULL),
                     XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
    /* exactly up to the end is fine (len 0 needs no copy) */
    assert_int_equal(run(&st, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 9, 0, 8, NULL),
                     XEN_NETIF_CTRL_STATUS_SUCCESS);
}

static void netif_ctrl_handle_mapping_len_too_big(void **state)
{
    (void)state;
    struct netif_ctrl_state st;
    netif_ctrl_init(&st, 4);
    st.mapping_size = 128;
    assert_int_equal(run(&st, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 9, 129, 0, NULL),
                     XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW);
    assert_int_equal(run(&st, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 9, 0x40000001u, 0, NULL),
                     XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW);
}

static void netif_ctrl_handle_mapping_size_shrunk(void **state)
{
    /* handle_data re-checks the bounds against the state it sees. */
    (void)state;
    struct netif_ctrl_state st;
    uint32_t entries[4] = { 0, 0, 0, 0 };
    struct xen_netif_ctrl_request r = mkreq(XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 9, 4, 4);
    struct xen_netif_ctrl_response rsp;
    struct netif_ctrl_copy copy;
    netif_ctrl_init(&st, 4);
    st.mapping_size = 8;
    assert_int_equal(netif_ctrl_handle(&st, &r, &rsp, &copy), NETIF_CTRL_NEED_COPY);
    st.mapping_size = 4;
    netif_ctrl_handle_data(&st, &r, entries, sizeof(entries), &rsp);
    assert_int_equal(rsp.status, XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
}

static void netif_ctrl_handle_unknown_type(void **state)
{
    (void)state;
    struct netif_ctrl_state st;
    netif_ctrl_init(&st, 1);
    assert_int_equal(run(&st, XEN_NETIF_CTRL_TYPE_INVALID, 0, 0, 0, NULL),
                     XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED);
    assert_int_equal(run(&st, 11, 0, 0, 0, NULL), XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED);
    assert_int_equal(run(&st, 0xffff, 0, 0, 0, NULL), XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED);
}

static void netif_ctrl_handle_gref_size(void **state)
{
    (void)state;
    struct netif_ctrl_state st;
    uint32_t data;
    netif_ctrl_init(&st, 2);
    assert_int_equal(run(&st, XEN_NETIF_CTRL_TYPE_GET_GREF_MAPPING_SIZE, 1, 0, 0, &data),
                     XEN_NETIF_CTRL_STATUS_SUCCESS);
    assert_int_equal(data, NETIF_GREF_TABLE_MAX);
    assert_int_equal(run(&st, XEN_NETIF_CTRL_TYPE_GET_GREF_MAPPING_SIZE, 2, 0, 0, NULL),
                     XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
}

static void netif_ctrl_handle_gref_add_del(void **state)
{
    (void)state;
    struct netif_ctrl_state st;
    struct xen_netif_gref list[3] = {
        { .ref = 10 }, { .ref = 11, .flags = XEN_NETIF_CTRLF_GREF_readonly }, { .ref = 12 },
    };
    uint32_t data;
    netif_ctrl_init(&st, 2);
    assert_int_equal(run_copy(&st, XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING, 1, 88, 3, 88,
                              list, sizeof(list), NULL), XEN_NETIF_CTRL_STATUS_SUCCESS);
    assert_int_equal(st.gref[1].n, 3);
    assert_int_equal(st.gref[0].n, 0);
    assert_int_equal(netif_gref_table_find(&st.gref[1], 11), 1);
    assert_int_equal(st.gref[1].e[1].flags, XEN_NETIF_CTRLF_GREF_readonly);
    /* adding a ref twice fails as a whole */
    struct xen_netif_gref again[2] = { { .ref = 13 }, { .ref = 10 } };
    assert_int_equal(run_copy(&st, XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING, 1, 88, 2, 88,
                              again, sizeof(again), NULL),
                     XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
    assert_int_equal(netif_gref_table_find(&st.gref[1], 13), -1);
    /* delete: per-entry statuses written back, count in data */
    struct xen_netif_gref del[3] = { { .ref = 12 }, { .ref = 99 }, { .ref = 10 } };
    assert_int_equal(run_copy(&st, XEN_NETIF_CTRL_TYPE_DEL_GREF_MAPPING, 1, 89, 3, 89,
                              del, sizeof(del), &data), XEN_NETIF_CTRL_STATUS_SUCCESS);
    assert_int_equal(data, 2);
    assert_int_equal(del[0].status, XEN_NETIF_CTRL_STATUS_SUCCESS);
    assert_int_equal(del[1].status, XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
    assert_int_equal(del[2].status, XEN_NETIF_CTRL_STATUS_SUCCESS);
    assert_int_equal(st.gref[1].n, 1);
    assert_int_equal(netif_gref_table_find(&st.gref[1], 11), 0);
}

static void netif_ctrl_handle_gref_bounds(void **state)
{
    (void)state;
    struct netif_ctrl_state st;
    netif_ctrl_init(&st, 2);
    /* queue index out of range */
    assert_int_equal(run(&st, XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING, 2, 88, 1, NULL),
                     XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
    /* a list longer than a page */
    assert_int_equal(run(&st, XEN_NETIF_CTRL_TYPE_DEL_GREF_MAPPING, 0, 88, 513, NULL),
                     XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
    /* more than the free room */
    assert_int_equal(run(&st, XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING, 0, 88,
                         NETIF_GREF_TABLE_MAX + 1, NULL),
                     XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
    struct xen_netif_gref *full = calloc(NETIF_GREF_TABLE_MAX, sizeof(*full));
    assert_non_null(full);
    for (unsigned i = 0; i < NETIF_GREF_TABLE_MAX; i++)
        full[i].ref = 1000 + i;
    assert_int_equal(netif_gref_table_add(&st.gref[0], full, NETIF_GREF_TABLE_MAX),
                     XEN_NETIF_CTRL_STATUS_SUCCESS);
    assert_int_equal(run(&st, XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING, 0, 88, 1, NULL),
                     XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
    free(full);
    /* a duplicate inside one list */
    struct xen_netif_gref dup[2] = { { .ref = 5 }, { .ref = 5 } };
    assert_int_equal(netif_gref_table_add(&st.gref[1], dup, 2),
                     XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
    assert_int_equal(st.gref[1].n, 0);
}

static void netif_ctrl_hash_frame(void **state)
{
    (void)state;
    static const uint8_t ms_key[40] = {
        0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
        0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
        0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
        0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
    };
    /* 66.9.149.187:2794 -> 161.142.100.80:1766, TCP */
    uint8_t f[64] = { 0 };
    f[12] = 0x08;
    f[14] = 0x45;
    f[23] = 6;
    static const uint8_t addrs[8] = { 66, 9, 149, 187, 161, 142, 100, 80 };
    memcpy(f + 26, addrs, 8);
    f[34] = 2794 >> 8; f[35] = 2794 & 0xff;
    f[36] = 1766 >> 8; f[37] = 1766 & 0xff;
    struct netif_ctrl_state st;
    uint32_t hash;
    uint8_t type;
    netif_ctrl_init(&st, 4);
    assert_false(netif_ctrl_hash(&st, f, sizeof(f), &hash, &type));
    st.hash_alg = XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ;
    assert_false(netif_ctrl_hash(&st, f, sizeof(f), &hash, &type)); /* no flags */
    st.hash_flags = XEN_NETIF_CTRL_HASH_TYPE_IPV4 | XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP;
    memcpy(st.key, ms_key, 40);
    assert_true(netif_ctrl_hash(&st, f, sizeof(f), &hash, &type));
    assert_int_equal(hash, 0x51ccc178);
    assert_int_equal(type, _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP);
}

static void netif_ctrl_respond_ring(void **state)
{
    (void)state;
    void *page = NULL;
    assert_int_equal(posix_memalign(&page, NETIF_PAGE_SIZE, NETIF_PAGE_SIZE), 0);
    xen_netif_ctrl_sring_t *s = page;
    xen_netif_ctrl_front_ring_t f;
    xen_netif_ctrl_back_ring_t b;
    SHARED_RING_INIT(s);
    FRONT_RING_INIT(&f, s, NETIF_PAGE_SIZE);
    BACK_RING_INIT(&b, s, NETIF_PAGE_SIZE);
    assert_int_equal(RING_SIZE(&b), NETIF_CTRL_RING_SIZE);
    struct xen_netif_ctrl_request *q = RING_GET_REQUEST(&f, f.req_prod_pvt++);
    *q = mkreq(XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE, 0, 0, 0);
    q->id = 4242;
    RING_PUSH_REQUESTS(&f);

    struct xen_netif_ctrl_request reqs[NETIF_CTRL_RING_SIZE];
    unsigned produced;
    assert_int_equal(netif_ctrl_copy_requests(&b, reqs, NETIF_CTRL_RING_SIZE, &produced), 1);
    struct netif_ctrl_state st;
    struct xen_netif_ctrl_response rsp;
    struct netif_ctrl_copy copy;
    netif_ctrl_init(&st, 1);
    assert_int_equal(netif_ctrl_handle(&st, &reqs[0], &rsp, &copy), NETIF_CTRL_DONE);
    netif_ctrl_respond(&b, &rsp);
    b.req_cons++;
    assert_int_equal(s->rsp_prod, 0);
    RING_PUSH_RESPONSES(&b);
    const struct xen_netif_ctrl_response *got = RING_GET_RESPONSE(&f, 0);
    assert_int_equal(got->id, 4242);
    assert_int_equal(got->status, XEN_NETIF_CTRL_STATUS_SUCCESS);
    assert_int_equal(got->data, NETIF_CTRL_HASH_MAPPING_MAX);

    s->req_prod = b.req_cons + NETIF_CTRL_RING_SIZE + 1;
    assert_int_equal(netif_ctrl_copy_requests(&b, reqs, 4, &produced), -1);
    free(page);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(netif_ctrl_handle_algorithm),
        cmocka_unit_test(netif_ctrl_handle_hash_flags),
        cmocka_unit_test(netif_ctrl_handle_hash_key),
        cmocka_unit_test(netif_ctrl_handle_hash_key_too_long),
        cmocka_unit_test(netif_ctrl_handle_data_copy_failed),
        cmocka_unit_test(netif_ctrl_handle_mapping_size),
        cmocka_unit_test(netif_ctrl_handle_mapping),
        cmocka_unit_test(netif_ctrl_handle_mapping_entry_ge_queues),
        cmocka_unit_test(netif_ctrl_handle_mapping_off_len_overflow),
        cmocka_unit_test(netif_ctrl_handle_mapping_beyond_size),
        cmocka_unit_test(netif_ctrl_handle_mapping_len_too_big),
        cmocka_unit_test(netif_ctrl_handle_mapping_size_shrunk),
        cmocka_unit_test(netif_ctrl_handle_unknown_type),
        cmocka_unit_test(netif_ctrl_handle_gref_size),
        cmocka_unit_test(netif_ctrl_handle_gref_add_del),
        cmocka_unit_test(netif_ctrl_handle_gref_bounds),
        cmocka_unit_test(netif_ctrl_hash_frame),
        cmocka_unit_test(netif_ctrl_respond_ring),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
