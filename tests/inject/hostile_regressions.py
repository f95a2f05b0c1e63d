#!/usr/bin/env python3
"""Regressions: hostile inputs machoplist once crashed, aborted or hung on
(issue 7), found by the hostile-input audit; each failed before its fix.

usage: hostile_regressions.py CASE   (meson test hostile-regression-CASE)

Each case runs machoplist on one input and checks the contract every hostile
input must meet: a documented exit status, at most one line on stderr without
control characters, no crash, no sanitizer report, no hang, the file
unchanged when refused. Exit 0 when the contract holds, 1 when it does not,
99 when the test itself breaks.

The fixes: lib/plist_shape.c refuses plists nested deeper than 64 levels or
with a NUL in the text or a string before libplist sees them (libplist 2.2
recursed until the stack ran out, or asserted); cli_open_regular (cli/main.c)
refuses a FIFO as --plist or --entitlements (it blocked forever);
cli/json_out.c writes bytes that are not UTF-8 as U+FFFD; lib/sign_plan.c
masks control characters of an old team id.
"""
import hashlib
import json
import os
import plistlib
import struct
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reader"))
import machoview as mv  # noqa: E402
from hostile_inject import deep_xml_dict, with_info_plist  # noqa: E402

CLI = os.environ["MP_CLI"]
FIXTURES = os.environ["MP_FIXTURES"]
PLIST = os.path.join(os.environ["MP_SRC"], "fixtures", "Info.plist")
DOCUMENTED = set(range(0, 11))
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0">'
IDENT = "<key>CFBundleIdentifier</key><string>org.example.hostile</string>"


def fixture(name):
    with open(os.path.join(FIXTURES, name), "rb") as f:
        return bytearray(f.read())


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else bytes(data))
    return path


def deep_bplist(depth):
    """A binary plist: {CFBundleIdentifier: "a.b", x: [[[...]]]} nested `depth` deep."""
    def ascii_string(s):
        return bytes([0x50 | len(s)]) + s.encode() if len(s) < 15 else bytes([0x5F, 0x10, len(s)]) + s.encode()
    objs = [bytes([0xD2]) + struct.pack(">IIII", 1, 3, 2, 4),
            ascii_string("CFBundleIdentifier"), ascii_string("a.b"), ascii_string("x")]
    objs += [bytes([0xA1]) + struct.pack(">I", 5 + i) for i in range(depth)]
    objs.append(bytes([0xA0]))
    out, offsets = bytearray(b"bplist00"), []
    for o in objs:
        offsets.append(len(out))
        out += o
    table = len(out)
    for o in offsets:
        out += struct.pack(">I", o)
    out += bytes(6) + bytes([4, 4]) + struct.pack(">QQQ", len(objs), 0, table)
    return bytes(out)


def with_entitlements(work, xml):
    """hello-arm64-headerpad signed ad hoc by machoplist with XML entitlements
    whose bytes are then replaced by `xml` (same length), and the DER
    entitlements blob's index entry retyped (0x7 -> 0x8) so a re-sign derives
    the DER form from the XML again, as for a signature made before DER
    entitlements existed."""
    placeholder = HEAD + "<dict><key>k</key><string></string></dict></plist>"
    pad = len(xml) - len(placeholder)
    assert pad >= 0
    ent = write(os.path.join(work, "placeholder.entitlements"),
                placeholder.replace("<string></string>", "<string>" + "x" * pad + "</string>"))
    path = write(os.path.join(work, "entitled"), fixture("hello-arm64-headerpad"))
    r = subprocess.run([CLI, "sign", "--entitlements", ent, path], capture_output=True)
    if r.returncode != 0:
        print("setup: sign --entitlements failed (%d): %s" % (r.returncode, r.stderr.decode()[:500]))
        sys.exit(99)  # a hard error for meson, not the expected failure
    b = bytearray(open(path, "rb").read())
    dataoff, _ = mv.Slice(bytes(b)).code_signature()
    count = struct.unpack_from(">I", b, dataoff + 8)[0]
    for i in range(count):
        t, o = struct.unpack_from(">II", b, dataoff + 12 + 8 * i)
        if t == 5:
            start = dataoff + o + 8
            assert bytes(b[start:start + len(xml)]).startswith(HEAD.encode())
            b[start:start + len(xml)] = xml
        elif t == 7:
            struct.pack_into(">I", b, dataoff + 12 + 8 * i, 8)
    return write(path, b)


