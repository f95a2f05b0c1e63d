/* Where page hashing writes the bytes it has just hashed: the output file of
 * a write under way (mp_write_begin). Every byte the signature covers is final
 * before it is hashed, so it can be written out while it is still in the
 * CPU's cache, by the thread that hashed it, instead of in a second pass. */
#ifndef MP_PAGE_SINK_H
#define MP_PAGE_SINK_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mp_page_sink {
    int fd;
    atomic_int error; /* errno of the first failed write, 0 while none failed */
} mp_page_sink;

/* Writes len bytes at p to offset at of the sink's file. After a failure it
 * writes nothing more; the failure is reported by whoever commits the file.
 * Safe to call from several threads on disjoint ranges. */
void mp_page_sink_write(mp_page_sink *sink, const uint8_t *p, size_t len, uint64_t at);

#endif
