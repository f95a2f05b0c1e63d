#!/usr/bin/env bash
# show --plist prints the raw __TEXT,__info_plist bytes, exactly the file that
# was linked in with -sectcreate; without the section it exits 1 and says so.
# show and show --json describe the same section (size, format, entries).
. "$MP_SRC/tests/lib.sh"
mp_workdir
need_fixtures
has_fixture() { cut -f1 "$MP_FIXTURES/MANIFEST" | grep -qx "$1"; }
has_fixture hello-arm64-plist || mp_skip "fixture hello-arm64-plist not built"

cli=$MP_CLI
plist_src=$MP_SRC/fixtures/Info.plist
f=$MP_FIXTURES/hello-arm64-plist
size=$(wc -c <"$plist_src")
entries=$(python3 -c 'import plistlib,sys; print(len(plistlib.load(open(sys.argv[1],"rb"))))' "$plist_src")

# The exact bytes, byte for byte (cmp), and nothing on stderr.
"$cli" show --plist "$f" >"$MP_WORK/out" 2>"$MP_WORK/err"
assert_eq 0 "$?" "show --plist exit status"
if cmp -s "$plist_src" "$MP_WORK/out"; then mp_ok; else mp_fail "show --plist output differs from fixtures/Info.plist: $(cmp "$plist_src" "$MP_WORK/out" 2>&1)"; fi
assert_eq "" "$(cat "$MP_WORK/err")" "show --plist stderr"
"$cli" show --plist --arch arm64 "$f" >"$MP_WORK/out2" 2>/dev/null
assert_eq 0 "$?" "show --plist --arch arm64 exit status"
if cmp -s "$plist_src" "$MP_WORK/out2"; then mp_ok; else mp_fail "show --plist --arch arm64 output differs from fixtures/Info.plist"; fi

# The section the bytes came from: __TEXT,__info_plist with exactly that size,
# flags 0 and align 0 (what ld -sectcreate writes), per machoplist and otool.
json=$("$cli" show --json "$f")
got=$(printf '%s' "$json" | python3 -c '
import json, sys
s = json.load(sys.stdin)["slices"][0]
sec = [x for g in s["segments"] if g["name"] == "__TEXT" for x in g["sections"] if x["name"] == "__info_plist"]
p = s["info_plist"]
print(len(sec), sec[0]["size"], sec[0]["flags"], sec[0]["align"], p["size"], p["format"], p["entries"])')
assert_eq "1 $size 0 0 $size xml $entries" "$got" "show --json __info_plist section and summary"
otool=$(find_tool llvm-otool)
if [ -n "$otool" ]; then
  osize=$("$otool" -l "$f" | awk '$1=="sectname"{s=$2} s=="__info_plist" && $1=="size"{print $2; exit}')
  assert_eq "$size" "$((osize))" "llvm-otool's __info_plist size"
fi
text=$("$cli" show "$f")
assert_contains "$text" "  __TEXT,__info_plist: $size bytes, xml, $entries entries" "show text summary line"
assert_contains "$text" "<string>org.machoplist.fixture.hello</string>" "show text prints the plist"

# No such section: exit 1, one exact line on stderr, nothing on stdout.
for name in hello-arm64 hello-universal; do
  has_fixture "$name" || { echo "note: fixture $name not built, case skipped"; continue; }
  g=$MP_FIXTURES/$name
  arch=$("$cli" show --json "$g" | python3 -c 'import json,sys; print(json.load(sys.stdin)["slices"][0]["arch"])')
  assert_exit 1 "show --plist $name" -- "$cli" show --plist "$g"
  assert_eq "machoplist: $g: slice 0 ($arch): no __TEXT,__info_plist section" "$MP_ERR" "show --plist $name message"
  assert_eq "" "$MP_OUT" "show --plist $name stdout"
  json=$("$cli" show --json "$g")
  assert_eq "None" "$(printf '%s' "$json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["slices"][0]["info_plist"])')" "$name: JSON info_plist is null"
done

# A slice that is not there: usage error naming the architecture.
assert_exit 2 "show --plist --arch x86_64 on an arm64 file" -- "$cli" show --plist --arch x86_64 "$f"
assert_eq "machoplist: $f: no slice for architecture x86_64" "$MP_ERR" "--arch mismatch message"
assert_eq "" "$MP_OUT" "--arch mismatch stdout"

mp_done
