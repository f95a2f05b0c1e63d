#!/usr/bin/env bash
# (f) A reader racing inject never sees a torn file: the new bytes are put in
# place by one rename, so every read of the path yields the old file or a
# complete new one. Two plists are injected in turn, 30 times, while this
# script reads the file as fast as it can; every read must hash to one of the
# three known versions (original, plist A, plist B).
. "$MP_SRC/tests/lib.sh"
. "$MP_SRC/tests/safety/common.sh"
need_fixtures
mp_workdir
fixture="$MP_FIXTURES/hello-arm64-headerpad"
f="$MP_WORK/hello"
plist_a="$MP_SRC/fixtures/Info.plist"
plist_b="$MP_WORK/b.plist"
printf '<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><dict><key>CFBundleIdentifier</key><string>org.example.b</string></dict></plist>\n' > "$plist_b"

# The three versions a reader may see.
cp "$fixture" "$f"; orig="$(sha "$f")"
"$MP_CLI" inject -q --plist "$plist_a" "$f" || mp_fail "inject A"
ver_a="$(sha "$f")"
"$MP_CLI" inject -q --plist "$plist_b" "$f" || mp_fail "inject B"
ver_b="$(sha "$f")"
cp "$fixture" "$f"

( for i in $(seq 1 15); do
    "$MP_CLI" inject -q --plist "$plist_a" "$f" || exit 1
    "$MP_CLI" inject -q --plist "$plist_b" "$f" || exit 1
  done ) &
writer=$!
reads=0 torn=0
while kill -0 "$writer" 2>/dev/null; do
  h="$(sha "$f")"
  reads=$((reads + 1))
  case "$h" in "$orig"|"$ver_a"|"$ver_b") ;; *) torn=$((torn + 1)) ;; esac
done
wait "$writer"
assert_eq 0 "$?" "the 30 injects succeed"
assert_eq 0 "$torn" "reads that matched no complete version (of $reads)"
[ "$reads" -ge 10 ] && mp_ok || mp_fail "only $reads reads raced the writer"
assert_eq "$ver_b" "$(sha "$f")" "the file ends as the last inject left it"
assert_eq "b.plist hello " "$(dir_list "$MP_WORK")" "no temporary left"
mp_done
