/* Control-ring requests -> state changes and responses (see netif_ctrl.h).
 * Every bound is checked before the state is touched, and checked again in
 * netif_ctrl_handle_data, which must not trust that it is called with what
 * netif_ctrl_handle asked for. */
#include "ring/netif_ctrl.h"
#include "ring/toeplitz.h"

/* Entries of a list that fit the one granted page. */
#define GREF_LIST_MAX (NETIF_PAGE_SIZE / sizeof(struct xen_netif_gref))

void netif_ctrl_init(struct netif_ctrl_state *st, unsigned num_queues)
{
    memset(st, 0, sizeof(*st));
    st->num_queues = num_queues ? num_queues : 1;
    st->hash_alg = XEN_NETIF_CTRL_HASH_ALGORITHM_NONE;
}

int netif_ctrl_copy_requests(const xen_netif_ctrl_back_ring_t *ring,
                             struct xen_netif_ctrl_request *reqs,
                             unsigned max, unsigned *produced)
{
    RING_IDX prod = __atomic_load_n(&ring->sring->req_prod, __ATOMIC_ACQUIRE);
    RING_IDX cons = ring->req_cons;
    int takeable = netif_ring_takeable(prod, cons, ring->rsp_prod_pvt, RING_SIZE(ring));

    if (takeable < 0) {
        *produced = 0;
        return -1;
    }
    unsigned pending = (unsigned)takeable;
    *produced = pending;
    unsigned n = pending < max ? pending : max;
    for (unsigned i = 0; i < n; i++)
        RING_COPY_REQUEST(ring, cons + i, &reqs[i]);
    return (int)n;
}

void netif_ctrl_respond(xen_netif_ctrl_back_ring_t *ring,
                        const struct xen_netif_ctrl_response *rsp)
{
    *RING_GET_RESPONSE(ring, ring->rsp_prod_pvt) = *rsp;
    ring->rsp_prod_pvt++;
}

static unsigned gref_queues(const struct netif_ctrl_state *st)
{
    return st->num_queues < NETIF_CTRL_MAX_QUEUES ? st->num_queues
                                                  : NETIF_CTRL_MAX_QUEUES;
}

/* SET_HASH_MAPPING bounds; the order gives the protocol's status codes. */
static uint32_t check_mapping(const struct netif_ctrl_state *st,
                              uint32_t len, uint32_t off)
{
    if (len > NETIF_CTRL_HASH_MAPPING_MAX)
        return XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW;
    if (off + len < off || off + len > st->mapping_size)
        return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
    return XEN_NETIF_CTRL_STATUS_SUCCESS;
}

/* ADD/DEL_GREF_MAPPING bounds: queue index and list length. */
static uint32_t check_gref_list(const struct netif_ctrl_state *st,
                                uint32_t queue, uint32_t n, bool add)
{
    if (queue >= gref_queues(st) || n > GREF_LIST_MAX)
        return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
    if (add && n > NETIF_GREF_TABLE_MAX - st->gref[queue].n)
        return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
    return XEN_NETIF_CTRL_STATUS_SUCCESS;
}

static enum netif_ctrl_action need_copy(struct netif_ctrl_copy *copy,
                                        grant_ref_t gref, uint32_t len)
{
    copy->gref = gref;
    copy->offset = 0;
    copy->len = (uint16_t)len;
    return NETIF_CTRL_NEED_COPY;
}

enum netif_ctrl_action netif_ctrl_handle(struct netif_ctrl_state *st,
                                         const struct xen_netif_ctrl_request *req,
                                         struct xen_netif_ctrl_response *rsp,
                                         struct netif_ctrl_copy *copy)
{
    const uint32_t *d = req->data;

    rsp->id = req->id;
    rsp->type = req->type;
    rsp->status = XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED;
    rsp->data = 0;