def contract(args, path=None, timeout=120):
    """Runs machoplist; returns a list of broken promises (empty when fine)."""
    before = sha256(path) if path else None
    try:
        r = subprocess.run([CLI] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                           env=dict(os.environ, ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":symbolize=0"))
    except subprocess.TimeoutExpired:
        return ["%s: still running after %d s (hangs)" % (" ".join(args[:1]), timeout)]
    rc, err = r.returncode, r.stderr.decode("utf-8", "replace")
    bad = []
    if rc < 0 or rc >= 97:
        first = next((l for l in err.splitlines() if "ERROR" in l or "Assertion" in l or "runtime error" in l), "")
        bad.append("exit %d (%s): %s" % (rc, "signal %d" % -rc if rc < 0 else "sanitizer report", first[:300]))
    elif rc not in DOCUMENTED:
        bad.append("exit %d is not a documented status" % rc)
    else:
        lines = err.split("\n")[:-1]
        if rc != 0 and len(lines) != 1:
            bad.append("exit %d with %d stderr lines" % (rc, len(lines)))
        for line in lines:
            if any(ord(c) < 0x20 or ord(c) == 0x7F for c in line):
                bad.append("control characters on stderr: %r" % line[:300])
        if rc != 0 and path and sha256(path) != before:
            bad.append("refused (exit %d) but the file changed" % rc)
    return bad


def case_plist_binary_deep(w):
    """inject --plist, a binary plist nested 36000 deep: converting it to XML
    overflows the stack (lib/plist_input.c mp_plist_to_xml_bytes -> libplist
    plist_to_xml, from mp_plist_for_embedding)."""
    p = write(os.path.join(w, "deep.plist"), deep_bplist(36000))
    b = write(os.path.join(w, "bin"), fixture("hello-arm64-headerpad"))
    return contract(["inject", "--plist", p, b], b)


def case_plist_binary_deep_kept(w):
    """inject --binary-plist --plist, a binary plist nested 100000 deep:
    parsing it overflows the stack (lib/plist_input.c parse ->
    plist_from_bin). The same parse runs on embedded plists (plist_from_memory
    in lib/default_plist.c, lib/sign_plan.c, lib/verify_slice.c)."""
    p = write(os.path.join(w, "deep.plist"), deep_bplist(100000))
    b = write(os.path.join(w, "bin"), fixture("hello-arm64-headerpad"))
    return contract(["inject", "--binary-plist", "--plist", p, b], b)


def case_embedded_deep_inject(w):
    """inject without --plist on a binary whose __info_plist is a dictionary
    holding arrays nested 40000 deep: the default plist keeps its keys and
    is written as XML, which overflows the stack (lib/default_plist.c
    mp_default_plist -> mp_plist_to_xml_bytes -> plist_to_xml)."""
    b = write(os.path.join(w, "bin"), with_info_plist(deep_xml_dict(40000)))
    return contract(["inject", b], b)


def case_embedded_deep_show(w):
    """show on the same binary: printing the plist as XML overflows the stack
    (cli/cmd_show.c plist_as_xml -> plist_to_xml)."""
    b = write(os.path.join(w, "bin"), with_info_plist(deep_xml_dict(40000)))
    return contract(["show", b], b)


