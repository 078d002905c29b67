/* One worker thread per queue. It owns the queue's rings: TX (guest ->
 * bridge), RX (bridge backlog -> guest) and, on queue 0, the control ring.
 *
 * Event mode sleeps in epoll on the event channel fd and the wake eventfd
 * (RX backlog, mode change, stop), re-arming the rings' event indices with
 * the FINAL_CHECK discipline before each sleep so no request is missed.
 * Busy-poll mode never sleeps and never re-arms them, so a busy frontend
 * stops notifying altogether (vhost-style; meant for a dedicated core). */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "backend/log.h"
#include "backend/netbackd.h"

/* Consecutive events that found no work before the worker starts to pace
 * itself, and how long it then waits before re-enabling the channel: a
 * guest storming its event channel costs one worker a bounded share of a
 * core instead of starving the others (XSA-332). */
#define SPURIOUS_STREAK_MAX 64
#define SPURIOUS_BACKOFF_US 1000
/* How often a sleeping worker with queued RX wakes to check stall/expiry. */
#define RX_HOUSEKEEPING_MS 100
/* Without feature-rx-notify the frontend never tells us it posted RX
 * buffers: poll for them at this period while packets wait. */
#define RX_NO_NOTIFY_POLL_MS 1
/* TX stopped consuming because the queue's packet pool is empty: buffers
 * come back as other queues deliver (no callback tells us), so look again
 * after this long instead of spinning on the unconsumed requests. Short:
 * at ~1 Mpps a receiver frees a hundred buffers meanwhile. */
#define TX_POOL_RETRY_NS 100000
/* Busy-poll: empty polls between two looks at the event channel (an
 * empty poll takes tens of ns, the look a system call of microseconds in
 * a VM: at 256 the looks were still half of an idle worker's time). */
#define POLL_EVENT_CHECK_EVERY 4096