    switch (req->type) {
    case XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM:
        if (d[0] != XEN_NETIF_CTRL_HASH_ALGORITHM_NONE &&
            d[0] != XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ) {
            rsp->status = XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
            break;
        }
        st->hash_alg = d[0];
        rsp->status = XEN_NETIF_CTRL_STATUS_SUCCESS;
        break;
    case XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS:
        if (st->hash_alg == XEN_NETIF_CTRL_HASH_ALGORITHM_NONE)
            break;
        rsp->status = XEN_NETIF_CTRL_STATUS_SUCCESS;
        rsp->data = NETIF_CTRL_HASH_TYPES_SUPPORTED;
        break;
    case XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS:
        if (d[0] & ~(uint32_t)NETIF_CTRL_HASH_TYPES_SUPPORTED) {
            rsp->status = XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
            break;
        }
        if (st->hash_alg == XEN_NETIF_CTRL_HASH_ALGORITHM_NONE)
            break;
        st->hash_flags = d[0];
        rsp->status = XEN_NETIF_CTRL_STATUS_SUCCESS;
        break;
    case XEN_NETIF_CTRL_TYPE_SET_HASH_KEY:
        if (d[1] > NETIF_CTRL_HASH_KEY_MAX) {
            rsp->status = XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW;
            break;
        }
        if (d[1] == 0) {   /* an empty key clears the key */
            memset(st->key, 0, sizeof(st->key));
            rsp->status = XEN_NETIF_CTRL_STATUS_SUCCESS;
            break;
        }
        return need_copy(copy, d[0], d[1]);
    case XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE:
        rsp->status = XEN_NETIF_CTRL_STATUS_SUCCESS;
        rsp->data = NETIF_CTRL_HASH_MAPPING_MAX;
        break;
    case XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE:
        if (d[0] > NETIF_CTRL_HASH_MAPPING_MAX) {
            rsp->status = XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
            break;
        }
        st->mapping_size = d[0];
        memset(st->mapping, 0, sizeof(st->mapping));
        rsp->status = XEN_NETIF_CTRL_STATUS_SUCCESS;
        break;
    case XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING:
        rsp->status = check_mapping(st, d[1], d[2]);
        if (rsp->status != XEN_NETIF_CTRL_STATUS_SUCCESS || d[1] == 0)
            break;
        return need_copy(copy, d[0], d[1] * (uint32_t)sizeof(uint32_t));
    case XEN_NETIF_CTRL_TYPE_GET_GREF_MAPPING_SIZE:
        if (d[0] >= gref_queues(st)) {
            rsp->status = XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
            break;
        }
        rsp->status = XEN_NETIF_CTRL_STATUS_SUCCESS;
        rsp->data = NETIF_GREF_TABLE_MAX;
        break;
    case XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING:
    case XEN_NETIF_CTRL_TYPE_DEL_GREF_MAPPING: {
        bool add = req->type == XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING;
        rsp->status = check_gref_list(st, d[0], d[2], add);
        if (rsp->status != XEN_NETIF_CTRL_STATUS_SUCCESS || d[2] == 0)
            break;
        return need_copy(copy, d[1], d[2] * (uint32_t)sizeof(struct xen_netif_gref));
    }
    default:
        break;
    }
    return NETIF_CTRL_DONE;
}

static uint32_t set_key(struct netif_ctrl_state *st, uint32_t len,
                        const void *data, size_t data_len)
{
    if (len == 0 || len > NETIF_CTRL_HASH_KEY_MAX || data_len != len)
        return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
    memset(st->key, 0, sizeof(st->key));
    memcpy(st->key, data, len);
    return XEN_NETIF_CTRL_STATUS_SUCCESS;
}

static uint32_t set_mapping(struct netif_ctrl_state *st, uint32_t len,
                            uint32_t off, const void *data, size_t data_len)
{
    uint32_t status = check_mapping(st, len, off);
    if (status != XEN_NETIF_CTRL_STATUS_SUCCESS)
        return status;
    if (data_len != len * sizeof(uint32_t))
        return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
    /* Validate every entry before taking any (XSA-270). */
    for (uint32_t i = 0; i < len; i++) {
        uint32_t q;
        memcpy(&q, (const uint8_t *)data + i * sizeof(q), sizeof(q));
        if (q >= st->num_queues)
            return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
    }
    memcpy(&st->mapping[off], data, len * sizeof(uint32_t));
    return XEN_NETIF_CTRL_STATUS_SUCCESS;
}

