# bench: the benchmark harness (make bench) and its memcpy baseline program.
#   make bench                       default run (about 4 minutes): guest -> netbackd
#                                    -> discard port (1 and 2 queues, static grants),
#                                    guest -> netbackd -> guest, DPDK vhost-user, memcpy
#   make bench BENCH_ARGS="--runs 5 --seconds 5 --queues '1 2 4'"
BENCH_OBJS := $(O)/bench/memcpy_bench.o
ALL_OBJS += $(BENCH_OBJS)

$(O)/bin/nb-memcpy-bench: $(BENCH_OBJS)
	$(call link,)

BINS += $(O)/bin/nb-memcpy-bench

bench: build-all
	bench/bench.sh --build $(O) $(BENCH_ARGS)

.PHONY: bench

# Instructions per packet on the sink path under callgrind (repeatable on a
# loaded machine): make bench-instr BENCH_INSTR_ARGS="--sizes '64 1500'"
bench-instr: build-all
	bench/instr_per_packet.sh --build $(O) $(BENCH_INSTR_ARGS)

.PHONY: bench-instr

# ---- bridge and port benchmark (bench/bridge_*.sh, kept with tests/integration) ----
#   make bench-bridge BENCH_BRIDGE_ARGS="--runs 3 --seconds 3 --sizes '64 1500'"
bench-bridge: build-all
	bench/bridge_bench.sh --build $(O) $(BENCH_BRIDGE_ARGS)

.PHONY: bench-bridge
# ---- end of bridge and port benchmark ----

# ---- static grants: grant operations per packet with and without (bench/static_grants_bench.sh) ----
#   make bench-static BENCH_STATIC_ARGS="--runs 3 --seconds 3 --sizes '64 1500'"
bench-static: build-all
	bench/static_grants_bench.sh --build $(O) $(BENCH_STATIC_ARGS)

.PHONY: bench-static
# ---- end of static grants benchmark ----
