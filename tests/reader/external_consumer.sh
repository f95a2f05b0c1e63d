#!/usr/bin/env bash
# usage: external_consumer.sh MESON B_SANITIZE external_consumer.c CC...
#
# A third-party program built against an installed machoplist: `meson
# install --destdir` of this build, then external_consumer.c compiled outside
# meson with only `pkg-config machoplist` (PKG_CONFIG_PATH and
# PKG_CONFIG_SYSROOT_DIR pointing into the destdir), linked shared (run with
# LD_LIBRARY_PATH) and static, and run on fixtures. Its output must match
# what an independent parse of the fixtures (machoview.py) says.
. "$MP_SRC/tests/lib.sh"
mp_workdir
meson=$1 sanitize=$2 src=$3
shift 3
cc=("$@")
[ -n "$meson" ] || mp_skip "meson not found on PATH: cannot run meson install"
command -v pkg-config >/dev/null || mp_skip "pkg-config not installed"
need_fixtures

dest=$MP_WORK/destdir
"$meson" install -C "$MP_BUILD" --no-rebuild --quiet --destdir "$dest" >"$MP_WORK/install.log" 2>&1
assert_eq 0 "$?" "meson install --destdir (log: $(tail -n 3 "$MP_WORK/install.log"))"

pc=$(find "$dest" -name machoplist.pc -path '*/pkgconfig/*' | head -n 1)
[ -n "$pc" ] || { mp_fail "no machoplist.pc installed under $dest"; mp_done; }
export PKG_CONFIG_PATH=$(dirname "$pc")
export PKG_CONFIG_SYSROOT_DIR=$dest
version=$(pkg-config --modversion machoplist)
assert_eq 0 "$?" "pkg-config --modversion machoplist"

