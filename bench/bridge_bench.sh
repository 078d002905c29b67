#!/usr/bin/env bash
# Bridge and port benchmark (issue 4): emulated guest -> netbackd bridge ->
# emulated guest, guest -> DPDK net_null port, DPDK net_null port -> guest,
# at each frame size, beside the same invocation's DPDK vhost-user <->
# virtio-user baseline (dpdk-testpmd, recipe in shared/notes/baselines.md).
# Guests and ports run in event mode (this is a 2-core machine; busy-poll
# everywhere would have four spinners share two cores).
# Rates are counter deltas over a steady window: the receiving vif's
# rx_packets, or the DPDK port's tx_packets from `netbackctl bridge-list`.
#   bench/bridge_bench.sh [--build DIR] [--runs N] [--seconds S]
#                         [--sizes "64 1500"] [--no-dpdk-baseline] [--out DIR]
# Writes DIR/bridge.csv (every run), DIR/bridge.md (medians and ratio to the
# baseline) and DIR/bridge.png (gnuplot, when installed).
set -euo pipefail

O=build RUNS=3 SECS=3 WARM=1 SIZES="64 1500" BASELINE=1 OUT=bench/out
while [ $# -gt 0 ]; do
    case $1 in
    --build) O=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --seconds) SECS=$2; shift 2 ;;
    --sizes) SIZES=$2; shift 2 ;;
    --no-dpdk-baseline) BASELINE=0; shift ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "bridge_bench: unknown argument $1" >&2; exit 2 ;;
    esac
done
BIN=$(cd "$O/bin" && pwd)
for t in xensim netbackd netbackctl netfront; do
    [ -x "$BIN/$t" ] || { echo "bridge_bench: $BIN/$t missing: run make first" >&2; exit 1; }
done
command -v jq >/dev/null || { echo "bridge_bench: jq missing (make deps)" >&2; exit 1; }
TESTPMD=$(command -v dpdk-testpmd || true)
if [ -z "$TESTPMD" ] && [ "$BASELINE" = 1 ]; then
    echo "bridge_bench: dpdk-testpmd not found (Debian dpdk-dev): baseline skipped" >&2
    BASELINE=0
fi

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
CSV=$OUT/bridge.csv
WORK=$(mktemp -d /tmp/netbackd-bridge-bench.XXXXXX)
PIDS=()
stop_all() {
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    PIDS=()
    "$BIN/xensim" stop --dir "$WORK/sim" >/dev/null 2>&1 || true
}
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_all
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'echo; echo "bridge_bench: interrupted"; exit 130' INT TERM

ctl() { "$BIN/xensim" exec --dir "$WORK/sim" --domid 0 -- "$BIN/netbackctl" --ctl "$WORK/sim/netbackd.sock" "$@"; }
# Starts "$@" in domain $1 in the background, output to file $2. The subshell
# execs the program, so the recorded pid is the program's own (`xensim exec`
# would stay in between and ignore SIGTERM).
bg_in_dom() {
    local d=$1 log=$2; shift 2
    ( eval "$("$BIN/xensim" env --dir "$WORK/sim" --domid "$d")"; exec "$@" >"$log" 2>&1 ) &
    PIDS+=($!)
}

# A fresh emulator and netbackd with config $1; guests 1..$2 on bridge "bb".
start_host() {
    local conf=$1 guests=$2
    rm -rf "$WORK/sim"
    mkdir -p "$WORK/sim"
    "$BIN/xensim" start --dir "$WORK/sim" >/dev/null
    bg_in_dom 0 "$WORK/netbackd.log" "$BIN/netbackd" --foreground \
        --ctl "$WORK/sim/netbackd.sock" --bridge bb --config "$conf"
    for _ in $(seq 100); do ctl stats >/dev/null 2>&1 && break; sleep 0.1; done
    ctl stats >/dev/null || { cat "$WORK/netbackd.log" >&2; return 1; }
    for d in $(seq "$guests"); do
        "$BIN/xensim" domain-create --dir "$WORK/sim" --domid "$d" >/dev/null
        ctl vif-add --domid "$d" --devid 0 --mac "$(printf '00:16:3e:00:00:%02x' "$d")" --bridge bb >/dev/null
    done
}

