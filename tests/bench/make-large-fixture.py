#!/usr/bin/env python3
"""Build a large Mach-O executable for the benchmark (tests/bench/bench.sh).

usage: make-large-fixture.py OUT SIZE_MB [--arch arm64|x86_64|universal]
                             [--seed N] [--zero] [--work DIR]

Compiles fixtures/src/hello.c exactly as fixtures/build-fixtures.sh does and
links it with ld64.lld like the hello-*-headerpad fixtures (-headerpad 0x1000,
the hand-written fixtures/libSystem.tbd as the only library), adding a
`__DATA,__blob` section (-sectcreate) of SIZE_MB MiB of seeded pseudo-random
bytes.  The payload is data the loader maps but the program never touches, so
the result is a valid executable whose size is dominated by the blob; the
linker signs arm64 ad hoc (as ld64 does), x86_64 stays unsigned.  `universal`
runs llvm-lipo -create over an arm64 and an x86_64 file of SIZE_MB each (so
the fat file is about twice SIZE_MB).  --zero makes the payload zeros from a
sparse file (fast to make; used by the test suite's large-file test, which
measures memory, not hashing).

Not part of the test suite.  Needs clang, ld64.lld (llvm-lipo for universal).
Writes temporary files (the blob and the thin slices) next to OUT unless
--work is given; peak disk use is about 2x the output size.
"""
import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(ROOT, "fixtures")
VERSIONS = ["", "-14", "-15", "-16", "-17", "-18", "-19", "-20", "-13"]
CFLAGS = ["-O0", "-nostdinc", "-ffreestanding", "-fno-stack-protector",
          "-fno-builtin", "-Wall", "-Werror"]


def find_tool(name):
    for v in VERSIONS:
        p = shutil.which(name + v)
        if p:
            return p
    for v in VERSIONS:
        if v:
            p = "/usr/lib/llvm%s/bin/%s" % (v, name)
            if os.access(p, os.X_OK):
                return p
    return None


def need(name):
    p = find_tool(name)
    if not p:
        sys.exit("make-large-fixture: %s not found (install clang / lld / llvm)" % name)
    return p


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        sys.exit("make-large-fixture: %s failed (%d):\n%s" % (cmd[0], r.returncode, r.stdout))


def write_blob(path, size_mb, seed):
    """SIZE_MB MiB of reproducible pseudo-random bytes (incompressible, so
    nothing downstream can take a shortcut on runs of zeros)."""
    rng = random.Random(seed)
    chunk = 1 << 20
    with open(path, "wb") as f:
        for _ in range(size_mb):
            f.write(rng.randbytes(chunk))


def build_thin(arch, blob, out, work):
    cc, ld = need("clang"), need("ld64.lld")
    sdk = os.path.join(work, "sdk")
    os.makedirs(os.path.join(sdk, "usr", "lib"), exist_ok=True)
    shutil.copy(os.path.join(FIXTURES, "libSystem.tbd"),
                os.path.join(sdk, "usr", "lib", "libSystem.tbd"))
    obj = os.path.join(work, "hello-%s.o" % arch)
    run([cc, "-target", "%s-apple-macos11" % arch] + CFLAGS +
        ["-c", os.path.join(FIXTURES, "src", "hello.c"), "-o", obj])
    run([ld, "-arch", arch, "-platform_version", "macos", "11.0", "13.0",
         "-syslibroot", sdk, "-o", out, "-headerpad", "0x1000",
         "-sectcreate", "__DATA", "__blob", blob, obj, "-lSystem"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("size_mb", type=int)
    ap.add_argument("--arch", choices=["arm64", "x86_64", "universal"], default="arm64")
    ap.add_argument("--seed", type=int, default=8)
    ap.add_argument("--zero", action="store_true", help="zero payload from a sparse file")
    ap.add_argument("--work", help="directory for temporary files (default: next to OUT)")
    a = ap.parse_args()
    if a.size_mb < 1:
        ap.error("SIZE_MB must be at least 1")
    out = os.path.abspath(a.out)
    work_parent = os.path.abspath(a.work) if a.work else os.path.dirname(out)
    os.makedirs(work_parent, exist_ok=True)
    work = tempfile.mkdtemp(prefix=".large-fixture-", dir=work_parent)
    try:
        blob = os.path.join(work, "blob")
        if a.zero:
            with open(blob, "wb") as f:
                f.truncate(a.size_mb << 20)
        else:
            write_blob(blob, a.size_mb, a.seed)
        tmp_out = os.path.join(work, "out")
        if a.arch == "universal":
            thin = []
            for arch in ("arm64", "x86_64"):
                p = os.path.join(work, "thin-" + arch)
                build_thin(arch, blob, p, work)
                thin.append(p)
            os.unlink(blob)
            run([need("llvm-lipo"), "-create"] + thin + ["-output", tmp_out])
        else:
            build_thin(a.arch, blob, tmp_out, work)
        os.chmod(tmp_out, 0o755)
        os.replace(tmp_out, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("make-large-fixture: %s (%s, %.1f MB)" % (out, a.arch, os.path.getsize(out) / 1e6))


if __name__ == "__main__":
    main()
