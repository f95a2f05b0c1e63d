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

# Unchanged pages are copied file-to-file by the kernel (copy_file_range);
# where it cannot (EXDEV), they are written from memory: same bytes.
cp "$fixture" "$f"
assert_exit 0 "inject when copy_file_range is unsupported" -- \
  env "${PRELOAD_ENV[@]}" MP_FAILWRITE=copy-unsupported "${INJECT[@]}"
assert_eq "$new" "$(sha "$f")" "result when falling back to write()"

check_fault() { # MODE EXPECTED_ERROR
  cp "$fixture" "$f"
  chmod 0755 "$f"
  assert_exit 3 "MP_FAILWRITE=$1" -- env "${PRELOAD_ENV[@]}" MP_FAILWRITE="$1" "${INJECT[@]}"
  assert_eq "$MSG_PREFIX$f: $2" "$MP_ERR" "MP_FAILWRITE=$1 message"
  assert_eq "$old" "$(sha "$f")" "MP_FAILWRITE=$1 leaves the file byte-identical"
  assert_eq "hello " "$(dir_list "$d")" "MP_FAILWRITE=$1 leaves no temporary"
  assert_eq "755" "$(stat -c %a "$f")" "MP_FAILWRITE=$1 keeps the mode"
}
check_fault write "write failed: No space left on device"
check_fault write-late "write failed: No space left on device"
check_fault copy "write failed: No space left on device"
check_fault fsync "fsync failed: Input/output error"
check_fault rename "cannot replace the file: Permission denied"
mp_done
