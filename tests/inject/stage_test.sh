#!/usr/bin/env bash
# The plan and apply stages of inject, without signing (inject_nosign), on
# every fixture layout: placement, ordinal renumbering, refusal messages,
# --make-room, replacement in place / moved, and removal.
. "$MP_SRC/tests/lib.sh"
need_fixtures
mp_workdir
tool="$MP_INJECT_NOSIGN"
check="$MP_SRC/tests/inject/check_inject.py"
plist="$MP_SRC/fixtures/Info.plist"

# Fixtures with room: the result passes the independent checker.
for f in hello-arm64-headerpad hello-x86_64-headerpad hello-arm64-headerpad-max hello-arm64-debug \
         hello-x86_64-old hello-universal hello-go-arm64 hello-go-x86_64; do
  [ -f "$MP_FIXTURES/$f" ] || { echo "note: $f not built, skipped"; continue; }
  assert_exit 0 "inject $f" -- "$tool" "$plist" "$MP_FIXTURES/$f" "$MP_WORK/$f"
  out="$(python3 "$check" "$MP_FIXTURES/$f" "$MP_WORK/$f" "$plist" 2>&1)"
  assert_eq "" "$out" "independent check of $f"
done

# Placement: tail slack is preferred (keeps the head gap for install_name_tool).
assert_exit 0 "dry run" -- "$tool" --dry-run "$plist" "$MP_FIXTURES/hello-arm64-headerpad" "$MP_WORK/unused"
assert_contains "$MP_OUT" "(tail slack)" "placement"
assert_contains "$MP_OUT" "head gap 4096 -> 4016 bytes" "head gap after the 80-byte header"
[ ! -e "$MP_WORK/unused" ] && mp_ok || mp_fail "dry run wrote a file"

# 32-byte head gap (ld64.lld default): exact refusal, file untouched.
sum="$(sha256sum < "$MP_FIXTURES/hello-arm64")"
assert_exit 7 "no room" -- "$tool" "$plist" "$MP_FIXTURES/hello-arm64" "$MP_WORK/x"
assert_eq "$MP_FIXTURES/hello-arm64: slice 0 (arm64): not enough room in __TEXT: the section header needs 80 bytes after the load commands and the plist 523 bytes, but the head gap has 32 and the tail slack 14336; relink with -Wl,-sectcreate,__TEXT,__info_plist,Info.plist (best) or -Wl,-headerpad,0x1000; or retry with --make-room (frees 16 bytes of unused load commands)" "$MP_ERR" "no-room message"
assert_exit 7 "no room even with --make-room" -- "$tool" --make-room "$plist" "$MP_FIXTURES/hello-arm64" "$MP_WORK/x"
assert_contains "$MP_ERR" "--make-room freed 16 bytes, not enough" "make-room shortfall"
assert_eq "$sum" "$(sha256sum < "$MP_FIXTURES/hello-arm64")" "input unchanged"
[ ! -e "$MP_WORK/x" ] && mp_ok || mp_fail "refused inject wrote output"

# 64-byte head gap: refused, then succeeds with --make-room dropping an empty LC_DATA_IN_CODE.
assert_exit 7 "64-byte gap refused" -- "$tool" "$plist" "$MP_FIXTURES/hello-arm64-headerpad64" "$MP_WORK/x"
assert_exit 0 "64-byte gap with --make-room" -- "$tool" --make-room "$plist" "$MP_FIXTURES/hello-arm64-headerpad64" "$MP_WORK/hp64"
assert_contains "$MP_OUT" "dropped unused load command 14 (LC_DATA_IN_CODE), reclaimed by --make-room" "dropped command named"
assert_eq "" "$(python3 "$check" "$MP_FIXTURES/hello-arm64-headerpad64" "$MP_WORK/hp64" "$plist" 2>&1)" "make-room result"

# Replacing: the same bytes change nothing; smaller bytes go in place; larger bytes are grown or moved.
assert_exit 0 "same plist" -- "$tool" "$plist" "$MP_FIXTURES/hello-arm64-plist" "$MP_WORK/same"
assert_contains "$MP_OUT" "already holds these 523 bytes; no change" "unchanged message"
cmp -s "$MP_FIXTURES/hello-arm64-plist" "$MP_WORK/same" && mp_ok || mp_fail "unchanged inject altered bytes"

