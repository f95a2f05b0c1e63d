#!/usr/bin/env bash
# (e) A write never lands outside the directory that held the target when it
# began: the library opens that directory once and creates, checks and
# renames relative to it (lib/write_file.c). Here a directory on the path is
# swapped for a symlink to another directory while inject waits before its
# rename (MP_DELAY_RENAME_MS, failwrite shim): the file in the other
# directory stays byte-identical, and the result lands in the original
# directory (now under its new name).
. "$MP_SRC/tests/lib.sh"
. "$MP_SRC/tests/safety/common.sh"
need_fixtures
mp_workdir
[ -f "$MP_FAILWRITE_SO" ] || mp_skip "failwrite.so not built"
fixture="$MP_FIXTURES/hello-arm64-headerpad"
old="$(sha "$fixture")"
mkdir -p "$MP_WORK/a" "$MP_WORK/victim"
cp "$fixture" "$MP_WORK/a/hello"
cp "$fixture" "$MP_WORK/victim/hello"
inject_cmd "$MP_WORK/a/hello"

env "${PRELOAD_ENV[@]}" MP_DELAY_RENAME_MS=1500 "${INJECT[@]}" > "$MP_WORK/out" 2>&1 &
pid=$!
# Swap once inject has its temporary in a/ (it opened the directory before),
# not after a fixed time: under valgrind starting takes longer than 0.7 s.
for _ in $(seq 1000); do ls -A "$MP_WORK/a" | grep -q '^\.hello\.machoplist-' && break; sleep 0.02; done
mv "$MP_WORK/a" "$MP_WORK/a.moved"
ln -s victim "$MP_WORK/a"
wait "$pid"
rc=$?
assert_eq 0 "$rc" "inject while its directory is swapped for a symlink ($(cat "$MP_WORK/out"))"
assert_eq "$old" "$(sha "$MP_WORK/victim/hello")" "the file behind the swapped-in symlink is untouched"
assert_eq "hello " "$(dir_list "$MP_WORK/victim")" "nothing else written in the other directory"
[ "$(sha "$MP_WORK/a.moved/hello")" != "$old" ] && mp_ok || mp_fail "the result is not in the original directory"
assert_exit 0 "the result verifies" -- "$MP_CLI" verify "$MP_WORK/a.moved/hello"
rm "$MP_WORK/a"

mp_done
