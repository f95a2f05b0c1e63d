#!/usr/bin/env python3
"""Hostile input for inject and verify (issue 7), beyond what
tests/reader/hostile.py checks for every command:

 1. plists given to `inject --plist`: not a dictionary (array, string),
    100000 levels deep, larger than the room, binary, empty, whitespace,
    UTF-16, not UTF-8, a directory, /dev/zero;
 2. damaged code signatures (lengths, counts, offsets, page sizes, hash sizes
    and types, code limits, versions) on a binary with room: verify names the
    first problem exactly and exits 1, inject replaces the broken signature
    with a valid ad hoc one;
 3. damaged embedded __TEXT,__info_plist sections (not a dictionary, not a
    plist, truncated, zeros, no identifier) through show, verify and inject;
 4. a sweep of every numeric field of the header, every load command, every
    segment and section, the universal header and the code signature set to
    0, 1, 0x7fffffff and 0xffffffff (and the 64-bit extremes), each variant
    through show --json, verify and inject. The sweep passes many files to
    one command (the CLI handles each on its own, one line per refused file)
    and, when a command dies, reruns the files one by one to name the culprit.

Refusals: the documented exit status, nothing on stdout, exactly one line on
stderr, the file's sha256 unchanged and nothing new in its directory (no
.NAME.machoplist-XXXXXX temporary, lib/write_file.c). A crash or sanitizer
report (exit >= 97, or a signal) always fails.

Inputs that still crash or hang the CLI are in tests/inject/known_bugs.py.
"""
import hashlib
import json
import os
import plistlib
import shutil
import struct
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reader"))
import machoview as mv  # noqa: E402
from machoview import cx  # noqa: E402

CLI = os.environ["MP_CLI"]
FIXTURES = os.environ["MP_FIXTURES"]
TMP = os.environ.get("MP_TMP", "/tmp")
PLIST = os.path.join(os.environ["MP_SRC"], "fixtures", "Info.plist")

OK, VERIFY, IO, NOT_MACHO, MALFORMED, UNSUPPORTED, NO_ROOM, PLIST_ERR, SIGNATURE = 0, 1, 3, 4, 5, 6, 7, 8, 9

failures = []
checks = [0]
skipped = []
KNOWN = {}  # known bug -> variants that showed it (tests/inject/known_bugs.py)


def fail(name, msg):
    failures.append("%s: %s" % (name, msg))


def check(cond, name, msg):
    checks[0] += 1
    if not cond:
        fail(name, msg)
    return cond


def crashed(rc):
    """A signal, a sanitizer report (ASan 99, UBSan 98 in meson's environment)
    or a hang (-1000)."""
    return rc < 0 or rc >= 97


def run(args, timeout=120):
    try:
        p = subprocess.run([CLI] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        return -1000, b"", "timed out after %d s\n" % timeout
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def fixture(name):
    with open(os.path.join(FIXTURES, name), "rb") as f:
        return bytearray(f.read())


def put_be32(b, off, v):
    struct.pack_into(">I", b, off, v)


class Work:
    def __init__(self):
        os.makedirs(TMP, exist_ok=True)
        self.dir = tempfile.mkdtemp(prefix="inject-hostile.", dir=TMP)

    def write(self, name, data, sub=None):
        d = os.path.join(self.dir, sub) if sub else self.dir
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, name)
        with open(path, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else bytes(data))
        return path


def expect_refusal(name, args, path, status, message=None, prefix=None):
    """`machoplist ARGS` refuses: exit status, no stdout, one stderr line (the
    exact message, or one starting with prefix), PATH unchanged, nothing new
    in its directory."""
    before, names = sha256(path), sorted(os.listdir(os.path.dirname(path)))
    rc, out, err = run(args)
    what = " ".join(a if "/" not in a else os.path.basename(a) for a in args)
    check(rc == status, name, "%s: exit %d, expected %d; stderr: %s" % (what, rc, status, err.strip()[:1500]))
    check(out == b"", name, "%s: stdout not empty: %r" % (what, out[:200]))
    check(err.count("\n") == 1 and err.endswith("\n"), name, "%s: stderr is not one line: %r" % (what, err[:1500]))
    if message is not None:
        want = "machoplist: %s\n" % message
        check(err == want, name, "%s: stderr\n    got:      %r\n    expected: %r" % (what, err[:1500], want))
    if prefix is not None:
        check(err.startswith("machoplist: " + prefix), name, "%s: stderr %r does not start with %r"
              % (what, err[:1500], "machoplist: " + prefix))
    check(sha256(path) == before, name, "%s: the file changed" % what)
    after = sorted(os.listdir(os.path.dirname(path)))
    check(after == names, name, "%s: the directory changed: new %r, gone %r"
          % (what, sorted(set(after) - set(names)), sorted(set(names) - set(after))))


def verify_lines(path, *opts):
    rc, out, err = run(["verify"] + list(opts) + [path])
    lines = out.decode("utf-8", "replace").splitlines()
    return rc, lines, err


def expect_valid(name, path, bound=True):
    rc, lines, err = verify_lines(path)
    verdict = "%s: valid, Info.plist %s" % (path, "bound" if bound else "not bound")
    check(rc == (0 if bound else 1) and err == "" and lines[-1:] == [verdict], name,
          "verify: exit %d, last line %r, stderr %r; expected %r" % (rc, lines[-1:], err[:500], verdict))


