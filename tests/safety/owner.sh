#!/usr/bin/env bash
# (c) Mode, owner and symlinks are kept by an in-place inject: a root-run
# inject of a file owned by 1234:1234 with mode 0751 (and 6751: set-id bits
# survive the chown) keeps both; injecting through a symlink (and a chain of
# two) replaces the target and leaves the links as they were. The bytes are
# those of an inject into a plain copy; no temporary is left in any directory.
. "$MP_SRC/tests/lib.sh"
. "$MP_SRC/tests/safety/common.sh"
need_fixtures
[ "$(id -u)" = 0 ] || mp_skip "needs root to chown a file to 1234:1234"
mp_workdir
fixture="$MP_FIXTURES/hello-arm64-headerpad"

mkdir -p "$MP_WORK/ref"
cp "$fixture" "$MP_WORK/ref/hello"
inject_cmd "$MP_WORK/ref/hello"
echo "injecting with: ${INJECT[0]}"
assert_exit 0 "reference inject" -- "${INJECT[@]}"
new="$(sha "$MP_WORK/ref/hello")"
[ "$new" != "$(sha "$fixture")" ] && mp_ok || mp_fail "reference inject did not change the file"

for mode in 751 6751; do
  d="$MP_WORK/owner-$mode"
  mkdir -p "$d"
  cp "$fixture" "$d/hello"
  chown 1234:1234 "$d/hello"
  chmod "$mode" "$d/hello"
  inode_before="$(stat -c %i "$d/hello")"
  inject_cmd "$d/hello"
  assert_exit 0 "inject mode $mode owner 1234" -- "${INJECT[@]}"
  assert_eq "$mode 1234 1234" "$(stat -c '%a %u %g' "$d/hello")" "mode and owner kept ($mode)"
  assert_eq "$new" "$(sha "$d/hello")" "bytes ($mode)"
  [ "$(stat -c %i "$d/hello")" != "$inode_before" ] && mp_ok || mp_fail "file was rewritten in place, not replaced ($mode)"
  assert_eq "hello " "$(dir_list "$d")" "no temporary left ($mode)"
done

# Symlinks: d/link -> sub/hello, d/link2 -> link.
d="$MP_WORK/sym"
mkdir -p "$d/sub"
cp "$fixture" "$d/sub/hello"
chown 1234:1234 "$d/sub/hello"
chmod 0751 "$d/sub/hello"
ln -s sub/hello "$d/link"
ln -s link "$d/link2"
for via in link link2; do
  cp "$fixture" "$d/sub/hello.tmp" && chown 1234:1234 "$d/sub/hello.tmp" && chmod 0751 "$d/sub/hello.tmp" &&
    mv "$d/sub/hello.tmp" "$d/sub/hello"
  inject_cmd "$d/$via"
  assert_exit 0 "inject through $via" -- "${INJECT[@]}"
  [ -L "$d/link" ] && [ -L "$d/link2" ] && mp_ok || mp_fail "inject through $via replaced a symlink"
  assert_eq "sub/hello link" "$(readlink "$d/link") $(readlink "$d/link2")" "link targets unchanged ($via)"
  assert_eq "$new" "$(sha "$d/sub/hello")" "target bytes ($via)"
  assert_eq "751 1234 1234" "$(stat -c '%a %u %g' "$d/sub/hello")" "target mode and owner kept ($via)"
  assert_eq "link link2 sub " "$(dir_list "$d")" "no temporary next to the links ($via)"
  assert_eq "hello " "$(dir_list "$d/sub")" "no temporary next to the target ($via)"
done
mp_done
