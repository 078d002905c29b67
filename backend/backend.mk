# backend: the daemon netbackd and the tool netbackctl (see docs/design.md).
# libbackend.a holds everything but the two main()s so tests link the same code.
BACKEND_PURE_SRCS := backend/xs_parse.c backend/fe_config.c
BACKEND_PURE_OBJS := $(BACKEND_PURE_SRCS:%.c=$(O)/%.o)
$(O)/libbackend_pure.a: $(BACKEND_PURE_OBJS)

$(O)/tests/test_backend_fe_config: $(O)/tests/backend/test_backend_fe_config.o $(O)/libbackend_pure.a
	$(call link,$(CMOCKA_LIBS))
TESTS += $(O)/tests/test_backend_fe_config
VALGRIND_TESTS += $(O)/tests/test_backend_fe_config

# The userspace netfront library, its tool, and the emulator end-to-end tests.
-include backend/netfront/netfront.mk
