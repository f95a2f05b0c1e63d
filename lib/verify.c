/* mp_image_verify: every slice, then the universal layout (reference section
 * 4, cctools writeout): each slice at the first multiple of 2^align after the
 * previous one (or the header), zero gaps, nothing after the last slice. */
#include "verify.h"

#include "bytes.h"
#include "macho_format.h"

#include <stdlib.h>
#include <string.h>

static int compare_offsets(const void *a, const void *b)
{
    const mp_slice *x = *(const mp_slice *const *)a, *y = *(const mp_slice *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static void check_fat(mp_verify_report *r, const mp_image *img)
{
    const mp_slice **order = malloc(img->nslices * sizeof *order);
    if (!order) {
        r->out_of_memory = true;
        return;
    }
    for (size_t i = 0; i < img->nslices; i++)
        order[i] = &img->slices[i];
    qsort(order, img->nslices, sizeof *order, compare_offsets);
    uint64_t end = FAT_HEADER_SIZE + (uint64_t)img->nslices * FAT_ARCH_SIZE;
    for (size_t k = 0; k < img->nslices; k++) {
        const mp_slice *s = order[k];
        uint64_t want = mp_align_up(end, (uint64_t)1 << s->fat_align);
        if (s->offset != want)
            mp_verify_problem(r, img, s->index, "starts at %#llx; the universal layout puts it at %#llx (gap of %llu bytes before it, alignment 2^%u)",
                              (unsigned long long)s->offset, (unsigned long long)want,
                              (unsigned long long)(s->offset - end), s->fat_align);
        for (uint64_t p = end; p < s->offset; p++)
            if (img->data[p]) {
                mp_verify_problem(r, img, s->index, "gap before the slice has a non-zero byte at %#llx",
                                  (unsigned long long)p);
                break;
            }
        end = s->offset + s->size;
    }
    if (end != img->size)
        mp_verify_problem(r, img, MP_NO_SLICE, "%llu bytes follow the last slice (ends at %#llx, file size %#zx)",
                          (unsigned long long)(img->size - end), (unsigned long long)end, img->size);
    free(order);
}

mp_status mp_image_verify(const mp_image *img, const mp_verify_options *options, mp_verify_report **out,
                          mp_error *err)
{
    if (out)
        *out = NULL;
    if (!img)
        return mp_fail(err, MP_ERR_USAGE, "mp_image_verify: NULL image");
    mp_verify_options defaults;
    mp_verify_options_init(&defaults);
    const mp_verify_options *opt = options ? options : &defaults;
    mp_verify_report *r = mp_verify_report_new(img);
    if (!r)
        return mp_fail(err, MP_ERR_NOMEM, "%s: out of memory", img->name);
    for (size_t i = 0; i < img->nslices; i++)
        mp_verify_slice_run(r, img, i, opt);
    if (img->fat)
        check_fat(r, img);
    if (r->out_of_memory) {
        mp_verify_report_free(r);
        return mp_fail(err, MP_ERR_NOMEM, "%s: out of memory while verifying", img->name);
    }
    mp_status st = MP_OK;
    if (r->nproblems)
        st = mp_fail(err, MP_ERR_VERIFY, "%s", r->problems[0]);
    else if (opt->require_info_plist && !mp_verify_report_info_plist_bound(r))
        st = mp_fail(err, MP_ERR_VERIFY, "%s: Info.plist=not bound", img->name);
    if (out)
        *out = r;
    else
        mp_verify_report_free(r);
    return st;
}
