#!/usr/bin/env bash
# Real Xen end to end: boots the Xen 4.17 hypervisor with a Debian dom0 under
# QEMU software emulation, runs the scenarios inside dom0 and prints one
# PASS/FAIL/SKIP line per scenario, from the markers dom0 prints on the
# serial console. Needs root.
#   tests/e2e/run.sh [scenario...]        (default: all; E2E_SCENARIOS works too)
# Environment: O (build dir, default build), E2E_CACHE (artifact cache,
# default /var/cache/netbackd-e2e), E2E_IPERF_SECS (default 30),
# E2E_NETBACKD_ARGS (extra arguments for netbackd in dom0), E2E_SIZES_COUNT
# (probes per size in `sizes`, default 3), E2E_KEEP_LOGS=1 (keep the console
# logs of a passing run too).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
. "$HERE/lib.sh"

ALL_SCENARIOS="kernel-iperf ping iperf multiqueue sizes lifecycle two-guests pvh pci driver-domain"
SCENARIOS=${*:-${E2E_SCENARIOS:-$ALL_SCENARIOS}}
O=${O:-build}
case "$O" in /*) ;; *) O=$TOP/$O ;; esac
IPERF_SECS=${E2E_IPERF_SECS:-30}

e2e_need_root
e2e_need_tools qemu-system-x86_64 cpio gzip timeout nice

if [ -n "${E2E_ARTIFACTS:-}" ]; then
	ART=$E2E_ARTIFACTS   # a given artifact directory, for debugging the boot
else
	ART=$("$HERE/build-artifacts.sh") || e2e_die "building the artifacts failed"
	ART=$(echo "$ART" | tail -n 1)
fi
[ -f "$ART/complete" ] || e2e_die "no complete artifact set in $ART"

LOGDIR=$O/e2e/logs/$(date +%Y%m%d-%H%M%S)
STAGE=$O/e2e/stage
mkdir -p "$LOGDIR"
rm -rf "$STAGE" && mkdir -p "$STAGE/overlay/e2e" "$STAGE/guest"

# Per run, an overlay cpio goes after the cached root (the kernel unpacks
# concatenated archives in order): our init and scenarios, the guest
# initramfs, and netbackd as `make install` puts it, with whatever shared
# libraries it needs that the cached root lacks (the machine is bookworm,
# like dom0).
e2e_log "overlay: scenarios, guest init, netbackd from $O"
OV=$STAGE/overlay
install -m 755 "$HERE/dom0-init.sh" "$OV/init"
install -m 644 "$HERE/scenarios.sh" "$OV/e2e/scenarios.sh"
{
	echo "NETBACKD_ARGS=\"${E2E_NETBACKD_ARGS:-}\""
	echo "E2E_IPERF_SECS=$IPERF_SECS"
	echo "E2E_SIZES_COUNT=${E2E_SIZES_COUNT:-3}"
} > "$OV/e2e/config.sh"
install -D -m 755 "$HERE/guest-init.sh" "$STAGE/guest/init"
# Two programs from this machine (also bookworm) join the guest, with the
# libraries its root lacks (it has libc and libm):
# - iputils ping as /usr/bin/ping, where dom0's root has it too (busybox's
#   applet stays /bin/ping; scenarios.sh calls the full path). busybox ping
#   waits only max(1 s, 2 x the slowest RTT) for the last reply, whatever
#   -w says, and under emulation a reply now and then takes longer: it
#   reported those replies lost. iputils waits for -c replies until the -w
#   deadline, which is the "all answered" the scenarios test.
# - ethtool, for the multi-queue scenario's offload check.
guest_add_tool() {
	local src=$1 dst=$2 lib
	[ -x "$src" ] || { e2e_log "no $src on this machine: the guest goes without it"; return 1; }
	install -D -m 755 "$src" "$STAGE/guest$dst"
	for lib in $(ldd "$src" | awk '/=>/ && $3 ~ /^\// { print $3 }'); do
		case "$lib" in */libc.so.*|*/libm.so.*) continue ;; esac
		[ -e "$STAGE/guest$lib" ] || install -D -m 644 "$lib" "$STAGE/guest$lib"
	done
}
guest_add_tool /usr/bin/ping /usr/bin/ping || e2e_die "iputils ping is needed (apt-get install iputils-ping)"
guest_add_tool /usr/sbin/ethtool /usr/sbin/ethtool
(cd "$STAGE/guest" && find . | cpio -o -H newc --quiet | gzip) > "$STAGE/guest-init.cpio.gz"
cat "$ART/guest-base.cpio.gz" "$STAGE/guest-init.cpio.gz" > "$OV/e2e/guest.cpio.gz"

