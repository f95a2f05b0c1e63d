#!/usr/bin/env python3
"""The signature facts `machoplist show` reports are the ones really in the file.

For every fixture and every npm binary, each slice's embedded signature is
parsed here independently (machoview.py: SuperBlob index, primary
CodeDirectory) and every field of `show --json`'s "signature" object is
compared with it: identifier, team id, flags and their text, version, hash
type, page size, slot counts, special slots holding hashes, code limit,
number of CodeDirectories, runtime version, execSeg fields, entitlement and
CMS blobs, and the cdhash (the primary CodeDirectory hashed with its own hash
type, truncated to 20 bytes). The text output's Identifier= and
TeamIdentifier= lines are checked too.

On top of that, values measured once on the pinned npm binaries (same bytes
everywhere: fetch-npm-binaries.sh checks their SHA-256) are asserted as
constants, so a parser bug shared by this script and machoplist cannot hide.
"""
import hashlib
import json
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import machoview as mv  # noqa: E402

CLI = os.environ["MP_CLI"]
FIXTURES = os.environ["MP_FIXTURES"]
NPM = os.environ["MP_NPM"]

HASH_NAMES = {1: "sha1", 2: "sha256", 3: "sha256_truncated", 4: "sha384"}
HASH_FUNCS = {1: hashlib.sha1, 2: hashlib.sha256, 3: hashlib.sha256, 4: hashlib.sha384}

# Measured on the pinned npm binaries: name -> [per slice: (arch, identifier,
# team id, flags text, CodeDirectory version, runtime version, blob types)]
# or None for an unsigned slice.
PINNED = {
    "esbuild-darwin-arm64": [("arm64", "a.out", None, "0x20002(adhoc,linker-signed)", 0x20400, 0, [0])],
    "esbuild-darwin-x64": [("x86_64", None)],
    "biome-darwin-arm64": [("arm64", "biome", None, "0x20002(adhoc,linker-signed)", 0x20400, 0, [0])],
    "sentry-cli-darwin-universal": [
        ("x86_64", "sentry-cli-Darwin-universal", "97JCY7859U", "0x10000(runtime)", 0x20500, 0x1A0500,
         [0, 2, 5, 7, 0x10000]),
        ("arm64", "sentry_cli-ed605fe0983d3ac0", "97JCY7859U", "0x10000(runtime)", 0x20500, 0x1A0500,
         [0, 2, 5, 7, 0x10000]),
    ],
    "fsevents-universal.node": [("x86_64", None),
                                ("arm64", "fsevents.node", None, "0x20002(adhoc,linker-signed)", 0x20400, 0, [0])],
    "node-pty-darwin-arm64.node": [("arm64", "pty.node", None, "0x20002(adhoc,linker-signed)", 0x20400, 0, [0])],
    "node-pty-darwin-x64.node": [("x86_64", None)],
    "node-pty-spawn-helper-darwin-arm64": [
        ("arm64", "spawn-helper", None, "0x20002(adhoc,linker-signed)", 0x20400, 0, [0])],
    "node-pty-spawn-helper-darwin-x64": [("x86_64", None)],
}

failures, checks = [], 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        failures.append(what)
    return cond


def eq(got, want, what):
    return check(got == want, "%s: got %r, expected %r" % (what, got, want))


def manifest(path):
    try:
        with open(path) as f:
            return [l.split("\t", 1)[0] for l in f if l.strip()]
    except OSError:
        return None


def expected_signature(s):
    """show --json's "signature" object, computed independently; None when unsigned."""
    cs = s.code_signature()
    if cs is None:
        return None
    dataoff, datasize = cs
    sb = mv.SuperBlob(s.data, dataoff)
    cd = sb.primary
    present = []
    for slot in range(1, min(cd.n_special, 31) + 1):
        h = cd.blob[cd.hash_offset - slot * cd.hash_size:cd.hash_offset - (slot - 1) * cd.hash_size]
        if any(h):
            present.append(slot)
    cms = sb.blobs.get(0x10000)
    return {
        "offset": dataoff,
        "size": datasize,
        "decoded": True,
        "identifier": cd.identifier,
        "team_id": cd.team_id,
        "flags": cd.flags,
        "flags_text": mv.cs_flags_text(cd.flags),
        "code_directory_version": cd.version,
        "hash_type": HASH_NAMES.get(cd.hash_type, "unknown"),
        "page_size": 1 << cd.page_shift if cd.page_shift else 0,
        "code_slots": cd.n_code,
        "special_slots": cd.n_special,
        "special_slots_present": present,
        "code_limit": cd.code_limit,
        "code_directories": len(sb.cds),
        "runtime_version": cd.runtime,
        "exec_seg_base": cd.exec_seg[0],
        "exec_seg_limit": cd.exec_seg[1],
        "exec_seg_flags": cd.exec_seg[2],
        "entitlements_xml": 5 in sb.blobs,
        "entitlements_der": 7 in sb.blobs,
        "cms_signature": cms is not None and cms[2] > 8,
        "cdhash": HASH_FUNCS[cd.hash_type](cd.blob).hexdigest()[:40],
    }, sb


