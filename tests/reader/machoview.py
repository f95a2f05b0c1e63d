"""machoview: a deliberately small, independent Mach-O and code-signature
parser for the reader tests (stdlib only). It locates things so tests can
mutate them and compute what machoplist must say; it validates nothing.

Layouts follow cctools' loader.h / fat.h and xnu's cs_blobs.h."""
import struct

MH_MAGIC, MH_MAGIC_64 = 0xFEEDFACE, 0xFEEDFACF
FAT_MAGIC, FAT_MAGIC_64 = 0xCAFEBABE, 0xCAFEBABF
LC_SEGMENT, LC_SEGMENT_64 = 0x1, 0x19
LC_SYMTAB, LC_CODE_SIGNATURE = 0x2, 0x1D


def cx(v):
    """C's printf("%#x"): no 0x prefix for zero."""
    return "0x%x" % v if v else "0"


def arch_name(cputype, cpusubtype):
    sub = cpusubtype & 0x00FFFFFF
    return {
        0x01000007: "x86_64h" if sub == 8 else "x86_64",
        7: "i386",
        0x0100000C: "arm64e" if sub == 2 else "arm64",
        0x0200000C: "arm64_32",
    }.get(cputype, "unknown")


class Section:
    def __init__(self, data, hdr_off, is64):
        self.hdr_off = hdr_off
        self.sectname = data[hdr_off:hdr_off + 16].rstrip(b"\0").decode("latin-1")
        self.segname = data[hdr_off + 16:hdr_off + 32].rstrip(b"\0").decode("latin-1")
        if is64:
            self.addr, self.size = struct.unpack_from("<QQ", data, hdr_off + 32)
            rest = hdr_off + 48
            self.addr_off, self.size_off = hdr_off + 32, hdr_off + 40
        else:
            self.addr, self.size = struct.unpack_from("<II", data, hdr_off + 32)
            rest = hdr_off + 40
            self.addr_off, self.size_off = hdr_off + 32, hdr_off + 36
        self.offset_off = rest
        self.flags_off = rest + 16
        self.offset, self.align, self.reloff, self.nreloc, self.flags = struct.unpack_from("<5I", data, rest)


class Segment:
    def __init__(self, data, lc, is64):
        self.lc = lc
        off = lc.off
        self.name_off = off + 8
        self.name = data[off + 8:off + 24].rstrip(b"\0").decode("latin-1")
        if is64:
            self.vmaddr, self.vmsize, self.fileoff, self.filesize = struct.unpack_from("<4Q", data, off + 24)
            self.field_off = {"vmaddr": off + 24, "vmsize": off + 32, "fileoff": off + 40, "filesize": off + 48}
            p, ssize, fmt = off + 56, 80, "<Q"
        else:
            self.vmaddr, self.vmsize, self.fileoff, self.filesize = struct.unpack_from("<4I", data, off + 24)
            self.field_off = {"vmaddr": off + 24, "vmsize": off + 28, "fileoff": off + 32, "filesize": off + 36}
            p, ssize, fmt = off + 40, 68, "<I"
        self.int_fmt = fmt
        self.maxprot, self.initprot, self.nsects, self.flags = struct.unpack_from("<4I", data, p)
        self.field_off.update({"maxprot": p, "initprot": p + 4, "nsects": p + 8, "flags": p + 12})
        self.sections = [Section(data, p + 16 + i * ssize, is64) for i in range(self.nsects)]


class LoadCommand:
    def __init__(self, index, off, cmd, cmdsize):
        self.index, self.off, self.cmd, self.cmdsize = index, off, cmd, cmdsize


class Slice:
    """One thin Mach-O image; offsets are relative to its start."""

    def __init__(self, data):
        self.data = data
        magic = struct.unpack_from("<I", data, 0)[0]
        self.is64 = magic == MH_MAGIC_64
        if magic not in (MH_MAGIC, MH_MAGIC_64):
            raise ValueError("not a little-endian Mach-O (magic %08x)" % magic)
        (self.cputype, self.cpusubtype, self.filetype, self.ncmds, self.sizeofcmds,
         self.flags) = struct.unpack_from("<6I", data, 4)
        self.header_size = 32 if self.is64 else 28
        self.lc_end = self.header_size + self.sizeofcmds
        self.arch = arch_name(self.cputype, self.cpusubtype)
        self.lcs, self.segments = [], []
        off = self.header_size
        for i in range(self.ncmds):
            cmd, cmdsize = struct.unpack_from("<II", data, off)
            lc = LoadCommand(i, off, cmd, cmdsize)
            self.lcs.append(lc)
            if cmd in (LC_SEGMENT, LC_SEGMENT_64):
                self.segments.append(Segment(data, lc, self.is64))
            off += cmdsize

    def segment(self, name):
        return next(s for s in self.segments if s.name == name)

    def section(self, segname, sectname):
        return next(x for s in self.segments for x in s.sections
                    if x.segname == segname and x.sectname == sectname)

    def lc(self, cmd):
        return next(l for l in self.lcs if l.cmd == cmd)

    def code_signature(self):
        """(dataoff, datasize) of LC_CODE_SIGNATURE, or None."""
        for l in self.lcs:
            if l.cmd == LC_CODE_SIGNATURE:
                return struct.unpack_from("<II", self.data, l.off + 8)
        return None


