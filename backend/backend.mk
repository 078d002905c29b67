# backend: the daemon netbackd and the tool netbackctl (see docs/design.md).
# Pure parts (no Xen, no threads) live in libbackend_pure.a for unit tests;
# the daemon's objects in libbackend.a so tests link the same code.
BACKEND_PURE_SRCS := backend/xs_parse.c backend/fe_config.c backend/rate.c backend/bridge_key.c
BACKEND_PURE_OBJS := $(BACKEND_PURE_SRCS:%.c=$(O)/%.o)
$(O)/libbackend_pure.a: $(BACKEND_PURE_OBJS)

BACKEND_SRCS := backend/log.c backend/stats.c backend/xs_util.c backend/xenbus.c \
	backend/vif.c backend/worker.c backend/tx.c backend/rx.c backend/ctrl.c \
	backend/vif_port.c backend/bridges.c backend/ctl.c backend/settings.c \
	backend/plane.c
BACKEND_OBJS := $(BACKEND_SRCS:%.c=$(O)/%.o)
$(O)/libbackend.a: $(BACKEND_OBJS)
ALL_OBJS += $(BACKEND_PURE_OBJS) $(BACKEND_OBJS)

BACKEND_EXT_LIBS := $(XEN_LIBS) $(shell $(PKG_CONFIG) --libs jansson libconfig 2>/dev/null)

$(O)/bin/netbackd: $(O)/backend/netbackd.o $(O)/libbackend.a $(O)/libbackend_pure.a \
		$(O)/libbridge.a $(O)/libring.a
	$(call link,$(BACKEND_EXT_LIBS) $(BRIDGE_LIBS))
BINS += $(O)/bin/netbackd
INSTALL_SBINS += $(O)/bin/netbackd

NETBACKCTL_OBJS := $(O)/backend/netbackctl.o $(O)/backend/vif_nodes.o $(O)/backend/ctl_client.o
# netbackctl hands pci-* to pci/'s command line once pci/ provides it.
NETBACKCTL_PCI := $(if $(wildcard pci/pci_cli.h),$(O)/libnbpci.a)
$(O)/bin/netbackctl: $(NETBACKCTL_OBJS) $(NETBACKCTL_PCI) $(O)/libbackend_pure.a
	$(call link,$(BACKEND_EXT_LIBS))
BINS += $(O)/bin/netbackctl
INSTALL_SBINS += $(O)/bin/netbackctl
ALL_OBJS += $(NETBACKCTL_OBJS)

$(O)/tests/test_backend_fe_config: $(O)/tests/backend/test_backend_fe_config.o $(O)/libbackend_pure.a
	$(call link,$(CMOCKA_LIBS))
TESTS += $(O)/tests/test_backend_fe_config
VALGRIND_TESTS += $(O)/tests/test_backend_fe_config

$(O)/tests/test_backend_rate: $(O)/tests/backend/test_backend_rate.o $(O)/libbackend_pure.a
	$(call link,$(CMOCKA_LIBS))
TESTS += $(O)/tests/test_backend_rate
VALGRIND_TESTS += $(O)/tests/test_backend_rate

$(O)/tests/test_backend_bridge_key: $(O)/tests/backend/test_backend_bridge_key.o $(O)/libbackend_pure.a
	$(call link,$(CMOCKA_LIBS))
TESTS += $(O)/tests/test_backend_bridge_key
VALGRIND_TESTS += $(O)/tests/test_backend_bridge_key

$(O)/tests/test_backend_rx_expiry: $(O)/tests/backend/test_backend_rx_expiry.o
	$(call link,$(CMOCKA_LIBS))
TESTS += $(O)/tests/test_backend_rx_expiry
VALGRIND_TESTS += $(O)/tests/test_backend_rx_expiry

# The xenbus state machine against the emulator, with netbackd as a child.
BACKEND_TESTENV := $(O)/tests/backend/nbd_testenv.o
$(O)/tests/test_backend_xenbus: $(O)/tests/backend/test_backend_xenbus.o $(BACKEND_TESTENV) $(O)/backend/vif_nodes.o \
		$(O)/backend/ctl_client.o $(O)/libtestlib.a $(O)/libbackend_pure.a \
		| $(SIMLIBS) $(O)/bin/xensim $(O)/bin/netbackd
	$(call link,$(BACKEND_EXT_LIBS) $(CMOCKA_LIBS) $(SIM_RPATH))
TESTS += $(O)/tests/test_backend_xenbus

