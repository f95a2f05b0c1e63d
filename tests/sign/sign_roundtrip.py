#!/usr/bin/env python3
"""sign_roundtrip.py {fixtures|npm} TOOLS_DIR LIEF_DUMP

`machoplist sign` on every fixture (or every npm binary), each result checked
independently of libmachoplist:
- the SuperBlob: blobs in ascending type order, packed, exactly the blobs
  codesign writes (CodeDirectory, empty requirements, kept entitlements,
  alternate CodeDirectory, empty CMS wrapper);
- every CodeDirectory field from Apple's rules (version, flags, hash types,
  page size, identifier, special slot count, execSeg, runtime), every page and
  special-slot hash recomputed with hashlib, the cdhash `verify` prints;
- the layout: signature 16-byte aligned, ending __LINKEDIT and the slice, its
  size equal to codesign's estimate, __LINKEDIT vmsize as codesign_allocate
  rounds it, universal slices re-laid (aligned, zero gaps, nothing after);
- every byte before the signature unchanged except ncmds/sizeofcmds, the
  LC_CODE_SIGNATURE command and __LINKEDIT vmsize/filesize;
- llvm-otool -l and LIEF still parse the result (and agree);
- signing is deterministic, and signing a signed file again changes nothing;
- `verify` accepts the result.
"""
import os
import shutil
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import codesig as cs  # noqa: E402
import macho  # noqa: E402

from checks import check, summary  # noqa: E402  (tests/tools, on the path through codesig)

CLI = os.environ["MP_CLI"]


def eq(got, want, what):
    return check(got == want, "%s: expected %r, got %r" % (what, want, got))


def run(args):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def manifest(path):
    with open(path) as f:
        return [line.split("\t")[0] for line in f if line.strip() and not line.startswith("#")]


def allowed_ranges(orig, new):
    """Byte ranges in the header that signing may change."""
    r = [(16, 24)]  # ncmds, sizeofcmds
    off = cs.codesig_cmd_offset(new)
    r.append((off, off + 16))
    le = cs.segment_cmd_offset(orig, "__LINKEDIT")
    r += [(le + 32, le + 40), (le + 48, le + 56)]  # vmsize, filesize
    return r