# Runs a guest tool in domain $1 (background).
guest() { local d=$1; shift; bg_in_dom "$d" "$WORK/guest$d.log" "$BIN/netfront" --quiet "$@"; }

# jq expression over `netbackctl stats --json` / `bridge-list`, sampled twice
# $SECS apart after $WARM s of warm-up: prints packets per second.
rate() {
    local what=$1 expr=$2 a b
    sleep "$WARM"
    a=$(ctl "$what" --json 2>/dev/null || ctl "$what"); a=$(jq -r "$expr" <<<"$a")
    sleep "$SECS"
    b=$(ctl "$what" --json 2>/dev/null || ctl "$what"); b=$(jq -r "$expr" <<<"$b")
    echo $(( (b - a) / SECS ))
}
vif_rx='[.vifs[] | select(.domid == $d) | .totals.rx_packets] | add // 0'
port_tx='[.bridges[].ports[] | select(.name == "dpdk0") | .tx_packets] | add // 0'

eal='eal = [ "--no-huge", "-m", "256", "--no-pci", "--no-shconf", "-l", "0", "--log-level", "*:error" ];'
write_conf() {   # $1: dpdk devargs or "" for none
    {
        echo "bridges = ( { name = \"bb\"; } );"
        if [ -n "$1" ]; then
            echo "$eal"
            echo "ports = ( { name = \"dpdk0\"; kind = \"dpdk\"; bridge = \"bb\"; devargs = \"$1\"; } );"
        fi
    } >"$WORK/netbackd.conf"
}

run_case() {   # case size run -> appends "case,size,run,mpps,gbps"
    local c=$1 size=$2 run=$3 pps=0 dur=$((WARM + SECS + 3))
    case $c in
    guest-bridge-guest)
        write_conf ""
        start_host "$WORK/netbackd.conf" 2
        guest 2 --sink --no-verify --duration "$dur"
        guest 1 --send 0 --size "$size" --no-verify --to 00:16:3e:00:00:02 --duration "$dur"
        pps=$(rate stats "$(sed 's/\$d/2/' <<<"$vif_rx")") ;;
    guest-dpdk)
        write_conf "net_null0,no-rx=1"
        start_host "$WORK/netbackd.conf" 1
        guest 1 --send 0 --size "$size" --no-verify --duration "$dur"
        pps=$(rate bridge-list "$port_tx") ;;
    dpdk-guest)
        write_conf "net_null0,size=$size"
        start_host "$WORK/netbackd.conf" 1
        guest 1 --sink --no-verify --duration "$dur"
        pps=$(rate stats "$(sed 's/\$d/1/' <<<"$vif_rx")") ;;
    esac
    stop_all
    awk -v c="$c" -v s="$size" -v r="$run" -v p="$pps" \
        'BEGIN { printf "%s,%d,%d,%f,%f\n", c, s, r, p / 1e6, p * s * 8 / 1e9 }' >>"$CSV"
}

# vhost-user (rxonly) <- virtio-user (txonly): the receiver's Rx-pps, median
# of its samples after the first non-zero one.
baseline_run() {
    local size=$1 run=$2 pps=0
    # a virtio-user start sometimes stalls after its first burst: one retry
    for attempt in 1 2; do
        pps=$(baseline_attempt "$size" "$run$attempt")
        [ "${pps:-0}" != 0 ] && break
        echo "    (baseline: no traffic, retrying)" >&2
    done
    awk -v s="$size" -v r="$run" -v p="${pps:-0}" \
        'BEGIN { printf "dpdk-vhost-baseline,%d,%d,%f,%f\n", s, r, p / 1e6, p * s * 8 / 1e9 }' >>"$CSV"
}

