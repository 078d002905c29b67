# pci: PCI pass-through assignment (netbackctl pci-*), see docs/design.md.
# The archive is libnbpci.a so that it never shadows the system's libpci.
PCI_SRCS := $(wildcard pci/*.c)
PCI_OBJS := $(PCI_SRCS:%.c=$(O)/%.o)
ALL_OBJS += $(PCI_OBJS)
$(O)/libnbpci.a: $(PCI_OBJS)
# What a program linking libnbpci.a needs after it.
PCI_LIBS := $(shell $(PKG_CONFIG) --libs jansson xenstore xencontrol 2>/dev/null)

# Tests: the kernel model and in-memory store are test-only helpers.
PCI_TEST_HELPERS := $(O)/tests/pci/kmodel.o $(O)/tests/pci/memstore.o $(O)/tests/pci/xcstate.o $(O)/tests/pci/world.o
$(O)/tests/test_pci_parse: $(O)/tests/pci/test_pci_parse.o $(O)/libnbpci.a
	$(call link,$(PCI_LIBS) $(CMOCKA_LIBS))
$(O)/tests/test_pci_assign: $(O)/tests/pci/test_pci_assign.o $(PCI_TEST_HELPERS) $(O)/libnbpci.a $(SIMLIBS)
	$(call link,$(PCI_LIBS) $(CMOCKA_LIBS) $(SIM_RPATH))
$(O)/tests/test_pci_cli: $(O)/tests/pci/test_pci_cli.o $(PCI_TEST_HELPERS) $(O)/libnbpci.a $(SIMLIBS)
	$(call link,$(PCI_LIBS) $(CMOCKA_LIBS) $(SIM_RPATH))
TESTS += $(O)/tests/test_pci_parse $(O)/tests/test_pci_assign $(O)/tests/test_pci_cli
VALGRIND_TESTS += $(O)/tests/test_pci_parse $(O)/tests/test_pci_assign $(O)/tests/test_pci_cli

# On the hypervisor emulator (real libxenstore against xensim's xenstored).
$(O)/tests/test_pci_sim: $(O)/tests/pci/test_pci_sim.o $(PCI_TEST_HELPERS) $(O)/libnbpci.a \
		$(O)/libtestlib.a | $(SIMLIBS) $(O)/bin/xensim
	$(call link,$(PCI_LIBS) $(CMOCKA_LIBS) $(SIM_RPATH))
TESTS += $(O)/tests/test_pci_sim
