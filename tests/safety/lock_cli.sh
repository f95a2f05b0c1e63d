#!/usr/bin/env bash
# (d, CLI) `machoplist inject` and `sign` take the mp_lock_path lock across open..write:
# while another process holds it (safety_inject, rename delayed 1.5 s, writing
# a different plist) the CLI waits, then edits that process's result: it ends
# after the holder, the file holds the CLI's plist and verifies.
# Skips until cli/cmd_inject.c calls mp_lock_path.
. "$MP_SRC/tests/lib.sh"
. "$MP_SRC/tests/safety/common.sh"
need_fixtures
have_cli_inject || mp_skip "the CLI has no inject command"
grep -q mp_lock_path "$MP_SRC/cli/cmd_inject.c" ||
  mp_skip "cli/cmd_inject.c does not take mp_lock_path yet (lock the file across mp_image_open .. mp_image_write)"
[ -f "$MP_FAILWRITE_SO" ] || mp_skip "failwrite.so not built"
mp_workdir
plist="$MP_SRC/fixtures/Info.plist"
plist_b="$MP_WORK/b.plist"
printf '<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><dict><key>CFBundleIdentifier</key><string>org.example.b</string></dict></plist>\n' > "$plist_b"
d="$MP_WORK/dir"
mkdir -p "$d"
f="$d/hello"
# race_holder NAME EXPECTED_PLIST COMMAND...: while safety_inject holds the lock
# (its rename delayed 1.5 s, writing plist_b, unsigned), COMMAND must wait
# for it, then edit its result: EXPECTED_PLIST embedded, the file verifies.
race_holder() {
  local name=$1 want=$2
  shift 2
  cp "$MP_FIXTURES/hello-arm64-headerpad" "$f"
  env "${PRELOAD_ENV[@]}" MP_DELAY_RENAME_MS=1500 "$MP_SAFETY_INJECT" "$plist_b" "$f" > "$MP_WORK/holder-$name.out" 2>&1 &
  local holder=$!
  for _ in $(seq 200); do ls -A "$d" | grep -q '^\.hello\.machoplist-' && break; sleep 0.02; done
  assert_exit 0 "$name while the lock is held" -- timeout 30 "$@"
  kill -0 "$holder" 2>/dev/null && mp_fail "$name finished while the holder still held the lock" || mp_ok
  wait "$holder"
  assert_eq 0 "$?" "holder exit code ($name)"
  "$MP_CLI" show --plist "$f" > "$MP_WORK/embedded-$name" 2>&1
  cmp -s "$want" "$MP_WORK/embedded-$name" && mp_ok || mp_fail "$name: the file does not hold the expected plist (a write was lost)"
  assert_exit 0 "$name: the result verifies" -- "$MP_CLI" verify "$f"
  assert_eq "hello " "$(dir_list "$d")" "no temporary left ($name)"
}
race_holder inject "$plist" "$MP_CLI" inject --plist "$plist" "$f"
# `machoplist sign` takes the same lock and signs the holder's result.
# Without the lock it finished first and the holder's rename put an invalid
# signature in place.
race_holder sign "$plist_b" "$MP_CLI" sign "$f"
mp_done
