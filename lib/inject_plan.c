/* Planning where __TEXT,__info_plist goes, for every slice, before any byte
 * is written. Pure: reads the parsed image, fills an mp_plan.
 *
 * Placement (reference section 2): the 80-byte section header always goes
 * after the load commands (head gap). The bytes go, in order of preference:
 * in place over the old section; grown in place; at the end of __TEXT (tail
 * slack), which keeps the head gap for later install_name_tool edits; or just
 * before the first section (head gap). Nothing else in the file moves. */
#include "bytes.h"
#include "inject_plan.h"
#include "plist_input.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WHERE_LEN 512

/* True when every byte of [off, off+len) is zero or lies in the range that
 * will be cleared first (the old section). */
static bool range_free(const mp_slice *s, uint64_t off, uint64_t len, uint64_t skip_off, uint64_t skip_len)
{
    if (!mp_range_ok(s->size, off, len))
        return false;
    for (uint64_t i = off; i < off + len; i++)
        if (s->data[i] && !(i >= skip_off && i < skip_off + skip_len))
            return false;
    return true;
}

/* True when no file-backed __TEXT section other than skip overlaps [off, off+len). */
static bool clear_of_sections(const mp_slice *s, uint64_t off, uint64_t len, int skip)
{
    const mp_segment *text = &s->segs[s->text_seg];
    for (size_t i = text->first_section; i < text->first_section + text->nsects; i++) {
        const mp_section *sec = &s->sects[i];
        if ((int)i == skip || !mp_section_in_file(sec))
            continue;
        if (sec->offset < off + len && off < sec->offset + sec->size)
            return false;
    }
    return true;
}

/* Lowest start and highest end of __TEXT's file-backed sections, except skip. */
static void text_extent(const mp_slice *s, int skip, uint64_t *low, uint64_t *high)
{
    const mp_segment *text = &s->segs[s->text_seg];
    *low = text->filesize;
    *high = s->lc_end;
    for (size_t i = text->first_section; i < text->first_section + text->nsects; i++) {
        const mp_section *sec = &s->sects[i];
        if ((int)i == skip || !mp_section_in_file(sec))
            continue;
        if (sec->offset < *low)
            *low = sec->offset;
        if (sec->offset + sec->size > *high)
            *high = sec->offset + sec->size;
    }
}

static bool droppable(const mp_slice *s, const mp_lc *lc)
{
    if (lc->cmd == LC_SOURCE_VERSION)
        return true;
    if (lc->cmd == LC_DATA_IN_CODE || lc->cmd == LC_FUNCTION_STARTS)
        return mp_le32(s->data + lc->off + 12) == 0; /* datasize; cmdsize checked by the reader */
    return false;
}

/* Drops unused load commands, in order, until at least deficit bytes are freed.
 * Returns the bytes freed (may be less than deficit when there is not enough). */
static uint64_t choose_drops(const mp_slice *s, mp_slice_plan *p, uint64_t deficit)
{
    uint64_t freed = 0;
    p->ndropped = 0;
    for (size_t i = 0; i < s->nlcs && freed < deficit && p->ndropped < MP_MAX_DROPPED; i++)
        if (droppable(s, &s->lcs[i])) {
            p->dropped_cmd[p->ndropped] = s->lcs[i].cmd;
            p->dropped[p->ndropped++] = (uint32_t)i;
            freed += s->lcs[i].cmdsize;
        }
    return freed;
}

static uint64_t droppable_bytes(const mp_slice *s)
{
    uint64_t n = 0;
    for (size_t i = 0; i < s->nlcs; i++)
        if (droppable(s, &s->lcs[i]))
            n += s->lcs[i].cmdsize;
    return n;
}

