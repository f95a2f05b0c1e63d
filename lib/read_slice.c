/* Parsing one Mach-O slice: header, load commands, segments, sections, and the
 * layout facts later stages need (head gap, tail slack). Every rule of
 * reference section 1 is checked here; a slice that breaks one is refused
 * with the load command's index and offset. */
#include "bytes.h"
#include "image.h"
#include "macho_format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WHERE_LEN 512

static mp_status parse_header(mp_image *img, mp_slice *s, mp_error *err, const char *where)
{
    if (s->size < 4)
        return mp_fail(err, MP_ERR_MALFORMED, "%s: %llu bytes, too short for a Mach-O header", where,
                       (unsigned long long)s->size);
    s->magic = mp_le32(s->data);
    if (s->magic == MH_CIGAM || s->magic == MH_CIGAM_64)
        return mp_fail(err, MP_ERR_UNSUPPORTED, "%s: big-endian Mach-O is not supported", where);
    if (s->magic != MH_MAGIC && s->magic != MH_MAGIC_64)
        return mp_fail(err, img->fat ? MP_ERR_MALFORMED : MP_ERR_NOT_MACHO,
                       "%s: not Mach-O (magic %08x)", where, mp_be32(s->data));
    s->is64 = s->magic == MH_MAGIC_64;
    s->header_size = s->is64 ? MACH_HEADER_64_SIZE : MACH_HEADER_SIZE;
    if (s->size < s->header_size)
        return mp_fail(err, MP_ERR_MALFORMED, "%s: Mach-O header truncated (%llu of %u bytes)", where,
                       (unsigned long long)s->size, s->header_size);
    s->cputype = mp_le32(s->data + 4);
    s->cpusubtype = mp_le32(s->data + 8);
    s->filetype = mp_le32(s->data + 12);
    s->ncmds = mp_le32(s->data + 16);
    s->sizeofcmds = mp_le32(s->data + 20);
    s->flags = mp_le32(s->data + 24);
    snprintf(s->arch, sizeof s->arch, "%s", mp_arch_name(s->cputype, s->cpusubtype));
    if (s->is64 != ((s->cputype & CPU_ARCH_ABI64) != 0))
        return mp_fail(err, MP_ERR_MALFORMED, "%s: %s header magic does not match cputype %#x", where,
                       s->is64 ? "64-bit" : "32-bit", s->cputype);
    s->lc_end = (uint64_t)s->header_size + s->sizeofcmds;
    if (s->lc_end > s->size)
        return mp_fail(err, MP_ERR_MALFORMED,
                       "%s: sizeofcmds %u at offset 0x14 extends past the end of the slice (%llu bytes)", where,
                       s->sizeofcmds, (unsigned long long)s->size);
    uint32_t min_cmd = 8;
    if (s->ncmds > s->sizeofcmds / min_cmd)
        return mp_fail(err, MP_ERR_MALFORMED, "%s: ncmds %u cannot fit in sizeofcmds %u", where, s->ncmds,
                       s->sizeofcmds);
    return MP_OK;
}

static mp_status add_section(mp_slice *s, size_t seg_index, const uint8_t *p, uint32_t hdr_off)
{
    mp_section *sec = &s->sects[s->nsects];
    memset(sec, 0, sizeof *sec);
    mp_segname_copy(sec->sectname, p);
    mp_segname_copy(sec->segname, p + 16);
    if (s->is64) {
        sec->addr = mp_le64(p + 32);
        sec->size = mp_le64(p + 40);
        p += 48;
    } else {
        sec->addr = mp_le32(p + 32);
        sec->size = mp_le32(p + 36);
        p += 40;
    }
    sec->offset = mp_le32(p);
    sec->align = mp_le32(p + 4);
    sec->reloff = mp_le32(p + 8);
    sec->nreloc = mp_le32(p + 12);
    sec->flags = mp_le32(p + 16);
    sec->hdr_off = hdr_off;
    sec->segment = (uint32_t)seg_index;
    s->nsects++;
    sec->ordinal = (unsigned)s->nsects;
    return MP_OK;
}