def case_plist_nul_identifier(w):
    """inject --plist, an XML plist whose CFBundleIdentifier string holds a
    NUL byte: libplist's plist_get_string_val asserts (abort) in
    lib/plist_input.c mp_plist_dict_string."""
    p = write(os.path.join(w, "nul.plist"), HEAD.encode() + b"<dict><key>CFBundleIdentifier</key><string>a\0b"
              b"</string></dict></plist>")
    b = write(os.path.join(w, "bin"), fixture("hello-arm64-headerpad"))
    return contract(["inject", "--plist", p, b], b)


def case_plist_nul_csflags(w):
    """inject --plist, a valid identifier but a CSFlags string holding a NUL
    byte: the plist is embedded, then signing reads CSFlags and libplist
    asserts (lib/sign_plan.c read_info_plist, plist_get_string_val)."""
    p = write(os.path.join(w, "nul.plist"), (HEAD + "<dict>" + IDENT).encode() +
              b"<key>CSFlags</key><string>a\0b</string></dict></plist>")
    b = write(os.path.join(w, "bin"), fixture("hello-arm64-headerpad"))
    return contract(["inject", "--plist", p, b], b)


def case_plist_not_utf8(w):
    """inject --plist, an XML plist declared (or taken) as UTF-8 whose
    identifier holds the Latin-1 byte e9: it was embedded as it is, bytes
    macOS cannot decode as the plist says. Now refused, exit 8, naming the
    offset; the same bytes declared ISO-8859-1 are embedded byte for byte."""
    body = b"<dict><key>CFBundleIdentifier</key><string>org.example.caf\xe9</string></dict></plist>\n"
    bad = []
    for name, head in (("declared", HEAD.encode()), ("undeclared", HEAD.encode().split(b"\n", 1)[1])):
        p = write(os.path.join(w, name + ".plist"), head + body)
        b = write(os.path.join(w, "bin"), fixture("hello-arm64-headerpad"))
        bad += contract(["inject", "--plist", p, b], b)
        r = subprocess.run([CLI, "inject", "--plist", p, b], capture_output=True)
        want = "machoplist: %s: XML plist is not valid UTF-8 (byte 0xe9 at offset %d)\n" % (b, (head + body).index(b"\xe9"))
        if (r.returncode, r.stderr.decode("utf-8", "replace")) != (8, want):
            bad.append("%s: exit %d, stderr %r; expected 8, %r" % (name, r.returncode, r.stderr, want))
    latin = HEAD.encode().replace(b"UTF-8", b"ISO-8859-1") + body
    p = write(os.path.join(w, "latin.plist"), latin)
    b = write(os.path.join(w, "bin"), fixture("hello-arm64-headerpad"))
    r = subprocess.run([CLI, "inject", "-q", "--plist", p, b], capture_output=True)
    shown = subprocess.run([CLI, "show", "--plist", b], capture_output=True).stdout
    if r.returncode != 0 or shown != latin:
        bad.append("ISO-8859-1 plist: exit %d %r, embedded %r" % (r.returncode, r.stderr[:200], shown[:120]))
    return bad


def case_unreadable_signature_named(w):
    """sign and inject on hello-arm64-headerpad whose SuperBlob magic is
    zeroed: the signature they cannot decode was replaced without a word.
    Now both say so in one warning line naming the slice and the reason, and
    the result verifies."""
    base = fixture("hello-arm64-headerpad")
    dataoff, _ = mv.Slice(bytes(base)).code_signature()
    base[dataoff:dataoff + 4] = bytes(4)
    bad = []
    for cmd in (["sign"], ["inject", "-q", "--plist", PLIST]):
        b = write(os.path.join(w, "bin"), base)
        r = subprocess.run([CLI] + cmd + [b], capture_output=True)
        want = ("machoplist: warning: %s: slice 0 (arm64): the old signature could not be read (signature magic is "
                "00000000, not an embedded SuperBlob (fade0cc0)); replaced\n" % b)
        if (r.returncode, r.stderr.decode("utf-8", "replace")) != (0, want):
            bad.append("%s: exit %d, stderr %r; expected 0, %r" % (cmd[0], r.returncode, r.stderr, want))
        v = subprocess.run([CLI, "verify", "--allow-unbound", b], capture_output=True)
        if v.returncode != 0:
            bad.append("%s: the result does not verify: %r" % (cmd[0], v.stdout[-300:]))
    return bad


