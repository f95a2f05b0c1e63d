/* A program that uses libmachoplist the way a third party would: only the
 * installed <machoplist.h>, compiled and linked with the flags from
 * `pkg-config machoplist`, outside the meson build.
 *
 * usage: external_consumer FILE...
 * For each file: slices, architectures, file types, offsets, section counts,
 * the __info_plist size and the signature identifier and flags; then the same
 * file opened from memory must describe the same slices. Exit status: the
 * first failing mp_status, else 0. */
#include <machoplist.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        unsigned char *bigger = realloc(buf, cap * 2);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    fclose(f);
    *len = n;
    return buf;
}

static int same_slices(const mp_image *a, const mp_image *b)
{
    if (mp_image_slice_count(a) != mp_image_slice_count(b) || mp_image_is_universal(a) != mp_image_is_universal(b))
        return 0;
    for (size_t i = 0; i < mp_image_slice_count(a); i++) {
        mp_slice_info x, y;
        if (mp_image_slice(a, i, &x) != MP_OK || mp_image_slice(b, i, &y) != MP_OK)
            return 0;
        if (strcmp(x.arch, y.arch) != 0 || x.file_offset != y.file_offset || x.section_count != y.section_count)
            return 0;
    }
    return 1;
}

static int describe(const char *path)
{
    mp_image *img = NULL;
    mp_error err;
    mp_status st = mp_image_open(path, &img, &err);
    if (st != MP_OK) {
        printf("%s: error %d %s: %s\n", path, (int)st, mp_status_name(st), err.message);
        return (int)st;
    }
    size_t n = mp_image_slice_count(img);
    printf("%s: %s, %zu slice%s\n", mp_image_name(img), mp_image_is_universal(img) ? "universal" : "thin", n,
           n == 1 ? "" : "s");
    for (size_t i = 0; i < n; i++) {
        mp_slice_info s;
        if (mp_image_slice(img, i, &s) != MP_OK) {
            printf("  slice %zu: mp_image_slice failed\n", i);
            mp_image_free(img);
            return 1;
        }
        size_t plist_len = 0;
        const uint8_t *plist = mp_image_info_plist(img, i, &plist_len);
        mp_signature_info sig;
        mp_image_signature(img, i, &sig);
        char flags[128];
        printf("  slice %zu: %s %s, offset 0x%llx, %zu sections, info_plist ", i, s.arch, s.filetype_name,
               (unsigned long long)s.file_offset, s.section_count);
        if (plist)
            printf("%zu bytes", plist_len);
        else
            printf("none");
        if (!sig.present)
            printf(", signature none\n");
        else if (!sig.decoded)
            printf(", signature unreadable\n");
        else
            printf(", signature %s %s\n", sig.identifier, mp_format_cs_flags(sig.flags, flags, sizeof flags));
    }

    size_t len = 0;
    unsigned char *bytes = read_file(path, &len);
    mp_image *mem = NULL;
    if (!bytes || mp_image_open_memory(bytes, len, "memory copy", &mem, &err) != MP_OK) {
        printf("  memory copy: failed\n");
        st = MP_ERR_IO;
    } else {
        size_t img_len = 0;
        const uint8_t *img_bytes = mp_image_bytes(img, &img_len);
        int same = same_slices(img, mem) && img_len == len && memcmp(img_bytes, bytes, len) == 0 &&
                   strcmp(mp_image_name(mem), "memory copy") == 0;
        printf("  memory copy: %s\n", same ? "same slices and bytes" : "DIFFERENT");
        if (!same)
            st = MP_ERR_VERIFY;
    }
    mp_image_free(mem);
    free(bytes);
    mp_image_free(img);
    return (int)st;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: external_consumer FILE...\n");
        return 2;
    }
    printf("libmachoplist %s, header %d.%d.%d\n", mp_version(), MACHOPLIST_VERSION_MAJOR, MACHOPLIST_VERSION_MINOR,
           MACHOPLIST_VERSION_PATCH);
    int status = 0;
    for (int i = 1; i < argc; i++) {
        int st = describe(argv[i]);
        if (!status)
            status = st;
    }
    return status;
}
