/* A file's bytes, or bytes derived from them, as one contiguous read-only
 * view that is not held in the heap.
 *
 * An mp_buf is a reserved stretch of address space, one entry per system
 * page saying where that page's bytes come from:
 *   - a page of the source file, mapped read-only (MAP_PRIVATE): it costs no
 *     memory once dropped (mp_buf_release), and can be copied to the output
 *     by the kernel (copy_file_range) instead of through user space;
 *   - anonymous memory: bytes that were written (patched load commands, a
 *     new signature), zero until then.
 * Writing to a file-backed page faults: a page must be made writable first
 * (mp_buf_writable), which turns it into an anonymous copy. So every change
 * is recorded, and no change can be lost by dropping a page.
 *
 * A 2 GiB binary is therefore signed with a few MiB of memory: pages are
 * mapped, hashed, dropped, and copied file-to-file when written out.
 *
 * The source file must not be truncated while a buf maps it (reading a page
 * past its new end raises SIGBUS, as for every mmap-based tool). */
#ifndef MP_BUFFER_H
#define MP_BUFFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MP_BUF_ANON UINT64_MAX

typedef struct mp_buf {
    uint8_t *base; /* size bytes, then zero up to the end of the last page, between
                    * two inaccessible guard pages */
    size_t size;
    size_t map_len; /* reserved bytes: size rounded up to pages, at least one page */
    size_t page;
    size_t npages;
    uint64_t *src; /* per page: offset of the source file page, or MP_BUF_ANON */
    int fd; /* the source file, -1 when no page is file-backed */
    uint64_t fd_dev, fd_ino; /* identity of fd, to compare buffers */
    uint64_t id; /* unique in the process, never 0 */
} mp_buf;

/* A buffer of size zero bytes, no page file-backed. NULL when out of memory. */
mp_buf *mp_buf_alloc(size_t size);
/* Maps [0, size) of the open file fd (size from fstat by the caller). Every
 * whole page is mapped; a partial last page is read. fd is duplicated. On
 * failure returns NULL and sets *err_no (errno; EIO when the file is shorter
 * than size). */
mp_buf *mp_buf_map_file(int fd, size_t size, int *err_no);
void mp_buf_free(mp_buf *b);

/* Copies src[src_off, +len) to dst[dst_off, +len). Whole pages whose source
 * is file-backed at a page-aligned position are mapped from the file, not
 * copied. dst must not already have file-backed pages from another file. */
bool mp_buf_copy(mp_buf *dst, size_t dst_off, const mp_buf *src, size_t src_off, size_t len);
/* Makes [off, off+len) writable; returns base + off, or NULL on failure. */
uint8_t *mp_buf_writable(mp_buf *b, size_t off, size_t len);
/* Gives back the memory of the file-backed pages wholly inside [off, off+len)
 * (they are read again from the file when next touched). Anonymous pages,
 * which hold changes, are kept. Safe to call from several threads on
 * disjoint ranges. */
void mp_buf_release(const mp_buf *b, size_t off, size_t len);

/* Maps the file-backed pages of [off, off+len) in one call before they are
 * read, instead of one page fault per few pages (Linux MADV_POPULATE_READ;
 * nothing elsewhere). Best effort. */
void mp_buf_prefetch(const mp_buf *b, size_t off, size_t len);

/* The run of bytes starting at off that comes from one kind of page: returns
 * its length, and sets *file_off to the source file offset of byte off when
 * the run is file-backed (consecutive file pages), else to MP_BUF_ANON. */
size_t mp_buf_run(const mp_buf *b, size_t off, uint64_t *file_off);

/* True when a and b hold the same bytes. File pages of the same file at the
 * same offset are equal without being read. */
bool mp_buf_equal(const mp_buf *a, const mp_buf *b);

#endif
