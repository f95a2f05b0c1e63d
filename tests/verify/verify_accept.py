#!/usr/bin/env python3
"""verify accepts real signatures: every Apple/Go/lld-signed npm binary and
fixture, and everything machoplist signs. The codesign -dvvv style lines are
checked against values computed here from the file bytes (hashlib), exit
statuses and verdict lines exactly."""
import json
import os
import shutil

from vcommon import cs, macho, eq, check, verify, sign, manifest, workdir, done

UNSIGNED = "code object is not signed at all (no LC_CODE_SIGNATURE)"


def flags_text(f):
    names = [(0x1, "host"), (0x2, "adhoc"), (0x4, "forced"), (0x100, "hard"), (0x200, "kill"), (0x400, "expires"),
             (0x800, "restrict"), (0x1000, "enforcement"), (0x2000, "library-validation"), (0x10000, "runtime"),
             (0x20000, "linker-signed")]
    return "%#x(%s)" % (f, ",".join(n for b, n in names if f & b))


def expected_lines(path, sl, arch, universal_format):
    """The codesign -dvvv style block for one signed slice."""
    sig = cs.Signature(sl)
    best = sig.best_cd()
    cds = sorted(sig.cds, key=lambda c: c.hash_type)
    out = ["Executable=" + path, "Identifier=" + best.identifier]
    out.append("Format=" + universal_format)
    if universal_format.startswith("Mach-O universal"):
        out.append("Architecture=" + arch)
    out.append("CodeDirectory v=%x size=%d flags=%s hashes=%d+%d location=embedded" %
               (best.version, best.length, flags_text(best.flags), best.n_code, best.n_special))
    out.append("Hash type=%s size=%d" % (cs.HASH_NAMES[best.hash_type], best.hash_size))
    for cd in cds:
        out.append("CandidateCDHash %s=%s" % (cs.HASH_NAMES[cd.hash_type], cd.cdhash().hex()))
        out.append("CandidateCDHashFull %s=%s" % (cs.HASH_NAMES[cd.hash_type], cd.cdhash(True).hex()))
    out.append("Hash choices=" + ",".join(cs.HASH_NAMES[c.hash_type] for c in cds))
    out.append("Page size=%d" % best.page_size())
    out.append("CDHash=" + best.cdhash().hex())
    cms = sig.blobs.get(0x10000)
    out.append("Signature=adhoc" if cms is None or len(cms) <= 8 else "Signature size=%d" % (len(cms) - 8))
    pl = cs.info_plist(sl)
    bound = pl is not None and all(c.n_special >= 1 and c.special(1) == cs.digest(c.hash_type, pl) for c in sig.cds)
    if bound:
        import plistlib
        out.append("Info.plist entries=%d" % len(plistlib.loads(pl)))
    else:
        out.append("Info.plist=not bound")
    out.append("TeamIdentifier=" + (best.team or "not set"))
    if best.runtime:
        r = best.runtime
        out.append("Runtime Version=%d.%d.%d" % (r >> 16, (r >> 8) & 0xFF, r & 0xFF))
    out.append("Sealed Resources=none")
    req = sig.blobs.get(2)
    out.append("Internal requirements count=%d size=%d" % (int.from_bytes(req[8:12], "big"), len(req))
               if req else "Internal requirements=none")
    return out, bound


ARCH = {0x0100000C: "arm64", 0x01000007: "x86_64"}


