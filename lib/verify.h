/* Internal interface of the verifier:
 *   verify_report.c  the report object, its accessors and problem list
 *   verify_slice.c   one slice: layout, SuperBlob, every CodeDirectory
 *   verify.c         mp_image_verify, universal layout rules */
#ifndef MP_VERIFY_H
#define MP_VERIFY_H

#include "image.h"

#include <stdbool.h>

struct mp_verify_report {
    char *name;
    mp_verify_slice *slices;
    size_t nslices;
    char **problems;
    size_t *problem_slices;
    size_t nproblems, cap;
    bool out_of_memory;
};

#define MP_NO_SLICE ((size_t)-1)

mp_verify_report *mp_verify_report_new(const mp_image *img);
/* Adds "NAME: slice N (arch): MESSAGE" (or "NAME: MESSAGE" for MP_NO_SLICE). */
void mp_verify_problem(mp_verify_report *r, const mp_image *img, size_t slice, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

void mp_verify_slice_run(mp_verify_report *r, const mp_image *img, size_t slice, const mp_verify_options *opt);

#endif