/* Builds the new __TEXT header order and the ordinal map for the plan. */
static mp_status order_sections(const mp_slice *s, mp_slice_plan *p, int old_sect, mp_error *err, const char *where)
{
    const mp_segment *text = &s->segs[s->text_seg];
    size_t n = 0;
    bool placed = p->action == MP_PLAN_REMOVE;
    for (size_t i = text->first_section; i < text->first_section + text->nsects; i++) {
        if ((int)i == old_sect)
            continue;
        if (!placed && s->sects[i].addr > p->data_addr) {
            p->text_order[n++] = -1;
            placed = true;
        }
        p->text_order[n++] = (int)i;
    }
    if (!placed)
        p->text_order[n++] = -1;
    p->text_count = n;
    size_t total = s->nsects - text->nsects + n;
    if (total > MAX_SECT)
        return mp_fail(err, MP_ERR_UNSUPPORTED, "%s: the slice already has %zu sections; a Mach-O holds at most %u",
                       where, s->nsects, MAX_SECT);
    memset(p->ordinal_map, 0, sizeof p->ordinal_map);
    unsigned ord = 0;
    p->new_ordinal = 0;
    for (size_t g = 0; g < s->nsegs; g++) {
        const mp_segment *seg = &s->segs[g];
        if ((int)g != s->text_seg) {
            for (size_t i = seg->first_section; i < seg->first_section + seg->nsects; i++)
                p->ordinal_map[s->sects[i].ordinal] = (uint8_t)++ord;
            continue;
        }
        for (size_t k = 0; k < p->text_count; k++) {
            ++ord;
            if (p->text_order[k] < 0)
                p->new_ordinal = ord;
            else
                p->ordinal_map[s->sects[p->text_order[k]].ordinal] = (uint8_t)ord;
        }
    }
    if (old_sect >= 0 && p->action != MP_PLAN_REMOVE)
        p->ordinal_map[s->sects[old_sect].ordinal] = (uint8_t)p->new_ordinal;
    p->moved_ordinals = 0;
    for (size_t i = 0; i < s->nsects; i++)
        if (!((int)i == old_sect && p->action == MP_PLAN_REMOVE) &&
            p->ordinal_map[s->sects[i].ordinal] != s->sects[i].ordinal)
            p->moved_ordinals++;
    return MP_OK;
}

static mp_status check_slice_supported(const mp_image *img, const mp_slice *s, const char *where, mp_error *err)
{
    (void)img;
    if (!s->is64)
        return mp_fail(err, MP_ERR_UNSUPPORTED, "%s: 32-bit slices are not supported (macOS has not run them since 10.15)",
                       where);
    if (s->encrypted)
        return mp_fail(err, MP_ERR_UNSUPPORTED,
                       "%s: the binary is encrypted (LC_ENCRYPTION_INFO cryptid != 0); editing it would corrupt it",
                       where);
    if (s->filetype != MH_EXECUTE && s->filetype != MH_DYLIB && s->filetype != MH_BUNDLE)
        return mp_fail(err, MP_ERR_UNSUPPORTED, "%s: file type %s is not supported (only executables, dylibs, bundles)",
                       where, mp_filetype_name(s->filetype));
    if (s->text_seg < 0)
        return mp_fail(err, MP_ERR_UNSUPPORTED, "%s: no __TEXT segment", where);
    const mp_segment *text = &s->segs[s->text_seg];
    for (size_t i = text->first_section + 1; i < text->first_section + text->nsects; i++)
        if (s->sects[i].addr < s->sects[i - 1].addr)
            return mp_fail(err, MP_ERR_UNSUPPORTED,
                           "%s: __TEXT section headers are not in address order (%s before %s); editing would be unsafe",
                           where, s->sects[i - 1].sectname, s->sects[i].sectname);
    return MP_OK;
}

/* Refuse edits that would leave references to section ordinals we cannot fix. */
static mp_status check_ordinal_users(const mp_slice *s, const mp_slice_plan *p, const char *where, mp_error *err)
{
    if (p->moved_ordinals == 0 && p->action != MP_PLAN_REMOVE)
        return MP_OK;
    for (size_t i = 0; i < s->nlcs; i++)
        if (s->lcs[i].cmd == LC_SEGMENT_SPLIT_INFO && mp_le32(s->data + s->lcs[i].off + 12) != 0)
            return mp_fail(err, MP_ERR_UNSUPPORTED,
                           "%s: load command %zu at offset %#x: LC_SEGMENT_SPLIT_INFO refers to sections by number and cannot be renumbered",
                           where, i, s->lcs[i].off);
    return MP_OK;
}

static void no_room_message(const mp_slice *s, const mp_slice_plan *p, uint64_t len, uint64_t need_lc,
                            uint64_t head_free, uint64_t tail_free, bool make_room, const char *where, mp_error *err)
{
    uint64_t reclaim = droppable_bytes(s);
    char hint[256];
    if (make_room)
        snprintf(hint, sizeof hint, "--make-room freed %llu bytes, not enough", (unsigned long long)reclaim);
    else if (reclaim)
        snprintf(hint, sizeof hint, "or retry with --make-room (frees %llu bytes of unused load commands)",
                 (unsigned long long)reclaim);
    else
        snprintf(hint, sizeof hint, "--make-room cannot help: no unused load commands");
    mp_fail(err, MP_ERR_NO_ROOM,
            "%s: not enough room in __TEXT: the section header needs %llu bytes after the load commands%s and the plist "
            "%llu bytes, but the head gap has %llu and the tail slack %llu; relink with "
            "-Wl,-sectcreate,__TEXT,__info_plist,Info.plist (best) or -Wl,-headerpad,0x1000; %s",
            where, (unsigned long long)need_lc, p->needs_code_signature_lc ? " (with 16 for a new LC_CODE_SIGNATURE)" : "",
            (unsigned long long)len, (unsigned long long)head_free, (unsigned long long)tail_free, hint);
}

