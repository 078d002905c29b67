/* Static grants removed while a worker copies: the snapshot sgrant.c
 * publishes against its writer, in one process on the emulator. A reader
 * thread copies out of and into granted pages exactly as a queue's worker
 * does (a view per burst, copies, leave), while this thread adds and
 * deletes the same pages over and over as queue 0's worker does for the
 * control ring. A copy through a page unmapped under it would fault (ASan
 * reports it too); a copy the static path declines is grant-copied instead,
 * and every byte read either way is checked. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <xenctrl.h>
#include <xengnttab.h>

#include "backend/log.h"
#include "backend/vif.h"
#include "tests/lib/simenv.h"

#define GUEST 1
#define NPAGES 16                 /* 0..7 read-only (TX), 8..15 writable (RX) */
#define RX0 (NPAGES / 2)
#define ROUNDS 400                /* ADD + DEL cycles */

struct world {
    struct simenv *env;
    int refs_pipe[2], done_pipe[2];
    pid_t guest;
    grant_ref_t refs[NPAGES];
    bool ready;      /* the guest shared its pages; we are dom0 */
};

/* What page i holds at byte j (the guest writes it; RX copies write the
 * same bytes back, so it never changes). */
static uint8_t pattern(unsigned i, unsigned j)
{
    return (uint8_t)(i * 37 + j * 11 + (j >> 8));
}

static int guest_share(void *arg)
{
    struct world *w = arg;
    xengntshr_handle *gs = xengntshr_open(NULL, 0);
    uint32_t refs[NPAGES];
    uint8_t *pages;
    char c;

    if (!gs)
        return 2;
    if (!(pages = xengntshr_share_pages(gs, 0, NPAGES, refs, 1)))
        return 3;
    for (unsigned i = 0; i < NPAGES; i++)
        for (unsigned j = 0; j < 4096; j++)
            pages[i * 4096 + j] = pattern(i, j);
    if (write(w->refs_pipe[1], refs, sizeof(refs)) != (ssize_t)sizeof(refs))
        return 4;
    if (read(w->done_pipe[0], &c, 1) != 1)
        return 5;
    xengntshr_unshare(gs, pages, NPAGES);
    xengntshr_close(gs);
    return 0;
}

struct reader {
    struct nbd_queue *q;
    grant_ref_t refs[NPAGES];
    atomic_bool stop;
    unsigned long static_tx, static_rx, granted, bad, readonly_written;
};

