# Shared test plumbing. Each module's *.mk registers its own tests:
#   TESTS += $(O)/tests/test_<module>_<what>
#   VALGRIND_TESTS += ... (pure-code tests that are cheap under valgrind;
#   emulator-based suites are listed in the top Makefile's VALGRIND_EMU_TESTS)
# Test sources live in tests/<module>/. Helpers used by several tests live in
# tests/lib/ and are archived into $(O)/libtestlib.a.
TESTLIB_SRCS := $(wildcard tests/lib/*.c)
# simenv_wait pings the daemon (sim/admin.c), as the CLI does
TESTLIB_OBJS := $(TESTLIB_SRCS:%.c=$(O)/%.o) $(O)/sim/admin.o $(O)/sim/sim_proto.o
$(O)/libtestlib.a: $(TESTLIB_OBJS)
# Real Xen under QEMU (make e2e, make e2e-clean).
-include tests/e2e/e2e.mk
-include tests/integration/integration.mk
