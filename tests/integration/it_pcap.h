/* Ethernet pcap files for the integration tests, through libpcap: frames
 * to inject (a DPDK net_pcap rx_pcap) and frames to check (a tx_pcap, a
 * netbackd capture). */
#ifndef IT_PCAP_H
#define IT_PCAP_H

#include <stdint.h>

struct it_pcap_frame {
    uint32_t len;
    uint8_t *data;      /* owned by the array (it_pcap_frames_free) */
};

/* Writes n frames as a classic pcap file (link type Ethernet). 0 or -1. */
int it_pcap_write(const char *path, const struct it_pcap_frame *frames, unsigned n);
/* Reads every frame (whole frames: caplen must equal len, else -1).
 * Returns the count, *out a malloc'ed array; -1 with the reason printed. */
int it_pcap_read(const char *path, struct it_pcap_frame **out);
void it_pcap_frames_free(struct it_pcap_frame *frames, int n);

#endif
