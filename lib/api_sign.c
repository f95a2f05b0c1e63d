/* mp_image_sign: plan every slice, sign each into new bytes, re-lay a
 * universal file, and re-parse the image from the result. */
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
    uint8_t **bufs = calloc(img->nslices, sizeof *bufs);
    size_t *lens = calloc(img->nslices, sizeof *lens);
    if (!bufs || !lens)
        st = mp_fail(err, MP_ERR_NOMEM, "%s: out of memory", img->name);
    for (size_t i = 0; st == MP_OK && i < img->nslices; i++) {
        st = mp_sign_slice(img, &img->slices[i], &plan, &plan.slices[i], &bufs[i], &lens[i], &r->slices[i], err);
        if (st == MP_OK && r->slices[i].dropped_identity && !r->dropped_identity) {
            r->dropped_identity = 1;
            memcpy(r->old_team_id, r->slices[i].old_team_id, sizeof r->old_team_id);
        }
    }
    uint8_t *data = NULL;
    size_t size = 0;
    if (st == MP_OK && img->fat) {
        mp_fat_piece *pieces = calloc(img->nslices, sizeof *pieces);
        if (!pieces) {
            st = mp_fail(err, MP_ERR_NOMEM, "%s: out of memory", img->name);
        } else {
            for (size_t i = 0; i < img->nslices; i++)
                pieces[i] = (mp_fat_piece){img->slices[i].cputype, img->slices[i].cpusubtype,
                                           img->slices[i].fat_align, bufs[i], lens[i]};
            st = mp_fat_write(img->name, pieces, img->nslices, &data, &size, err);
            free(pieces);
        }
    } else if (st == MP_OK) {
        data = bufs[0];
        size = lens[0];
        bufs[0] = NULL;
    }
    for (size_t i = 0; bufs && i < img->nslices; i++)
        free(bufs[i]);
    free(bufs);
    free(lens);
    mp_sign_plan_release(&plan);
    if (st != MP_OK) {
        free(data);
        return st;
    }
    return mp_image_reset(img, data, size, err);
}