void netif_ctrl_handle_data(struct netif_ctrl_state *st,
                            const struct xen_netif_ctrl_request *req,
                            void *data, size_t len,
                            struct xen_netif_ctrl_response *rsp)
{
    const uint32_t *d = req->data;

    rsp->id = req->id;
    rsp->type = req->type;
    rsp->status = XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
    rsp->data = 0;
    if (data == NULL)
        return;

    switch (req->type) {
    case XEN_NETIF_CTRL_TYPE_SET_HASH_KEY:
        rsp->status = set_key(st, d[1], data, len);
        break;
    case XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING:
        rsp->status = set_mapping(st, d[1], d[2], data, len);
        break;
    case XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING:
    case XEN_NETIF_CTRL_TYPE_DEL_GREF_MAPPING: {
        bool add = req->type == XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING;
        if (check_gref_list(st, d[0], d[2], add) != XEN_NETIF_CTRL_STATUS_SUCCESS ||
            len != d[2] * sizeof(struct xen_netif_gref))
            break;
        if (add) {
            rsp->status = netif_gref_table_add(&st->gref[d[0]], data, d[2]);
        } else {
            rsp->data = netif_gref_table_del(&st->gref[d[0]], data, d[2]);
            rsp->status = XEN_NETIF_CTRL_STATUS_SUCCESS;
        }
        break;
    }
    default:
        rsp->status = XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED;
        break;
    }
}

bool netif_ctrl_hash(const struct netif_ctrl_state *st, const uint8_t *frame,
                     uint32_t len, uint32_t *hash, uint8_t *hash_type)
{
    uint8_t in[NETIF_HASH_INPUT_MAX];
    unsigned in_len;

    if (st->hash_alg != XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ ||
        st->hash_flags == 0)
        return false;
    if (!netif_hash_input(frame, len, st->hash_flags, in, &in_len, hash_type))
        return false;
    *hash = netif_toeplitz(st->key, sizeof(st->key), in, in_len);
    return true;
}

unsigned netif_ctrl_select_queue(const struct netif_ctrl_state *st,
                                 uint32_t hash)
{
    if (st->num_queues <= 1)
        return 0;
    if (st->mapping_size) {
        uint32_t q = st->mapping[hash % st->mapping_size];
        /* Entries were checked against num_queues when set; stay safe if
         * the backend lowered num_queues since. */
        return q < st->num_queues ? q : 0;
    }
    return hash % st->num_queues;
}

int netif_gref_table_find(const struct netif_gref_table *t, grant_ref_t ref)
{
    for (unsigned i = 0; i < t->n; i++)
        if (t->e[i].ref == ref)
            return (int)i;
    return -1;
}

uint32_t netif_gref_table_add(struct netif_gref_table *t,
                              const struct xen_netif_gref *list, unsigned n)
{
    if (n > NETIF_GREF_TABLE_MAX - t->n)
        return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
    for (unsigned i = 0; i < n; i++) {
        if (netif_gref_table_find(t, list[i].ref) >= 0)
            return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
        for (unsigned j = 0; j < i; j++)
            if (list[j].ref == list[i].ref)
                return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
    }
    for (unsigned i = 0; i < n; i++) {
        t->e[t->n].ref = list[i].ref;
        t->e[t->n].flags = list[i].flags & XEN_NETIF_CTRLF_GREF_readonly;
        t->n++;
    }
    return XEN_NETIF_CTRL_STATUS_SUCCESS;
}

unsigned netif_gref_table_del(struct netif_gref_table *t,
                              struct xen_netif_gref *list, unsigned n)
{
    unsigned removed = 0;

    for (unsigned i = 0; i < n; i++) {
        int at = netif_gref_table_find(t, list[i].ref);
        if (at < 0) {
            list[i].status = XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
            continue;
        }
        t->e[at] = t->e[--t->n];
        list[i].status = XEN_NETIF_CTRL_STATUS_SUCCESS;
        removed++;
    }
    return removed;
}
