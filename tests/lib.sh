# Shared helpers for shell tests. Source it; then call the assertions.
# Each failed assertion prints what was expected and what was seen, and the
# test exits 1 at the end (mp_done). Skips exit 77 with a reason.
set -u
MP_FAILS=0
MP_CHECKS=0

mp_fail() { echo "FAIL: $*" >&2; MP_FAILS=$((MP_FAILS + 1)); }
mp_skip() { echo "SKIP: $*"; exit 77; }
mp_ok() { MP_CHECKS=$((MP_CHECKS + 1)); }

# assert_eq EXPECTED ACTUAL WHAT
assert_eq() {
  if [ "$1" == "$2" ]; then mp_ok; else mp_fail "$3: expected [$1], got [$2]"; fi
}
# assert_contains HAYSTACK NEEDLE WHAT
assert_contains() {
  case "$1" in *"$2"*) mp_ok ;; *) mp_fail "$3: [$2] not found in [$1]" ;; esac
}
# assert_exit EXPECTED_CODE WHAT -- command...   (stdout/stderr kept in $MP_OUT/$MP_ERR)
assert_exit() {
  local want="$1" what="$2"; shift 3
  MP_OUT="$("$@" 2>"$MP_WORK/stderr")"; local rc=$?
  MP_ERR="$(cat "$MP_WORK/stderr")"
  if [ "$rc" -eq "$want" ]; then mp_ok; else mp_fail "$what: exit $rc, expected $want; stderr: $MP_ERR"; fi
}
# A fresh scratch directory for this test.
mp_workdir() {
  mkdir -p "$MP_TMP"
  MP_WORK="$(mktemp -d "$MP_TMP/$(basename "$0" .sh).XXXXXX")"
  export MP_WORK
}
need_fixtures() {
  [ -f "$MP_FIXTURES/MANIFEST" ] || mp_skip "fixtures not built (clang/ld64.lld missing?)"
}
need_npm() {
  [ -f "$MP_NPM/MANIFEST" ] || mp_skip "npm registry unreachable, real Apple-signed binaries not tested ($(cat "$MP_NPM/../fetch.log" 2>/dev/null | tail -n 1))"
}
find_tool() { # find_tool NAME -> prints path of NAME or NAME-14 or under llvm-config-14 --bindir
  local n="$1" p
  for p in "$n" "$n-14" "$(llvm-config-14 --bindir 2>/dev/null)/$n"; do
    command -v "$p" 2>/dev/null && return 0
  done
  return 1
}
mp_done() {
  if [ "$MP_FAILS" -gt 0 ]; then echo "$MP_FAILS of $MP_CHECKS checks failed" >&2; exit 1; fi
  [ "$MP_CHECKS" -gt 0 ] || { echo "no checks ran" >&2; exit 1; }
  echo "$MP_CHECKS checks passed"; exit 0
}
