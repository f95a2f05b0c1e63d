# shellcheck shell=bash
# Shared by the safety tests (sourced after tests/lib.sh).
# inject_cmd FILE: sets INJECT (array) to the command that injects
# fixtures/Info.plist into FILE in place, and MSG_PREFIX to what precedes the
# library's message on stderr. `machoplist inject` when the CLI has it, else
# the test tool inject_nosign (plan + apply + mp_image_write, no signing).
have_cli_inject() { "$MP_CLI" help 2>/dev/null | grep -q '^  inject '; }
# shellcheck disable=SC2034
inject_cmd() {
  if have_cli_inject; then
    INJECT=("$MP_CLI" inject --plist "$MP_SRC/fixtures/Info.plist" "$1")
    MSG_PREFIX="machoplist: "
  else
    INJECT=("$MP_INJECT_NOSIGN" "$MP_SRC/fixtures/Info.plist" "$1" "$1")
    MSG_PREFIX=""
  fi
}
# The shim and an ASan-built program: the shim comes first in the link order.
# shellcheck disable=SC2034
PRELOAD_ENV=("LD_PRELOAD=$MP_FAILWRITE_SO" "ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0")
sha() { sha256sum < "$1" | cut -d' ' -f1; }
# Names in a directory, one line, sorted (temporaries included).
dir_list() { (cd "$1" && ls -A | sort | tr '\n' ' '); }
# large_fixture PATH MIB: an executable of about MIB MiB (make-large-fixture.py);
# skips the test when the toolchain for it is missing.
large_fixture() {
  python3 "$MP_SRC/tests/bench/make-large-fixture.py" "$1" "$2" >"$MP_WORK/fixture.log" 2>&1 && return 0
  grep -q "not found" "$MP_WORK/fixture.log" && mp_skip "$(tail -1 "$MP_WORK/fixture.log")"
  cat "$MP_WORK/fixture.log"
  mp_fail "make-large-fixture.py failed"
  mp_done
}
# loop_mount IMG SIZE MKFS MNT: a fresh filesystem (mkfs command MKFS, e.g.
# "mkfs.xfs -q -f") in the file IMG of SIZE, mounted at MNT and unmounted (IMG
# removed) when the test exits; skips, saying why, without root, MKFS or a loop device.
loop_mount() {
  local img=$1 size=$2 mkfs=$3 mnt=$4
  [ "$(id -u)" = 0 ] || mp_skip "not root: cannot mount a loop filesystem"
  command -v "${mkfs%% *}" >/dev/null || mp_skip "${mkfs%% *} not found"
  mkdir -p "$mnt"
  truncate -s "$size" "$img"
  $mkfs "$img" >/dev/null 2>&1 || mp_skip "${mkfs%% *} failed"
  mount -o loop "$img" "$mnt" 2>"$MP_WORK/mount.err" || mp_skip "cannot mount a loop device: $(head -1 "$MP_WORK/mount.err")"
  # shellcheck disable=SC2064
  trap "umount '$mnt' 2>/dev/null; rm -f '$img'" EXIT
}