static mp_status check_table_range(const mp_slice *s, uint32_t lc_index, const char *what, uint64_t off, uint64_t size,
                                   mp_error *err, const char *where);

static mp_status parse_segment(mp_slice *s, uint32_t lc_index, mp_error *err, const char *where)
{
    const mp_lc *lc = &s->lcs[lc_index];
    const uint8_t *p = s->data + lc->off;
    uint32_t base = s->is64 ? SEGMENT_COMMAND_64_SIZE : SEGMENT_COMMAND_SIZE;
    uint32_t sect_size = s->is64 ? SECTION_64_SIZE : SECTION_SIZE;
    if (lc->cmdsize < base)
        return mp_fail(err, MP_ERR_MALFORMED, "%s: load command %u at offset %#x: segment cmdsize %u < %u", where,
                       lc_index, lc->off, lc->cmdsize, base);
    mp_segment *seg = &s->segs[s->nsegs];
    memset(seg, 0, sizeof *seg);
    mp_segname_copy(seg->name, p + 8);
    if (s->is64) {
        seg->vmaddr = mp_le64(p + 24);
        seg->vmsize = mp_le64(p + 32);
        seg->fileoff = mp_le64(p + 40);
        seg->filesize = mp_le64(p + 48);
        p += 56;
    } else {
        seg->vmaddr = mp_le32(p + 24);
        seg->vmsize = mp_le32(p + 28);
        seg->fileoff = mp_le32(p + 32);
        seg->filesize = mp_le32(p + 36);
        p += 40;
    }
    seg->maxprot = mp_le32(p);
    seg->initprot = mp_le32(p + 4);
    seg->nsects = mp_le32(p + 8);
    seg->flags = mp_le32(p + 12);
    seg->lc_index = lc_index;
    seg->first_section = s->nsects;
    if ((uint64_t)base + (uint64_t)seg->nsects * sect_size != lc->cmdsize)
        return mp_fail(err, MP_ERR_MALFORMED,
                       "%s: load command %u at offset %#x: segment %s has nsects %u but cmdsize %u (expected %llu)",
                       where, lc_index, lc->off, seg->name, seg->nsects, lc->cmdsize,
                       (unsigned long long)base + (unsigned long long)seg->nsects * sect_size);
    if (!mp_range_ok(s->size, seg->fileoff, seg->filesize))
        return mp_fail(err, MP_ERR_MALFORMED,
                       "%s: load command %u at offset %#x: segment %s file range [%#llx, +%#llx) extends past the end of the slice (%#llx)",
                       where, lc_index, lc->off, seg->name, (unsigned long long)seg->fileoff,
                       (unsigned long long)seg->filesize, (unsigned long long)s->size);
    if (seg->vmaddr + seg->vmsize < seg->vmaddr)
        return mp_fail(err, MP_ERR_MALFORMED, "%s: load command %u at offset %#x: segment %s VM range wraps around",
                       where, lc_index, lc->off, seg->name);
    /* dyld accepts a segment that holds file bytes but is not mapped at all
     * (vmsize 0 and initprot 0): the Go linker's __DWARF, ld's __LLVM. */
    bool unmapped = seg->vmsize == 0 && seg->initprot == 0;
    if (seg->filesize > seg->vmsize && !unmapped)
        return mp_fail(err, MP_ERR_MALFORMED,
                       "%s: load command %u at offset %#x: segment %s filesize %#llx exceeds vmsize %#llx", where,
                       lc_index, lc->off, seg->name, (unsigned long long)seg->filesize,
                       (unsigned long long)seg->vmsize);
    if (s->nsects + seg->nsects > MAX_SECT)
        return mp_fail(err, MP_ERR_MALFORMED,
                       "%s: load command %u at offset %#x: more than %u sections in the slice", where, lc_index,
                       lc->off, MAX_SECT);
    for (size_t i = 0; i < s->nsegs; i++)
        if (strcmp(s->segs[i].name, seg->name) == 0)
            return mp_fail(err, MP_ERR_MALFORMED, "%s: load command %u at offset %#x: duplicate segment %s", where,
                           lc_index, lc->off, seg->name);
    size_t seg_index = s->nsegs++;
    uint32_t off = lc->off + base;
    for (uint32_t i = 0; i < seg->nsects; i++, off += sect_size) {
        add_section(s, seg_index, s->data + off, off);
        const mp_section *sec = &s->sects[s->nsects - 1];
        if (sec->addr + sec->size < sec->addr ||
            (!unmapped && (sec->addr < seg->vmaddr || sec->addr + sec->size > seg->vmaddr + seg->vmsize)))
            return mp_fail(err, MP_ERR_MALFORMED,
                           "%s: load command %u at offset %#x: section %s,%s [%#llx, +%#llx) lies outside segment %s VM range",
                           where, lc_index, lc->off, sec->segname, sec->sectname, (unsigned long long)sec->addr,
                           (unsigned long long)sec->size, seg->name);
        if (check_table_range(s, lc_index, "relocations", sec->reloff, (uint64_t)sec->nreloc * 8, err, where))
            return MP_ERR_MALFORMED;
        if (!mp_section_in_file(sec))
            continue;
        if ((uint64_t)sec->offset < seg->fileoff ||
            (uint64_t)sec->offset + sec->size > seg->fileoff + seg->filesize)
            return mp_fail(err, MP_ERR_MALFORMED,
                           "%s: load command %u at offset %#x: section %s,%s file range [%#x, +%#llx) lies outside segment %s",
                           where, lc_index, lc->off, sec->segname, sec->sectname, sec->offset,
                           (unsigned long long)sec->size, seg->name);
        if (sec->addr - seg->vmaddr != (uint64_t)sec->offset - seg->fileoff)
            return mp_fail(err, MP_ERR_MALFORMED,
                           "%s: load command %u at offset %#x: section %s,%s is not mapped linearly (addr %#llx, offset %#x)",
                           where, lc_index, lc->off, sec->segname, sec->sectname, (unsigned long long)sec->addr,
                           sec->offset);
        if (sec->offset < s->lc_end && sec->offset + sec->size > 0)
            return mp_fail(err, MP_ERR_MALFORMED,
                           "%s: load command %u at offset %#x: section %s,%s at %#x overlaps the load commands (end %#llx)",
                           where, lc_index, lc->off, sec->segname, sec->sectname, sec->offset,
                           (unsigned long long)s->lc_end);
    }
    return MP_OK;
}

