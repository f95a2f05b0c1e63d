/* The verification report: per-slice facts and one-line problems. */
#include "verify.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mp_verify_options_init(mp_verify_options *options)
{
    if (!options)
        return;
    memset(options, 0, sizeof *options);
    options->require_info_plist = 1;
}

mp_verify_report *mp_verify_report_new(const mp_image *img)
{
    mp_verify_report *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->name = strdup(img->name);
    r->slices = calloc(img->nslices ? img->nslices : 1, sizeof *r->slices);
    if (!r->name || !r->slices) {
        mp_verify_report_free(r);
        return NULL;
    }
    r->nslices = img->nslices;
    return r;
}

void mp_verify_report_free(mp_verify_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nproblems; i++)
        free(r->problems[i]);
    free(r->problems);
    free(r->problem_slices);
    free(r->slices);
    free(r->name);
    free(r);
}

void mp_verify_problem(mp_verify_report *r, const mp_image *img, size_t slice, const char *fmt, ...)
{
    if (r->nproblems == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 8;
        char **p = realloc(r->problems, cap * sizeof *p);
        if (!p) {
            r->out_of_memory = true;
            return;
        }
        r->problems = p;
        size_t *q = realloc(r->problem_slices, cap * sizeof *q);
        if (!q) {
            r->out_of_memory = true;
            return;
        }
        r->problem_slices = q;
        r->cap = cap;
    }
    char prefix[512], body[1024];
    if (slice == MP_NO_SLICE)
        snprintf(prefix, sizeof prefix, "%s", img->name);
    else
        mp_slice_where(img, &img->slices[slice], prefix, sizeof prefix);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    size_t len = strlen(prefix) + 2 + strlen(body) + 1;
    char *msg = malloc(len);
    if (!msg) {
        r->out_of_memory = true;
        return;
    }
    snprintf(msg, len, "%s: %s", prefix, body);
    r->problems[r->nproblems] = msg;
    r->problem_slices[r->nproblems] = slice;
    r->nproblems++;
    if (slice != MP_NO_SLICE && slice < r->nslices) {
        r->slices[slice].problem_count++;
        r->slices[slice].valid = 0;
    }
}

int mp_verify_report_valid(const mp_verify_report *r)
{
    return r && r->nproblems == 0 && !r->out_of_memory;
}

int mp_verify_report_info_plist_bound(const mp_verify_report *r)
{
    if (!r || r->nslices == 0)
        return 0;
    for (size_t i = 0; i < r->nslices; i++)
        if (!r->slices[i].info_plist_bound)
            return 0;
    return 1;
}

size_t mp_verify_report_slice_count(const mp_verify_report *r)
{
    return r ? r->nslices : 0;
}

mp_status mp_verify_report_slice(const mp_verify_report *r, size_t slice, mp_verify_slice *out)
{
    if (!r || !out || slice >= r->nslices)
        return MP_ERR_USAGE;
    *out = r->slices[slice];
    return MP_OK;
}

size_t mp_verify_report_problem_count(const mp_verify_report *r)
{
    return r ? r->nproblems : 0;
}

const char *mp_verify_report_problem(const mp_verify_report *r, size_t index)
{
    return r && index < r->nproblems ? r->problems[index] : NULL;
}

size_t mp_verify_report_problem_slice(const mp_verify_report *r, size_t index)
{
    return r && index < r->nproblems ? r->problem_slices[index] : MP_NO_SLICE;
}
