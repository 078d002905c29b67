/* pcap capture with a writer thread, so that neither a slow disk nor a fifo
 * nobody reads ever stalls the datapath. */
#include "bridge/capture.h"

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

struct frame {
    struct frame *next;
    struct pcap_pkthdr hdr;
    uint8_t data[];
};

struct nb_capture {
    char *path;
    uint32_t snaplen;
    bool is_fifo;
    FILE *file;                 /* set by open (regular file) or the writer (fifo) */
    pcap_t *dead;
    pcap_dumper_t *dumper;

    pthread_mutex_t lock;
    pthread_cond_t wake;        /* writer: frames queued or stop */
    pthread_cond_t drained;     /* flushers: queue written */
    struct frame *head, *tail;
    unsigned queued;
    size_t queued_bytes;
    bool stop, opening;
    uint64_t enqueued, written, dropped;
    pthread_t writer;
};

static void write_all(struct nb_capture *cap, struct frame *list)
{
    uint64_t n = 0;

    while (list) {
        struct frame *next = list->next;
        if (cap->dumper) {
            pcap_dump((u_char *)cap->dumper, &list->hdr, list->data);
            n++;
        }
        free(list);
        list = next;
    }
    if (cap->dumper)
        pcap_dump_flush(cap->dumper);
    pthread_mutex_lock(&cap->lock);
    cap->written += n;
    pthread_mutex_unlock(&cap->lock);
}

static void *writer_main(void *arg)
{
    struct nb_capture *cap = arg;
    sigset_t pipe_set;

    /* A reader that goes away makes write() fail with EPIPE instead of
     * killing the daemon: SIGPIPE is thread-directed, so blocking it here
     * is enough. */
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);

    if (cap->is_fifo) {
        FILE *f = fopen(cap->path, "w");   /* waits for a reader */
        pthread_mutex_lock(&cap->lock);
        cap->opening = false;
        if (f && !cap->stop) {
            cap->file = f;
            cap->dumper = pcap_dump_fopen(cap->dead, f);
            if (!cap->dumper)
                fclose(f);
        } else if (f) {
            fclose(f);
        }
        pthread_mutex_unlock(&cap->lock);
    }

    pthread_mutex_lock(&cap->lock);
    for (;;) {
        while (!cap->head && !cap->stop)
            pthread_cond_wait(&cap->wake, &cap->lock);
        struct frame *list = cap->head;
        bool stop = cap->stop;
        unsigned n = cap->queued;
        cap->head = cap->tail = NULL;
        cap->queued = 0;
        cap->queued_bytes = 0;
        if (!cap->dumper)
            cap->dropped += n;
        pthread_mutex_unlock(&cap->lock);
        write_all(cap, list);
        pthread_mutex_lock(&cap->lock);
        pthread_cond_broadcast(&cap->drained);
        if (stop && !cap->head)
            break;
    }
    pthread_mutex_unlock(&cap->lock);
    return NULL;
}

struct nb_capture *nb_capture_open(const char *path, uint32_t snaplen, int *err)
{
    struct nb_capture *cap = calloc(1, sizeof(*cap));
    struct stat st;

    if (!cap) {
        *err = -ENOMEM;
        return NULL;
    }
    cap->snaplen = snaplen ? snaplen : NB_PKT_MAX_LEN;
    cap->path = strdup(path);
    cap->dead = pcap_open_dead(DLT_EN10MB, (int)cap->snaplen);
    if (!cap->path || !cap->dead) {
        *err = -ENOMEM;
        goto fail;
    }
    cap->is_fifo = stat(path, &st) == 0 && S_ISFIFO(st.st_mode);
    if (!cap->is_fifo) {
        cap->file = fopen(path, "w");
        if (!cap->file) {
            *err = -errno;
            goto fail;
        }
        cap->dumper = pcap_dump_fopen(cap->dead, cap->file);
        if (!cap->dumper) {
            fclose(cap->file);
            *err = -EIO;
            goto fail;
        }
    }
    cap->opening = cap->is_fifo;
    pthread_mutex_init(&cap->lock, NULL);
    pthread_cond_init(&cap->wake, NULL);
    pthread_cond_init(&cap->drained, NULL);
    if (pthread_create(&cap->writer, NULL, writer_main, cap) != 0) {
        *err = -EAGAIN;
        if (cap->dumper)
            pcap_dump_close(cap->dumper);
        pthread_mutex_destroy(&cap->lock);
        pthread_cond_destroy(&cap->wake);
        pthread_cond_destroy(&cap->drained);
        goto fail;
    }
    return cap;
fail:
    if (cap->dead)
        pcap_close(cap->dead);
    free(cap->path);
    free(cap);
    return NULL;
}