def case_embedded_nul_identifier(w):
    """inject without --plist on hello-arm64-plist whose embedded
    CFBundleIdentifier holds a NUL byte: the same assertion, from
    lib/default_plist.c mp_default_plist (and lib/sign_plan.c
    read_info_plist when signing such a file)."""
    base = fixture("hello-arm64-plist")
    ip = mv.Slice(bytes(base)).section("__TEXT", "__info_plist")
    content = HEAD.encode() + b"<dict><key>CFBundleIdentifier</key><string>a\0b</string></dict></plist>"
    base[ip.offset:ip.offset + ip.size] = content.ljust(ip.size, b" ")
    b = write(os.path.join(w, "bin"), base)
    return contract(["inject", b], b)


def case_entitlements_nul(w):
    """inject on a binary whose ad hoc signature carries XML entitlements
    (and no DER form) with a NUL byte in a string: re-signing derives the DER
    entitlements and libplist asserts (lib/sign_der.c encode_value,
    PLIST_STRING)."""
    xml = HEAD.encode() + b"<dict><key>k</key><string>a\0b</string></dict></plist>"
    b = with_entitlements(w, xml)
    return contract(["inject", "--plist", PLIST, b], b)


def case_entitlements_deep(w):
    """The same with entitlements holding arrays nested 100000 deep:
    lib/sign_der.c encode_value recurses once per level and overflows the
    stack."""
    n = 100000
    xml = (HEAD + "<dict><key>k</key>" + "<array>" * n + "</array>" * n + "</dict></plist>").encode()
    b = with_entitlements(w, xml)
    return contract(["inject", "--plist", PLIST, b], b)


def case_plist_fifo(w):
    """inject --plist FIFO (no writer): fopen blocks before the "not a
    regular file" check (cli/cmd_inject.c read_plist_file)."""
    p = os.path.join(w, "fifo.plist")
    os.mkfifo(p)
    b = write(os.path.join(w, "bin"), fixture("hello-arm64-headerpad"))
    return contract(["inject", "--plist", p, b], b, timeout=5)


def case_json_not_utf8(w):
    """show --json on hello-arm64 whose __cstring section is named with bytes
    that are not UTF-8: they are copied into the JSON string as they are, so
    the output is not valid JSON (cli/json_out.c write_escaped)."""
    base = fixture("hello-arm64")
    x = mv.Slice(bytes(base)).section("__TEXT", "__cstring")
    base[x.hdr_off:x.hdr_off + 16] = b"__cstr\xff\xfeng".ljust(16, b"\0")
    b = write(os.path.join(w, "bin"), base)
    bad = contract(["show", "--json", b], b)
    r = subprocess.run([CLI, "show", "--json", b], capture_output=True)
    try:
        r.stdout.decode("utf-8")
    except UnicodeDecodeError as e:
        bad.append("show --json output is not UTF-8: %s" % e)
    return bad


def case_team_id_control_chars(w):
    """inject on hello-arm64-headerpad whose CodeDirectory teamOffset (+48)
    is 1, so the "team id" is the bytes de 0c 02: the refusal (exit 9)
    prints them raw, a form feed inside the one-line message
    (cli/cmd_inject.c inject_one, "signed by team %s"; lib/error.c replaces
    control characters in library messages, the CLI's own do not)."""
    base = fixture("hello-arm64-headerpad")
    dataoff, _ = mv.Slice(bytes(base)).code_signature()
    cd = dataoff + struct.unpack_from(">I", base, dataoff + 16)[0]
    struct.pack_into(">I", base, cd + 48, 1)
    b = write(os.path.join(w, "bin"), base)
    return contract(["inject", "--plist", PLIST, b], b)


