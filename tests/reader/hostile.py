#!/usr/bin/env python3
"""Hostile input: broken variants of real fixtures must be refused cleanly.

For every variant, `machoplist show FILE`, `show --json FILE`, `verify FILE`
and `inject --plist fixtures/Info.plist FILE` must exit with the exact status
(3 I/O, 4 not Mach-O, 5 malformed, 6 unsupported), print nothing on stdout,
print exactly one line on stderr -- the exact message, which starts with
"machoplist: FILE:" and names the slice and the load command with its offset
where one is at fault -- and leave the file unchanged; inject must leave no
temporary file (.FILE.machoplist-XXXXXX, lib/write_file.c) or anything else
new in the directory. The CLI runs under ASan/UBSan in CI: a sanitizer report
changes the exit status (99/98) and fails the case.

Also: truncation at every load-command boundary (thin and universal), and a
sweep of every numeric field of the load commands, segments, sections and
universal header set to extreme values through show --json (the same sweep
with 0, 1, 0x7fffffff and 0xffffffff through show, verify and inject:
tests/inject/hostile_inject.py).

Damaged code signatures do not make a file unreadable: show exits 0 and the
JSON says why the signature did not decode (verify and inject on damaged
signatures: tests/inject/hostile_inject.py).

Each message below is computed from this script's own parse of the fixture
(machoview.py), not copied from machoplist's output.
"""
import hashlib
import json
import os
import shutil
import stat
import struct
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import machoview as mv  # noqa: E402
from machoview import cx  # noqa: E402

CLI = os.environ["MP_CLI"]
FIXTURES = os.environ["MP_FIXTURES"]
TMP = os.environ.get("MP_TMP", "/tmp")
PLIST = os.path.join(os.environ["MP_SRC"], "fixtures", "Info.plist")

IO, NOT_MACHO, MALFORMED, UNSUPPORTED = 3, 4, 5, 6

failures = []
checks = 0
skipped = []


def fail(name, msg):
    failures.append("%s: %s" % (name, msg))


def check(cond, name, msg):
    global checks
    checks += 1
    if not cond:
        fail(name, msg)
    return cond


def manifest():
    try:
        with open(os.path.join(FIXTURES, "MANIFEST")) as f:
            return {l.split("\t", 1)[0] for l in f if l.strip()}
    except OSError:
        return None


def fixture(name):
    with open(os.path.join(FIXTURES, name), "rb") as f:
        return bytearray(f.read())


def put32(b, off, v):
    struct.pack_into("<I", b, off, v)


def put64(b, off, v):
    struct.pack_into("<Q", b, off, v)