def fat_arches(data):
    """[(cputype, cpusubtype, offset, size, align)] of a FAT_MAGIC file, else None."""
    if len(data) < 8 or struct.unpack_from(">I", data, 0)[0] != FAT_MAGIC:
        return None
    n = struct.unpack_from(">I", data, 4)[0]
    return [struct.unpack_from(">5I", data, 8 + 20 * i) for i in range(n)]


def slices(data):
    """[(fat_offset, Slice)] for a thin or universal file."""
    arches = fat_arches(data)
    if arches is None:
        return [(0, Slice(data))]
    return [(a[2], Slice(data[a[2]:a[2] + a[3]])) for a in arches]


# --- code signature (big-endian) -------------------------------------------

CSMAGIC_EMBEDDED_SIGNATURE = 0xFADE0CC0
CSMAGIC_CODEDIRECTORY = 0xFADE0C02


class CodeDirectory:
    def __init__(self, blob):
        self.blob = blob
        (self.magic, self.length, self.version, self.flags, self.hash_offset, self.ident_offset,
         self.n_special, self.n_code, self.code_limit) = struct.unpack_from(">9I", blob, 0)
        self.hash_size, self.hash_type, self.platform, self.page_shift = struct.unpack_from(">4B", blob, 36)
        self.team_offset = struct.unpack_from(">I", blob, 48)[0] if self.version >= 0x20200 else 0
        self.runtime = struct.unpack_from(">I", blob, 88)[0] if self.version >= 0x20500 else 0
        self.exec_seg = struct.unpack_from(">3Q", blob, 64) if self.version >= 0x20400 else (0, 0, 0)
        self.identifier = blob[self.ident_offset:blob.index(b"\0", self.ident_offset)].decode()
        self.team_id = None
        if self.team_offset:
            self.team_id = blob[self.team_offset:blob.index(b"\0", self.team_offset)].decode()


class SuperBlob:
    """Index and CodeDirectories of an embedded signature (well-formed input only)."""

    def __init__(self, data, dataoff):
        self.dataoff = dataoff
        self.magic, self.length, self.count = struct.unpack_from(">III", data, dataoff)
        if self.magic != CSMAGIC_EMBEDDED_SIGNATURE:
            raise ValueError("not an embedded signature (magic %08x)" % self.magic)
        self.index = [struct.unpack_from(">II", data, dataoff + 12 + 8 * i) for i in range(self.count)]
        # type -> (offset in the superblob, magic, length)
        self.blobs = {t: (o,) + struct.unpack_from(">II", data, dataoff + o) for t, o in self.index}
        self.cds = []
        for slot, off in self.index:
            if slot == 0 or 0x1000 <= slot < 0x1005:
                length = struct.unpack_from(">I", data, dataoff + off + 4)[0]
                self.cds.append((slot, off, CodeDirectory(data[dataoff + off:dataoff + off + length])))
        self.primary = next(cd for slot, _, cd in self.cds if slot == 0)


CS_FLAG_NAMES = [(0x1, "host"), (0x2, "adhoc"), (0x4, "forced"), (0x100, "hard"), (0x200, "kill"),
                 (0x400, "expires"), (0x800, "restrict"), (0x1000, "enforcement"),
                 (0x2000, "library-validation"), (0x10000, "runtime"), (0x20000, "linker-signed")]


def cs_flags_text(flags):
    """Flags as `codesign -dv` prints them: 0x20002(adhoc,linker-signed)."""
    if flags == 0:
        return "0x0(none)"
    names = [n for bit, n in CS_FLAG_NAMES if flags & bit]
    return "%#x" % flags + ("(%s)" % ",".join(names) if names else "")