/* Linkedit-style (offset, size) pair that must lie inside the slice. */
static mp_status check_data_range(const mp_slice *s, uint32_t lc_index, const char *what, uint64_t off, uint64_t size,
                                  mp_error *err, const char *where)
{
    if (size == 0 || mp_range_ok(s->size, off, size))
        return MP_OK;
    return mp_fail(err, MP_ERR_MALFORMED,
                   "%s: load command %u at offset %#x: %s [%#llx, +%#llx) extends past the end of the slice (%#llx)",
                   where, lc_index, s->lcs[lc_index].off, what, (unsigned long long)off, (unsigned long long)size,
                   (unsigned long long)s->size);
}

/* A table machoplist rewrites in place (symbols, relocations): inside the
 * slice and clear of the header and load commands, so that renumbering
 * section ordinals can never touch them. */
static mp_status check_table_range(const mp_slice *s, uint32_t lc_index, const char *what, uint64_t off, uint64_t size,
                                   mp_error *err, const char *where)
{
    mp_status st = check_data_range(s, lc_index, what, off, size, err, where);
    if (st != MP_OK || size == 0 || off >= s->lc_end)
        return st;
    return mp_fail(err, MP_ERR_MALFORMED,
                   "%s: load command %u at offset %#x: %s at %#llx: inside the header and load commands (which end at %#llx)",
                   where, lc_index, s->lcs[lc_index].off, what, (unsigned long long)off,
                   (unsigned long long)s->lc_end);
}

