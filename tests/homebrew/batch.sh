#!/usr/bin/env bash
# (c) inject over a directory of mixed files: two with room, one without
# (32-byte head gap), a text file, an already injected one. Exact output,
# summary and exit code (7, the no-room refusal); first failure's code;
# -q; directories without -r; symlinks in the walk; the progress line on a
# terminal.
. "$MP_SRC/tests/homebrew/common.sh"
d="$(mkdir -p "$MP_WORK/mixed" && cd "$MP_WORK/mixed" && pwd -P)"
cp "$MP_FIXTURES/hello-arm64-headerpad" "$d/a-arm64"
cp "$MP_FIXTURES/hello-x86_64-headerpad" "$d/b-x86_64"
cp "$MP_FIXTURES/hello-arm64" "$d/c-noroom"
printf 'not a program\n' >"$d/d-notes.txt"
cp "$MP_FIXTURES/hello-arm64-headerpad" "$d/e-done"
assert_exit 0 "inject e-done beforehand" -- "$mp" inject -q "$d/e-done"
before_noroom="$(sha "$d/c-noroom")"
before_txt="$(sha "$d/d-notes.txt")"
before_done="$(sha "$d/e-done")"
noroom="$d/c-noroom: slice 0 (arm64): not enough room in __TEXT: the section header needs 80 bytes after the load commands and the plist 502 bytes, but the head gap has 32 and the tail slack 14336; relink with -Wl,-sectcreate,__TEXT,__info_plist,Info.plist (best) or -Wl,-headerpad,0x1000; or retry with --make-room (frees 16 bytes of unused load commands)"

assert_exit 7 "inject -r mixed directory" -- "$mp" inject -r "$d"
assert_eq "$d/a-arm64: embedded Info.plist (499 bytes, identifier org.machoplist.a-arm64) in 1 slice; signed ad hoc
$d/b-x86_64: embedded Info.plist (502 bytes, identifier org.machoplist.b-x86-64) in 1 slice; signed ad hoc
$d/e-done: already up to date; nothing changed
  next: macOS asks once per program for local network access, when it first connects; check with 'machoplist verify FILE...'
2 injected, 1 already up to date, 1 refused
  refused: $noroom" "$MP_OUT" "batch stdout"
assert_eq "machoplist: $noroom
machoplist: note: $d/d-notes.txt: not a Mach-O file (magic 6e6f7420); skipped" "$MP_ERR" "batch stderr"
assert_eq "$before_noroom" "$(sha "$d/c-noroom")" "refused file untouched"
assert_eq "$before_txt" "$(sha "$d/d-notes.txt")" "text file untouched"
assert_eq "$before_done" "$(sha "$d/e-done")" "up-to-date file untouched"
for f in a-arm64 b-x86_64; do
  assert_exit 0 "verify $f" -- "$mp" verify "$d/$f"
done
ls -a "$d" | grep -q machoplist- && mp_fail "temporary file left behind" || mp_ok

# Again: everything that could be done is done.
assert_exit 7 "second batch" -- "$mp" inject -r "$d"
assert_eq "$d/a-arm64: already up to date; nothing changed
$d/b-x86_64: already up to date; nothing changed
$d/e-done: already up to date; nothing changed
0 injected, 3 already up to date, 1 refused
  refused: $noroom" "$MP_OUT" "second batch stdout"

# -q: only the refusal, on stderr.
assert_exit 7 "-q batch" -- "$mp" inject -q -r "$d"
assert_eq "" "$MP_OUT" "-q stdout"
assert_eq "machoplist: $noroom" "$MP_ERR" "-q stderr"

# Files named explicitly: a text file is refused (4), not skipped; the exit
# code is the first failure's.
assert_exit 7 "no room first" -- "$mp" inject "$d/c-noroom" "$d/d-notes.txt" "$d/a-arm64"
assert_eq "$d/a-arm64: already up to date; nothing changed
0 injected, 1 already up to date, 2 refused
  refused: $noroom
  refused: $d/d-notes.txt: not a Mach-O file (magic 6e6f7420)" "$MP_OUT" "explicit files stdout"
