/* Room for the signature, as cctools codesign_allocate (misc/codesign_allocate.c,
 * setup_code_signature) makes it, which codesign calls before signing:
 * - an existing LC_CODE_SIGNATURE is reused: the signature stays where it was
 *   (its offset rounded up to 16 bytes) and only its size changes;
 * - otherwise a 16-byte LC_CODE_SIGNATURE is appended to the load commands,
 *   which must fit before the first section's contents, and the signature is
 *   placed at the end of __LINKEDIT rounded up to 16 bytes;
 * - __LINKEDIT.filesize is made to end exactly at the end of the signature;
 *   vmsize is raised (never lowered) to filesize rounded up to the segment
 *   alignment that get_seg_align() (libstuff/align.c) guesses from vmaddrs.
 * Every byte before the signature is kept, except the header fields above. */
#include "bytes.h"
#include "macho_format.h"
#include "sign.h"

#include <string.h>

#define MP_MAX_SEG_ALIGN 15u /* cctools MAXSEGALIGN */

/* guess_align(): the lowest set bit of vmaddr, clamped to [min, 15]; 15 for 0. */
static uint32_t guess_align(uint64_t vmaddr, uint32_t min)
{
    if (vmaddr == 0)
        return MP_MAX_SEG_ALIGN;
    uint32_t align = 0;
    while (!(vmaddr & ((uint64_t)1 << align)))
        align++;
    if (align < min)
        align = min;
    return align > MP_MAX_SEG_ALIGN ? MP_MAX_SEG_ALIGN : align;
}

uint32_t mp_seg_align(const mp_slice *s)
{
    uint32_t best = MP_MAX_SEG_ALIGN;
    for (size_t i = 0; i < s->nsegs; i++) {
        uint32_t a = guess_align(s->segs[i].vmaddr, s->is64 ? 3 : 2);
        if (a < best)
            best = a;
    }
    return best;
}

/* Lowest file offset of section contents (or of a section-less segment other
 * than the one holding the header), as add_code_sig_load_command() computes
 * it, except that only true zero-fill types are skipped (codesign_allocate's
 * bit test also skips some literal sections, which it would then overwrite). */
static uint64_t low_fileoff(const mp_slice *s)
{
    uint64_t low = UINT32_MAX;
    for (size_t i = 0; i < s->nsegs; i++) {
        const mp_segment *g = &s->segs[i];
        if (g->nsects == 0) {
            if (g->fileoff != 0 && g->filesize != 0 && g->fileoff < low)
                low = g->fileoff;
            continue;
        }
        for (size_t k = g->first_section; k < g->first_section + g->nsects; k++) {
            const mp_section *c = &s->sects[k];
            if (c->size != 0 && !mp_is_zerofill(c->flags) && c->offset < low)
                low = c->offset;
        }
    }
    return low;
}

mp_status mp_sig_layout_plan(const mp_image *img, const mp_slice *s, mp_sig_layout *l, mp_error *err)
{
    char where[512];
    mp_slice_where(img, s, where, sizeof where);
    memset(l, 0, sizeof *l);
    if (s->linkedit_seg < 0)
        return mp_fail(err, MP_ERR_UNSUPPORTED, "%s: no __LINKEDIT segment to hold a code signature", where);
    const mp_segment *le = &s->segs[s->linkedit_seg];
    uint64_t le_end = le->fileoff + le->filesize;
    if (s->codesig_lc >= 0) {
        const mp_lc *lc = &s->lcs[s->codesig_lc];
        uint64_t sig_end = (uint64_t)s->sig.dataoff + s->sig.datasize;
        if (s->sig.dataoff < le->fileoff || sig_end != le_end)
            return mp_fail(err, MP_ERR_UNSUPPORTED,
                           "%s: load command %d at offset %#x: the old signature [%#x, %#llx) is not at the end of __LINKEDIT [%#llx, %#llx)",
                           where, s->codesig_lc, lc->off, s->sig.dataoff, (unsigned long long)sig_end,
                           (unsigned long long)le->fileoff, (unsigned long long)le_end);
        l->keep = s->sig.dataoff;
        l->dataoff = (uint32_t)mp_align_up(s->sig.dataoff, 16);
        l->command_off = lc->off;
    } else {
        uint64_t low = low_fileoff(s);
        uint64_t avail = low > s->lc_end ? low - s->lc_end : 0;
        if (avail < LINKEDIT_DATA_COMMAND_SIZE)
            return mp_fail(err, MP_ERR_NO_ROOM,
                           "%s: LC_CODE_SIGNATURE needs %u bytes after the load commands (end %#llx), %llu available before the first section at %#llx; relink with -Wl,-headerpad,0x1000",
                           where, LINKEDIT_DATA_COMMAND_SIZE, (unsigned long long)s->lc_end,
                           (unsigned long long)avail, (unsigned long long)low);
        l->add_command = true;
        l->command_off = (uint32_t)s->lc_end;
        l->keep = le_end;
        l->dataoff = (uint32_t)mp_align_up(le_end, 16);
    }
    if (le_end != s->size)
        return mp_fail(err, MP_ERR_UNSUPPORTED,
                       "%s: %llu bytes follow the end of __LINKEDIT at %#llx; codesign_allocate would drop them",
                       where, (unsigned long long)(s->size - le_end), (unsigned long long)le_end);
    if (mp_align_up(l->keep, 16) > UINT32_MAX - 16)
        return mp_fail(err, MP_ERR_UNSUPPORTED, "%s: too large to sign (signature offset past 4 GiB)", where);
    return MP_OK;
}