def check_file(label, path, expect_valid=True):
    slices = macho.slices(macho.read(path))
    universal = len(slices) > 1 or macho.read(path)[:4] == b"\xca\xfe\xba\xbe"
    archs = [ARCH.get(sl.cputype, "?") for sl, _, _ in slices]
    fmt = "Mach-O universal (%s)" % " ".join(archs) if universal else "Mach-O thin (%s)" % archs[0]
    want, all_bound, unsigned = [], True, []
    for i, (sl, _, _) in enumerate(slices):
        if not sl.codesig:
            want += ["Executable=" + path, "Format=" + fmt] + (["Architecture=" + archs[i]] if universal else []) + \
                    ["Signature=none"]
            unsigned.append("slice %d (%s): %s" % (i, archs[i], UNSIGNED))
            all_bound = False
            continue
        lines, bound = expected_lines(path, sl, archs[i], fmt)
        want += lines
        all_bound = all_bound and bound
    rc, lines, problems, verdict, err = verify("--allow-unbound", path)
    eq(lines[:len(want)], want, label + ": codesign -dvvv style lines")
    if unsigned:
        eq(rc, 1, label + ": exit status (unsigned slice)")
        eq(problems, [path + ": " + u for u in unsigned], label + ": problems")
        eq(verdict, "%s: INVALID: %s" % (path, unsigned[0]), label + ": verdict")
        return
    eq(problems, [], label + ": no problems")
    eq((rc, verdict), (0, "%s: valid, Info.plist %s" % (path, "bound" if all_bound else "not bound")),
       label + ": accepted")
    rc, lines, problems, verdict, err = verify(path)
    eq(rc, 0 if all_bound else 1, label + ": exit status when the Info.plist is required")
    rc, out, _, _, _ = verify("--json", path)
    doc = json.loads("\n".join(out))
    eq((doc["valid"], doc["info_plist_bound"], doc["ok"], doc["problems"]), (True, all_bound, all_bound, []),
       label + ": --json verdict")
    eq([s["cdhash"] for s in doc["slices"]], [cs.Signature(sl).best_cd().cdhash().hex() for sl, _, _ in slices],
       label + ": --json cdhashes")


def main():
    work = workdir("verify-accept")
    npm, fx = os.environ["MP_NPM"], os.environ["MP_FIXTURES"]
    if os.path.exists(os.path.join(npm, "MANIFEST")):
        for name in manifest(os.path.join(npm, "MANIFEST")):
            check_file("npm " + name, os.path.join(npm, name))
            # and after machoplist signs it
            p = os.path.join(work, name)
            shutil.copyfile(os.path.join(npm, name), p)
            rc, err = sign("--force", p)
            eq(rc, 0, name + ": sign (%s)" % err.strip())
            check_file("signed npm " + name, p)
        # pinned facts of Apple's signatures
        rc, lines, _, _, _ = verify("--allow-unbound", os.path.join(npm, "sentry-cli-darwin-universal"))
        for line in ("Identifier=sentry-cli-Darwin-universal", "Identifier=sentry_cli-ed605fe0983d3ac0",
                     "Signature size=8970", "TeamIdentifier=97JCY7859U", "Runtime Version=26.5.0",
                     "Internal requirements count=1 size=188",
                     "CodeDirectory v=20500 size=105959 flags=0x10000(runtime) hashes=3300+7 location=embedded"):
            check(line in lines, "sentry-cli: line %r" % line)
        rc, lines, _, _, _ = verify("--allow-unbound", os.path.join(npm, "esbuild-darwin-arm64"))
        check("CodeDirectory v=20400 size=82206 flags=0x20002(adhoc,linker-signed) hashes=2566+0 location=embedded"
              in lines, "esbuild-darwin-arm64: CodeDirectory line")
    else:
        print("note: npm binaries unavailable (registry unreachable); fixtures only")
    if os.path.exists(os.path.join(fx, "MANIFEST")):
        for name in manifest(os.path.join(fx, "MANIFEST")):
            check_file("fixture " + name, os.path.join(fx, name))
            p = os.path.join(work, name)
            shutil.copyfile(os.path.join(fx, name), p)
            rc, err = sign(p)
            eq(rc, 0, name + ": sign (%s)" % err.strip())
            check_file("signed fixture " + name, p)
        rc, lines, problems, verdict, _ = verify(os.path.join(work, "hello-arm64-plist"))
        eq((rc, verdict), (0, os.path.join(work, "hello-arm64-plist") + ": valid, Info.plist bound"),
           "signed plist fixture: bound without --allow-unbound")
        check("Info.plist entries=4" in lines, "signed plist fixture: Info.plist entries=4")
        rc, lines, problems, verdict, _ = verify(os.path.join(fx, "hello-arm64-plist"))
        eq((rc, verdict), (1, os.path.join(fx, "hello-arm64-plist") + ": valid, Info.plist not bound"),
           "lld signature does not bind the plist: exit 1")
    done()


if __name__ == "__main__":
    main()
