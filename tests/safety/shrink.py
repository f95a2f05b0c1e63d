#!/usr/bin/env python3
"""A file that shrinks while machoplist reads it (issue 7).

A ~200 MiB executable (tests/bench/make-large-fixture.py: hello.c plus a
200 MiB __DATA,__blob section, signed by the linker) is truncated by this
process -- ftruncate on a descriptor opened before the command starts, so it
is the file the command opened -- at several delays after `machoplist verify`
or `machoplist inject` starts, to several sizes. Each run must end in one of:

  - a clean I/O error: exit 3, nothing on stdout, one stderr line naming the
    file ("machoplist: FILE: ...");
  - the result the same command gives on the old content (the truncation came
    after the command was done with the bytes);
  - the result it gives on the new, truncated content (the truncation came
    first);

and never in a crash signal or a sanitizer report (exit >= 97 or negative),
nor a hang. For inject, the file afterwards holds the injected old content,
or the truncated bytes when inject refused (it never writes a result built
from half-read bytes), and no temporary file is left in the directory.

The library reads files with read(2) today; this is the test for when it
maps large inputs (a truncated mapping faults with SIGBUS instead of
returning a short read).

Exit 77 (skip) without clang/ld64.lld (the fixture is built) or 1.5 GiB of
free disk. The fixture is kept in MP_TMP/shrink-fixture for later runs.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from checks import check, sha, summary  # noqa: E402  (tests/tools/checks.py)

CLI = os.environ["MP_CLI"]
SRC = os.environ["MP_SRC"]
TMP = os.environ["MP_TMP"]
PLIST = os.path.join(SRC, "fixtures", "Info.plist")
SIZE_MB = int(os.environ.get("MP_SHRINK_MB", "200"))

# (delay in seconds after the command starts, size the file is cut to)
VERIFY_RUNS = [(0.0, 0), (0.02, 4096), (0.05, None), (0.1, 0), (0.2, None), (0.4, 4096)]
INJECT_RUNS = [(0.0, None), (0.03, 0), (0.08, None), (0.2, 4096), (0.5, None)]


def crashed(rc):
    return rc < 0 or rc >= 97


def fixture(dirname="shrink-fixture"):
    d = os.path.join(TMP, dirname)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "large-%d" % SIZE_MB)
    if not os.path.exists(path):
        r = subprocess.run([sys.executable, os.path.join(SRC, "tests", "bench", "make-large-fixture.py"), path,
                            str(SIZE_MB)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            if "not found" in r.stdout:
                print("SKIP: " + r.stdout.strip().splitlines()[-1])
                sys.exit(77)
            print(r.stdout)
            sys.exit("make-large-fixture.py failed (%d)" % r.returncode)
    return path


def race(args, target, delay, size):
    """Starts machoplist ARGS, cuts `target` to `size` after `delay` s;
    (exit status, stdout, stderr)."""
    fd = os.open(target, os.O_RDWR)
    try:
        p = subprocess.Popen([CLI] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(delay)
        os.ftruncate(fd, size)
        try:
            out, err = p.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            return -1000, out, b"hung\n"
    finally:
        os.close(fd)
    return p.returncode, out, err


def run(args):
    p = subprocess.run([CLI] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    return p.returncode, p.stdout, p.stderr


def clean_io_error(rc, out, err, target):
    text = err.decode("utf-8", "replace")
    return rc == 3 and out == b"" and text.count("\n") == 1 and text.startswith("machoplist: %s: " % target)


def main():
    os.makedirs(TMP, exist_ok=True)
    if shutil.disk_usage(TMP).free < (SIZE_MB * 7 + 100) << 20:
        print("SKIP: less than %d MiB free in %s" % (SIZE_MB * 7 + 100, TMP))
        return 77
    big = fixture()
    full = os.path.getsize(big)
    work = tempfile.mkdtemp(prefix="shrink.", dir=TMP)
    try:
        target = os.path.join(work, "large")
        names = ["large"]

        def reset(size=None):
            shutil.copyfile(big, target)
            if size is not None:
                os.truncate(target, size)

        def cut(size):
            return full // 2 if size is None else size

        # What verify and inject say on the old and on each new content.
        reset()
        verify_old = run(["verify", "--allow-unbound", target])
        check(verify_old[0] == 0, "verify on the untouched file: exit %d %r" % (verify_old[0], verify_old[2][:300]))
        t0 = time.monotonic()
        inject_old = run(["inject", "-q", "--plist", PLIST, target])
        inject_time = time.monotonic() - t0
        check(inject_old[0] == 0 and inject_old[2] == b"", "inject on the untouched file: exit %d %r"
              % (inject_old[0], inject_old[2][:300]))
        injected = sha(target)
        new = {}
        for size in sorted({cut(s) for _, s in VERIFY_RUNS + INJECT_RUNS}):
            reset(size)
            new[size] = (sha(target), run(["verify", "--allow-unbound", target]),
                         run(["inject", "-q", "--plist", PLIST, target]))
            check(sha(target) == new[size][0], "inject changed the %d-byte file it refused" % size)
        t0 = time.monotonic()
        reset()
        run(["verify", "--allow-unbound", target])
        verify_time = time.monotonic() - t0
        print("%s: %d bytes; a clean verify takes %.2f s (with the copy), inject %.2f s"
              % (os.path.basename(big), full, verify_time, inject_time))

        outcomes = {}
        for delay, size in VERIFY_RUNS:
            size = cut(size)
            reset()
            what = "verify, cut to %d bytes after %.2f s" % (size, delay)
            rc, out, err = race(["verify", "--allow-unbound", target], target, delay, size)
            result = (rc, out, err)
            kind = ("old" if result == verify_old else "new" if result == new[size][1]
                    else "io-error" if clean_io_error(rc, out, err, target) else None)
            check(not crashed(rc), "%s: exit %d: %s" % (what, rc, err.decode("utf-8", "replace")[-600:]))
            check(kind is not None, "%s: exit %d, stderr %r: neither the old nor the new result nor a clean I/O error"
                  % (what, rc, err[:400]))
            outcomes["verify " + str(kind)] = outcomes.get("verify " + str(kind), 0) + 1

        for delay, size in INJECT_RUNS:
            size = cut(size)
            reset()
            what = "inject, cut to %d bytes after %.2f s" % (size, delay)
            rc, out, err = race(["inject", "-q", "--plist", PLIST, target], target, delay, size)
            h = sha(target)
            if rc == 0 and err == b"" and h == injected:
                kind = "old"
            elif (rc, out, err) == new[size][2] and h == new[size][0]:
                kind = "new"
            elif clean_io_error(rc, out, err, target) and h == new[size][0]:
                kind = "io-error"
            else:
                kind = None
            check(not crashed(rc), "%s: exit %d: %s" % (what, rc, err.decode("utf-8", "replace")[-600:]))
            check(kind is not None, "%s: exit %d, stderr %r, file sha256 %s: not an accepted outcome"
                  % (what, rc, err[:400], h))
            check(sorted(os.listdir(work)) == names, "%s: left %r" % (what, sorted(set(os.listdir(work)) - set(names))))
            outcomes["inject " + str(kind)] = outcomes.get("inject " + str(kind), 0) + 1
        print("outcomes: %s" % dict(sorted(outcomes.items())))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
