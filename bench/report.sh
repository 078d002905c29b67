#!/usr/bin/env bash
# Summarises bench/bench.sh's results.csv: min/median/max per system, mode and
# size, the ratio of netbackd's median to the same run's baselines, a
# markdown table (results.md) and a plot (results.png, gnuplot).
#   bench/report.sh results.csv OUTDIR
set -euo pipefail
CSV=$1 OUT=$2
MD=$OUT/results.md DAT=$OUT/summary.dat

# system,mode,size -> min/median/max of Mpps and Gbit/s, medians of the rest
awk -F, 'NR > 1 { k = $1 "," $2 "," $3; n[k]++; mp[k, n[k]] = $5; gb[k, n[k]] = $6
                  gc[k, n[k]] = $7; nt[k, n[k]] = $8; nf[k, n[k]] = $9; rs[k, n[k]] = $10; dr[k, n[k]] = $11
                  if (!(k in seen)) { seen[k] = 1; order[++m] = k } }
function med(a, k, c,   i, j, t, v) { for (i = 1; i <= c; i++) v[i] = a[k, i] + 0
    for (i = 2; i <= c; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
    return v[int((c + 1) / 2)] }
function mn(a, k, c,   i, x) { x = a[k, 1] + 0; for (i = 2; i <= c; i++) if (a[k, i] + 0 < x) x = a[k, i] + 0; return x }
function mx(a, k, c,   i, x) { x = a[k, 1] + 0; for (i = 2; i <= c; i++) if (a[k, i] + 0 > x) x = a[k, i] + 0; return x }
END { for (j = 1; j <= m; j++) { k = order[j]; c = n[k]
        printf "%s,%d,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%s,%s,%s,%s,%s\n", k, c,
            mn(mp, k, c), med(mp, k, c), mx(mp, k, c), mn(gb, k, c), med(gb, k, c), mx(gb, k, c),
            (gc[k, 1] == "" ? "" : sprintf("%.4f", med(gc, k, c))),
            (nt[k, 1] == "" ? "" : sprintf("%.4f", med(nt, k, c))),
            (nf[k, 1] == "" ? "" : sprintf("%.4f", med(nf, k, c))),
            (rs[k, 1] == "" ? "" : sprintf("%d", med(rs, k, c))),
            (dr[k, 1] == "" ? "" : sprintf("%.3f", med(dr, k, c))) } }' "$CSV" >"$OUT/summary.csv"

{
    echo "# netbackd benchmark ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(uname -r))"
    echo
    echo "Emulated guest -> netbackd -> emulated guest (userspace netfront on both ends),"
    echo "beside the same invocation's baselines. Absolute numbers drift with the"
    echo "machine's load; the ratios (same run) are what count."
    echo
    echo "| system | mode | size | runs | Mpps min / median / max | Gbit/s median | gcopy calls/pkt | notif to guest/pkt | notif from guest/pkt | RSS KiB/vif | backend drops/delivered pkt |"
    echo "|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|"
    awk -F, '{ printf "| %s | %s | %s | %s | %.3f / %.3f / %.3f | %.3f | %s | %s | %s | %s | %s |\n",
               $1, $2, $3, $4, $5, $6, $7, $9, $11, $12, $13, $14, $15 }' "$OUT/summary.csv"
    echo
    echo "## Ratios of medians (netbackd / baseline, same run)"
    echo
    echo "| netbackd mode | size | vs dpdk vhost-user | vs memcpy |"
    echo "|---|---:|---:|---:|"
    awk -F, '{ med[$1 "," $3] = $6; if ($1 == "netbackd") nb[++n] = $2 "," $3 "," $6 }
        END { for (i = 1; i <= n; i++) { split(nb[i], f, ",")
                d = med["dpdk-vhost," f[2]]; c = med["memcpy," f[2]]
                printf "| %s | %s | %s | %s |\n", f[1], f[2],
                    (d > 0 ? sprintf("%.3f", f[3] / d) : "n/a"), (c > 0 ? sprintf("%.4f", f[3] / c) : "n/a") } }' \
        "$OUT/summary.csv"
    echo
    echo "netbackd rows: 1 queue per vif; event = every worker sleeps on its event channel;"
    echo "poll = the sending vif's worker and the sending guest spin (one core each),"
    echo "the receiving side stays event-driven. Senders are unpaced (offered load"
    echo "above capacity), so drops/pkt shows how the backend sheds the excess."
    echo "RSS KiB/vif: netbackd's VmRSS growth from before the two vifs to the end"
    echo "of the run, divided by two (1 queue each, so also per queue)."
    echo
    echo "Raw runs: results.csv. Command: bench/bench.sh (make bench)."
} >"$MD"

# gnuplot: median Mpps per configuration with min..max error bars.
awk -F, '{ printf "\"%s %s %sB\" %f %f %f\n", $1, $2, $3, $6, $5, $7 }' "$OUT/summary.csv" >"$DAT"
if command -v gnuplot >/dev/null; then
    gnuplot <<GP
set terminal pngcairo size 1000,500 noenhanced
set output "$OUT/results.png"
set title "Packet rate, median of runs (bars: min..max)"
set ylabel "Mpps (log scale)"
set style data histogram
set style histogram errorbars gap 1 lw 1
set style fill solid 0.6 border -1
set xtics rotate by -30
set grid ytics
set logscale y
set yrange [0.01:*]
plot "$DAT" using 2:3:4:xtic(1) title "Mpps"
GP
else
    echo "report: gnuplot missing (Debian gnuplot-nox): no plot" >&2
fi
cat "$MD"
echo "report: wrote $MD, $CSV, $OUT/results.png"
