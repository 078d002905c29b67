/* The netfront tool: an emulated (or real) guest that connects one vif and
 * sends, sinks or answers traffic. Shared between its option parser and its
 * traffic loop. */
#ifndef NF_TOOL_H
#define NF_TOOL_H

#include <signal.h>
#include <stdint.h>

#include "backend/netfront/netfront.h"

struct nf_tool_opts {
    struct nf_config cfg;
    bool busy_poll;
    bool sink;
    bool verify;               /* sender writes, sink checks the numbered pattern */
    bool responder;
    uint32_t responder_ip;     /* network byte order */
    bool responder_mac_set;
    uint8_t responder_mac[6];
    bool send;
    uint64_t send_count;       /* 0 = until the duration ends */
    uint32_t size_min, size_max;
    uint32_t seed;
    uint16_t slot_size;
    bool csum_blank;           /* send IPv4/UDP frames with NETTXF_csum_blank */
    uint8_t to[6];
    unsigned burst;
    double pps;                /* sending pace, packets/s; 0 = as fast as the ring takes */
    double duration;           /* seconds; 0 = until done / signalled */
    double stats_interval;     /* seconds; 0 = only the final summary */
    double start_delay;        /* seconds to wait after connecting before sending */
    bool quiet;
    bool static_grants;        /* register the pools with ADD_GREF_MAPPING (nf_static.h) */
};

/* Set by SIGINT/SIGTERM: the only process-wide state, as a signal handler
 * can reach nothing else. */
extern volatile sig_atomic_t nf_tool_stop;

/* Connects, runs the traffic loop, closes, prints the summary. Exit status. */
int nf_tool_run(const struct nf_tool_opts *o);

#endif
