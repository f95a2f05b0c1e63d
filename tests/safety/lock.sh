#!/usr/bin/env bash
# (d) mp_lock_path serialises concurrent read-modify-writes of one file.
# safety_inject takes the lock across open..write as the CLI's inject should;
# the failwrite shim delays the rename of the temporary (MP_DELAY_RENAME_MS)
# so that runs started together overlap. Asserted:
#  - without the lock, two runs both plan "add" (both read the old file): the
#    race exists;
#  - with it, exactly one plans "add" and the other(s) see its result
#    ("already holds ... no change"), for two and three runs, and for one run
#    through a symlink with another through the real path;
#  - two different plists: one "add", one "replace", and the file ends with
#    the plist of the run that replaced (the later one), complete;
#  - a holder killed with SIGKILL releases the lock; the next run proceeds and
#    removes the dead run's temporary.
. "$MP_SRC/tests/lib.sh"
. "$MP_SRC/tests/safety/common.sh"
need_fixtures
mp_workdir
[ -f "$MP_FAILWRITE_SO" ] || mp_skip "failwrite.so not built"
tool="$MP_SAFETY_INJECT"
fixture="$MP_FIXTURES/hello-arm64-headerpad"
plist="$MP_SRC/fixtures/Info.plist"
plist_b="$MP_WORK/b.plist"
printf '<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><dict><key>CFBundleIdentifier</key><string>org.example.b</string></dict></plist>\n' > "$plist_b"
d="$MP_WORK/dir"
mkdir -p "$d"
f="$d/hello"
plen=$(wc -c < "$plist")

cp "$fixture" "$f"
assert_exit 0 "reference inject" -- "$tool" "$plist" "$f"
new="$(sha "$f")"

ADD="add __TEXT,__info_plist"
SAME="already holds these $plen bytes; no change"
# run_together DELAY_MS "ARGS1" "ARGS2" ...: starts every run at once; run i's
# stdout in $d.out.i; exit codes in RCS.
run_together() {
  local delay=$1 i=0 pids=() a
  shift
  for a in "$@"; do
    # shellcheck disable=SC2086
    env "${PRELOAD_ENV[@]}" MP_DELAY_RENAME_MS="$delay" "$tool" $a > "$MP_WORK/out.$i" 2> "$MP_WORK/err.$i" &
    pids+=($!)
    i=$((i + 1))
  done
  RCS=""
  for p in "${pids[@]}"; do wait "$p"; RCS="$RCS$? "; done
}
count_in_outputs() { cat "$MP_WORK"/out.* | grep -c -F -- "$1"; }

# No lock: both read the old file.
cp "$fixture" "$f"; rm -f "$MP_WORK"/out.*
run_together 600 "--no-lock $plist $f" "--no-lock $plist $f"
assert_eq "0 0 " "$RCS" "unlocked exit codes"
assert_eq 2 "$(count_in_outputs "$ADD")" "unlocked: both runs planned from the old file"

# Locked: the second sees the first's result.
cp "$fixture" "$f"; rm -f "$MP_WORK"/out.*
run_together 600 "$plist $f" "$plist $f"
assert_eq "0 0 " "$RCS" "locked exit codes"
assert_eq "1 1" "$(count_in_outputs "$ADD") $(count_in_outputs "$SAME")" "locked: one add, one no change"
assert_eq "$new" "$(sha "$f")" "locked result"
assert_eq "hello " "$(dir_list "$d")" "no temporary after locked runs"

# Three at once: two wait, and each re-takes the lock on the replaced file.
cp "$fixture" "$f"; rm -f "$MP_WORK"/out.*
run_together 400 "$plist $f" "$plist $f" "$plist $f"
assert_eq "0 0 0 " "$RCS" "three locked runs: exit codes"
assert_eq "1 2" "$(count_in_outputs "$ADD") $(count_in_outputs "$SAME")" "three locked runs: one add, two no change"
assert_eq "$new" "$(sha "$f")" "three locked runs: result"

# Through a symlink and the real path: the same lock.
ln -s hello "$d/link"
cp "$fixture" "$f"; rm -f "$MP_WORK"/out.*
run_together 600 "$plist $d/link" "$plist $f"
assert_eq "0 0 " "$RCS" "link + path: exit codes"
assert_eq "1 1" "$(count_in_outputs "$ADD") $(count_in_outputs "$SAME")" "link + path: one add, one no change"
[ -L "$d/link" ] && mp_ok || mp_fail "the symlink was replaced"
assert_eq "$new" "$(sha "$f")" "link + path: result"
rm -f "$d/link"

# Two plists: the later run replaces the earlier one's, and the file holds it.
cp "$fixture" "$f"; rm -f "$MP_WORK"/out.*
run_together 600 "$plist $f" "$plist_b $f"
assert_eq "0 0 " "$RCS" "two plists: exit codes"
assert_eq "1 1" "$(count_in_outputs "$ADD") $(count_in_outputs "replace __TEXT,__info_plist")" "two plists: one add, one replace"
if grep -q -F "replace __TEXT" "$MP_WORK/out.1"; then last="$plist_b"; else last="$plist"; fi
"$MP_CLI" show --plist "$f" > "$MP_WORK/embedded" 2>&1
cmp -s "$last" "$MP_WORK/embedded" && mp_ok || mp_fail "two plists: the file does not hold the later run's plist"
assert_eq "hello " "$(dir_list "$d")" "two plists: no temporary"

# A holder killed mid-write releases the lock; the next run cleans up after it.
cp "$fixture" "$f"
env "${PRELOAD_ENV[@]}" MP_DELAY_RENAME_MS=20000 "$tool" "$plist" "$f" > /dev/null 2>&1 &
holder=$!
for _ in $(seq 200); do [ -n "$(ls -A "$d" | grep machoplist)" ] && break; sleep 0.05; done
assert_eq "1" "$(ls -A "$d" | grep -c '^\.hello\.machoplist-')" "holder's temporary exists"
kill -KILL "$holder"; wait "$holder" 2>/dev/null
assert_exit 0 "run after the holder was killed" -- timeout 15 "$tool" "$plist" "$f"
assert_contains "$MP_OUT" "$ADD" "the killed holder wrote nothing"
assert_eq "$new" "$(sha "$f")" "result after the killed holder"
assert_eq "hello " "$(dir_list "$d")" "the killed holder's temporary was removed"
mp_done
