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


REGRESSIONS = [
    # name, fixture, patch(bytearray, path) -> (exit code, message), tool
    ("control-chars-in-name", "hello-x86_64", control_chars_in_name, "show"),
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
        data, (want_rc, want_msg) = build(fixtures, fixture, patch, path)
        with open(path, "wb") as f:
            f.write(data)
        if tool == "show":
            cmd, prefix = [os.environ["MP_CLI"], "show", path], "machoplist: "
        else:
            cmd, prefix = [os.environ["MP_INJECT_NOSIGN"], os.path.join(os.environ["MP_SRC"], "fixtures", "Info.plist"),
                           path, path + ".out"], ""
        r = subprocess.run(cmd, capture_output=True)
        err = r.stderr.decode("utf-8", "replace")
        for ok, what in ((r.returncode == want_rc, f"exit {r.returncode}, expected {want_rc}"),
                         (err == prefix + want_msg + "\n", f"stderr {err!r}, expected {prefix + want_msg + chr(10)!r}"),
                         (tool != "show" or r.stdout == b"", f"stdout {r.stdout[:200]!r}, expected nothing")):
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