static mp_status plan_slice(const mp_image *img, const mp_slice *s, const uint8_t *bytes, size_t len, bool remove,
                            const mp_inject_options *opt, mp_slice_plan *p, mp_error *err)
{
    char where[WHERE_LEN];
    mp_slice_where(img, s, where, sizeof where);
    memset(p, 0, sizeof *p);
    p->slice = s->index;
    snprintf(p->arch, sizeof p->arch, "%s", s->arch);
    mp_status st = check_slice_supported(img, s, where, err);
    if (st != MP_OK)
        return st;
    const mp_segment *text = &s->segs[s->text_seg];
    int old = s->info_plist_sect;
    p->head_gap_before = s->head_gap;
    p->tail_slack_before = s->tail_slack;
    p->needs_code_signature_lc = s->codesig_lc < 0;
    uint64_t sig_lc = p->needs_code_signature_lc ? LINKEDIT_DATA_COMMAND_SIZE : 0;

    if (remove) {
        if (old < 0) {
            p->action = MP_PLAN_NONE;
            p->head_gap_after = p->head_gap_before;
            p->tail_slack_after = p->tail_slack_before;
            return MP_OK;
        }
        p->action = MP_PLAN_REMOVE;
        p->clear_off = s->sects[old].offset;
        p->clear_size = mp_section_in_file(&s->sects[old]) ? s->sects[old].size : 0;
        p->lc_growth = -(int64_t)SECTION_64_SIZE;
        if ((st = order_sections(s, p, old, err, where)) != MP_OK)
            return st;
    } else {
        uint64_t old_off = 0, old_size = 0;
        if (old >= 0) {
            const mp_section *o = &s->sects[old];
            if (mp_is_zerofill(o->flags))
                return mp_fail(err, MP_ERR_UNSUPPORTED, "%s: the existing __TEXT,__info_plist is a zero-fill section", where);
            old_off = o->offset;
            old_size = o->size;
            p->unchanged = old_size == len && (len == 0 || memcmp(s->data + old_off, bytes, len) == 0);
        }
        p->action = old >= 0 ? MP_PLAN_REPLACE : MP_PLAN_ADD;
        uint64_t low, high;
        text_extent(s, old, &low, &high);
        uint64_t need_lc = (old >= 0 ? 0 : SECTION_64_SIZE) + sig_lc;
        uint64_t head_free = low - s->lc_end; /* reader checked low >= lc_end */
        uint64_t tail_free = text->filesize > high ? text->filesize - high : 0;
        uint64_t freed = 0;
        bool found = false;
        for (int attempt = 0; attempt < 2 && !found; attempt++) {
            if (attempt == 1) {
                if (!opt->make_room)
                    break;
                /* Smallest deficit among the placements that could work with more load-command room. */
                uint64_t deficit = need_lc + len > head_free ? need_lc + len - head_free : 0;
                if (len <= tail_free && range_free(s, high, len, old_off, old_size) && need_lc > head_free)
                    deficit = need_lc - head_free;
                freed = choose_drops(s, p, deficit);
                if (freed == 0)
                    break;
            }
            uint64_t lc_limit = s->lc_end - freed + need_lc; /* end of load commands incl. a new LC_CODE_SIGNATURE */
            if (old >= 0 && len <= old_size && lc_limit <= low) {
                p->region = "in place";
                p->data_off = old_off;
                found = true;
            } else if (old >= 0 && old_off + len <= text->filesize && old_off >= lc_limit &&
                       clear_of_sections(s, old_off, len, old) && range_free(s, old_off, len, old_off, old_size)) {
                p->region = "grown in place";
                p->data_off = old_off;
                found = true;
            } else if (len <= tail_free && lc_limit <= low && range_free(s, high, len, old_off, old_size)) {
                p->region = "tail slack";
                p->data_off = high;
                found = true;
            } else if (len <= low && lc_limit <= low - len &&
                       range_free(s, low - len, len, old_off, old_size) &&
                       range_free(s, s->lc_end, lc_limit > s->lc_end ? lc_limit - s->lc_end : 0, old_off, old_size)) {
                p->region = "head gap";
                p->data_off = low - len;
                found = true;
            }
            if (found && lc_limit > s->lc_end && !range_free(s, s->lc_end, lc_limit - s->lc_end, old_off, old_size))
                found = false; /* the bytes after the load commands are in use */
        }
        if (!found) {
            no_room_message(s, p, len, need_lc, head_free, tail_free, opt->make_room, where, err);
            return MP_ERR_NO_ROOM;
        }
        p->data_addr = text->vmaddr + (p->data_off - text->fileoff);
        p->lc_growth = (int64_t)(old >= 0 ? 0 : SECTION_64_SIZE) - (int64_t)freed;
        if (old >= 0) {
            /* Zero whatever of the old bytes the new ones do not cover. */
            if (p->data_off == old_off) {
                p->clear_off = old_off + (len < old_size ? len : old_size);
                p->clear_size = len < old_size ? old_size - len : 0;
            } else {
                p->clear_off = old_off;
                p->clear_size = old_size;
            }
        }
        if ((st = order_sections(s, p, old, err, where)) != MP_OK)
            return st;
    }
    if ((st = check_ordinal_users(s, p, where, err)) != MP_OK)
        return st;
    uint32_t orphans = 0;
    (void)mp_remap_ordinals(s, NULL, 0, p->ordinal_map, &p->symbols_renumbered, &p->relocations_renumbered, &orphans);
    if (orphans)
        return mp_fail(err, MP_ERR_UNSUPPORTED, "%s: symbols refer to __TEXT,__info_plist; cannot remove it", where);

    /* Room left afterwards, as show would report it. */
    uint64_t new_lc_end = (uint64_t)((int64_t)s->lc_end + p->lc_growth);
    uint64_t low, high;
    text_extent(s, p->action == MP_PLAN_REMOVE ? old : -1, &low, &high);
    if (p->action == MP_PLAN_ADD || p->action == MP_PLAN_REPLACE) {
        if (old >= 0)
            text_extent(s, old, &low, &high);
        if (p->data_off < low)
            low = p->data_off;
        if (p->data_off + len > high)
            high = p->data_off + len;
    }
    p->head_gap_after = low > new_lc_end ? low - new_lc_end : 0;
    p->tail_slack_after = text->filesize > high ? text->filesize - high : 0;
    return MP_OK;
}

