# bridge: packets, the learning switch, port kinds, offload fallbacks,
# capture and configuration (see docs/design.md). DPDK code is only built
# when the top Makefile found libdpdk (HAVE_DPDK=1).
BRIDGE_SRCS := bridge/pkt.c bridge/epoch.c bridge/bridge.c bridge/switchboard.c \
	bridge/offload.c bridge/capture.c bridge/port_dummy.c bridge/vnet_hdr.c \
	bridge/port_tap.c bridge/port_discard.c bridge/config.c bridge/bridge_ctl.c
# What a program linking libbridge.a needs besides it.
BRIDGE_LIBS := -lpcap $(shell $(PKG_CONFIG) --libs libconfig jansson)
ifeq ($(HAVE_DPDK),1)
BRIDGE_SRCS += bridge/port_dpdk.c
BRIDGE_LIBS += $(DPDK_LIBS)
$(O)/bridge/port_dpdk.o: EXTRA_CFLAGS_bridge_ += $(DPDK_CFLAGS)
else
BRIDGE_SRCS += bridge/port_dpdk_none.c
endif
BRIDGE_OBJS := $(BRIDGE_SRCS:%.c=$(O)/%.o)

$(O)/libbridge.a: $(BRIDGE_OBJS)
ALL_OBJS += $(BRIDGE_OBJS)

BRIDGE_PURE_TESTS := $(O)/tests/test_bridge_switch $(O)/tests/test_bridge_offload \
	$(O)/tests/test_bridge_capture $(O)/tests/test_bridge_config
BRIDGE_TESTS := $(BRIDGE_PURE_TESTS) $(O)/tests/test_bridge_tap
ifeq ($(HAVE_DPDK),1)
BRIDGE_TESTS += $(O)/tests/test_bridge_dpdk
endif
TESTS += $(BRIDGE_TESTS)
VALGRIND_TESTS += $(BRIDGE_PURE_TESTS)

$(O)/tests/test_bridge_%: $(O)/tests/bridge/test_%.o $(O)/libbridge.a
	$(call link,$(BRIDGE_LIBS) $(CMOCKA_LIBS))
build-all: $(O)/libbridge.a
