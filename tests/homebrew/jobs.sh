#!/usr/bin/env bash
# (e) -j 2 gives the same bytes, the same output and the same exit code as
# -j 1, over every kind of fixture (thin, universal, Go, signed, no room,
# dylib, bundle), each several times.
. "$MP_SRC/tests/homebrew/common.sh"
for j in 1 2; do
  mkdir -p "$MP_WORK/j$j"
  for f in hello-arm64-headerpad hello-x86_64-headerpad hello-universal hello-go-arm64 hello-go-x86_64 \
           hello-x86_64-signed hello-arm64-old hello-x86_64-old hello-arm64-debug hello-arm64-headerpad-max \
           hello-arm64 hello-universal-small libfixture-arm64.dylib fixture-arm64.bundle; do
    for n in 1 2 3; do cp "$MP_FIXTURES/$f" "$MP_WORK/j$j/$f-$n"; done
  done
done
cd "$MP_WORK"
"$mp" inject -r -j 1 j1 >out1 2>err1; rc1=$?
"$mp" inject -r -j 2 j2 >out2 2>err2; rc2=$?
assert_eq 7 "$rc1" "-j 1 exit code (the first refusal: no room in hello-arm64-1)"
assert_eq "$rc1" "$rc2" "-j 2 exit code"
assert_eq "$(sed 's#j1/#jX/#g' out1)" "$(sed 's#j2/#jX/#g' out2)" "same stdout, same order"
assert_eq "$(sed 's#j1/#jX/#g' err1)" "$(sed 's#j2/#jX/#g' err2)" "same stderr, same order"
assert_eq "24 injected, 0 already up to date, 12 refused" "$(grep ' injected, ' out2)" "summary"
same=0 differ=0
for f in j1/*; do
  if cmp -s "$f" "j2/${f#j1/}"; then same=$((same + 1)); else differ=$((differ + 1)); echo "differs: ${f#j1/}" >&2; fi
done
assert_eq "42 0" "$same $differ" "identical bytes for every file"
# -j 0 (one per CPU) and -j4 spelled together work too; a second run is all up to date.
assert_exit 7 "-j 0" -- "$mp" inject -r -j 0 j2
assert_eq "0 injected, 24 already up to date, 12 refused" "$(grep ' injected, ' <<<"$MP_OUT")" "-j 0 second run"
assert_exit 7 "-j4" -- "$mp" inject -q -r -j4 j2
assert_exit 2 "-j x" -- "$mp" inject -j x j2
assert_eq "machoplist: inject: -j takes a number of files to process at once (0: one per CPU) (see 'machoplist help')" "$MP_ERR" "-j usage message"
mp_done
