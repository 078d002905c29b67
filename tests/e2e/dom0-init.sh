#!/bin/bash
# /init of the e2e dom0 (a Debian root unpacked from the initramfs): starts
# the Xen userspace (xenstored, xen-init-dom0, xenconsoled), runs the
# scenarios named on the kernel command line (e2e_scenarios=a:b:c — colons,
# because a comma would split the multiboot module list), prints one
# "E2E-RESULT <scenario> PASS|FAIL|SKIP <details>" marker per scenario on the
# console, then reboots, which ends QEMU (-no-reboot).
export PATH=/usr/lib/xen-4.17/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm /run /tmp
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run
# Libraries the runner added for netbackd (under /usr/lib) join the cache.
ldconfig
echo 1 > /proc/sys/kernel/sysrq
echo 4 > /proc/sys/kernel/printk

# The same image boots the driver domain of scenario 8 (as a PV guest).
if grep -qw e2e_role=driver /proc/cmdline; then
	[ -f /e2e/config.sh ] && . /e2e/config.sh
	. /e2e/scenarios.sh
	driver_domain_main
fi

stop_vm() {
	sync
	echo b > /proc/sysrq-trigger
	sleep 30
}

E2E_SCENARIOS=
for w in $(cat /proc/cmdline); do
	case "$w" in e2e_scenarios=*) E2E_SCENARIOS=${w#e2e_scenarios=} ;; esac
done
E2E_SCENARIOS=${E2E_SCENARIOS//:/ }
echo "E2E-DOM0 up, scenarios: $E2E_SCENARIOS"

modprobe -a xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs
mount -t xenfs xenfs /proc/xen
mkdir -p /run/xen /run/xenstored /var/run/xen /var/lib/xen /var/log/xen/console /var/lib/xenstored
hostname dom0
ip link set lo up

xenstored --pid-file=/run/xenstored.pid
n=0
until xenstore-read -s / >/dev/null 2>&1; do
	n=$((n + 1))
	if [ $n -gt 100 ]; then
		for s in $E2E_SCENARIOS; do echo "E2E-RESULT $s FAIL xenstored did not start"; done
		stop_vm
	fi
	sleep 0.2
done
xen-init-dom0 > /var/log/xen/xen-init-dom0.log 2>&1 || echo "E2E-DOM0 xen-init-dom0 failed"
xenconsoled --pid-file=/run/xenconsoled.pid --log=guest --log-dir=/var/log/xen/console
echo "E2E-DOM0 xen userspace ready ($(cut -d' ' -f1 /proc/uptime) s after boot)"

[ -f /e2e/config.sh ] && . /e2e/config.sh
. /e2e/scenarios.sh

for s in $E2E_SCENARIOS; do
	e2e_run_scenario "$s"
done
echo "E2E-DONE"
stop_vm
