"""Independent reading and checking of embedded code signatures (stdlib only).

Shares no code with libmachoplist: sign and verify tests compare what the
library wrote or reported with what this computes from the file bytes with
hashlib. Rules are the ones listed in doc/machoplist.1 (from Apple's
Security and cctools sources).
"""
import hashlib
import os
import plistlib
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import macho  # noqa: E402  (tests/tools/macho.py)

HASHES = {1: hashlib.sha1, 2: hashlib.sha256, 4: hashlib.sha384}
HASH_SIZES = {1: 20, 2: 32, 4: 48}
HASH_NAMES = {1: "sha1", 2: "sha256", 4: "sha384"}
EMPTY_REQUIREMENTS = bytes.fromhex("fade0c010000000c00000000")
EMPTY_CMS = bytes.fromhex("fade0b0100000008")
CMS_ESTIMATE = 18000


def digest(hash_type, data):
    return HASHES[hash_type](data).digest()


class CodeDirectory:
    def __init__(self, slot, blob):
        self.slot = slot
        self.blob = blob
        (magic, self.length, self.version, self.flags, self.hash_offset, self.ident_offset, self.n_special,
         self.n_code, self.code_limit, self.hash_size, self.hash_type, self.platform,
         self.page_shift) = struct.unpack_from(">IIIIIIIIIBBBB", blob, 0)
        assert magic == 0xFADE0C02, "CodeDirectory magic %08x" % magic
        self.exec_base = self.exec_limit = self.exec_flags = 0
        self.runtime = 0
        self.team_offset = struct.unpack_from(">I", blob, 48)[0] if self.version >= 0x20200 else 0
        if self.version >= 0x20400:
            self.exec_base, self.exec_limit, self.exec_flags = struct.unpack_from(">QQQ", blob, 64)
        if self.version >= 0x20500:
            self.runtime = struct.unpack_from(">I", blob, 88)[0]
        end = blob.index(b"\0", self.ident_offset)
        self.identifier = blob[self.ident_offset:end].decode()
        self.team = None
        if self.team_offset:
            self.team = blob[self.team_offset:blob.index(b"\0", self.team_offset)].decode()

    def special(self, n):
        return self.blob[self.hash_offset - n * self.hash_size:self.hash_offset - (n - 1) * self.hash_size]

    def code(self, k):
        return self.blob[self.hash_offset + k * self.hash_size:self.hash_offset + (k + 1) * self.hash_size]

    def page_size(self):
        return 1 << self.page_shift if self.page_shift else 0

    def cdhash(self, full=False):
        d = digest(self.hash_type, self.blob)
        return d if full else d[:20]


class Signature:
    """The embedded signature of one slice (a macho.Slice)."""

    def __init__(self, sl):
        self.slice = sl
        if not sl.codesig:
            raise ValueError("slice has no LC_CODE_SIGNATURE")
        self.dataoff, self.datasize = sl.codesig
        raw = sl.raw
        sb = bytes(raw[self.dataoff:self.dataoff + self.datasize])
        magic, self.length, count = struct.unpack_from(">III", sb, 0)
        assert magic == 0xFADE0CC0, "SuperBlob magic %08x" % magic
        self.superblob = sb
        self.index = []
        self.blobs = {}
        self.cds = []
        for i in range(count):
            t, o = struct.unpack_from(">II", sb, 12 + 8 * i)
            m, n = struct.unpack_from(">II", sb, o)
            self.index.append((t, o, n))
            self.blobs[t] = sb[o:o + n]
            if t == 0 or 0x1000 <= t < 0x1005:
                self.cds.append(CodeDirectory(t, sb[o:o + n]))

    def best_cd(self):
        order = {4: 0, 2: 1, 3: 2, 1: 3}
        return sorted(self.cds, key=lambda cd: order[cd.hash_type])[0]


def info_plist(sl):
    s = sl.section("__TEXT", "__info_plist")
    return None if s is None else bytes(sl.raw[s.offset:s.offset + s.size])


def check_hashes(sig):
    """Every page and special-slot hash of every CodeDirectory, recomputed.
    Returns a list of problems (empty when all match)."""
    problems = []
    raw = sig.slice.raw
    for cd in sig.cds:
        ps = cd.page_size()
        limit = cd.code_limit
        n = (limit + ps - 1) // ps if ps else (1 if limit else 0)
        if n != cd.n_code:
            problems.append("%s: nCodeSlots %d, expected %d" % (HASH_NAMES[cd.hash_type], cd.n_code, n))
        for k in range(min(n, cd.n_code)):
            page = bytes(raw[k * ps:min(limit, (k + 1) * ps)]) if ps else bytes(raw[:limit])
            if digest(cd.hash_type, page) != cd.code(k):
                problems.append("%s: page %d" % (HASH_NAMES[cd.hash_type], k))
        for slot in range(1, cd.n_special + 1):
            stored = cd.special(slot)
            data = info_plist(sig.slice) if slot == 1 else sig.blobs.get(slot)
            if stored == b"\0" * cd.hash_size:
                continue
            if data is None or digest(cd.hash_type, data) != stored:
                problems.append("%s: special slot %d" % (HASH_NAMES[cd.hash_type], slot))
    return problems


