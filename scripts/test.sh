#!/usr/bin/env bash
# The whole test suite, under AddressSanitizer and UndefinedBehaviorSanitizer.
# Installs what it needs, builds in build-test/, runs every test, and ends
# with the line "N passed, N failed, N skipped". Exit 0 only when none failed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${MP_TEST_BUILD:-$root/build-test}"

"$root/scripts/install-deps.sh"

lief=enabled
[ "$(uname -s)" = Darwin ] && lief=auto
if [ -f "$build/build.ninja" ]; then
  meson configure "$build" -Db_sanitize=address,undefined -Dlief=$lief >/dev/null
else
  meson setup "$build" "$root" -Db_sanitize=address,undefined -Dlief=$lief >/dev/null
fi
ninja -C "$build" >/dev/null

set +e
meson test -C "$build" --print-errorlogs --num-processes "${MP_TEST_JOBS:-2}" "$@"
set -e

python3 - "$build/meson-logs/testlog.json" <<'PY'
import json, sys
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
print(f'{counts["passed"]} passed, {counts["failed"]} failed, {counts["skipped"]} skipped')
sys.exit(1 if counts["failed"] or counts["passed"] == 0 else 0)
PY
