# bench: the benchmark harness (make bench) and its memcpy baseline program.
#   make bench                       default run (about 3 minutes)
#   make bench BENCH_ARGS="--runs 5 --seconds 5"
BENCH_OBJS := $(O)/bench/memcpy_bench.o
ALL_OBJS += $(BENCH_OBJS)

$(O)/bin/nb-memcpy-bench: $(BENCH_OBJS)
	$(call link,)

BINS += $(O)/bin/nb-memcpy-bench

bench: build-all
	bench/bench.sh --build $(O) $(BENCH_ARGS)

.PHONY: bench
