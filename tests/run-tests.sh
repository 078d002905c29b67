#!/usr/bin/env bash
# Runs cmocka test binaries and adds up their verdicts: one after another,
# or TEST_JOBS at a time (each binary's output is still printed whole and
# in the order given). With VALGRIND=1 each runs under memcheck.
# Test binaries that need the hypervisor emulator find it themselves through
# tests/simenv (XENSIM_* variables); this script only points the dynamic
# linker at the emulator's Xen libraries for the tests that ask for them.
# Ends with the plain summary line "tests: N passed, N failed, N skipped".
set -u
O=${O:-build}
TIMEOUT=${TEST_TIMEOUT:-600}
JOBS=${TEST_JOBS:-1}

# Runs one binary; its report goes to $2, whose last line is
# "=== passed failed skipped name".
run_one() {
  local t=$1 out=$2 name log rc p f s vgdir runner skip
  name=$(basename "$t")
  log=$(mktemp)
  exec >"$out.part" 2>&1
  echo "--- $name"
  runner=()
  if [ -n "${VALGRIND:-}" ]; then
    # memcheck on the test, its forked children (guests: libnetfront, the
    # emulated Xen libraries), and the programs of ours it executes
    # directly (xensim, netbackctl, netfront); system programs (sh, ip,
    # timeout...) and whatever they start run natively. netbackd is checked
    # only for the binaries named in VALGRIND_NETBACKD (valgrind 3.19 lacks
    # epoll_pwait2: its workers fall back to epoll_wait); elsewhere it runs
    # natively (and `make SAN=1 test` covers it). Errors are collected from every process's XML, so a daemon's
    # error counts even when the test ignores its exit status.
    vgdir=$(mktemp -d)
    skip='/bin/*,/sbin/*,/usr/*,*/netbackd'
    if [[ " ${VALGRIND_NETBACKD:-} " == *" $name "* ]]; then
      skip='/bin/*,/sbin/*,/usr/*'
    fi
    runner=(valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite
             --errors-for-leak-kinds=definite --suppressions="$(dirname "$0")/valgrind.supp"
             --trace-children=yes --trace-children-skip="$skip"
             --xml=yes --xml-file="$vgdir/%p.xml")
  fi
  timeout --kill-after=10 "$TIMEOUT" "${runner[@]}" "$t" >"$log" 2>&1
  rc=$?
  cat "$log"
  if [ -n "${VALGRIND:-}" ]; then
    if cat "$vgdir"/*.xml 2>/dev/null | grep -q '<error>'; then
      echo "!!! valgrind found errors in $name or a program it ran:"
      # one line per error, then its stack (a forked child's XML lands in
      # its parent's file, so <pid> lines say whose error it is)
      cat "$vgdir"/*.xml | awk '
        function val(s) { sub(/^[^>]*>/, "", s); sub(/<.*$/, "", s); return s }
        /<pid>/ { pid = val($0) }
        /<error>/ { inerr = 1; nstack = 0; what = ""; frames = "" }
        !inerr { next }
        /<kind>/ { kind = val($0) }
        (/<what>/ || /<text>/) && what == "" { what = val($0) }
        /<fn>/ { fn = val($0) }
        /<file>/ { file = val($0) }
        /<line>/ { line = val($0) }
        /<\/frame>/ && nstack == 0 { frames = frames sprintf("      %s (%s:%s)\n", fn, file, line); fn = file = line = "" }
        /<\/stack>/ { nstack++ }
        /<\/error>/ { printf "  [pid %s] %s: %s\n%s", pid, kind, what, frames; inerr = 0 }
      '
      rc=99
    fi
    rm -rf "$vgdir"
  fi
  # a binary may run several cmocka groups (each with its own fixture):
  # add up their summaries
  p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{n += $1} END {print n + 0}')
  f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{n += $1} END {print n + 0}')
  s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | awk '{n += $1} END {print n + 0}')
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    # crashed, timed out or valgrind found errors: count the binary as one failure
    echo "!!! $name exited with status $rc"
    f=1
  fi
  rm -f "$log"
  echo "=== $p $f $s $name"
  mv "$out.part" "$out"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0 skipped=0 bad=() next=0 i=0
# Prints the finished reports that are next in order.
flush() {
  local p f s name
  while [ -e "$work/$next" ]; do
    sed '$d' "$work/$next"
    read -r _ p f s name < <(tail -n 1 "$work/$next")
    [ "$f" -gt 0 ] && bad+=("$name")
    passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
    next=$((next + 1))
  done
}
for t in "$@"; do
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
    wait -n
    flush
  done
  run_one "$t" "$work/$i" &
  i=$((i + 1))
done
wait
flush
[ ${#bad[@]} -gt 0 ] && echo "failing: ${bad[*]}"
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
