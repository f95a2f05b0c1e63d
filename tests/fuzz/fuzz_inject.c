/* libFuzzer harness: plan, describe and apply an injection of a fixed small
 * plist, then (when the library has mp_image_sign) sign ad hoc with one
 * thread. Input: the bytes of a file.
 * Oracles beyond "no crash": a successful apply keeps the file size, leaves
 * every slice holding exactly the plist, and re-parses from its bytes;
 * planning the same plist again is a no-op; removing it works. */
#include "fuzz_common.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char plist[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                            "<plist version=\"1.0\"><dict>"
                            "<key>CFBundleIdentifier</key><string>org.machoplist.fuzz</string>"
                            "<key>NSLocalNetworkUsageDescription</key><string>fuzz</string>"
                            "</dict></plist>\n";

static void check_holds_plist(const mp_image *img)
{
    for (size_t i = 0; i < mp_image_slice_count(img); i++) {
        size_t len = 0;
        const uint8_t *p = mp_image_info_plist(img, i, &len);
        FUZZ_CHECK(p && len == sizeof plist - 1 && memcmp(p, plist, len) == 0);
    }
}

static void reopen(const mp_image *img)
{
    size_t size = 0;
    const uint8_t *bytes = mp_image_bytes(img, &size);
    mp_image *again = NULL;
    mp_error err;
    FUZZ_CHECK(mp_image_open_memory(bytes, size, "fuzz-output", &again, &err) == MP_OK);
    walk_image(again);
    check_holds_plist(again);
    mp_image_free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mp_error err;
    mp_image *img = NULL;
    if (mp_image_open_memory(data, size, "fuzz-input", &img, &err) != MP_OK)
        return 0;
    mp_inject_options opt;
    mp_inject_options_init(&opt);
    opt.make_room = size & 1; /* both policies, chosen by the input */
    mp_plan *plan = (mp_plan *)1;
    mp_status st = mp_plan_inject(img, (const uint8_t *)plist, sizeof plist - 1, &opt, &plan, &err);
    if (st != MP_OK) {
        FUZZ_CHECK(plan == NULL);
        check_failure(st, &err);
        mp_image_free(img);
        return 0;
    }
    char *text = mp_plan_describe(plan);
    FUZZ_CHECK(text != NULL);
    touch_string(text, 1 << 20);
    free(text);
    int noop = mp_plan_is_noop(plan);
    size_t before_size = 0;
    mp_image_bytes(img, &before_size);
    st = mp_image_apply(img, plan, &err);
    mp_plan_free(plan);
    if (st != MP_OK) {
        check_failure(st, &err);
        mp_image_free(img);
        return 0;
    }
    size_t after_size = 0;
    const uint8_t *after = mp_image_bytes(img, &after_size);
    FUZZ_CHECK(after_size == before_size);
    FUZZ_CHECK(!noop || memcmp(after, data, size) == 0);
    walk_image(img);
    check_holds_plist(img);
    reopen(img);

    /* The same plist again: nothing to do. */
    FUZZ_CHECK(mp_plan_inject(img, (const uint8_t *)plist, sizeof plist - 1, &opt, &plan, &err) == MP_OK);
    FUZZ_CHECK(mp_plan_is_noop(plan));
    mp_plan_free(plan);

#ifdef MP_FUZZ_HAVE_SIGN
    mp_sign_options so;
    mp_sign_options_init(&so);
    so.threads = 1;
    mp_sign_result *result = malloc(sizeof *result);
    FUZZ_CHECK(result != NULL);
    st = mp_image_sign(img, &so, result, &err);
    if (st == MP_OK) {
        FUZZ_CHECK(result->slice_count == mp_image_slice_count(img));
        walk_image(img);
        reopen(img);
    } else {
        check_failure(st, &err);
    }
    free(result);
#endif

    /* Removing it again must plan and apply. */
    mp_image *copy = NULL;
    size_t n = 0;
    const uint8_t *bytes = mp_image_bytes(img, &n);
    FUZZ_CHECK(mp_image_open_memory(bytes, n, "fuzz-remove", &copy, &err) == MP_OK);
    st = mp_plan_remove(copy, &plan, &err);
    if (st == MP_OK) {
        st = mp_image_apply(copy, plan, &err);
        mp_plan_free(plan);
        if (st == MP_OK)
            for (size_t i = 0; i < mp_image_slice_count(copy); i++)
                FUZZ_CHECK(mp_image_info_plist(copy, i, NULL) == NULL);
        else
            check_failure(st, &err);
    } else {
        check_failure(st, &err);
    }
    mp_image_free(copy);
    mp_image_free(img);
    return 0;
}
