#!/usr/bin/env python3
"""Regression tests for inputs the fuzzers crashed on (or broke the library's
contract with). Each input is rebuilt from a fixture plus a small patch (no
binary blobs are committed), then run through `machoplist show` (or, for
inject-stage findings, the inject_nosign tool); the exit code and the one-line
message on stderr are asserted exactly.

usage: regressions.py                         run them (meson test fuzz-regressions)
       regressions.py --write-seeds DIR FIXTURES   write the inputs as fuzzing seeds
Environment (meson test): MP_CLI, MP_FIXTURES, MP_TMP, MP_INJECT_NOSIGN, MP_SRC.
"""
import os
import struct
import subprocess
import sys
import tempfile

LC_SEGMENT_64 = 0x19


def load_commands(b):
    """(index, offset, cmd, cmdsize) of a thin 64-bit little-endian Mach-O."""
    ncmds = struct.unpack_from("<I", b, 16)[0]
    off = 32
    for i in range(ncmds):
        cmd, size = struct.unpack_from("<II", b, off)
        yield i, off, cmd, size
        off += size


def segment(b, name):
    for i, off, cmd, _ in load_commands(b):
        if cmd == LC_SEGMENT_64 and b[off + 8:off + 24].rstrip(b"\0") == name:
            return i, off
    raise KeyError(name)


def section_header(b, seg_off, k):
    return seg_off + 72 + 80 * k


# ---------------------------------------------------------------------------
# Finding 1 (fuzz_read): a section name holding a newline and an escape
# sequence was copied into the error message, which then spanned two lines
# (and could drive a terminal). Fix: lib/error.c mp_fail replaces control
# characters in every message with '?'.
def control_chars_in_name(b, path):
    seg_index, seg = segment(b, b"__TEXT")
    h = section_header(b, seg, 0)
    addr = struct.unpack_from("<Q", b, h + 32)[0]
    b[h:h + 16] = b"__te\nxt\x1b[31m".ljust(16, b"\0")
    size = 0x6f6c6c6568000000
    struct.pack_into("<Q", b, h + 40, size)
    return 5, (f"{path}: slice 0 (x86_64): load command {seg_index} at offset {seg:#x}: section "
               f"__TEXT,__te?xt?[31m [{addr:#x}, +{size:#x}) lies outside segment __TEXT VM range")


def sections(b):
    """(segname, sectname, header offset, load command index, lc offset) in ordinal order."""
    for i, off, cmd, _ in load_commands(b):
        if cmd != LC_SEGMENT_64:
            continue
        for k in range(struct.unpack_from("<I", b, off + 64)[0]):
            h = section_header(b, off, k)
            yield b[h + 16:h + 32].rstrip(b"\0"), b[h:h + 16].rstrip(b"\0"), h, i, off


def find_section(b, seg, sect):
    for ordinal, (g, n, h, i, off) in enumerate(sections(b), 1):
        if (g, n) == (seg, sect):
            return ordinal, h, i, off
    raise KeyError(sect)


# Finding 2 (fuzz_inject): a section's relocation table (reloff 0, nreloc 4)
# lay over the Mach-O header; renumbering section ordinals after the inject
# rewrote "relocations" there and turned filetype 2 (execute) into 3. Fix
# (lead, lib/read_slice.c check_table_range): symbol and relocation tables
# inside the header and load commands are refused as malformed.
def relocs_in_header(b, path):
    _, h, lci, lcoff = find_section(b, b"__DATA", b"__data")
    struct.pack_into("<II", b, h + 56, 0, 4)
    lc_end = 32 + struct.unpack_from("<I", b, 20)[0]
    return 5, (f"{path}: slice 0 (x86_64): load command {lci} at offset {lcoff:#x}: relocations at 0: "
               f"inside the header and load commands (which end at {lc_end:#x})")


