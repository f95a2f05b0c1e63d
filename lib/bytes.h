/* Bounds-checked integer access to file bytes.
 * Every read of file data goes through these helpers or through a range check
 * (mp_range_ok) done before the access. Mach-O headers are little-endian,
 * fat headers and code-signature blobs big-endian. */
#ifndef MP_BYTES_H
#define MP_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when [off, off+len) lies inside a buffer of size total, without overflow. */
static inline bool mp_range_ok(uint64_t total, uint64_t off, uint64_t len)
{
    return off <= total && len <= total - off;
}

static inline uint32_t mp_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t mp_le64(const uint8_t *p)
{
    return (uint64_t)mp_le32(p) | (uint64_t)mp_le32(p + 4) << 32;
}

static inline uint32_t mp_be32(const uint8_t *p)
{
    return (uint32_t)p[3] | (uint32_t)p[2] << 8 | (uint32_t)p[1] << 16 | (uint32_t)p[0] << 24;
}

static inline uint64_t mp_be64(const uint8_t *p)
{
    return (uint64_t)mp_be32(p) << 32 | (uint64_t)mp_be32(p + 4);
}

static inline void mp_put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

static inline void mp_put_le64(uint8_t *p, uint64_t v)
{
    mp_put_le32(p, (uint32_t)v);
    mp_put_le32(p + 4, (uint32_t)(v >> 32));
}

static inline void mp_put_be32(uint8_t *p, uint32_t v)
{
    p[3] = (uint8_t)v; p[2] = (uint8_t)(v >> 8); p[1] = (uint8_t)(v >> 16); p[0] = (uint8_t)(v >> 24);
}

static inline void mp_put_be64(uint8_t *p, uint64_t v)
{
    mp_put_be32(p, (uint32_t)(v >> 32));
    mp_put_be32(p + 4, (uint32_t)v);
}

/* Round v up to a multiple of a power-of-two alignment. */
static inline uint64_t mp_align_up(uint64_t v, uint64_t align)
{
    return (v + align - 1) & ~(align - 1);
}

#endif
