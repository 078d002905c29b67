/* netbackd: the Xen netif backend as a userspace daemon.
 *
 *   netbackd [--config FILE] [--ctl PATH] [--foreground] [--log-level L]
 *            [--mode event|poll] [--max-queues N] [--bridge NAME]
 *
 * The main thread runs one epoll loop over the xenstore watch fd, the
 * control socket, a 1 s housekeeping timer and a signalfd; each vif queue
 * has its own worker thread (worker.c). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <xenstore.h>

#include "backend/ctl.h"
#include "backend/log.h"
#include "backend/netbackd.h"
#include "backend/plane.h"
#include "backend/settings.h"
#include "backend/xs_parse.h"
#include "bridge/config.h"
#include "bridge/switchboard.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: netbackd [options]\n"
        "  --config FILE       config file (libconfig: netbackd { }, eal, bridges, ports;\n"
        "                      docs/config.md)\n"
        "  --ctl PATH          control socket (default /run/netbackd.sock)\n"
        "  --foreground        don't detach\n"
        "  --log-level L       err, warn, info (default) or debug\n"
        "  --mode M            default worker mode: event (default) or poll\n"
        "  --max-queues N      multi-queue-max-queues offered (default min(8, CPUs))\n"
        "  --bridge NAME       bridge for vifs without a bridge key (default xenbr0)\n");
}

static int parse_args(struct nbd_ctx *ctx, int argc, char **argv, bool *foreground)
{
    enum { O_CONFIG = 1, O_CTL, O_FG, O_LOG, O_MODE, O_MAXQ, O_BRIDGE, O_HELP };
    static const struct option opts[] = {
        { "config", required_argument, NULL, O_CONFIG },
        { "ctl", required_argument, NULL, O_CTL },
        { "foreground", no_argument, NULL, O_FG },
        { "log-level", required_argument, NULL, O_LOG },
        { "mode", required_argument, NULL, O_MODE },
        { "max-queues", required_argument, NULL, O_MAXQ },
        { "bridge", required_argument, NULL, O_BRIDGE },
        { "help", no_argument, NULL, O_HELP },
        { NULL, 0, NULL, 0 },
    };
    const char *ctl = NULL, *mode = NULL, *maxq = NULL, *bridge = NULL, *level = NULL;
    int c;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_CONFIG: snprintf(ctx->set.config_file, sizeof(ctx->set.config_file), "%s", optarg); break;
        case O_CTL: ctl = optarg; break;
        case O_FG: *foreground = true; break;
        case O_LOG: level = optarg; break;
        case O_MODE: mode = optarg; break;
        case O_MAXQ: maxq = optarg; break;
        case O_BRIDGE: bridge = optarg; break;
        case O_HELP: usage(stdout); exit(0);
        default: usage(stderr); return -EINVAL;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return -EINVAL;
    }
    /* the file first, so the command line wins */
    if (ctx->set.config_file[0] && nbd_settings_load(&ctx->set, ctx->set.config_file))
        return -EINVAL;
    if (level) {
        int l = nbd_log_level_parse(level);
        if (l < 0) {
            fprintf(stderr, "netbackd: unknown log level %s\n", level);
            return -EINVAL;
        }
        nbd_log_set_level((enum nbd_log_level)l);
    }
    if (ctl)
        snprintf(ctx->set.ctl_path, sizeof(ctx->set.ctl_path), "%s", ctl);
    if (bridge)
        snprintf(ctx->set.default_bridge, sizeof(ctx->set.default_bridge), "%s", bridge);
    if (mode && nbd_parse_mode(mode, &ctx->set.mode)) {
        fprintf(stderr, "netbackd: --mode must be event or poll\n");
        return -EINVAL;
    }
    if (maxq) {
        uint32_t v;
        if (nbd_parse_u32(maxq, NBD_MAX_QUEUES, &v) || v == 0) {
            fprintf(stderr, "netbackd: --max-queues must be 1..%u\n", NBD_MAX_QUEUES);
            return -EINVAL;
        }
        ctx->set.max_queues = v;
    }
    return 0;
}

