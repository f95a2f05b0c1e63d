#!/usr/bin/env bash
# inject through the CLI: -sectcreate equivalence, exact refusals, --make-room,
# --dry-run, -o, --backup, encrypted binaries, remove.
. "$MP_SRC/tests/lib.sh"
need_fixtures
mp_workdir
mp="$MP_CLI"
plist="$MP_SRC/fixtures/Info.plist"
w="$MP_WORK"

# A program linked with -sectcreate __TEXT __info_plist and the same program
# injected after linking carry the same bytes and the same signing identifier.
cp "$MP_FIXTURES/hello-arm64-plist" "$w/linked"
cp "$MP_FIXTURES/hello-arm64-headerpad" "$w/injected"
assert_exit 0 "sign the -sectcreate build" -- "$mp" sign "$w/linked"
assert_exit 0 "inject" -- "$mp" inject -q --plist "$plist" "$w/injected"
assert_exit 0 "show --plist linked" -- "$mp" show --plist "$w/linked"
linked_plist="$MP_OUT"
assert_exit 0 "show --plist injected" -- "$mp" show --plist "$w/injected"
assert_eq "$linked_plist" "$MP_OUT" "same plist bytes"
assert_eq "$(cat "$plist")" "$MP_OUT" "plist bytes are the file's"
assert_exit 0 "verify linked" -- "$mp" verify "$w/linked"
id_linked="$(grep '^Identifier=' <<<"$MP_OUT")"
assert_exit 0 "verify injected" -- "$mp" verify "$w/injected"
assert_eq "$id_linked" "$(grep '^Identifier=' <<<"$MP_OUT")" "same signing identifier"
assert_eq "Identifier=org.machoplist.fixture.hello" "$id_linked" "identifier from CFBundleIdentifier"

# 32-byte head gap (ld64.lld's default): exact message, exit 7, file untouched.
cp "$MP_FIXTURES/hello-arm64" "$w/small"
sum="$(sha256sum < "$w/small")"
assert_exit 7 "no room" -- "$mp" inject --plist "$plist" "$w/small"
assert_eq "machoplist: $w/small: slice 0 (arm64): not enough room in __TEXT: the section header needs 80 bytes after the load commands and the plist 523 bytes, but the head gap has 32 and the tail slack 14336; relink with -Wl,-sectcreate,__TEXT,__info_plist,Info.plist (best) or -Wl,-headerpad,0x1000; or retry with --make-room (frees 16 bytes of unused load commands)" "$MP_ERR" "no-room message"
assert_eq "" "$MP_OUT" "nothing on stdout"
assert_eq "$sum" "$(sha256sum < "$w/small")" "refused file untouched"
assert_exit 7 "no room with --make-room" -- "$mp" inject --make-room --plist "$plist" "$w/small"
assert_contains "$MP_ERR" "; --make-room freed 16 bytes, not enough" "make-room shortfall"
ls -a "$w" | grep -q machoplist- && mp_fail "temporary file left behind" || mp_ok

# --make-room succeeds where reclaiming frees enough (64-byte gap + 16).
cp "$MP_FIXTURES/hello-arm64-headerpad64" "$w/hp64"
assert_exit 7 "64-byte gap" -- "$mp" inject --plist "$plist" "$w/hp64"
assert_exit 0 "--make-room --dry-run" -- "$mp" inject --make-room --dry-run --plist "$plist" "$w/hp64"
assert_contains "$MP_OUT" "dropped unused load command 14 (LC_DATA_IN_CODE), reclaimed by --make-room" "dry run names the dropped command"
assert_eq "$sum" "$(sha256sum < "$w/small")" "dry run wrote nothing"
assert_exit 0 "--make-room" -- "$mp" inject -q --make-room --plist "$plist" "$w/hp64"
assert_exit 0 "verify after --make-room" -- "$mp" verify "$w/hp64"
assert_eq "" "$(python3 "$MP_SRC/tests/inject/check_inject.py" "$MP_FIXTURES/hello-arm64-headerpad64" "$w/hp64" "$plist")" "make-room result"