def put_be32(b, off, v):
    struct.pack_into(">I", b, off, v)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def run(args, prefix=(), timeout=60):
    """(exit status, stdout bytes, stderr text); a command that hangs (a FIFO
    opened for reading blocks) is killed and reported as exit -1000."""
    try:
        p = subprocess.run(list(prefix) + [CLI] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        return -1000, b"", "timed out after %d s\n" % timeout
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


def listing(path):
    """Names in the file's directory (None for /dev, which is not ours)."""
    d = os.path.dirname(path) or "."
    return sorted(os.listdir(d)) if not path.startswith("/dev/") else None


# The commands every hostile file goes through; inject also must not leave a
# temporary file behind.
COMMANDS = (("show",), ("show", "--json"), ("verify",), ("inject", "--plist", PLIST))


def expect_error(name, path, status, message, where=None, checksum=True, prefix=(), messages=None):
    """show, show --json, verify and inject must fail with exactly `message`.
    where: substrings the message must contain ("slice 1", "load command 6 at offset 0x...").
    messages: {command name: message} where one command words it differently."""
    line = "machoplist: %s" % message
    check(line.startswith("machoplist: %s: " % path), name, "expected message does not name the file: " + line)
    for w in where or []:
        check(w in message, name, "expected message lacks %r: %s" % (w, message))
    before = sha256(path) if checksum else None
    for cmd in COMMANDS:
        args = list(cmd) + [path]
        want = "machoplist: %s\n" % (messages or {}).get(cmd[0], message)
        names = listing(path)
        rc, out, err = run(args, prefix)
        what = "%s %s" % (" ".join(cmd[:2] if cmd[0] != "inject" else cmd[:1]), os.path.basename(path))
        check(rc == status, name, "%s: exit %d, expected %d; stderr: %s" % (what, rc, status, err.strip()[:2000]))
        check(out == b"", name, "%s: stdout not empty: %r" % (what, out[:200]))
        check(err == want, name, "%s: stderr\n    got:      %r\n    expected: %r" % (what, err[:2000], want))
        if cmd[0] == "inject":
            check(listing(path) == names, name, "%s: the directory changed: %r -> %r" % (what, names, listing(path)))
        if checksum:
            check(sha256(path) == before, name, "%s: the file changed" % what)


def expect_ok_json(name, path):
    before = sha256(path)
    rc, out, err = run(["show", "--json", path])
    check(sha256(path) == before, name, "the file changed")
    if not check(rc == 0 and err == "", name, "show --json: exit %d, stderr %r" % (rc, err[:2000])):
        return None
    try:
        return json.loads(out.decode("utf-8"))
    except ValueError as e:
        fail(name, "show --json printed invalid JSON: %s" % e)
        return None


def expect_bad_signature(name, path, error):
    """The slice still reads; the signature is reported as not decoded."""
    doc = expect_ok_json(name, path)
    if doc is None:
        return
    sig = doc["slices"][0]["signature"]
    check(sig is not None and sig.get("decoded") is False, name, "signature decoded: %r" % sig)
    check(sig is not None and sig.get("error") == error, name,
          "signature error\n    got:      %r\n    expected: %r" % (sig and sig.get("error"), error))
    rc, out, err = run(["show", path])
    check(rc == 0 and ("    unreadable: %s\n" % error) in out.decode("utf-8", "replace"), name,
          "show (text) exit %d does not print 'unreadable: %s'" % (rc, error))


class Work:
    def __init__(self):
        os.makedirs(TMP, exist_ok=True)
        import tempfile
        self.dir = tempfile.mkdtemp(prefix="hostile.", dir=TMP)

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(bytes(data))
        return path


# ---------------------------------------------------------------------------
# Thin variants of hello-arm64 (linker-signed arm64 executable from lld)

def thin_cases(w):
    base = fixture("hello-arm64")
    s = mv.Slice(bytes(base))
    size = len(base)
    text, dconst, data, linkedit = (s.segment(n) for n in ("__TEXT", "__DATA_CONST", "__DATA", "__LINKEDIT"))
    text_lc, dconst_lc, data_lc, le_lc = text.lc, dconst.lc, data.lc, linkedit.lc
    symtab = s.lc(mv.LC_SYMTAB)
    codesig = s.lc(mv.LC_CODE_SIGNATURE)
    last = s.lcs[-1]

    def variant(name, mutate):
        b = bytearray(base)
        mutate(b)
        return name, w.write(name, b)

    # Sanity: the untouched fixture reads.
    p = w.write("pristine", base)
    doc = expect_ok_json("pristine", p)
    check(doc is not None and doc["slices"][0]["arch"] == "arm64", "pristine", "pristine copy does not read")

    # Several files, one broken: the good one is still shown, the status is the bad one's.
    bad = w.write("second-file-truncated", base[:20])
    rc, out, err = run(["show", "--json", p, bad])
    check(rc == MALFORMED, "two-files", "show --json GOOD BAD: exit %d, expected 5" % rc)
    try:
        doc = json.loads(out.decode("utf-8"))
        check(isinstance(doc, list) and [d["file"] for d in doc] == [p], "two-files", "JSON lists %r" % doc)
    except ValueError as e:
        fail("two-files", "show --json GOOD BAD printed invalid JSON: %s" % e)
    check(err == "machoplist: %s: slice 0: Mach-O header truncated (20 of 32 bytes)\n" % bad, "two-files",
          "stderr %r" % err)

    def where(path):
        return "%s: slice 0 (arm64)" % path

    def hdr(path):  # header errors come before the arch is known
        return "%s: slice 0" % path

    n, p = "truncated-header", w.write("truncated-header", base[:20])
    expect_error(n, p, MALFORMED, "%s: Mach-O header truncated (20 of 32 bytes)" % hdr(p), ["slice 0"])

    n, p = "sizeofcmds-past-eof", w.write("sizeofcmds-past-eof", base[:0x200])
    expect_error(n, p, MALFORMED, "%s: sizeofcmds %d at offset 0x14 extends past the end of the slice (512 bytes)"
                 % (hdr(p), s.sizeofcmds), ["slice 0"])

    n, p = variant("sizeofcmds-huge", lambda b: put32(b, 20, 0xFFFFFFF0))
    expect_error(n, p, MALFORMED, "%s: sizeofcmds 4294967280 at offset 0x14 extends past the end of the slice (%d bytes)"
                 % (hdr(p), size), ["slice 0"])

    n, p = variant("ncmds-huge", lambda b: put32(b, 16, 0xFFFFFFFF))
    expect_error(n, p, MALFORMED, "%s: ncmds 4294967295 cannot fit in sizeofcmds %d" % (hdr(p), s.sizeofcmds),
                 ["slice 0"])

    n, p = variant("ncmds-one-more", lambda b: put32(b, 16, s.ncmds + 1))
    expect_error(n, p, MALFORMED, "%s: load command %d at offset %s extends past sizeofcmds %d"
                 % (where(p), s.ncmds, cx(s.lc_end), s.sizeofcmds),
                 ["slice 0", "load command %d at offset 0x" % s.ncmds])

    n, p = variant("cmdsize-zero", lambda b: put32(b, symtab.off + 4, 0))
    expect_error(n, p, MALFORMED, "%s: load command %d (cmd 0x2) at offset %s: cmdsize 0 is too small"
                 % (where(p), symtab.index, cx(symtab.off)), ["load command %d (cmd 0x2) at offset 0x" % symtab.index])

    n, p = variant("cmdsize-unaligned", lambda b: put32(b, symtab.off + 4, 28))
    expect_error(n, p, MALFORMED, "%s: load command %d (cmd 0x2) at offset %s: cmdsize 28 is not a multiple of 8"
                 % (where(p), symtab.index, cx(symtab.off)))

    n, p = variant("cmdsize-past-sizeofcmds", lambda b: put32(b, last.off + 4, last.cmdsize + 8))
    expect_error(n, p, MALFORMED, "%s: load command %d (cmd %s) at offset %s: cmdsize %d extends past sizeofcmds %d"
                 % (where(p), last.index, cx(last.cmd), cx(last.off), last.cmdsize + 8, s.sizeofcmds))

    n, p = variant("nsects-mismatch", lambda b: put32(b, text.field_off["nsects"], text.nsects + 1))
    expect_error(n, p, MALFORMED, "%s: load command %d at offset %s: segment __TEXT has nsects %d but cmdsize %d (expected %d)"
                 % (where(p), text_lc.index, cx(text_lc.off), text.nsects + 1, text_lc.cmdsize,
                    72 + 80 * (text.nsects + 1)), ["load command %d at offset 0x" % text_lc.index])

    # A segment whose section list runs past the load commands: nsects huge.
    n, p = variant("nsects-huge", lambda b: put32(b, text.field_off["nsects"], 0x40000000))
    expect_error(n, p, MALFORMED, "%s: load command %d at offset %s: segment __TEXT has nsects %d but cmdsize %d (expected %d)"
                 % (where(p), text_lc.index, cx(text_lc.off), 0x40000000, text_lc.cmdsize, 72 + 80 * 0x40000000))

    const = text.sections[-1]
    grow = text.vmaddr + text.vmsize - const.addr + 0x10
    n, p = variant("section-outside-segment-vm", lambda b: put64(b, const.size_off, grow))
    expect_error(n, p, MALFORMED, "%s: load command %d at offset %s: section __TEXT,%s [%s, +%s) lies outside segment __TEXT VM range"
                 % (where(p), text_lc.index, cx(text_lc.off), const.sectname, cx(const.addr), cx(grow)))

    dsec = next(x for x in data.sections if x.sectname == "__data")
    n, p = variant("section-outside-segment-file", lambda b: put32(b, dsec.offset_off, data.fileoff + data.filesize))
    expect_error(n, p, MALFORMED, "%s: load command %d at offset %s: section __DATA,__data file range [%s, +%s) lies outside segment __DATA"
                 % (where(p), data_lc.index, cx(data_lc.off), cx(data.fileoff + data.filesize), cx(dsec.size)))

    tsec = text.sections[0]
    n, p = variant("section-not-linear", lambda b: put32(b, tsec.offset_off, tsec.offset + 4))
    expect_error(n, p, MALFORMED, "%s: load command %d at offset %s: section __TEXT,%s is not mapped linearly (addr %s, offset %s)"
                 % (where(p), text_lc.index, cx(text_lc.off), tsec.sectname, cx(tsec.addr), cx(tsec.offset + 4)))

    def over_lcs(b):
        put32(b, tsec.offset_off, s.lc_end - 8)
        put64(b, tsec.addr_off, text.vmaddr + s.lc_end - 8)
    n, p = variant("section-over-load-commands", over_lcs)
    expect_error(n, p, MALFORMED, "%s: load command %d at offset %s: section __TEXT,%s at %s overlaps the load commands (end %s)"
                 % (where(p), text_lc.index, cx(text_lc.off), tsec.sectname, cx(s.lc_end - 8), cx(s.lc_end)))

    s2 = text.sections[1]

    def overlap(b):
        put32(b, s2.offset_off, tsec.offset + 4)
        put64(b, s2.addr_off, tsec.addr + 4)
    n, p = variant("overlapping-sections", overlap)
    expect_error(n, p, MALFORMED, "%s: load command %d at offset %s: section __TEXT,%s at %s overlaps section __TEXT,%s at %s"
                 % (where(p), text_lc.index, cx(text_lc.off), s2.sectname, cx(tsec.offset + 4), tsec.sectname,
                    cx(tsec.offset)))

    # __TEXT grown by 16 bytes (file and VM) runs into __DATA_CONST.
    def seg_overlap_file(b):
        put64(b, text.field_off["filesize"], text.filesize + 0x10)
        put64(b, text.field_off["vmsize"], text.vmsize + 0x10)
    n, p = variant("overlapping-segments-file", seg_overlap_file)
    expect_error(n, p, MALFORMED, "%s: load command %d at offset %s: segment __DATA_CONST overlaps segment __TEXT in the file"
                 % (where(p), dconst_lc.index, cx(dconst_lc.off)))

    n, p = variant("overlapping-segments-vm", lambda b: put64(b, text.field_off["vmsize"], text.vmsize + 0x10))
    expect_error(n, p, MALFORMED, "%s: load command %d at offset %s: segment __DATA_CONST overlaps segment __TEXT in memory"
                 % (where(p), dconst_lc.index, cx(dconst_lc.off)))

    n, p = variant("duplicate-segment", lambda b: b.__setitem__(slice(data.name_off, data.name_off + 16),
                                                                b"__DATA_CONST".ljust(16, b"\0")))
    expect_error(n, p, MALFORMED, "%s: load command %d at offset %s: duplicate segment __DATA_CONST"
                 % (where(p), data_lc.index, cx(data_lc.off)))

    def after_linkedit(b):
        b[linkedit.name_off:linkedit.name_off + 16] = b"__LINKEDIX".ljust(16, b"\0")
        b[data.name_off:data.name_off + 16] = b"__LINKEDIT".ljust(16, b"\0")
    n, p = variant("segment-after-linkedit", after_linkedit)
    expect_error(n, p, MALFORMED, "%s: load command %d at offset %s: segment __LINKEDIX lies after __LINKEDIT in the file"
                 % (where(p), le_lc.index, cx(le_lc.off)))

    n, p = variant("segment-past-eof", lambda b: (put64(b, linkedit.field_off["filesize"], linkedit.filesize + 0x1000),
                                                  put64(b, linkedit.field_off["vmsize"], linkedit.vmsize + 0x1000)))
    expect_error(n, p, MALFORMED, "%s: load command %d at offset %s: segment __LINKEDIT file range [%s, +%s) extends past the end of the slice (%s)"
                 % (where(p), le_lc.index, cx(le_lc.off), cx(linkedit.fileoff), cx(linkedit.filesize + 0x1000), cx(size)))

    n, p = variant("filesize-exceeds-vmsize", lambda b: put64(b, data.field_off["vmsize"], data.filesize - 0x10))
    expect_error(n, p, MALFORMED, "%s: load command %d at offset %s: segment __DATA filesize %s exceeds vmsize %s"
                 % (where(p), data_lc.index, cx(data_lc.off), cx(data.filesize), cx(data.filesize - 0x10)))

    # vmsize 0 alone does not make an unmapped segment: initprot must be 0 too
    # (dyld's rule; regression for the Go __DWARF fix).
    n, p = variant("vmsize-zero-mapped", lambda b: put64(b, data.field_off["vmsize"], 0))
    expect_error(n, p, MALFORMED, "%s: load command %d at offset %s: segment __DATA filesize %s exceeds vmsize 0"
                 % (where(p), data_lc.index, cx(data_lc.off), cx(data.filesize)))

    # ... and with initprot 0 it is accepted, like the Go linker's __DWARF.
    def unmapped(b):
        put64(b, data.field_off["vmsize"], 0)
        put32(b, data.field_off["initprot"], 0)
        put32(b, data.field_off["maxprot"], 0)
    n, p = variant("unmapped-segment", unmapped)
    doc = expect_ok_json(n, p)
    if doc is not None:
        segs = {g["name"]: g for g in doc["slices"][0]["segments"]}
        check(segs["__DATA"]["vmsize"] == 0 and segs["__DATA"]["filesize"] == data.filesize, n,
              "unmapped __DATA reported as %r" % segs["__DATA"])

    n, p = variant("symtab-past-eof", lambda b: put32(b, symtab.off + 12, 0x10000000))
    symoff = struct.unpack_from("<I", base, symtab.off + 8)[0]
    expect_error(n, p, MALFORMED, "%s: load command %d at offset %s: symbol table [%s, +%s) extends past the end of the slice (%s)"
                 % (where(p), symtab.index, cx(symtab.off), cx(symoff), cx(0x10000000 * 16), cx(size)))

    dataoff, datasize = s.code_signature()
    n, p = variant("codesig-past-eof", lambda b: put32(b, codesig.off + 12, datasize + 0x10000))
    expect_error(n, p, MALFORMED, "%s: load command %d at offset %s: data [%s, +%s) extends past the end of the slice (%s)"
                 % (where(p), codesig.index, cx(codesig.off), cx(dataoff), cx(datasize + 0x10000), cx(size)))

    prev = s.lcs[codesig.index - 1]
    n, p = variant("second-code-signature", lambda b: put32(b, prev.off, mv.LC_CODE_SIGNATURE))
    expect_error(n, p, MALFORMED, "%s: load command %d at offset %s: second LC_CODE_SIGNATURE"
                 % (where(p), codesig.index, cx(codesig.off)))

    n, p = variant("magic-cputype-mismatch", lambda b: put32(b, 4, 12))
    expect_error(n, p, MALFORMED, "%s: 64-bit header magic does not match cputype 0xc" % hdr(p))

    n, p = variant("big-endian", lambda b: put_be32(b, 0, mv.MH_MAGIC_64))
    expect_error(n, p, UNSUPPORTED, "%s: big-endian Mach-O is not supported" % hdr(p))

    return True


def sections_file(n_first, n_second):
    """A synthetic arm64 executable: __TEXT with n_first empty sections,
    __DATA with n_second."""
    ncmds = 2
    sizeofcmds = 72 * 2 + 80 * (n_first + n_second)
    out = bytearray(0x8000)
    struct.pack_into("<7I", out, 0, mv.MH_MAGIC_64, 0x0100000C, 0, 2, ncmds, sizeofcmds, 0)
    off = 32
    for segname, vmaddr, vmsize, fileoff, filesize, nsects, prefix in (
            (b"__TEXT", 0x100000000, 0x8000, 0, 0x8000, n_first, "t"),
            (b"__DATA", 0x100008000, 0x4000, 0, 0, n_second, "d")):
        struct.pack_into("<II16s4Q4I", out, off, mv.LC_SEGMENT_64, 72 + 80 * nsects, segname, vmaddr, vmsize,
                         fileoff, filesize, 3, 3 if segname == b"__DATA" else 5, nsects, 0)
        for i in range(nsects):
            struct.pack_into("<16s16sQQ8I", out, off + 72 + 80 * i, ("%s%03d" % (prefix, i)).encode(), segname,
                             vmaddr + vmsize - 0x100, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        off += 72 + 80 * nsects
    return out, 32 + 72 + 80 * n_first


def section_count_cases(w):
    data, _ = sections_file(200, 55)
    p = w.write("sections-255", data)
    doc = expect_ok_json("sections-255", p)
    if doc is not None:
        secs = [x for g in doc["slices"][0]["segments"] for x in g["sections"]]
        check(len(secs) == 255 and secs[-1]["ordinal"] == 255 and secs[-1]["name"] == "d054", "sections-255",
              "255 sections read as %d, last %r" % (len(secs), secs[-1:]))
    data, lc1 = sections_file(200, 56)
    p = w.write("sections-256", data)
    expect_error("sections-256", p, MALFORMED, "%s: slice 0 (arm64): load command 1 at offset %s: more than 255 sections in the slice"
                 % (p, cx(lc1)), ["slice 0", "load command 1 at offset 0x"])


def plist_cases(w, have):
    if "hello-arm64-plist" not in have:
        skipped.append("__info_plist cases: fixture hello-arm64-plist not built")
        return
    base = fixture("hello-arm64-plist")
    s = mv.Slice(bytes(base))
    text = s.segment("__TEXT")
    ip = s.section("__TEXT", "__info_plist")
    cstr = s.section("__TEXT", "__cstring")

    b = bytearray(base)
    b[cstr.hdr_off:cstr.hdr_off + 16] = b"__info_plist".ljust(16, b"\0")
    p = w.write("two-info-plists", b)
    expect_error("two-info-plists", p, MALFORMED, "%s: slice 0 (arm64): two __TEXT,__info_plist sections" % p)

    # A zerofill __info_plist is never checked against the file, yet its
    # bytes are what show --plist prints: it must be refused, not read.
    b = bytearray(base)
    put32(b, ip.flags_off, 0x1)  # S_ZEROFILL
    put32(b, ip.offset_off, 0xFFFFFF00)
    p = w.write("zerofill-info-plist", b)
    expect_error("zerofill-info-plist", p, MALFORMED,
                 "%s: slice 0 (arm64): load command %d at offset %s: section __TEXT,__info_plist is zerofill (flags 0x1) but holds %d bytes"
                 % (p, text.lc.index, cx(text.lc.off), ip.size), ["load command %d at offset 0x" % text.lc.index])


# ---------------------------------------------------------------------------
# Universal variants of hello-universal (x86_64 at 0x1000, arm64 at 0x8000)

def fat_cases(w, have):
    if "hello-universal" not in have:
        skipped.append("universal cases: fixture hello-universal not built")
        return
    base = fixture("hello-universal")
    arches = mv.fat_arches(bytes(base))
    names = [mv.arch_name(a[0], a[1]) for a in arches]
    size = len(base)

    def variant(name, mutate):
        b = bytearray(base)
        mutate(b)
        return name, w.write(name, b)

    def arch_field(i, k):  # k: 0 cputype 1 cpusubtype 2 offset 3 size 4 align
        return 8 + 20 * i + 4 * k

    p = w.write("fat-pristine", base)
    doc = expect_ok_json("fat-pristine", p)
    check(doc is not None and [x["arch"] for x in doc["slices"]] == names, "fat-pristine", "pristine copy does not read")

    n, p = variant("fat-magic-64", lambda b: put_be32(b, 0, mv.FAT_MAGIC_64))
    expect_error(n, p, UNSUPPORTED, "%s: FAT_MAGIC_64 universal files are not supported (macOS loads only FAT_MAGIC)" % p)

    n, p = variant("fat-nfat-huge", lambda b: put_be32(b, 4, 0x10000))
    expect_error(n, p, NOT_MACHO, "%s: universal header names 65536 slices (a Java class file, or corrupt)" % p)

    n, p = variant("fat-nfat-zero", lambda b: put_be32(b, 4, 0))
    expect_error(n, p, MALFORMED, "%s: universal header names 0 slices (a Java class file, or corrupt)" % p)

    # nfat_arch one too many: the third entry is the zero padding after the table.
    n, p = variant("fat-nfat-plus-one", lambda b: put_be32(b, 4, len(arches) + 1))
    expect_error(n, p, MALFORMED, "%s: slice %d (unknown): offset 0 overlaps the universal header" % (p, len(arches)),
                 ["slice %d" % len(arches)])

    n, p = "fat-header-truncated", w.write("fat-header-truncated", base[:6])
    expect_error(n, p, MALFORMED, "%s: universal header truncated (6 bytes)" % p)

    n, p = "fat-table-truncated", w.write("fat-table-truncated", base[:30])
    expect_error(n, p, MALFORMED, "%s: universal header with %d slices is truncated" % (p, len(arches)))

    # A Java class file (Java 8: minor 0, major 52) shares the magic.
    java = bytes.fromhex("cafebabe00000034") + bytes(400)
    p = w.write("Hello.class", java)
    expect_error("java-class", p, NOT_MACHO, "%s: universal header names 52 slices (a Java class file, or corrupt)" % p)

    n, p = variant("fat-slices-overlap", lambda b: put_be32(b, arch_field(0, 3), arches[1][2] - arches[0][2] + 0x1000))
    expect_error(n, p, MALFORMED, "%s: slices 0 (%s) and 1 (%s) overlap" % (p, names[0], names[1]))

    big = arches[1][3] + 0x100000
    n, p = variant("fat-slice-past-eof", lambda b: put_be32(b, arch_field(1, 3), big))
    expect_error(n, p, MALFORMED, "%s: slice 1 (%s): [%s, %s) extends past the end of the file (%s bytes)"
                 % (p, names[1], cx(arches[1][2]), cx(arches[1][2] + big), cx(size)), ["slice 1"])

    n, p = variant("fat-offset-huge", lambda b: put_be32(b, arch_field(1, 2), 0xFFFFC000))
    expect_error(n, p, MALFORMED, "%s: slice 1 (%s): [0xffffc000, %s) extends past the end of the file (%s bytes)"
                 % (p, names[1], cx(0xFFFFC000 + arches[1][3]), cx(size)))

    n, p = variant("fat-slice-unaligned", lambda b: put_be32(b, arch_field(1, 2), arches[1][2] - 0x1000))
    expect_error(n, p, MALFORMED, "%s: slice 1 (%s): offset %s is not aligned to 2^%d"
                 % (p, names[1], cx(arches[1][2] - 0x1000), arches[1][4]))

    n, p = variant("fat-align-huge", lambda b: put_be32(b, arch_field(1, 4), 0xFFFFFFFF))
    expect_error(n, p, MALFORMED, "%s: slice 1 (%s): alignment 2^4294967295 is out of range (at most 2^15)" % (p, names[1]))

    n, p = variant("fat-offset-in-header", lambda b: put_be32(b, arch_field(0, 2), 0))
    expect_error(n, p, MALFORMED, "%s: slice 0 (%s): offset 0 overlaps the universal header" % (p, names[0]))

    def same_arch(b):
        put_be32(b, arch_field(0, 0), arches[1][0])
        put_be32(b, arch_field(0, 1), arches[1][1])
    n, p = variant("fat-same-arch", same_arch)
    expect_error(n, p, MALFORMED, "%s: slices 0 and 1 have the same architecture (%s)" % (p, names[1]))

    def swap_arch(b):
        for k in (0, 1):
            put_be32(b, arch_field(0, k), arches[1][k])
            put_be32(b, arch_field(1, k), arches[0][k])
    n, p = variant("fat-arch-mismatch", swap_arch)
    expect_error(n, p, MALFORMED, "%s: slice 0: universal header says %s but the Mach-O header says %s"
                 % (p, names[1], names[0]), ["slice 0"])

    # Duplicate slices: the same table entry twice; a third entry repeating
    # the second; two entries naming the same bytes (under two arches, and
    # under one); one slice's range covering the other; an empty slice.
    n, p = variant("fat-duplicate-entry", lambda b: b.__setitem__(slice(arch_field(0, 0), arch_field(1, 0)),
                                                                   b[arch_field(1, 0):arch_field(2, 0)]))
    expect_error(n, p, MALFORMED, "%s: slices 0 and 1 have the same architecture (%s)" % (p, names[1]))

    def third_entry(b):
        put_be32(b, 4, 3)
        b[arch_field(2, 0):arch_field(3, 0)] = b[arch_field(1, 0):arch_field(2, 0)]
    n, p = variant("fat-duplicate-third-entry", third_entry)
    expect_error(n, p, MALFORMED, "%s: slices 1 and 2 have the same architecture (%s)" % (p, names[1]))

    def same_bytes(b):  # slice 1 names slice 0's bytes, as an arch the header does not claim
        put_be32(b, arch_field(1, 2), arches[0][2])
        put_be32(b, arch_field(1, 3), arches[0][3])
        put_be32(b, arch_field(1, 4), arches[0][4])
    n, p = variant("fat-same-range", same_bytes)
    expect_error(n, p, MALFORMED, "%s: slices 0 (%s) and 1 (%s) overlap" % (p, names[0], names[1]))

    def same_bytes_same_arch(b):
        same_bytes(b)
        put_be32(b, arch_field(1, 0), arches[0][0])
        put_be32(b, arch_field(1, 1), arches[0][1])
    n, p = variant("fat-same-range-same-arch", same_bytes_same_arch)
    expect_error(n, p, MALFORMED, "%s: slices 0 and 1 have the same architecture (%s)" % (p, names[0]))

    n, p = variant("fat-slice-covers-next", lambda b: put_be32(b, arch_field(0, 3), arches[1][2] + arches[1][3] - arches[0][2]))
    expect_error(n, p, MALFORMED, "%s: slices 0 (%s) and 1 (%s) overlap" % (p, names[0], names[1]))

    n, p = variant("fat-slice-size-zero", lambda b: put_be32(b, arch_field(1, 3), 0))
    expect_error(n, p, MALFORMED, "%s: slice 1: 0 bytes, too short for a Mach-O header" % p, ["slice 1"])

    n, p = variant("fat-slice-misaligned-by-one", lambda b: (put_be32(b, arch_field(1, 2), arches[1][2] + 1),
                                                             put_be32(b, arch_field(1, 3), arches[1][3] - 1)))
    expect_error(n, p, MALFORMED, "%s: slice 1 (%s): offset %s is not aligned to 2^%d"
                 % (p, names[1], cx(arches[1][2] + 1), arches[1][4]))

    n, p = variant("fat-slice-not-macho", lambda b: put32(b, arches[1][2], 0))
    expect_error(n, p, MALFORMED, "%s: slice 1: not Mach-O (magic 00000000)" % p, ["slice 1"])

    # A load-command error inside the second slice names it; offsets are slice-relative.
    sl = mv.Slice(bytes(base[arches[1][2]:arches[1][2] + arches[1][3]]))
    st = sl.lc(mv.LC_SYMTAB)
    n, p = variant("fat-slice1-cmdsize-zero", lambda b: put32(b, arches[1][2] + st.off + 4, 0))
    expect_error(n, p, MALFORMED, "%s: slice 1 (%s): load command %d (cmd 0x2) at offset %s: cmdsize 0 is too small"
                 % (p, names[1], st.index, cx(st.off)), ["slice 1", "load command %d (cmd 0x2) at offset 0x" % st.index])


# ---------------------------------------------------------------------------
# Not Mach-O, and files that cannot be read

def file_cases(w, have_thin):
    p = w.write("text.txt", b"hello, world\n")
    expect_error("not-macho", p, NOT_MACHO, "%s: not a Mach-O file (magic 68656c6c)" % p)
    p = w.write("elf", b"\x7fELF\x02\x01\x01" + bytes(57))
    expect_error("elf", p, NOT_MACHO, "%s: not a Mach-O file (magic 7f454c46)" % p)
    p = w.write("empty", b"")
    expect_error("empty", p, NOT_MACHO, "%s: empty file, not Mach-O" % p)
    p = w.write("three-bytes", b"\xcf\xfa\xed")
    expect_error("three-bytes", p, NOT_MACHO, "%s: 3 bytes, too short to be Mach-O" % p)

    d = os.path.join(w.dir, "a-directory")
    os.mkdir(d)
    expect_error("directory", d, IO, "%s: is a directory" % d, checksum=False,
                 messages={"inject": "%s: is a directory; use --recursive (-r) for the Mach-O executables under it" % d})
    check(os.listdir(d) == [], "directory", "inject wrote into the directory: %r" % os.listdir(d))
    p = os.path.join(w.dir, "missing")
    expect_error("missing", p, IO, "%s: cannot open: No such file or directory" % p, checksum=False)
    check(not os.path.exists(p), "missing", "a command created the missing file")
    # A FIFO with no writer: opening it for reading would block; every command
    # must refuse it without waiting (run() kills a command after 60 s).
    p = os.path.join(w.dir, "fifo")
    os.mkfifo(p)
    expect_error("fifo", p, IO, "%s: not a regular file" % p, checksum=False)
    expect_error("dev-null", "/dev/null", IO, "/dev/null: not a regular file", checksum=False)
    # /dev/zero never ends: refused before any read.
    expect_error("dev-zero", "/dev/zero", IO, "/dev/zero: not a regular file", checksum=False)

    if have_thin:
        p = w.write("unreadable", fixture("hello-arm64"))
        os.chmod(p, 0)
        try:
            readable = True
            try:
                with open(p, "rb"):
                    pass
            except PermissionError:
                readable = False
            prefix = ()
            if readable:
                # root reads mode-000 files; run machoplist as nobody instead, if we can.
                prefix = unprivileged(w)
            if readable and not prefix:
                skipped.append("unreadable file: running as uid %d, chmod 000 does not stop reads here, "
                               "and machoplist cannot be run as nobody (setpriv)" % os.getuid())
            else:
                expect_error("unreadable", p, IO, "%s: cannot open: Permission denied" % p, checksum=False,
                             prefix=prefix)
        finally:
            os.chmod(p, stat.S_IRUSR | stat.S_IWUSR)


def unprivileged(w):
    """A command prefix running machoplist as nobody (uid 65534), when we are
    root and setpriv works on a readable file here; else ()."""
    setpriv = shutil.which("setpriv")
    if os.getuid() != 0 or not setpriv:
        return ()
    prefix = (setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--")
    os.chmod(w.dir, 0o755)
    probe = w.write("readable-by-all", fixture("hello-arm64"))
    os.chmod(probe, 0o644)
    rc, _, err = run(["show", "--json", probe], prefix)
    if rc != 0:
        print("note: machoplist does not run as nobody here (exit %d: %s)" % (rc, err.strip()[:200]))
        return ()
    return prefix


# ---------------------------------------------------------------------------
# Hostile code signatures (hello-arm64's linker signature)

def signature_cases(w):
    base = fixture("hello-arm64")
    s = mv.Slice(bytes(base))
    dataoff, datasize = s.code_signature()
    sb = mv.SuperBlob(bytes(base), dataoff)
    cd_off = dataoff + sb.index[0][1]
    cd = sb.primary

    def variant(name, mutate):
        b = bytearray(base)
        mutate(b)
        return name, w.write(name, b)

    n, p = variant("sig-bad-magic", lambda b: put_be32(b, dataoff, 0))
    expect_bad_signature(n, p, "signature magic is 00000000, not an embedded SuperBlob (fade0cc0)")

    n, p = variant("sig-length-huge", lambda b: put_be32(b, dataoff + 4, 0xFFFFFFFF))
    expect_bad_signature(n, p, "SuperBlob length 4294967295 does not fit its %d-byte area" % datasize)

    n, p = variant("sig-count-huge", lambda b: put_be32(b, dataoff + 8, 0xFFFFFFFF))
    expect_bad_signature(n, p, "SuperBlob index of 4294967295 entries does not fit its length %d" % sb.length)

    n, p = variant("sig-blob-offset-outside", lambda b: put_be32(b, dataoff + 16, sb.length - 4))
    expect_bad_signature(n, p, "blob 0 (type 0) at offset %s lies outside the SuperBlob" % cx(sb.length - 4))

    n, p = variant("sig-blob-length-huge", lambda b: put_be32(b, cd_off + 4, 0xFFFFFFFF))
    expect_bad_signature(n, p, "blob 0 (type 0) at offset %s has length 4294967295 outside the SuperBlob"
                         % cx(sb.index[0][1]))

    n, p = variant("sig-cd-magic", lambda b: put_be32(b, cd_off, 0xFADE0C01))
    expect_bad_signature(n, p, "blob in slot 0 has magic fade0c01, not a CodeDirectory")

    n, p = variant("sig-cd-short", lambda b: put_be32(b, cd_off + 4, 40))
    expect_bad_signature(n, p, "CodeDirectory in slot 0 is 40 bytes, shorter than its header")

    n, p = variant("sig-cd-version-needs-more", lambda b: put_be32(b, cd_off + 4, 60))
    expect_bad_signature(n, p, "CodeDirectory in slot 0 version %s needs 88 header bytes, has 60" % cx(cd.version))

    n, p = variant("sig-special-huge", lambda b: put_be32(b, cd_off + 24, 0x10000000))
    expect_bad_signature(n, p, "CodeDirectory in slot 0: special slots (268435456) do not fit before hashOffset %s"
                         % cx(cd.hash_offset))

    n, p = variant("sig-code-slots-huge", lambda b: put_be32(b, cd_off + 28, 0xFFFFFFFF))
    expect_bad_signature(n, p, "CodeDirectory in slot 0: 4294967295 code slots at hashOffset %s extend past its length %d"
                         % (cx(cd.hash_offset), cd.length))

    n, p = variant("sig-hash-offset-huge", lambda b: put_be32(b, cd_off + 16, 0xFFFFFFF0))
    expect_bad_signature(n, p, "CodeDirectory in slot 0: special slots (%d) do not fit before hashOffset 0xfffffff0"
                         % cd.n_special)

    n, p = variant("sig-hash-size-zero", lambda b: b.__setitem__(cd_off + 36, 0))
    expect_bad_signature(n, p, "CodeDirectory in slot 0 has hash size 0")

    n, p = variant("sig-ident-outside", lambda b: put_be32(b, cd_off + 20, 0xFFFFFF00))
    expect_bad_signature(n, p, "CodeDirectory in slot 0: identifier at 0xffffff00 is not a terminated string")

    def unterminated(b):  # identifier runs to the end of the CD: overwrite its NUL and all hashes
        start = cd_off + cd.ident_offset
        for i in range(start, cd_off + cd.length):
            b[i] = 0x41
    n, p = variant("sig-ident-unterminated", unterminated)
    expect_bad_signature(n, p, "CodeDirectory in slot 0: identifier at %s is not a terminated string" % cx(cd.ident_offset))

    def no_cd(b):
        put_be32(b, dataoff + 12, 2)  # the only index entry now claims to be requirements
    n, p = variant("sig-no-code-directory", no_cd)
    expect_bad_signature(n, p, "SuperBlob holds no CodeDirectory")

    n, p = variant("sig-area-tiny", lambda b: put32(b, s.lc(mv.LC_CODE_SIGNATURE).off + 12, 8))
    expect_bad_signature(n, p, "signature area of 8 bytes is too small for a SuperBlob")


def truncation_cases(w, have):
    """The file cut short at every load-command boundary, inside the header,
    and at every segment, section and __LINKEDIT table boundary after the
    load commands; universal files also at every fat-header boundary and at
    every load-command boundary of each slice. Exact messages."""
    if "hello-arm64" in have:
        base = fixture("hello-arm64")
        s = mv.Slice(bytes(base))
        size = len(base)
        cuts = {0, 1, 3, 4, 20, 31}
        cuts.update(lc.off for lc in s.lcs)          # every boundary before a load command ...
        cuts.update(lc.off + 4 for lc in s.lcs)      # ... and inside each, between cmd and cmdsize
        cuts.add(s.lc_end)                           # the load commands end exactly at EOF
        for g in s.segments:
            cuts.update((g.fileoff, g.fileoff + g.filesize))
            cuts.update(x.offset for x in g.sections if x.offset)
        symoff, _, stroff, _ = struct.unpack_from("<4I", base, s.lc(mv.LC_SYMTAB).off + 8)
        cuts.update((symoff, stroff, s.code_signature()[0], size - 1))
        for cut in sorted(c for c in cuts if c < size):
            p = w.write("cut-thin-%#x" % cut, base[:cut])
            if cut == 0:
                expect_error("cut-thin-0", p, NOT_MACHO, "%s: empty file, not Mach-O" % p)
            elif cut < 4:
                expect_error("cut-thin-%d" % cut, p, NOT_MACHO, "%s: %d bytes, too short to be Mach-O" % (p, cut))
            elif cut < 32:
                expect_error("cut-thin-%d" % cut, p, MALFORMED, "%s: slice 0: Mach-O header truncated (%d of 32 bytes)"
                             % (p, cut))
            elif cut < s.lc_end:
                expect_error("cut-thin-%#x" % cut, p, MALFORMED,
                             "%s: slice 0: sizeofcmds %d at offset 0x14 extends past the end of the slice (%d bytes)"
                             % (p, s.sizeofcmds, cut))
            else:
                # the first segment, in load-command order, that the cut leaves short
                g = next(g for g in s.segments if g.filesize and g.fileoff + g.filesize > cut)
                expect_error("cut-thin-%#x" % cut, p, MALFORMED,
                             "%s: slice 0 (arm64): load command %d at offset %s: segment %s file range [%s, +%s) "
                             "extends past the end of the slice (%s)"
                             % (p, g.lc.index, cx(g.lc.off), g.name, cx(g.fileoff), cx(g.filesize), cx(cut)))
    else:
        skipped.append("thin truncation: fixture hello-arm64 not built")

    if "hello-universal" in have:
        base = fixture("hello-universal")
        arches = mv.fat_arches(bytes(base))
        names = [mv.arch_name(a[0], a[1]) for a in arches]
        size = len(base)
        table_end = 8 + 20 * len(arches)
        cuts = {4, 7, 8, table_end - 1, table_end}
        cuts.update(8 + 20 * i for i in range(len(arches)))
        for _, _, off, sz, _ in arches:
            sl = mv.Slice(bytes(base[off:off + sz]))
            cuts.update((off, off + 32, off + sl.lc_end, off + sz))
            cuts.update(off + lc.off for lc in sl.lcs)
        cuts.add(size - 1)
        for cut in sorted(c for c in cuts if c < size):
            p = w.write("cut-fat-%#x" % cut, base[:cut])
            if cut < 8:
                expect_error("cut-fat-%d" % cut, p, MALFORMED, "%s: universal header truncated (%d bytes)" % (p, cut))
            elif cut < table_end:
                expect_error("cut-fat-%d" % cut, p, MALFORMED, "%s: universal header with %d slices is truncated"
                             % (p, len(arches)))
            else:
                i = next(i for i, a in enumerate(arches) if a[2] + a[3] > cut)
                expect_error("cut-fat-%#x" % cut, p, MALFORMED,
                             "%s: slice %d (%s): [%s, %s) extends past the end of the file (%s bytes)"
                             % (p, i, names[i], cx(arches[i][2]), cx(arches[i][2] + arches[i][3]), cx(cut)))
    else:
        skipped.append("universal truncation: fixture hello-universal not built")


def sweep_cases(w, have):
    """Every numeric field of every load command, segment and section of
    hello-arm64 (and of hello-universal's fat header) set to extreme values.
    No exact message here: the contract only -- exit 0 with valid JSON, or
    exit 5 with one line naming the file and slice, nothing on stdout; never a
    sanitizer report or a crash."""
    variants = []
    if "hello-arm64" in have:
        base = fixture("hello-arm64")
        s = mv.Slice(bytes(base))
        for lc in s.lcs:
            for field in (0, 4):
                for v in (0, 0x80000000, 0xFFFFFFFF):
                    variants.append(("lc%d+%d=%x" % (lc.index, field, v), base, lc.off + field, "<I", v))
        for g in s.segments:
            for k, off in g.field_off.items():
                fmt = g.int_fmt if k in ("vmaddr", "vmsize", "fileoff", "filesize") else "<I"
                for v in ((0x8000000000000000, 0xFFFFFFFFFFFFFFFF) if fmt == "<Q" else (0x80000000, 0xFFFFFFFF)):
                    variants.append(("%s.%s=%x" % (g.name, k, v), base, off, fmt, v))
            for x in g.sections:
                for k, off, fmt in (("addr", x.addr_off, "<Q"), ("size", x.size_off, "<Q"),
                                    ("offset", x.offset_off, "<I"), ("flags", x.flags_off, "<I")):
                    for v in ((0x8000000000000000, 0xFFFFFFFFFFFFFFFF) if fmt == "<Q" else (0x80000000, 0xFFFFFFFF)):
                        variants.append(("%s.%s=%x" % (x.sectname, k, v), base, off, fmt, v))
    if "hello-universal" in have:
        fat = fixture("hello-universal")
        for i in range(len(mv.fat_arches(bytes(fat)))):
            for k in range(5):
                for v in (0, 0x7FFFFFFF, 0xFFFFFFFF):
                    variants.append(("fat%d.%d=%x" % (i, k, v), fat, 8 + 20 * i + 4 * k, ">I", v))
    if not variants:
        skipped.append("field sweep: fixtures hello-arm64 and hello-universal not built")
        return
    path = os.path.join(w.dir, "sweep")
    outcomes = {0: 0, MALFORMED: 0}
    for name, base, off, fmt, v in variants:
        b = bytearray(base)
        struct.pack_into(fmt, b, off, v)
        if bytes(b) == bytes(base):
            continue
        with open(path, "wb") as f:
            f.write(b)
        rc, out, err = run(["show", "--json", path])
        label = "sweep " + name
        if rc == 0:
            try:
                json.loads(out.decode("utf-8"))
                ok = err == ""
            except ValueError:
                ok = False
            check(ok, label, "exit 0 but stderr %r or invalid JSON" % err[:300])
        elif check(rc in (MALFORMED, NOT_MACHO, UNSUPPORTED), label, "exit %d; stderr: %s" % (rc, err[:3000])):
            check(out == b"" and err.count("\n") == 1 and err.startswith("machoplist: %s: " % path), label,
                  "stdout %r, stderr %r" % (out[:100], err[:500]))
            check(" slice " in err or mv.fat_arches(bytes(b)) is not None, label, "message names no slice: " + err)
        outcomes[rc] = outcomes.get(rc, 0) + 1
    print("field sweep: %d variants, exit statuses %s" % (sum(outcomes.values()), dict(sorted(outcomes.items()))))


def main():
    have = manifest()
    if have is None:
        print("SKIP: fixtures not built (no %s/MANIFEST)" % FIXTURES)
        return 77
    w = Work()
    file_cases(w, "hello-arm64" in have)
    section_count_cases(w)
    if "hello-arm64" in have:
        thin_cases(w)
        signature_cases(w)
    else:
        skipped.append("thin and signature cases: fixture hello-arm64 not built")
    plist_cases(w, have)
    fat_cases(w, have)
    truncation_cases(w, have)
    sweep_cases(w, have)
    for s in skipped:
        print("skipped: " + s)
    if failures:
        for f in failures:
            print("FAIL: " + f, file=sys.stderr)
        print("%d of %d checks failed" % (len(failures), checks), file=sys.stderr)
        return 1
    print("%d checks passed (work dir %s)" % (checks, w.dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
