#!/usr/bin/env python3
"""verify rejects a one-byte change in each signed part, each its own case,
with the exact first problem and exit status 1:
 (a) a signed code page (a fixture we signed, and Apple's esbuild signature);
 (b) the __TEXT,__info_plist section (hello-arm64-plist after signing);
 (c) an entitlements blob (sentry-cli, Developer ID and after re-signing);
 (d) the CodeDirectory (a page hash in it; its codeLimit);
and layout breaks: bytes after the last slice of a universal file, after the
signature of a thin one, an unsorted SuperBlob index."""
import os
import shutil
import struct

from vcommon import cs, macho, eq, check, verify, sign, workdir, done

PAGES = "%d of %d pages do not match the %s CodeDirectory, first page %d at offset %#x"


def flip(path, offset, mask=0x01):
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)[0]
        f.seek(offset)
        f.write(bytes([b ^ mask]))


def expect(label, path, first_problem, also=(), bound=None):
    rc, lines, problems, verdict, err = verify("--allow-unbound", path)
    eq(rc, 1, label + ": exit status")
    eq(problems[:1], [path + ": " + first_problem], label + ": first problem")
    for p in also:
        check(path + ": " + p in problems, label + ": problem %r in %r" % (p, problems))
    eq(verdict, "%s: INVALID: %s" % (path, first_problem), label + ": verdict")
    if bound is not None:
        check(bound in lines, label + ": %r shown" % bound)


def slice_of(path, i=0):
    data = macho.read(path)
    sl, off, _ = macho.slices(data)[i]
    return sl, off


def main():
    work = workdir("verify-reject")
    fx, npm = os.environ["MP_FIXTURES"], os.environ["MP_NPM"]
    have_fx = os.path.exists(os.path.join(fx, "MANIFEST"))
    have_npm = os.path.exists(os.path.join(npm, "MANIFEST"))

    if have_fx:
        signed = os.path.join(work, "hello-arm64-plist")
        shutil.copyfile(os.path.join(fx, "hello-arm64-plist"), signed)
        eq(sign(signed)[0], 0, "sign the plist fixture")
        sl, _ = slice_of(signed)
        cd = cs.Signature(sl).cds[0]
        n, ps = cd.n_code, cd.page_size()

        # (a) one byte of __TEXT,__text
        p = os.path.join(work, "a-code-page")
        shutil.copyfile(signed, p)
        text = sl.section("__TEXT", "__text")
        off = text.offset + text.size // 2
        flip(p, off)
        expect("(a) code page", p, "slice 0 (arm64): " + PAGES % (1, n, "sha256", off // ps, off // ps * ps))

        # (b) one byte of __TEXT,__info_plist: its page and slot 1 both fail
        p = os.path.join(work, "b-plist")
        shutil.copyfile(signed, p)
        pl = sl.section("__TEXT", "__info_plist")
        off = pl.offset + pl.size // 2
        flip(p, off, 0x20)
        expect("(b) plist section", p, "slice 0 (arm64): " + PAGES % (1, n, "sha256", off // ps, off // ps * ps),
               also=["slice 0 (arm64): special slot 1 (info-plist) does not match the __TEXT,__info_plist bytes "
                     "in the sha256 CodeDirectory"], bound="Info.plist=not bound")

        # (d) the CodeDirectory: a page hash inside it, then codeLimit
        sig = cs.Signature(sl)
        cd_off = sig.dataoff + [o for t, o, _ in sig.index if t == 0][0]
        p = os.path.join(work, "d-cd-hash")
        shutil.copyfile(signed, p)
        flip(p, cd_off + cd.hash_offset + 0 * cd.hash_size + 5)
        expect("(d) CodeDirectory page hash", p, "slice 0 (arm64): " + PAGES % (1, n, "sha256", 0, 0))
        p = os.path.join(work, "d-cd-limit")
        shutil.copyfile(signed, p)
        flip(p, cd_off + 32 + 3, 0x10)  # low byte of codeLimit
        limit = cd.code_limit ^ 0x10
        expect("(d) CodeDirectory codeLimit", p,
               "slice 0 (arm64): sha256 CodeDirectory codeLimit %#x differs from the signature offset %#x" %
               (limit, sig.dataoff))

        # layout: a byte after the signature of a thin file
        p = os.path.join(work, "thin-trailing")
        shutil.copyfile(signed, p)
        with open(p, "ab") as f:
            f.write(b"\0")
        end = sig.dataoff + sig.datasize
        expect("trailing byte (thin)", p, "slice 0 (arm64): signature ends at %#x, not at the end of the slice (%#x)"
               % (end, end + 1))

        # layout: unsorted SuperBlob index (swap entries 0 and 1)
        p = os.path.join(work, "unsorted")
        shutil.copyfile(signed, p)
        raw = bytearray(macho.read(p))
        e0 = raw[sig.dataoff + 12:sig.dataoff + 20]
        raw[sig.dataoff + 12:sig.dataoff + 20] = raw[sig.dataoff + 20:sig.dataoff + 28]
        raw[sig.dataoff + 20:sig.dataoff + 28] = e0
        open(p, "wb").write(raw)
        expect("unsorted index", p, "slice 0 (arm64): SuperBlob index is not sorted: entry 1 (type 0) follows type 0x2")

        # universal: one byte after the last slice
        u = os.path.join(work, "universal")
        shutil.copyfile(os.path.join(fx, "hello-universal"), u)
        eq(sign(u)[0], 0, "sign hello-universal")
        size = os.path.getsize(u)
        with open(u, "ab") as f:
            f.write(b"\0")
        expect("byte after the last slice", u, "1 bytes follow the last slice (ends at %#x, file size %#x)"
               % (size, size + 1))

    if have_npm:
        # (a) on Apple's own signature: esbuild, one byte in page 1000 (4 KiB pages)
        p = os.path.join(work, "esbuild")
        shutil.copyfile(os.path.join(npm, "esbuild-darwin-arm64"), p)
        flip(p, 1000 * 4096 + 77)
        expect("(a) esbuild page", p, "slice 0 (arm64): " + PAGES % (1, 2566, "sha256", 1000, 1000 * 4096))

        # (c) one byte inside the XML entitlements blob of sentry-cli's arm64 slice
        for label, resign in (("Developer ID", False), ("re-signed", True)):
            p = os.path.join(work, "sentry-" + label.replace(" ", "-"))
            shutil.copyfile(os.path.join(npm, "sentry-cli-darwin-universal"), p)
            if resign:
                eq(sign("--force", p)[0], 0, "re-sign sentry-cli")
            sl, base = slice_of(p, 1)
            sig = cs.Signature(sl)
            ent_off = [o for t, o, _ in sig.index if t == 5][0]
            blob = sig.blobs[5]
            at = blob.index(b"<dict/>") + 1  # the 'd' of <dict/>
            flip(p, base + sig.dataoff + ent_off + at, 0x20)
            expect("(c) entitlements (%s)" % label, p,
                   "slice 1 (arm64): special slot 5 (entitlements) does not match its blob in the sha256 CodeDirectory")
    done()


if __name__ == "__main__":
    main()
