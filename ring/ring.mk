# ring: the netif protocol as pure converters (see docs/design.md)
RING_SRCS := ring/netif_tx.c ring/netif_rx.c ring/netif_ctrl.c \
	ring/toeplitz.c ring/mcast_filter.c
RING_OBJS := $(RING_SRCS:%.c=$(O)/%.o)
ALL_OBJS += $(RING_OBJS)
$(O)/libring.a: $(RING_OBJS)

RING_TESTS := $(addprefix $(O)/tests/,test_ring_tx test_ring_rx \
	test_ring_ctrl test_ring_toeplitz test_ring_mcast)
TESTS += $(RING_TESTS)
VALGRIND_TESTS += $(RING_TESTS)

$(O)/tests/test_ring_%: $(O)/tests/ring/test_ring_%.o $(O)/libring.a
	$(call link,$(CMOCKA_LIBS))

# libFuzzer target for netif_tx_parse / netif_rx_plan (not part of make test):
#   make fuzz-ring && build/fuzz/fuzz_ring_tx -max_total_time=60
FUZZ_CC ?= clang
fuzz-ring: $(O)/fuzz/fuzz_ring_tx
$(O)/fuzz/fuzz_ring_tx: tests/ring/fuzz_tx.c $(RING_SRCS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -D__XEN_TOOLS__ -I. $^ -o $@
fuzz: fuzz-ring
.PHONY: fuzz fuzz-ring
