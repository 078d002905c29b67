/* The memcpy ceiling for the benchmark: one core copying packets of a given
 * size from a ring of 4 KiB source pages (like a guest's granted buffers)
 * into a ring of destination buffers, as the backend's copy does.
 *   nb-memcpy-bench SIZE SECONDS  ->  "memcpy size=S pps=... gbps=..." */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAGES 512u    /* 2 MiB each side: beyond L2, like a busy ring */
#define PAGE 4096u

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: nb-memcpy-bench SIZE SECONDS\n");
        return 2;
    }
    size_t size = strtoul(argv[1], NULL, 0);
    double secs = atof(argv[2]);
    if (size < 1 || size > PAGE || secs <= 0) {
        fprintf(stderr, "nb-memcpy-bench: SIZE 1..4096, SECONDS > 0\n");
        return 2;
    }
    uint8_t *src = aligned_alloc(PAGE, (size_t)PAGES * PAGE);
    uint8_t *dst = aligned_alloc(PAGE, (size_t)PAGES * PAGE);
    if (!src || !dst)
        return 1;
    memset(src, 0x5a, (size_t)PAGES * PAGE);
    memset(dst, 0, (size_t)PAGES * PAGE);
    uint64_t n = 0;
    unsigned sink = 0;
    double t0 = now_s(), t1 = t0;
    while (t1 - t0 < secs) {
        for (unsigned i = 0; i < 4096; i++, n++) {
            unsigned p = (unsigned)(n % PAGES);
            memcpy(dst + (size_t)p * PAGE, src + (size_t)p * PAGE, size);
            /* keep the copy observable so it is not optimised away */
            sink += dst[(size_t)p * PAGE + (n % size)];
        }
        t1 = now_s();
    }
    double pps = (double)n / (t1 - t0);
    printf("memcpy size=%zu pps=%.0f gbps=%.3f check=%u\n", size, pps, pps * (double)size * 8 / 1e9,
           sink & 1);
    free(src);
    free(dst);
    return 0;
}