# ---- expectations from Apple's rules (independent of libmachoplist) ----

def canonical_identifier(path):
    """Security DiskRep::canonicalIdentifier."""
    s = os.path.basename(path)
    p = s.rfind(".")
    if p >= 0 and p + 1 < len(s) and s[p + 1] not in "0123456789":
        s = s[:p]
    if not s or s[0] in "0123456789.":
        return s
    p = len(s) - 1
    while s[p] in "0123456789.":
        p -= 1
    p += 1
    if p < len(s) and s[p] == ".":
        p += 1
    while p < len(s) and s[p] in "0123456789":
        p += 1
    return s[:p]


def uuid_of(sl):
    for cmd, size, off in sl.lcs:
        if cmd == 0x1B:
            return bytes(sl.raw[off + 8:off + 24])
    return None


def main_slice(slices):
    """The arm64e, else arm64, else first slice (codesign on Apple silicon)."""
    for want in (2, 0):
        for i, (sl, _, _) in enumerate(slices):
            if sl.cputype == 0x0100000C and (sl.cpusubtype & 0xFFFFFF) == want:
                return i
    for i, (sl, _, _) in enumerate(slices):
        if sl.cputype == 0x0100000C:
            return i
    return 0


def expected_identifier(path, slices, explicit=None):
    if explicit:
        return explicit
    main = slices[main_slice(slices)][0]
    pl = info_plist(main)
    if pl is not None:
        d = plistlib.loads(pl)
        if "CFBundleIdentifier" in d:
            return d["CFBundleIdentifier"]
    name = canonical_identifier(path)
    if "." in name:
        return name
    u = uuid_of(main)
    if u is not None:
        ident = b"UUID" + u
    else:
        ident = hashlib.sha1(bytes(main.raw[:28]) + bytes(main.raw[32:32 + main.sizeofcmds])).digest()
    return name + "-" + ident.hex()


def platform(sl):
    """(platform, minos, sdk) from LC_BUILD_VERSION or LC_VERSION_MIN_*, or None."""
    found = None
    for cmd, size, off in sl.lcs:
        if cmd == 0x32:
            found = struct.unpack_from("<III", sl.raw, off + 8)
        elif cmd in (0x24, 0x25, 0x2F, 0x30):
            pf = {0x24: 1, 0x25: 2, 0x2F: 3, 0x30: 4}[cmd]
            found = (pf,) + struct.unpack_from("<II", sl.raw, off + 8)
    return found


def needs_agile(slices):
    limits = {1: 0x000A0B04, 2: 0x000B0000, 3: 0x000B0000, 4: 0x000C0000}
    for sl, _, _ in slices:
        p = platform(sl)
        if p and p[0] in limits and p[1] < limits[p[0]]:
            return True
    return False


def seg_align(sl):
    """cctools get_seg_align: smallest guessed alignment over segment vmaddrs."""
    best = 15
    for seg in sl.segments:
        if seg.vmaddr == 0:
            a = 15
        else:
            a = (seg.vmaddr & -seg.vmaddr).bit_length() - 1
            a = min(15, max(3, a))
        best = min(best, a)
    return best


def cd_size(version, ident, n_special, n_code, hash_size):
    header = 96
    if version < 0x20500:
        header -= 8
    if version < 0x20400:
        header -= 24
    if version < 0x20300:
        header -= 12
    if version < 0x20200:
        header -= 4
    return header + len(ident.encode()) + 1 + (n_special + n_code) * hash_size


def estimate(old_extent, page_size, ident, n_special, hash_types, other_blobs):
    """codesign's allocation: SuperBlob header and index, the other blobs,
    CodeDirectories at version 0x20500 for the old extent, 18000 for CMS;
    rounded up to 16."""
    n_code = (old_extent + page_size - 1) // page_size
    total = 12 + 8 * (len(other_blobs) + len(hash_types) + 1) + sum(len(b) for b in other_blobs) + CMS_ESTIMATE
    total += sum(cd_size(0x20500, ident, n_special, n_code, HASH_SIZES[t]) for t in hash_types)
    return (total + 15) & ~15


def linkedit(sl):
    for seg in sl.segments:
        if seg.name == "__LINKEDIT":
            return seg
    return None


def segment_cmd_offset(sl, name):
    for cmd, size, off in sl.lcs:
        if cmd == 0x19 and bytes(sl.raw[off + 8:off + 24]).rstrip(b"\0").decode() == name:
            return off
    return None


def codesig_cmd_offset(sl):
    for cmd, size, off in sl.lcs:
        if cmd == 0x1D:
            return off
    return None