static uint32_t next_rand(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* A grant copy of len bytes at off of page `ref` into buf: the path a
 * slot takes when it is not (or no longer) a static grant. */
static bool grant_copy_from(xengnttab_handle *xgt, grant_ref_t ref, uint16_t off, uint16_t len,
                            uint8_t *buf)
{
    xengnttab_grant_copy_segment_t seg = {
        .source.foreign = { .ref = ref, .offset = off, .domid = GUEST },
        .dest.virt = buf,
        .len = len,
        .flags = GNTCOPY_source_gref,
    };
    return xengnttab_grant_copy(xgt, 1, &seg) == 0 && seg.status == GNTST_okay;
}

static void *reader_main(void *arg)
{
    struct reader *r = arg;
    xengnttab_handle *xgt = xengnttab_open(NULL, 0);
    uint32_t seed = 12345;
    uint8_t buf[4096], want[4096];

    if (!xgt) {
        r->bad++;
        return NULL;
    }
    while (!atomic_load(&r->stop)) {
        struct nbd_sgrant_view v = nbd_sgrant_view(&r->q->sgrants);
        for (unsigned k = 0; k < 32; k++) {     /* a burst's worth of slots */
            unsigned page = next_rand(&seed) % NPAGES;
            uint16_t off = (uint16_t)(next_rand(&seed) % 4096);
            uint16_t len = (uint16_t)(1 + next_rand(&seed) % (4096 - off));
            for (unsigned j = 0; j < len; j++)
                want[j] = pattern(page, off + j);
            if (page >= RX0) {
                /* RX: writes the bytes the page already holds */
                if (nbd_sgrant_copy_to(&v, r->refs[page], off, len, want))
                    r->static_rx++;
                continue;
            }
            if (nbd_sgrant_copy_to(&v, r->refs[page], off, len, want))
                r->readonly_written++;  /* must never happen: mapped read-only */
            memset(buf, 0, len);
            if (nbd_sgrant_copy_from(&v, r->refs[page], off, len, buf))
                r->static_tx++;
            else if (grant_copy_from(xgt, r->refs[page], off, len, buf))
                r->granted++;
            else
                r->bad++;
            if (memcmp(buf, want, len))
                r->bad++;
        }
        nbd_sgrant_leave(r->q, &v);
    }
    xengnttab_close(xgt);
    return NULL;
}

static int setup(void **state)
{
    struct world *w = calloc(1, sizeof(*w));

    *state = w;
    if (!w || !(w->env = simenv_start()) || simenv_domain_create(w->env, GUEST) ||
        pipe(w->refs_pipe) || pipe(w->done_pipe))
        return 0;
    if ((w->guest = simenv_spawn(w->env, GUEST, guest_share, w)) < 0)
        return 0;
    if (read(w->refs_pipe[0], w->refs, sizeof(w->refs)) != (ssize_t)sizeof(w->refs))
        return 0;
    w->ready = simenv_enter(w->env, 0) == 0;
    return 0;
}

static int teardown(void **state)
{
    struct world *w = *state;

    if (w && w->env) {
        if (w->guest > 0) {
            if (write(w->done_pipe[1], "d", 1) != 1)
                perror("done pipe");
            simenv_wait(w->guest);
        }
        simenv_stop(w->env);
    }
    free(w);
    return 0;
}

/* ADD (tx read-only, rx writable) then DEL of every page, ROUNDS times,
 * while the reader runs; a DEL of half the pages in between. */
static void nbd_sgrant_del_while_copying_never_touches_unmapped_page(void **state)
{
    struct world *w = *state;
    struct nbd_vif *vif = calloc(1, sizeof(*vif));
    struct nbd_queue *q = calloc(1, sizeof(*q));
    struct reader r = { .q = q };
    struct xen_netif_gref list[NPAGES];
    pthread_t th;

    if (!w || !w->ready)
        fail_msg("no emulator or guest (see stderr)");
    assert_non_null(vif);
    assert_non_null(q);
    vif->domid = GUEST;
    snprintf(vif->name, sizeof(vif->name), "vif%u.0", GUEST);
    snprintf(q->name, sizeof(q->name), "vif%u.0-q0", GUEST);
    vif->num_queues = 1;
    vif->queues[0] = q;
    q->vif = vif;
    nbd_sgrant_table_init(&q->sgrants);
    assert_non_null(vif->sgrant_xgt = xengnttab_open(NULL, 0));
    memcpy(r.refs, w->refs, sizeof(r.refs));
    assert_int_equal(pthread_create(&th, NULL, reader_main, &r), 0);

    for (unsigned round = 0; round < ROUNDS; round++) {
        for (unsigned i = 0; i < NPAGES; i++)
            list[i] = (struct xen_netif_gref){
                .ref = w->refs[i], .flags = i < RX0 ? XEN_NETIF_CTRLF_GREF_readonly : 0 };
        assert_int_equal(nbd_sgrant_add(vif, q, list, NPAGES), XEN_NETIF_CTRL_STATUS_SUCCESS);
        usleep(200);
        /* every other page first, then the rest: deletions from the middle
         * of probe sequences as well as whole-table teardown */
        for (unsigned i = 0; i < NPAGES; i++)
            list[i].status = i % 2 ? XEN_NETIF_CTRL_STATUS_SUCCESS : XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED;
        nbd_sgrant_del(vif, q, list, NPAGES);
        usleep(100);
        for (unsigned i = 0; i < NPAGES; i++)
            list[i].status = XEN_NETIF_CTRL_STATUS_SUCCESS;
        if (round % 2)
            nbd_sgrant_del(vif, q, list, NPAGES);
        else
            nbd_sgrant_unmap_all(vif);      /* disconnect's teardown */
    }
    atomic_store(&r.stop, true);
    assert_int_equal(pthread_join(th, NULL), 0);

    assert_int_equal(r.bad, 0);
    assert_int_equal(r.readonly_written, 0);
    /* both paths were really taken, with the writer racing */
    assert_true(r.static_tx > 0);
    assert_true(r.static_rx > 0);
    assert_true(r.granted > 0);
    assert_int_equal(q->stats.sgrant_maps, (uint64_t)ROUNDS * NPAGES);
    assert_int_equal(q->stats.sgrant_unmaps, (uint64_t)ROUNDS * NPAGES);
    assert_int_equal(q->stats.sgrant_copies, r.static_tx + r.static_rx);
    assert_null(atomic_load(&q->sgrants.cur));
    xengnttab_close(vif->sgrant_xgt);
    nbd_sgrant_table_destroy(&q->sgrants);
    free(q);
    free(vif);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nbd_sgrant_del_while_copying_never_touches_unmapped_page),
    };

    nbd_log_set_level(NBD_LOG_WARN);
    return cmocka_run_group_tests(tests, setup, teardown);
}