void nb_capture_frames(struct nb_capture *cap, struct nb_pkt *const *pkts, unsigned n)
{
    struct frame *first = NULL, **link = &first, *last = NULL;
    unsigned made = 0;
    size_t bytes = 0;
    struct timeval now;

    gettimeofday(&now, NULL);
    for (unsigned i = 0; i < n; i++) {
        uint32_t caplen = pkts[i]->len < cap->snaplen ? pkts[i]->len : cap->snaplen;
        struct frame *f = malloc(sizeof(*f) + caplen);
        if (!f)
            break;
        f->next = NULL;
        f->hdr.ts = now;
        f->hdr.caplen = caplen;
        f->hdr.len = pkts[i]->len;
        memcpy(f->data, pkts[i]->data, caplen);
        *link = last = f;
        link = &f->next;
        made++;
        bytes += caplen;
    }
    pthread_mutex_lock(&cap->lock);
    cap->dropped += n - made;
    if (cap->queued + made > NB_CAPTURE_QUEUE_MAX ||
        cap->queued_bytes + bytes > NB_CAPTURE_QUEUE_BYTES || cap->stop) {
        cap->dropped += made;
        pthread_mutex_unlock(&cap->lock);
        while (first) {
            struct frame *next = first->next;
            free(first);
            first = next;
        }
        return;
    }
    if (made) {
        if (cap->tail)
            cap->tail->next = first;
        else
            cap->head = first;
        cap->tail = last;
        cap->queued += made;
        cap->queued_bytes += bytes;
        cap->enqueued += made;
        pthread_cond_signal(&cap->wake);
    }
    pthread_mutex_unlock(&cap->lock);
}

void nb_capture_flush(struct nb_capture *cap)
{
    pthread_mutex_lock(&cap->lock);
    uint64_t target = cap->enqueued;
    while (cap->written + cap->dropped < target)
        pthread_cond_wait(&cap->drained, &cap->lock);
    pthread_mutex_unlock(&cap->lock);
}

void nb_capture_close(struct nb_capture *cap)
{
    bool opening;

    if (!cap)
        return;
    pthread_mutex_lock(&cap->lock);
    cap->stop = true;
    opening = cap->opening;
    pthread_cond_signal(&cap->wake);
    pthread_mutex_unlock(&cap->lock);
    if (opening) {
        /* The writer may still wait in open() for a reader that never
         * came: be that reader for a moment. */
        int fd = open(cap->path, O_RDONLY | O_NONBLOCK);
        pthread_join(cap->writer, NULL);
        if (fd >= 0)
            close(fd);
    } else {
        pthread_join(cap->writer, NULL);
    }
    if (cap->dumper)
        pcap_dump_close(cap->dumper);   /* closes the FILE too */
    pcap_close(cap->dead);
    pthread_mutex_destroy(&cap->lock);
    pthread_cond_destroy(&cap->wake);
    pthread_cond_destroy(&cap->drained);
    free(cap->path);
    free(cap);
}

const char *nb_capture_path(const struct nb_capture *cap)
{
    return cap->path;
}

void nb_capture_counts(struct nb_capture *cap, uint64_t *written, uint64_t *dropped)
{
    pthread_mutex_lock(&cap->lock);
    *written = cap->written;
    *dropped = cap->dropped;
    pthread_mutex_unlock(&cap->lock);
}
