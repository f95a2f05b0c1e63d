/* Executing an mp_plan: rewrite the load commands (new or removed section
 * header, dropped commands), write or clear the section bytes, and renumber
 * section ordinals. Slices keep their size; signing comes afterwards. */
#include "bytes.h"
#include "inject_plan.h"

#include <stdlib.h>
#include <string.h>

#define RELOC_SIZE 8u
#define R_SCATTERED 0x80000000u
#define R_ABS 0u

/* True when [off, off+len) lies inside __LINKEDIT's file bytes. Symbol and
 * relocation tables are renumbered only there: dyld reads them from
 * __LINKEDIT alone, and a table whose offset points elsewhere (at the header,
 * the load commands, section bytes) must not be rewritten as one. */
static bool in_linkedit(const mp_slice *s, uint64_t off, uint64_t len)
{
    if (s->linkedit_seg < 0)
        return false;
    const mp_segment *le = &s->segs[s->linkedit_seg];
    return off >= le->fileoff && mp_range_ok(le->filesize, off - le->fileoff, len);
}

/* The new ordinal for a reference to old section sect, or 0 when it stays:
 * counts the change in *count, or in *orphans when the section goes away. */
static uint8_t remapped(const uint8_t *map, uint32_t sect, uint32_t *count, uint32_t *orphans)
{
    if (map[sect] == 0) {
        (*orphans)++;
        return 0;
    }
    if (map[sect] == sect)
        return 0;
    (*count)++;
    return map[sect];
}

/* Remaps one relocation table [off, off + n*8) in place (or counts). */
static bool remap_relocs(const mp_slice *s, mp_buf *out, size_t out_off, uint64_t off, uint64_t n,
                         const uint8_t *map, uint32_t *count, uint32_t *orphans)
{
    if (n == 0 || !mp_range_ok(s->size, off, n * RELOC_SIZE) || !in_linkedit(s, off, n * RELOC_SIZE))
        return true;
    for (uint64_t i = 0; i < n; i++) {
        const uint8_t *r = s->data + off + i * RELOC_SIZE;
        if (mp_le32(r) & R_SCATTERED)
            continue; /* 32-bit only: refers to addresses, not section numbers */
        uint32_t info = mp_le32(r + 4);
        bool is_extern = (info >> 27) & 1;
        uint32_t sect = info & 0xffffff;
        if (is_extern || sect == R_ABS || sect > MAX_SECT)
            continue;
        uint8_t to = remapped(map, sect, count, orphans);
        if (to && out) {
            uint8_t *w = mp_buf_writable(out, out_off + off + i * RELOC_SIZE + 4, 4);
            if (!w)
                return false;
            mp_put_le32(w, (info & ~0xffffffu) | to);
        }
    }
    return true;
}

bool mp_remap_ordinals(const mp_slice *s, mp_buf *out, size_t out_off, const uint8_t map[MAX_SECT + 1],
                       uint32_t *symbols, uint32_t *relocations, uint32_t *orphans)
{
    *symbols = *relocations = *orphans = 0;
    if (s->symtab_lc >= 0 &&
        in_linkedit(s, s->symoff, (uint64_t)s->nsyms * (s->is64 ? NLIST_64_SIZE : NLIST_SIZE))) {
        uint32_t entry = s->is64 ? NLIST_64_SIZE : NLIST_SIZE;
        /* The reader checked the table lies inside the slice. */
        for (uint32_t i = 0; i < s->nsyms; i++) {
            uint64_t off = s->symoff + (uint64_t)i * entry;
            uint8_t type = s->data[off + 4], sect = s->data[off + 5];
            bool has_sect = (type & N_STAB) ? sect != 0 : (type & N_TYPE) == N_SECT;
            if (!has_sect || sect == 0)
                continue;
            uint8_t to = remapped(map, sect, symbols, orphans);
            if (to && out) {
                uint8_t *w = mp_buf_writable(out, out_off + off + 5, 1);
                if (!w)
                    return false;
                *w = to;
            }
        }
    }
    bool ok = true;
    for (size_t i = 0; ok && i < s->nsects; i++)
        ok = remap_relocs(s, out, out_off, s->sects[i].reloff, s->sects[i].nreloc, map, relocations, orphans);
    if (ok && s->dysymtab_lc >= 0) {
        const uint8_t *d = s->data + s->lcs[s->dysymtab_lc].off;
        ok = remap_relocs(s, out, out_off, mp_le32(d + 72), mp_le32(d + 76), map, relocations,
                          orphans); /* locreloff, nlocrel */
    }
    return ok;
}

static bool is_dropped(const mp_slice_plan *p, size_t lc_index)
{
    for (size_t i = 0; i < p->ndropped; i++)
        if (p->dropped[i] == lc_index)
            return true;
    return false;
}

/* The new section_64 header for __TEXT,__info_plist. Like ld -sectcreate:
 * S_REGULAR, alignment 2^0, no relocations. */
static void write_section_header(uint8_t *h, uint64_t addr, uint64_t size, uint32_t offset)
{
    memset(h, 0, SECTION_64_SIZE);
    memcpy(h, "__info_plist", 12);
    memcpy(h + 16, "__TEXT", 6);
    mp_put_le64(h + 32, addr);
    mp_put_le64(h + 40, size);
    mp_put_le32(h + 48, offset);
}

