#!/usr/bin/env python3
"""Our page hashes equal the ones Apple's tools wrote, without hashing here.

Each npm binary signed by Apple's linker, the Go linker or codesign (and each
lld-signed fixture) is re-signed with `--page-size 4096 --hash sha256`, the
page size and hash those signatures use. The old signature sits at a 16-byte
aligned offset, so codesign_allocate keeps its offset: codeLimit is the same,
and every byte before it is unchanged except the load commands' ncmds /
sizeofcmds, LC_CODE_SIGNATURE.datasize and __LINKEDIT filesize/vmsize, all in
the first page(s). Every other code slot must be identical to the one Apple's
tool computed, and the pages holding those fields must differ.
"""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import codesig as cs  # noqa: E402
import macho  # noqa: E402

CLI = os.environ["MP_CLI"]
fails, checks = [], [0]


def eq(got, want, what):
    checks[0] += 1
    if got != want:
        fails.append(what)
        print("FAIL: %s: expected %r, got %r" % (what, want, got), file=sys.stderr)


def compare(label, src, work, force):
    path = os.path.join(work, label)
    shutil.copyfile(src, path)
    args = [CLI, "sign", "--page-size", "4096", "--hash", "sha256"] + (["--force"] if force else []) + [path]
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    eq(p.returncode, 0, label + ": sign (%s)" % p.stderr.decode().strip())
    old_slices, new_slices = macho.slices(macho.read(src)), macho.slices(macho.read(path))
    compared = 0
    for (old, _, _), (new, _, _) in zip(old_slices, new_slices):
        if not old.codesig:
            continue
        a, b = cs.Signature(old).cds[0], cs.Signature(new).cds[0]
        if a.hash_type != 2 or a.page_size() != 4096:
            continue
        where = "%s %s" % (label, {0x0100000C: "arm64", 0x01000007: "x86_64"}.get(old.cputype, "?"))
        eq(b.code_limit, a.code_limit, where + ": codeLimit kept")
        eq(b.n_code, a.n_code, where + ": code slot count")
        differ = [k for k in range(min(a.n_code, b.n_code)) if a.code(k) != b.code(k)]
        le, sig = cs.segment_cmd_offset(old, "__LINKEDIT"), cs.codesig_cmd_offset(old)
        pages = sorted({16 // 4096, (sig + 12) // 4096, (le + 32) // 4096, (le + 48) // 4096})
        eq(differ, pages, where + ": code slots differing from Apple's (pages holding the changed header fields)")
        compared += 1
    return compared


def main():
    work = os.path.join(os.environ["MP_TMP"], "sign-apple-pages")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    total = 0
    npm = os.environ["MP_NPM"]
    have_npm = os.path.exists(os.path.join(npm, "MANIFEST"))
    if have_npm:
        for name in ("esbuild-darwin-arm64", "biome-darwin-arm64", "sentry-cli-darwin-universal",
                     "fsevents-universal.node", "node-pty-darwin-arm64.node", "node-pty-spawn-helper-darwin-arm64"):
            total += compare(name, os.path.join(npm, name), work, name.startswith("sentry"))
        eq(total, 7, "slices compared with Apple-written signatures")
    fx = os.environ["MP_FIXTURES"]
    if os.path.exists(os.path.join(fx, "MANIFEST")):
        for name in ("hello-arm64", "hello-go-arm64", "libfixture-arm64.dylib", "hello-arm64-plist"):
            total += compare(name, os.path.join(fx, name), work, False)
    if total == 0:
        print("SKIP: neither npm binaries nor fixtures available")
        sys.exit(77)
    if not have_npm:
        print("note: npm binaries unavailable; compared lld/Go fixture signatures only")
    if fails:
        print("%d of %d checks failed" % (len(fails), checks[0]), file=sys.stderr)
        sys.exit(1)
    print("%d checks passed (%d slices)" % (checks[0], total))


if __name__ == "__main__":
    main()
