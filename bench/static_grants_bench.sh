#!/usr/bin/env bash
# Static grants: guest 1 -> netbackd -> guest 2 on the emulator, each size
# run with plain grant copies and with both guests registering their buffer
# pools (netfront --static-grants, ADD_GREF_MAPPING over the control ring).
# Reports, per packet delivered to guest 2 over a fixed window: grant-copy
# calls and ops (segments) summed over both vifs, static-grant memcpys, and
# the rate (a rate on the emulator compares runs of this machine only).
#   bench/static_grants_bench.sh [--build DIR] [--runs N] [--seconds S] [--sizes "64 1500"] [--out DIR]
# Writes DIR/static_grants.csv and DIR/static_grants.md.
set -euo pipefail

O=build RUNS=1 SECS=3 WARM=1 SIZES="64 1500" OUT=bench/out
while [ $# -gt 0 ]; do
    case $1 in
    --build) O=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --seconds) SECS=$2; shift 2 ;;
    --sizes) SIZES=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "bench: unknown argument $1" >&2; exit 2 ;;
    esac
done
BIN=$(cd "$O/bin" && pwd)
for t in xensim netbackd netbackctl netfront; do
    [ -x "$BIN/$t" ] || { echo "bench: $BIN/$t missing: run make first" >&2; exit 1; }
done
command -v jq >/dev/null || { echo "bench: jq missing" >&2; exit 1; }
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
CSV=$OUT/static_grants.csv
WORK=$(mktemp -d /tmp/netbackd-sgbench.XXXXXX)
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

ctl() { "$BIN/netbackctl" --ctl "$WORK/sim/netbackd.sock" "$@"; }
mac() { printf '00:16:3e:00:00:%02x' "$1"; }

echo "grants,size,run,mpps,gcopy_calls_per_pkt,gcopy_ops_per_pkt,sgrant_copies_per_pkt,pages_registered" >"$CSV"

one_run() {
    local grants=$1 size=$2 run=$3 flag=()
    [ "$grants" = static ] && flag=(--static-grants)
    rm -rf "$WORK/sim"
    mkdir -p "$WORK/sim"
    "$BIN/xensim" start --dir "$WORK/sim" >"$WORK/xensim.log" 2>&1
    (
        eval "$("$BIN/xensim" env --dir "$WORK/sim" --domid 0)"
        exec "$BIN/netbackd" --foreground --ctl "$WORK/sim/netbackd.sock" --log-level warn \
            --max-queues 1
    ) >"$WORK/netbackd.log" 2>&1 &
    PIDS=("$!")
    eval "$("$BIN/xensim" env --dir "$WORK/sim" --domid 0)"
    for _ in $(seq 100); do ctl stats >/dev/null 2>&1 && break; sleep 0.05; done
    for d in 1 2; do
        "$BIN/xensim" domain-create --dir "$WORK/sim" --domid "$d" >/dev/null
        ctl vif-add --domid "$d" --devid 0 --mac "$(mac "$d")" >/dev/null
    done
    "$BIN/xensim" exec --dir "$WORK/sim" --domid 2 -- "$BIN/netfront" --sink --no-verify \
        "${flag[@]}" --duration $((SECS + WARM + 3)) >"$WORK/sink.log" 2>&1 &
    PIDS+=($!)
    "$BIN/xensim" exec --dir "$WORK/sim" --domid 1 -- "$BIN/netfront" --send 0 --no-verify \
        "${flag[@]}" --size "$size" --to "$(mac 2)" --start-delay 0.5 \
        --duration $((SECS + WARM + 2)) >"$WORK/send.log" 2>&1 &
    PIDS+=($!)
    sleep $((WARM + 1))
    local a b t0 t1 pages
    a=$(ctl stats --json); t0=$(date +%s.%N)
    sleep "$SECS"
    b=$(ctl stats --json); t1=$(date +%s.%N)
    pages=$(cat "$WORK/sink.log" "$WORK/send.log" | awk '/registered as static grants/ { n += $2 } END { print n + 0 }')
    jq -n --argjson a "$a" --argjson b "$b" --arg dt "$(awk -v x="$t1" -v y="$t0" 'BEGIN{print x-y}')" -r '
        def vif($s; $d): $s.vifs[] | select(.domid == $d) | .totals;
        def sum($s; f): [ $s.vifs[] | .totals | f ] | add;
        def per($p; f): if $p > 0 then (sum($b; f) - sum($a; f)) / $p else 0 end;
        (vif($b; 2).rx_packets - vif($a; 2).rx_packets) as $p
        | [ ($p / ($dt | tonumber) / 1e6), per($p; .gcopy_calls), per($p; .gcopy_ops),
            per($p; .sgrant_copies) ] | map(tostring) | join(",")' >"$WORK/row"
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    PIDS=()
    "$BIN/xensim" stop --dir "$WORK/sim" >/dev/null 2>&1 || true
    echo "$grants,$size,$run,$(cat "$WORK/row"),$pages" >>"$CSV"
    echo "  $grants size $size run $run: $(cat "$WORK/row") pages=$pages"
}

for size in $SIZES; do
    for run in $(seq "$RUNS"); do
        for grants in copy static; do
            one_run "$grants" "$size" "$run"
        done
    done
done

{
    echo "# Static grants: grant operations per packet (guest 1 -> netbackd -> guest 2, emulator)"
    echo
    echo "| grants | size | Mpps (median) | gcopy calls/pkt | gcopy ops/pkt | static memcpys/pkt | pages registered |"
    echo "|---|---|---|---|---|---|---|"
    tail -n +2 "$CSV" | sort -t, -k1,1 -k2,2n -k4,4g | awk -F, '
        { key = $1 "," $2; n[key]++; v[key, n[key]] = $0 }
        END {
            for (k in n) {
                split(v[k, int((n[k] + 1) / 2)], f, ",")
                printf "| %s | %s | %.4f | %.3f | %.3f | %.3f | %s |\n", f[1], f[2], f[4], f[5], f[6], f[7], f[8]
            }
        }' | sort -t'|' -k3,3n -k2,2
} >"$OUT/static_grants.md"
cat "$OUT/static_grants.md"
