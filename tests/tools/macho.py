"""A small, independent Mach-O reader for tests (stdlib only).

It shares no code with libmachoplist on purpose: tests compare what the
library wrote against what this reads. 64-bit little-endian slices only.
"""
import hashlib
import struct

FAT_MAGIC = 0xCAFEBABE
MH_MAGIC_64 = 0xFEEDFACF
LC_SEGMENT_64 = 0x19
LC_SYMTAB = 0x2
LC_CODE_SIGNATURE = 0x1D


class Section:
    def __init__(self, raw, hdr_off):
        (sect, seg, self.addr, self.size, self.offset, self.align, self.reloff, self.nreloc,
         self.flags) = struct.unpack_from("<16s16sQQIIIII", raw, hdr_off)
        self.sectname = sect.rstrip(b"\0").decode()
        self.segname = seg.rstrip(b"\0").decode()
        self.hdr_off = hdr_off

    def key(self):
        return (self.segname, self.sectname, self.addr, self.size, self.offset, self.align, self.flags)

    def in_file(self):
        return self.size > 0 and (self.flags & 0xFF) not in (1, 0xC, 0x12)


class Segment:
    def __init__(self, raw, off):
        (_, _, name, self.vmaddr, self.vmsize, self.fileoff, self.filesize, self.maxprot, self.initprot,
         self.nsects, self.flags) = struct.unpack_from("<II16sQQQQiiII", raw, off)
        self.name = name.rstrip(b"\0").decode()
        self.sections = [Section(raw, off + 72 + 80 * i) for i in range(self.nsects)]


class Slice:
    def __init__(self, raw, offset=0):
        self.raw = raw
        self.offset = offset
        magic, self.cputype, self.cpusubtype, self.filetype, self.ncmds, self.sizeofcmds, self.flags = \
            struct.unpack_from("<IiiIIII", raw, 0)
        if magic != MH_MAGIC_64:
            raise ValueError("not a 64-bit Mach-O slice (magic %08x)" % magic)
        self.lcs = []
        self.segments = []
        self.symtab = None
        self.codesig = None
        off = 32
        for _ in range(self.ncmds):
            cmd, size = struct.unpack_from("<II", raw, off)
            self.lcs.append((cmd, size, off))
            if cmd == LC_SEGMENT_64:
                self.segments.append(Segment(raw, off))
            elif cmd == LC_SYMTAB:
                self.symtab = struct.unpack_from("<IIII", raw, off + 8)
            elif cmd == LC_CODE_SIGNATURE:
                self.codesig = struct.unpack_from("<II", raw, off + 8)
            off += size
        self.sections = [s for seg in self.segments for s in seg.sections]

    def section(self, seg, sect):
        for s in self.sections:
            if s.segname == seg and s.sectname == sect:
                return s
        return None

    def section_bytes(self, s):
        return bytes(self.raw[s.offset:s.offset + s.size]) if s.in_file() else b""

    def symbols(self):
        """[(name, type, section name or None, desc, value)] in table order."""
        if not self.symtab:
            return []
        symoff, nsyms, stroff, strsize = self.symtab
        out = []
        for i in range(nsyms):
            strx, ntype, nsect, desc, value = struct.unpack_from("<IBBHQ", self.raw, symoff + 16 * i)
            end = self.raw.find(b"\0", stroff + strx)
            name = bytes(self.raw[stroff + strx:end]).decode("utf-8", "replace")
            has_sect = nsect != 0 and ((ntype & 0xE0) != 0 or (ntype & 0x0E) == 0x0E)
            where = None
            if has_sect:
                s = self.sections[nsect - 1] if nsect <= len(self.sections) else None
                where = "%s,%s" % (s.segname, s.sectname) if s else "BAD#%d" % nsect
            out.append((name, ntype, where, desc, value))
        return out


def slices(data):
    """[(Slice, fat_offset, fat_align)] for a thin or universal file."""
    magic = struct.unpack_from(">I", data, 0)[0]
    if magic != FAT_MAGIC:
        return [(Slice(data), 0, 0)]
    n = struct.unpack_from(">I", data, 4)[0]
    out = []
    for i in range(n):
        cputype, sub, off, size, align = struct.unpack_from(">iiIII", data, 8 + 20 * i)
        out.append((Slice(data[off:off + size], off), off, align))
    return out


def read(path):
    with open(path, "rb") as f:
        return f.read()


def sha256(b):
    return hashlib.sha256(b).hexdigest()
