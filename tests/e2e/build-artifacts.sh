#!/usr/bin/env bash
# Builds the boot artifacts for the real-Xen end-to-end test from Debian
# packages only, and caches them outside the clone:
#   $E2E_CACHE/<key>/xen                 the Xen 4.17 hypervisor (gunzipped ELF for multiboot)
#   $E2E_CACHE/<key>/vmlinuz             Debian's kernel (dom0 and guests)
#   $E2E_CACHE/<key>/dom0-base.cpio.gz   debootstrap root with the Xen tools, as an initramfs
#   $E2E_CACHE/<key>/guest-base.cpio.gz  busybox + xen-netfront + iperf3 + xenstore tools
# <key> hashes the candidate versions of the packages involved and this
# script, so a second run on the same machine reuses the artifacts and a
# package update or a recipe change rebuilds them. Prints the directory.
# Needs root (debootstrap, chroot).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

e2e_need_root
e2e_need_tools debootstrap cpio gzip apt-get apt-cache dpkg-deb sha256sum

# Packages whose contents end up in the artifacts.
DOM0_PKGS=xen-utils-4.17,xenstore-utils,iproute2,iperf3,bridge-utils,busybox,kmod,iputils-ping,procps,libjansson4,libconfig9,libpcap0.8,pciutils

why=
# resolve: KPKG, versions, key and OUT from apt's lists; non-zero when apt
# does not know a package (no lists yet).
resolve() {
	KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	[ -n "$KPKG" ] || { why="apt cannot resolve linux-image-amd64"; return 1; }
	KEY_PKGS=(xen-hypervisor-4.17-amd64 xen-utils-4.17 xenstore-utils "$KPKG" busybox-static iperf3 libc6)
	# One apt-cache call for all of them: it is slow on a busy machine.
	versions=$(apt-cache policy "${KEY_PKGS[@]}" 2>/dev/null |
		awk '/^[^ ].*:$/ { p = substr($1, 1, length($1) - 1) } /Candidate:/ && $2 != "(none)" { print p "=" $2 }')$'\n'
	for p in "${KEY_PKGS[@]}"; do
		grep -q "^$p=" <<< "$versions" || { why="apt has no candidate for $p"; return 1; }
	done
	key=$( { printf '%s' "$versions"; echo "$DOM0_PKGS"; cat "$0"; } | sha256sum | cut -c1-16)
	OUT=$E2E_CACHE/$key
}

if resolve && [ -f "$OUT/complete" ]; then
	e2e_log "artifacts: cached in $OUT"
	echo "$OUT"
	exit 0
fi
# About to download: with lists that are missing or stale (a fresh
# machine, an image built weeks ago) the mirror may no longer have the
# versions they name. Refresh them once, then look again.
e2e_log "artifacts: not cached${why:+ ($why)}; refreshing apt's lists first"
apt-get update -qq || e2e_log "  warning: apt-get update failed; using the lists as they are"
why=
resolve || e2e_die "$why (apt-get update did not help: check the apt sources)"
if [ -f "$OUT/complete" ]; then
	e2e_log "artifacts: cached in $OUT"
	echo "$OUT"
	exit 0
fi

MIRROR=${E2E_MIRROR:-$(e2e_mirror || true)}
[ -n "$MIRROR" ] || e2e_die "no bookworm mirror found in /etc/apt/sources.list{,.d/*}; set E2E_MIRROR"

e2e_log "artifacts: building into $OUT (first run: a few minutes)"
e2e_log "  packages: $(echo "$versions" | tr '\n' ' ')"
WORK=$E2E_CACHE/work.$$
rm -rf "$WORK"
mkdir -p "$WORK/debs" "$WORK/x" "$OUT"
ROOT=$WORK/dom0
cleanup() {
	umount "$ROOT/proc" 2>/dev/null || true
	rm -rf --one-file-system "$WORK"
	[ -f "$OUT/complete" ] || rm -rf "$OUT"
}
trap cleanup EXIT