def embedded_plist(path):
    rc, out, _ = run(["show", "--plist", path])
    return out if rc == 0 else None


# ---------------------------------------------------------------------------
# 1. plists for inject --plist

def room_message(path, s, plist_len):
    """The no-room message up to the advice (which depends on --make-room's analysis)."""
    text = s.segment("__TEXT")
    first = min(x.offset for x in text.sections)
    last_end = max(x.offset + x.size for x in text.sections)
    return ("%s: slice 0 (arm64): not enough room in __TEXT: the section header needs 80 bytes after the load "
            "commands and the plist %d bytes, but the head gap has %d and the tail slack %d; relink with "
            % (path, plist_len, first - s.lc_end, text.fileoff + text.filesize - last_end))


def plist_cases(w):
    base = fixture("hello-arm64-headerpad")
    s = mv.Slice(bytes(base))
    head = '<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0">'
    ident = "<key>CFBundleIdentifier</key><string>org.example.hostile</string>"
    deep = 100000

    def target(name):
        return w.write(name, base, sub="plist")

    def refuse(name, data, status, message, extra=()):
        p = w.write(name + ".plist", data, sub="plists")
        b = target(name)
        expect_refusal("plist " + name, ["inject"] + list(extra) + ["--plist", p, b], b, status,
                       message % {"bin": b, "plist": p})

    refuse("array", head + "<array><string>x</string></array></plist>", PLIST_ERR, "%(bin)s: XML plist is not a dictionary")
    refuse("string", head + "<string>org.example</string></plist>", PLIST_ERR, "%(bin)s: XML plist is not a dictionary")
    refuse("integer", head + "<integer>7</integer></plist>", PLIST_ERR, "%(bin)s: XML plist is not a dictionary")
    refuse("binary-array", plistlib.dumps(["x"], fmt=plistlib.FMT_BINARY), PLIST_ERR,
           "%(bin)s: binary plist is not a dictionary")
    # 100000 levels of <array>: refused before libplist sees it
    # (lib/plist_shape.c), which would recurse that deep in places.
    refuse("deep-array", (head + "<array>" * deep + "</array>" * deep + "</plist>").encode(), PLIST_ERR,
           "%(bin)s: plist nests more than 64 levels deep")
    refuse("deep-unclosed", (head + "<array>" * deep + "</plist>").encode(), PLIST_ERR,
           "%(bin)s: plist nests more than 64 levels deep")
    refuse("empty", b"", PLIST_ERR, "%(bin)s: plist is empty")
    refuse("whitespace", b" \n\t\n", PLIST_ERR, "%(bin)s: not a plist (neither XML, binary nor JSON)")
    refuse("utf16", (head + "<dict>" + ident + "</dict></plist>").replace("UTF-8", "UTF-16").encode("utf-16"),
           PLIST_ERR, "%(bin)s: not a plist (neither XML, binary nor JSON)")
    refuse("unterminated", head + "<dict>" + ident, PLIST_ERR, "%(bin)s: XML plist does not parse")
    refuse("no-identifier", head + "<dict><key>CFBundleName</key><string>x</string></dict></plist>", PLIST_ERR,
           "%(bin)s: plist has no CFBundleIdentifier string (macOS needs it to name the program)")
    refuse("identifier-not-string", head + "<dict><key>CFBundleIdentifier</key><integer>1</integer></dict></plist>",
           PLIST_ERR, "%(bin)s: plist has no CFBundleIdentifier string (macOS needs it to name the program)")
    refuse("binary-truncated", plistlib.dumps({"CFBundleIdentifier": "a.b"}, fmt=plistlib.FMT_BINARY)[:-7],
           PLIST_ERR, "%(bin)s: binary plist does not parse (trailer out of range)")

    # Deep nesting inside a dictionary is refused too, before the room check.
    refuse("deep-in-dict", (head + "<dict>" + ident + "<key>Deep</key>" + "<array>" * deep +
                            "</array>" * deep + "</dict></plist>").encode(), PLIST_ERR,
           "%(bin)s: plist nests more than 64 levels deep")
    # Larger than the room: exit 7, the plist's size in the message.
    for name, data in (("larger-than-room", (head + "<dict>" + ident + "<key>Pad</key><string>" + "x" * 20000 +
                                              "</string></dict></plist>").encode()),):
        p = w.write(name + ".plist", data, sub="plists")
        b = target(name)
        expect_refusal("plist " + name, ["inject", "--plist", p, b], b, NO_ROOM, prefix=room_message(b, s, len(data)))
    p = w.write("larger-than-room-binary.plist", plistlib.dumps({"CFBundleIdentifier": "a.b", "Pad": "x" * 20000},
                                                                 fmt=plistlib.FMT_BINARY), sub="plists")
    b = target("larger-than-room-binary")
    expect_refusal("plist larger-than-room-binary", ["inject", "--binary-plist", "--plist", p, b], b, NO_ROOM,
                   prefix=room_message(b, s, os.path.getsize(p)))

    # Not regular files.
    d = os.path.join(w.dir, "plists", "a-directory")
    os.makedirs(d)
    b = target("plist-dir")
    expect_refusal("plist directory", ["inject", "--plist", d, b], b, IO, "%s: plist is not a regular file or a pipe" % d)
    b = target("plist-dev-zero")
    expect_refusal("plist /dev/zero", ["inject", "--plist", "/dev/zero", b], b, IO,
                   "/dev/zero: plist is not a regular file or a pipe")
    # (a FIFO as --plist hangs: tests/inject/known_bugs.py plist-fifo)

    # Binary plists are accepted: converted to XML, or kept with --binary-plist.
    data = plistlib.dumps({"CFBundleIdentifier": "org.example.binary", "N": 1}, fmt=plistlib.FMT_BINARY)
    p = w.write("binary.plist", data, sub="plists")
    b = target("binary")
    rc, _, err = run(["inject", "-q", "--plist", p, b])
    if check(rc == 0 and err == "", "plist binary", "inject: exit %d, stderr %r" % (rc, err[:500])):
        got = embedded_plist(b)
        check(got is not None and got.startswith(b"<?xml") and plistlib.loads(got) == plistlib.loads(data),
              "plist binary", "embedded plist is not the XML form of the input: %r" % (got or b"")[:200])
        expect_valid("plist binary", b)
    b = target("binary-kept")
    rc, _, err = run(["inject", "-q", "--binary-plist", "--plist", p, b])
    if check(rc == 0 and err == "", "plist binary kept", "inject: exit %d, stderr %r" % (rc, err[:500])):
        check(embedded_plist(b) == data, "plist binary kept", "embedded bytes differ from the input")
        expect_valid("plist binary kept", b)

    # Not UTF-8: bytes that are not UTF-8 in a document that says it is. The
    # contract here is only: no crash; refused in one line (exit 8), or
    # embedded byte for byte and verifiable. (machoplist 0.1 embeds it.)
    for name, data in (("not-utf8", (head + "<dict>" + ident + "<key>K</key><string>").encode() +
                        b"\xff\xfe\xc3(" + b"</string></dict></plist>"),
                       ("latin1", ('<?xml version="1.0" encoding="ISO-8859-1"?>\n<plist version="1.0"><dict>' + ident +
                                   "<key>K</key><string>caf\xe9</string></dict></plist>").encode("latin-1"))):
        p = w.write(name + ".plist", data, sub="plists")
        b = target(name)
        before = sha256(b)
        rc, out, err = run(["inject", "-q", "--plist", p, b])
        if rc == 0:
            check(err == "" and embedded_plist(b) == data, "plist " + name, "exit 0 but stderr %r or other bytes" % err)
            expect_valid("plist " + name, b)
        else:
            check(rc == PLIST_ERR and out == b"" and err.count("\n") == 1 and err.startswith("machoplist: %s: " % b)
                  and sha256(b) == before, "plist " + name, "exit %d, stdout %r, stderr %r" % (rc, out[:100], err[:500]))
        print("note: plist %s: inject exit %d" % (name, rc))