def check_slice(label, path, slices, i, orig_slices, explicit_ident=None):
    new, _, _ = slices[i]
    old, _, _ = orig_slices[i]
    where = "%s slice %d" % (label, i)
    sig = cs.Signature(new)

    # SuperBlob: ascending types, packed, exact length
    types = [t for t, _, _ in sig.index]
    eq(types, sorted(types), where + ": index order")
    off = 12 + 8 * len(sig.index)
    for t, o, n in sig.index:
        eq(o, off, where + ": blob %#x offset (packed)" % t)
        off += n
    eq(sig.length, off, where + ": SuperBlob length")

    main_i = cs.main_slice(orig_slices)
    main_old = orig_slices[main_i][0]
    old_sig = cs.Signature(main_old) if main_old.codesig else None
    old_primary = old_sig.cds[0] if old_sig else None
    inherit = old_primary is not None and not (old_primary.flags & 0x20000)
    executable = new.filetype == 2
    ent_xml = old_sig.blobs.get(5) if inherit and executable else None
    ent_der = old_sig.blobs.get(7) if inherit and executable else None
    agile = cs.needs_agile(orig_slices)
    hash_types = [1, 2] if agile else [2]
    want_types = [0, 2] + ([5] if ent_xml else []) + ([7] if ent_der else []) + ([0x1000] if agile else []) + [0x10000]
    eq(types, want_types, where + ": blob types")
    eq(sig.blobs[2], cs.EMPTY_REQUIREMENTS, where + ": requirements blob")
    eq(sig.blobs[0x10000], cs.EMPTY_CMS, where + ": CMS wrapper")
    if ent_xml:
        eq(sig.blobs[5], ent_xml, where + ": XML entitlements kept byte for byte")
    if ent_der:
        eq(sig.blobs[7], ent_der, where + ": DER entitlements kept byte for byte")

    # CodeDirectories
    eq([cd.hash_type for cd in sig.cds], hash_types, where + ": hash types (primary first)")
    n_special = 7 if ent_der else 5 if ent_xml else 2
    flags = 0x2 | ((old_primary.flags & ~0x2) if inherit else 0)
    ident = cs.expected_identifier(path, orig_slices, explicit_ident)
    plat = cs.platform(old)
    text = [s for s in old.segments if s.name == "__TEXT"][0]
    page = 16384 if old.cputype == 0x0100000C and not (plat and plat[0] == 3) else 4096
    for cd in sig.cds:
        w = "%s %s CD" % (where, cs.HASH_NAMES[cd.hash_type])
        runtime = 0
        if flags & 0x10000:
            old_same = [c for c in cs.Signature(old).cds if c.hash_type == cd.hash_type] if old.codesig else []
            runtime = old_same[0].runtime if inherit and old_same and old_same[0].runtime else (plat[2] if plat else 0)
        version = 0x20500 if runtime else 0x20400 if plat and text.filesize else 0x20100
        eq(cd.version, version, w + " version")
        eq(cd.flags, flags, w + " flags")
        eq(cd.identifier, ident, w + " identifier")
        eq(cd.team, None, w + " team id")
        eq(cd.n_special, n_special, w + " nSpecialSlots")
        eq(cd.code_limit, sig.dataoff, w + " codeLimit")
        eq(cd.page_size(), page, w + " page size")
        eq(cd.platform, 0, w + " platform")
        eq(cd.hash_size, cs.HASH_SIZES[cd.hash_type], w + " hash size")
        eq(cd.ident_offset, cs.cd_size(version, "", 0, 0, 0) - 1, w + " identOffset right after the header")
        eq(cd.length, cs.cd_size(version, ident, n_special, cd.n_code, cd.hash_size), w + " length")
        if version >= 0x20400:
            eq((cd.exec_base, cd.exec_limit), (text.fileoff, text.filesize), w + " execSeg base/limit")
            eq(cd.exec_flags, 1 if executable else 0, w + " execSeg flags")
        eq(cd.runtime, runtime, w + " runtime version")
        pl = cs.info_plist(new)
        want_slot1 = cs.digest(cd.hash_type, pl) if pl is not None else b"\0" * cd.hash_size
        eq(cd.special(1).hex(), want_slot1.hex(), w + " slot 1 (Info.plist)")
        eq(cd.special(2).hex(), cs.digest(cd.hash_type, cs.EMPTY_REQUIREMENTS).hex(), w + " slot 2")
    eq(cs.check_hashes(sig), [], where + ": recomputed page and special-slot hashes")

    # Layout
    le_old, le_new = cs.linkedit(old), cs.linkedit(new)
    eq(sig.dataoff % 16, 0, where + ": signature offset aligned")
    eq(sig.dataoff + sig.datasize, len(new.raw), where + ": signature ends the slice")
    eq(le_new.fileoff + le_new.filesize, len(new.raw), where + ": signature ends __LINKEDIT")
    old_extent = old.codesig[0] if old.codesig else len(old.raw)
    others = [cs.EMPTY_REQUIREMENTS] + ([ent_xml] if ent_xml else []) + ([ent_der] if ent_der else [])
    eq(sig.datasize, cs.estimate(old_extent, page, ident, n_special, hash_types, others),
       where + ": signature size = codesign's estimate")
    want_vm = le_old.vmsize
    if le_new.filesize > le_old.vmsize:
        a = 1 << cs.seg_align(old)
        want_vm = (le_new.filesize + a - 1) // a * a
    eq(le_new.vmsize, want_vm, where + ": __LINKEDIT vmsize")
    keep = old.codesig[0] if old.codesig else le_old.fileoff + le_old.filesize
    eq(sig.dataoff, (keep + 15) & ~15, where + ": signature offset")
    a, b = bytes(old.raw[:keep]), bytes(new.raw[:keep])
    ranges = allowed_ranges(old, new)
    bad = [k for k in range(len(a)) if a[k] != b[k] and not any(lo <= k < hi for lo, hi in ranges)]
    eq(bad[:5], [], where + ": bytes before the signature changed outside header fields")
    eq(bytes(new.raw[keep:sig.dataoff]), b"\0" * (sig.dataoff - keep), where + ": padding before signature")
    return [cd.cdhash() for cd in sig.cds], sig.best_cd().cdhash()


def check_fat(label, data, slices):
    if struct.unpack_from(">I", data, 0)[0] != 0xCAFEBABE:
        return
    end = 8 + 20 * len(slices)
    for sl, off, align in slices:
        want = (end + (1 << align) - 1) & -(1 << align)
        eq(off, want, "%s: slice at %#x, canonical %#x" % (label, off, want))
        eq(data[end:off], b"\0" * (off - end), label + ": zero gap")
        end = off + len(sl.raw)
    eq(len(data), end, label + ": file ends with the last slice")


