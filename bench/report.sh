#!/usr/bin/env bash
# Summarises bench/bench.sh's results.csv: min/median/max of the rate per
# row (system, mode, size, queues, grants), medians of the per-packet
# figures, the ratio of each netbackd median to the same run's dpdk-vhost
# median, a markdown table (results.md) and a plot (results.png, gnuplot).
#   bench/report.sh results.csv OUTDIR
set -euo pipefail
CSV=$1 OUT=$2
MD=$OUT/results.md DAT=$OUT/summary.dat SUM=$OUT/summary.csv

# key -> runs, min/median/max Mpps, median Gbit/s, medians of columns 9..18
awk -F, 'NR > 1 { k = $1 "," $2 "," $3 "," $4 "," $5; c = ++n[k]
                  for (f = 7; f <= 18; f++) v[k, f, c] = $f
                  if (!(k in seen)) { seen[k] = 1; order[++m] = k } }
function med(k, f, c,   i, j, t, a) { if (v[k, f, 1] == "") return ""
    for (i = 1; i <= c; i++) a[i] = v[k, f, i] + 0
    for (i = 2; i <= c; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return a[int((c + 1) / 2)] }
function mn(k, c,   i, x) { x = v[k, 7, 1] + 0; for (i = 2; i <= c; i++) if (v[k, 7, i] + 0 < x) x = v[k, 7, i] + 0; return x }
function mx(k, c,   i, x) { x = v[k, 7, 1] + 0; for (i = 2; i <= c; i++) if (v[k, 7, i] + 0 > x) x = v[k, 7, i] + 0; return x }
END { for (j = 1; j <= m; j++) { k = order[j]; c = n[k]
        printf "%s,%d,%.4f,%.4f,%.4f", k, c, mn(k, c), med(k, 7, c), mx(k, c)
        for (f = 8; f <= 18; f++) printf ",%s", med(k, f, c)
        printf "\n" } }' "$CSV" >"$SUM"
# summary.csv: 1 system 2 mode 3 size 4 queues 5 grants 6 runs 7 min 8 median 9 max
# 10 gbps 11 tx_calls 12 rx_calls 13 ops 14 sgrant 15 notif_to 16 notif_from
# 17 rss_vif 18 rss_q 19 drops 20 offered

{
    echo "# netbackd benchmark ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(uname -r))"
    echo
    [ -f "$OUT/load.txt" ] && echo "Load average (1 min) at start / end: $(cat "$OUT/load.txt")." && echo
    echo "Absolute rates drift with the machine's load; the ratios to the same run's"
    echo "DPDK vhost-user figure are what count. Command: \`make bench\` (bench/bench.sh)."
    echo
    echo "| row | mode | size | queues | grants | runs | Mpps min / median / max | vs dpdk-vhost | Gbit/s | TX calls/pkt | RX calls/pkt | grant ops/pkt | static copies/pkt | notif to guest/pkt | notif from guest/pkt | RSS KiB/vif | RSS KiB/queue | drops/pkt |"
    echo "|---|---|---:|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    awk -F, '{ if ($1 == "dpdk-vhost") d[$3] = $8; r[NR] = $0 }
        function f(x, p) { return x == "" ? "-" : sprintf("%.*f", p, x) }
        END { for (i = 1; i <= NR; i++) { split(r[i], a, ",")
                ratio = (a[1] != "dpdk-vhost" && a[1] != "memcpy" && d[a[3]] > 0) ? sprintf("%.2f", a[8] / d[a[3]]) : "-"
                printf "| %s | %s | %s | %s | %s | %s | %.3f / %.3f / %.3f | %s | %.3f | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
                    a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], ratio, a[10],
                    f(a[11], 4), f(a[12], 4), f(a[13], 3), f(a[14], 3), f(a[15], 4), f(a[16], 4),
                    f(a[17], 0), f(a[18], 0), f(a[19], 3) } }' "$SUM"
    echo
    echo "## Targets (issue 3), from the medians above"
    echo
    awk -F, '$1 == "dpdk-vhost" { d[$3] = $8 }
        $1 == "sink" && $4 == 1 && $5 == "plain" { s[$3] = $8; tx[$3] = $11; nt[$3] = $15 + $16 }
        $1 == "g2g" { k = $3 " B g2g " $2; g[k] = 1; gt[k] = $11; rx[k] = $12; gn[k] = $15 + $16 }
        function yes(c) { return c ? "met" : "NOT met" }
        END {
            if (64 in s && 64 in d)
                printf "- 64 B guest -> netbackd (sink, busy-poll, 1 queue, one core each side): %.3f Mpps vs dpdk-vhost %.3f Mpps = %.2fx: %s\n", s[64], d[64], s[64] / d[64], yes(s[64] >= d[64])
            for (z in tx)
                printf "- %s B sink: TX grant-copy calls/pkt %.4f (<= 1/32 = 0.0313: %s), notifications/pkt %.4f (<= 0.05: %s)\n", z, tx[z], yes(tx[z] <= 1 / 32), nt[z], yes(nt[z] <= 0.05)
            for (k in g)
                printf "- %s: TX calls/pkt %.4f, RX calls/pkt %.4f (both <= 1/32: %s), notifications/pkt %.4f (<= 0.05: %s)\n", k, gt[k], rx[k], yes(rx[k] <= 1 / 32 && gt[k] <= 1 / 32), gn[k], yes(gn[k] <= 0.05)
        }' "$SUM"
    echo
    echo "## Rows"
    echo
    echo "- **sink**: emulated guest (userspace netfront \`--send 0 --busy-poll --no-verify\`,"
    echo "  pinned to CPU 0) -> netbackd (busy-poll TX worker, queue i pinned to CPU (1+i) mod"
    echo "  nCPU) -> bridge -> a \`discard\` port that frees each packet and counts it. Every"
    echo "  packet is grant-copied in full into netbackd's packet buffers first. The rate is"
    echo "  the discard port's tx_packets over the window. The like-for-like of dpdk-vhost"
    echo "  (testpmd txonly on virtio-user -> rxonly on vhost-user, one core each side)."
    echo "  With 2 queues on a 2-CPU machine, worker 1 shares CPU 0 with the guest: the"
    echo "  queue-scaling rows show the harness, real scaling needs more cores."
    echo "- **grants static**: the same with \`netfront --static-grants\` (buffer pools"
    echo "  registered over the control ring): grant ops/pkt falls to ~0 and the copies"
    echo "  are netbackd's own memcpys (static copies/pkt)."
    echo "- **g2g**: guest -> netbackd -> guest (TX worker, bridge, RX worker, receiving"
    echo "  netfront \`--sink\`). event = every worker sleeps on its event channel; poll ="
    echo "  the sending guest and its vif's worker spin, the receiving side stays"
    echo "  event-driven. Rate = packets delivered to the receiving guest."
    echo "- **memcpy**: one core copying packets of that size (a bound on any copying path)."
    echo
    echo "g2g poll on 2 CPUs runs 3 spinning/woken threads per core pair: its TX worker"
    echo "often finds only a few requests per pass, so its TX calls/pkt is no full-load figure."
    echo
    echo "Per-packet figures are over delivered packets. drops/pkt counts netbackd's and the"
    echo "bridge ports' drop counters (senders are unpaced: above capacity a guest finds"
    echo "its ring full instead). RSS KiB/vif: netbackd's VmRSS growth from before the"
    echo "vifs to the end of the window, per vif; /queue divides by the queue count. It"
    echo "is bounded by design: rings are guest memory, each queue's TX pool holds at"
    echo "most \`pool_packets\` buffers (config, default 2048: ~4.3 MiB of 2 KiB buffers"
    echo "for frames up to 2 KiB), and each queue's RX backlog at most 1024 packets /"
    echo "\`rx_backlog_bytes\` (512 KiB). The measured growth is what a run touched."
    echo
    echo "Raw runs: results.csv; medians: summary.csv."
} >"$MD"

# gnuplot: median Mpps per row with min..max error bars.
awk -F, '{ g = ($5 == "static") ? " static" : ""; q = ($1 == "sink") ? " " $4 "q" : ""
           printf "\"%s %s%s%s %sB\" %f %f %f\n", $1, $2, q, g, $3, $8, $7, $9 }' "$SUM" >"$DAT"
if command -v gnuplot >/dev/null; then
    gnuplot <<GP
set terminal pngcairo size 1100,550 noenhanced
set output "$OUT/results.png"
set title "Packet rate, median of runs (bars: min..max)"
set ylabel "Mpps (log scale)"
set style data histogram
set style histogram errorbars gap 1 lw 1
set style fill solid 0.6 border -1
set xtics rotate by -35
set bmargin 8
set rmargin 8
set grid ytics
set logscale y
set yrange [0.01:*]
plot "$DAT" using 2:3:4:xtic(1) title "Mpps"
GP
else
    echo "report: gnuplot missing (Debian gnuplot-nox): no plot" >&2
fi