# --dry-run prints the plan and writes nothing.
cp "$MP_FIXTURES/hello-go-arm64" "$w/go"
sum="$(sha256sum < "$w/go")"
assert_exit 0 "dry run" -- "$mp" inject --dry-run --plist "$plist" "$w/go"
assert_eq "$w/go: dry run, nothing written
slice 0 (arm64): add __TEXT,__info_plist, 523 bytes at file offset 0x85512, address 0x100085512 (tail slack)
  section header: 80 bytes after the load commands, as section #4
  section ordinals: 18 sections renumbered; 379 symbols and 0 relocations updated
  room in __TEXT: head gap 1648 -> 1568 bytes, tail slack 10990 -> 10467 bytes
  then re-signed ad hoc" "$MP_OUT" "dry-run plan"
assert_eq "$sum" "$(sha256sum < "$w/go")" "dry run left the file alone"

# -o writes elsewhere and leaves the input alone; --backup keeps the original.
assert_exit 0 "-o" -- "$mp" inject -q -o "$w/go-out" --plist "$plist" "$w/go"
assert_eq "$sum" "$(sha256sum < "$w/go")" "-o left the input alone"
assert_exit 0 "verify -o output" -- "$mp" verify "$w/go-out"
assert_exit 0 "--backup" -- "$mp" inject --backup --plist "$plist" "$w/go"
assert_contains "$MP_OUT" "original kept as $w/go.bak" "backup named"
assert_eq "$sum" "$(sha256sum < "$w/go.bak")" "backup holds the original"
cmp -s "$w/go" "$w/go-out" && mp_ok || mp_fail "in-place and -o results differ"

# The mode and a symlink are kept.
cp "$MP_FIXTURES/hello-arm64-headerpad" "$w/moded"; chmod 0750 "$w/moded"; ln -s moded "$w/link"
assert_exit 0 "inject through a symlink" -- "$mp" inject -q --plist "$plist" "$w/link"
[ -L "$w/link" ] && mp_ok || mp_fail "symlink replaced by a file"
assert_eq "750" "$(stat -c %a "$w/moded")" "mode kept"

# Encrypted binaries are refused (LC_UUID rewritten as LC_ENCRYPTION_INFO_64, cryptid 1).
python3 - "$MP_FIXTURES/hello-arm64-headerpad" "$w/encrypted" <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
off, n = 32, struct.unpack_from("<I", d, 16)[0]
for _ in range(n):
    cmd, size = struct.unpack_from("<II", d, off)
    if cmd == 0x1b:  # LC_UUID, 24 bytes like LC_ENCRYPTION_INFO_64
        struct.pack_into("<IIIIII", d, off, 0x2c, 24, 0x4000, 0, 1, 0)
        break
    off += size
open(sys.argv[2], "wb").write(d)
PY
assert_exit 6 "encrypted" -- "$mp" inject --plist "$plist" "$w/encrypted"
assert_eq "machoplist: $w/encrypted: slice 0 (arm64): the binary is encrypted (LC_ENCRYPTION_INFO cryptid != 0); editing it would corrupt it" "$MP_ERR" "encrypted message"

# remove takes it out again: the other sections come back as they were.
assert_exit 0 "remove" -- "$mp" remove -q "$w/injected"
assert_exit 1 "no plist after remove" -- "$mp" show --plist "$w/injected"
assert_exit 0 "verify after remove (unbound allowed)" -- "$mp" verify --allow-unbound "$w/injected"
assert_eq "" "$(python3 "$MP_SRC/tests/inject/check_inject.py" "$MP_FIXTURES/hello-arm64-headerpad" "$w/injected" --removed)" "remove result"

# Missing input files and plists: one line, documented codes.
assert_exit 3 "missing binary" -- "$mp" inject --plist "$plist" "$w/nope"
assert_eq "machoplist: $w/nope: cannot open: No such file or directory" "$MP_ERR" "missing binary message"
assert_exit 3 "missing plist" -- "$mp" inject --plist "$w/nope.plist" "$w/go"
assert_eq "machoplist: $w/nope.plist: cannot open plist: No such file or directory" "$MP_ERR" "missing plist message"
assert_exit 2 "no file" -- "$mp" inject --plist "$plist"
mp_done
