# Real Xen end to end (issue 7): Xen 4.17 + Debian dom0 + Linux netfront
# guests under QEMU software emulation. Needs root; see tests/e2e/README.md.
#   make e2e                          all scenarios
#   make e2e E2E_SCENARIOS="ping"     only the named ones
#   make e2e-clean                    drop the artifact cache
E2E_CACHE ?= /var/cache/netbackd-e2e
E2E_SCENARIOS ?=

# Only the programs dom0 runs, not build-all: e2e should not wait for (or
# fail on) modules it does not use.
E2E_BINS := $(filter $(O)/bin/netbackd $(O)/bin/netbackctl,$(BINS))

e2e: $(E2E_BINS)
	O=$(O) E2E_CACHE=$(E2E_CACHE) E2E_SCENARIOS="$(E2E_SCENARIOS)" tests/e2e/run.sh

e2e-clean:
	rm -rf --one-file-system $(E2E_CACHE) $(O)/e2e

.PHONY: e2e e2e-clean

# The vif hotplug script xl users name in `script=` to hand a vif to netbackd.
INSTALL_EXTRA += install -D -m 755 backend/hotplug/vif-netbackd $(DESTDIR)/etc/xen/scripts/vif-netbackd;
