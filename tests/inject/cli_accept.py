#!/usr/bin/env python3
"""Acceptance of `machoplist inject` through the command a user types (issue 5).

usage: cli_accept.py TOOLS_DIR LIEF_DUMP_OR_EMPTY

On every fixture layout and every npm binary that has room:
- inject exits 0 and says what it embedded;
- `machoplist verify` passes with `Info.plist entries=4` in every slice;
- check_inject.py (an independent reader) finds every other section's header
  and bytes, every symbol's section and the segments' VM layout unchanged;
- llvm-otool, LIEF and machoplist agree on the whole layout, and all three find
  exactly the plist's bytes in __TEXT,__info_plist; llvm-objdump prints them;
- a second inject changes no byte and says so.
Binaries without room are refused with exit 7 and left untouched.
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
CLI = os.environ["MP_CLI"]
SRC = os.environ["MP_SRC"]
FIXTURES = os.environ["MP_FIXTURES"]
NPM = os.environ["MP_NPM"]
PLIST = os.path.join(SRC, "fixtures", "Info.plist")

failures, checks = [], 0

WITH_ROOM = ["hello-arm64-headerpad", "hello-x86_64-headerpad", "hello-arm64-headerpad-max", "hello-arm64-debug",
             "hello-x86_64-old", "hello-universal", "hello-go-arm64", "hello-go-x86_64", "hello-arm64-plist"]
NPM_WITH_ROOM = ["esbuild-darwin-arm64", "esbuild-darwin-x64", "biome-darwin-arm64", "fsevents-universal.node"]
NPM_NO_ROOM = ["node-pty-darwin-arm64.node", "node-pty-spawn-helper-darwin-arm64", "sentry-cli-darwin-universal"]


def check(cond, msg):
    global checks
    checks += 1
    if not cond:
        failures.append(msg)
    return cond


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def find_tool(names):
    for n in names:
        p = shutil.which(n) or shutil.which(n + "-14")
        if p:
            return p
        p = os.path.join("/usr/lib/llvm-14/bin", n)
        if os.access(p, os.X_OK):
            return p
    return None


def canon(cmd):
    rc, out, err = run(cmd)
    return out if rc == 0 else "ERROR %d: %s" % (rc, err.strip())


def manifest(path):
    if not os.path.exists(path):
        return []
    return [line.split("\t")[0] for line in open(path) if line.strip()]


def accept(label, original, work, tools, lief, otool, objdump):
    plist = open(PLIST, "rb").read()
    path = os.path.join(work, os.path.basename(original))
    shutil.copyfile(original, path)
    rc, out, err = run([CLI, "inject", "-q", "--plist", PLIST, path])
    if not check(rc == 0 and err == "", "%s: inject exit %d: %s" % (label, rc, err.strip())):
        return
    rc, out, err = run([CLI, "verify", path])
    nslices = out.count("Format=")
    check(rc == 0, "%s: verify exit %d: %s" % (label, rc, out.splitlines()[-1:] + err.splitlines()))
    check(out.count("Info.plist entries=4") >= 1 and out.strip().endswith("%s: valid, Info.plist bound" % path),
          "%s: verify output: %s" % (label, out[-300:]))
    rc, out, err = run([sys.executable, os.path.join(HERE, "check_inject.py"), original, path, PLIST])
    check(rc == 0, "%s: independent check: %s" % (label, (out + err).strip()))

    show = canon([sys.executable, os.path.join(tools, "show_canon.py"), CLI, path])
    others = []
    if otool:
        others.append(("llvm-otool", canon([sys.executable, os.path.join(tools, "otool_canon.py"), otool, path])))
    if lief:
        others.append(("LIEF", canon([lief, path])))
    for name, text in others:
        check(text == show, "%s: %s and machoplist disagree after inject:\n%s\n---\n%s" % (label, name, text, show))
    lines = [line for line in show.splitlines() if line.startswith("info_plist ")]
    check(len(lines) >= 1 and all(line == "info_plist " + plist.hex() for line in lines),
          "%s: __info_plist bytes differ from the plist in some slice" % label)
    if objdump and nslices <= 1:
        rc, out, err = run([objdump, "--macho", "--section=__TEXT,__info_plist", path])
        body = out.split("Contents of (__TEXT,__info_plist) section\n", 1)[-1]
        check(body.strip() == plist.decode().strip(), "%s: llvm-objdump shows other bytes: %r" % (label, body[:200]))

    before = sha(path)
    rc, out, err = run([CLI, "inject", "--plist", PLIST, path])
    check(rc == 0 and out == "%s: already up to date; nothing changed\n" % path,
          "%s: second inject: exit %d, %r %r" % (label, rc, out, err))
    check(sha(path) == before, "%s: second inject changed bytes" % label)


def refuse(label, original, work):
    path = os.path.join(work, os.path.basename(original))
    shutil.copyfile(original, path)
    before = sha(path)
    rc, out, err = run([CLI, "inject", "--plist", PLIST, path])
    check(rc == 7 and out == "" and err.startswith("machoplist: %s: slice " % path) and err.count("\n") == 1 and
          "not enough room in __TEXT" in err, "%s: expected the no-room refusal, got exit %d: %r" % (label, rc, err))
    check(sha(path) == before, "%s: refused file changed" % label)


def main():
    tools, lief = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "")
    if not os.path.exists(os.path.join(FIXTURES, "MANIFEST")):
        print("SKIP: fixtures not built")
        sys.exit(77)
    if lief and not os.access(lief, os.X_OK):
        lief = ""
    otool = find_tool(["llvm-otool"])
    objdump = find_tool(["llvm-objdump"])
    print("cross-checking with: %s, %s, %s" % (otool or "no llvm-otool", lief or "no LIEF", objdump or "no objdump"))
    work = tempfile.mkdtemp(dir=os.environ.get("MP_TMP"))
    fixtures = manifest(os.path.join(FIXTURES, "MANIFEST"))
    for name in WITH_ROOM:
        if name in fixtures:
            accept(name, os.path.join(FIXTURES, name), work, tools, lief, otool, objdump)
    for name in ("hello-arm64", "hello-x86_64", "libfixture-arm64.dylib", "hello-universal-small"):
        if name in fixtures:
            refuse(name, os.path.join(FIXTURES, name), work)
    npm = manifest(os.path.join(NPM, "MANIFEST"))
    if not npm:
        print("note: npm binaries not tested: registry unreachable")
    for name in NPM_WITH_ROOM:
        if check(not npm or name in npm, "npm binary %s missing from the manifest" % name) and npm:
            accept(name, os.path.join(NPM, name), work, tools, lief, otool, objdump)
    for name in NPM_NO_ROOM:
        if npm and name in npm:
            refuse(name, os.path.join(NPM, name), work)
    shutil.rmtree(work, ignore_errors=True)
    for f in failures:
        print("FAIL: " + f)
    print("%d checks, %d failed" % (checks, len(failures)))
    sys.exit(1 if failures else 0)


main()
