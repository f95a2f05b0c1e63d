#!/usr/bin/env python3
"""show_canon.py MACHOPLIST FILE: the canonical layout text of FILE as
`machoplist show --json` reports it (format: canon_format.txt).

The JSON nests sections under their segment, so a section's segname is the
segment's name. The __info_plist bytes come from `machoplist show --plist
--arch ARCH` (the JSON only carries the plist re-rendered as XML).

Exit status: 0 printed, 1 machoplist failed or printed something unexpected.
"""
import json
import subprocess
import sys


class ShowError(Exception):
    pass


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0 or p.stderr:
        raise ShowError("%s: exit %d: %s" % (" ".join(cmd), p.returncode, p.stderr.decode("utf-8", "replace").strip()))
    return p.stdout


def canon(cli, path):
    doc = json.loads(run([cli, "show", "--json", path]).decode("utf-8"))
    if not isinstance(doc, dict) or "slices" not in doc:
        raise ShowError("unexpected JSON: %r" % str(doc)[:300])
    lines = []
    archs = [s["arch"] for s in doc["slices"]]
    for i, s in enumerate(doc["slices"]):
        lines.append("slice %d arch %s fat_offset %#x" % (i, s["arch"], s["offset"] if doc["universal"] else 0))
        for seg in s["segments"]:
            lines.append("segment %s vmaddr %#x vmsize %#x fileoff %#x filesize %#x"
                         % (seg["name"], seg["vmaddr"], seg["vmsize"], seg["fileoff"], seg["filesize"]))
            for sec in seg["sections"]:
                lines.append("section %s %s addr %#x size %#x offset %#x align %d flags %#x"
                             % (seg["name"], sec["name"], sec["addr"], sec["size"], sec["offset"], sec["align"],
                                sec["flags"]))
        if s["info_plist"] is not None:
            if archs.count(s["arch"]) != 1:
                raise ShowError("two slices named %s: show --plist --arch cannot tell them apart" % s["arch"])
            raw = run([cli, "show", "--plist", "--arch", s["arch"], path])
            if len(raw) != s["info_plist"]["size"]:
                raise ShowError("show --plist printed %d bytes, the JSON says %d" % (len(raw), s["info_plist"]["size"]))
            lines.append("info_plist " + raw.hex())
    return lines


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: show_canon.py MACHOPLIST FILE\n")
        return 2
    try:
        lines = canon(sys.argv[1], sys.argv[2])
    except (ShowError, KeyError, ValueError, TypeError) as e:
        sys.stderr.write("show_canon: %s: %s\n" % (sys.argv[2], e))
        return 1
    sys.stdout.write("".join(l + "\n" for l in lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
