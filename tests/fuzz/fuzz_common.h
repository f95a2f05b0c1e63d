/* Shared checks for the libFuzzer harnesses. A broken library contract is
 * turned into a crash (__builtin_trap) so libFuzzer records the input:
 * - a failing call returns a status in range and fills mp_error with the same
 *   status and a non-empty, NUL-terminated, one-line message;
 * - borrowed pointers (plist, entitlements) lie inside the image's bytes;
 * - every byte a successful accessor hands out is readable (ASan checks the
 *   reads done by touch()). */
#ifndef MP_FUZZ_COMMON_H
#define MP_FUZZ_COMMON_H

#include "machoplist.h"

#include <stdint.h>
#include <string.h>

#define FUZZ_CHECK(cond)                                                                                   \
    do {                                                                                                   \
        if (!(cond))                                                                                       \
            __builtin_trap();                                                                              \
    } while (0)

static volatile uint32_t fuzz_sink;

static void touch(const void *p, size_t len)
{
    const uint8_t *b = p;
    uint32_t h = 0;
    for (size_t i = 0; i < len; i++)
        h = h * 31 + b[i];
    fuzz_sink += h;
}

static void touch_string(const char *s, size_t cap)
{
    FUZZ_CHECK(s != NULL);
    size_t n = strnlen(s, cap);
    FUZZ_CHECK(n < cap);
    touch(s, n);
}

/* A failed call: status and message as the header promises. */
static void check_failure(mp_status st, const mp_error *err)
{
    FUZZ_CHECK(st > MP_OK && st <= MP_ERR_NOMEM);
    FUZZ_CHECK(err->status == st);
    size_t n = strnlen(err->message, sizeof err->message);
    FUZZ_CHECK(n > 0 && n < sizeof err->message);
    FUZZ_CHECK(memchr(err->message, '\n', n) == NULL);
    FUZZ_CHECK(mp_status_name(st) != NULL);
}

static void check_inside(const mp_image *img, const uint8_t *p, size_t len)
{
    size_t size = 0;
    const uint8_t *base = mp_image_bytes(img, &size);
    FUZZ_CHECK(p >= base && len <= size && (size_t)(p - base) <= size - len);
    touch(p, len);
}

/* Everything `machoplist show` reads, and the bounds the accessors promise. */
static void walk_image(const mp_image *img)
{
    size_t size = 0;
    const uint8_t *bytes = mp_image_bytes(img, &size);
    FUZZ_CHECK(bytes != NULL || size == 0);
    touch_string(mp_image_name(img), 4096);
    int fat = mp_image_is_universal(img);
    size_t n = mp_image_slice_count(img);
    FUZZ_CHECK(n >= 1);
    FUZZ_CHECK(fat || n == 1);
    mp_slice_info si;
    FUZZ_CHECK(mp_image_slice(img, n, &si) == MP_ERR_USAGE);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(mp_image_slice(img, i, &si) == MP_OK);
        touch_string(si.arch, 64);
        touch_string(si.filetype_name, 64);
        if (si.platform)
            touch_string(si.platform, 64);
        FUZZ_CHECK(si.file_offset <= size && si.file_size <= size - si.file_offset);
        FUZZ_CHECK(si.load_commands_end <= si.file_size);
        mp_segment_info seg;
        size_t sections_seen = 0;
        for (size_t g = 0; g < si.segment_count; g++) {
            FUZZ_CHECK(mp_image_segment(img, i, g, &seg) == MP_OK);
            FUZZ_CHECK(strnlen(seg.name, sizeof seg.name) < sizeof seg.name);
            FUZZ_CHECK(seg.first_section == sections_seen);
            sections_seen += seg.nsects;
            FUZZ_CHECK(sections_seen <= si.section_count);
        }
        FUZZ_CHECK(sections_seen == si.section_count);
        FUZZ_CHECK(mp_image_segment(img, i, si.segment_count, &seg) == MP_ERR_USAGE);
        mp_section_info sec;
        for (size_t k = 0; k < si.section_count; k++) {
            FUZZ_CHECK(mp_image_section(img, i, k, &sec) == MP_OK);
            FUZZ_CHECK(strnlen(sec.segname, sizeof sec.segname) < sizeof sec.segname);
            FUZZ_CHECK(strnlen(sec.sectname, sizeof sec.sectname) < sizeof sec.sectname);
            FUZZ_CHECK(sec.ordinal == k + 1);
        }
        FUZZ_CHECK(mp_image_section(img, i, si.section_count, &sec) == MP_ERR_USAGE);
        size_t len = 0;
        const uint8_t *plist = mp_image_info_plist(img, i, &len);
        FUZZ_CHECK((plist != NULL) == (si.has_info_plist != 0));
        if (plist)
            check_inside(img, plist, len);
        mp_signature_info sig;
        FUZZ_CHECK(mp_image_signature(img, i, &sig) == MP_OK);
        FUZZ_CHECK((sig.present != 0) == (si.has_signature != 0));
        touch_string(sig.error, sizeof sig.error);
        touch_string(sig.identifier, sizeof sig.identifier);
        touch_string(sig.team_id, sizeof sig.team_id);
        if (sig.decoded) {
            FUZZ_CHECK(sig.present);
            if (sig.hash_name)
                touch_string(sig.hash_name, 64);
            char flags[128], tiny[8];
            touch_string(mp_format_cs_flags(sig.flags, flags, sizeof flags), sizeof flags);
            touch_string(mp_format_cs_flags(sig.flags, tiny, sizeof tiny), sizeof tiny);
            touch_string(mp_format_cs_flags(sig.cd_version, tiny, 1), 1);
        } else if (sig.present) {
            FUZZ_CHECK(sig.error[0] != '\0');
        }
        const uint8_t *ent = mp_image_entitlements(img, i, &len);
        if (ent)
            check_inside(img, ent, len);
        else
            FUZZ_CHECK(len == 0);
    }
    FUZZ_CHECK(mp_image_signature(img, n, &(mp_signature_info){0}) == MP_ERR_USAGE);
    FUZZ_CHECK(mp_image_info_plist(img, n, NULL) == NULL);
    FUZZ_CHECK(mp_image_entitlements(img, n, NULL) == NULL);
}

#endif