assert_exit 4 "not Mach-O first" -- "$mp" inject "$d/d-notes.txt" "$d/c-noroom"

# A directory without -r is refused with a hint (exit 3).
assert_exit 3 "directory without -r" -- "$mp" inject "$d"
assert_eq "machoplist: $d: is a directory; use --recursive (-r) for the Mach-O executables under it" "$MP_ERR" "directory message"

# The walk: dylibs and bundles are not executables; a symlink to a directory
# outside the tree is not followed; one inside is not walked twice; symlinks
# to files are; the same file twice is done once; --backup copies are skipped.
t="$(mkdir -p "$MP_WORK/tree/sub" "$MP_WORK/outside" && cd "$MP_WORK/tree" && pwd -P)"
o="$(cd "$MP_WORK/outside" && pwd -P)"
cp "$MP_FIXTURES/hello-arm64-headerpad" "$t/sub/prog"
cp "$MP_FIXTURES/libfixture-arm64.dylib" "$t/sub/libfixture.dylib"
cp "$MP_FIXTURES/fixture-arm64.bundle" "$t/plugin.bundle"
cp "$MP_FIXTURES/hello-arm64-headerpad" "$o/elsewhere"
cp "$MP_FIXTURES/hello-arm64-headerpad" "$o/linked"
ln -s ../outside "$t/out-link"
ln -s sub "$t/sub-link"
ln -s ../outside/linked "$t/file-link"
ln -s missing "$t/dangling"
cp "$MP_FIXTURES/hello-arm64-headerpad" "$t/sub/prog.bak"
assert_exit 0 "walk" -- "$mp" inject -r "$t"
assert_eq "$t/file-link: embedded Info.plist (496 bytes, identifier org.machoplist.linked) in 1 slice; signed ad hoc
$t/sub/prog: embedded Info.plist (490 bytes, identifier org.machoplist.prog) in 1 slice; signed ad hoc
  next: macOS asks once per program for local network access, when it first connects; check with 'machoplist verify FILE...'
2 injected, 0 already up to date, 0 refused" "$MP_OUT" "walk stdout"
assert_eq "machoplist: note: $t/dangling: dangling symbolic link; skipped
machoplist: note: $t/out-link: symbolic link to a directory outside $t; not followed
machoplist: note: $t/plugin.bundle: Mach-O bundle, not an executable; skipped
machoplist: note: $t/sub/libfixture.dylib: Mach-O dylib, not an executable; skipped
machoplist: note: $t/sub/prog.bak: a --backup copy; skipped" "$MP_ERR" "walk notes"
assert_exit 1 "outside file untouched" -- "$mp" show --plist "$o/elsewhere"
assert_exit 0 "same file twice" -- "$mp" inject "$t/sub/prog" "$t/sub-link/prog"
assert_eq "$t/sub/prog: already up to date; nothing changed" "$MP_OUT" "same file done once"
assert_eq "machoplist: note: $t/sub-link/prog: the same file is listed already; skipped" "$MP_ERR" "same file note"

# On a terminal, a progress line on stderr, cleared at the end.
python3 - "$mp" "$d" >"$MP_WORK/pty.txt" <<'PY'
import fcntl, os, pty, struct, subprocess, sys, termios
master, slave = pty.openpty()
# A wide terminal, so the progress line shows the whole path whatever the
# checkout's path length (narrower terminals shorten it with "...").
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 1000, 0, 0))
p = subprocess.Popen([sys.argv[1], "inject", "-r", sys.argv[2]], stdout=subprocess.DEVNULL, stderr=slave)
os.close(slave)
data = b""
while True:
    try:
        chunk = os.read(master, 4096)
    except OSError:
        break
    if not chunk:
        break
    data += chunk
p.wait()
print(p.returncode)
print(repr(data))
PY
assert_eq "7" "$(head -n 1 "$MP_WORK/pty.txt")" "exit code on a terminal"
assert_contains "$(tail -n 1 "$MP_WORK/pty.txt")" "machoplist: [0/5] $d/a-arm64" "progress line"
assert_contains "$(tail -n 1 "$MP_WORK/pty.txt")" "\\r\\x1b[K'" "progress cleared at the end"
mp_done