# What `make install` puts in dom0 (not `make install` itself: it would
# rebuild every module first).
install -D -m 755 "$TOP/backend/hotplug/vif-netbackd" "$OV/etc/xen/scripts/vif-netbackd"
if [ -x "$O/bin/netbackd" ]; then
	for b in netbackd netbackctl; do
		[ -x "$O/bin/$b" ] && install -D -m 755 "$O/bin/$b" "$OV/usr/local/sbin/$b"
	done
	# tcpdump for the failure dumps (dom0's root does not have it).
	command -v tcpdump >/dev/null && install -D -m 755 "$(command -v tcpdump)" "$OV/usr/local/sbin/tcpdump"
	# strace and ethtool for the iperf-probe scenarios, when the machine has them.
	for b in strace ethtool; do
		command -v $b >/dev/null && install -D -m 755 "$(command -v $b)" "$OV/usr/local/sbin/$b"
	done
	# Libraries go under /usr/lib: dom0's /lib is a symlink, and an archive
	# entry "lib/" would replace it with a directory when the kernel unpacks.
	for bin in "$OV"/usr/local/sbin/*; do
		for lib in $(ldd "$bin" 2>/dev/null | awk '/=>/ && $3 ~ /^\// { print $3 }'); do
			grep -qxF ".$lib" "$ART/dom0-files.txt" && continue
			real=$(readlink -f "$lib")
			grep -qxF ".$real" "$ART/dom0-files.txt" && continue
			dst=$lib
			case "$dst" in /usr/*) ;; *) dst=/usr$dst ;; esac
			[ -e "$OV$dst" ] || install -D -m 644 "$lib" "$OV$dst"
		done
	done
else
	e2e_log "no $O/bin/netbackd: netbackd scenarios will SKIP"
fi
install -m 644 "$HERE/guest-init.sh" "$OV/e2e/guest-init.sh"
(cd "$OV" && find . | cpio -o -H newc --quiet | gzip) > "$STAGE/overlay.cpio.gz"
cat "$ART/dom0-base.cpio.gz" "$STAGE/overlay.cpio.gz" > "$STAGE/dom0.cpio.gz"
# Scenario 8 boots a driver domain from this same image: dom0 gets a copy.
case " $SCENARIOS " in
*driver-domain*)
	mkdir -p "$STAGE/dd/e2e"
	mv "$STAGE/dom0.cpio.gz" "$STAGE/dd/e2e/dom0.cpio.gz"
	(cd "$STAGE/dd" && find . | cpio -o -H newc --quiet | gzip -1) > "$STAGE/dd.cpio"
	cat "$ART/dom0-base.cpio.gz" "$STAGE/overlay.cpio.gz" "$STAGE/dd.cpio" > "$STAGE/dom0.cpio.gz"
	rm -rf "$STAGE/dd" "$STAGE/dd.cpio"
	;;
esac
rm -rf "$STAGE/guest"

# Seconds a scenario may take inside dom0 (mirrors scenario_limit), for the
# boot's own watchdog.
limit_of() {
	case "$1" in
	kernel-iperf|iperf) echo $((4 * IPERF_SECS + 300)) ;;
	*iperf-probe) echo $((2 * (IPERF_SECS < 24 ? 24 : IPERF_SECS) + 480)) ;;
	multiqueue) echo $((2 * IPERF_SECS + 300)) ;;
	lifecycle|sizes|late-reply) echo 720 ;;
	*driver-domain) echo 900 ;;
	*) echo 300 ;;
	esac
}

declare -A VERDICT DETAIL LOG SECS
declare -a ORDER=()

# The whole run (artifacts included) must end within E2E_BUDGET seconds:
# CI has 90 minutes for everything, and a hung boot must not take them
# all. A boot gets what is left of it, and a boot that would start with
# less than a minute left does not start.
BUDGET=${E2E_BUDGET:-3600}
budget_left() { echo $(( BUDGET - ($(date +%s) - E2E_T0) )); }

# Seconds the host waits for dom0 to reach its first scenario, and for
# the VM to end after dom0 said E2E-DONE.
BOOT_LIMIT=${E2E_BOOT_LIMIT:-300}
DONE_LIMIT=90
# After its own limit dom0 kills a scenario (timeout -k 10), dumps the
# state and destroys the guests: the host allows this much more before it
# calls the boot hung.
SCENARIO_GRACE=${E2E_SCENARIO_GRACE:-300}

# boot NAME SCENARIO... : one QEMU run; fills VERDICT/DETAIL/LOG for every
# scenario that reported; returns QEMU's exit status (124 when a watchdog
# stopped it, and WATCHDOG says which).
WATCHDOG=
boot() {
	local name=$1 s limit=180 log rc line buf= phase=boot deadline cur= pidf left now said since
	shift
	for s in "$@"; do limit=$((limit + $(limit_of "$s"))); done
	left=$(budget_left)
	[ "$left" -lt "$limit" ] && limit=$left
	WATCHDOG=
	if [ "$limit" -lt 60 ]; then
		WATCHDOG="e2e time budget used up (E2E_BUDGET=$BUDGET s): not booted"
		e2e_log "boot $name: $WATCHDOG"
		return 124
	fi
	log=$LOGDIR/$name.log
	pidf=$STAGE/qemu-$name.pid
	e2e_log "boot $name: $* (watchdog ${limit}s in all; ${BOOT_LIMIT}s to the first scenario, each scenario its own limit + ${SCENARIO_GRACE}s; console in $log)"
	since=$(date +%s) said=$(date +%s)
	deadline=$(( since + BOOT_LIMIT ))
	# The reader wakes every 5 s to check the phase deadline: a dom0 that
	# hangs (no E2E marker in time) is stopped through the timeout process,
	# whose pid the subshell leaves in $pidf.
	sh -c 'echo $$ > "$0"; exec "$@"' "$pidf" nice -n 10 timeout -k 10 "$limit" qemu-system-x86_64 \
		-machine q35 -cpu qemu64,+ssse3,+sse4.1,+sse4.2,+popcnt,+npt -m 3072 -smp 2 \
		-nographic -no-reboot -monitor none -serial stdio -nic none \
		-netdev user,id=pt0,restrict=on -device e1000,netdev=pt0 \
		-kernel "$ART/xen" \
		-append "console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M dom0_max_vcpus=2 loglvl=all guest_loglvl=all" \
		-initrd "$ART/vmlinuz console=hvc0 earlyprintk=xen e2e_scenarios=$(IFS=:; echo "$*"),$STAGE/dom0.cpio.gz" \
		< /dev/null 2>&1 | sed -u 's/\r$//' | tee "$log" | {
		while :; do
			IFS= read -r -t 5 line
			rc=$?
			if [ $rc -gt 128 ]; then
				buf+=$line     # timed out, maybe within a line: keep what came
			elif [ $rc -ne 0 ]; then
				break          # end of the console: QEMU exited
			else
				line=$buf$line buf=
				case "$line" in
				*E2E-BEGIN*|*E2E-RESULT*|*E2E-FIGURE*|*E2E-DOM0*|*E2E-TIME*|*E2E-DONE*)
					e2e_log "  ${line#*E2E-}"; said=$(date +%s) ;;
				esac
				case "$line" in
				*E2E-BEGIN\ *)
					cur=${line#*E2E-BEGIN }; cur=${cur%% *}; phase="scenario $cur"; since=$(date +%s)
					deadline=$(( since + $(limit_of "$cur") + SCENARIO_GRACE )) ;;
				*E2E-TIME\ *)
					phase="after $cur"; since=$(date +%s); deadline=$(( since + SCENARIO_GRACE )) ;;
				*E2E-DONE*)
					phase="power-off"; since=$(date +%s); deadline=$(( since + DONE_LIMIT )) ;;
				esac
			fi
			# A heartbeat, so that a long scenario shows it still runs.
			now=$(date +%s)
			if [ $((now - said)) -ge 60 ]; then
				e2e_log "  ... $phase, $((now - since)) s so far (console: $(wc -l < "$log") lines)"
				said=$now
			fi
			if [ "$now" -gt "$deadline" ] && [ -s "$pidf" ]; then
				e2e_log "WATCHDOG: $phase overran its time (console silent or stuck); stopping QEMU"
				echo "$phase" > "$pidf.why"
				kill -ALRM "$(cat "$pidf")" 2>/dev/null   # timeout(1) takes it as its own expiry: TERM to QEMU, rc 124
				: > "$pidf"
			fi
		done
	}
	rc=${PIPESTATUS[0]}
	[ -s "$pidf.why" ] && WATCHDOG="host watchdog: $(cat "$pidf.why") overran its time"
	[ -z "$WATCHDOG" ] && { [ "$rc" = 124 ] || [ "$rc" = 137 ]; } && WATCHDOG="boot watchdog (${limit}s) expired"
	rm -f "$pidf" "$pidf.why"
	while IFS= read -r line; do
		set -- $line
		s=$2
		VERDICT[$s]=$3
		shift 3
		DETAIL[$s]="$*"
		LOG[$s]=$log
	done < <(grep -ao 'E2E-RESULT .*' "$log")
	while read -r _ s line; do SECS[$s]=$line; done < <(grep -ao 'E2E-TIME [^ ]* [0-9]*' "$log")
	return "$rc"
}

kernel_group=() netbackd_group=()
for s in $SCENARIOS; do
	ORDER+=("$s")
	case "$s" in kernel-*) kernel_group+=("$s") ;; *) netbackd_group+=("$s") ;; esac
done

run_group() {
	local name=$1 rc s missing=()
	shift
	[ $# -eq 0 ] && return
	boot "$name" "$@"
	rc=$?
	for s in "$@"; do [ -n "${VERDICT[$s]:-}" ] || missing+=("$s"); done
	[ ${#missing[@]} -eq 0 ] && return
	local retried=
	if qemu_crashed "$rc"; then
		e2e_log "QEMU itself crashed ($(rc_text "$rc"); a rare QEMU 7.2 fault under TCG was seen): retrying ${missing[*]} once in a fresh boot"
		boot "$name-retry" "${missing[@]}"
		rc=$?
		retried=-retry
	fi
	for s in "${missing[@]}"; do
		[ -n "${VERDICT[$s]:-}" ] && continue
		VERDICT[$s]=FAIL
		if [ -n "$WATCHDOG" ]; then
			DETAIL[$s]="no verdict: $WATCHDOG${retried:+ (after one retry)}"
		else
			DETAIL[$s]="no verdict on the console (QEMU $(rc_text "$rc")${retried:+, after one retry})"
		fi
		LOG[$s]=$LOGDIR/$name$retried.log
	done
}

# QEMU's own death by a fault signal, as timeout(1) passes it on (128 + the
# signal): SIGILL, SIGABRT (a failed assertion), SIGBUS, SIGFPE, SIGSEGV.
# Not the watchdog (124, or 137 after -k) and not a scenario FAIL: those
# are never retried.
qemu_crashed() {
	case "$1" in 132|134|135|136|139) return 0 ;; esac
	return 1
}
rc_text() {
	case "$1" in
	124|137) echo "rc $1, watchdog expired" ;;
	0) echo "exited normally" ;;
	*) if [ "$1" -gt 128 ]; then echo "killed by signal $(( $1 - 128 )) ($(kill -l $(( $1 - 128 )) 2>/dev/null))"; else echo "rc $1"; fi ;;
	esac
}

run_group kernel "${kernel_group[@]}"
run_group netbackd "${netbackd_group[@]}"

# Figures: netbackd as a ratio of the kernel backend measured in this same run.
declare -A FIG
while read -r _ backend test mbit _; do
	FIG[$backend/$test]=$mbit
done < <(cat "$LOGDIR"/*.log 2>/dev/null | grep -ao 'E2E-FIGURE [^ ]* [^ ]* [0-9.]*')

pass=0 fail=0 skip=0
echo
echo "=== e2e results ($(( $(date +%s) - E2E_T0 )) s, logs in $LOGDIR)"
for s in "${ORDER[@]}"; do
	v=${VERDICT[$s]}
	line="E2E $s $v${SECS[$s]:+ (${SECS[$s]} s)} ${DETAIL[$s]}"
	case "$v" in
	PASS) pass=$((pass + 1)) ;;
	SKIP) skip=$((skip + 1)) ;;
	*) fail=$((fail + 1)); line="$line (console log: ${LOG[$s]})" ;;
	esac
	echo "$line"
done
for t in tcp-g2d tcp-d2g udp-g2d udp-d2g; do
	k=${FIG[kernel/$t]:-} n=${FIG[netbackd/$t]:-}
	[ -n "$k" ] || continue
	if [ -n "$n" ]; then
		awk -v t="$t" -v k="$k" -v n="$n" 'BEGIN { printf "E2E ratio %s: netbackd %.1f / kernel %.1f Mbit/s = %.2f\n", t, n, k, (k > 0 ? n / k : 0) }'
	else
		echo "E2E figure $t: kernel netback $k Mbit/s (no netbackd figure in this run)"
	fi
done
# A failure's reason on the terminal too (CI may keep nothing else): the
# failed scenario's part of the console, from its BEGIN to its TIME marker,
# the hypervisor's own (XEN) lines left out; the console's tail when the
# scenario never began or never ended.
for s in "${ORDER[@]}"; do
	case "${VERDICT[$s]}" in PASS|SKIP) continue ;; esac
	[ -f "${LOG[$s]:-}" ] || continue
	echo
	echo "--- console of failed scenario $s (last 150 lines without (XEN); whole log: ${LOG[$s]})"
	excerpt=$(awk -v s="$s" 'index($0, "E2E-BEGIN " s) { on = 1 } on && !/\(XEN\)/ { print } on && index($0, "E2E-TIME " s " ") { exit }' "${LOG[$s]}" | tail -n 150)
	[ -n "$excerpt" ] || excerpt=$(grep -av '(XEN)' "${LOG[$s]}" | tail -n 60)
	echo "$excerpt"
done
# Keep the console logs of failures only (E2E_KEEP_LOGS=1: always).
[ $fail -eq 0 ] && [ -z "${E2E_KEEP_LOGS:-}" ] && rm -rf "$LOGDIR"
rm -rf "$STAGE"
echo "e2e: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
