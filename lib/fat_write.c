/* Re-laying a universal file after its slices changed size, as cctools
 * writeout() (libstuff/writeout.c) does for codesign_allocate: FAT_MAGIC
 * header, slices in header order, each at the next multiple of 2^align after
 * the previous one (the first after the header), gaps zeroed, the file ending
 * with the last slice. */
#include "bytes.h"
#include "macho_format.h"
#include "sign.h"


mp_status mp_fat_layout(const char *name, const mp_fat_piece *pieces, size_t n, uint64_t *offsets, uint64_t *total,
                        mp_error *err)
{
    uint64_t offset = FAT_HEADER_SIZE + (uint64_t)n * FAT_ARCH_SIZE;
    for (size_t i = 0; i < n; i++) {
        offset = mp_align_up(offset, (uint64_t)1 << pieces[i].align);
        offsets[i] = offset;
        offset += pieces[i].size;
        if (offsets[i] > UINT32_MAX || pieces[i].size > UINT32_MAX || offset > SIZE_MAX / 2)
            return mp_fail(err, MP_ERR_UNSUPPORTED,
                           "%s: slice %zu would end at %#llx, past the 4 GiB a FAT_MAGIC header can describe", name, i,
                           (unsigned long long)offset);
    }
    *total = offset;
    return MP_OK;
}

void mp_fat_header_write(const mp_fat_piece *pieces, const uint64_t *offsets, size_t n, uint8_t *out)
{
    mp_put_be32(out, FAT_MAGIC);
    mp_put_be32(out + 4, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        uint8_t *a = out + FAT_HEADER_SIZE + i * FAT_ARCH_SIZE;
        mp_put_be32(a, pieces[i].cputype);
        mp_put_be32(a + 4, pieces[i].cpusubtype);
        mp_put_be32(a + 8, (uint32_t)offsets[i]);
        mp_put_be32(a + 12, (uint32_t)pieces[i].size);
        mp_put_be32(a + 16, pieces[i].align);
    }
}
