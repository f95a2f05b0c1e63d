#!/usr/bin/env python3
"""machoplist's reader agrees with two parsers that are not ours.

usage: crosscheck.py TOOLS_DIR LIEF_DUMP_OR_EMPTY

For every fixture, every npm binary and a few synthetic files (a 32-bit i386
executable, a slice with exactly 255 sections), the canonical layout text
(tests/tools/canon_format.txt: slices, segments, sections, __info_plist
bytes) of `machoplist show --json` must be identical to llvm-otool's and to
LIEF's. The LIEF part is skipped, saying so, when lief_dump was not built;
the otool part when llvm-otool is not installed.
"""
import difflib
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, HERE)
import machoview as mv  # noqa: E402

CLI = os.environ["MP_CLI"]
FIXTURES = os.environ["MP_FIXTURES"]
NPM = os.environ["MP_NPM"]
TMP = os.environ.get("MP_TMP", "/tmp")

failures, checks = [], 0


def find_otool():
    for name in ("llvm-otool", "llvm-otool-14", "llvm-otool-15", "llvm-otool-16", "llvm-otool-17", "llvm-otool-18"):
        p = shutil.which(name)
        if p:
            return p
    for d in ("/usr/lib/llvm-14/bin", "/usr/lib/llvm-15/bin", "/usr/lib/llvm-16/bin"):
        if os.access(os.path.join(d, "llvm-otool"), os.X_OK):
            return os.path.join(d, "llvm-otool")
    return None


def manifest(path):
    try:
        with open(path) as f:
            return [l.split("\t", 1)[0] for l in f if l.strip()]
    except OSError:
        return None


