#!/usr/bin/env bash
# usage: valgrind-run.sh LOGDIR PROGRAM [ARGS...]
#
# Runs PROGRAM under valgrind memcheck for the valgrind test run
# (scripts/test.sh --valgrind, meson option -Dvalgrind=true). The tests call
# wrappers generated from valgrind-wrapper.in, which exec this script.
#
# It execs valgrind, so the process the test started IS the program: its pid,
# signals (the SIGKILL tests), exit status and stdout/stderr are the
# program's. Valgrind writes nothing to stdout or stderr: its report goes to
# LOGDIR/NAME.PID.TIME.log (empty when clean), with the command line in
# the same name + .cmd. When valgrind finds an error (invalid read or write,
# use of uninitialised memory, bad free, a definite or indirect leak) the
# exit status is 97 instead of the program's, which fails the tests: they
# check exact exit codes. scripts/test.sh --valgrind then lists every
# non-empty log, also of runs whose test only checks for a non-zero status.
#
# MP_VALGRIND_OPTS adds options (word-split), e.g. --track-origins=yes to see
# where uninitialised bytes came from (about twice as slow).
set -u
logdir=$1 prog=$2
shift 2
# World-writable like /tmp: tests/reader/hostile.py runs machoplist as nobody.
if [ ! -d "$logdir" ]; then
  mkdir -p "$logdir" && chmod 1777 "$logdir" 2>/dev/null
fi
base="$logdir/$(basename "$prog").$$.${EPOCHREALTIME/./}"
printf '%q ' "$prog" "$@" >"$base.cmd"
printf '\n' >>"$base.cmd"
exec "${MP_VALGRIND_BIN:-valgrind}" --tool=memcheck -q \
  --error-exitcode=97 \
  --leak-check=full --show-leak-kinds=definite,indirect \
  --errors-for-leak-kinds=definite,indirect \
  --track-fds=no --num-callers=30 \
  ${MP_VALGRIND_OPTS:-} \
  --log-file="$base.log" \
  "$prog" "$@"