static mp_status parse_other_command(mp_slice *s, uint32_t i, mp_error *err, const char *where)
{
    const mp_lc *lc = &s->lcs[i];
    const uint8_t *p = s->data + lc->off;
    switch (lc->cmd) {
    case LC_SYMTAB:
        if (lc->cmdsize < 24)
            break;
        s->symtab_lc = (int)i;
        s->symoff = mp_le32(p + 8);
        s->nsyms = mp_le32(p + 12);
        s->stroff = mp_le32(p + 16);
        s->strsize = mp_le32(p + 20);
        if (check_table_range(s, i, "symbol table", s->symoff,
                             (uint64_t)s->nsyms * (s->is64 ? NLIST_64_SIZE : NLIST_SIZE), err, where) ||
            check_data_range(s, i, "string table", s->stroff, s->strsize, err, where))
            return MP_ERR_MALFORMED;
        return MP_OK;
    case LC_DYSYMTAB:
        if (lc->cmdsize < 80)
            break;
        s->dysymtab_lc = (int)i;
        if (check_table_range(s, i, "external relocations", mp_le32(p + 64), (uint64_t)mp_le32(p + 68) * 8, err,
                              where) ||
            check_table_range(s, i, "local relocations", mp_le32(p + 72), (uint64_t)mp_le32(p + 76) * 8, err, where))
            return MP_ERR_MALFORMED;
        return MP_OK;
    case LC_UUID:
        if (lc->cmdsize < 24)
            break;
        s->has_uuid = true;
        memcpy(s->uuid, p + 8, 16);
        return MP_OK;
    case LC_BUILD_VERSION:
        if (lc->cmdsize < 24)
            break;
        s->has_platform = true;
        s->platform = mp_le32(p + 8);
        s->minos = mp_le32(p + 12);
        s->sdk = mp_le32(p + 16);
        return MP_OK;
    case LC_VERSION_MIN_MACOSX:
    case LC_VERSION_MIN_IPHONEOS:
    case LC_VERSION_MIN_TVOS:
    case LC_VERSION_MIN_WATCHOS:
        if (lc->cmdsize < 16)
            break;
        s->has_platform = true;
        s->platform = lc->cmd == LC_VERSION_MIN_MACOSX ? 1 : lc->cmd == LC_VERSION_MIN_IPHONEOS ? 2
                      : lc->cmd == LC_VERSION_MIN_TVOS ? 3 : 4;
        s->minos = mp_le32(p + 8);
        s->sdk = mp_le32(p + 12);
        return MP_OK;
    case LC_ENCRYPTION_INFO:
    case LC_ENCRYPTION_INFO_64:
        if (lc->cmdsize < 20)
            break;
        if (mp_le32(p + 16) != 0)
            s->encrypted = true;
        return check_data_range(s, i, "encrypted range", mp_le32(p + 8), mp_le32(p + 12), err, where);
    case LC_CODE_SIGNATURE:
        if (s->codesig_lc >= 0)
            return mp_fail(err, MP_ERR_MALFORMED, "%s: load command %u at offset %#x: second LC_CODE_SIGNATURE",
                           where, i, lc->off);
        s->codesig_lc = (int)i;
        /* fallthrough */
    case LC_SEGMENT_SPLIT_INFO:
    case LC_FUNCTION_STARTS:
    case LC_DATA_IN_CODE:
    case LC_DYLIB_CODE_SIGN_DRS:
    case LC_LINKER_OPTIMIZATION_HINT:
    case LC_DYLD_EXPORTS_TRIE:
    case LC_DYLD_CHAINED_FIXUPS:
        if (lc->cmdsize != LINKEDIT_DATA_COMMAND_SIZE)
            return mp_fail(err, MP_ERR_MALFORMED, "%s: load command %u at offset %#x: cmdsize %u, expected 16",
                           where, i, lc->off, lc->cmdsize);
        if (lc->cmd == LC_CODE_SIGNATURE) {
            s->sig.present = true;
            s->sig.dataoff = mp_le32(p + 8);
            s->sig.datasize = mp_le32(p + 12);
        }
        return check_data_range(s, i, "data", mp_le32(p + 8), mp_le32(p + 12), err, where);
    default:
        return MP_OK;
    }
    return mp_fail(err, MP_ERR_MALFORMED, "%s: load command %u (cmd %#x) at offset %#x: cmdsize %u is too small", where,
                   i, lc->cmd, lc->off, lc->cmdsize);
}

