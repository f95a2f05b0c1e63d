/* libFuzzer harness: mp_image_verify and every report accessor. Input: the
 * bytes of a file. Built by build-fuzzers.sh only when the library defines
 * mp_image_verify. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mp_error err;
    mp_image *img = NULL;
    if (mp_image_open_memory(data, size, "fuzz-input", &img, &err) != MP_OK)
        return 0;
    walk_image(img);
    mp_verify_options opt;
    mp_verify_options_init(&opt);
    opt.threads = 1;
    opt.require_info_plist = size & 1;
    mp_verify_report *report = NULL;
    mp_status st = mp_image_verify(img, &opt, &report, &err);
    if (st != MP_OK && st != MP_ERR_VERIFY) {
        check_failure(st, &err);
        mp_verify_report_free(report);
        mp_image_free(img);
        return 0;
    }
    FUZZ_CHECK(report != NULL);
    int valid = mp_verify_report_valid(report);
    FUZZ_CHECK(st != MP_OK || valid);
    size_t problems = mp_verify_report_problem_count(report);
    FUZZ_CHECK(valid || problems > 0);
    size_t nslices = mp_verify_report_slice_count(report);
    FUZZ_CHECK(nslices == mp_image_slice_count(img));
    for (size_t i = 0; i < problems; i++) {
        const char *msg = mp_verify_report_problem(report, i);
        touch_string(msg, 4096);
        FUZZ_CHECK(msg[0] && strchr(msg, '\n') == NULL);
        size_t s = mp_verify_report_problem_slice(report, i);
        FUZZ_CHECK(s == (size_t)-1 || s < nslices);
    }
    mp_verify_slice vs;
    for (size_t i = 0; i < nslices; i++) {
        FUZZ_CHECK(mp_verify_report_slice(report, i, &vs) == MP_OK);
        touch_string(vs.arch, 64);
        touch_string(vs.identifier, sizeof vs.identifier);
        touch_string(vs.team_id, sizeof vs.team_id);
        touch_string(vs.hash_choices, sizeof vs.hash_choices);
        if (vs.hash_name)
            touch_string(vs.hash_name, 64);
        FUZZ_CHECK(vs.cd_count <= MP_VERIFY_MAX_CDS);
        for (size_t k = 0; k < vs.cd_count; k++)
            if (vs.candidate_names[k])
                touch_string(vs.candidate_names[k], 64);
    }
    FUZZ_CHECK(mp_verify_report_slice(report, nslices, &vs) != MP_OK);
    (void)mp_verify_report_info_plist_bound(report);
    mp_verify_report_free(report);
    mp_image_free(img);
    return 0;
}
