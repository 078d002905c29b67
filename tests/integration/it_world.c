/* The emulated-guest fixture of the integration tests (see it_world.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "backend/netfront/nf_frame.h"
#include "tests/integration/it_world.h"

const uint8_t it_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

int it_world_new(void **state)
{
    struct it_world *w = test_calloc(1, sizeof(*w));

    if (!w)
        return -1;
    *state = w;
    return 0;
}

/* Emulator + netbackd, and guests domid 1..n with vif 0 on bridge "itbr"
 * (vif_args[i] adds netbackctl vif-add arguments). Skips when the stack is
 * not built. */
void it_world_up(struct it_world *w, const char *netbackd_args, unsigned n,
                 const char *const *vif_args)
{
    char args[256];

    if (dp_env_start(&w->env, netbackd_args ? netbackd_args : "--bridge itdefault") != 0) {
        fprintf(stderr, "skip: %s\n", w->env.skip_reason);
        w->env_up = w->env.dir[0] != 0;
        skip();
    }
    w->env_up = true;
    w->n = n;
    for (unsigned i = 0; i < n; i++) {
        w->domid[i] = i + 1;
        dp_guest_mac(w->domid[i], 0, w->mac[i]);
        snprintf(args, sizeof(args), "--bridge itbr %s",
                 vif_args && vif_args[i] ? vif_args[i] : "");
        assert_int_equal(dp_guest_add(&w->env, w->domid[i], 0, args), 0);
        w->probe[i] = it_probe_new(0);
        assert_non_null(w->probe[i]);
        w->pid[i] = dp_spawn(&w->env, w->domid[i], it_probe_main, w->probe[i]);
        assert_true(w->pid[i] > 0);
    }
    for (unsigned i = 0; i < n; i++)
        if (!it_probe_wait_ready(w->probe[i], IT_LIVENESS_S))
            fail_msg("guest dom%u: %s (netbackd log: %s)", w->domid[i], w->probe[i]->err,
                     w->env.netbackd_log);
}

int it_world_free(void **state)
{
    struct it_world *w = *state;
    int rc = 0;

    for (unsigned i = 0; i < IT_GUESTS; i++) {
        if (!w->probe[i])
            continue;
        __atomic_store_n(&w->probe[i]->stop, 1, __ATOMIC_RELEASE);
        if (w->pid[i] > 0 && dp_wait(w->pid[i], IT_LIVENESS_S) != 0) {
            fprintf(stderr, "guest dom%u ended badly: %s\n", w->domid[i], w->probe[i]->err);
            rc = -1;
        }
        it_probe_free(w->probe[i]);
    }
    if (w->env_up)
        dp_env_stop(&w->env);
    test_free(w);
    return rc;
}

/* A fresh numbered pattern frame from guest `from` to dst. */
unsigned it_make_frame(struct it_world *w, unsigned from, const uint8_t dst[6], uint32_t len)
{
    assert_true(w->n_sent < IT_MAX_SENT);
    struct it_frame *f = &w->sent[w->n_sent];

    f->len = len;
    nf_pattern_fill(f->data, len, dst, w->mac[from], ++w->seq);
    return w->n_sent++;
}

/* Guest `from` sends frame idx; `to` lists which guests must get it. */
void it_send_expect(struct it_world *w, unsigned from, unsigned idx, const bool to[IT_GUESTS])
{
    assert_true(it_probe_send(w->probe[from], w->sent[idx].data, w->sent[idx].len, IT_LIVENESS_S));
    for (unsigned g = 0; g < w->n; g++)
        if (to[g]) {
            assert_true(w->n_expect[g] < IT_MAX_SENT);
            w->expect[g][w->n_expect[g]++] = idx;
        }
}

/* Waits until every guest has at least what it expects, then asserts each
 * log is exactly the expected frames, in order, byte for byte. */
void it_check_logs(struct it_world *w)
{
    for (unsigned g = 0; g < w->n; g++)
        if (!it_probe_wait_rx(w->probe[g], w->n_expect[g], IT_LIVENESS_S))
            fail_msg("guest dom%u received %u frames, expected %u", w->domid[g],
                     it_probe_rx_count(w->probe[g]), w->n_expect[g]);
    for (unsigned g = 0; g < w->n; g++) {
        struct it_probe *p = w->probe[g];

        if (it_probe_rx_count(p) != w->n_expect[g])
            fail_msg("guest dom%u received %u frames, expected exactly %u", w->domid[g],
                     it_probe_rx_count(p), w->n_expect[g]);
        for (unsigned k = 0; k < w->n_expect[g]; k++) {
            const struct it_frame *f = &w->sent[w->expect[g][k]];
            if (!it_probe_rx_is(p, k, f->data, f->len))
                fail_msg("guest dom%u frame %u: got %u bytes, expected sent frame #%u (%u bytes)",
                         w->domid[g], k, p->rx_len[k], w->expect[g][k], f->len);
        }
    }
}

/* Every guest of from's VLAN except from */
void it_all_but(const struct it_world *w, unsigned from, bool to[IT_GUESTS])
{
    for (unsigned g = 0; g < IT_GUESTS; g++)
        to[g] = g < w->n && g != from && w->vlan[g] == w->vlan[from];
}

/* Each guest in turn broadcasts two frames (minimum and full size); every
 * other guest of its VLAN gets both, the sender neither. Waiting for the second frame
 * before the next sender starts means the bridge has finished with the
 * first one completely, so a hairpin copy would sit in the sender's log
 * ahead of the next guest's frames. Also teaches the bridge every MAC. */
void it_broadcast_round(struct it_world *w)
{
    bool to[IT_GUESTS];

    for (unsigned s = 0; s < w->n; s++) {
        it_all_but(w, s, to);
        it_send_expect(w, s, it_make_frame(w, s, it_bcast, 60), to);
        it_send_expect(w, s, it_make_frame(w, s, it_bcast, 1514), to);
        it_check_logs(w);
    }
}