static mp_status walk_load_commands(mp_slice *s, mp_error *err, const char *where)
{
    s->lcs = calloc(s->ncmds ? s->ncmds : 1, sizeof *s->lcs);
    if (!s->lcs)
        return mp_fail(err, MP_ERR_NOMEM, "%s: out of memory", where);
    uint32_t align = s->is64 ? 8 : 4;
    uint64_t off = s->header_size;
    size_t nseg_cmds = 0, sect_budget = 0;
    for (uint32_t i = 0; i < s->ncmds; i++) {
        if (!mp_range_ok(s->lc_end, off, 8))
            return mp_fail(err, MP_ERR_MALFORMED, "%s: load command %u at offset %#llx extends past sizeofcmds %u",
                           where, i, (unsigned long long)off, s->sizeofcmds);
        mp_lc *lc = &s->lcs[i];
        lc->cmd = mp_le32(s->data + off);
        lc->cmdsize = mp_le32(s->data + off + 4);
        lc->off = (uint32_t)off;
        if (lc->cmdsize < 8 || lc->cmdsize % align)
            return mp_fail(err, MP_ERR_MALFORMED,
                           "%s: load command %u (cmd %#x) at offset %#llx: cmdsize %u is %s", where, i, lc->cmd,
                           (unsigned long long)off, lc->cmdsize,
                           lc->cmdsize < 8 ? "too small" : s->is64 ? "not a multiple of 8" : "not a multiple of 4");
        if (!mp_range_ok(s->lc_end, off, lc->cmdsize))
            return mp_fail(err, MP_ERR_MALFORMED,
                           "%s: load command %u (cmd %#x) at offset %#llx: cmdsize %u extends past sizeofcmds %u",
                           where, i, lc->cmd, (unsigned long long)off, lc->cmdsize, s->sizeofcmds);
        if (lc->cmd == (s->is64 ? LC_SEGMENT_64 : LC_SEGMENT)) {
            nseg_cmds++;
            sect_budget += lc->cmdsize / (s->is64 ? SECTION_64_SIZE : SECTION_SIZE);
        } else if (lc->cmd == LC_SEGMENT || lc->cmd == LC_SEGMENT_64) {
            return mp_fail(err, MP_ERR_MALFORMED, "%s: load command %u at offset %#llx: %s segment in a %s file",
                           where, i, (unsigned long long)off, s->is64 ? "32-bit" : "64-bit",
                           s->is64 ? "64-bit" : "32-bit");
        }
        off += lc->cmdsize;
    }
    s->nlcs = s->ncmds;
    s->segs = calloc(nseg_cmds ? nseg_cmds : 1, sizeof *s->segs);
    s->sects = calloc(sect_budget ? sect_budget : 1, sizeof *s->sects);
    if (!s->segs || !s->sects)
        return mp_fail(err, MP_ERR_NOMEM, "%s: out of memory", where);
    for (uint32_t i = 0; i < s->ncmds; i++) {
        mp_status st = s->lcs[i].cmd == LC_SEGMENT_64 || s->lcs[i].cmd == LC_SEGMENT
                           ? parse_segment(s, i, err, where)
                           : parse_other_command(s, i, err, where);
        if (st != MP_OK)
            return st;
    }
    return MP_OK;
}

