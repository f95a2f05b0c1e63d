#!/usr/bin/env bash
# (a) `machoplist inject PREFIX/bin/tmux`, nothing else: the Homebrew symlink is
# followed and kept, the documented default keys are embedded with exact
# values, verify passes with 6 entries, a second run changes no byte.
. "$MP_SRC/tests/homebrew/common.sh"
p="$(mkdir -p "$MP_WORK/prefix" && cd "$MP_WORK/prefix" && pwd -P)"
make_prefix "$p"
keg_bin="$p/Cellar/tmux/3.5a/bin/tmux"
link_before="$(readlink "$p/bin/tmux")"
fixture_sum="$(sha "$MP_FIXTURES/hello-arm64-headerpad")"
mode_before="$(stat -c %a "$keg_bin")"

assert_exit 0 "inject bin/tmux" -- "$mp" inject "$p/bin/tmux"
assert_eq "$p/bin/tmux: embedded Info.plist (596 bytes, identifier sh.brew.tmux) in 1 slice; signed ad hoc
  next: a running tmux server still runs the old binary; end it with 'tmux kill-server' and start tmux again
  next: macOS asks once for local network access when the program first connects; check with 'machoplist verify $p/bin/tmux'" \
  "$MP_OUT" "inject output"
assert_eq "" "$MP_ERR" "inject stderr"
assert_contains "$MP_OUT" "tmux kill-server" "tmux next-step hint"

[ -L "$p/bin/tmux" ] && mp_ok || mp_fail "bin/tmux is no longer a symlink"
assert_eq "$link_before" "$(readlink "$p/bin/tmux")" "symlink target unchanged"
[ -L "$p/opt/tmux" ] && mp_ok || mp_fail "opt/tmux is no longer a symlink"
[ "$(sha "$keg_bin")" != "$fixture_sum" ] && mp_ok || mp_fail "the keg's binary was not changed"
assert_eq "$mode_before" "$(stat -c %a "$keg_bin")" "mode kept"
ls -a "$p/Cellar/tmux/3.5a/bin" "$p/bin" | grep -q machoplist- && mp_fail "temporary file left behind" || mp_ok

# The documented keys, exact values (parsed with plistlib).
assert_eq '{"CFBundleIdentifier": "sh.brew.tmux", "CFBundleInfoDictionaryVersion": "6.0", "CFBundleName": "tmux", "CFBundleShortVersionString": "3.5a", "CFBundleVersion": "3.5a", "NSLocalNetworkUsageDescription": "tmux connects to servers and devices on your local network."}' \
  "$(plist_json "$p/bin/tmux")" "embedded plist"
usage="$("$mp" show --plist "$p/bin/tmux" | python3 -c 'import plistlib, sys; d = plistlib.loads(sys.stdin.buffer.read()); print(len(d), bool(d.get("NSLocalNetworkUsageDescription")))')"
assert_eq "6 True" "$usage" "six keys, NSLocalNetworkUsageDescription present and not empty"

assert_exit 0 "verify" -- "$mp" verify "$p/bin/tmux"
assert_eq "Info.plist entries=6" "$(grep '^Info.plist' <<<"$MP_OUT")" "verify: Info.plist entries"
assert_eq "Identifier=sh.brew.tmux" "$(grep '^Identifier=' <<<"$MP_OUT")" "verify: identifier"
assert_eq "$p/bin/tmux: valid, Info.plist bound" "$(tail -n 1 <<<"$MP_OUT")" "verify verdict"

# Idempotent: the second run changes no byte and says so.
sum="$(sha "$keg_bin")"
mtime="$(stat -c %Y.%i "$keg_bin")"
assert_exit 0 "second inject" -- "$mp" inject "$p/bin/tmux"
assert_eq "$p/bin/tmux: already up to date; nothing changed" "$MP_OUT" "second inject output"
assert_eq "" "$MP_ERR" "second inject stderr"
assert_eq "$sum" "$(sha "$keg_bin")" "second inject changed no byte"
assert_eq "$mtime" "$(stat -c %Y.%i "$keg_bin")" "second inject did not rewrite the file"

# The opt path and the Cellar path name the same file: also up to date.
assert_exit 0 "inject through opt/" -- "$mp" inject "$p/opt/tmux/bin/tmux"
assert_eq "$p/opt/tmux/bin/tmux: already up to date; nothing changed" "$MP_OUT" "opt path up to date"

# A Homebrew revision (1.4.0_2) is not part of the short version; a program
# named unlike its formula gets sh.brew.FORMULA.PROGRAM.
assert_exit 0 "inject mosh-server" -- "$mp" inject -q "$p/bin/mosh-server"
assert_eq "" "$MP_OUT" "-q prints nothing"
assert_eq '{"CFBundleIdentifier": "sh.brew.mosh.mosh-server", "CFBundleInfoDictionaryVersion": "6.0", "CFBundleName": "mosh-server", "CFBundleShortVersionString": "1.4.0", "CFBundleVersion": "1.4.0_2", "NSLocalNetworkUsageDescription": "mosh-server connects to servers and devices on your local network."}' \
  "$(plist_json "$p/bin/mosh-server")" "mosh-server plist"
mp_done
