#!/usr/bin/env bash
# The netbackd benchmark, with the baselines it is judged against in the same
# invocation. Rows (system column of results.csv):
#   sink      emulated guest -> netbackd -> discard port: the guest's netfront
#             (--send --busy-poll --no-verify) pinned to CPU 0, netbackd's TX
#             worker(s) busy-polling, queue 0 pinned to CPU 1 (queue i to CPU
#             (1+i) mod nCPU). Every packet is grant-copied in full into
#             netbackd's packet buffers, switched, and freed by a `discard`
#             port (docs/config.md), whose counter gives the rate. This is
#             what dpdk-vhost measures: testpmd txonly on virtio-user ->
#             testpmd rxonly on vhost-user, one core each side.
#             grants=static: the guest registers its pools over the control
#             ring (--static-grants), no grant op per packet.
#   g2g       emulated guest -> netbackd -> emulated guest (the full path:
#             TX worker, bridge, RX worker), event and busy-poll modes.
#   dpdk-vhost  the DPDK baseline (recipe: shared/notes/baselines.md).
#   memcpy    one core copying packets of the size (upper bound on copying).
# Several runs each; report.sh gives min/median/max and the ratios of
# netbackd's medians to the same run's dpdk-vhost median.
#   bench/bench.sh [--build DIR] [--runs N] [--seconds S] [--sizes "64 1500"]
#                  [--queues "1 2"] [--modes "event poll"] [--rows "sink static g2g dpdk memcpy"]
#                  [--no-dpdk] [--out DIR]
# Writes DIR/results.csv (every run), DIR/results.md (summary), DIR/results.png.
set -euo pipefail

