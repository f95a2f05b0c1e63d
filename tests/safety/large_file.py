#!/usr/bin/env python3
"""Size limits (issue 7): a 2 GiB binary is injected, signed and verified
without being held in memory, and a slice of 4 GiB or more is refused.

1. A 2 GiB arm64 executable (tests/bench/make-large-fixture.py --zero: a real
   ld64.lld link with a 2048 MiB __DATA,__blob section, signed by the linker)
   goes through `inject -o` and `verify`. Each must succeed with a peak
   resident set (wait4 ru_maxrss) under PEAK_LIMIT_MIB, far below the file:
   the file is mapped, hashed and copied in pieces (lib/buffer.h). The
   figures are printed. The limit is loose because this suite runs under
   ASan; tests/bench/bench.sh measures the release build.
2. A file of 4 GiB + 4 KiB whose first bytes are a valid Mach-O: show,
   verify and inject exit 6 with the exact one-line message, and the file
   keeps its size, mtime and first bytes, with no temporary left beside it.

Needs about 7 GiB of free disk in MP_TMP (sparse where the filesystem
allows); skipped, saying so, when there is less or when clang/ld64.lld are
missing.
"""
import hashlib
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from checks import check, summary  # noqa: E402  (tests/tools/checks.py)

CLI = os.environ["MP_CLI"]
SRC = os.environ["MP_SRC"]
FIXTURES = os.environ["MP_FIXTURES"]
TMP = os.environ.get("MP_TMP", "/tmp")
PEAK_LIMIT_MIB = 256
NEED_FREE = 7 << 30


def run_measured(args):
    """Like run, but the child's own rusage (not the sum over all children)."""
    r, w = os.pipe()
    re_, we = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.dup2(w, 1)
        os.dup2(we, 2)
        os.close(r)
        os.close(re_)
        try:
            os.execv(args[0], args)
        finally:
            os._exit(127)
    os.close(w)
    os.close(we)
    with os.fdopen(r) as fo, os.fdopen(re_) as fe:
        out = fo.read()
        err = fe.read()
    _, status, usage = os.wait4(pid, 0)
    return os.waitstatus_to_exitcode(status), out, err, usage.ru_maxrss / 1024


def head_sha(path, n=1 << 20):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read(n)).hexdigest()


def main():
    if not os.path.exists(os.path.join(FIXTURES, "MANIFEST")):
        print("SKIP: fixtures not built (clang/ld64.lld missing?)")
        return 77
    os.makedirs(TMP, exist_ok=True)
    free = shutil.disk_usage(TMP).free
    if free < NEED_FREE:
        print("SKIP: %.1f GiB free in %s, the 2 GiB and 4 GiB files need %d GiB" % (free / 2**30, TMP, NEED_FREE >> 30))
        return 77
    work = os.path.join(TMP, "large-file")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    try:
        two_gib(work)
        over_four_gib(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return summary()


def two_gib(work):
    big = os.path.join(work, "big")
    r = subprocess.run([sys.executable, os.path.join(SRC, "tests/bench/make-large-fixture.py"), big, "2048",
                        "--zero", "--work", work], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        check(False, "building the 2 GiB fixture: " + r.stdout.strip())
        return
    size = os.path.getsize(big)
    check(size > 2 << 30, "the fixture is over 2 GiB (%d bytes)" % size)
    out = os.path.join(work, "big.out")
    rc, _, err, peak = run_measured([CLI, "inject", "-q", "-o", out, big])
    print("inject -o: %.2f GiB file, exit %d, peak RSS %.1f MiB" % (size / 2**30, rc, peak))
    check(rc == 0, "inject of the 2 GiB file exits 0 (got %d: %s)" % (rc, err.strip()))
    check(0 < peak < PEAK_LIMIT_MIB, "inject peak RSS %.1f MiB < %d MiB" % (peak, PEAK_LIMIT_MIB))
    if rc != 0:
        os.unlink(big)
        return
    rc, stdout, err, peak = run_measured([CLI, "verify", out])
    print("verify: exit %d, peak RSS %.1f MiB" % (rc, peak))
    check(rc == 0, "verify of the injected 2 GiB file exits 0 (got %d: %s)" % (rc, err.strip()))
    check(stdout.rstrip().endswith(out + ": valid, Info.plist bound"), "verify says valid, Info.plist bound")
    check("Info.plist entries=4" in stdout, "verify sees the embedded Info.plist")
    check(0 < peak < PEAK_LIMIT_MIB, "verify peak RSS %.1f MiB < %d MiB" % (peak, PEAK_LIMIT_MIB))
    os.unlink(out)
    os.unlink(big)


def over_four_gib(work):
    huge = os.path.join(work, "huge")
    shutil.copy(os.path.join(FIXTURES, "hello-arm64-headerpad"), huge)
    size = (4 << 30) + 4096
    os.truncate(huge, size)
    before = (os.stat(huge).st_mtime_ns, head_sha(huge))
    want = ("machoplist: %s: %d bytes; a Mach-O slice of 4 GiB or more is not supported "
            "(file offsets in load commands are 32-bit)" % (huge, size))
    for cmd in (["show"], ["verify"], ["inject"]):
        rc, out, err, _ = run_measured([CLI] + cmd + [huge])
        check(rc == 6, "%s of a 4 GiB + 4 KiB file exits 6 (got %d)" % (cmd[0], rc))
        check(err.splitlines() == [want], "%s message: expected [%s], got [%s]" % (cmd[0], want, err.strip()))
        check(out == "", "%s prints nothing on stdout" % cmd[0])
    check(os.path.getsize(huge) == size, "the 4 GiB file keeps its size")
    check((os.stat(huge).st_mtime_ns, head_sha(huge)) == before, "the 4 GiB file is unchanged")
    check(sorted(os.listdir(work)) == ["huge"], "no temporary file left (%s)" % sorted(os.listdir(work)))


if __name__ == "__main__":
    sys.exit(main())