static mp_status plan_all(const mp_image *img, const uint8_t *bytes, size_t len, bool remove,
                          const mp_inject_options *opt, mp_plan **out, mp_error *err)
{
    mp_plan *plan = calloc(1, sizeof *plan);
    if (!plan)
        return mp_fail(err, MP_ERR_NOMEM, "out of memory");
    plan->name = strdup(img->name);
    plan->slices = calloc(img->nslices, sizeof *plan->slices);
    if (!plan->name || !plan->slices) {
        mp_plan_free(plan);
        return mp_fail(err, MP_ERR_NOMEM, "out of memory");
    }
    plan->nslices = img->nslices;
    if (bytes) {
        plan->bytes = malloc(len ? len : 1);
        if (!plan->bytes) {
            mp_plan_free(plan);
            return mp_fail(err, MP_ERR_NOMEM, "out of memory");
        }
        memcpy(plan->bytes, bytes, len);
        plan->len = len;
    }
    for (size_t i = 0; i < img->nslices; i++) {
        mp_status st = plan_slice(img, &img->slices[i], bytes, len, remove, opt, &plan->slices[i], err);
        if (st != MP_OK) {
            mp_plan_free(plan);
            return st;
        }
    }
    *out = plan;
    return MP_OK;
}

void mp_inject_options_init(mp_inject_options *opt)
{
    memset(opt, 0, sizeof *opt);
}

mp_status mp_plan_inject(const mp_image *img, const uint8_t *plist, size_t len, const mp_inject_options *opt,
                         mp_plan **out, mp_error *err)
{
    if (out)
        *out = NULL;
    if (!img || !plist || !out)
        return mp_fail(err, MP_ERR_USAGE, "mp_plan_inject: NULL argument");
    mp_inject_options defaults;
    mp_inject_options_init(&defaults);
    if (!opt)
        opt = &defaults;
    uint8_t *embed = NULL;
    size_t embed_len = 0;
    mp_status st = mp_plist_for_embedding(plist, len, opt->keep_binary_plist, &embed, &embed_len, err);
    if (st != MP_OK) {
        char msg[sizeof err->message];
        if (err) {
            snprintf(msg, sizeof msg, "%s", err->message);
            mp_fail(err, st, "%s: %s", img->name, msg);
        }
        return st;
    }
    st = plan_all(img, embed, embed_len, false, opt, out, err);
    free(embed);
    return st;
}

mp_status mp_plan_remove(const mp_image *img, mp_plan **out, mp_error *err)
{
    if (out)
        *out = NULL;
    if (!img || !out)
        return mp_fail(err, MP_ERR_USAGE, "mp_plan_remove: NULL argument");
    mp_inject_options opt;
    mp_inject_options_init(&opt);
    return plan_all(img, NULL, 0, true, &opt, out, err);
}

int mp_plan_is_noop(const mp_plan *plan)
{
    for (size_t i = 0; plan && i < plan->nslices; i++)
        if (plan->slices[i].action != MP_PLAN_NONE && !plan->slices[i].unchanged)
            return 0;
    return 1;
}

void mp_plan_free(mp_plan *plan)
{
    if (!plan)
        return;
    free(plan->bytes);
    free(plan->slices);
    free(plan->name);
    free(plan);
}