small="$MP_WORK/small.plist"
printf '<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><dict><key>CFBundleIdentifier</key><string>a.b</string></dict></plist>\n' > "$small"
assert_exit 0 "smaller plist" -- "$tool" "$small" "$MP_FIXTURES/hello-arm64-plist" "$MP_WORK/smaller"
assert_contains "$MP_OUT" "(in place)" "in place"
assert_eq "" "$(python3 "$check" "$MP_FIXTURES/hello-arm64-plist" "$MP_WORK/smaller" "$small" 2>&1)" "smaller result"

big="$MP_WORK/big.plist"
python3 - "$big" <<'PY'
import sys
keys = "".join("<key>K%04d</key><string>%s</string>" % (i, "v" * 40) for i in range(60))
open(sys.argv[1], "w").write('<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><dict>'
    '<key>CFBundleIdentifier</key><string>org.example.big</string>' + keys + '</dict></plist>\n')
PY
assert_exit 0 "larger plist" -- "$tool" "$big" "$MP_FIXTURES/hello-arm64-plist" "$MP_WORK/larger"
assert_eq "" "$(python3 "$check" "$MP_FIXTURES/hello-arm64-plist" "$MP_WORK/larger" "$big" 2>&1)" "larger result"

# Removing restores the other sections and symbols exactly.
assert_exit 0 "remove" -- "$tool" --remove - "$MP_FIXTURES/hello-arm64-plist" "$MP_WORK/removed"
assert_eq "" "$(python3 "$check" "$MP_FIXTURES/hello-arm64-plist" "$MP_WORK/removed" --removed 2>&1)" "remove result"

# Bad plists are refused with the reason.
printf '<plist version="1.0"><array/></plist>' > "$MP_WORK/array.plist"
assert_exit 8 "array plist" -- "$tool" "$MP_WORK/array.plist" "$MP_FIXTURES/hello-arm64-headerpad" "$MP_WORK/x"
assert_eq "$MP_FIXTURES/hello-arm64-headerpad: XML plist is not a dictionary" "$MP_ERR" "array plist message"
printf '<plist version="1.0"><dict><key>CFBundleName</key><string>x</string></dict></plist>' > "$MP_WORK/noid.plist"
assert_exit 8 "plist without identifier" -- "$tool" "$MP_WORK/noid.plist" "$MP_FIXTURES/hello-arm64-headerpad" "$MP_WORK/x"
assert_eq "$MP_FIXTURES/hello-arm64-headerpad: plist has no CFBundleIdentifier string (macOS needs it to name the program)" "$MP_ERR" "no identifier message"
printf 'hello' > "$MP_WORK/junk.plist"
assert_exit 8 "junk plist" -- "$tool" "$MP_WORK/junk.plist" "$MP_FIXTURES/hello-arm64-headerpad" "$MP_WORK/x"
assert_eq "$MP_FIXTURES/hello-arm64-headerpad: not a plist (neither XML, binary nor JSON)" "$MP_ERR" "junk plist message"
# Regression (found by fuzz_inject): a relocation table pointing into the
# header made ordinal renumbering rewrite the header. Such files are refused.
python3 - "$MP_FIXTURES/hello-arm64-headerpad" "$MP_WORK/reloc-in-header" <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
off = 32
for _ in range(struct.unpack_from("<I", d, 16)[0]):
    cmd, size = struct.unpack_from("<II", d, off)
    if cmd == 0x19 and d[off + 8:off + 14] == b"__TEXT":
        struct.pack_into("<II", d, off + 72 + 56, 0, 1)  # first section: reloff 0, nreloc 1
        break
    off += size
open(sys.argv[2], "wb").write(d)
PY
assert_exit 5 "relocations in the header" -- "$tool" "$plist" "$MP_WORK/reloc-in-header" "$MP_WORK/x"
assert_eq "$MP_WORK/reloc-in-header: slice 0 (arm64): load command 1 at offset 0x68: relocations at 0: inside the header and load commands (which end at 0x5c8)" "$MP_ERR" "relocations-in-header message"
[ ! -e "$MP_WORK/x" ] && mp_ok || mp_fail "refused input produced output"
mp_done
