# Cross-module integration tests (tests/integration/): the whole stack —
# emulator, netbackd, bridge ports, userspace netfront guests — and, for
# the tap and DPDK ones, real Linux networking (they skip without root).
# They reuse the datapath tests' emulated host (tests/datapath/dp_env).
IT_HELPER_OBJS := $(O)/tests/integration/it_probe.o $(O)/tests/integration/it_world.o $(O)/tests/integration/it_sys.o \
	$(O)/tests/integration/it_pcap.o $(O)/tests/integration/it_ctl.o
ALL_OBJS += $(IT_HELPER_OBJS)
IT_DEPS := $(IT_HELPER_OBJS) $(DP_HELPER_OBJS) $(O)/backend/ctl_client.o $(O)/libnetfront.a $(SIMLIBS) \
	$(O)/bin/xensim $(O)/bin/netbackd $(O)/bin/netbackctl $(O)/bin/netfront
IT_TESTS := $(O)/tests/test_integration_bridge $(O)/tests/test_integration_linux \
	$(O)/tests/test_integration_dpdk $(O)/tests/test_integration_runtime

$(IT_TESTS): $(O)/tests/test_integration_%: $(O)/tests/integration/test_integration_%.o $(IT_DEPS)
	$(call link,$(SIM_RPATH) $(XEN_LIBS) $(CMOCKA_LIBS) -ljansson -lpcap)

TESTS += $(IT_TESTS)
.PRECIOUS: $(O)/tests/integration/%.o
