#!/usr/bin/env python3
"""otool_canon.py OTOOL FILE: the canonical layout text of FILE as llvm-otool sees it.

Runs `OTOOL -f` (fat headers), `OTOOL -l` (load commands) and
`OTOOL -s __TEXT __info_plist` and rewrites their output into the format
shared with lief_dump and show_canon.py (see canon_format.txt).

llvm-otool-14 only ever prints the host architecture's slice of a universal
file (its -arch option is ignored), so for universal files each slice named by
otool's own fat header listing is cut out into a temporary thin file and given
to otool on its own.

Exit status: 0 printed, 1 otool failed or printed something unexpected.
"""
import os
import re
import subprocess
import sys
import tempfile


def arch_name(cputype, cpusubtype):
    sub = cpusubtype & 0x00FFFFFF
    names = {
        0x01000007: "x86_64h" if sub == 8 else "x86_64",
        7: "i386",
        0x0100000C: "arm64e" if sub == 2 else "arm64",
        0x0200000C: "arm64_32",
        12: "arm",
        18: "ppc",
        0x01000012: "ppc64",
    }
    return names.get(cputype, "unknown")


class OtoolError(Exception):
    pass


def run(otool, args):
    p = subprocess.run([otool] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = p.stdout.decode("utf-8", "replace")
    err = p.stderr.decode("utf-8", "replace").strip()
    if p.returncode != 0 or err:
        raise OtoolError("%s %s: exit %d: %s" % (otool, " ".join(args), p.returncode, err))
    return out


def num(text):
    return int(text, 0)


def parse_fat(text):
    """Slices listed by `otool -f`: [(cputype, cpusubtype, offset, size)], or None if thin."""
    if "Fat headers" not in text:
        return None
    slices, cur = [], None
    for line in text.splitlines():
        t = line.split()
        if not t:
            continue
        if t[0] == "architecture":
            cur = {}
            slices.append(cur)
        elif cur is not None and t[0] in ("cputype", "cpusubtype", "offset", "size"):
            cur[t[0]] = num(t[1])
    for s in slices:
        if set(s) != {"cputype", "cpusubtype", "offset", "size"}:
            raise OtoolError("unexpected otool -f output: %r" % text[:400])
    return [(s["cputype"], s["cpusubtype"], s["offset"], s["size"]) for s in slices]


def parse_load_commands(text):
    """(cputype, cpusubtype, segments) from `otool -l`; segments hold their sections."""
    lines = text.splitlines()
    cputype = cpusubtype = None
    for i, line in enumerate(lines):
        if line.strip() == "Mach header" and i + 2 < len(lines):
            hdr = lines[i + 1].split()
            val = lines[i + 2].split()
            row = dict(zip(hdr, val))
            cputype, cpusubtype = num(row["cputype"]), num(row["cpusubtype"])
            break
    if cputype is None:
        raise OtoolError("no Mach header in otool -l output")
    segments = []
    cmd = None  # the current load command's fields
    sect = None  # the current section's fields
    for line in lines:
        t = line.split()
        if not t:
            continue
        if t[0] == "Load" and len(t) == 3 and t[1] == "command":
            cmd, sect = {"sections": []}, None
            segments.append(cmd)
            continue
        if cmd is None:
            continue
        if t[0] == "Section" and len(t) == 1:
            sect = {}
            cmd["sections"].append(sect)
            continue
        if len(t) < 2:
            continue
        target = sect if sect is not None else cmd
        target.setdefault(t[0], t[1])
    out = []
    for c in segments:
        if c.get("cmd") not in ("LC_SEGMENT_64", "LC_SEGMENT"):
            continue
        seg = {
            "name": c["segname"],
            "vmaddr": num(c["vmaddr"]),
            "vmsize": num(c["vmsize"]),
            "fileoff": num(c["fileoff"]),
            "filesize": num(c["filesize"]),
            "sections": [],
        }
        for s in c["sections"]:
            m = re.match(r"2\^(\d+)$", s["align"])
            if not m:
                raise OtoolError("unexpected align %r" % s["align"])
            seg["sections"].append({
                "segname": s["segname"],
                "sectname": s["sectname"],
                "addr": num(s["addr"]),
                "size": num(s["size"]),
                "offset": num(s["offset"]),
                "align": int(m.group(1)),
                "flags": num(s["flags"]),
            })
        out.append(seg)
    return cputype, cpusubtype, out


def parse_section_dump(text):
    """Bytes of `otool -s SEG SECT`: 8-digit tokens are little-endian words,
    2-digit tokens single bytes (otool's format for arm64 and x86 files)."""
    data = bytearray()
    started = False
    for line in text.splitlines():
        if line.startswith("Contents of ("):
            started = True
            continue
        if not started or not line.strip():
            continue
        parts = line.split("\t", 1)
        if len(parts) != 2:
            raise OtoolError("unexpected otool -s line %r" % line)
        for tok in parts[1].split():
            if len(tok) == 8:
                data += bytes.fromhex(tok)[::-1]
            elif len(tok) == 2:
                data += bytes.fromhex(tok)
            else:
                raise OtoolError("unexpected otool -s token %r" % tok)
    return bytes(data)


def canon_thin(otool, path, index, fat_offset, lines):
    cputype, cpusubtype, segments = parse_load_commands(run(otool, ["-l", path]))
    arch = arch_name(cputype, cpusubtype)
    lines.append("slice %d arch %s fat_offset %#x" % (index, arch, fat_offset))
    plist = None
    for seg in segments:
        lines.append("segment %s vmaddr %#x vmsize %#x fileoff %#x filesize %#x"
                     % (seg["name"], seg["vmaddr"], seg["vmsize"], seg["fileoff"], seg["filesize"]))
        for s in seg["sections"]:
            lines.append("section %s %s addr %#x size %#x offset %#x align %d flags %#x"
                         % (s["segname"], s["sectname"], s["addr"], s["size"], s["offset"], s["align"], s["flags"]))
            if s["segname"] == "__TEXT" and s["sectname"] == "__info_plist" and plist is None:
                plist = parse_section_dump(run(otool, ["-s", "__TEXT", "__info_plist", path]))
                if len(plist) != s["size"]:
                    raise OtoolError("otool -s printed %d bytes of a %d-byte section" % (len(plist), s["size"]))
    if plist is not None:
        lines.append("info_plist " + plist.hex())
    return arch


def canon(otool, path):
    lines = []
    fat = parse_fat(run(otool, ["-f", path]))
    if fat is None:
        canon_thin(otool, path, 0, 0, lines)
        return lines
    with open(path, "rb") as f:
        data = f.read()
    with tempfile.TemporaryDirectory(prefix="otool_canon.") as tmp:
        for i, (cputype, cpusubtype, offset, size) in enumerate(fat):
            thin = os.path.join(tmp, "slice%d" % i)
            with open(thin, "wb") as f:
                f.write(data[offset:offset + size])
            # The slice's own header must agree with the fat header.
            if canon_thin(otool, thin, i, offset, lines) != arch_name(cputype, cpusubtype):
                raise OtoolError("slice %d: fat header and Mach header disagree" % i)
    return lines


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: otool_canon.py OTOOL FILE\n")
        return 2
    try:
        lines = canon(sys.argv[1], sys.argv[2])
    except (OtoolError, KeyError, ValueError, OSError) as e:
        sys.stderr.write("otool_canon: %s: %s\n" % (sys.argv[2], e))
        return 1
    sys.stdout.write("".join(l + "\n" for l in lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