e2e_log "step 1/5: downloading hypervisor, kernel and busybox-static"
(cd "$WORK/debs" && apt-get download -q xen-hypervisor-4.17-amd64 "$KPKG" busybox-static 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2 || true)
for d in "$WORK"/debs/*.deb; do dpkg-deb -x "$d" "$WORK/x"; done
xz=$(ls "$WORK"/x/boot/xen-4.17*-amd64.gz 2>/dev/null | head -n1)
[ -n "$xz" ] || e2e_die "no /boot/xen-4.17*.gz in the hypervisor package"
gunzip -c "$xz" > "$OUT/xen"
cp "$WORK"/x/boot/vmlinuz-* "$OUT/vmlinuz"
KVER=$(ls "$WORK/x/lib/modules" | head -n1)

# with_progress LOG WHAT CMD...: runs CMD, output to LOG, and every 20 s
# prints LOG's last line: the slow steps take minutes on a cold cache.
with_progress() {
	local log=$1 what=$2 pid n=0
	shift 2
	"$@" > "$log" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		n=$((n + 1))
		[ $((n % 20)) -eq 0 ] && e2e_log "  $what: $(tail -n 1 "$log" | cut -c1-100)"
	done
	wait "$pid"
}

e2e_log "step 2/5: debootstrap dom0 root from $MIRROR (the slow part)"
with_progress "$WORK/debootstrap.log" debootstrap \
	debootstrap --variant=minbase --include="$DOM0_PKGS" bookworm "$ROOT" "$MIRROR" \
	|| { tail -n 30 "$WORK/debootstrap.log" >&2; e2e_die "debootstrap failed"; }

# debootstrap takes one suite from one mirror; the hypervisor and kernel may
# come from bookworm-security or -updates. Bring the root to the versions this
# machine's apt sees, so that tools and hypervisor are the same release.
e2e_log "step 2b/5: upgrading the root to this machine's apt sources"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
	[ -f "$f" ] && grep -q bookworm "$f" && cp "$f" "$ROOT/etc/apt/sources.list.d/e2e-host-$(basename "$f" | sed 's/^sources\.list$/main.list/')"
done
mount --bind /proc "$ROOT/proc"
if ! with_progress "$WORK/upgrade.log" upgrade \
	chroot "$ROOT" sh -c 'apt-get -q update && DEBIAN_FRONTEND=noninteractive apt-get -y -q dist-upgrade'; then
	e2e_log "  warning: upgrade inside the root failed (see below); continuing with debootstrap's versions"
	tail -n 5 "$WORK/upgrade.log" >&2
fi
umount "$ROOT/proc"
rm -f "$ROOT"/etc/apt/sources.list.d/e2e-host-*
have=$(chroot "$ROOT" dpkg-query -W -f='${Version}' xen-utils-4.17)
want=$(echo "$versions" | sed -n 's/^xen-hypervisor-4.17-amd64=//p')
[ "$have" = "$want" ] || e2e_log "  warning: dom0 tools $have, hypervisor $want"

e2e_log "step 3/5: kernel modules for dom0 and the guest"
# The package ships no modules.dep (its postinst makes it): run depmod from
# the new root over the unpacked tree.
mkdir -p "$ROOT/tmp/kmods/lib"
cp -a "$WORK/x/lib/modules" "$ROOT/tmp/kmods/lib/"
chroot "$ROOT" depmod -b /tmp/kmods "$KVER"
rm -rf "$WORK/x/lib/modules"
mv "$ROOT/tmp/kmods/lib/modules" "$WORK/x/lib/modules"
rm -rf "$ROOT/tmp/kmods"
# Only the modules the scenarios load (plus what they depend on), not the
# whole 400 MB tree: the root travels as an initramfs.
MODS=(xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs xen-netback xen-netfront
      bridge tun e1000 xen-pciback)
MODDIR=$WORK/x/lib/modules/$KVER
want=()
for m in "${MODS[@]}"; do
	line=$(grep -E "/${m}\.ko:" "$MODDIR/modules.dep" || true)
	[ -n "$line" ] || { e2e_log "  (module $m not in $KVER, skipped)"; continue; }
	for f in ${line/:/ }; do want+=("$f"); done
done
mkdir -p "$ROOT/lib/modules/$KVER"
for f in $(printf '%s\n' "${want[@]}" | sort -u); do
	mkdir -p "$ROOT/lib/modules/$KVER/$(dirname "$f")"
	cp "$MODDIR/$f" "$ROOT/lib/modules/$KVER/$f"
done
cp "$MODDIR"/modules.{order,builtin,builtin.modinfo} "$ROOT/lib/modules/$KVER/" 2>/dev/null || true
chroot "$ROOT" depmod "$KVER"

e2e_log "step 4/5: guest initramfs (busybox, xen-netfront, iperf3, xenstore tools)"
G=$WORK/guest
mkdir -p "$G"/{bin,sbin,etc,proc,sys,dev,tmp,lib/modules,usr/bin,root}
cp "$WORK/x/bin/busybox" "$G/bin/busybox"
cp "$MODDIR/$(grep -E '/xen-netfront\.ko:' "$MODDIR/modules.dep" | cut -d: -f1)" "$G/lib/modules/"
# Dynamic programs come from the dom0 root (same release), with the libraries
# its own ldd resolves.
for prog in /usr/bin/iperf3 /usr/bin/xenstore-read /usr/bin/xenstore-write \
	/usr/bin/xenstore-rm /usr/bin/xenstore-ls /usr/bin/xenstore-exists; do
	real=$(chroot "$ROOT" readlink -f "$prog")
	mkdir -p "$G$(dirname "$prog")"
	cp -L "$ROOT$real" "$G$prog"
	for lib in $(chroot "$ROOT" ldd "$real" | awk '/=>/ { print $3 } /^[[:space:]]*\/[^ ]*ld-linux/ { print $1 }'); do
		[ -e "$G$lib" ] && continue
		mkdir -p "$G$(dirname "$lib")"
		cp -L "$ROOT$lib" "$G$lib"
	done
done
# Debian's xenstore-* are symlinks to one binary that dispatches on argv[0].
xsbin=$(chroot "$ROOT" readlink -f /usr/bin/xenstore-read)
if [ "$(basename "$xsbin")" != xenstore-read ]; then
	cp -L "$ROOT$xsbin" "$G/usr/bin/$(basename "$xsbin")"
	for n in read write rm ls exists; do ln -sf "$(basename "$xsbin")" "$G/usr/bin/xenstore-$n"; done
fi
(cd "$G" && find . | cpio -o -H newc --quiet | gzip -6) > "$OUT/guest-base.cpio.gz"

e2e_log "step 5/5: packing dom0 root as an initramfs"
mkdir -p "$ROOT/e2e"
cp "$OUT/vmlinuz" "$ROOT/e2e/vmlinuz"
# Every MB here is unpacked by an emulated CPU at each boot.
rm -rf "$ROOT"/usr/share/{doc,man,info,locale} "$ROOT"/var/cache/apt/archives/*.deb \
	"$ROOT"/var/cache/apt/*.bin "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/debconf/*-old \
	"$ROOT"/usr/lib/udev/hwdb.bin "$ROOT"/usr/lib/udev/hwdb.d "$ROOT"/usr/lib/xen-4.17/boot/xen-shim
(cd "$ROOT" && find . -xdev | tee "$OUT/dom0-files.txt" | cpio -o -H newc --quiet | gzip -6) > "$OUT/dom0-base.cpio.gz"

printf '%s' "$versions" > "$OUT/versions.txt"
echo "$KVER" > "$OUT/kernel-version"
touch "$OUT/complete"
# Keep the cache to one set: artifacts of older package versions go.
for d in "$E2E_CACHE"/*/; do
	[ "${d%/}" = "$OUT" ] || [ ! -f "$d/complete" ] || rm -rf --one-file-system "${d%/}"
done
e2e_log "artifacts: done ($(du -sh "$OUT" | cut -f1) in $OUT)"
echo "$OUT"