def check_file(label, src, work, tools, lief, force=False):
    d = os.path.join(work, label)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, os.path.basename(label))
    shutil.copyfile(src, path)
    out = os.path.join(d, "signed")
    args = [CLI, "sign"] + (["--force"] if force else []) + ["-o", out, path]
    rc, so, se = run(args)
    if not eq(rc, 0, label + ": sign exit status (%s)" % se.strip()):
        return
    eq(macho.read(path), macho.read(src), label + ": input untouched with -o")
    data = macho.read(out)
    slices = macho.slices(data)
    orig_slices = macho.slices(macho.read(src))
    cdhashes = []
    for i in range(len(slices)):
        _, best = check_slice(label, path, slices, i, orig_slices)
        cdhashes.append(best.hex())
    check_fat(label, data, slices)

    rc, so, se = run([CLI, "verify", "--allow-unbound", out])
    eq(rc, 0, label + ": verify exit status (%s%s)" % (so[-300:], se))
    eq([l[len("CDHash="):] for l in so.splitlines() if l.startswith("CDHash=")], cdhashes, label + ": verify CDHash lines")

    # otool and LIEF still parse it, and agree
    rc, so, se = run([sys.executable, os.path.join(tools, "otool_canon.py"), cs_otool(), out])
    eq(rc, 0, label + ": llvm-otool parses the signed file (%s)" % se.strip())
    if lief:
        rc2, so2, se2 = run([lief, out])
        eq(rc2, 0, label + ": LIEF parses the signed file (%s)" % se2.strip())
        eq(so2, so, label + ": LIEF and otool agree on the signed file")
    if not slices[0][0].raw[:4] == b"\xca\xfe\xba\xbe":
        rc, so, se = run([cs_otool(), "-l", out])
        dataoff, datasize = slices[0][0].codesig if len(slices) == 1 else (None, None)
        if dataoff is not None:
            check("dataoff %d" % dataoff in so and "datasize %d" % datasize in so,
                  label + ": otool -l shows LC_CODE_SIGNATURE dataoff %d datasize %d" % (dataoff, datasize))

    # deterministic; re-signing a signed file changes nothing
    out2 = os.path.join(d, "signed-again")
    rc, _, _ = run([CLI, "sign"] + (["--force"] if force else []) + ["-o", out2, path])
    eq(rc == 0 and macho.read(out2) == data, True, label + ": signing twice gives identical bytes")
    again = os.path.join(d, "resign")
    os.makedirs(again, exist_ok=True)
    again = os.path.join(again, os.path.basename(label))
    shutil.copyfile(out, again)
    rc, _, se = run([CLI, "sign", again])
    if cs.expected_identifier(again, slices) == cs.expected_identifier(path, orig_slices):
        eq(rc == 0 and macho.read(again) == data, True, label + ": re-signing the signed file is a no-op (%s)" % se)
    else:
        # No LC_UUID: codesign's identifier suffix is a SHA-1 of the load
        # commands, which signing changed; only the identifier may differ.
        resigned = macho.slices(macho.read(again))
        want = cs.expected_identifier(again, slices)
        eq([cs.Signature(sl).cds[0].identifier for sl, _, _ in resigned], [want] * len(resigned),
           label + ": re-signed identifier from the new load commands")
        eq([cs.check_hashes(cs.Signature(sl)) for sl, _, _ in resigned], [[]] * len(resigned),
           label + ": re-signed hashes")


_OTOOL = []


def cs_otool():
    if not _OTOOL:
        for name in ("llvm-otool-14", "llvm-otool", "otool"):
            p = shutil.which(name)
            if p:
                _OTOOL.append(p)
                break
        else:
            _OTOOL.append("llvm-otool-14")
    return _OTOOL[0]


def main():
    kind, tools, lief = sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else ""
    if lief and not os.path.exists(lief):
        lief = ""
    work = os.path.join(os.environ["MP_TMP"], "sign-roundtrip-" + kind)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    if not shutil.which(cs_otool()):
        print("SKIP: llvm-otool not found")
        sys.exit(77)
    if kind == "fixtures":
        base = os.environ["MP_FIXTURES"]
        if not os.path.exists(os.path.join(base, "MANIFEST")):
            print("SKIP: fixtures not built")
            sys.exit(77)
        for name in manifest(os.path.join(base, "MANIFEST")):
            check_file(name, os.path.join(base, name), work, tools, lief)
    else:
        base = os.environ["MP_NPM"]
        if not os.path.exists(os.path.join(base, "MANIFEST")):
            print("SKIP: npm registry unreachable, real Apple-signed binaries not tested")
            sys.exit(77)
        for name in manifest(os.path.join(base, "MANIFEST")):
            check_file(name, os.path.join(base, name), work, tools, lief, force=name.startswith("sentry-cli"))
    sys.exit(summary())


if __name__ == "__main__":
    main()
