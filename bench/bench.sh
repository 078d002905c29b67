#!/usr/bin/env bash
# The netbackd benchmark: emulated guest -> netbackd -> emulated guest, and in
# the same invocation the baselines it is judged against (DPDK vhost-user <->
# virtio-user with dpdk-testpmd, and a one-core memcpy). Several runs each;
# min/median/max and the ratio netbackd/baseline of the medians.
#   bench/bench.sh [--build DIR] [--runs N] [--seconds S] [--sizes "64 1500"]
#                  [--modes "event poll"] [--no-dpdk] [--out DIR]
# Writes DIR/results.csv (every run), DIR/results.md (summary), DIR/results.png.
set -euo pipefail

O=build RUNS=3 SECS=3 WARM=1 SIZES="64 1500" MODES="event poll" DPDK=1 OUT=bench/out
while [ $# -gt 0 ]; do
    case $1 in
    --build) O=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --seconds) SECS=$2; shift 2 ;;
    --sizes) SIZES=$2; shift 2 ;;
    --modes) MODES=$2; shift 2 ;;
    --no-dpdk) DPDK=0; shift ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "bench: unknown argument $1" >&2; exit 2 ;;
    esac
done
BIN=$(cd "$O/bin" && pwd)
for t in xensim netbackd netbackctl netfront nb-memcpy-bench; do
    [ -x "$BIN/$t" ] || { echo "bench: $BIN/$t missing: run make first" >&2; exit 1; }
done
command -v jq >/dev/null || { echo "bench: jq missing (make deps)" >&2; exit 1; }
TESTPMD=$(command -v dpdk-testpmd || true)
[ -n "$TESTPMD" ] || { [ "$DPDK" = 1 ] && echo "bench: dpdk-testpmd not found (Debian dpdk-dev): DPDK baseline skipped" >&2; DPDK=0; }

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
CSV=$OUT/results.csv
WORK=$(mktemp -d /tmp/netbackd-bench.XXXXXX)
PIDS=()
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    "$BIN/xensim" stop --dir "$WORK/sim" >/dev/null 2>&1 || true
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'echo; echo "bench: interrupted"; exit 130' INT TERM

echo "system,mode,size,run,mpps,gbps,gcopy_calls_per_pkt,notify_to_guest_per_pkt,notify_from_guest_per_pkt,rss_kib_per_vif,drops_per_pkt" >"$CSV"
total_steps=$(( RUNS * ( $(wc -w <<<"$SIZES") * ( $(wc -w <<<"$MODES") + DPDK + 1 ) ) ))
step=0
progress() { step=$((step + 1)); printf '[%3d/%3d] %s\n' "$step" "$total_steps" "$*"; }