def run(args):
    p = subprocess.run([CLI] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    return p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8", "replace")


def check_file(label, path, pinned=None):
    with open(path, "rb") as f:
        data = f.read()
    rc, out, err = run(["show", "--json", path])
    if not check(rc == 0 and err == "", "%s: show --json exit %d: %s" % (label, rc, err.strip())):
        return
    doc = json.loads(out)
    sl = mv.slices(data)
    if not eq(len(doc["slices"]), len(sl), "%s: slice count" % label):
        return
    rc, text, err = run(["show", path])
    check(rc == 0, "%s: show exit %d" % (label, rc))
    text_blocks = text.split("\nslice ")[1:]
    for i, ((fat_offset, s), js) in enumerate(zip(sl, doc["slices"])):
        where = "%s slice %d (%s)" % (label, i, s.arch)
        eq(js["arch"], s.arch, where + ": arch")
        want = expected_signature(s)
        got = js["signature"]
        if want is None:
            eq(got, None, where + ": signature")
        else:
            want, sb = want
            for k in want:
                eq(got.get(k), want[k], "%s: signature.%s" % (where, k))
            check(set(got) == set(want), "%s: signature keys %s vs %s" % (where, sorted(got), sorted(want)))
            block = text_blocks[i] if i < len(text_blocks) else ""
            check("    Identifier=%s\n" % want["identifier"] in block, where + ": text lacks Identifier=" + want["identifier"])
            check("    TeamIdentifier=%s\n" % (want["team_id"] or "not set") in block, where + ": text TeamIdentifier")
            check(" flags=%s " % want["flags_text"] in block, where + ": text flags=" + want["flags_text"])
        if pinned is not None:
            if not check(i < len(pinned), where + ": more slices than pinned"):
                continue
            p = pinned[i]
            eq(s.arch, p[0], where + ": pinned arch")
            if p[1] is None:
                eq(got, None, where + ": pinned unsigned")
                continue
            if not check(got is not None and got.get("decoded"), where + ": pinned signed, show reports %r" % got):
                continue
            eq(got["identifier"], p[1], where + ": pinned identifier")
            eq(got["team_id"], p[2], where + ": pinned team id")
            eq(got["flags_text"], p[3], where + ": pinned flags")
            eq(got["code_directory_version"], p[4], where + ": pinned CodeDirectory version")
            eq(got["runtime_version"], p[5], where + ": pinned runtime version")
            eq(sorted(t for t, _ in sb.index), p[6], where + ": pinned blob types")
    if pinned is not None:
        eq(len(sl), len(pinned), label + ": pinned slice count")


def main():
    fixtures = manifest(os.path.join(FIXTURES, "MANIFEST"))
    npm = manifest(os.path.join(NPM, "MANIFEST"))
    if fixtures is None and npm is None:
        print("SKIP: neither fixtures (%s) nor npm binaries (%s) available" % (FIXTURES, NPM))
        return 77
    if fixtures is None:
        print("note: fixtures not built; checking npm binaries only")
    for name in fixtures or []:
        check_file(name, os.path.join(FIXTURES, name))
    if fixtures and "hello-arm64" in fixtures:
        # lld's ad hoc signature: identifier = output file name, linker-signed.
        rc, out, _ = run(["show", "--json", os.path.join(FIXTURES, "hello-arm64")])
        sig = json.loads(out)["slices"][0]["signature"]
        eq((sig["identifier"], sig["flags_text"], sig["team_id"]),
           ("hello-arm64", "0x20002(adhoc,linker-signed)", None), "hello-arm64: lld signature")
    if npm is None:
        print("note: npm binaries unavailable; pinned Apple-signed checks not run")
    else:
        for name in npm:
            check_file("npm:" + name, os.path.join(NPM, name), PINNED.get(name))
        for name in PINNED:
            check(name in npm, "npm MANIFEST lacks pinned binary %s" % name)
    if failures:
        for f in failures:
            print("FAIL: " + f, file=sys.stderr)
        print("%d of %d checks failed" % (len(failures), checks), file=sys.stderr)
        return 1
    print("%d checks passed (%d fixtures, %d npm binaries)" % (checks, len(fixtures or []), len(npm or [])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
