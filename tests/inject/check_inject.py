#!/usr/bin/env python3
"""check_inject.py ORIG NEW PLIST [--removed]: assert that NEW is ORIG with
__TEXT,__info_plist set to PLIST's bytes (or taken out, with --removed) and
nothing else changed that matters:

- every other section keeps its header fields and its bytes;
- every segment keeps its VM layout (only __LINKEDIT may grow, for the signature);
- every symbol names the same section, by name, as before;
- the section holds exactly PLIST's bytes, align 0, flags 0 (like ld -sectcreate);
- __TEXT section headers are in address order.

Prints one line per problem; exit 1 when there is any.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
import macho  # noqa: E402

problems = []


def check(cond, msg):
    if not cond:
        problems.append(msg)


def compare_slice(i, old, new, plist, removed):
    where = "slice %d" % i
    old_other = [s for s in old.sections if (s.segname, s.sectname) != ("__TEXT", "__info_plist")]
    new_other = [s for s in new.sections if (s.segname, s.sectname) != ("__TEXT", "__info_plist")]
    check([s.key() for s in old_other] == [s.key() for s in new_other],
          "%s: other section headers changed:\n  %s\n  %s" % (where, [s.key() for s in old_other],
                                                             [s.key() for s in new_other]))
    for a, b in zip(old_other, new_other):
        check(old.section_bytes(a) == new.section_bytes(b), "%s: bytes of %s,%s changed" % (where, a.segname, a.sectname))
    for a, b in zip(old.segments, new.segments):
        if a.name == "__LINKEDIT":
            check((a.vmaddr, a.fileoff) == (b.vmaddr, b.fileoff), "%s: __LINKEDIT moved" % where)
        else:
            check((a.name, a.vmaddr, a.vmsize, a.fileoff, a.filesize, a.maxprot, a.initprot) ==
                  (b.name, b.vmaddr, b.vmsize, b.fileoff, b.filesize, b.maxprot, b.initprot),
                  "%s: segment %s changed" % (where, a.name))
    check(len(old.segments) == len(new.segments), "%s: segment count changed" % where)
    text = [seg for seg in new.segments if seg.name == "__TEXT"][0]
    addrs = [s.addr for s in text.sections]
    check(addrs == sorted(addrs), "%s: __TEXT sections out of address order: %s" % (where, addrs))
    sec = new.section("__TEXT", "__info_plist")
    if removed:
        check(sec is None, "%s: __info_plist still present" % where)
    else:
        check(sec is not None, "%s: no __info_plist" % where)
        if sec:
            check(new.section_bytes(sec) == plist, "%s: __info_plist bytes differ from the plist" % where)
            check((sec.align, sec.flags, sec.reloff, sec.nreloc) == (0, 0, 0, 0),
                  "%s: __info_plist align/flags/relocs %s" % (where, (sec.align, sec.flags, sec.reloff, sec.nreloc)))
    old_syms, new_syms = old.symbols(), new.symbols()
    check(len(old_syms) == len(new_syms), "%s: symbol count changed" % where)
    bad = [(a, b) for a, b in zip(old_syms, new_syms) if a != b]
    check(not bad, "%s: %d symbols changed, first: %s" % (where, len(bad), bad[:1]))


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    removed = "--removed" in sys.argv
    old_data, new_data = macho.read(args[0]), macho.read(args[1])
    plist = macho.read(args[2]) if len(args) > 2 and not removed else b""
    old_slices, new_slices = macho.slices(old_data), macho.slices(new_data)
    check(len(old_slices) == len(new_slices), "slice count changed")
    for i, ((o, _, _), (n, off, align)) in enumerate(zip(old_slices, new_slices)):
        if align:
            check(off % (1 << align) == 0, "slice %d offset %#x not aligned to 2^%d" % (i, off, align))
        compare_slice(i, o, n, plist, removed)
    for p in problems:
        print("FAIL: %s: %s" % (args[1], p))
    sys.exit(1 if problems else 0)


main()