void nbd_queue_wake(struct nbd_queue *q)
{
    uint64_t one = 1;

    if (write(q->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        nbd_log(NBD_LOG_WARN, "%s: wake: %s", q->name, strerror(errno));
}

/* Handles one pending event channel notification (the fd was readable). */
static void take_event(struct nbd_queue *q)
{
    xenevtchn_port_or_error_t port = xenevtchn_pending(q->xce);

    if (port < 0)
        return;
    nbd_stat_add(&q->stats.notify_recv, 1);
    xenevtchn_unmask(q->xce, (evtchn_port_t)port);
}

static bool event_ready(struct nbd_queue *q)
{
    struct pollfd p = { .fd = xenevtchn_fd(q->xce), .events = POLLIN };

    return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* A look at the guest's TX producer index before a burst: an empty poll
 * (a busy-poll worker that caught up) costs a load, not a burst's setup.
 * A hint only: a stale value is seen on the next poll, and event mode
 * re-checks with the event index armed before it sleeps. A queue waiting
 * for credit or buffers has requests left on the ring, so it passes. */
static bool tx_requests_pending(const struct nbd_queue *q)
{
    return __atomic_load_n(&q->tx.sring->req_prod, __ATOMIC_RELAXED) != q->tx.req_cons;
}

static unsigned do_work(struct nbd_queue *q)
{
    struct nbd_vif *vif = q->vif;
    unsigned work = (tx_requests_pending(q) ? nbd_tx_burst(q) : 0) + nbd_rx_burst(q);

    if (q->id == 0 && vif->has_ctrl)
        work += nbd_ctrl_poll(vif);
    return work;
}

/* How long the worker may sleep (ns), -1 = until an event. */
static int64_t sleep_timeout_ns(struct nbd_queue *q)
{
    struct nbd_vif *vif = q->vif;
    int64_t timeout = -1;
    unsigned queued;

    pthread_mutex_lock(&q->backlog.lock);
    queued = q->backlog.count;
    pthread_mutex_unlock(&q->backlog.lock);
    if (queued)
        timeout = (int64_t)(vif->fe.rx_notify ? RX_HOUSEKEEPING_MS : RX_NO_NOTIFY_POLL_MS) * 1000000;
    if (q->tx_pool_starved && (timeout < 0 || TX_POOL_RETRY_NS < timeout))
        timeout = TX_POOL_RETRY_NS;
    if (q->tx_wait_until_ns) {
        uint64_t now = nbd_now_ns();
        int64_t ns = q->tx_wait_until_ns > now ? (int64_t)(q->tx_wait_until_ns - now) : 0;
        if (timeout < 0 || ns < timeout)
            timeout = ns;
    }
    return timeout;
}

/* epoll_wait with a nanosecond timeout (-1 = none). epoll_pwait2 came with
 * Linux 5.11 and valgrind 3.19 does not know it: on ENOSYS the queue falls
 * back to epoll_wait with the timeout rounded up to whole milliseconds
 * (sleeping a little longer is harmless; waking early would spin). */
static int wait_events(struct nbd_queue *q, int ep, struct epoll_event *ev, int max,
                       int64_t timeout_ns)
{
    if (!q->no_epoll_pwait2) {
        struct timespec ts = { .tv_sec = timeout_ns / 1000000000,
                               .tv_nsec = timeout_ns % 1000000000 };
        int n = epoll_pwait2(ep, ev, max, timeout_ns < 0 ? NULL : &ts, NULL);

        if (n >= 0 || errno != ENOSYS)
            return n;
        q->no_epoll_pwait2 = true;
        nbd_log(NBD_LOG_INFO, "%s: no epoll_pwait2 here, waiting in epoll_wait", q->name);
    }
    int64_t ms = timeout_ns < 0 ? -1 : (timeout_ns + 999999) / 1000000;

    return epoll_wait(ep, ev, max, ms > INT32_MAX ? INT32_MAX : (int)ms);
}

static void pin(struct nbd_queue *q)
{
    cpu_set_t set;
    int rc;

    if (q->cpu < 0)
        return;
    CPU_ZERO(&set);
    CPU_SET(q->cpu, &set);
    if ((rc = pthread_setaffinity_np(pthread_self(), sizeof(set), &set)))
        nbd_log(NBD_LOG_WARN, "%s: pinning to cpu %d: %s", q->name, q->cpu, strerror(rc));
}

/* A disabled vif's queue only drops what the bridge still sends it and
 * swallows events until the device is torn down. */
static void idle_disabled(struct nbd_queue *q, int ep)
{
    struct epoll_event ev[2];
    int n = epoll_wait(ep, ev, 2, 1000);

    for (int i = 0; i < n; i++) {
        if (ev[i].data.u32 == 0) {
            take_event(q);
        } else {
            uint64_t v;
            if (read(q->wake_fd, &v, sizeof(v)) < 0) { /* nothing queued */ }
        }
    }
    nbd_rx_backlog_flush(q);
}

static void *worker_main(void *arg)
{
    struct nbd_queue *q = arg;
    struct nbd_vif *vif = q->vif;
    struct epoll_event ev[3];
    int ep = epoll_create1(EPOLL_CLOEXEC);
    char tname[16];

    snprintf(tname, sizeof(tname), "nb-%s", q->name + 3);
    pthread_setname_np(pthread_self(), tname);
    pin(q);
    ev[0] = (struct epoll_event){ .events = EPOLLIN, .data.u32 = 0 };
    ev[1] = (struct epoll_event){ .events = EPOLLIN, .data.u32 = 1 };
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, xenevtchn_fd(q->xce), &ev[0]) ||
        epoll_ctl(ep, EPOLL_CTL_ADD, q->wake_fd, &ev[1])) {
        nbd_log(NBD_LOG_ERR, "%s: worker epoll: %s", q->name, strerror(errno));
        nbd_vif_disable(vif, "worker could not start");
        if (ep >= 0)
            close(ep);
        return NULL;
    }

    bool evented = false;
    unsigned idle_polls = 0;
    while (!atomic_load_explicit(&q->stop, memory_order_acquire)) {
        if (atomic_load_explicit(&vif->disabled, memory_order_relaxed)) {
            idle_disabled(q, ep);
            continue;
        }
        unsigned work = do_work(q);

        if (evented) {
            evented = false;
            if (work) {
                q->spurious_streak = 0;
            } else if (++q->spurious_streak > SPURIOUS_STREAK_MAX) {
                nbd_stat_add(&q->stats.spurious_events, 1);
                usleep(SPURIOUS_BACKOFF_US);
            }
        }
        if (atomic_load_explicit(&vif->mode, memory_order_relaxed) == NBD_MODE_POLL) {
            /* Notifications still arrive now and then: take them so the
             * channel doesn't stay masked when we return to event mode.
             * Not on every empty poll: the look is a system call (a
             * microsecond or more, in a VM several), which would make a
             * worker that catches up with its guest answer late. */
            if (!work && ++idle_polls >= POLL_EVENT_CHECK_EVERY) {
                idle_polls = 0;
                if (event_ready(q))
                    take_event(q);
            }
            continue;
        }
        if (work)
            continue;
        atomic_store(&q->sleeping, true);
        if (nbd_tx_final_check(q) || nbd_rx_final_check(q) ||
            (q->id == 0 && vif->has_ctrl && nbd_ctrl_final_check(vif))) {
            atomic_store(&q->sleeping, false);
            continue;
        }
        int n = wait_events(q, ep, ev, 2, sleep_timeout_ns(q));
        atomic_store(&q->sleeping, false);
        for (int i = 0; i < n; i++) {
            if (ev[i].data.u32 == 0) {
                take_event(q);
                evented = true;
            } else {
                uint64_t v;
                if (read(q->wake_fd, &v, sizeof(v)) < 0) { /* already drained */ }
            }
        }
    }
    nbd_tx_stash_release(q);
    close(ep);
    return NULL;
}

int nbd_queue_start(struct nbd_queue *q)
{
    int rc;

    atomic_store(&q->stop, false);
    if ((rc = pthread_create(&q->thread, NULL, worker_main, q)))
        return -rc;
    q->thread_started = true;
    return 0;
}

void nbd_queue_stop(struct nbd_queue *q)
{
    if (!q->thread_started)
        return;
    atomic_store_explicit(&q->stop, true, memory_order_release);
    nbd_queue_wake(q);
    pthread_join(q->thread, NULL);
    q->thread_started = false;
}