mp_status mp_sig_layout_size(const mp_image *img, const mp_slice *s, mp_sig_layout *l, uint32_t datasize,
                             mp_error *err)
{
    const mp_segment *le = &s->segs[s->linkedit_seg];
    l->datasize = datasize;
    l->new_size = (uint64_t)l->dataoff + datasize;
    l->linkedit_filesize = l->new_size - le->fileoff;
    l->linkedit_vmsize = le->vmsize;
    if (l->linkedit_filesize > le->vmsize)
        l->linkedit_vmsize = mp_align_up(l->linkedit_filesize, (uint64_t)1 << mp_seg_align(s));
    if (l->new_size > UINT32_MAX ||
        (!s->is64 && (l->linkedit_vmsize > UINT32_MAX || le->vmaddr + l->linkedit_vmsize > UINT32_MAX))) {
        char where[512];
        mp_slice_where(img, s, where, sizeof where);
        return mp_fail(err, MP_ERR_UNSUPPORTED, "%s: signed slice would exceed 4 GiB (%llu bytes)", where,
                       (unsigned long long)l->new_size);
    }
    return MP_OK;
}

bool mp_sig_layout_apply(const mp_image *img, const mp_slice *s, const mp_sig_layout *l, mp_buf *out, size_t at)
{
    if (!mp_buf_copy(out, at, img->buf, (size_t)s->offset, (size_t)l->keep))
        return false;
    uint8_t *tail = mp_buf_writable(out, at + (size_t)l->keep, (size_t)(l->new_size - l->keep));
    /* The header and load commands, with room for a new LC_CODE_SIGNATURE. */
    uint64_t head = s->lc_end + (l->add_command ? LINKEDIT_DATA_COMMAND_SIZE : 0);
    uint8_t *out_head = mp_buf_writable(out, at, (size_t)head);
    if (!tail || !out_head)
        return false;
    memset(tail, 0, (size_t)(l->new_size - l->keep));
    uint8_t *lc = out_head + l->command_off;
    if (l->add_command) {
        mp_put_le32(lc, LC_CODE_SIGNATURE);
        mp_put_le32(lc + 4, LINKEDIT_DATA_COMMAND_SIZE);
        mp_put_le32(out_head + 16, s->ncmds + 1);
        mp_put_le32(out_head + 20, s->sizeofcmds + LINKEDIT_DATA_COMMAND_SIZE);
    }
    mp_put_le32(lc + 8, l->dataoff);
    mp_put_le32(lc + 12, l->datasize);
    const mp_segment *le = &s->segs[s->linkedit_seg];
    uint8_t *seg = out_head + s->lcs[le->lc_index].off;
    if (s->is64) {
        mp_put_le64(seg + 32, l->linkedit_vmsize);
        mp_put_le64(seg + 48, l->linkedit_filesize);
    } else {
        mp_put_le32(seg + 28, (uint32_t)l->linkedit_vmsize);
        mp_put_le32(seg + 36, (uint32_t)l->linkedit_filesize);
    }
    return true;
}