# Same finding, beyond the load commands: a relocation table pointing at
# __TEXT,__text must not be renumbered (it would rewrite code bytes, or the
# plist itself when the table overlaps the section's old bytes). Fix:
# lib/inject_apply.c renumbers symbol and relocation tables only inside
# __LINKEDIT, where dyld reads them.
def relocs_in_text(b, path):
    _, text_h, _, _ = find_section(b, b"__TEXT", b"__text")
    text_off = struct.unpack_from("<I", b, text_h + 48)[0]
    first_data = 1 + sum(1 for g, *_ in sections(b) if g == b"__TEXT")  # moves up by one after the inject
    _, h, _, _ = find_section(b, b"__DATA", b"__data")
    struct.pack_into("<II", b, h + 56, text_off, 1)
    struct.pack_into("<II", b, text_off, 0, first_data | 3 << 25)  # non-extern, 8 bytes, section first_data
    entry = bytes(b[text_off:text_off + 8])

    def post(out):
        return (out[text_off:text_off + 8] == entry,
                f"__text bytes at {text_off:#x} rewritten: {out[text_off:text_off + 8].hex()}, were {entry.hex()}")
    return 0, None, post


REGRESSIONS = [
    # name, fixture, patch(bytearray, path) -> (exit code, message or None, [post-check]), tool
    ("control-chars-in-name", "hello-x86_64", control_chars_in_name, "show"),
    ("relocs-in-header", "hello-x86_64", relocs_in_header, "show"),
    ("relocs-in-text", "hello-x86_64-headerpad", relocs_in_text, "inject"),
]


def build(fixtures, fixture, patch, path):
    with open(os.path.join(fixtures, fixture), "rb") as f:
        b = bytearray(f.read())
    expected = patch(b, path)
    return bytes(b), expected


def write_seeds(out, fixtures):
    for name, fixture, patch, _ in REGRESSIONS:
        if not os.path.exists(os.path.join(fixtures, fixture)):
            continue
        data, _ = build(fixtures, fixture, patch, "seed")
        with open(os.path.join(out, "regress-" + name), "wb") as f:
            f.write(data)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--write-seeds":
        write_seeds(sys.argv[2], sys.argv[3])
        return 0
    fixtures = os.environ["MP_FIXTURES"]
    if not os.path.exists(os.path.join(fixtures, "MANIFEST")):
        print("SKIP: fixtures not built")
        return 77
    os.makedirs(os.environ["MP_TMP"], exist_ok=True)
    work = tempfile.mkdtemp(prefix="fuzz-regressions.", dir=os.environ["MP_TMP"])
    failures = checks = 0
    for name, fixture, patch, tool in REGRESSIONS:
        if not os.path.exists(os.path.join(fixtures, fixture)):
            print(f"note: fixture {fixture} not built; {name} skipped")
            continue
        path = os.path.join(work, name)
        data, (want_rc, want_msg, *post) = build(fixtures, fixture, patch, path)
        with open(path, "wb") as f:
            f.write(data)
        if tool == "show":
            cmd, prefix = [os.environ["MP_CLI"], "show", path], "machoplist: "
        else:
            cmd, prefix = [os.environ["MP_INJECT_NOSIGN"], os.path.join(os.environ["MP_SRC"], "fixtures", "Info.plist"),
                           path, path + ".out"], ""
        r = subprocess.run(cmd, capture_output=True)
        err = r.stderr.decode("utf-8", "replace")
        want_err = prefix + want_msg + "\n" if want_msg is not None else ""
        results = [(r.returncode == want_rc, f"exit {r.returncode}, expected {want_rc}"),
                   (err == want_err, f"stderr {err!r}, expected {want_err!r}")]
        if tool == "show" and want_rc != 0:
            results.append((r.stdout == b"", f"stdout {r.stdout[:200]!r}, expected nothing"))
        for check in post:
            if os.path.exists(path + ".out"):
                with open(path + ".out", "rb") as f:
                    results.append(check(f.read()))
            else:
                results.append((False, "no output file written"))
        for ok, what in results:
            checks += 1
            if not ok:
                failures += 1
                print(f"FAIL: {name}: {what}", file=sys.stderr)
    if failures:
        print(f"{failures} of {checks} checks failed", file=sys.stderr)
        return 1
    print(f"{checks} checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