static int compare_u64_pairs(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;
    return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* Sorts n (start, end, id) triples by start and reports the first overlap. */
static bool find_overlap(uint64_t *ranges, size_t n, size_t *first, size_t *second)
{
    qsort(ranges, n, 3 * sizeof *ranges, compare_u64_pairs);
    for (size_t i = 1; i < n; i++) {
        if (ranges[3 * (i - 1) + 1] > ranges[3 * i]) {
            *first = (size_t)ranges[3 * (i - 1) + 2];
            *second = (size_t)ranges[3 * i + 2];
            return true;
        }
    }
    return false;
}

static mp_status check_overlaps(mp_slice *s, mp_error *err, const char *where)
{
    size_t n = s->nsegs > s->nsects ? s->nsegs : s->nsects;
    uint64_t *r = calloc(3 * (n ? n : 1), sizeof *r);
    if (!r)
        return mp_fail(err, MP_ERR_NOMEM, "%s: out of memory", where);
    size_t k = 0, a, b;
    mp_status st = MP_OK;
    for (size_t i = 0; i < s->nsegs; i++) {
        if (s->segs[i].filesize == 0)
            continue;
        r[3 * k] = s->segs[i].fileoff;
        r[3 * k + 1] = s->segs[i].fileoff + s->segs[i].filesize;
        r[3 * k + 2] = i;
        k++;
    }
    if (find_overlap(r, k, &a, &b)) {
        st = mp_fail(err, MP_ERR_MALFORMED,
                     "%s: load command %u at offset %#x: segment %s overlaps segment %s in the file", where,
                     s->segs[b].lc_index, s->lcs[s->segs[b].lc_index].off, s->segs[b].name, s->segs[a].name);
        goto out;
    }
    k = 0;
    for (size_t i = 0; i < s->nsegs; i++) {
        if (s->segs[i].vmsize == 0)
            continue;
        r[3 * k] = s->segs[i].vmaddr;
        r[3 * k + 1] = s->segs[i].vmaddr + s->segs[i].vmsize;
        r[3 * k + 2] = i;
        k++;
    }
    if (find_overlap(r, k, &a, &b)) {
        st = mp_fail(err, MP_ERR_MALFORMED, "%s: load command %u at offset %#x: segment %s overlaps segment %s in memory",
                     where, s->segs[b].lc_index, s->lcs[s->segs[b].lc_index].off, s->segs[b].name,
                     s->segs[a].name);
        goto out;
    }
    k = 0;
    for (size_t i = 0; i < s->nsects; i++) {
        if (!mp_section_in_file(&s->sects[i]))
            continue;
        r[3 * k] = s->sects[i].offset;
        r[3 * k + 1] = s->sects[i].offset + s->sects[i].size;
        r[3 * k + 2] = i;
        k++;
    }
    if (find_overlap(r, k, &a, &b)) {
        const mp_section *x = &s->sects[a], *y = &s->sects[b];
        uint32_t lci = s->segs[y->segment].lc_index;
        st = mp_fail(err, MP_ERR_MALFORMED,
                     "%s: load command %u at offset %#x: section %s,%s at %#x overlaps section %s,%s at %#x", where, lci,
                     s->lcs[lci].off, y->segname, y->sectname, y->offset, x->segname, x->sectname, x->offset);
    }
out:
    free(r);
    return st;
}

/* Head gap, tail slack, and the indexes of the segments and section we edit. */
static mp_status compute_layout(mp_slice *s, mp_error *err, const char *where)
{
    for (size_t i = 0; i < s->nsegs; i++) {
        if (strcmp(s->segs[i].name, "__TEXT") == 0)
            s->text_seg = (int)i;
        else if (strcmp(s->segs[i].name, "__LINKEDIT") == 0)
            s->linkedit_seg = (int)i;
    }
    for (size_t i = 0; i < s->nsects; i++)
        if (strcmp(s->sects[i].segname, "__TEXT") == 0 && strcmp(s->sects[i].sectname, "__info_plist") == 0) {
            if (s->info_plist_sect >= 0)
                return mp_fail(err, MP_ERR_MALFORMED, "%s: two __TEXT,__info_plist sections", where);
            /* Its bytes are read at offset/size: a zerofill one was never
             * checked against the file. */
            const mp_section *sec = &s->sects[i];
            if (sec->size && mp_is_zerofill(sec->flags)) {
                uint32_t lci = s->segs[sec->segment].lc_index;
                return mp_fail(err, MP_ERR_MALFORMED,
                               "%s: load command %u at offset %#x: section __TEXT,__info_plist is zerofill (flags %#x) but holds %llu bytes",
                               where, lci, s->lcs[lci].off, sec->flags, (unsigned long long)sec->size);
            }
            s->info_plist_sect = (int)i;
        }
    if (s->linkedit_seg >= 0) {
        const mp_segment *le = &s->segs[s->linkedit_seg];
        for (size_t i = 0; i < s->nsegs; i++)
            if ((int)i != s->linkedit_seg && s->segs[i].filesize && le->filesize &&
                s->segs[i].fileoff > le->fileoff)
                return mp_fail(err, MP_ERR_MALFORMED,
                               "%s: load command %u at offset %#x: segment %s lies after __LINKEDIT in the file", where,
                               s->segs[i].lc_index, s->lcs[s->segs[i].lc_index].off, s->segs[i].name);
    }
    if (s->text_seg < 0)
        return MP_OK;
    const mp_segment *text = &s->segs[s->text_seg];
    if (text->fileoff != 0)
        return mp_fail(err, MP_ERR_MALFORMED,
                       "%s: load command %u at offset %#x: __TEXT starts at file offset %#llx, not 0 (it must hold the header)",
                       where, text->lc_index, s->lcs[text->lc_index].off, (unsigned long long)text->fileoff);
    if (text->filesize < s->lc_end)
        return mp_fail(err, MP_ERR_MALFORMED,
                       "%s: load command %u at offset %#x: __TEXT filesize %#llx does not cover the load commands (%#llx)",
                       where, text->lc_index, s->lcs[text->lc_index].off, (unsigned long long)text->filesize,
                       (unsigned long long)s->lc_end);
    uint64_t low = text->filesize, high = s->lc_end;
    for (size_t i = text->first_section; i < text->first_section + text->nsects; i++) {
        const mp_section *sec = &s->sects[i];
        if (!mp_section_in_file(sec))
            continue;
        if (sec->offset < low)
            low = sec->offset;
        if (sec->offset + sec->size > high)
            high = sec->offset + sec->size;
    }
    s->low_fileoff = low;
    s->head_gap = low - s->lc_end;
    s->tail_slack = text->filesize > high ? text->filesize - high : 0;
    if (low == text->filesize) /* no file-backed section: all of it is one gap */
        s->tail_slack = 0;
    return MP_OK;
}

mp_status mp_parse_slice(mp_image *img, mp_slice *s, mp_error *err)
{
    char where[WHERE_LEN];
    snprintf(where, sizeof where, "%s: slice %zu", img->name, s->index);
    mp_status st = parse_header(img, s, err, where);
    if (st != MP_OK)
        return st;
    mp_slice_where(img, s, where, sizeof where);
    if ((st = walk_load_commands(s, err, where)) != MP_OK)
        return st;
    if ((st = check_overlaps(s, err, where)) != MP_OK)
        return st;
    if ((st = compute_layout(s, err, where)) != MP_OK)
        return st;
    mp_parse_signature(s);
    return MP_OK;
}

void mp_slice_release(mp_slice *s)
{
    free(s->lcs);
    free(s->segs);
    free(s->sects);
    free(s->sig.blobs);
    s->lcs = NULL;
    s->segs = NULL;
    s->sects = NULL;
    s->sig.blobs = NULL;
}