# Prints the receiver's median Rx-pps of one testpmd pair.
baseline_attempt() {
    local size=$1 run=$2 tag="nbb$$r$run"
    local common=(--no-huge -m 512 --no-pci)
    local app=(--auto-start --stats-period 1 --nb-cores=1 --total-num-mbufs=16384 --txpkts="$size")
    rm -f "$WORK/vhost.sock"
    "$TESTPMD" -l 0,1 --main-lcore 1 "${common[@]}" --file-prefix "vh$tag" \
        --vdev "net_vhost0,iface=$WORK/vhost.sock,queues=1" -- --forward-mode=rxonly "${app[@]}" \
        </dev/null >"$WORK/vhost.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 60); do [ -S "$WORK/vhost.sock" ] && break; sleep 0.1; done
    sleep 2
    "$TESTPMD" -l 0,1 --main-lcore 0 "${common[@]}" --file-prefix "vu$tag" \
        --vdev "virtio_user0,path=$WORK/vhost.sock,queues=1" -- --forward-mode=txonly "${app[@]}" \
        </dev/null >"$WORK/virtio.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 100); do
        grep -aq 'virtio is now ready' "$WORK/vhost.log" && break
        sleep 0.1
    done
    sleep $((SECS + WARM))
    stop_all
    local pps
    pps=$(sed -n '/virtio is now ready/,$p' "$WORK/vhost.log" | grep -a 'Rx-pps:' | awk '{ print $2 }' |
          awk '$1 > 0 { n++; if (n > 1) v[++m] = $1 } END {
              if (!m) { print 0; exit }
              for (i = 2; i <= m; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
              print v[int((m + 1) / 2)] }')
    echo "${pps:-0}"
}

CASES="guest-bridge-guest guest-dpdk dpdk-guest"
echo "case,size,run,mpps,gbps" >"$CSV"
echo "bridge_bench: $RUNS run(s) x ${SECS}s; sizes $SIZES; baseline=$BASELINE; out $OUT"
for run in $(seq "$RUNS"); do
    for size in $SIZES; do
        for c in $CASES; do
            echo "  run $run ${size}B $c"
            run_case "$c" "$size" "$run"
        done
        if [ "$BASELINE" = 1 ]; then
            echo "  run $run ${size}B dpdk vhost-user baseline"
            baseline_run "$size" "$run"
        fi
    done
done

# Medians per (case, size) and the ratio to the baseline's median.
awk -F, 'NR > 1 { k = $1 "," $2; v[k] = v[k] " " $4; g[k] = g[k] " " $5 }
    function med(s,   a, n, i, j, t) { n = split(s, a, " ");
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
        return n ? a[int((n + 1) / 2)] : 0 }
    END { for (k in v) print k "," med(v[k]) "," med(g[k]) }' "$CSV" | sort >"$WORK/med"
{
    echo "| case | size | Mpps (median) | Gbit/s | vs vhost-user |"
    echo "|---|---|---|---|---|"
    awk -F, 'FNR == NR { if ($1 == "dpdk-vhost-baseline") base[$2] = $3; next }
        { r = (base[$2] > 0) ? sprintf("%.2f", $3 / base[$2]) : "-";
          printf "| %s | %d B | %.3f | %.3f | %s |\n", $1, $2, $3, $4, r }' "$WORK/med" "$WORK/med"
} >"$OUT/bridge.md"
cat "$OUT/bridge.md"
if command -v gnuplot >/dev/null; then
    awk -F, '{ print $1 "-" $2 "B", $3 }' "$WORK/med" >"$WORK/plot.dat"
    gnuplot <<PLOT
set terminal png size 900,500
set output "$OUT/bridge.png"
set title "netbackd bridge and ports (median of $RUNS runs, ${SECS}s each)"
set style data histograms
set style fill solid 0.8
set ylabel "Mpps"
set yrange [0:*]
set xtics rotate by -30
set grid ytics
plot "$WORK/plot.dat" using 2:xtic(1) notitle
PLOT
    echo "bridge_bench: plot $OUT/bridge.png"
fi
