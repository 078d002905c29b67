#!/usr/bin/env bash
# Instructions per packet on the sink path (guest -> netbackd -> discard
# port), counted by valgrind's callgrind: repeatable on a loaded machine,
# where rates are not. Two runs per size: netbackd under callgrind (what its
# TX worker executes inside nbd_tx_burst: ring parsing, grant copy in the
# emulator, bridge, discard, responses) and the sending guest under callgrind
# (netfront_tx_burst: building requests, reaping responses).
#   bench/instr_per_packet.sh [--build DIR] [--sizes "64 1500"] [--seconds S] [--keep DIR]
#   [--static-grants]  the guest registers its buffer pools with
#                      ADD_GREF_MAPPING: netbackd copies them with memcpy
#   [--cache]          also simulate the caches (callgrind --cache-sim=yes):
#                      L1 data and last-level misses per packet. One
#                      process's own caches only: lines moving between the
#                      guest's core and netbackd's are not modelled.
# Prints one line per size and side; --keep leaves the callgrind files
# (callgrind_annotate FILE shows where the instructions go).
# An empty poll is not counted: the worker calls nbd_tx_burst only when the
# guest's req_prod moved (worker.c), so the figure is the cost of the work.
set -euo pipefail

O=build SIZES="64" SECS=4 KEEP="" GRANTS=() CACHE=()
while [ $# -gt 0 ]; do
    case $1 in
    --build) O=$2; shift 2 ;;
    --sizes) SIZES=$2; shift 2 ;;
    --seconds) SECS=$2; shift 2 ;;
    --keep) KEEP=$2; shift 2 ;;
    --static-grants) GRANTS=(--static-grants); shift ;;
    --cache) CACHE=(--cache-sim=yes); shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "instr: unknown argument $1" >&2; exit 2 ;;
    esac
done
BIN=$(cd "$O/bin" && pwd)
for t in valgrind callgrind_annotate jq; do
    command -v $t >/dev/null || { echo "instr: $t missing" >&2; exit 1; }
done
WORK=$(mktemp -d /tmp/netbackd-instr.XXXXXX)
PIDS=()
cleanup() {
    local i
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
        kill -TERM "${PIDS[i]}" 2>/dev/null || true
        wait "${PIDS[i]}" 2>/dev/null || true
    done
    "$BIN/xensim" stop --dir "$WORK/sim" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

ctl() { "$BIN/netbackctl" --ctl "$WORK/sim/netbackd.sock" "$@"; }

# one_run SIDE SIZE: SIDE nbd|guest runs under callgrind; prints Ir/packet.
one_run() {
    local side=$1 size=$2 vg_nbd=() vg_guest=() out="$WORK/cg.$1.$2"
    local vg=(valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file="$out"
              ${CACHE[@]+"${CACHE[@]}"})
    if [ "$side" = nbd ]; then vg_nbd=("${vg[@]}" --toggle-collect=nbd_tx_burst)
    else vg_guest=("${vg[@]}" --toggle-collect=netfront_tx_burst); fi
    rm -rf "$WORK/sim"
    mkdir -p "$WORK/sim"
    cat >"$WORK/netbackd.conf" <<EOF
netbackd = { mode = "poll"; max_queues = 1; };
bridges = ( { name = "xenbr0"; } );
ports = ( { name = "sink0"; kind = "discard"; bridge = "xenbr0"; } );
EOF
    "$BIN/xensim" start --dir "$WORK/sim" >/dev/null 2>&1
    eval "$("$BIN/xensim" env --dir "$WORK/sim" --domid 0)"
    "${vg_nbd[@]}" "$BIN/netbackd" --foreground --config "$WORK/netbackd.conf" \
        --ctl "$WORK/sim/netbackd.sock" --log-level warn >"$WORK/netbackd.log" 2>&1 &
    local nbd=$!
    PIDS=("$nbd")
    for _ in $(seq 400); do ctl stats >/dev/null 2>&1 && break; sleep 0.05; done
    "$BIN/xensim" domain-create --dir "$WORK/sim" --domid 1 --gntalloc-limit 8192 >/dev/null
    ctl vif-add --domid 1 --devid 0 --mac 00:16:3e:00:00:01 >/dev/null
    "$BIN/xensim" exec --dir "$WORK/sim" --domid 1 -- "${vg_guest[@]}" "$BIN/netfront" --send 0 \
        --busy-poll --no-verify ${GRANTS[@]+"${GRANTS[@]}"} --size "$size" --to 00:16:3e:00:00:02 --quiet \
        --duration $((SECS + 6)) >"$WORK/send.log" 2>&1 &
    local guest=$!
    PIDS+=("$guest")
    local pkts
    if [ "$side" = nbd ]; then
        sleep $((SECS + 4))
        pkts=$(ctl ports --json | jq '[.bridges[].ports[] | select(.kind == "discard") | .tx_packets] | add')
        kill -TERM "$guest" 2>/dev/null || true; wait "$guest" 2>/dev/null || true
        kill -TERM "$nbd" 2>/dev/null || true; wait "$nbd" 2>/dev/null || true
    else
        wait "$guest" 2>/dev/null || true
        pkts=$(ctl ports --json | jq '[.bridges[].ports[] | select(.kind == "discard") | .tx_packets] | add')
        kill -TERM "$nbd" 2>/dev/null || true; wait "$nbd" 2>/dev/null || true
    fi
    PIDS=()
    "$BIN/xensim" stop --dir "$WORK/sim" >/dev/null 2>&1 || true
    # Ir, and with --cache the L1 data and last-level misses (reads + writes)
    local totals
    totals=$(callgrind_annotate --show=Ir${CACHE[*]:+,D1mr,D1mw,DLmr,DLmw} "$out"* 2>/dev/null |
        awk '/PROGRAM TOTALS/ && !done { gsub(",", ""); print $1, $3, $5, $7, $9; done = 1 }' || true)
    if [ -n "$KEEP" ]; then mkdir -p "$KEEP"; cp "$out"* "$KEEP/"; fi
    awk -v t="${totals:-0}" -v p="${pkts:-0}" -v s="$side" -v z="$size" -v c="${#CACHE[@]}" \
        -v g="${GRANTS[*]:+ (static grants)}" 'BEGIN {
        split(t, v, " ")
        printf "%-6s %5s B: %10.0f packets, %6.0f instructions/packet", s, z, p, (p > 0 ? v[1] / p : 0)
        if (c > 0 && p > 0)
            printf ", D1 misses %.2f, LL misses %.2f /packet", (v[2] + v[3]) / p, (v[4] + v[5]) / p
        printf "%s\n", g }'
}

for size in $SIZES; do
    one_run nbd "$size"
    one_run guest "$size"
done
