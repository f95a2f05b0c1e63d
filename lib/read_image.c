/* Reading a file into an image: map the bytes, then split thin or universal
 * files into slices and parse each one. */
#include "bytes.h"
#include "image.h"
#include "macho_format.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A universal file names at most this many slices; more is taken as a Java
 * class file (same magic; its major version, 45 or more, sits where
 * nfat_arch does: file(1) and LLVM draw the line at 43) or as hostile. */
#define MP_MAX_FAT_ARCHS 42u

/* Opens a regular file and maps it (buffer.h): the bytes are not read into
 * the heap, so a file of any size costs only the pages being looked at. */
static mp_status map_file(const char *path, mp_buf **out, mp_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return mp_fail(err, MP_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return mp_fail(err, MP_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return mp_fail(err, MP_ERR_IO, "%s: is a directory", path);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return mp_fail(err, MP_ERR_IO, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > (uint64_t)SIZE_MAX / 2) {
        close(fd);
        return mp_fail(err, MP_ERR_UNSUPPORTED, "%s: file too large", path);
    }
    size_t size = (size_t)st.st_size;
    int e = 0;
    *out = mp_buf_map_file(fd, size, &e);
    close(fd);
    if (*out)
        return MP_OK;
    if (e == ENOMEM)
        return mp_fail(err, MP_ERR_NOMEM, "%s: out of memory mapping %zu bytes", path, size);
    if (e == EIO)
        return mp_fail(err, MP_ERR_IO, "%s: file changed size while being read", path);
    return mp_fail(err, MP_ERR_IO, "%s: cannot map: %s", path, strerror(e));
}

static void slice_init(mp_slice *s, size_t index)
{
    memset(s, 0, sizeof *s);
    s->index = index;
    s->text_seg = s->linkedit_seg = s->info_plist_sect = -1;
    s->codesig_lc = s->symtab_lc = s->dysymtab_lc = -1;
}

static int compare_slices_by_offset(const void *a, const void *b)
{
    const mp_slice *x = *(const mp_slice *const *)a, *y = *(const mp_slice *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static mp_status parse_fat(mp_image *img, mp_error *err)
{
    const uint8_t *d = img->data;
    if (img->size < FAT_HEADER_SIZE)
        return mp_fail(err, MP_ERR_MALFORMED, "%s: universal header truncated (%zu bytes)", img->name, img->size);
    uint32_t magic = mp_be32(d);
    if (magic == FAT_MAGIC_64)
        return mp_fail(err, MP_ERR_UNSUPPORTED,
                       "%s: FAT_MAGIC_64 universal files are not supported (macOS loads only FAT_MAGIC)", img->name);
    uint32_t n = mp_be32(d + 4);
    if (n == 0 || n > MP_MAX_FAT_ARCHS)
        return mp_fail(err, n == 0 ? MP_ERR_MALFORMED : MP_ERR_NOT_MACHO,
                       "%s: universal header names %u slices (a Java class file, or corrupt)", img->name, n);
    if (!mp_range_ok(img->size, FAT_HEADER_SIZE, (uint64_t)n * FAT_ARCH_SIZE))
        return mp_fail(err, MP_ERR_MALFORMED, "%s: universal header with %u slices is truncated", img->name, n);

    img->slices = calloc(n, sizeof *img->slices);
    if (!img->slices)
        return mp_fail(err, MP_ERR_NOMEM, "%s: out of memory", img->name);
    img->nslices = n;
    uint64_t header_end = FAT_HEADER_SIZE + (uint64_t)n * FAT_ARCH_SIZE;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *a = d + FAT_HEADER_SIZE + (size_t)i * FAT_ARCH_SIZE;
        mp_slice *s = &img->slices[i];
        slice_init(s, i);
        s->cputype = mp_be32(a);
        s->cpusubtype = mp_be32(a + 4);
        s->offset = mp_be32(a + 8);
        s->size = mp_be32(a + 12);
        s->fat_align = mp_be32(a + 16);
        snprintf(s->arch, sizeof s->arch, "%s", mp_arch_name(s->cputype, s->cpusubtype));
        if (s->fat_align > 15)
            return mp_fail(err, MP_ERR_MALFORMED, "%s: slice %u (%s): alignment 2^%u is out of range (at most 2^15)",
                           img->name, i, s->arch, s->fat_align);
        if (s->offset < header_end)
            return mp_fail(err, MP_ERR_MALFORMED, "%s: slice %u (%s): offset %#llx overlaps the universal header",
                           img->name, i, s->arch, (unsigned long long)s->offset);
        if (!mp_range_ok(img->size, s->offset, s->size))
            return mp_fail(err, MP_ERR_MALFORMED,
                           "%s: slice %u (%s): [%#llx, %#llx) extends past the end of the file (%#zx bytes)",
                           img->name, i, s->arch, (unsigned long long)s->offset,
                           (unsigned long long)(s->offset + s->size), img->size);
        if (s->offset & ((1ull << s->fat_align) - 1))
            return mp_fail(err, MP_ERR_MALFORMED, "%s: slice %u (%s): offset %#llx is not aligned to 2^%u",
                           img->name, i, s->arch, (unsigned long long)s->offset, s->fat_align);
        for (uint32_t j = 0; j < i; j++)
            if (img->slices[j].cputype == s->cputype &&
                (img->slices[j].cpusubtype & ~CPU_SUBTYPE_MASK) == (s->cpusubtype & ~CPU_SUBTYPE_MASK))
                return mp_fail(err, MP_ERR_MALFORMED, "%s: slices %u and %u have the same architecture (%s)",
                               img->name, j, i, s->arch);
        s->data = d + s->offset;
    }
    mp_slice **order = malloc(n * sizeof *order);
    if (!order)
        return mp_fail(err, MP_ERR_NOMEM, "%s: out of memory", img->name);
    for (uint32_t i = 0; i < n; i++)
        order[i] = &img->slices[i];
    qsort(order, n, sizeof *order, compare_slices_by_offset);
    for (uint32_t i = 1; i < n; i++) {
        if (order[i - 1]->offset + order[i - 1]->size > order[i]->offset) {
            mp_status st = mp_fail(err, MP_ERR_MALFORMED, "%s: slices %zu (%s) and %zu (%s) overlap",
                                   img->name, order[i - 1]->index, order[i - 1]->arch, order[i]->index,
                                   order[i]->arch);
            free(order);
            return st;
        }
    }
    free(order);
    for (uint32_t i = 0; i < n; i++) {
        mp_slice *s = &img->slices[i];
        uint32_t cputype = s->cputype, cpusubtype = s->cpusubtype;
        mp_status st = mp_parse_slice(img, s, err);
        if (st != MP_OK)
            return st;
        if (s->cputype != cputype || (s->cpusubtype & ~CPU_SUBTYPE_MASK) != (cpusubtype & ~CPU_SUBTYPE_MASK))
            return mp_fail(err, MP_ERR_MALFORMED,
                           "%s: slice %u: universal header says %s but the Mach-O header says %s",
                           img->name, i, mp_arch_name(cputype, cpusubtype), s->arch);
    }
    return MP_OK;
}

mp_status mp_image_parse(mp_buf *buf, const char *name, mp_image **out, mp_error *err)
{
    *out = NULL;
    mp_image *img = calloc(1, sizeof *img);
    char *name_copy = strdup(name ? name : "<memory>");
    if (!img || !name_copy) {
        free(img);
        free(name_copy);
        mp_buf_free(buf);
        return mp_fail(err, MP_ERR_NOMEM, "%s: out of memory", name ? name : "<memory>");
    }
    img->name = name_copy;
    img->buf = buf;
    img->data = buf->base;
    img->size = buf->size;
    const uint8_t *data = img->data;
    size_t size = img->size;

    mp_status st;
    uint32_t magic_be = size >= 4 ? mp_be32(data) : 0;
    uint32_t magic_le = size >= 4 ? mp_le32(data) : 0;
    if (size == 0) {
        st = mp_fail(err, MP_ERR_NOT_MACHO, "%s: empty file, not Mach-O", img->name);
    } else if (size < 4) {
        st = mp_fail(err, MP_ERR_NOT_MACHO, "%s: %zu bytes, too short to be Mach-O", img->name, size);
    } else if (magic_be == FAT_MAGIC || magic_be == FAT_MAGIC_64) {
        img->fat = true;
        st = parse_fat(img, err);
    } else if (magic_le == MH_MAGIC_64 || magic_le == MH_MAGIC || magic_le == MH_CIGAM_64 ||
               magic_le == MH_CIGAM) {
        img->slices = calloc(1, sizeof *img->slices);
        if (size > UINT32_MAX) {
            /* LC_CODE_SIGNATURE (and section offsets) hold 32-bit file
             * offsets: such a slice can be neither signed nor loaded. */
            st = mp_fail(err, MP_ERR_UNSUPPORTED,
                         "%s: %zu bytes; a Mach-O slice of 4 GiB or more is not supported (file offsets in load commands are 32-bit)",
                         img->name, size);
        } else if (!img->slices) {
            st = mp_fail(err, MP_ERR_NOMEM, "%s: out of memory", img->name);
        } else {
            img->nslices = 1;
            slice_init(&img->slices[0], 0);
            img->slices[0].data = data;
            img->slices[0].size = size;
            st = mp_parse_slice(img, &img->slices[0], err);
        }
    } else {
        st = mp_fail(err, MP_ERR_NOT_MACHO, "%s: not a Mach-O file (magic %08x)", img->name, magic_be);
    }
    if (st != MP_OK) {
        mp_image_free(img);
        return st;
    }
    *out = img;
    return MP_OK;
}

mp_status mp_image_open(const char *path, mp_image **out, mp_error *err)
{
    if (out)
        *out = NULL;
    if (!path || !out)
        return mp_fail(err, MP_ERR_USAGE, "mp_image_open: NULL argument");
    mp_buf *buf = NULL;
    mp_status st = map_file(path, &buf, err);
    if (st != MP_OK)
        return st;
    return mp_image_parse(buf, path, out, err);
}

mp_status mp_image_open_memory(const void *data, size_t size, const char *name, mp_image **out,
                               mp_error *err)
{
    if (out)
        *out = NULL;
    if ((!data && size) || !out)
        return mp_fail(err, MP_ERR_USAGE, "mp_image_open_memory: NULL argument");
    mp_buf *copy = mp_buf_alloc(size);
    if (!copy)
        return mp_fail(err, MP_ERR_NOMEM, "%s: out of memory", name ? name : "<memory>");
    if (size)
        memcpy(copy->base, data, size);
    return mp_image_parse(copy, name, out, err);
}

mp_status mp_image_copy(const mp_image *img, mp_image **out, mp_error *err)
{
    if (out)
        *out = NULL;
    if (!img || !out)
        return mp_fail(err, MP_ERR_USAGE, "mp_image_copy: NULL argument");
    mp_buf *copy = mp_buf_alloc(img->size);
    if (!copy || !mp_buf_copy(copy, 0, img->buf, 0, img->size)) {
        mp_buf_free(copy);
        return mp_fail(err, MP_ERR_NOMEM, "%s: out of memory", img->name);
    }
    return mp_image_parse(copy, img->name, out, err);
}

int mp_image_same_bytes(const mp_image *a, const mp_image *b)
{
    return a && b && mp_buf_equal(a->buf, b->buf);
}

void mp_image_free(mp_image *img)
{
    if (!img)
        return;
    for (size_t i = 0; i < img->nslices; i++)
        mp_slice_release(&img->slices[i]);
    free(img->slices);
    mp_buf_free(img->buf);
    free(img->name);
    free(img);
}

mp_status mp_image_reset(mp_image *img, mp_buf *buf, mp_error *err)
{
    mp_image *fresh = NULL;
    mp_status st = mp_image_parse(buf, img->name, &fresh, err);
    if (st != MP_OK)
        return st;
    /* Swap contents so the caller's handle now describes the new bytes. */
    mp_image old = *img;
    *img = *fresh;
    *fresh = old;
    mp_image_free(fresh);
    return MP_OK;
}
