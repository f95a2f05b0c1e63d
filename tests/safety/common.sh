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