O=build RUNS=3 SECS=3 WARM=1 SIZES="64 1500" QUEUES="1 2" MODES="event poll" OUT=bench/out
ROWS="sink static g2g dpdk memcpy"
while [ $# -gt 0 ]; do
    case $1 in
    --build) O=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --seconds) SECS=$2; shift 2 ;;
    --sizes) SIZES=$2; shift 2 ;;
    --queues) QUEUES=$2; shift 2 ;;
    --modes) MODES=$2; shift 2 ;;
    --rows) ROWS=$2; shift 2 ;;
    --no-dpdk) ROWS=${ROWS//dpdk/}; shift ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "bench: unknown argument $1" >&2; exit 2 ;;
    esac
done
has_row() { [[ " $ROWS " == *" $1 "* ]]; }
BIN=$(cd "$O/bin" && pwd)
for t in xensim netbackd netbackctl netfront nb-memcpy-bench; do
    [ -x "$BIN/$t" ] || { echo "bench: $BIN/$t missing: run make first" >&2; exit 1; }
done
for t in jq taskset; do
    command -v $t >/dev/null || { echo "bench: $t missing (make deps)" >&2; exit 1; }
done
TESTPMD=$(command -v dpdk-testpmd || true)
if has_row dpdk && [ -z "$TESTPMD" ]; then
    echo "bench: dpdk-testpmd not found (Debian dpdk-dev): DPDK baseline skipped" >&2
    ROWS=${ROWS//dpdk/}
fi
NCPU=$(nproc)

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
CSV=$OUT/results.csv
WORK=$(mktemp -d /tmp/netbackd-bench.XXXXXX)
PIDS=()
# Newest first: guests close their vifs while netbackd still answers (a
# guest whose backend is gone waits out its close timeout).
stop_all() {
    local i
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
        kill -TERM "${PIDS[i]}" 2>/dev/null || true
        wait "${PIDS[i]}" 2>/dev/null || true
    done
    PIDS=()
}
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_all
    "$BIN/xensim" stop --dir "$WORK/sim" >/dev/null 2>&1 || true
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'echo; echo "bench: interrupted"; exit 130' INT TERM

COLS="system,mode,size,queues,grants,run,mpps,gbps,tx_calls_per_pkt,rx_calls_per_pkt,gcopy_ops_per_pkt"
COLS+=",sgrant_copies_per_pkt,notify_to_guest_per_pkt,notify_from_guest_per_pkt"
COLS+=",rss_kib_per_vif,rss_kib_per_queue,drops_per_pkt,offered_mpps"
echo "$COLS" >"$CSV"

nw() { wc -w <<<"$1"; }
per_size=0
has_row sink && per_size=$((per_size + $(nw "$QUEUES")))
has_row static && per_size=$((per_size + 1))
has_row g2g && per_size=$((per_size + $(nw "$MODES")))
has_row dpdk && per_size=$((per_size + 1))
has_row memcpy && per_size=$((per_size + 1))
total_steps=$((RUNS * $(nw "$SIZES") * per_size))
step=0
progress() { step=$((step + 1)); printf '[%3d/%3d] %-44s' "$step" "$total_steps" "$*"; }
show_row() {
    tail -1 "$CSV" | awk -F, '{
        printf " %7.3f Mpps", $7
        if ($9 != "") printf "  calls/pkt tx %.4f rx %.4f  ops/pkt %.3f  notif/pkt %.4f+%.4f  rss/q %s KiB  drops/pkt %.3f", $9, $10, $11, $13, $14, $16, $17
        printf "\n" }'
}

ctl() { "$BIN/netbackctl" --ctl "$WORK/sim/netbackd.sock" "$@"; }
mac() { printf '00:16:3e:00:00:%02x' "$1"; }
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
# Worker pinning for q queues: queue i on CPU (1+i) mod nCPU (the guest has CPU 0).
cpu_list() { local q=$1 l="" i; for ((i = 0; i < q; i++)); do l+="${l:+, }$(((1 + i) % NCPU))"; done; echo "$l"; }

# A fresh emulator and netbackd with config $1; sets NBD and RSS0.
start_backend() {
    rm -rf "$WORK/sim"
    mkdir -p "$WORK/sim"
    "$BIN/xensim" start --dir "$WORK/sim" >"$WORK/xensim.log" 2>&1
    (
        eval "$("$BIN/xensim" env --dir "$WORK/sim" --domid 0)"
        exec "$BIN/netbackd" --foreground --config "$1" --ctl "$WORK/sim/netbackd.sock" \
            --log-level warn
    ) >"$WORK/netbackd.log" 2>&1 &
    NBD=$!
    PIDS=("$NBD")
    eval "$("$BIN/xensim" env --dir "$WORK/sim" --domid 0)"
    for _ in $(seq 200); do ctl stats >/dev/null 2>&1 && break; sleep 0.05; done
    ctl stats >/dev/null || { echo "bench: netbackd did not start:" >&2; cat "$WORK/netbackd.log" >&2; exit 1; }
    RSS0=$(rss_kib "$NBD")
}

stop_backend() {
    stop_all
    "$BIN/xensim" stop --dir "$WORK/sim" >/dev/null 2>&1 || true
}

add_guest() {
    "$BIN/xensim" domain-create --dir "$WORK/sim" --domid "$1" --gntalloc-limit 8192 >/dev/null
    ctl vif-add --domid "$1" --devid 0 --mac "$(mac "$1")" >/dev/null
}

guest() {   # domid cpu log -- netfront args
    local d=$1 cpu=$2 log=$3
    shift 4
    taskset -c "$cpu" "$BIN/xensim" exec --dir "$WORK/sim" --domid "$d" -- "$BIN/netfront" "$@" \
        >"$log" 2>&1 &
    PIDS+=($!)
}

# Counters over the measurement window: A/B = stats, PA/PB = ports, DT.
window() {
    sleep $((WARM + 1))
    A=$(ctl stats --json); PA=$(ctl ports --json); local t0 t1; t0=$(date +%s.%N)
    sleep "$SECS"
    B=$(ctl stats --json); PB=$(ctl ports --json); t1=$(date +%s.%N)
    DT=$(awk -v x="$t1" -v y="$t0" 'BEGIN { print x - y }')
    RSS1=$(rss_kib "$NBD")
}

# One CSV row from the window. $1: jq expression for the delivered packet
# count $p (in terms of vif($s; domid) and sink($s)), $2: the offered count.
emit() {
    local system=$1 mode=$2 size=$3 q=$4 grants=$5 run=$6 nvifs=$7 delivered=$8 offered=$9
    local row
    row=$(jq -n --argjson a "$A" --argjson b "$B" --argjson pa "$PA" --argjson pb "$PB" \
        --arg dt "$DT" --arg size "$size" --arg rss "$(( (RSS1 - RSS0) / nvifs ))" --arg q "$q" -r "
        def vif(\$s; \$d): \$s.vifs[] | select(.domid == \$d) | .totals;
        def sink(\$s): [ \$s.bridges[].ports[] | select(.kind == \"discard\") | .tx_packets ] | add // 0;
        def sum(\$s; f): [ \$s.vifs[] | .totals | f ] | add;
        def d(f): sum(\$b; f) - sum(\$a; f);
        def drops(\$s): [ \$s.vifs[] | .totals | to_entries[] | select(.key | test(\"drop\")) | .value ] | add;
        def pdrops(\$s): [ \$s.bridges[].ports[] | .drops | to_entries[] | .value ] | add // 0;
        ($delivered) as \$p | ($offered) as \$o
        | (\$dt | tonumber) as \$t
        | def per(x): if \$p > 0 then x / \$p else 0 end;
        [ (\$p / \$t / 1e6), (\$p * (\$size | tonumber) * 8 / \$t / 1e9),
          per(d(.tx_gcopy_calls)), per(d(.rx_gcopy_calls)), per(d(.gcopy_ops)),
          per(d(.sgrant_copies)), per(d(.notify_sent)), per(d(.notify_recv)),
          (\$rss | tonumber), ((\$rss | tonumber) / (\$q | tonumber) | floor),
          per(drops(\$b) - drops(\$a) + pdrops(\$pb) - pdrops(\$pa)), (\$o / \$t / 1e6) ]
        | map(tostring) | join(\",\")")
    echo "$system,$mode,$size,$q,$grants,$run,$row" >>"$CSV"
}

# guest 1 -> netbackd -> discard port; q queues; grants plain|static.
sink_run() {
    local size=$1 q=$2 grants=$3 run=$4 flag=()
    [ "$grants" = static ] && flag=(--static-grants)
    cat >"$WORK/netbackd.conf" <<EOF
netbackd = { mode = "poll"; max_queues = $q; cpus = [ $(cpu_list "$q") ]; };
bridges = ( { name = "xenbr0"; } );
ports = ( { name = "sink0"; kind = "discard"; bridge = "xenbr0"; } );
EOF
    start_backend "$WORK/netbackd.conf"
    add_guest 1
    guest 1 0 "$WORK/send.log" -- --send 0 --busy-poll --no-verify --size "$size" --queues "$q" \
        --to "$(mac 2)" "${flag[@]}" --quiet --start-delay 0.5 --duration $((SECS + WARM + 3))
    window
    emit sink poll "$size" "$q" "$grants" "$run" 1 'sink($pb) - sink($pa)' \
        'vif($b; 1).tx_packets - vif($a; 1).tx_packets'
    stop_backend
}

# guest 1 -> netbackd -> guest 2. poll: the sending guest and its vif's
# worker spin; the receiving side stays event-driven (2 cores in all).
g2g_run() {
    local mode=$1 size=$2 run=$3 busy=()
    [ "$mode" = poll ] && busy=(--busy-poll)
    cat >"$WORK/netbackd.conf" <<EOF
netbackd = { mode = "event"; max_queues = 1; };
EOF
    start_backend "$WORK/netbackd.conf"
    add_guest 1
    add_guest 2
    [ "$mode" = poll ] && ctl set-mode vif1.0 poll >/dev/null
    guest 2 "0-$((NCPU - 1))" "$WORK/sink.log" -- --sink --no-verify --quiet \
        --duration $((SECS + WARM + 3))
    guest 1 "0-$((NCPU - 1))" "$WORK/send.log" -- --send 0 --no-verify --size "$size" \
        --to "$(mac 2)" "${busy[@]}" --quiet --start-delay 0.5 --duration $((SECS + WARM + 2))
    window
    emit g2g "$mode" "$size" 1 plain "$run" 2 'vif($b; 2).rx_packets - vif($a; 2).rx_packets' \
        'vif($b; 1).tx_packets - vif($a; 1).tx_packets'
    stop_backend
}

# DPDK vhost-user (rxonly) <- virtio-user (txonly); rate = median of the
# receiver's Rx-pps samples after the first non-zero one.
dpdk_run() {
    local size=$1 run=$2 pps=0
    # a virtio-user start sometimes stalls after its first burst: one retry
    for attempt in 1 2; do
        pps=$(dpdk_attempt "$size" "$run$attempt")
        [ "${pps:-0}" != 0 ] && break
        printf ' (no traffic, retrying)'
    done
    awk -v p="$pps" -v s="$size" -v r="$run" \
        'BEGIN { printf "dpdk-vhost,poll,%d,1,-,%d,%f,%f,,,,,,,,,,\n", s, r, p / 1e6, p * s * 8 / 1e9 }' >>"$CSV"
}

# Prints the receiver's median Rx-pps of one testpmd pair.
dpdk_attempt() {
    local size=$1 run=$2 tag="nb$$r$run"
    local common=(--no-huge -m 512 --no-pci)
    local app=(--auto-start --stats-period 1 --nb-cores=1 --total-num-mbufs=16384 --txpkts="$size")
    rm -f "$WORK/vhost.sock"
    "$TESTPMD" -l 0,1 --main-lcore 1 "${common[@]}" --file-prefix "vh$tag" \
        --vdev "net_vhost0,iface=$WORK/vhost.sock,queues=1" -- --forward-mode=rxonly "${app[@]}" \
        </dev/null >"$WORK/vhost.log" 2>&1 &
    local back=$!
    PIDS=("$back")
    for _ in $(seq 60); do [ -S "$WORK/vhost.sock" ] && break; sleep 0.1; done
    sleep 1
    "$TESTPMD" -l 0,1 --main-lcore 0 "${common[@]}" --file-prefix "vu$tag" \
        --vdev "virtio_user0,path=$WORK/vhost.sock,queues=1" -- --forward-mode=txonly "${app[@]}" \
        </dev/null >"$WORK/virtio.log" 2>&1 &
    PIDS+=($!)
    # count only once the vhost side has the device (a cold start can take seconds)
    for _ in $(seq 100); do
        grep -aq 'virtio is now ready' "$WORK/vhost.log" && break
        sleep 0.1
    done
    sleep $((SECS + WARM))
    kill -INT "${PIDS[1]}" 2>/dev/null || true
    wait "${PIDS[1]}" 2>/dev/null || true
    kill -INT "$back" 2>/dev/null || true
    wait "$back" 2>/dev/null || true
    PIDS=()
    local pps
    pps=$(sed -n '/virtio is now ready/,$p' "$WORK/vhost.log" | grep -a 'Rx-pps:' | awk '{ print $2 }' |
        awk '$1 > 0 { n++; if (n > 1) v[++m] = $1 } END {
            if (!m) { print 0; exit }
            for (i = 2; i <= m; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
            print v[int((m + 1) / 2)] }')
    echo "${pps:-0}"
}

memcpy_run() {
    local size=$1 run=$2 line pps
    line=$("$BIN/nb-memcpy-bench" "$size" 1)
    pps=$(sed -n 's/.* pps=\([0-9]*\).*/\1/p' <<<"$line")
    awk -v p="$pps" -v s="$size" -v r="$run" \
        'BEGIN { printf "memcpy,-,%d,1,-,%d,%f,%f,,,,,,,,,,\n", s, r, p / 1e6, p * s * 8 / 1e9 }' >>"$CSV"
}

load1() { cut -d' ' -f1 /proc/loadavg; }
LOAD0=$(load1)
echo "bench: $RUNS run(s) x ${SECS}s; sizes $SIZES; rows $ROWS; queues $QUEUES; g2g modes $MODES; $NCPU CPUs; out $OUT"
for run in $(seq "$RUNS"); do
    for size in $SIZES; do
        if has_row sink; then
            for q in $QUEUES; do
                progress "sink ${size}B ${q}q run $run"; sink_run "$size" "$q" plain "$run"; show_row
            done
        fi
        if has_row static; then
            progress "sink static-grants ${size}B 1q run $run"; sink_run "$size" 1 static "$run"; show_row
        fi
        if has_row dpdk; then
            progress "dpdk vhost-user ${size}B run $run"; dpdk_run "$size" "$run"; show_row
        fi
        if has_row g2g; then
            for mode in $MODES; do
                progress "g2g $mode ${size}B run $run"; g2g_run "$mode" "$size" "$run"; show_row
            done
        fi
        if has_row memcpy; then
            progress "memcpy ${size}B run $run"; memcpy_run "$size" "$run"; show_row
        fi
    done
done

echo "$LOAD0 / $(load1)" >"$OUT/load.txt"
"$(dirname "$0")/report.sh" "$CSV" "$OUT"
echo "bench: $OUT/results.md, results.csv, results.png"
