# netbackd — top-level build. Each directory adds its objects, binaries and
# tests through its own *.mk so that the pieces stay independent.
#   make            build everything into $(O) (default build/)
#   make test       build and run every test; ends with the summary line
#   make SAN=1 test the same under ASan+UBSan, into build-san/
#   make V=1        show the commands
#   make install PREFIX=/usr/local
SHELL := /bin/bash
PREFIX ?= /usr/local
SAN ?=
ifeq ($(SAN),1)
O ?= build-san
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
O ?= build
SAN_FLAGS :=
endif

CC ?= cc
PKG_CONFIG ?= pkg-config
XEN_PKGS := xencontrol xengnttab xenevtchn xenstore
HAVE_DPDK := $(shell $(PKG_CONFIG) --exists libdpdk && echo 1)

OPT ?= -O2 -g
WARN := -Wall -Wextra -Werror -Wno-unused-parameter
ALL_CFLAGS := -std=gnu11 $(OPT) $(WARN) $(SAN_FLAGS) -D_GNU_SOURCE -D__XEN_TOOLS__ \
	-I. -MMD -MP -fPIC $(shell $(PKG_CONFIG) --cflags $(XEN_PKGS) 2>/dev/null) $(CFLAGS)
ALL_LDFLAGS := $(SAN_FLAGS) -pthread $(LDFLAGS)
XEN_LIBS := $(shell $(PKG_CONFIG) --libs $(XEN_PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)
ifeq ($(HAVE_DPDK),1)
DPDK_CFLAGS := $(shell $(PKG_CONFIG) --cflags libdpdk)
DPDK_LIBS := $(shell $(PKG_CONFIG) --libs libdpdk)
endif

ifeq ($(V),1)
Q :=
else
Q := @
endif

# Filled in by the module makefiles.
BINS :=
SIMLIBS :=
TESTS :=
ALL_OBJS :=

all: build-all

include ring/ring.mk
include sim/sim.mk
include bridge/bridge.mk
include backend/backend.mk
include pci/pci.mk
include bench/bench.mk
include tests/tests.mk

build-all: $(BINS) $(SIMLIBS)

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) $(EXTRA_CFLAGS_$(subst /,_,$(dir $<))) -c $< -o $@

# Each module archive: $(O)/lib<name>.a from its object list.
$(O)/lib%.a:
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

test: build-all $(TESTS)
	$(Q)O=$(O) tests/run-tests.sh $(TESTS)

# `make valgrind`: memcheck over the pure-code suites (VALGRIND_TESTS, from
# each module) and the emulator-based ones below, following the programs
# they start (tests/run-tests.sh says how). About 12 minutes on 2 loaded
# cores one binary at a time (the budget is ~15); VALGRIND_JOBS=2 runs two
# at once where the machine is otherwise idle.
VALGRIND_EMU_TESTS := $(filter $(addprefix $(O)/tests/,test_sim_gnttab test_sim_evtchn \
	test_sim_xensim test_pci_sim test_bridge_tap test_bridge_dpdk test_backend_xenbus \
	test_backend_features test_backend_static_grants test_backend_tx_batch test_backend_plane \
	test_backend_negotiation test_backend_tx_slots test_backend_rate_live test_backend_storm \
	test_datapath_traffic test_datapath_hostile test_datapath_multiqueue test_datapath_offload \
	test_datapath_features test_datapath_ctrl test_datapath_stall test_datapath_static \
	test_datapath_mtu test_integration_bridge test_integration_runtime test_integration_linux \
	test_integration_dpdk),$(TESTS))
VALGRIND_JOBS ?= 1
# Suites whose netbackd runs under memcheck too (see tests/run-tests.sh):
# those of tests/backend, which execute it directly. The datapath and
# integration suites start it through sh -c, which memcheck does not follow.
VALGRIND_NETBACKD := test_backend_features test_backend_tx_batch test_backend_xenbus \
	test_backend_negotiation test_backend_tx_slots test_backend_rate_live test_backend_storm

valgrind: build-all $(TESTS)
	$(Q)O=$(O) VALGRIND=1 TEST_JOBS=$(VALGRIND_JOBS) VALGRIND_NETBACKD="$(VALGRIND_NETBACKD)" \
		tests/run-tests.sh $(VALGRIND_TESTS) $(VALGRIND_EMU_TESTS)

install: build-all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/lib/netbackd/sim
	install -m 755 $(INSTALL_SBINS) $(DESTDIR)$(PREFIX)/sbin/
	$(if $(SIMLIBS),cp -a $(O)/simlib/. $(DESTDIR)$(PREFIX)/lib/netbackd/sim/)
	$(INSTALL_EXTRA)

clean:
	rm -rf build build-san

deps:
	.ci/install-deps

# The main job: the emulator demo (backend, bridge, guests, traffic, live stats).
demo: build-all
	bench/demo.sh $(O)

# Keep every intermediate object: no "rm" lines after the test summary.
.SECONDARY:
.PHONY: all build-all test valgrind install clean deps demo
-include $(shell find $(O) -name '*.d' 2>/dev/null)

# $(call link,EXTRA_LIBS): link the prerequisites into $@.
link = @mkdir -p $(dir $@); $(if $(Q),echo "  LD      $@";) $(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o %.a,$^) $(1)
# Tests that talk to the hypervisor emulator load its Xen libraries first.
SIM_RPATH = -Wl,-rpath,$(abspath $(O)/simlib)
