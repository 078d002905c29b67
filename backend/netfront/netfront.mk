# The userspace netfront: libnetfront (real Xen userspace API only) and the
# netfront tool used as an emulated guest by tests, bench and demo.
NETFRONT_SRCS := $(filter-out backend/netfront/nf_tool%.c,$(wildcard backend/netfront/*.c))
NETFRONT_OBJS := $(NETFRONT_SRCS:%.c=$(O)/%.o)
NETFRONT_TOOL_OBJS := $(patsubst %.c,$(O)/%.o,$(wildcard backend/netfront/nf_tool*.c))
ALL_OBJS += $(NETFRONT_OBJS) $(NETFRONT_TOOL_OBJS)

$(O)/libnetfront.a: $(NETFRONT_OBJS)

$(O)/bin/netfront: $(NETFRONT_TOOL_OBJS) $(O)/libnetfront.a
	$(call link,$(XEN_LIBS))

BINS += $(O)/bin/netfront
INSTALL_SBINS += $(O)/bin/netfront

# Datapath tests (tests/datapath/): a pure one for the frame helpers, and the
# emulator end-to-end ones (private emulator + netbackd + netfront guests).
DP_HELPER_OBJS := $(O)/tests/datapath/dp_env.o $(O)/tests/datapath/dp_guest.o
ALL_OBJS += $(DP_HELPER_OBJS)

$(O)/tests/test_datapath_frame: $(O)/tests/datapath/test_datapath_frame.o $(O)/libnetfront.a
	$(call link,$(CMOCKA_LIBS))

DP_E2E_TESTS := $(addprefix $(O)/tests/test_datapath_,traffic hostile multiqueue offload features ctrl stall mtu)
$(DP_E2E_TESTS): $(O)/tests/test_datapath_%: \
		$(O)/tests/datapath/test_datapath_%.o $(DP_HELPER_OBJS) $(O)/libnetfront.a $(SIMLIBS)
	$(call link,$(SIM_RPATH) $(XEN_LIBS) $(CMOCKA_LIBS) -ljansson)

TESTS += $(O)/tests/test_datapath_frame $(DP_E2E_TESTS)
VALGRIND_TESTS += $(O)/tests/test_datapath_frame

# ---- static grants end to end (netfront registers its pools; issue 6) ----
$(O)/tests/test_datapath_static: $(O)/tests/datapath/test_datapath_static.o $(DP_HELPER_OBJS) \
		$(O)/libnetfront.a $(SIMLIBS)
	$(call link,$(SIM_RPATH) $(XEN_LIBS) $(CMOCKA_LIBS) -ljansson)
TESTS += $(O)/tests/test_datapath_static
# ---- end static grants ----
