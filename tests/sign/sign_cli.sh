#!/usr/bin/env bash
# machoplist sign from the command line: Developer ID needs --force (exact
# messages), entitlements and runtime kept byte for byte, options, errors.
. "$MP_SRC/tests/lib.sh"
need_fixtures
mp_workdir
W="$MP_WORK"
PY="python3 $MP_SRC/tests/sign/sigfacts.py"

# --- options and usage errors -------------------------------------------
cp "$MP_FIXTURES/hello-arm64" "$W/hello-arm64"
assert_exit 2 "bad page size" -- "$MP_CLI" sign --page-size 1000 "$W/hello-arm64"
assert_eq "machoplist: page size 1000 is not a power of two from 4096 to 65536" "$MP_ERR" "bad page size message"
assert_exit 2 "bad hash" -- "$MP_CLI" sign --hash md5 "$W/hello-arm64"
assert_eq "machoplist: sign: --hash wants sha256 or sha1,sha256, got 'md5'" "$MP_ERR" "bad hash message"
assert_exit 2 "-o with two files" -- "$MP_CLI" sign -o "$W/x" "$W/hello-arm64" "$W/hello-arm64"
assert_eq "machoplist: sign: -o takes exactly one input file" "$MP_ERR" "-o message"
assert_exit 2 "no file" -- "$MP_CLI" sign --force
assert_exit 3 "missing file" -- "$MP_CLI" sign "$W/nope"
assert_exit 4 "not Mach-O" -- "$MP_CLI" sign "$MP_SRC/tests/lib.sh"

# --- defaults: identifier from the file name + LC_UUID, page size, hashes --
chmod 751 "$W/hello-arm64"
assert_exit 0 "sign in place" -- "$MP_CLI" sign "$W/hello-arm64"
want_id="$($PY ident "$MP_FIXTURES/hello-arm64" "$W/hello-arm64")"
assert_contains "$want_id" "hello-arm64-55554944" "identifier is name-55554944<uuid>"
assert_eq "$W/hello-arm64: signed ad hoc, Identifier=$want_id (arm64)" "$MP_OUT" "sign output line"
assert_eq "751" "$(stat -c %a "$W/hello-arm64")" "mode kept when signing in place"
assert_eq "$want_id 0x20400 0x2 16384 sha256 2" "$($PY cd "$W/hello-arm64" 0)" "CodeDirectory facts"

# explicit identifier, SHA-1 + SHA-256, 4096-byte pages
cp "$MP_FIXTURES/hello-arm64" "$W/h2"
assert_exit 0 "sign with options" -- "$MP_CLI" sign --identifier org.example.h2 --hash sha1,sha256 --page-size 4096 -j 3 "$W/h2"
assert_eq "org.example.h2 0x20400 0x2 4096 sha1,sha256 2" "$($PY cd "$W/h2" 0)" "explicit options"
# --threads (as inject spells it) and -j are the same option; neither changes a byte.
cp "$MP_FIXTURES/hello-arm64" "$W/t1"
cp "$MP_FIXTURES/hello-arm64" "$W/t2"
assert_exit 0 "sign --threads" -- "$MP_CLI" sign --identifier org.example.t --threads 1 "$W/t1"
assert_exit 0 "sign -j" -- "$MP_CLI" sign --identifier org.example.t -j 4 "$W/t2"
cmp -s "$W/t1" "$W/t2" && mp_ok || mp_fail "sign --threads 1 and -j 4 give different bytes"
assert_exit 2 "sign --threads x" -- "$MP_CLI" sign --threads x "$W/t1"
assert_eq "machoplist: sign: --threads wants a number, got 'x'" "$MP_ERR" "bad --threads message"

# old deployment target: codesign's rule picks SHA-1 + SHA-256 by itself
cp "$MP_FIXTURES/hello-x86_64-old" "$W/old"
assert_exit 0 "sign old target" -- "$MP_CLI" sign "$W/old"
assert_eq "sha1,sha256" "$($PY cd "$W/old" 0 | cut -d' ' -f5)" "agile hashes for macOS 10.9"

# the embedded plist gives the identifier and is bound in slot 1
cp "$MP_FIXTURES/hello-arm64-plist" "$W/plist"
assert_exit 0 "sign plist fixture" -- "$MP_CLI" sign "$W/plist"
assert_eq "org.machoplist.fixture.hello 0x20400 0x2 16384 sha256 2" "$($PY cd "$W/plist" 0)" "identifier from CFBundleIdentifier"
assert_exit 0 "verify plist fixture" -- "$MP_CLI" verify "$W/plist"
assert_contains "$MP_OUT" $'\nInfo.plist entries=4\n' "Info.plist bound"

# --entitlements: blob 5 = the file's bytes, DER generated, execSeg bits
cat > "$W/ents.plist" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>get-task-allow</key>
	<true/>
