#!/usr/bin/env bash
# Formula/machoplist.rb, run through a stand-in for Homebrew's Formula DSL
# (formula_check.rb): metadata, dependencies, install with std_meson_args into
# a prefix, caveats, and its test block. Needs ruby; skips without it.
. "$MP_SRC/tests/lib.sh"
command -v ruby >/dev/null || mp_skip "ruby not installed; Formula/machoplist.rb not exercised"
mp_workdir
assert_exit 0 "ruby -c" -- ruby -c "$MP_SRC/Formula/machoplist.rb"
# The source as a tarball would hold it: the tracked and new files, no build dirs.
mkdir -p "$MP_WORK/src"
(cd "$MP_SRC" && git ls-files -co --exclude-standard 2>/dev/null || find . -path ./.git -prune -o -type f -print) |
  (cd "$MP_SRC" && tar -cf - -T -) | (cd "$MP_WORK/src" && tar -xf -)
[ -f "$MP_WORK/src/meson.build" ] && mp_ok || mp_fail "source copy"
assert_exit 0 "formula install and test" -- ruby "$MP_SRC/tests/homebrew/formula_check.rb" \
  "$MP_SRC/Formula/machoplist.rb" "$MP_WORK/src" "$MP_WORK/prefix" "$MP_WORK/testpath"
assert_eq "formula ok" "$MP_OUT" "formula check"
mp_done
