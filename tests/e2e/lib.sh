# Shared helpers for the real-Xen end-to-end scripts (sourced, not run).
# Progress lines carry the seconds elapsed since the script started, because a
# cold run takes minutes and a user is watching.

E2E_T0=${E2E_T0:-$(date +%s)}
export E2E_T0

e2e_log() { printf '[e2e %4ds] %s\n' "$(( $(date +%s) - E2E_T0 ))" "$*" >&2; }
e2e_die() { e2e_log "ERROR: $*"; exit 1; }

e2e_need_root() {
	[ "$(id -u)" -eq 0 ] && return 0
	e2e_die "must run as root (debootstrap, chroot, mknod and the cache under /var/cache need it): try 'sudo make e2e'"
}

e2e_need_tools() {
	local t missing=()
	for t in "$@"; do command -v "$t" >/dev/null 2>&1 || missing+=("$t"); done
	[ ${#missing[@]} -eq 0 ] && return 0
	e2e_die "missing tools: ${missing[*]} (Debian: apt-get install qemu-system-x86 debootstrap cpio, or run .ci/install-deps)"
}

# The Debian mirror comes from this machine's apt configuration, so that the
# repository never names a host. deb822 files first, then one-line sources.
e2e_mirror() {
	local f uri
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		uri=$(awk '
			/^[[:space:]]*$/ { if (u != "" && s ~ /(^|[[:space:]])bookworm([[:space:]]|$)/ && t ~ /deb/) { print u; exit } u=""; s=""; t=""; next }
			/^URIs:/ { u=$2 } /^Suites:/ { $1=""; s=$0 } /^Types:/ { $1=""; t=$0 }
			END { if (u != "" && s ~ /(^|[[:space:]])bookworm([[:space:]]|$)/ && t ~ /deb/) print u }' "$f" | head -n1)
		[ -n "$uri" ] && { echo "$uri"; return 0; }
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		uri=$(awk '$1 == "deb" && $3 == "bookworm" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' "$f" | head -n1)
		[ -n "$uri" ] && { echo "$uri"; return 0; }
	done
	return 1
}

E2E_CACHE=${E2E_CACHE:-/var/cache/netbackd-e2e}
