"""Shared helpers of the verify tests."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sign"))
import codesig as cs  # noqa: E402,F401
import macho  # noqa: E402,F401

from checks import check, count, summary  # noqa: E402  (tests/tools, on the path through codesig)

CLI = os.environ["MP_CLI"]


def eq(got, want, what):
    return check(got == want, "%s:\n   expected %r\n   got      %r" % (what, want, got))


def verify(*args):
    """(exit status, lines, problems without 'problem: ', verdict line, stderr)"""
    p = subprocess.run([CLI, "verify"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines = p.stdout.decode(errors="replace").splitlines()
    problems = [l[len("problem: "):] for l in lines if l.startswith("problem: ")]
    return p.returncode, lines, problems, lines[-1] if lines else "", p.stderr.decode(errors="replace")


def sign(*args):
    p = subprocess.run([CLI, "sign"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stderr.decode(errors="replace")


def manifest(path):
    with open(path) as f:
        return [line.split("\t")[0] for line in f if line.strip() and not line.startswith("#")]


def workdir(name):
    import shutil
    d = os.path.join(os.environ["MP_TMP"], name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def done():
    if count() == 0:
        print("SKIP: nothing to check")
        sys.exit(77)
    sys.exit(summary())
