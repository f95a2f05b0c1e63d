#!/usr/bin/env bash
# Run every libFuzzer harness for SECONDS each; fail on any crash, leak,
# sanitizer report, timeout or out-of-memory.
#
# usage: tests/fuzz/run-fuzzers.sh SECONDS [OUT]
#   OUT  build, corpus and crash directory (default $MP_FUZZ_OUT, else
#        ${TMPDIR:-/tmp}/machoplist-fuzz); the corpus is kept between runs.
# The CI run (meson test fuzz-short) uses 60 seconds; the documented longer run:
#   tests/fuzz/run-fuzzers.sh 3600
# Seeds: every fixture ($MP_FIXTURES when it has a MANIFEST, else fixtures are
# built into OUT/fixtures), the first 16 KiB of each (header and load
# commands), and the inputs of tests/fuzz/regressions.py.
# Exit status: 0 clean, 1 a harness failed, 77 clang/fuzzer runtime/fixtures
# missing (reason printed).
set -u
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 SECONDS [OUT]" >&2; exit 2; }
seconds=$1
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
out=${2:-${MP_FUZZ_OUT:-${TMPDIR:-/tmp}/machoplist-fuzz}}
mkdir -p "$out"
out=$(cd "$out" && pwd)

bash "$here/build-fuzzers.sh" "$out/bin"
rc=$?
[ $rc -eq 0 ] || exit $rc

fixtures=${MP_FIXTURES:-}
if [ -z "$fixtures" ] || [ ! -f "$fixtures/MANIFEST" ]; then
  fixtures=$out/fixtures
  if [ ! -f "$fixtures/MANIFEST" ]; then
    bash "$src/fixtures/build-fixtures.sh" "$fixtures" > "$out/fixtures.log" 2>&1
    rc=$?
    [ $rc -eq 77 ] && { echo "SKIP: fixtures cannot be built: $(tail -n 1 "$out/fixtures.log")"; exit 77; }
    [ $rc -eq 0 ] || { cat "$out/fixtures.log"; exit 1; }
  fi
fi

# Seeds are rebuilt each run (never committed).
seeds=$out/seeds
rm -rf "$seeds"
mkdir -p "$seeds" "$out/artifacts" "$out/logs"
while IFS=$'\t' read -r name _; do
  [ -f "$fixtures/$name" ] || continue
  cp "$fixtures/$name" "$seeds/$name"
  head -c 16384 "$fixtures/$name" > "$seeds/$name.16k"
done < "$fixtures/MANIFEST"
python3 "$here/regressions.py" --write-seeds "$seeds" "$fixtures" || exit 1
echo "seeds: $(ls "$seeds" | wc -l) files from $fixtures"

failed=0
while read -r h; do
  corpus=$out/corpus/$h
  mkdir -p "$corpus"
  log=$out/logs/$h.log
  before=$(ls "$out/artifacts" | wc -l)
  echo "== $h: $seconds s (log $log)"
  "$out/bin/$h" -max_total_time="$seconds" -max_len=131072 -rss_limit_mb=2048 -timeout=20 \
    -print_final_stats=1 -artifact_prefix="$out/artifacts/$h-" "$corpus" "$seeds" > "$log" 2>&1
  rc=$?
  grep -E '^stat::(number_of_executed_units|new_units_added|peak_rss_mb)' "$log" | tr '\n' ' '; echo
  if [ $rc -ne 0 ] || [ "$(ls "$out/artifacts" | wc -l)" -ne "$before" ]; then
    failed=1
    echo "FAIL: $h exited $rc" >&2
    grep -E -A 25 '^==[0-9]+==ERROR|runtime error|^SUMMARY|deadly signal|Test unit written' "$log" | head -n 60 >&2
    for a in $(ls -t "$out/artifacts" | grep "^$h-" | head -n 3); do
      echo "reproduce: $out/bin/$h $out/artifacts/$a" >&2
    done
  fi
done < "$out/bin/HARNESSES"
exit $failed
