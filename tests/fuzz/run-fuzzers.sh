#!/usr/bin/env bash
# Run every libFuzzer harness; fail on any crash, leak, sanitizer report,
# timeout or out-of-memory.
#
# usage: tests/fuzz/run-fuzzers.sh SECONDS [OUT]   explore: SECONDS per harness, random seed
#        tests/fuzz/run-fuzzers.sh --ci [OUT]       reproducible: fixed seed and run count
#   OUT  build, corpus and crash directory (default $MP_FUZZ_OUT, else
#        ${TMPDIR:-/tmp}/machoplist-fuzz).
#
# Two kinds of run:
#  - SECONDS (the documented longer run: tests/fuzz/run-fuzzers.sh 3600) is
#    time-bounded and random: libFuzzer picks its seed from the clock (the log
#    records it as "INFO: Seed: N"), and the corpus in OUT/corpus/HARNESS is
#    kept and grows from run to run. It explores; it is not repeatable.
#  - --ci (meson test fuzz-short) is repeatable: -seed=$MP_FUZZ_SEED (default
#    1), a fixed -runs count per harness (ci_runs below), no time limit, and
#    a corpus that starts empty every run (OUT/ci-corpus/HARNESS) next to the
#    seeds, with corpus reloading off, comparison-guided mutation off
#    (-use_cmp=0) and address randomization off (see below). Same fixtures,
#    same toolchain, same seed: the same inputs run, in any OUT, and the run
#    passes or fails the same way (checked: full runs in /tmp and under meson
#    gave identical libFuzzer logs apart from timing lines).
#    MP_FUZZ_RUNS=N overrides every count (a quicker local check).
#
# Seeds: every fixture ($MP_FIXTURES when it has a MANIFEST, else fixtures are
# built into OUT/fixtures), the first 16 KiB of each (header and load
# commands), and the inputs of tests/fuzz/regressions.py.
#
# A crash found by either run is written to OUT/artifacts/HARNESS-crash-*;
# turn it into a regression test as tests/fuzz/regressions.py describes (a
# fixture plus a small patch, no binary committed): every later run, the --ci
# one included, then starts from it as a seed.
#
# Exit status: 0 clean, 1 a harness failed, 2 usage, 77 clang/fuzzer
# runtime/fixtures missing (reason printed).
set -u
usage() { echo "usage: $0 SECONDS [OUT] | $0 --ci [OUT]" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
ci=0
seconds=
if [ "$1" = --ci ]; then
  ci=1
else
  case "$1" in ''|*[!0-9]*) usage ;; esac
  seconds=$1
fi

# Runs per harness in --ci mode, sized to take about 50 s of CPU each on the
# development machine (2-core x86_64 VM shared with other jobs, Debian 12,
# clang 14, build-fuzzers.sh's -O1 ASan+UBSan instrumentation; CPU seconds,
# which unlike wall time do not depend on what else runs), measured at
# f82b477 with this script's --ci options (two runs, one under meson):
#   fuzz_read    1 100 000 runs  49-53 s
#   fuzz_inject    400 000 runs  50-52 s
#   fuzz_verify    800 000 runs  50-58 s
# (At bc578aa 50 s bought about 1.7 times the runs; the library's plist checks
# and mapped images made each run dearer.) Re-measure when a harness or the
# library's hot paths change: `MP_FUZZ_RUNS=N tests/fuzz/run-fuzzers.sh
# --ci` prints each harness's CPU seconds. On a slower or busier machine the
# run takes longer but does the same work.
ci_runs() {
  case "$1" in
    fuzz_read) echo 1100000 ;;
    fuzz_inject) echo 400000 ;;
    fuzz_verify) echo 800000 ;;
    *) echo 500000 ;;
  esac
}
ci_seed=${MP_FUZZ_SEED:-1}

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

