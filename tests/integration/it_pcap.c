/* pcap files through libpcap (see it_pcap.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "tests/integration/it_pcap.h"

int it_pcap_write(const char *path, const struct it_pcap_frame *frames, unsigned n)
{
    pcap_t *p = pcap_open_dead(DLT_EN10MB, 65535);
    pcap_dumper_t *d = p ? pcap_dump_open(p, path) : NULL;

    if (!d) {
        fprintf(stderr, "it_pcap: %s: %s\n", path, p ? pcap_geterr(p) : "pcap_open_dead failed");
        if (p)
            pcap_close(p);
        return -1;
    }
    for (unsigned i = 0; i < n; i++) {
        struct pcap_pkthdr h = { .ts = { .tv_sec = 1, .tv_usec = (suseconds_t)i },
                                 .caplen = frames[i].len, .len = frames[i].len };
        pcap_dump((u_char *)d, &h, frames[i].data);
    }
    pcap_dump_close(d);
    pcap_close(p);
    return 0;
}

int it_pcap_read(const char *path, struct it_pcap_frame **out)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path, err);
    struct it_pcap_frame *v = NULL;
    int n = 0, cap = 0;

    *out = NULL;
    if (!p) {
        fprintf(stderr, "it_pcap: %s: %s\n", path, err);
        return -1;
    }
    for (;;) {
        struct pcap_pkthdr *h;
        const u_char *data;
        int rc = pcap_next_ex(p, &h, &data);
        if (rc == PCAP_ERROR_BREAK)
            break;
        if (rc != 1 || h->caplen != h->len) {
            fprintf(stderr, "it_pcap: %s: frame %d: %s\n", path, n,
                    rc != 1 ? pcap_geterr(p) : "truncated (caplen < len)");
            goto fail;
        }
        if (n == cap) {
            struct it_pcap_frame *nv = realloc(v, sizeof(*v) * (size_t)(cap = cap ? cap * 2 : 16));
            if (!nv)
                goto fail;
            v = nv;
        }
        v[n].len = h->len;
        v[n].data = malloc(h->len ? h->len : 1);
        if (!v[n].data)
            goto fail;
        memcpy(v[n].data, data, h->len);
        n++;
    }
    pcap_close(p);
    *out = v;
    return n;
fail:
    pcap_close(p);
    it_pcap_frames_free(v, n);
    return -1;
}

void it_pcap_frames_free(struct it_pcap_frame *frames, int n)
{
    for (int i = 0; i < n; i++)
        free(frames[i].data);
    free(frames);
}