# Only the public header is installed, and where Cflags says. (pkgconf
# puts the sysroot in front of --variable values, pkg-config 0.29 does not.)
in_dest() { case $1 in "$dest"/*) echo "$1" ;; *) echo "$dest$1" ;; esac; }
incdir=$(in_dest "$(pkg-config --variable=includedir machoplist)")
libdir=$(in_dest "$(pkg-config --variable=libdir machoplist)")
assert_eq "machoplist.h" "$(cd "$incdir" && ls)" "installed headers in $incdir"
for f in libmachoplist.so libmachoplist.so.0 libmachoplist.a; do
  [ -e "$libdir/$f" ] && mp_ok || mp_fail "$f not installed in $libdir"
done
cflags=$(pkg-config --cflags machoplist)
assert_contains "$cflags" "-I$incdir" "pkg-config --cflags points into the destdir"

# Every function the installed header declares is exported by the shared library.
nm=$(command -v nm || find_tool llvm-nm)
if [ -n "$nm" ]; then
  declared=$(grep -oE '\bmp_[a-z0-9_]+\(' "$incdir/machoplist.h" | tr -d '(' | sort -u)
  exported=$("$nm" -D --defined-only "$libdir/libmachoplist.so" | awk '$2=="T"{print $3}' | sort -u)
  missing=$(comm -23 <(echo "$declared") <(echo "$exported") | tr '\n' ' ')
  assert_eq "" "$missing" "functions declared in machoplist.h but not exported"
  [ "$(echo "$declared" | wc -l)" -ge 10 ] && mp_ok || mp_fail "found only $(echo "$declared" | wc -l) declarations in machoplist.h"
fi

san=()
[ "$sanitize" = none ] || [ -z "$sanitize" ] || san=(-fsanitize="$sanitize" -fno-omit-frame-pointer)
# The valgrind run (-Dvalgrind=true): run the consumers under memcheck.
vg=()
if [ -n "${MP_VALGRIND_RUN:-}" ]; then
  vg=("$MP_VALGRIND_RUN" "$MP_VALGRIND_LOGDIR")
  san=(-g)
fi
strict=(-std=c11 -Wall -Wextra -Werror -pedantic)

# Shared: the pkg-config flags only.
"${cc[@]}" "${strict[@]}" "${san[@]}" -o "$MP_WORK/consumer" "$src" $(pkg-config --cflags --libs machoplist) \
  >"$MP_WORK/cc.log" 2>&1
assert_eq 0 "$?" "compile + link against the installed shared library ($(head -c 2000 "$MP_WORK/cc.log"))"
# Static: the same, with --static, and only libmachoplist.a visible first.
mkdir -p "$MP_WORK/static"
cp "$libdir/libmachoplist.a" "$MP_WORK/static/"
"${cc[@]}" "${strict[@]}" "${san[@]}" -o "$MP_WORK/consumer-static" "$src" $(pkg-config --cflags machoplist) \
  -L"$MP_WORK/static" $(pkg-config --static --libs machoplist) >"$MP_WORK/cc-static.log" 2>&1
assert_eq 0 "$?" "compile + link against the installed static library ($(head -c 2000 "$MP_WORK/cc-static.log"))"

# The header is usable from C++ too (extern "C").
cxx=$(command -v c++ || command -v clang++)
if [ -n "$cxx" ]; then
  printf '#include <machoplist.h>\nint main() { return mp_image_slice_count(nullptr) == 0 ? 0 : 1; }\n' >"$MP_WORK/use.cpp"
  "$cxx" -std=c++11 -Wall -Wextra -Werror -fsyntax-only $cflags "$MP_WORK/use.cpp" 2>"$MP_WORK/cxx.log"
  assert_eq 0 "$?" "machoplist.h compiles as C++ ($(head -c 1000 "$MP_WORK/cxx.log"))"
fi

files=()
for n in hello-universal hello-arm64-plist libfixture-arm64.dylib fixture-arm64.bundle hello-arm64-unsigned; do
  cut -f1 "$MP_FIXTURES/MANIFEST" | grep -qx "$n" && files+=("$MP_FIXTURES/$n")
done
[ ${#files[@]} -gt 0 ] || mp_skip "none of the fixtures this test uses was built"

expected=$(PYTHONDONTWRITEBYTECODE=1 python3 - "$version" "${files[@]}" <<'EOF'
import os, sys
sys.path.insert(0, os.path.join(os.environ["MP_SRC"], "tests", "reader"))
import machoview as mv
v = sys.argv[1]
print("libmachoplist %s, header %s" % (v, v))
ftypes = {2: "execute", 6: "dylib", 8: "bundle"}
for path in sys.argv[2:]:
    data = open(path, "rb").read()
    sl = mv.slices(data)
    print("%s: %s, %d slice%s" % (path, "thin" if mv.fat_arches(data) is None else "universal", len(sl),
                                  "" if len(sl) == 1 else "s"))
    for i, (off, s) in enumerate(sl):
        nsect = sum(g.nsects for g in s.segments)
        ip = [x for g in s.segments for x in g.sections if (x.segname, x.sectname) == ("__TEXT", "__info_plist")]
        cs = s.code_signature()
        if cs is None:
            sig = "none"
        else:
            cd = mv.SuperBlob(s.data, cs[0]).primary
            sig = "%s %s" % (cd.identifier, mv.cs_flags_text(cd.flags))
        print("  slice %d: %s %s, offset 0x%x, %d sections, info_plist %s, signature %s"
              % (i, s.arch, ftypes[s.filetype], off, nsect, "%d bytes" % ip[0].size if ip else "none", sig))
    print("  memory copy: same slices and bytes")
EOF
)

for exe in consumer consumer-static; do
  [ -x "$MP_WORK/$exe" ] || continue
  if [ "$exe" = consumer ]; then
    # The shared library comes from the destdir, not the build tree.
    resolved=$(LD_LIBRARY_PATH="$libdir" ldd "$MP_WORK/$exe" | awk '$1=="libmachoplist.so.0"{print $3}')
    assert_eq "$libdir/libmachoplist.so.0" "$resolved" "libmachoplist.so.0 resolved by the loader"
    run=(env LD_LIBRARY_PATH="$libdir" "${vg[@]}" "$MP_WORK/$exe")
  else
    if LD_LIBRARY_PATH= ldd "$MP_WORK/$exe" | grep -q libmachoplist; then
      mp_fail "consumer-static still needs libmachoplist.so"
    else
      mp_ok
    fi
    run=("${vg[@]}" "$MP_WORK/$exe")
  fi
  assert_exit 0 "$exe on fixtures" -- "${run[@]}" "${files[@]}"
  assert_eq "$expected" "$MP_OUT" "$exe output"
  assert_eq "" "$MP_ERR" "$exe stderr"
  # Errors come back through the API with status and message.
  printf 'hello, world\n' >"$MP_WORK/text"
  assert_exit 4 "$exe on a text file" -- "${run[@]}" "$MP_WORK/text"
  assert_eq "libmachoplist $version, header $version
$MP_WORK/text: error 4 not-macho: $MP_WORK/text: not a Mach-O file (magic 68656c6c)" "$MP_OUT" "$exe error output"
done

mp_done
