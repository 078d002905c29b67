#!/bin/busybox sh
# /init of the e2e test guest: brings up the Linux netfront with the address
# given on the kernel command line (e2e_ip=A.B.C.D/N), starts an iperf3
# server, then obeys commands that dom0 writes into this domain's xenstore
# directory, so that the test never needs the network under test to steer
# the guest:
#   dom0 writes data/e2e-cmd (a shell command line), then data/e2e-seq = N;
#   the guest runs it and writes data/e2e-rc, data/e2e-out (tail of the
#   output), then data/e2e-done = N.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
# A driver domain (see scenarios.sh) runs only the command loop below.
if [ "${E2E_ROLE:-}" != driver ]; then
/bin/busybox --install -s 2>/dev/null
# No /sbin/reboot: `xl reboot` then restarts the kernel at once, so the
# domain is re-created and the backend sees a new frontend.
rm -f /sbin/reboot /sbin/poweroff /sbin/halt
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /tmp && mount -t devpts devpts /dev/pts

ip= nfargs=
for w in $(cat /proc/cmdline); do
	case "$w" in
	e2e_ip=*) ip=${w#e2e_ip=} ;;
	# insmod, unlike modprobe, does not read module options from the
	# kernel command line: pass xen_netfront.max_queues=N and the like on.
	xen_netfront.*) nfargs="$nfargs ${w#xen_netfront.}" ;;
	esac
done

insmod /lib/modules/xen-netfront.ko $nfargs
ip link set lo up
n=0
while ! ip link show eth0 >/dev/null 2>&1 && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
ip link set eth0 up
[ -n "$ip" ] && ip addr add "$ip" dev eth0
echo "E2E-GUEST up ip=$ip"
iperf3 -s -D >/dev/null 2>&1
fi
xenstore-write data/e2e-ready 1 2>/dev/null || echo "E2E-GUEST cannot write xenstore"

last=
while :; do
	seq=$(xenstore-read data/e2e-seq 2>/dev/null)
	if [ -n "$seq" ] && [ "$seq" != "$last" ]; then
		last=$seq
		cmd=$(xenstore-read data/e2e-cmd 2>/dev/null)
		echo "E2E-GUEST run[$seq]: $cmd"
		sh -c "$cmd" > /tmp/e2e-out 2>&1
		rc=$?
		cat /tmp/e2e-out
		echo "E2E-GUEST rc[$seq]=$rc"
		xenstore-write data/e2e-rc "$rc" data/e2e-out "$(tail -c 1500 /tmp/e2e-out)"
		xenstore-write data/e2e-done "$seq"
	fi
	sleep 0.3
done