</dict>
</plist>
XML
cp "$MP_FIXTURES/hello-arm64" "$W/ent"
assert_exit 0 "sign with entitlements" -- "$MP_CLI" sign --entitlements "$W/ents.plist" "$W/ent"
assert_eq "ok 7 0x11 fade717200000024701a020101b01530130c0e6765742d7461736b2d616c6c6f770101ff" \
  "$($PY ents "$W/ent" 0 "$W/ents.plist")" "entitlement blobs, nSpecialSlots 7, execSeg flags"
cp "$MP_FIXTURES/libfixture-arm64.dylib" "$W/lib.dylib"
assert_exit 0 "sign dylib with entitlements" -- "$MP_CLI" sign --entitlements "$W/ents.plist" "$W/lib.dylib"
assert_eq "none 2 0x0" "$($PY ents "$W/lib.dylib" 0 "$W/ents.plist")" "no entitlements in a dylib"
echo '<plist><array/></plist>' > "$W/bad.plist"
assert_exit 8 "entitlements not a dict" -- "$MP_CLI" sign --entitlements "$W/bad.plist" "$W/ent"
assert_eq "machoplist: entitlements are not a plist dictionary" "$MP_ERR" "bad entitlements message"

# --- no room for LC_CODE_SIGNATURE ----------------------------------------
python3 - "$MP_FIXTURES/hello-x86_64" "$W/full" "$MP_SRC/tests/tools" <<'PYEOF'
import struct, sys
sys.path.insert(0, sys.argv[3])
import macho
d = bytearray(open(sys.argv[1], "rb").read())
sl = macho.Slice(bytes(d))
ncmds, size = struct.unpack_from("<II", d, 16)
end = 32 + size
first = min(s.offset for s in sl.sections if s.in_file())
pad = first - end - 8                             # leave 8 bytes of head room
assert pad > 0 and pad % 8 == 0 and d[end:end + pad] == b"\0" * pad
struct.pack_into("<II", d, end, 0x7ffe, pad)      # an unknown command
struct.pack_into("<II", d, 16, ncmds + 1, size + pad)
open(sys.argv[2], "wb").write(d)
PYEOF
cp "$W/full" "$W/full.orig"
assert_exit 7 "no room" -- "$MP_CLI" sign "$W/full"
assert_contains "$MP_ERR" "$W/full: slice 0 (x86_64): LC_CODE_SIGNATURE needs 16 bytes after the load commands" "no-room message"
assert_contains "$MP_ERR" ", 8 available before the first section at " "no-room available bytes"
assert_eq "same" "$(cmp -s "$W/full" "$W/full.orig" && echo same)" "file untouched after no-room"

# --- Developer ID: --force required, entitlements and runtime kept -------
if [ -f "$MP_NPM/MANIFEST" ]; then
  S="$W/sentry-cli"
  cp "$MP_NPM/sentry-cli-darwin-universal" "$S"
  assert_exit 9 "Developer ID without --force" -- "$MP_CLI" sign "$S"
  assert_eq "machoplist: $S: has a Developer ID signature (team 97JCY7859U); an ad-hoc signature drops that identity (pass --force to sign anyway)" "$MP_ERR" "refusal message"
  assert_eq "same" "$(cmp -s "$S" "$MP_NPM/sentry-cli-darwin-universal" && echo same)" "file untouched without --force"
  assert_exit 0 "Developer ID with --force" -- "$MP_CLI" sign --force "$S"
  assert_eq "machoplist: warning: $S: replacing the Developer ID signature of team 97JCY7859U with an ad-hoc one" "$MP_ERR" "warning line"
  want_id="$($PY ident "$MP_NPM/sentry-cli-darwin-universal" "$S")"
  assert_eq "$S: signed ad hoc, Identifier=$want_id (x86_64 arm64)" "$MP_OUT" "sentry output line"
  for i in 0 1; do
    assert_eq "$($PY slots "$MP_NPM/sentry-cli-darwin-universal" $i 5 7)" "$($PY slots "$S" $i 5 7)" "slice $i: slot 5/7 hashes unchanged"
    assert_eq "0x10002 0x1a0500 0x1" "$($PY rt "$S" $i)" "slice $i: flags, runtime version 26.5, execSeg flags"
  done
  assert_exit 0 "verify re-signed sentry" -- "$MP_CLI" verify --allow-unbound "$S"
  assert_contains "$MP_OUT" $'Runtime Version=26.5.0\n' "runtime version shown"
  assert_contains "$MP_OUT" "flags=0x10002(adhoc,runtime) hashes=825+7 location=embedded" "arm64 CodeDirectory line (16 KiB pages)"
  # signing again needs no --force: the identity is already gone
  assert_exit 0 "re-sign ad hoc sentry" -- "$MP_CLI" sign "$S"
  assert_eq "" "$MP_ERR" "no warning the second time"
fi
mp_done
