/* Capture on a port, read back with libpcap: regular file and fifo, and
 * switching on and off while the bridge runs. */
#include <errno.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "bridge/bridge.h"
#include "bridge/capture.h"
#include "bridge/port_dummy.h"
#include "tests/bridge/frames.h"

static const uint8_t MAC_A[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t MAC_B[6] = { 0x02, 0, 0, 0, 0, 0x0b };

struct fixture {
    struct nb_pkt_pool *pool;
    struct nb_bridge *br;
    struct nb_port *a, *b;
    char dir[64];
    char path[96];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    f->pool = nb_pkt_pool_new("cap", 1024);
    f->br = nb_bridge_new("br-cap", NULL);
    f->a = nb_dummy_port_new("a", 0);
    f->b = nb_dummy_port_new("b", 0);
    nb_bridge_add_port(f->br, f->a);
    nb_bridge_add_port(f->br, f->b);
    snprintf(f->dir, sizeof(f->dir), "/tmp/nb-capture-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/cap", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    nb_bridge_free(f->br);
    assert_int_equal(nb_pkt_pool_in_use(f->pool), 0);
    nb_pkt_pool_free(f->pool);
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* Sends frame i (payload bytes start at i) from a to b. */
static void send_from_a(struct fixture *f, unsigned i)
{
    struct nb_pkt *p = make_frame(f->pool, MAC_B, MAC_A, 0x88b5, 46 + i, (uint8_t)i);
    if (!p)
        fail();
    nb_bridge_input(f->br, f->a, &p, 1);
}

/* Reads a capture and checks it holds frames first..last-1 as sent. */
static void check_capture(const char *path, unsigned first, unsigned last)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(path, err);
    struct pcap_pkthdr *h;
    const u_char *data;
    unsigned i = first;

    assert_non_null(pc);
    assert_int_equal(pcap_datalink(pc), DLT_EN10MB);
    while (pcap_next_ex(pc, &h, &data) == 1) {
        assert_true(i < last);
        assert_int_equal(h->len, 60 + i);
        assert_int_equal(h->caplen, 60 + i);
        assert_memory_equal(data, MAC_B, 6);
        assert_memory_equal(data + 6, MAC_A, 6);
        assert_int_equal(data[14], (uint8_t)i);
        i++;
    }
    assert_int_equal(i, last);
    pcap_close(pc);
}

static void nb_capture_open_file_captures_egress(void **state)
{
    struct fixture *f = *state;
    struct nb_capture *cap, *old;
    int err = 0;
    uint64_t written, dropped;

    send_from_a(f, 0);                             /* before: not captured */
    cap = nb_capture_open(f->path, 0, &err);
    assert_non_null(cap);
    assert_int_equal(nb_bridge_set_capture(f->br, f->b, cap, &old), 0);
    assert_null(old);
    for (unsigned i = 1; i <= 5; i++)
        send_from_a(f, i);
    assert_int_equal(nb_bridge_set_capture(f->br, f->b, NULL, &old), 0);
    assert_ptr_equal(old, cap);
    send_from_a(f, 6);                             /* after: not captured */
    nb_capture_flush(cap);
    nb_capture_counts(cap, &written, &dropped);
    assert_int_equal(written, 5);
    assert_int_equal(dropped, 0);
    nb_capture_close(cap);
    check_capture(f->path, 1, 6);
}

static void nb_capture_open_captures_ingress(void **state)
{
    struct fixture *f = *state;
    struct nb_capture *cap, *old;
    int err = 0;

    cap = nb_capture_open(f->path, 0, &err);
    assert_non_null(cap);
    assert_int_equal(nb_bridge_set_capture(f->br, f->a, cap, &old), 0);
    for (unsigned i = 0; i < 3; i++)
        send_from_a(f, i);
    /* Detached by port removal: the bridge closes it. */
    assert_int_equal(nb_bridge_del_port(f->br, f->a), 0);
    check_capture(f->path, 0, 3);
}

static void nb_capture_open_bad_path(void **state)
{
    int err = 0;
    (void)state;
    assert_null(nb_capture_open("/nonexistent-dir/x.pcap", 0, &err));
    assert_int_equal(err, -ENOENT);
}

struct reader {
    const char *path;
    unsigned frames;
    unsigned first_len;
};

static void *fifo_reader(void *arg)
{
    struct reader *r = arg;
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(r->path, err);
    struct pcap_pkthdr *h;
    const u_char *data;

    if (!pc)
        return NULL;
    while (pcap_next_ex(pc, &h, &data) == 1) {
        if (r->frames++ == 0)
            r->first_len = h->len;
    }
    pcap_close(pc);
    return NULL;
}

static void nb_capture_open_fifo_streams(void **state)
{
    struct fixture *f = *state;
    struct nb_capture *cap, *old;
    struct reader r = { .path = f->path };
    pthread_t th;
    int err = 0;

    assert_int_equal(mkfifo(f->path, 0600), 0);
    /* Opening does not wait for a reader. */
    cap = nb_capture_open(f->path, 0, &err);
    assert_non_null(cap);
    assert_int_equal(nb_bridge_set_capture(f->br, f->b, cap, &old), 0);
    assert_int_equal(pthread_create(&th, NULL, fifo_reader, &r), 0);
    for (unsigned i = 0; i < 10; i++)
        send_from_a(f, i);
    assert_int_equal(nb_bridge_set_capture(f->br, f->b, NULL, &old), 0);
    nb_capture_flush(cap);            /* the reader has connected and has them */
    nb_capture_close(cap);
    pthread_join(th, NULL);
    assert_int_equal(r.frames, 10);
    assert_int_equal(r.first_len, 60);
}

static void nb_capture_close_fifo_without_reader(void **state)
{
    struct fixture *f = *state;
    int err = 0;
    struct nb_capture *cap;
    uint64_t written, dropped;

    assert_int_equal(mkfifo(f->path, 0600), 0);
    cap = nb_capture_open(f->path, 0, &err);
    assert_non_null(cap);
    struct nb_pkt *p = make_frame(f->pool, MAC_B, MAC_A, 0x88b5, 46, 0);
    nb_capture_frames(cap, &p, 1);
    nb_pkt_free(p);
    nb_capture_counts(cap, &written, &dropped);
    assert_int_equal(written, 0);
    /* Must not hang although nobody ever opened the other end. */
    nb_capture_close(cap);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(nb_capture_open_file_captures_egress),
        T(nb_capture_open_captures_ingress),
        T(nb_capture_open_bad_path),
        T(nb_capture_open_fifo_streams),
        T(nb_capture_close_fifo_without_reader),
    };
    return cmocka_run_group_tests_name("bridge_capture", tests, NULL, NULL);
}