def canon(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace").strip()


def i386_file():
    """A 32-bit i386 executable (LC_SEGMENT, 68-byte sections) built by hand:
    __PAGEZERO, __TEXT (__text, __cstring), __DATA (__data, __bss), __LINKEDIT."""
    segs = [
        (b"__PAGEZERO", 0, 0x1000, 0, 0, 0, 0, []),
        (b"__TEXT", 0x1000, 0x1000, 0, 0x1000, 5, 5,
         [(b"__text", 0x1F00, 0x40, 0xF00, 4, 0x80000400), (b"__cstring", 0x1F40, 0x10, 0xF40, 0, 0x2)]),
        (b"__DATA", 0x2000, 0x1000, 0x1000, 0x1000, 3, 3,
         [(b"__data", 0x2000, 0x20, 0x1000, 2, 0), (b"__bss", 0x2020, 0x100, 0, 2, 0x1)]),
        (b"__LINKEDIT", 0x3000, 0x1000, 0x2000, 0x10, 1, 1, []),
    ]
    cmds = b""
    for name, vmaddr, vmsize, fileoff, filesize, maxprot, initprot, sects in segs:
        body = b"".join(struct.pack("<16s16s9I", sn, name, addr, size, off, align, 0, 0, flags, 0, 0)
                        for sn, addr, size, off, align, flags in sects)
        cmds += struct.pack("<II16s8I", 0x1, 56 + len(body), name, vmaddr, vmsize, fileoff, filesize, maxprot,
                            initprot, len(sects), 0) + body
    header = struct.pack("<7I", mv.MH_MAGIC, 7, 3, 2, len(segs), len(cmds), 0)
    out = bytearray(0x2010)
    out[:len(header) + len(cmds)] = header + cmds
    out[0xF00:0xF40] = b"\x90" * 0x40
    out[0xF40:0xF50] = b"hello, i386\n\0\0\0\0"
    return bytes(out)


def sections_255():
    """arm64 slice with 200 + 55 empty sections: the most nlist.n_sect can number."""
    n1, n2 = 200, 55
    out = bytearray(0x8000)
    struct.pack_into("<7I", out, 0, mv.MH_MAGIC_64, 0x0100000C, 0, 2, 2, 144 + 80 * (n1 + n2), 0)
    off = 32
    for segname, vmaddr, vmsize, fileoff, filesize, n, prefix in (
            (b"__TEXT", 0x100000000, 0x8000, 0, 0x8000, n1, "t"), (b"__DATA", 0x100008000, 0x4000, 0, 0, n2, "d")):
        struct.pack_into("<II16s4Q4I", out, off, 0x19, 72 + 80 * n, segname, vmaddr, vmsize, fileoff, filesize, 3, 3,
                         n, 0)
        for i in range(n):
            struct.pack_into("<16s16sQQ8I", out, off + 72 + 80 * i, ("%s%03d" % (prefix, i)).encode(), segname,
                             vmaddr + 0x100 * i % vmsize, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        off += 72 + 80 * n
    return bytes(out)


def compare(label, path, otool, lief, tools):
    global checks
    rc, mine, err = canon([sys.executable, os.path.join(tools, "show_canon.py"), CLI, path])
    checks += 1
    if rc != 0:
        failures.append("%s: show_canon failed: %s" % (label, err))
        return
    checks += 1
    nsect = sum(1 for l in mine.splitlines() if l.startswith("section "))
    if not mine.startswith("slice 0 arch ") or nsect == 0:
        failures.append("%s: machoplist's canonical text has no sections:\n%s" % (label, mine[:500]))
        return
    for who, cmd in (("llvm-otool", otool and [sys.executable, os.path.join(tools, "otool_canon.py"), otool, path]),
                     ("LIEF", lief and [lief, path])):
        if not cmd:
            continue
        checks += 1
        rc, theirs, err = canon(cmd)
        if rc != 0:
            failures.append("%s: %s failed: %s" % (label, who, err))
        elif theirs != mine:
            diff = "".join(difflib.unified_diff(theirs.splitlines(True), mine.splitlines(True), who, "machoplist"))
            failures.append("%s: machoplist and %s disagree:\n%s" % (label, who, diff[:4000]))
    return nsect


def main():
    tools, lief = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else ""
    otool = find_otool()
    if lief and not os.access(lief, os.X_OK):
        lief = ""
    if not lief:
        print("note: LIEF cross-check skipped: lief_dump not built (configure with -Dlief=enabled and liblief-dev)")
    if not otool:
        print("note: llvm-otool cross-check skipped: llvm-otool not found (install llvm-14)")
    if not lief and not otool:
        print("SKIP: neither LIEF nor llvm-otool available")
        return 77
    fixtures = manifest(os.path.join(FIXTURES, "MANIFEST"))
    npm = manifest(os.path.join(NPM, "MANIFEST"))
    if fixtures is None:
        print("note: fixtures not built (no %s/MANIFEST)" % FIXTURES)
    if npm is None:
        print("note: npm binaries unavailable (no %s/MANIFEST)" % NPM)
    files = [(n, os.path.join(FIXTURES, n)) for n in fixtures or []]
    files += [("npm:" + n, os.path.join(NPM, n)) for n in npm or []]
    os.makedirs(TMP, exist_ok=True)
    work = tempfile.mkdtemp(prefix="crosscheck.", dir=TMP)
    for name, data in (("synthetic-i386", i386_file()), ("synthetic-255-sections", sections_255())):
        p = os.path.join(work, name)
        with open(p, "wb") as f:
            f.write(data)
        files.append((name, p))
    for label, path in files:
        n = compare(label, path, otool, lief, tools)
        if label == "synthetic-255-sections" and n is not None:
            global checks
            checks += 1
            if n != 255:
                failures.append("%s: %d sections, expected 255" % (label, n))
    if failures:
        for f in failures:
            print("FAIL: " + f, file=sys.stderr)
        print("%d of %d checks failed" % (len(failures), checks), file=sys.stderr)
        return 1
    print("%d checks passed on %d files (llvm-otool: %s, LIEF: %s)"
          % (checks, len(files), otool or "skipped", lief or "skipped"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
