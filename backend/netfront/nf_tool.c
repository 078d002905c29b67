/* netfront: command line of the userspace netfront guest tool. */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/netfront/nf_tool.h"

volatile sig_atomic_t nf_tool_stop;

static void on_signal(int sig)
{
    (void)sig;
    nf_tool_stop = 1;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: netfront [options] MODE...\n"
            "Connects device/vif/<devid> of this domain (XENSIM_DOMID on the emulator,\n"
            "xenstore 'domid' on real Xen) to its backend and moves traffic.\n"
            "modes (combinable):\n"
            "  --responder IP[/MAC]  answer ARP and ICMP echo for IP\n"
            "  --send N              send N frames (0 = until --duration ends)\n"
            "  --sink                count received frames, verify the pattern\n"
            "options:\n"
            "  --size S|MIN-MAX      frame size(s) in bytes (default 64; random in range)\n"
            "  --seed N              seed for random sizes (default 1)\n"
            "  --to MAC              destination (default ff:ff:ff:ff:ff:ff)\n"
            "  --slot-size N         bytes per TX slot (SG chains; default 4096)\n"
            "  --csum-blank          send IPv4/UDP frames with a partial checksum\n"
            "  --no-verify           no pattern writing/checking (benchmarks)\n"
            "  --burst N             packets per push (default 32)\n"
            "  --pps N               pace sending at N packets/s (default: flat out)\n"
            "  --duration SEC        stop after SEC seconds\n"
            "  --start-delay SEC     wait after connecting before sending\n"
            "  --stats-interval SEC  print rates every SEC seconds\n"
            "  --busy-poll           spin on the rings instead of sleeping on events\n"
            "  --static-grants       register the buffer pools with the backend over the\n"
            "                        control ring (ADD_GREF_MAPPING): no grant op per packet\n"
            "  --devid N  --domid N  --queues N  --timeout MS\n"
            "  --no-split-evtchn --no-sg --no-gso --no-csum-offload --quiet\n");
}

static int parse_mac(const char *s, uint8_t mac[6])
{
    unsigned m[6];
    char tail;
    if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &tail) != 6)
        return -1;
    for (int i = 0; i < 6; i++) {
        if (m[i] > 255)
            return -1;
        mac[i] = (uint8_t)m[i];
    }
    return 0;
}

static int parse_responder(struct nf_tool_opts *o, const char *arg)
{
    char ip[64];
    const char *slash = strchr(arg, '/');
    size_t n = slash ? (size_t)(slash - arg) : strlen(arg);
    if (n >= sizeof(ip))
        return -1;
    memcpy(ip, arg, n);
    ip[n] = 0;
    struct in_addr a;
    if (inet_pton(AF_INET, ip, &a) != 1)
        return -1;
    o->responder_ip = a.s_addr;
    if (slash) {
        if (parse_mac(slash + 1, o->responder_mac) < 0)
            return -1;
        o->responder_mac_set = true;
    }
    o->responder = true;
    return 0;
}

static int parse_size(struct nf_tool_opts *o, const char *arg)
{
    unsigned a, b;
    if (sscanf(arg, "%u-%u", &a, &b) == 2) {
        o->size_min = a;
        o->size_max = b;
    } else if (sscanf(arg, "%u", &a) == 1) {
        o->size_min = o->size_max = a;
    } else {
        return -1;
    }
    return o->size_min >= 14 && o->size_min <= o->size_max && o->size_max <= NF_MAX_PKT ? 0 : -1;
}