# The scripted raw netfront the feature, static-grant and TX-batch tests drive.
BACKEND_RAW_FRONT := $(O)/tests/backend/raw_front.o
# Control ring, multicast control, rogue producer, mode switch: raw frontend.
$(O)/tests/test_backend_features: $(O)/tests/backend/test_backend_features.o $(BACKEND_TESTENV) $(BACKEND_RAW_FRONT) $(O)/backend/vif_nodes.o \
		$(O)/backend/ctl_client.o $(O)/libtestlib.a $(O)/libbackend_pure.a \
		| $(SIMLIBS) $(O)/bin/xensim $(O)/bin/netbackd
	$(call link,$(BACKEND_EXT_LIBS) $(CMOCKA_LIBS) $(SIM_RPATH))
TESTS += $(O)/tests/test_backend_features

# ---- static grants and the carrier key (issue 6) ----
SGRANT_OBJS := $(O)/backend/sgrant.o $(O)/backend/carrier.o
BACKEND_OBJS += $(SGRANT_OBJS)
$(O)/libbackend.a: $(SGRANT_OBJS)
ALL_OBJS += $(SGRANT_OBJS)
# Static grants and the carrier key against raw frontends (emulator).
$(O)/tests/test_backend_static_grants: $(O)/tests/backend/test_backend_static_grants.o \
		$(BACKEND_TESTENV) $(BACKEND_RAW_FRONT) $(O)/backend/vif_nodes.o $(O)/backend/ctl_client.o $(O)/libtestlib.a \
		$(O)/libbackend_pure.a | $(SIMLIBS) $(O)/bin/xensim $(O)/bin/netbackd
	$(call link,$(BACKEND_EXT_LIBS) $(CMOCKA_LIBS) $(SIM_RPATH))
TESTS += $(O)/tests/test_backend_static_grants
# Static grants deleted while a reader thread copies (sgrant.c alone, emulator).
$(O)/tests/test_backend_static_grants_race: $(O)/tests/backend/test_backend_static_grants_race.o \
		$(O)/backend/sgrant.o $(O)/backend/log.o $(O)/libtestlib.a $(O)/libbridge.a \
		| $(SIMLIBS) $(O)/bin/xensim
	$(call link,$(XEN_LIBS) $(CMOCKA_LIBS) $(SIM_RPATH))
TESTS += $(O)/tests/test_backend_static_grants_race
# TX grant-copy batching and pool back-pressure against raw frontends (emulator).
$(O)/tests/test_backend_tx_batch: $(O)/tests/backend/test_backend_tx_batch.o \
		$(BACKEND_TESTENV) $(BACKEND_RAW_FRONT) $(O)/backend/vif_nodes.o $(O)/backend/ctl_client.o $(O)/libtestlib.a \
		$(O)/libbackend_pure.a | $(SIMLIBS) $(O)/bin/xensim $(O)/bin/netbackd
	$(call link,$(BACKEND_EXT_LIBS) $(CMOCKA_LIBS) $(SIM_RPATH))
TESTS += $(O)/tests/test_backend_tx_batch
# The backend `rate` key applied live, and event storms (issue 6): raw frontends (emulator).
$(O)/tests/test_backend_rate_live $(O)/tests/test_backend_storm $(O)/tests/test_backend_negotiation $(O)/tests/test_backend_tx_slots: $(O)/tests/%: $(O)/tests/backend/%.o \
		$(BACKEND_TESTENV) $(BACKEND_RAW_FRONT) $(O)/backend/vif_nodes.o $(O)/backend/ctl_client.o $(O)/libtestlib.a \
		$(O)/libbackend_pure.a | $(SIMLIBS) $(O)/bin/xensim $(O)/bin/netbackd
	$(call link,$(BACKEND_EXT_LIBS) $(CMOCKA_LIBS) $(SIM_RPATH))
TESTS += $(O)/tests/test_backend_rate_live $(O)/tests/test_backend_storm $(O)/tests/test_backend_negotiation $(O)/tests/test_backend_tx_slots
# ---- end static grants ----

# The userspace netfront library, its tool, and the emulator end-to-end tests.
-include backend/netfront/netfront.mk

# ---- test_backend_plane: config apply, control commands, vif-bridge layout ----
$(O)/tests/test_backend_plane: $(O)/tests/backend/test_backend_plane.o $(BACKEND_TESTENV) \
		$(O)/backend/vif_nodes.o $(O)/backend/ctl_client.o $(O)/libtestlib.a $(O)/libbackend_pure.a \
		| $(SIMLIBS) $(O)/bin/xensim $(O)/bin/netbackd $(O)/bin/netbackctl $(O)/bin/netfront
	$(call link,$(BACKEND_EXT_LIBS) $(CMOCKA_LIBS) $(SIM_RPATH))
TESTS += $(O)/tests/test_backend_plane
# ---- end test_backend_plane ----
