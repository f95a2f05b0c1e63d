"""Check counting and file hashing shared by the Python tests.

check(cond, what) counts a check and records a failure (printed at once);
summary() prints the closing line and returns the exit code."""
import hashlib
import sys

failures = []
_count = [0]


def check(cond, what):
    _count[0] += 1
    if not cond:
        failures.append(what)
        print("FAIL: " + what, file=sys.stderr)
    return cond


def count():
    return _count[0]


def summary(note=""):
    """'N of M checks failed' (exit 1) or 'M checks passed' (exit 0)."""
    if failures:
        print("%d of %d checks failed%s" % (len(failures), count(), note), file=sys.stderr)
        return 1
    print("%d checks passed" % count())
    return 0


def sha(path):
    """sha256 of a file, read in 4 MiB pieces."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 22)
            if not b:
                return h.hexdigest()
            h.update(b)
