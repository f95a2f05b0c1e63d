#!/usr/bin/env python3
"""SIGINT, SIGTERM or SIGHUP while inject runs (issue 8 changed when the
temporary file exists: the hashing threads write the output as they hash, so
a temporary exists for most of a run, not only while it is written out).

A ~200 MiB executable (the fixture of shrink.py) is injected, and a signal
sent after a fraction of the time a clean inject takes. Each run must end
either killed by that signal or finished (exit 0), with the file either
unchanged or the complete injected result (a signal after the rename kills
a run whose work is done), and in every case no temporary file left in the
directory. At least one run per signal must really have been interrupted.

Exit 77 (skip) as shrink.py does: no clang/ld64.lld or too little disk.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import shrink  # the fixture and its constants
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from checks import check, sha, summary  # noqa: E402  (tests/tools/checks.py)

CLI, TMP, PLIST = shrink.CLI, shrink.TMP, shrink.PLIST
FRACTIONS = (0.15, 0.45, 0.75)
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def main():
    os.makedirs(TMP, exist_ok=True)
    if shutil.disk_usage(TMP).free < (shrink.SIZE_MB * 4 + 100) << 20:
        print("SKIP: less than %d MiB free in %s" % (shrink.SIZE_MB * 4 + 100, TMP))
        return 77
    big = shrink.fixture("interrupt-fixture")
    original = sha(big)
    work = tempfile.mkdtemp(prefix="interrupt.", dir=TMP)
    try:
        target = os.path.join(work, "large")
        cmd = [CLI, "inject", "-q", "--plist", PLIST, target]
        shutil.copyfile(big, target)
        t0 = time.monotonic()
        r = subprocess.run(cmd, capture_output=True)
        took = time.monotonic() - t0
        check(r.returncode == 0, "clean inject: exit %d %r" % (r.returncode, r.stderr[:300]))
        injected = sha(target)
        print("a clean inject takes %.2f s" % took)
        for sig in SIGNALS:
            interrupted = 0
            for frac in FRACTIONS:
                shutil.copyfile(big, target)
                what = "%s after %.2f s" % (signal.Signals(sig).name, frac * took)
                p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                time.sleep(frac * took)
                p.send_signal(sig)
                out, err = p.communicate(timeout=120)
                h = sha(target)
                if p.returncode == -sig:
                    interrupted += 1  # before or after the rename: one version or the other
                    check(h in (original, injected), "%s: interrupted, and the file is neither version" % what)
                else:
                    check(p.returncode == 0 and h == injected,
                          "%s: exit %d, stderr %r: neither interrupted nor finished" % (what, p.returncode, err[:300]))
                left = sorted(set(os.listdir(work)) - {"large"})
                check(left == [], "%s (exit %d): left %r" % (what, p.returncode, left))
                print("%s: %s" % (what, "interrupted" if p.returncode == -sig else "finished first"))
            check(interrupted > 0, "%s never interrupted a run" % signal.Signals(sig).name)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
