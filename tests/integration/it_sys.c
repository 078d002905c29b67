/* Host plumbing for the real-networking integration tests (see it_sys.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/integration/it_sys.h"

static bool on_path(const char *tool)
{
    const char *path = getenv("PATH");
    char dirs[4096], file[4352];

    snprintf(dirs, sizeof(dirs), "%s:/usr/sbin:/sbin", path ? path : "/usr/bin:/bin");
    for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(file, sizeof(file), "%s/%s", d, tool);
        if (access(file, X_OK) == 0)
            return true;
    }
    return false;
}

bool it_need(char *why, size_t cap, const char *const *tools, bool root)
{
    if (root && geteuid() != 0) {
        snprintf(why, cap, "needs root (network namespaces, bridges, tap devices)");
        return false;
    }
    for (; tools && *tools; tools++)
        if (!on_path(*tools)) {
            snprintf(why, cap, "needs the tool `%s`, not found on PATH", *tools);
            return false;
        }
    return true;
}

int it_sh(char *out, size_t cap, const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    fflush(NULL);
    FILE *f = popen(cmd, "r");
    if (!f)
        return -1;
    size_t got = 0;
    char sink[512];
    for (;;) {
        size_t room = out && got + 1 < cap ? cap - 1 - got : 0;
        size_t n = room ? fread(out + got, 1, room, f) : fread(sink, 1, sizeof(sink), f);
        if (n == 0)
            break;
        if (room)
            got += n;
    }
    if (out && cap)
        out[got] = 0;
    int st = pclose(f);
    return st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Runs one setup command; prints it when it fails. */
static int step(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int step(const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    int rc = it_sh(NULL, 0, "%s", cmd);
    if (rc != 0)
        fprintf(stderr, "it_sys: `%s` exited %d\n", cmd, rc);
    return rc;
}

int it_linuxnet_up(struct it_linuxnet *n, const char *tag, const char *ns_addr)
{
    unsigned id = (unsigned)getpid() % 100000u;

    memset(n, 0, sizeof(*n));
    snprintf(n->ns, sizeof(n->ns), "nbit-%s-%u", tag, id);
    snprintf(n->br, sizeof(n->br), "nbbr%.3s%u", tag, id);
    snprintf(n->veth_host, sizeof(n->veth_host), "nbvh%.3s%u", tag, id);
    snprintf(n->veth_ns, sizeof(n->veth_ns), "nbvn%.3s%u", tag, id);
    if (step("ip netns add %s", n->ns))
        return -1;
    n->have_ns = true;
    if (step("ip link add %s type bridge", n->br))
        return -1;
    n->have_br = true;
    /* no STP: ports forward at once instead of after the listening delay */
    if (step("ip link set %s type bridge stp_state 0 forward_delay 0", n->br) ||
        step("ip link set %s up", n->br))
        return -1;
    if (step("ip link add %s type veth peer name %s", n->veth_host, n->veth_ns))
        return -1;
    n->have_veth = true;
    if (step("ip link set %s netns %s", n->veth_ns, n->ns) ||
        step("ip link set %s master %s", n->veth_host, n->br) ||
        step("ip link set %s up", n->veth_host) ||
        step("ip -n %s link set lo up", n->ns) ||
        step("ip -n %s addr add %s dev %s", n->ns, ns_addr, n->veth_ns) ||
        step("ip -n %s link set %s up", n->ns, n->veth_ns) ||
        /* ARP gives up after 3 probes 1 s apart, a loaded valgrind run's
         * guest may answer later: keep asking for 30 s */
        step("ip netns exec %s sysctl -q -w net.ipv4.neigh.%s.mcast_solicit=30", n->ns,
             n->veth_ns))
        return -1;
    return 0;
}

void it_linuxnet_down(struct it_linuxnet *n)
{
    if (n->have_veth)
        it_link_del(n->veth_host);   /* takes its peer in the namespace along */
    if (n->have_br)
        it_link_del(n->br);
    if (n->have_ns)
        it_sh(NULL, 0, "ip netns del %s 2>/dev/null", n->ns);
    n->have_ns = n->have_br = n->have_veth = false;
}

void it_link_del(const char *ifname)
{
    if (ifname && *ifname)
        it_sh(NULL, 0, "ip link del %s 2>/dev/null", ifname);
}

bool it_link_wait(const char *ifname, unsigned timeout_s)
{
    for (unsigned i = 0; i <= timeout_s * 50; i++) {
        if (it_sh(NULL, 0, "ip link show dev %s >/dev/null 2>&1", ifname) == 0)
            return true;
        struct timespec ts = { 0, 20 * 1000000L };
        nanosleep(&ts, NULL);
    }
    return false;
}
