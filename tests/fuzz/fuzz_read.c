/* libFuzzer harness: the reader and every accessor `machoplist show` uses.
 * Input: the bytes of a (thin or universal) file. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mp_error err;
    memset(&err, 0x5a, sizeof err); /* a message must be written, not left over */
    mp_image *img = (mp_image *)1;
    mp_status st = mp_image_open_memory(data, size, "fuzz-input", &img, &err);
    if (st != MP_OK) {
        FUZZ_CHECK(img == NULL);
        check_failure(st, &err);
        return 0;
    }
    FUZZ_CHECK(img != NULL);
    size_t got = 0;
    const uint8_t *bytes = mp_image_bytes(img, &got);
    FUZZ_CHECK(got == size && (size == 0 || memcmp(bytes, data, size) == 0));
    walk_image(img);
    if (size >= 4) { /* flag formatting over arbitrary values and buffer sizes */
        char buf[256];
        uint32_t flags = (uint32_t)data[size - 1] << 24 | (uint32_t)data[size - 2] << 16 |
                         (uint32_t)data[size - 3] << 8 | data[size - 4];
        for (size_t len = 0; len <= sizeof buf; len += 1 + len / 2) {
            memset(buf, 0x7f, sizeof buf);
            FUZZ_CHECK(mp_format_cs_flags(flags, buf, len) == buf);
            if (len)
                touch_string(buf, len);
        }
    }
    mp_image_free(img);
    return 0;
}
