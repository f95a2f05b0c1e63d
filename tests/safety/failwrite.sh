#!/usr/bin/env bash
# (a) A write, fsync or rename of the temporary that fails (LD_PRELOAD shim
# failwrite.so) leaves FILE byte-identical, exits 3 with one line naming FILE
# and the error, and leaves no .FILE.machoplist-* temporary behind.
. "$MP_SRC/tests/lib.sh"
. "$MP_SRC/tests/safety/common.sh"
need_fixtures
mp_workdir
[ -f "$MP_FAILWRITE_SO" ] || mp_skip "failwrite.so not built"
fixture="$MP_FIXTURES/hello-arm64-headerpad"
d="$MP_WORK/dir"
mkdir -p "$d"
f="$d/hello"
inject_cmd "$f"
echo "injecting with: ${INJECT[0]}"
old="$(sha "$fixture")"

# Control: without a fault the same command changes the file and leaves no temporary.
cp "$fixture" "$f"
assert_exit 0 "inject without fault" -- "${INJECT[@]}"
[ "$(sha "$f")" != "$old" ] && mp_ok || mp_fail "inject without fault did not change the file"
assert_eq "hello " "$(dir_list "$d")" "directory after a clean inject"
new="$(sha "$f")"

# The shim loaded but idle is transparent.
cp "$fixture" "$f"
assert_exit 0 "inject with the idle shim" -- env "${PRELOAD_ENV[@]}" "${INJECT[@]}"
assert_eq "$new" "$(sha "$f")" "result with the idle shim"

# Signing writes each byte it hashes from the hashing threads (pwrite); a
# plain mp_image_write (safety_inject: no signing) copies unchanged pages
# file-to-file in the kernel (copy_file_range), and where it cannot (EXDEV)
# writes them from memory: the same bytes either way.
PLAIN=("$MP_SAFETY_INJECT" "$MP_SRC/fixtures/Info.plist" "$f")
cp "$fixture" "$f"
assert_exit 0 "plain write without fault" -- "${PLAIN[@]}"
plain="$(sha "$f")"
cp "$fixture" "$f"
assert_exit 0 "plain write when copy_file_range is unsupported" -- \
  env "${PRELOAD_ENV[@]}" MP_FAILWRITE=copy-unsupported "${PLAIN[@]}"
assert_eq "$plain" "$(sha "$f")" "result when falling back to write()"

check_fault() { # MODE EXPECTED_ERROR PREFIX COMMAND...
  local mode="$1" msg="$2" prefix="$3"
  shift 3
  cp "$fixture" "$f"
  chmod 0755 "$f"
  assert_exit 3 "MP_FAILWRITE=$mode $(basename "$1")" -- env "${PRELOAD_ENV[@]}" MP_FAILWRITE="$mode" "$@"
  assert_eq "$prefix$f: $msg" "$MP_ERR" "MP_FAILWRITE=$mode message"
  assert_eq "$old" "$(sha "$f")" "MP_FAILWRITE=$mode leaves the file byte-identical"
  assert_eq "hello " "$(dir_list "$d")" "MP_FAILWRITE=$mode leaves no temporary"
  assert_eq "755" "$(stat -c %a "$f")" "MP_FAILWRITE=$mode keeps the mode"
}
check_fault write "write failed: No space left on device" "$MSG_PREFIX" "${INJECT[@]}"
check_fault write-late "write failed: No space left on device" "$MSG_PREFIX" "${INJECT[@]}"
check_fault write "write failed: No space left on device" "" "${PLAIN[@]}"
check_fault copy "write failed: No space left on device" "" "${PLAIN[@]}"
check_fault fsync "fsync failed: Input/output error" "$MSG_PREFIX" "${INJECT[@]}"
check_fault rename "cannot replace the file: Permission denied" "$MSG_PREFIX" "${INJECT[@]}"
mp_done