# --ci also runs the harness with address randomization off (setarch -R), a
# fixed minimal environment, from OUT with relative paths: the library maps
# each image, and some of its paths depend on where things land (measured on
# fuzz_inject, 20 000 runs: 1 run in 6 took another path with randomization
# on, 0 in 10 with it off). With both measures two runs are the same.
launch=()
if [ $ci -eq 1 ]; then
  launch=(env -i "PATH=/usr/local/bin:/usr/bin:/bin")
  for v in ASAN_OPTIONS UBSAN_OPTIONS; do
    [ -n "${!v+x}" ] && launch+=("$v=${!v}")
  done
  if setarch "$(uname -m)" -R true 2>/dev/null; then
    launch=(setarch "$(uname -m)" -R "${launch[@]}")
  else
    echo "note: setarch -R is not permitted here: address randomization stays on, runs may differ"
  fi
fi

# cpu_now: CPU seconds (user + sys) used so far by this script's finished
# children (`times` runs in this shell, not in a command substitution).
child_cpu() {
  times > "$out/logs/.times"
  cpu_now=$(tail -n 1 "$out/logs/.times" |
    awk '{ n = 0; for (i = 1; i <= 2; i++) { split($i, t, /[ms]/); n += t[1] * 60 + t[2] } printf "%.0f", n }')
}

failed=0
while read -r h; do
  log=$out/logs/$h.log
  before=$(ls "$out/artifacts" | wc -l)
  if [ $ci -eq 1 ]; then
    # A fresh corpus every time: new units found by this run go there, and
    # nothing from an earlier run changes what this one executes.
    corpus=$out/ci-corpus/$h
    rm -rf "$corpus"
    mkdir -p "$corpus"
    runs=${MP_FUZZ_RUNS:-$(ci_runs "$h")}
    echo "== $h: -seed=$ci_seed -runs=$runs (log $log)"
    # -use_cmp=0: libFuzzer feeds operands of the code's comparisons back
    # into its mutations, and some are addresses (null checks and bounds
    # checks on pointers into the image, which the library now maps, and on
    # heap blocks): they differ from run to run even with address
    # randomization off, and two runs with the same seed parted ways after
    # about 20 000 inputs. The long run keeps comparison-guided mutation.
    mode=(-seed="$ci_seed" -runs="$runs" -reload=0 -use_cmp=0)
  else
    corpus=$out/corpus/$h
    mkdir -p "$corpus"
    echo "== $h: $seconds s, random seed (log $log)"
    mode=(-max_total_time="$seconds")
  fi
  start=$SECONDS
  child_cpu
  cpu0=$cpu_now
  (cd "$out" && exec "${launch[@]}" "bin/$h" "${mode[@]}" -max_len=131072 -rss_limit_mb=2048 -timeout=20 \
    -print_final_stats=1 -artifact_prefix="artifacts/$h-" "${corpus#"$out"/}" seeds) > "$log" 2>&1
  rc=$?
  child_cpu
  echo "$(grep -m1 -o 'Seed: [0-9]*' "$log"), $((SECONDS - start)) s, $((cpu_now - cpu0)) s CPU;" \
    "$(grep -E '^stat::(number_of_executed_units|new_units_added|peak_rss_mb)' "$log" | tr '\n' ' ')"
  if [ $rc -ne 0 ] || [ "$(ls "$out/artifacts" | wc -l)" -ne "$before" ]; then
    failed=1
    echo "FAIL: $h exited $rc" >&2
    grep -E -A 25 '^==[0-9]+==ERROR|runtime error|^SUMMARY|deadly signal|Test unit written' "$log" | head -n 60 >&2
    for a in $(ls -t "$out/artifacts" | grep "^$h-" | head -n 3); do
      echo "reproduce: $out/bin/$h $out/artifacts/$a" >&2
    done
    [ $ci -eq 1 ] && echo "the whole run again: MP_FUZZ_SEED=$ci_seed $0 --ci $out" >&2
    echo "then add the input to tests/fuzz/regressions.py (see its docstring) so it stays a test and a seed" >&2
  fi
done < "$out/bin/HARNESSES"
exit $failed
