#!/usr/bin/env python3
"""sigfacts.py WHAT FILE ...: facts about a signed file for the shell tests,
read independently of libmachoplist (codesig.py).
  ident ORIG SIGNED          identifier codesign would choose for SIGNED's path
  cd FILE SLICE              "identifier version flags pagesize hashes nspecial"
  ents FILE SLICE PLIST      "ok|bad|none nspecial execflags derhex"
  slots FILE SLICE N...      hex of special slots N... of every CodeDirectory
  rt FILE SLICE              "flags runtime execflags" of the primary CD
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import codesig as cs  # noqa: E402
import macho  # noqa: E402


def sig(path, i):
    return cs.Signature(macho.slices(macho.read(path))[int(i)][0])


def main():
    what, args = sys.argv[1], sys.argv[2:]
    if what == "ident":
        print(cs.expected_identifier(args[1], macho.slices(macho.read(args[0]))))
    elif what == "cd":
        s = sig(args[0], args[1])
        cd = s.cds[0]
        print("%s %#x %#x %d %s %d" % (cd.identifier, cd.version, cd.flags, cd.page_size(),
                                       ",".join(cs.HASH_NAMES[c.hash_type] for c in s.cds), cd.n_special))
    elif what == "ents":
        s = sig(args[0], args[1])
        cd = s.cds[0]
        xml = open(args[2], "rb").read()
        blob = s.blobs.get(5)
        if blob is None:
            print("none %d %#x" % (cd.n_special, cd.exec_flags))
            return
        ok = blob[8:] == xml and cd.special(5) == cs.digest(cd.hash_type, blob) and \
            cd.special(7) == cs.digest(cd.hash_type, s.blobs[7])
        print("%s %d %#x %s" % ("ok" if ok else "bad", cd.n_special, cd.exec_flags, s.blobs[7].hex()))
    elif what == "slots":
        s = sig(args[0], args[1])
        print(" ".join(cd.special(int(n)).hex() for cd in s.cds for n in args[2:]))
    elif what == "rt":
        cd = sig(args[0], args[1]).cds[0]
        print("%#x %#x %#x" % (cd.flags, cd.runtime, cd.exec_flags))


if __name__ == "__main__":
    main()