def case_text_control_chars(w):
    """the same file through `show` and `verify` (text): the team id's bytes
    de 0c 02 were printed raw on stdout ("TeamIdentifier=..."), a form feed
    and a 0x02 reaching the terminal. The library now masks control
    characters in every identifier and team id it hands out (mp_copy_text)."""
    base = fixture("hello-arm64-headerpad")
    dataoff, _ = mv.Slice(bytes(base)).code_signature()
    cd = dataoff + struct.unpack_from(">I", base, dataoff + 16)[0]
    struct.pack_into(">I", base, cd + 48, 1)
    b = write(os.path.join(w, "bin"), base)
    bad = []
    for args in (["show", b], ["verify", "--allow-unbound", b]):
        bad += contract(args, b)
        r = subprocess.run([CLI] + args, capture_output=True)
        for line in r.stdout.split(b"\n"):
            if any(c < 0x20 and c != 0x09 or c == 0x7F for c in line):
                bad.append("%s: control characters on stdout: %r" % (args[0], line[:200]))
    return bad


def case_json_error_stdout(w):
    """show --json and verify --json on a file that cannot be read (missing,
    not Mach-O, a directory): verify printed a lone newline on stdout (its
    json_finish ran with nothing written), show printed nothing. Now both
    print nothing on stdout: the one-line error is on stderr, with its exit
    code (3 I/O, 4 not Mach-O). Several files, one of them bad: one valid
    JSON array holding the good one."""
    notmacho = write(os.path.join(w, "text"), bytearray(b"just text\n" * 100))
    good = write(os.path.join(w, "good"), fixture("hello-arm64"))
    bad = []
    for cmd in (["show", "--json"], ["verify", "--json", "--allow-unbound"]):
        for path, want in ((os.path.join(w, "missing"), 3), (notmacho, 4), (w, 3)):
            bad += contract(cmd + [path], None)
            r = subprocess.run([CLI] + cmd + [path], capture_output=True)
            if r.returncode != want:
                bad.append("%s %s: exit %d, expected %d" % (cmd[0], os.path.basename(path), r.returncode, want))
            if r.stdout != b"":
                bad.append("%s %s: stdout %r, expected nothing" % (cmd[0], os.path.basename(path), r.stdout[:100]))
        r = subprocess.run([CLI] + cmd + [good, notmacho], capture_output=True)
        try:
            doc = json.loads(r.stdout)
            if not (isinstance(doc, list) and len(doc) == 1):
                bad.append("%s good+bad: expected a one-element array, got %r" % (cmd[0], r.stdout[:200]))
        except ValueError as e:
            bad.append("%s good+bad: not JSON (%s): %r" % (cmd[0], e, r.stdout[:200]))
        if r.returncode != 4:
            bad.append("%s good+bad: exit %d, expected 4" % (cmd[0], r.returncode))
    return bad


CASES = {name[len("case_"):].replace("_", "-"): fn for name, fn in globals().items() if name.startswith("case_")}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in CASES:
        print("usage: hostile_regressions.py CASE\ncases: " + " ".join(sorted(CASES)), file=sys.stderr)
        return 99
    if not os.path.exists(os.path.join(FIXTURES, "MANIFEST")):
        print("SKIP: fixtures not built")
        return 77
    os.makedirs(os.environ.get("MP_TMP", "/tmp"), exist_ok=True)
    w = tempfile.mkdtemp(prefix="hostile-regression.", dir=os.environ.get("MP_TMP", "/tmp"))
    name = sys.argv[1]
    print("regression %s: %s" % (name, " ".join(CASES[name].__doc__.split())))
    try:
        bad = CASES[name](w)
    except Exception:  # a broken test is a hard error (99), not the expected failure
        import traceback
        traceback.print_exc()
        return 99
    for b in bad:
        print("FAIL: %s: %s" % (name, b), file=sys.stderr)
    if not bad:
        print("%s: the contract holds (fixed?)" % name)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
