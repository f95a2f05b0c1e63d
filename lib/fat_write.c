/* Re-laying a universal file after its slices changed size, as cctools
 * writeout() (libstuff/writeout.c) does for codesign_allocate: FAT_MAGIC
 * header, slices in header order, each at the next multiple of 2^align after
 * the previous one (the first after the header), gaps zeroed, the file ending
 * with the last slice. */
#include "bytes.h"
#include "macho_format.h"
#include "sign.h"

#include <stdlib.h>
#include <string.h>

mp_status mp_fat_write(const char *name, const mp_fat_piece *pieces, size_t n, uint8_t **out, size_t *out_size,
                       mp_error *err)
{
    *out = NULL;
    *out_size = 0;
    uint64_t offset = FAT_HEADER_SIZE + (uint64_t)n * FAT_ARCH_SIZE;
    uint64_t *offsets = calloc(n ? n : 1, sizeof *offsets);
    if (!offsets)
        return mp_fail(err, MP_ERR_NOMEM, "%s: out of memory", name);
    for (size_t i = 0; i < n; i++) {
        offset = mp_align_up(offset, (uint64_t)1 << pieces[i].align);
        offsets[i] = offset;
        offset += pieces[i].size;
        if (offsets[i] > UINT32_MAX || pieces[i].size > UINT32_MAX || offset > SIZE_MAX) {
            free(offsets);
            return mp_fail(err, MP_ERR_UNSUPPORTED,
                           "%s: slice %zu would end at %#llx, past the 4 GiB a FAT_MAGIC header can describe", name, i,
                           (unsigned long long)offset);
        }
    }
    uint8_t *buf = calloc(1, offset ? (size_t)offset : 1);
    if (!buf) {
        free(offsets);
        return mp_fail(err, MP_ERR_NOMEM, "%s: out of memory (%llu bytes)", name, (unsigned long long)offset);
    }
    mp_put_be32(buf, FAT_MAGIC);
    mp_put_be32(buf + 4, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        uint8_t *a = buf + FAT_HEADER_SIZE + i * FAT_ARCH_SIZE;
        mp_put_be32(a, pieces[i].cputype);
        mp_put_be32(a + 4, pieces[i].cpusubtype);
        mp_put_be32(a + 8, (uint32_t)offsets[i]);
        mp_put_be32(a + 12, (uint32_t)pieces[i].size);
        mp_put_be32(a + 16, pieces[i].align);
        memcpy(buf + offsets[i], pieces[i].data, (size_t)pieces[i].size);
    }
    free(offsets);
    *out = buf;
    *out_size = (size_t)offset;
    return MP_OK;
}
