#!/usr/bin/env bash
# The netbackd demo, no root needed: a private hypervisor emulator, netbackd
# as the backend domain, four emulated guests (userspace netfront) sending
# verified traffic to each other through it, live per-vif rates from
# `netbackctl stats` every second, and a summary at the end.
#   bench/demo.sh [BUILD_DIR]        (make demo runs it with $(O))
#   DEMO_SECONDS=15  how long the traffic runs
set -euo pipefail

O=${1:-build}
SECS=${DEMO_SECONDS:-15}
BIN=$(cd "$O/bin" && pwd)
for t in xensim netbackd netbackctl netfront; do
    [ -x "$BIN/$t" ] || { echo "demo: $BIN/$t is missing: run make first" >&2; exit 1; }
done
command -v jq >/dev/null || { echo "demo: jq is missing (make deps installs it)" >&2; exit 1; }

DIR=$(mktemp -d /tmp/netbackd-demo.XXXXXX)
CTL=$DIR/netbackd.sock
NBD_PID=
GUEST_PIDS=()

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    for p in "${GUEST_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${GUEST_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    if [ -n "$NBD_PID" ]; then
        kill -TERM "$NBD_PID" 2>/dev/null || true
        wait "$NBD_PID" 2>/dev/null || true
    fi
    "$BIN/xensim" stop --dir "$DIR" >/dev/null 2>&1 || true
    if [ "$rc" -ne 0 ] && [ -d "$DIR" ]; then
        echo "demo: failed (status $rc); logs:" >&2
        tail -n 20 "$DIR"/*.log >&2 2>/dev/null || true
    fi
    rm -rf "$DIR"
    exit "$rc"
}
trap cleanup EXIT
trap 'echo; echo "demo: interrupted, cleaning up"; exit 130' INT TERM

ctl() { "$BIN/netbackctl" --ctl "$CTL" "$@"; }

echo "== starting the hypervisor emulator in $DIR"
"$BIN/xensim" start --dir "$DIR" >"$DIR/xensim.log" 2>&1
eval "$("$BIN/xensim" env --dir "$DIR" --domid 0)"

echo "== starting netbackd (backend domain 0)"
"$BIN/netbackd" --foreground --ctl "$CTL" >"$DIR/netbackd.log" 2>&1 &
NBD_PID=$!
for _ in $(seq 100); do
    ctl stats >/dev/null 2>&1 && break
    kill -0 "$NBD_PID" 2>/dev/null || { echo "demo: netbackd exited" >&2; exit 1; }
    sleep 0.1
done
ctl stats >/dev/null

mac() { printf '00:16:3e:00:00:%02x' "$1"; }
GUESTS=(1 2 3 4)
# who sends to whom, and frame sizes: 1<->2 mixed sizes, 3<->4 full frames
declare -A PEER=([1]=2 [2]=1 [3]=4 [4]=3)
declare -A SIZE=([1]=64-1514 [2]=64-1514 [3]=1514 [4]=1514)
# paced so that four guests and netbackd share two cores without overrunning
# each other (DEMO_PPS=0: flat out, and watch the drop counters climb)
PPS=${DEMO_PPS:-30000}

echo "== creating guests ${GUESTS[*]} with one vif each (netbackctl vif-add)"
for d in "${GUESTS[@]}"; do
    "$BIN/xensim" domain-create --dir "$DIR" --domid "$d" >/dev/null
    ctl vif-add --domid "$d" --devid 0 --mac "$(mac "$d")" >/dev/null
done

echo "== guests connect and send verified traffic for ${SECS}s"
for d in "${GUESTS[@]}"; do
    "$BIN/xensim" exec --dir "$DIR" --domid "$d" -- \
        "$BIN/netfront" --sink --send 0 --to "$(mac "${PEER[$d]}")" --size "${SIZE[$d]}" \
        --seed "$d" --pps "$PPS" --start-delay 1 --duration "$((SECS + 1))" --quiet \
        >"$DIR/guest$d.log" 2>&1 &
    GUEST_PIDS+=($!)
done

# One line per vif per second: packets/s and Mbit/s each way, drops so far.
snapshot() { ctl stats --json | jq -r '.vifs[] | [.name, .state, .totals.tx_packets,
    .totals.tx_bytes, .totals.rx_packets, .totals.rx_bytes,
    ([.totals | to_entries[] | select(.key | test("drop")) | .value] | add)] | @tsv'; }
prev_t=$(date +%s.%N)
snapshot >"$DIR/snap.prev"
printf '\n%-6s %-10s %-9s %12s %10s %12s %10s %8s\n' time vif state "from-guest/s" Mbit/s \
    "to-guest/s" Mbit/s drops
t0=$prev_t
for i in $(seq "$((SECS + 1))"); do
    # tick on whole seconds since the start, whatever the stats call cost
    sleep "$(awk -v t0="$t0" -v i="$i" -v now="$(date +%s.%N)" \
        'BEGIN { d = t0 + i - now; print (d > 0 ? d : 0) }')"
    now=$(date +%s.%N)
    snapshot >"$DIR/snap.now"
    awk -v dt="$(awk -v a="$now" -v b="$prev_t" 'BEGIN { print a - b }')" \
        -v t="$(awk -v a="$now" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')" -F'\t' '
        NR == FNR { tp[$1] = $3; tb[$1] = $4; rp[$1] = $5; rb[$1] = $6; next }
        { printf "%-6s %-10s %-9s %12.0f %10.1f %12.0f %10.1f %8d\n", t "s", $1, $2,
                 ($3 - tp[$1]) / dt, ($4 - tb[$1]) * 8 / dt / 1e6,
                 ($5 - rp[$1]) / dt, ($6 - rb[$1]) * 8 / dt / 1e6, $7 }' \
        "$DIR/snap.prev" "$DIR/snap.now"
    mv "$DIR/snap.now" "$DIR/snap.prev"
    prev_t=$now
    alive=0
    for p in "${GUEST_PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" = 1 ] || break
done

echo
echo "== waiting for the guests to close their vifs"
status=0
for p in "${GUEST_PIDS[@]}"; do wait "$p" || status=1; done
GUEST_PIDS=()
kill -0 "$NBD_PID" 2>/dev/null || { echo "demo: netbackd died" >&2; exit 1; }

echo "== summary (${SECS}s, $((${#GUESTS[@]})) guests, via netbackd)"
tot() { cat "$DIR"/guest*.log | grep -o " $1=[0-9]*" | awk -F= '{ s += $2 } END { printf "%.0f\n", s }'; }
sent=$(tot tx_pkts); recv=$(tot rx_pkts); good=$(tot rx_good); bad=$(tot rx_bad)
sbytes=$(tot tx_bytes); rbytes=$(tot rx_bytes)
drops=$(ctl stats --json | jq '[.vifs[].totals | to_entries[] | select(.key | test("drop")) | .value] | add // 0')
printf '  packets sent     %12s  (%s bytes)\n' "$sent" "$sbytes"
printf '  packets received %12s  (%s bytes), %s verified byte-exact, %s corrupt\n' \
    "$recv" "$rbytes" "$good" "$bad"
# received can exceed sent: frames to a MAC the bridge has not learned yet
# are flooded to every other guest (each copy verified like the rest)
printf '  dropped          %12s  (netbackd drop counters; senders are paced, not flow-controlled)\n' "$drops"
for d in "${GUESTS[@]}"; do grep -h netfront-summary "$DIR/guest$d.log" | sed 's/^/  /' || true; done
if [ "$status" -ne 0 ] || [ "${recv:-0}" -eq 0 ] || [ "${bad:-0}" -ne 0 ]; then
    echo "demo: FAILED" >&2
    exit 1
fi
echo "demo: OK"
