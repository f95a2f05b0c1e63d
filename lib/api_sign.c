/* mp_image_sign: plan every slice, lay out the signed file (universal files
 * as codesign_allocate does), sign each slice into one new buffer that shares
 * the unchanged pages with the old one, and re-parse the image from it. With
 * a write under way, the bytes are written out as they are hashed. */
#include "macho_format.h"
#include "sign.h"

#include <stdlib.h>
#include <string.h>

void mp_sign_options_init(mp_sign_options *options)
{
    if (options)
        memset(options, 0, sizeof *options);
}

static mp_status check_options(const mp_image *img, const mp_sign_options *opt, mp_error *err)
{
    if (opt->page_size && (opt->page_size < 4096 || opt->page_size > 65536 ||
                           (opt->page_size & (opt->page_size - 1))))
        return mp_fail(err, MP_ERR_USAGE, "page size %u is not a power of two from 4096 to 65536", opt->page_size);
    if (opt->hash != MP_HASH_AUTO && opt->hash != MP_HASH_SHA256 && opt->hash != MP_HASH_SHA1_SHA256)
        return mp_fail(err, MP_ERR_USAGE, "unknown hash choice %d", (int)opt->hash);
    if (img->nslices > MP_SIGN_MAX_SLICES)
        return mp_fail(err, MP_ERR_UNSUPPORTED, "%s: more than %u slices", img->name, MP_SIGN_MAX_SLICES);
    for (size_t i = 0; i < img->nslices; i++)
        if (img->slices[i].encrypted)
            return mp_fail(err, MP_ERR_UNSUPPORTED, "%s: slice %zu (%s) is encrypted (LC_ENCRYPTION_INFO cryptid != 0)",
                           img->name, i, img->slices[i].arch);
    return MP_OK;
}

mp_status mp_image_sign(mp_image *img, const mp_sign_options *options, mp_sign_result *result, mp_error *err)
{
    return mp_image_sign_write(img, options, NULL, result, err);
}

mp_status mp_image_sign_write(mp_image *img, const mp_sign_options *options, mp_write *write, mp_sign_result *result,
                              mp_error *err)
{
    if (!img)
        return mp_fail(err, MP_ERR_USAGE, "mp_image_sign: NULL image");
    mp_sign_options defaults;
    mp_sign_options_init(&defaults);
    const mp_sign_options *opt = options ? options : &defaults;
    mp_status st = check_options(img, opt, err);
    if (st != MP_OK)
        return st;
    mp_sign_plan plan;
    if ((st = mp_sign_plan_make(img, opt, &plan, err)) != MP_OK)
        return st;

    mp_sign_result local;
    mp_sign_result *r = result ? result : &local;
    memset(r, 0, sizeof *r);
    r->slice_count = img->nslices;
    mp_slice_signing *jobs = calloc(img->nslices, sizeof *jobs);
    mp_fat_piece *pieces = calloc(img->nslices, sizeof *pieces);
    uint64_t *offsets = calloc(img->nslices, sizeof *offsets);
    if (!jobs || !pieces || !offsets)
        st = mp_fail(err, MP_ERR_NOMEM, "%s: out of memory", img->name);
    for (size_t i = 0; st == MP_OK && i < img->nslices; i++)
        st = mp_sign_slice_prepare(img, &img->slices[i], &plan, &plan.slices[i], &jobs[i], err);

    /* Where each signed slice goes, then one buffer for the whole file. */
    uint64_t total = 0;
    if (st == MP_OK && img->fat) {
        for (size_t i = 0; i < img->nslices; i++)
            pieces[i] = (mp_fat_piece){img->slices[i].cputype, img->slices[i].cpusubtype, img->slices[i].fat_align,
                                       jobs[i].layout.new_size};
        st = mp_fat_layout(img->name, pieces, img->nslices, offsets, &total, err);
    } else if (st == MP_OK) {
        total = jobs[0].layout.new_size;
    }
    mp_buf *out = NULL;
    if (st == MP_OK && !(out = mp_buf_alloc((size_t)total)))
        st = mp_fail(err, MP_ERR_NOMEM, "%s: out of memory (%llu bytes)", img->name, (unsigned long long)total);
    if (st == MP_OK && img->fat) {
        uint8_t *header = mp_buf_writable(out, 0, FAT_HEADER_SIZE + img->nslices * FAT_ARCH_SIZE);
        if (header)
            mp_fat_header_write(pieces, offsets, img->nslices, header);
        else
            st = mp_fail(err, MP_ERR_NOMEM, "%s: out of memory", img->name);
    }
    for (size_t i = 0; st == MP_OK && i < img->nslices; i++)
        st = mp_sign_slice_lay_out(img, &img->slices[i], &jobs[i], out, (size_t)offsets[i], err);
    /* Everything the signatures cover is final now: with a write under way,
     * the hashing threads write it out as they go. */
    mp_page_sink *sink = st == MP_OK && write ? mp_write_prepare(write, out) : NULL;
    for (size_t i = 0; st == MP_OK && i < img->nslices; i++) {
        st = mp_sign_slice_emit(img, &img->slices[i], &plan, &plan.slices[i], &jobs[i], out, (size_t)offsets[i],
                                sink, &r->slices[i], err);
        if (st == MP_OK && sink)
            mp_write_covered(write, offsets[i], jobs[i].layout.dataoff);
        if (st == MP_OK && r->slices[i].dropped_identity && !r->dropped_identity) {
            r->dropped_identity = 1;
            memcpy(r->old_team_id, r->slices[i].old_team_id, sizeof r->old_team_id);
        }
    }
    free(jobs);
    free(pieces);
    free(offsets);
    mp_sign_plan_release(&plan);
    if (st != MP_OK) {
        mp_buf_free(out);
        return st;
    }
    return mp_image_reset(img, out, err);
}
