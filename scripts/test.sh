#!/usr/bin/env bash
# The whole test suite, under AddressSanitizer and UndefinedBehaviorSanitizer.
# Installs what it needs, builds in build-test/, runs every test, and ends
# with the line "N passed, N failed, N skipped". Exit 0 only when none failed.
#
#   scripts/test.sh [MESON-TEST-ARGS...]
#   scripts/test.sh --valgrind [MESON-TEST-ARGS...]
#
# --valgrind: the same suite without sanitizers (build-valgrind/, buildtype
# debug, -Dvalgrind=true), every run of the CLI and of the C test programs
# under valgrind memcheck (tests/tools/valgrind-run.sh), timeouts multiplied
# by MP_VALGRIND_TIMEOUT_MULTIPLIER (10), fuzz-short left out. Before the
# result line it prints every valgrind report (build-valgrind/tests/tmp/
# valgrind/*.log) with its command; a report fails the run even when the
# test that made it passed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
valgrind=0
if [ "${1:-}" = --valgrind ]; then
  valgrind=1
  shift
fi

"$root/scripts/install-deps.sh"

lief=enabled
[ "$(uname -s)" = Darwin ] && lief=auto
if [ "$valgrind" = 1 ]; then
  command -v valgrind >/dev/null || { echo "test.sh: --valgrind needs valgrind (apt-get install valgrind)" >&2; exit 1; }
  build="${MP_TEST_BUILD:-$root/build-valgrind}"
  opts=(-Db_sanitize=none -Dbuildtype=debug -Dvalgrind=true -Dlief=$lief)
  extra=(--timeout-multiplier "${MP_VALGRIND_TIMEOUT_MULTIPLIER:-10}")
else
  build="${MP_TEST_BUILD:-$root/build-test}"
  opts=(-Db_sanitize=address,undefined -Dlief=$lief)
  extra=()
fi
if [ -f "$build/build.ninja" ]; then
  meson configure "$build" "${opts[@]}" >/dev/null
else
  meson setup "$build" "$root" "${opts[@]}" >/dev/null
fi
ninja -C "$build" >/dev/null

vglogs="$build/tests/tmp/valgrind"
[ "$valgrind" = 1 ] && rm -rf "$vglogs"

set +e
meson test -C "$build" --print-errorlogs --num-processes "${MP_TEST_JOBS:-2}" ${extra[@]+"${extra[@]}"} "$@"
set -e

python3 - "$build/meson-logs/testlog.json" "$valgrind" "$vglogs" <<'PY'
import glob, json, os, sys
counts = {"passed": 0, "failed": 0, "skipped": 0}
for line in open(sys.argv[1]):
    line = line.strip()
    if not line:
        continue
    r = json.loads(line)["result"]
    if r in ("OK", "EXPECTEDFAIL"):
        counts["passed"] += 1
    elif r == "SKIP":
        counts["skipped"] += 1
    else:
        counts["failed"] += 1
reports = 0
if sys.argv[2] == "1":
    # Valgrind writes a log per run, empty when it found nothing. Reports
    # that are the same but for the pid are printed once, with one command.
    import re
    logs = sorted(glob.glob(os.path.join(sys.argv[3], "*.log")))
    runs, same = {}, {}
    for log in logs:
        prog = os.path.basename(log).rsplit(".", 3)[0]
        runs[prog] = runs.get(prog, 0) + 1
        cmd = log[:-len(".log")] + ".cmd"
        if os.path.getsize(log) == 0:
            os.remove(log)
            if os.path.exists(cmd):
                os.remove(cmd)
            continue
        reports += 1
        text = re.sub(r"(?m)^==\d+== ?", "", open(log, errors="replace").read())
        same.setdefault(text, []).append(log)
    for cmd in glob.glob(os.path.join(sys.argv[3], "*.cmd")):
        if not os.path.exists(cmd[:-len(".cmd")] + ".log"):
            os.remove(cmd)  # killed before valgrind opened its log
    for text, where in same.items():
        cmd = where[0][:-len(".log")] + ".cmd"
        print(f"==== valgrind report from {len(where)} run(s), e.g. {where[0]}")
        if os.path.exists(cmd):
            print("command: " + open(cmd).read().strip())
        sys.stdout.write(text)
    per = ", ".join(f"{n} {p}" for p, n in sorted(runs.items()))
    print(f"valgrind: {len(logs)} runs ({per}), {reports} with a report, "
          f"{len(same)} different (logs in {sys.argv[3]})")
print(f'{counts["passed"]} passed, {counts["failed"]} failed, {counts["skipped"]} skipped')
sys.exit(1 if counts["failed"] or reports or counts["passed"] == 0 else 0)
PY
