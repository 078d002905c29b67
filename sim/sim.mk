# sim: objects, programs and tests of this directory (see docs/design.md)
# The emulated libxenctrl (PCI pass-through calls) lives in sim/xenctrl/.
-include sim/xenctrl/xenctrl.mk

# --- xenstored module (owner: xenstored helper) ---
# The emulator's xenstored as a library; xensim embeds it (xs_server.h).
XS_SRCS := $(wildcard sim/xs_*.c)
XS_OBJS := $(XS_SRCS:%.c=$(O)/%.o)
ALL_OBJS += $(XS_OBJS)
$(O)/libxsserver.a: $(XS_OBJS)

# Conformance tests: the real libxenstore against the module run in-process.
XS_TESTS := $(O)/tests/test_sim_xenstored
$(O)/tests/test_sim_xenstored: $(O)/tests/sim/test_xenstored.o $(O)/libxsserver.a
	$(call link,$(XEN_LIBS) $(CMOCKA_LIBS))
TESTS += $(XS_TESTS)
VALGRIND_TESTS += $(XS_TESTS)
# --- end xenstored module ---