ctl() { "$BIN/netbackctl" --ctl "$WORK/sim/netbackd.sock" "$@"; }
mac() { printf '00:16:3e:00:00:%02x' "$1"; }
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# netbackd: fresh emulator + daemon per run, guest 1 sends to guest 2.
netbackd_run() {
    local mode=$1 size=$2 run=$3 busy=() nbd
    [ "$mode" = poll ] && busy=(--busy-poll)
    rm -rf "$WORK/sim"
    mkdir -p "$WORK/sim"
    "$BIN/xensim" start --dir "$WORK/sim" >"$WORK/xensim.log" 2>&1
    (
        eval "$("$BIN/xensim" env --dir "$WORK/sim" --domid 0)"
        exec "$BIN/netbackd" --foreground --ctl "$WORK/sim/netbackd.sock" --log-level warn
    ) >"$WORK/netbackd.log" 2>&1 &
    nbd=$!
    PIDS=("$nbd")
    eval "$("$BIN/xensim" env --dir "$WORK/sim" --domid 0)"
    for _ in $(seq 100); do ctl stats >/dev/null 2>&1 && break; sleep 0.05; done
    local rss0
    rss0=$(rss_kib "$nbd")
    for d in 1 2; do
        "$BIN/xensim" domain-create --dir "$WORK/sim" --domid "$d" >/dev/null
        ctl vif-add --domid "$d" --devid 0 --mac "$(mac "$d")" >/dev/null
    done
    # poll: the sender's vif worker spins on one core, the sending guest on
    # the other; the receiving side stays event-driven (two cores in all).
    [ "$mode" = poll ] && ctl set-mode vif1.0 poll >/dev/null
    "$BIN/xensim" exec --dir "$WORK/sim" --domid 2 -- "$BIN/netfront" --sink --no-verify \
        --quiet --duration $((SECS + WARM + 3)) >"$WORK/sink.log" 2>&1 &
    PIDS+=($!)
    "$BIN/xensim" exec --dir "$WORK/sim" --domid 1 -- "$BIN/netfront" --send 0 --no-verify \
        --size "$size" --to "$(mac 2)" "${busy[@]}" --quiet --start-delay 0.5 \
        --duration $((SECS + WARM + 2)) >"$WORK/send.log" 2>&1 &
    PIDS+=($!)
    sleep $((WARM + 1))
    local a b t0 t1
    a=$(ctl stats --json); t0=$(date +%s.%N)
    sleep "$SECS"
    b=$(ctl stats --json); t1=$(date +%s.%N)
    local rss1
    rss1=$(rss_kib "$nbd")
    # to-guest packets on vif 2 over the window; grant-copy calls and
    # notifications over both vifs (guest 1's TX plus guest 2's RX).
    jq -n --argjson a "$a" --argjson b "$b" --arg dt "$(awk -v x="$t1" -v y="$t0" 'BEGIN{print x-y}')" \
        --arg size "$size" --arg rss "$(( (rss1 - rss0) / 2 ))" -r '
        def vif($s; $d): $s.vifs[] | select(.domid == $d) | .totals;
        def sum($s; f): [ $s.vifs[] | .totals | f ] | add;
        def drops($s): [ $s.vifs[] | .totals | to_entries[] | select(.key | test("drop")) | .value ] | add;
        (vif($b; 2).rx_packets - vif($a; 2).rx_packets) as $p
        | ($dt | tonumber) as $t
        | [ ($p / $t / 1e6),
            ($p * ($size | tonumber) * 8 / $t / 1e9),
            (if $p > 0 then (sum($b; .gcopy_calls) - sum($a; .gcopy_calls)) / $p else 0 end),
            (if $p > 0 then (sum($b; .notify_sent) - sum($a; .notify_sent)) / $p else 0 end),
            (if $p > 0 then (sum($b; .notify_recv) - sum($a; .notify_recv)) / $p else 0 end),
            ($rss | tonumber),
            (if $p > 0 then (drops($b) - drops($a)) / $p else 0 end) ]
        | map(tostring) | join(",")' >"$WORK/row"
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    PIDS=()
    "$BIN/xensim" stop --dir "$WORK/sim" >/dev/null 2>&1 || true
    echo "netbackd,$mode,$size,$run,$(cat "$WORK/row")" >>"$CSV"
}

# DPDK vhost-user (rxonly) <- virtio-user (txonly), recipe from
# shared/notes/baselines.md; rate = median of the receiver's Rx-pps samples
# after the first non-zero one.
dpdk_run() {
    local size=$1 run=$2 pps=0
    # a virtio-user start sometimes stalls after its first burst: one retry
    for attempt in 1 2; do
        pps=$(dpdk_attempt "$size" "$run$attempt")
        [ "${pps:-0}" != 0 ] && break
        echo "          (dpdk: no traffic, retrying)"
    done
    awk -v p="$pps" -v s="$size" -v r="$run" \
        'BEGIN { printf "dpdk-vhost,poll,%d,%d,%f,%f,,,,,\n", s, r, p / 1e6, p * s * 8 / 1e9 }' >>"$CSV"
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
    sleep 2
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
        'BEGIN { printf "memcpy,-,%d,%d,%f,%f,,,,,\n", s, r, p / 1e6, p * s * 8 / 1e9 }' >>"$CSV"
}

echo "bench: $RUNS run(s) x ${SECS}s; sizes $SIZES; netbackd modes $MODES; dpdk=$DPDK; out $OUT"
for run in $(seq "$RUNS"); do
    for size in $SIZES; do
        for mode in $MODES; do
            progress "netbackd $mode ${size}B run $run"
            netbackd_run "$mode" "$size" "$run"
            tail -1 "$CSV" | awk -F, '{ printf "          %.3f Mpps  %.3f Gbit/s  gcopy/pkt %.4f  notify/pkt %.4f+%.4f  rss/vif %s KiB  drops/pkt %.3f\n", $5, $6, $7, $8, $9, $10, $11 }'
        done
        if [ "$DPDK" = 1 ]; then
            progress "dpdk vhost-user ${size}B run $run"
            dpdk_run "$size" "$run"
            tail -1 "$CSV" | awk -F, '{ printf "          %.3f Mpps  %.3f Gbit/s\n", $5, $6 }'
        fi
        progress "memcpy ${size}B run $run"
        memcpy_run "$size" "$run"
    done
done

"$(dirname "$0")/report.sh" "$CSV" "$OUT"