# ---------------------------------------------------------------------------
# 2. damaged code signatures, on a binary with room

def signature_cases(w):
    base = fixture("hello-arm64-headerpad")
    s = mv.Slice(bytes(base))
    dataoff, datasize = s.code_signature()
    sb = mv.SuperBlob(bytes(base), dataoff)
    cd_slot_off = sb.index[0][1]
    cd_off = dataoff + cd_slot_off
    cd = sb.primary
    hdr = "slice 0 (arm64): "
    undecoded = hdr + "signature at %s does not decode: " % cx(dataoff)

    cases = [
        # name, mutation, the first problem verify names
        ("sb-length-0", lambda b: put_be32(b, dataoff + 4, 0), undecoded + "SuperBlob length 0 does not fit its %d-byte area" % datasize),
        ("sb-length-1", lambda b: put_be32(b, dataoff + 4, 1), undecoded + "SuperBlob length 1 does not fit its %d-byte area" % datasize),
        ("sb-length-7fffffff", lambda b: put_be32(b, dataoff + 4, 0x7FFFFFFF),
         undecoded + "SuperBlob length 2147483647 does not fit its %d-byte area" % datasize),
        ("sb-length-ffffffff", lambda b: put_be32(b, dataoff + 4, 0xFFFFFFFF),
         undecoded + "SuperBlob length 4294967295 does not fit its %d-byte area" % datasize),
        ("sb-count-0", lambda b: put_be32(b, dataoff + 8, 0), undecoded + "SuperBlob holds no CodeDirectory"),
        ("sb-count-7fffffff", lambda b: put_be32(b, dataoff + 8, 0x7FFFFFFF),
         undecoded + "SuperBlob index of 2147483647 entries does not fit its length %d" % sb.length),
        ("sb-count-ffffffff", lambda b: put_be32(b, dataoff + 8, 0xFFFFFFFF),
         undecoded + "SuperBlob index of 4294967295 entries does not fit its length %d" % sb.length),
        ("index-offset-0", lambda b: put_be32(b, dataoff + 16, 0),
         undecoded + "blob in slot 0 has magic fade0cc0, not a CodeDirectory"),
        ("index-offset-7fffffff", lambda b: put_be32(b, dataoff + 16, 0x7FFFFFFF),
         undecoded + "blob 0 (type 0) at offset 0x7fffffff lies outside the SuperBlob"),
        ("index-offset-ffffffff", lambda b: put_be32(b, dataoff + 16, 0xFFFFFFFF),
         undecoded + "blob 0 (type 0) at offset 0xffffffff lies outside the SuperBlob"),
        ("cd-length-0", lambda b: put_be32(b, cd_off + 4, 0),
         undecoded + "blob 0 (type 0) at offset %s has length 0 outside the SuperBlob" % cx(cd_slot_off)),
        ("cd-length-7fffffff", lambda b: put_be32(b, cd_off + 4, 0x7FFFFFFF),
         undecoded + "blob 0 (type 0) at offset %s has length 2147483647 outside the SuperBlob" % cx(cd_slot_off)),
        ("cd-version-0", lambda b: put_be32(b, cd_off + 8, 0),
         hdr + "sha256 CodeDirectory version 0 is not supported"),
        ("cd-version-ffffffff", lambda b: put_be32(b, cd_off + 8, 0xFFFFFFFF),
         undecoded + "CodeDirectory in slot 0 version 0xffffffff needs 96 header bytes, has %d" % cd.length
         if cd.length < 96 else hdr + "sha256 CodeDirectory version 0xffffffff is not supported"),
        ("cd-hash-offset-0", lambda b: put_be32(b, cd_off + 16, 0),
         undecoded + "CodeDirectory in slot 0: special slots (%d) do not fit before hashOffset 0" % cd.n_special),
        ("cd-hash-offset-ffffffff", lambda b: put_be32(b, cd_off + 16, 0xFFFFFFFF),
         undecoded + "CodeDirectory in slot 0: special slots (%d) do not fit before hashOffset 0xffffffff" % cd.n_special),
        ("cd-ident-offset-0", lambda b: put_be32(b, cd_off + 20, 0),
         undecoded + "CodeDirectory in slot 0: identifier at 0 is not a terminated string"),
        ("cd-special-7fffffff", lambda b: put_be32(b, cd_off + 24, 0x7FFFFFFF),
         undecoded + "CodeDirectory in slot 0: special slots (2147483647) do not fit before hashOffset %s" % cx(cd.hash_offset)),
        ("cd-code-slots-0", lambda b: put_be32(b, cd_off + 28, 0),
         hdr + "sha256 CodeDirectory has 0 code slots, codeLimit %s needs %d" % (cx(cd.code_limit), cd.n_code)),
        ("cd-code-slots-1", lambda b: put_be32(b, cd_off + 28, 1),
         hdr + "sha256 CodeDirectory has 1 code slots, codeLimit %s needs %d" % (cx(cd.code_limit), cd.n_code)),
        ("cd-code-slots-7fffffff", lambda b: put_be32(b, cd_off + 28, 0x7FFFFFFF),
         undecoded + "CodeDirectory in slot 0: 2147483647 code slots at hashOffset %s extend past its length %d"
         % (cx(cd.hash_offset), cd.length)),
        ("cd-code-limit-0", lambda b: put_be32(b, cd_off + 32, 0),
         hdr + "sha256 CodeDirectory codeLimit 0 differs from the signature offset %s" % cx(dataoff)),
        ("cd-code-limit-1", lambda b: put_be32(b, cd_off + 32, 1),
         hdr + "sha256 CodeDirectory codeLimit 0x1 differs from the signature offset %s" % cx(dataoff)),
        ("cd-code-limit-7fffffff", lambda b: put_be32(b, cd_off + 32, 0x7FFFFFFF),
         hdr + "sha256 CodeDirectory codeLimit 0x7fffffff differs from the signature offset %s" % cx(dataoff)),
        ("cd-code-limit-ffffffff", lambda b: put_be32(b, cd_off + 32, 0xFFFFFFFF),
         hdr + "sha256 CodeDirectory codeLimit 0xffffffff differs from the signature offset %s" % cx(dataoff)),
        ("cd-hash-size-0", lambda b: b.__setitem__(cd_off + 36, 0), undecoded + "CodeDirectory in slot 0 has hash size 0"),
        ("cd-hash-size-1", lambda b: b.__setitem__(cd_off + 36, 1), hdr + "sha256 CodeDirectory has hash size 1, expected 32"),
        ("cd-hash-size-20", lambda b: b.__setitem__(cd_off + 36, 20), hdr + "sha256 CodeDirectory has hash size 20, expected 32"),
        ("cd-hash-size-7f", lambda b: b.__setitem__(cd_off + 36, 0x7F), undecoded + "CodeDirectory in slot 0 has hash size 127"),
        ("cd-hash-size-ff", lambda b: b.__setitem__(cd_off + 36, 0xFF), undecoded + "CodeDirectory in slot 0 has hash size 255"),
        ("cd-hash-type-0", lambda b: b.__setitem__(cd_off + 37, 0), hdr + "CodeDirectory in slot 0 has unknown hash type 0"),
        ("cd-hash-type-sha1", lambda b: b.__setitem__(cd_off + 37, 1), hdr + "sha1 CodeDirectory has hash size 32, expected 20"),
        ("cd-hash-type-ff", lambda b: b.__setitem__(cd_off + 37, 0xFF), hdr + "CodeDirectory in slot 0 has unknown hash type 255"),
        ("cd-page-size-0", lambda b: b.__setitem__(cd_off + 39, 0),
         hdr + "sha256 CodeDirectory has %d code slots, codeLimit %s needs 1" % (cd.n_code, cx(cd.code_limit))),
    ]
    for shift in (1, 11, 17, 31, 32, 0x7F, 0xFF):
        cases.append(("cd-page-size-2^%d" % shift, (lambda v: lambda b: b.__setitem__(cd_off + 39, v))(shift),
                      hdr + "sha256 CodeDirectory page size 2^%d is not supported" % shift))
    cases.append(("cd-page-size-2^16", lambda b: b.__setitem__(cd_off + 39, 16),
                  hdr + "sha256 CodeDirectory has %d code slots, codeLimit %s needs %d"
                  % (cd.n_code, cx(cd.code_limit), (cd.code_limit + 0xFFFF) // 0x10000)))

    for name, mutate, first in cases:
        b = bytearray(base)
        mutate(b)
        p = w.write(name, b, sub="sig")
        label = "signature " + name
        before = sha256(p)
        rc, lines, err = verify_lines(p, "--allow-unbound")
        problems = [l[len("problem: "):] for l in lines if l.startswith("problem: ")]
        check(rc == VERIFY and err == "", label, "verify: exit %d, stderr %r" % (rc, err[:500]))
        check(problems[:1] == [p + ": " + first], label,
              "verify: first problem\n    got:      %r\n    expected: %r" % (problems[:1], p + ": " + first))
        check(lines[-1:] == ["%s: INVALID: %s" % (p, first)], label, "verify: verdict %r" % lines[-1:])
        check(sha256(p) == before, label, "verify changed the file")
        # show still reads the file (a damaged signature is reported, not fatal).
        rc, out, err = run(["show", "--json", p])
        check(rc == 0 and err == "", label, "show --json: exit %d, stderr %r" % (rc, err[:500]))
        sig = json.loads(out)["slices"][0]["signature"] if rc == 0 else {}
        # inject replaces the broken (linker-made ad hoc) signature: the result
        # verifies. One it could not decode at all is named in a warning.
        want_err = ("" if sig.get("decoded", True) else
                    "machoplist: warning: %s: slice 0 (arm64): the old signature could not be read (%s); replaced\n"
                    % (p, sig.get("error")))
        names = sorted(os.listdir(os.path.dirname(p)))
        rc, out, err = run(["inject", "-q", "--plist", PLIST, p])
        if check(rc == 0 and err == want_err, label, "inject: exit %d, stderr %r, expected %r" % (rc, err[:500], want_err)):
            expect_valid(label, p)
        check(sorted(os.listdir(os.path.dirname(p))) == names, label, "inject left files behind")


# ---------------------------------------------------------------------------
# 3. damaged embedded __TEXT,__info_plist

def padded_bplist(value, size):
    """A binary plist of exactly `size` bytes: unused bytes between the objects
    and the offset table (the trailer says where the table is)."""
    b = plistlib.dumps(value, fmt=plistlib.FMT_BINARY)
    table = struct.unpack_from(">Q", b, len(b) - 8)[0]
    pad = size - len(b)
    out = bytearray(b[:table] + bytes(pad) + b[table:])
    struct.pack_into(">Q", out, len(out) - 8, table + pad)
    return bytes(out)


def embedded_plist_cases(w):
    base = fixture("hello-arm64-plist")
    s = mv.Slice(bytes(base))
    ip = s.section("__TEXT", "__info_plist")
    head = b'<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0">'
    cases = [
        # name, section bytes (padded with spaces to the section's size), show's format, entries
        ("array", head + b"<array><string>x</string></array></plist>", "xml", 0),
        ("string", head + b"<string>org.example</string></plist>", "xml", 0),
        ("not-a-plist", b"\x01\x02garbage", "unparseable", 0),
        ("truncated", head + b"<dict><key>CFBundleIdentifier</key><string>a.b", "unparseable", 0),
        ("zeros", b"\0" * ip.size, "unparseable", 0),
        ("binary-array", padded_bplist(["x"], ip.size), "binary", 0),
        ("binary-dict", padded_bplist({"CFBundleIdentifier": "org.example.b"}, ip.size), "binary", 1),
        ("no-identifier", head + b"<dict><key>CFBundleName</key><string>x</string></dict></plist>", "xml", 1),
        ("identifier-not-string", head + b"<dict><key>CFBundleIdentifier</key><integer>5</integer></dict></plist>", "xml", 1),
        ("nested-arrays", head + b"<array>" * 30 + b"</array>" * 30 + b"</plist>", "xml", 0),
    ]
    for name, content, fmt, entries in cases:
        label = "embedded " + name
        b = bytearray(base)
        b[ip.offset:ip.offset + ip.size] = content.ljust(ip.size, b" " if content[:1] != b"\0" else b"\0")
        p = w.write(name, b, sub="embedded")
        # Sign with an explicit identifier, so the signature itself is valid
        # and binds whatever the section holds.
        rc, _, err = run(["sign", "--identifier", "org.example.hostile", p])
        if not check(rc == 0, label, "sign --identifier: exit %d, stderr %r" % (rc, err[:500])):
            continue
        rc, out, err = run(["show", "--json", p])
        if check(rc == 0 and err == "", label, "show --json: exit %d, stderr %r" % (rc, err[:500])):
            info = json.loads(out.decode("utf-8"))["slices"][0]["info_plist"]
            check(info["size"] == ip.size and info["format"] == fmt and info["entries"] == entries, label,
                  "show --json info_plist %r, expected format %s, %d entries" %
                  ({k: v for k, v in info.items() if k != "xml"}, fmt, entries))
        # verify: the signature is valid; a section that is not a dictionary
        # is not a bound Info.plist.
        bound = fmt != "unparseable" and entries > 0
        rc, lines, err = verify_lines(p)
        verdict = "%s: valid, Info.plist %s" % (p, "bound" if bound else "not bound")
        check(rc == (0 if bound else 1) and err == "" and lines[-1:] == [verdict], label,
              "verify: exit %d, last line %r; expected %r" % (rc, lines[-1:], verdict))
        # inject without --plist builds a default plist (the damaged one is not
        # reused unless it is a dictionary); with --plist the section is replaced.
        for args in (["inject", "-q"], ["inject", "-q", "--plist", PLIST]):
            q = w.write(name + ("-default" if len(args) == 2 else "-plist"), open(p, "rb").read(), sub="embedded")
            names = sorted(os.listdir(os.path.dirname(q)))
            rc, out, err = run(args + [q])
            if check(rc == 0 and err == "", label, "%s: exit %d, stderr %r" % (" ".join(args), rc, err[:500])):
                expect_valid(label + " " + " ".join(args), q)
            check(sorted(os.listdir(os.path.dirname(q))) == names, label, "inject left files behind")


def with_info_plist(plist):
    """A minimal arm64 executable whose __TEXT holds __info_plist = plist at
    0x4000 (room for any size), then an empty __LINKEDIT; unsigned."""
    tsize = (0x4000 + len(plist) + 0x3FFF) & ~0x3FFF
    out = bytearray(tsize + 0x4000)
    struct.pack_into("<7I", out, 0, mv.MH_MAGIC_64, 0x0100000C, 0, 2, 2, 72 + 80 + 72, 0)
    struct.pack_into("<II16s4Q4I", out, 32, mv.LC_SEGMENT_64, 152, b"__TEXT", 0x100000000, tsize, 0, tsize, 5, 5, 1, 0)
    struct.pack_into("<16s16sQQ8I", out, 32 + 72, b"__info_plist", b"__TEXT", 0x100004000, len(plist), 0x4000,
                     0, 0, 0, 0, 0, 0, 0)
    struct.pack_into("<II16s4Q4I", out, 32 + 152, mv.LC_SEGMENT_64, 72, b"__LINKEDIT", 0x100000000 + tsize, 0x4000,
                     tsize, 0x4000, 1, 1, 0, 0)
    out[0x4000:0x4000 + len(plist)] = plist
    return out


def deep_xml_dict(depth):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><dict>'
            "<key>CFBundleIdentifier</key><string>org.example.hostile</string><key>x</key>" + "<array>" * depth +
            "</array>" * depth + "</dict></plist>").encode()


def deep_embedded_cases(w):
    """An embedded plist 100000 levels deep (1.5 MB of XML, in a binary with
    room for it): it is never handed to libplist (lib/plist_shape.c), so sign
    refuses it with one line naming the reason, and inject --plist replaces
    it with a plist that verifies."""
    label = "embedded deep"
    p = w.write("deep", with_info_plist(deep_xml_dict(100000)), sub="embedded")
    size = len(deep_xml_dict(100000))
    before = sha256(p)
    rc, _, err = run(["sign", p])
    want = ("machoplist: %s: slice 0 (arm64): __TEXT,__info_plist (%d bytes): plist nests more than 64 levels deep\n"
            % (p, size))
    check(rc == 8 and err == want and sha256(p) == before, label,
          "sign: exit %d, stderr %r, expected exit 8 and %r, file unchanged" % (rc, err[:500], want))
    rc, _, err = run(["inject", "-q", "--plist", PLIST, p])
    if check(rc == 0 and err == "", label, "inject --plist: exit %d, stderr %r" % (rc, err[:500])):
        expect_valid(label + " after inject", p)
        check(embedded_plist(p) == open(PLIST, "rb").read(), label, "inject did not replace the plist")


# ---------------------------------------------------------------------------
# 4. field sweep

V32 = (0, 1, 0x7FFFFFFF, 0xFFFFFFFF)
V64 = (0, 1, 0x7FFFFFFF, 0xFFFFFFFF, 0x7FFFFFFFFFFFFFFF, 0xFFFFFFFFFFFFFFFF)
V8 = (0, 1, 0x7F, 0xFF)


def slice_fields(data, at=0):
    """(label, file offset, struct format) of every numeric field of a thin
    64-bit slice at `at`: header, load commands, segments, sections, and each
    32-bit word of the other load commands."""
    s = mv.Slice(bytes(data[at:]))
    out = [("hdr+%d" % o, at + o, "<I") for o in range(4, 32, 4)]
    seg_lcs = {g.lc.index: g for g in s.segments}
    for lc in s.lcs:
        out += [("lc%d.cmd" % lc.index, at + lc.off, "<I"), ("lc%d.cmdsize" % lc.index, at + lc.off + 4, "<I")]
        g = seg_lcs.get(lc.index)
        if g is None:
            out += [("lc%d+%d" % (lc.index, o), at + lc.off + o, "<I") for o in range(8, lc.cmdsize, 4)]
            continue
        for k, off in g.field_off.items():
            out.append(("%s.%s" % (g.name, k), at + off, g.int_fmt if k in ("vmaddr", "vmsize", "fileoff", "filesize")
                        else "<I"))
        for x in g.sections:
            out += [("%s.%s.addr" % (g.name, x.sectname), at + x.addr_off, "<Q"),
                    ("%s.%s.size" % (g.name, x.sectname), at + x.size_off, "<Q")]
            out += [("%s.%s+%d" % (g.name, x.sectname, 4 * k), at + x.offset_off + 4 * k, "<I") for k in range(8)]
    return out


def signature_fields(data):
    s = mv.Slice(bytes(data))
    dataoff, _ = s.code_signature()
    sb = mv.SuperBlob(bytes(data), dataoff)
    out = [("sb.length", dataoff + 4, ">I"), ("sb.count", dataoff + 8, ">I")]
    for i, (t, o) in enumerate(sb.index):
        out += [("sb.index%d.type" % i, dataoff + 12 + 8 * i, ">I"), ("sb.index%d.offset" % i, dataoff + 16 + 8 * i, ">I"),
                ("blob%d.magic" % i, dataoff + o, ">I"), ("blob%d.length" % i, dataoff + o + 4, ">I")]
    cd = dataoff + sb.index[0][1]
    out += [("cd+%d" % o, cd + o, ">I") for o in range(8, 36, 4)]
    out += [("cd+%d" % o, cd + o, "B") for o in range(36, 40)]
    out += [("cd+%d" % o, cd + o, ">I") for o in range(40, 64, 4)]
    out += [("cd+%d" % o, cd + o, ">Q") for o in range(64, 88, 8)]
    return out


def sweep_variants(have):
    """[(label, bytes)] for the sweep."""
    out = []

    def add(prefix, base, fields):
        for label, off, fmt in fields:
            values = V8 if fmt == "B" else V64 if fmt.endswith("Q") else V32
            for v in values:
                b = bytearray(base)
                struct.pack_into(fmt, b, off, v)
                if b != base:
                    out.append(("%s.%s=%x" % (prefix, label, v), b))

    if "hello-arm64-headerpad" in have:
        base = fixture("hello-arm64-headerpad")
        add("arm64", base, slice_fields(base) + signature_fields(base))
    if "hello-universal" in have:
        base = fixture("hello-universal")
        arches = mv.fat_arches(bytes(base))
        add("fat", base, [("arch%d+%d" % (i, 4 * k), 8 + 20 * i + 4 * k, ">I")
                          for i in range(len(arches)) for k in range(5)] + [("nfat", 4, ">I")])
    return out


def run_batch(label, args, files, timeout=600):
    """Runs `machoplist ARGS FILE...`; when it crashes or hangs, reruns each
    file alone and fails once per file that does it alone."""
    rc, out, err = run(list(args) + files, timeout)
    if not crashed(rc):
        return rc, out, err
    culprits = 0
    for f in files:
        r, _, e = run(list(args) + [f], 120)
        if crashed(r):
            culprits += 1
            first = next((l for l in e.splitlines() if "ERROR" in l or "runtime error" in l), e.strip()[:300])
            fail("sweep " + os.path.basename(f), "%s: exit %d: %s" % (" ".join(args), r, first))
    if culprits == 0:
        fail(label, "%s on %d files: exit %d, but no file alone does it: %s" % (" ".join(args), len(files), rc, err[-500:]))
    return None


def error_lines(label, err, files):
    """{file: message} from stderr; every line must be 'machoplist: FILE: ...'
    for a distinct file of the batch, or a warning naming one."""
    by_file = {}
    names = sorted(files, key=len, reverse=True)
    for line in err.split("\n")[:-1] if err.endswith("\n") else err.split("\n"):
        # Messages carry no control characters (lib/error.c replaces them with
        # '?'); the CLI's own team-id refusal does not yet (known_bugs.py
        # team-id-control-chars): counted, not failed, here.
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in line):
            if " signed by team " in line and "; an ad hoc signature replaces that identity" in line:
                KNOWN["team-id-control-chars"] = KNOWN.get("team-id-control-chars", 0) + 1
            else:
                fail(label, "control characters in a message: %r" % line[:300])
        if line.startswith("machoplist: warning: "):
            # inject replaced a signature it could not decode: named, not refused.
            f = next((f for f in names if line.startswith("machoplist: warning: %s: " % f)), None)
            check(f is not None and "the old signature could not be read (" in line and line.endswith("); replaced"),
                  label, "unexpected warning: %r" % line[:300])
            continue
        f = next((f for f in names if line.startswith("machoplist: %s: " % f)), None)
        if not check(f is not None, label, "stderr line names no file of the batch: %r" % line[:300]):
            continue
        check(f not in by_file, label, "two stderr lines for %s: %r, %r" % (f, by_file.get(f), line[:300]))
        by_file[f] = line
    return by_file


def sweep_cases(w, have):
    variants = sweep_variants(have)
    if not variants:
        skipped.append("sweep: fixtures hello-arm64-headerpad and hello-universal not built")
        return
    d = os.path.join(w.dir, "sweep")
    os.makedirs(d)
    files, sums = [], {}
    for i, (label, data) in enumerate(variants):
        p = os.path.join(d, "v%04d" % i)
        with open(p, "wb") as f:
            f.write(data)
        files.append(p)
        sums[p] = hashlib.sha256(data).hexdigest()
    label_of = {p: variants[i][0] for i, p in enumerate(files)}
    chunks = [files[i:i + 250] for i in range(0, len(files), 250)]
    stats = {"show-refused": 0, "verify-valid": 0, "verify-invalid": 0, "inject-refused": 0, "inject-done": 0}

    for chunk in chunks:
        # show --json: refused files have one stderr line; the JSON lists the others.
        r = run_batch("sweep show", ["show", "--json"], chunk)
        if r is not None:
            rc, out, err = r
            refused = error_lines("sweep show", err, chunk)
            check(rc in (OK, NOT_MACHO, MALFORMED, UNSUPPORTED), "sweep show", "show --json: exit %d" % rc)
            try:
                # surrogateescape: show --json copies bytes that are not UTF-8
                # (names, identifiers) into its strings; known_bugs.py json-not-utf8.
                doc = json.loads(out.decode("utf-8", "surrogateescape")) if out.strip() else []
                shown = [x["file"] for x in (doc if isinstance(doc, list) else [doc])]
            except ValueError as e:
                fail("sweep show", "show --json printed invalid JSON: %s" % e)
                shown = []
            check(sorted(shown + list(refused)) == sorted(chunk), "sweep show",
                  "files neither shown nor refused: %r" % [label_of[f] for f in set(chunk) - set(shown) - set(refused)][:20])
            stats["show-refused"] += len(refused)

        # verify: one verdict line per readable file, one stderr line per other.
        r = run_batch("sweep verify", ["verify", "--allow-unbound"], chunk)
        if r is not None:
            rc, out, err = r
            refused = error_lines("sweep verify", err, chunk)
            check(rc in (OK, VERIFY, IO, NOT_MACHO, MALFORMED, UNSUPPORTED), "sweep verify", "verify: exit %d" % rc)
            lines = out.decode("utf-8", "replace").splitlines()
            for f in chunk:
                if f in refused:
                    continue
                verdicts = [l for l in lines if l.startswith(f + ": valid") or l.startswith(f + ": INVALID: ")]
                if check(len(verdicts) == 1, "sweep verify " + label_of[f], "%d verdict lines" % len(verdicts)):
                    stats["verify-valid" if ": valid" in verdicts[0] else "verify-invalid"] += 1

        # inject: refused files unchanged; the others verify afterwards;
        # nothing left behind in the directory.
        names = sorted(os.listdir(d))
        r = run_batch("sweep inject", ["inject", "-q", "--plist", PLIST], chunk)
        if r is not None:
            rc, out, err = r
            refused = error_lines("sweep inject", err, chunk)
            check(crashed(rc) is False and rc in (OK, IO, NOT_MACHO, MALFORMED, UNSUPPORTED, NO_ROOM, PLIST_ERR, SIGNATURE),
                  "sweep inject", "inject: exit %d" % rc)
            changed = []
            for f in chunk:
                if f in refused:
                    check(sha256(f) == sums[f], "sweep inject " + label_of[f], "refused but the file changed: "
                          + refused[f][:300])
                elif sha256(f) != sums[f]:
                    changed.append(f)
            stats["inject-refused"] += len(refused)
            stats["inject-done"] += len(changed)
            if changed:
                r = run_batch("sweep verify after inject", ["verify"], changed)
                if r is not None:
                    rc, out, err = r
                    lines = out.decode("utf-8", "replace").splitlines()
                    for f in changed:
                        check("%s: valid, Info.plist bound" % f in lines, "sweep inject " + label_of[f],
                              "injected file does not verify: %r" %
                              [l for l in lines if l.startswith(f + ": ")][:3] + err[:300])
        check(sorted(os.listdir(d)) == names, "sweep inject", "the directory changed: new %r"
              % sorted(set(os.listdir(d)) - set(names))[:10])
    print("sweep: %d variants, %d chunks; %s" % (len(files), len(chunks), stats))
    for bug, n in sorted(KNOWN.items()):
        print("note: %d variants hit known bug %s (tests/inject/known_bugs.py)" % (n, bug))
    shutil.rmtree(d, ignore_errors=True)


def main():
    try:
        with open(os.path.join(FIXTURES, "MANIFEST")) as f:
            have = {l.split("\t", 1)[0] for l in f if l.strip()}
    except OSError:
        print("SKIP: fixtures not built (no %s/MANIFEST)" % FIXTURES)
        return 77
    w = Work()
    if "hello-arm64-headerpad" in have:
        plist_cases(w)
        signature_cases(w)
    else:
        skipped.append("plist and signature cases: fixture hello-arm64-headerpad not built")
    deep_embedded_cases(w)
    if "hello-arm64-plist" in have:
        embedded_plist_cases(w)
    else:
        skipped.append("embedded plist cases: fixture hello-arm64-plist not built")
    sweep_cases(w, have)
    for s in skipped:
        print("skipped: " + s)
    if failures:
        for f in failures:
            print("FAIL: " + f, file=sys.stderr)
        print("%d of %d checks failed" % (len(failures), checks[0]), file=sys.stderr)
        return 1
    print("%d checks passed (work dir %s)" % (checks[0], w.dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
