/* The shared fixture of the emulated-guest integration tests: a private
 * emulator with netbackd, up to IT_GUESTS probe guests (domid 1..n, vif 0
 * on bridge "itbr"), and for each guest the exact list of frames it must
 * have received so far. Functions assert with cmocka; call them from a
 * test body, and it_world_free() from its teardown. */
#ifndef IT_WORLD_H
#define IT_WORLD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "tests/datapath/dp_env.h"
#include "tests/integration/it_probe.h"

#define IT_GUESTS 4
#define IT_LIVENESS_S 60        /* bound for "eventually", never an assertion on speed (x10 of memcheck) */
#define IT_MAX_SENT 48

struct it_frame {
    uint32_t len;
    uint8_t data[IT_FRAME_MAX];
};

struct it_world {
    struct dp_env env;
    bool env_up;
    unsigned n;
    unsigned domid[IT_GUESTS];
    unsigned vlan[IT_GUESTS];           /* 0: untagged, else the guest's access VLAN */
    uint8_t mac[IT_GUESTS][6];
    struct it_probe *probe[IT_GUESTS];
    pid_t pid[IT_GUESTS];
    struct it_frame sent[IT_MAX_SENT];  /* every frame handed to a guest */
    unsigned n_sent;
    unsigned expect[IT_GUESTS][IT_MAX_SENT];   /* indexes into sent[] */
    unsigned n_expect[IT_GUESTS];
    uint64_t seq;
};

extern const uint8_t it_bcast[6];

/* cmocka setup/teardown: allocate, and stop guests + emulator + free. */
int it_world_new(void **state);
int it_world_free(void **state);

/* Starts emulator and netbackd (netbackd_args may be NULL), then n guests
 * whose vif-add gets "--bridge itbr" plus vif_args[i] (may be NULL), and
 * waits until all are connected. skip()s when the stack is not built. */
void it_world_up(struct it_world *w, const char *netbackd_args, unsigned n,
                 const char *const *vif_args);

/* A fresh numbered pattern frame from guest `from` to dst; its index. */
unsigned it_make_frame(struct it_world *w, unsigned from, const uint8_t dst[6], uint32_t len);
/* Guest `from` sends frame idx; guests with to[g] must receive it. */
void it_send_expect(struct it_world *w, unsigned from, unsigned idx, const bool to[IT_GUESTS]);
/* Waits until every guest has what it expects, then asserts each log is
 * exactly the expected frames, in order, byte for byte. */
void it_check_logs(struct it_world *w);
/* to[] = every guest of from's VLAN except from. */
void it_all_but(const struct it_world *w, unsigned from, bool to[IT_GUESTS]);
/* Each guest in turn broadcasts a 60 and a 1514 byte frame; every other
 * guest of its VLAN gets both, the sender neither (see it_world.c). */
void it_broadcast_round(struct it_world *w);

#endif
