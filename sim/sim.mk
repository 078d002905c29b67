# sim: objects, programs and tests of this directory (see docs/design.md)
# The emulated libxenctrl (PCI pass-through calls) lives in sim/xenctrl/.
-include sim/xenctrl/xenctrl.mk

# ---- xensim core: emulated libxengnttab/libxenevtchn, the daemon, its tests
# (owner: hypervisor-emulator helper; the xenstored block is separate) ----
SIM_GNT_OBJS := $(addprefix $(O)/sim/,sim_client.o admin.o sim_proto.o gnt_handle.o gnttab_copy.o \
	gnttab_map.o gntshr.o)
SIM_EVT_OBJS := $(addprefix $(O)/sim/,sim_client.o admin.o sim_proto.o sim_evq.o evtchn.o)
XENSIM_OBJS := $(addprefix $(O)/sim/,xensim.o selfcheck.o daemon.o dom.o gnt_svc.o evt_svc.o \
	admin.o sim_proto.o sim_evq.o)
ALL_OBJS += $(SIM_GNT_OBJS) $(SIM_EVT_OBJS) $(XENSIM_OBJS)

# Same sonames and symbol versions as Debian's libraries, so a binary linked
# against those runs unchanged with $(O)/simlib first in the library path.
sim_shlib = @mkdir -p $(dir $@); $(if $(Q),echo "  LD      $@";) $(CC) $(ALL_LDFLAGS) -shared \
	-Wl,-soname,$(notdir $@) -Wl,--version-script=$(1) -Wl,-z,defs -o $@ $(filter %.o,$^) -lpthread

$(O)/simlib/libxengnttab.so.1: $(SIM_GNT_OBJS) sim/libxengnttab.map
	$(call sim_shlib,sim/libxengnttab.map)
$(O)/simlib/libxenevtchn.so.1: $(SIM_EVT_OBJS) sim/libxenevtchn.map
	$(call sim_shlib,sim/libxenevtchn.map)
SIMLIBS += $(O)/simlib/libxengnttab.so.1 $(O)/simlib/libxenevtchn.so.1

# xensim's selfcheck uses the Xen libraries: the emulator's, found next to it.
XENSIM_RPATH := -Wl,-rpath,'$$ORIGIN/../simlib:$$ORIGIN/../lib/netbackd/sim'
# The daemon embeds the xenstored module ($(O)/libxsserver.a, block below).
$(O)/bin/xensim: $(XENSIM_OBJS) $(O)/libxsserver.a | $(SIMLIBS)
	$(call link,$(XENSIM_RPATH) -lxenstore -lxengnttab -lxenevtchn)
BINS += $(O)/bin/xensim
INSTALL_SBINS += $(O)/bin/xensim

# Conformance tests: several processes in several emulated domains.
SIM_TESTS := $(O)/tests/test_sim_gnttab $(O)/tests/test_sim_evtchn $(O)/tests/test_sim_xensim
$(O)/tests/test_sim_gnttab: $(O)/tests/sim/test_gnttab.o $(O)/tests/sim/sim_test_util.o $(O)/libtestlib.a | $(SIMLIBS) $(O)/bin/xensim
	$(call link,$(SIM_RPATH) $(XEN_LIBS) $(CMOCKA_LIBS))
$(O)/tests/test_sim_evtchn: $(O)/tests/sim/test_evtchn.o $(O)/tests/sim/sim_test_util.o $(O)/libtestlib.a | $(SIMLIBS) $(O)/bin/xensim
	$(call link,$(SIM_RPATH) $(XEN_LIBS) $(CMOCKA_LIBS))
$(O)/tests/test_sim_xensim: $(O)/tests/sim/test_xensim.o $(O)/tests/sim/sim_test_util.o $(O)/sim/sim_proto.o $(O)/libtestlib.a | $(SIMLIBS) $(O)/bin/xensim
	$(call link,$(SIM_RPATH) $(XEN_LIBS) $(CMOCKA_LIBS))
TESTS += $(SIM_TESTS)
# ---- end of xensim core ----

# --- xenstored module (owner: xenstored helper) ---
# The emulator's xenstored as a library; xensim embeds it (xs_server.h).
XS_SRCS := $(wildcard sim/xs_*.c)
XS_OBJS := $(XS_SRCS:%.c=$(O)/%.o)
ALL_OBJS += $(XS_OBJS)
$(O)/libxsserver.a: $(XS_OBJS)

# Conformance tests: the real libxenstore against the module run in-process.
XS_TESTS := $(O)/tests/test_sim_xenstored $(O)/tests/test_sim_xenstored_units
$(O)/tests/test_sim_xenstored: $(O)/tests/sim/test_xenstored.o $(O)/libxsserver.a
	$(call link,$(XEN_LIBS) $(CMOCKA_LIBS))
$(O)/tests/test_sim_xenstored_units: $(O)/tests/sim/test_xenstored_units.o $(O)/libxsserver.a
	$(call link,$(CMOCKA_LIBS))
TESTS += $(XS_TESTS)
VALGRIND_TESTS += $(XS_TESTS)
# --- end xenstored module ---
