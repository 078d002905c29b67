/* Host plumbing for the integration tests that touch real Linux networking:
 * root and tool checks, shell commands, and a network namespace wired to a
 * Linux bridge through a veth pair — all with unique names so parallel runs
 * don't collide, and all torn down by it_linuxnet_down() whatever state
 * the test reached. */
#ifndef IT_SYS_H
#define IT_SYS_H

#include <stdbool.h>
#include <stddef.h>

/* True when the test may run; else false with why (cap bytes) saying what
 * is missing (root, a tool), for skip(). tools is NULL-terminated. */
bool it_need(char *why, size_t cap, const char *const *tools, bool root);

/* Runs `sh -c CMD`; stdout goes into out (cap bytes, NUL-terminated) when
 * out is not NULL; stderr is the test's. Returns the exit status or -1. */
int it_sh(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A namespace `ns` whose veth end `veth_ns` has `ns_addr` (CIDR), and
 * whose peer `veth_host` is a port of the Linux bridge `br` in the root
 * namespace. */
struct it_linuxnet {
    char ns[32];
    char br[16];
    char veth_host[16];
    char veth_ns[16];
    bool have_ns, have_br, have_veth;
};

/* Names from tag (a short string) and the pid; creates everything.
 * 0, or -1 with the failing command printed. */
int it_linuxnet_up(struct it_linuxnet *n, const char *tag, const char *ns_addr);
/* Removes whatever it_linuxnet_up created (safe to call twice). */
void it_linuxnet_down(struct it_linuxnet *n);

/* Deletes a network device left behind (ignored when absent). */
void it_link_del(const char *ifname);

/* Polls (20 ms steps, at most timeout_s) until `ip link show dev ifname`
 * finds it. */
bool it_link_wait(const char *ifname, unsigned timeout_s);

#endif