int main(int argc, char **argv)
{
    struct nf_tool_opts o;
    memset(&o, 0, sizeof(o));
    nf_config_init(&o.cfg);
    o.size_min = o.size_max = 64;
    o.seed = 1;
    o.burst = 32;
    o.verify = true;
    memset(o.to, 0xff, 6);

    enum { O_SEED = 256, O_SLOT, O_CSUM, O_NOVERIFY, O_BURST, O_DUR, O_DELAY, O_STATS, O_BUSY,
           O_DEVID, O_DOMID, O_QUEUES, O_TIMEOUT, O_NOSPLIT, O_NOSG, O_NOGSO, O_NOCSUM, O_QUIET,
           O_PPS, O_STATIC };
    static const struct option lo[] = {
        {"responder", required_argument, 0, 'r'}, {"send", required_argument, 0, 's'},
        {"sink", no_argument, 0, 'k'}, {"size", required_argument, 0, 'z'},
        {"to", required_argument, 0, 't'}, {"seed", required_argument, 0, O_SEED},
        {"slot-size", required_argument, 0, O_SLOT}, {"csum-blank", no_argument, 0, O_CSUM},
        {"no-verify", no_argument, 0, O_NOVERIFY}, {"burst", required_argument, 0, O_BURST},
        {"duration", required_argument, 0, O_DUR}, {"start-delay", required_argument, 0, O_DELAY},
        {"stats-interval", required_argument, 0, O_STATS}, {"busy-poll", no_argument, 0, O_BUSY},
        {"devid", required_argument, 0, O_DEVID}, {"domid", required_argument, 0, O_DOMID},
        {"queues", required_argument, 0, O_QUEUES}, {"timeout", required_argument, 0, O_TIMEOUT},
        {"no-split-evtchn", no_argument, 0, O_NOSPLIT}, {"no-sg", no_argument, 0, O_NOSG},
        {"no-gso", no_argument, 0, O_NOGSO}, {"no-csum-offload", no_argument, 0, O_NOCSUM},
        {"quiet", no_argument, 0, O_QUIET}, {"pps", required_argument, 0, O_PPS},
        {"static-grants", no_argument, 0, O_STATIC}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        bool bad = false;
        switch (c) {
        case 'r': bad = parse_responder(&o, optarg) < 0; break;
        case 's': o.send = true; o.send_count = strtoull(optarg, NULL, 0); break;
        case 'k': o.sink = true; break;
        case 'z': bad = parse_size(&o, optarg) < 0; break;
        case 't': bad = parse_mac(optarg, o.to) < 0; break;
        case O_SEED: o.seed = (uint32_t)strtoul(optarg, NULL, 0); break;
        case O_SLOT: o.slot_size = (uint16_t)atoi(optarg); break;
        case O_CSUM: o.csum_blank = true; break;
        case O_NOVERIFY: o.verify = false; break;
        case O_BURST: o.burst = (unsigned)atoi(optarg); bad = o.burst < 1 || o.burst > 256; break;
        case O_DUR: o.duration = atof(optarg); break;
        case O_DELAY: o.start_delay = atof(optarg); break;
        case O_STATS: o.stats_interval = atof(optarg); break;
        case O_BUSY: o.busy_poll = true; break;
        case O_DEVID: o.cfg.devid = (unsigned)atoi(optarg); break;
        case O_DOMID: o.cfg.self_domid = atoi(optarg); break;
        case O_QUEUES: o.cfg.num_queues = (unsigned)atoi(optarg); break;
        case O_TIMEOUT: o.cfg.timeout_ms = (unsigned)atoi(optarg); break;
        case O_NOSPLIT: o.cfg.no_split_evtchn = true; break;
        case O_NOSG: o.cfg.no_sg = true; break;
        case O_NOGSO: o.cfg.no_gso = true; break;
        case O_NOCSUM: o.cfg.no_csum_offload = true; break;
        case O_QUIET: o.quiet = true; break;
        case O_PPS: o.pps = atof(optarg); bad = o.pps < 0; break;
        case O_STATIC: o.static_grants = true; o.cfg.ctrl_ring = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
        if (bad) {
            fprintf(stderr, "netfront: bad option value '%s'\n", optarg);
            return 2;
        }
    }
    if (optind != argc || (!o.send && !o.sink && !o.responder)) {
        usage(stderr);
        return 2;
    }
    if (o.csum_blank && o.size_min < 42) {
        fprintf(stderr, "netfront: --csum-blank needs --size >= 42\n");
        return 2;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    return nf_tool_run(&o);
}