static int add_fd(struct nbd_ctx *ctx, int fd)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

    return epoll_ctl(ctx->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static int setup_loop(struct nbd_ctx *ctx)
{
    struct itimerspec its = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };
    sigset_t sigs;

    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    /* blocked before any worker starts, so every thread inherits it */
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    if ((ctx->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
        (ctx->signal_fd = signalfd(-1, &sigs, SFD_CLOEXEC)) < 0 ||
        (ctx->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK)) < 0 ||
        timerfd_settime(ctx->timer_fd, 0, &its, NULL) ||
        add_fd(ctx, ctx->signal_fd) || add_fd(ctx, ctx->timer_fd) ||
        add_fd(ctx, xs_fileno(ctx->xsh)))
        return -errno;
    return 0;
}

static void run(struct nbd_ctx *ctx)
{
    int xs_fd = xs_fileno(ctx->xsh);

    while (!ctx->stop) {
        struct epoll_event ev[16];
        int n = epoll_wait(ctx->epfd, ev, 16, -1);

        if (n < 0 && errno != EINTR) {
            nbd_log(NBD_LOG_ERR, "epoll_wait: %s", strerror(errno));
            return;
        }
        for (int i = 0; i < n; i++) {
            int fd = ev[i].data.fd;

            if (fd == xs_fd) {
                nbd_xenbus_handle_watch(ctx);
            } else if (fd == ctx->timer_fd) {
                uint64_t ticks;
                if (read(fd, &ticks, sizeof(ticks)) < 0) { /* spurious */ }
                nbd_xenbus_housekeeping(ctx);
            } else if (fd == ctx->signal_fd) {
                struct signalfd_siginfo si;
                if (read(fd, &si, sizeof(si)) == sizeof(si)) {
                    nbd_log(NBD_LOG_INFO, "signal %u: shutting down", si.ssi_signo);
                    ctx->stop = true;
                }
            } else if (nbd_ctl_owns(ctx->ctl, fd)) {
                nbd_ctl_event(ctx->ctl, fd);
            }
        }
    }
}

int main(int argc, char **argv)
{
    struct nbd_ctx *ctx = calloc(1, sizeof(*ctx));
    struct nb_config *plane_cfg = NULL;
    char err[512];
    bool foreground = false;
    int rc = 1;

    if (!ctx)
        return 1;
    ctx->epfd = ctx->signal_fd = ctx->timer_fd = -1;
    nbd_settings_default(&ctx->set);
    if (parse_args(ctx, argc, argv, &foreground))
        goto out;
    /* Parsed before detaching, so a mistake is reported where it was made. */
    if (nbd_plane_load(ctx->set.config_file, &plane_cfg, err, sizeof(err))) {
        nbd_log(NBD_LOG_ERR, "%s", err);
        goto out;
    }
    if (!foreground && daemon(0, 1)) {
        perror("netbackd: daemon");
        goto out;
    }
    if (!(ctx->sb = nb_switchboard_new())) {
        nbd_log(NBD_LOG_ERR, "out of memory");
        goto out;
    }
    /* After daemon(): the ports' receive threads would not survive its fork. */
    if (nbd_plane_start(ctx, plane_cfg, err, sizeof(err))) {
        nbd_log(NBD_LOG_ERR, "%s", err);
        goto out;
    }
    nb_config_free(plane_cfg);
    plane_cfg = NULL;
    if (!(ctx->xsh = xs_open(0))) {
        nbd_log(NBD_LOG_ERR, "cannot open xenstore: %s", strerror(errno));
        goto out;
    }
    if (setup_loop(ctx)) {
        nbd_log(NBD_LOG_ERR, "event loop setup: %s", strerror(errno));
        goto out;
    }
    if (!(ctx->ctl = nbd_ctl_open(ctx, ctx->set.ctl_path)))
        goto out;
    if (nbd_xenbus_start(ctx))
        goto out;
    nbd_log(NBD_LOG_INFO, "netbackd running: mode %s, up to %u queues per vif",
            ctx->set.mode == NBD_MODE_POLL ? "poll" : "event", ctx->set.max_queues);
    run(ctx);
    rc = 0;
out:
    nbd_xenbus_shutdown(ctx);
    nbd_plane_stop(ctx);
    nb_config_free(plane_cfg);
    if (ctx->sb)
        nb_switchboard_free(ctx->sb);
    nbd_ctl_close(ctx->ctl, ctx->set.ctl_path);
    if (ctx->xsh)
        xs_close(ctx->xsh);
    if (ctx->epfd >= 0)
        close(ctx->epfd);
    if (ctx->signal_fd >= 0)
        close(ctx->signal_fd);
    if (ctx->timer_fd >= 0)
        close(ctx->timer_fd);
    free(ctx);
    return rc;
}