/* Builds the new load-command area into out (capacity cap). Returns its size. */
static uint64_t build_load_commands(const mp_slice *s, const mp_slice_plan *p, uint64_t len, uint8_t *out)
{
    uint64_t o = 0;
    for (size_t i = 0; i < s->nlcs; i++) {
        const mp_lc *lc = &s->lcs[i];
        if (is_dropped(p, i))
            continue;
        if ((int)i != (int)s->segs[s->text_seg].lc_index) {
            memcpy(out + o, s->data + lc->off, lc->cmdsize);
            o += lc->cmdsize;
            continue;
        }
        uint8_t *seg = out + o;
        memcpy(seg, s->data + lc->off, SEGMENT_COMMAND_64_SIZE);
        mp_put_le32(seg + 4, SEGMENT_COMMAND_64_SIZE + (uint32_t)p->text_count * SECTION_64_SIZE);
        mp_put_le32(seg + 64, (uint32_t)p->text_count);
        o += SEGMENT_COMMAND_64_SIZE;
        for (size_t k = 0; k < p->text_count; k++, o += SECTION_64_SIZE) {
            int idx = p->text_order[k];
            if (idx < 0 || idx == s->info_plist_sect)
                write_section_header(out + o, p->data_addr, len, (uint32_t)p->data_off);
            else
                memcpy(out + o, s->data + s->sects[idx].hdr_off, SECTION_64_SIZE);
        }
    }
    return o;
}

static mp_status apply_slice(const mp_image *img, const mp_slice *s, const mp_plan *plan, const mp_slice_plan *p,
                             mp_buf *out, mp_error *err)
{
    if (p->action == MP_PLAN_NONE || p->unchanged)
        return MP_OK;
    uint64_t cap = s->sizeofcmds + SECTION_64_SIZE;
    uint8_t *lcs = calloc(1, cap);
    if (!lcs)
        return mp_fail(err, MP_ERR_NOMEM, "%s: out of memory", img->name);
    uint64_t new_size = build_load_commands(s, p, plan->len, lcs);
    if (new_size != (uint64_t)((int64_t)s->sizeofcmds + p->lc_growth)) {
        free(lcs);
        return mp_fail(err, MP_ERR_MALFORMED, "%s: slice %zu: internal error: load commands came to %llu bytes, planned %lld",
                       img->name, s->index, (unsigned long long)new_size,
                       (long long)((int64_t)s->sizeofcmds + p->lc_growth));
    }
    /* Old bytes first (they may overlap the new place), then the commands, then the new bytes. */
    uint64_t old_end = s->lc_end, new_end = s->header_size + new_size;
    size_t at = (size_t)s->offset;
    uint8_t *head = mp_buf_writable(out, at, (size_t)(old_end > new_end ? old_end : new_end));
    uint8_t *cleared = p->clear_size ? mp_buf_writable(out, at + p->clear_off, (size_t)p->clear_size) : NULL;
    uint8_t *bytes = p->action != MP_PLAN_REMOVE ? mp_buf_writable(out, at + p->data_off, plan->len) : NULL;
    if (!head || (p->clear_size && !cleared) || (p->action != MP_PLAN_REMOVE && !bytes)) {
        free(lcs);
        return mp_fail(err, MP_ERR_NOMEM, "%s: out of memory", img->name);
    }
    if (p->clear_size)
        memset(cleared, 0, p->clear_size);
    memcpy(head + s->header_size, lcs, new_size);
    if (new_end < old_end)
        memset(head + new_end, 0, old_end - new_end);
    free(lcs);
    mp_put_le32(head + 16, s->ncmds - (uint32_t)p->ndropped);
    mp_put_le32(head + 20, (uint32_t)new_size);
    if (bytes)
        memcpy(bytes, plan->bytes, plan->len);
    uint32_t symbols, relocations, orphans;
    if (!mp_remap_ordinals(s, out, at, p->ordinal_map, &symbols, &relocations, &orphans))
        return mp_fail(err, MP_ERR_NOMEM, "%s: out of memory", img->name);
    return MP_OK;
}

mp_status mp_image_apply(mp_image *img, const mp_plan *plan, mp_error *err)
{
    if (!img || !plan)
        return mp_fail(err, MP_ERR_USAGE, "mp_image_apply: NULL argument");
    if (plan->nslices != img->nslices)
        return mp_fail(err, MP_ERR_USAGE, "%s: the plan was made for another file", img->name);
    /* A copy that shares the unchanged pages with the file (buffer.h). */
    mp_buf *copy = mp_buf_alloc(img->size);
    if (!copy || !mp_buf_copy(copy, 0, img->buf, 0, img->size)) {
        mp_buf_free(copy);
        return mp_fail(err, MP_ERR_NOMEM, "%s: out of memory", img->name);
    }
    for (size_t i = 0; i < img->nslices; i++) {
        mp_status st = apply_slice(img, &img->slices[i], plan, &plan->slices[i], copy, err);
        if (st != MP_OK) {
            mp_buf_free(copy);
            return st;
        }
    }
    return mp_image_reset(img, copy, err);
}
