#!/usr/bin/env bash
# Runs cmocka test binaries one after another and adds up their verdicts.
# Test binaries that need the hypervisor emulator find it themselves through
# tests/simenv (XENSIM_* variables); this script only points the dynamic
# linker at the emulator's Xen libraries for the tests that ask for them.
# Ends with the plain summary line "tests: N passed, N failed, N skipped".
set -u
O=${O:-build}
TIMEOUT=${TEST_TIMEOUT:-600}
passed=0 failed=0 skipped=0 bad=()
for t in "$@"; do
  name=$(basename "$t")
  log=$(mktemp)
  echo "--- $name"
  if [ -n "${VALGRIND:-}" ]; then
    runner=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite)
  else
    runner=()
  fi
  timeout --kill-after=10 "$TIMEOUT" "${runner[@]}" "$t" >"$log" 2>&1
  rc=$?
  cat "$log"
  p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
  f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
  s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
  p=${p:-0} f=${f:-0} s=${s:-0}
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    # crashed, timed out or valgrind found errors: count the binary as one failure
    echo "!!! $name exited with status $rc"
    f=1
  fi
  [ "$f" -gt 0 ] && bad+=("$name")
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
  rm -f "$log"
done
[ ${#bad[@]} -gt 0 ] && echo "failing: ${bad[*]}"
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
