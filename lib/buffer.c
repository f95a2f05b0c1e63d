/* mp_buf: page-granular views over a mapped file plus anonymous pages
 * (see buffer.h for why). */
#include "buffer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0
#endif

/* Under AddressSanitizer the bytes between size and the end of the last page
 * are poisoned, so a read past the end is reported as it would be for a heap
 * buffer (the fuzzers rely on it). */
#if defined(__SANITIZE_ADDRESS__)
#define MP_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MP_ASAN 1
#endif
#endif
#ifdef MP_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* Pages copied at a time when a file-backed run becomes anonymous. */
#define WRITABLE_BATCH 256u

static size_t system_page(void)
{
    long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? (size_t)p : 4096u;
}

mp_buf *mp_buf_alloc(size_t size)
{
    /* Ids tell buffers apart even when one is allocated where a freed one was. */
    static atomic_uint_fast64_t last_id;
    mp_buf *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->id = (uint64_t)atomic_fetch_add(&last_id, 1) + 1;
    b->page = system_page();
    b->fd = -1;
    b->size = size;
    b->npages = size / b->page + (size % b->page != 0);
    if (b->npages == 0)
        b->npages = 1;
    if (b->npages > SIZE_MAX / b->page - 2 || b->npages > SIZE_MAX / sizeof *b->src) {
        free(b);
        return NULL;
    }
    b->map_len = b->npages * b->page;
    b->src = malloc(b->npages * sizeof *b->src);
    /* An inaccessible page on either side: a stray read past either end
     * faults instead of reading a neighbour. */
    uint8_t *m = b->src ? mmap(NULL, b->map_len + 2 * b->page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                               -1, 0)
                        : MAP_FAILED;
    if (m != MAP_FAILED && mmap(m + b->page, b->map_len, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) != m + b->page) {
        munmap(m, b->map_len + 2 * b->page);
        m = MAP_FAILED;
    }
    if (m == MAP_FAILED) {
        free(b->src);
        free(b);
        return NULL;
    }
    b->base = m + b->page;
    for (size_t i = 0; i < b->npages; i++)
        b->src[i] = MP_BUF_ANON;
    POISON(b->base + size, b->map_len - size);
    return b;
}

void mp_buf_free(mp_buf *b)
{
    if (!b)
        return;
    UNPOISON(b->base + b->size, b->map_len - b->size); /* what alloc poisoned */
    munmap(b->base - b->page, b->map_len + 2 * b->page);
    free(b->src);
    if (b->fd >= 0)
        close(b->fd);
    free(b);
}

static bool adopt_fd(mp_buf *b, int fd)
{
    struct stat st;
    int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0)
        return false;
    if (fstat(copy, &st) != 0) {
        close(copy);
        return false;
    }
    b->fd = copy;
    b->fd_dev = (uint64_t)st.st_dev;
    b->fd_ino = (uint64_t)st.st_ino;
    return true;
}

/* Maps count file pages starting at file offset file_off over pages
 * [first, first+count) of b. */
static bool map_pages(mp_buf *b, size_t first, size_t count, uint64_t file_off)
{
    void *at = b->base + first * b->page;
    if (mmap(at, count * b->page, PROT_READ, MAP_PRIVATE | MAP_FIXED, b->fd, (off_t)file_off) != at)
        return false;
    for (size_t i = 0; i < count; i++)
        b->src[first + i] = file_off + i * b->page;
    return true;
}

mp_buf *mp_buf_map_file(int fd, size_t size, int *err_no)
{
    *err_no = ENOMEM;
    mp_buf *b = mp_buf_alloc(size);
    if (!b)
        return NULL;
    if (!adopt_fd(b, fd)) {
        *err_no = errno;
        mp_buf_free(b);
        return NULL;
    }
    size_t whole = size / b->page, rest = size % b->page;
    if (whole && !map_pages(b, 0, whole, 0)) {
        *err_no = errno;
        mp_buf_free(b);
        return NULL;
    }
    /* The last partial page is read: a mapped one would show bytes past the
     * end of the file as zero and could not be copied file-to-file. */
    size_t got = 0;
    while (got < rest) {
        ssize_t n = pread(fd, b->base + whole * b->page + got, rest - got, (off_t)(whole * b->page + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            *err_no = n < 0 ? errno : EIO;
            mp_buf_free(b);
            return NULL;
        }
        got += (size_t)n;
    }
    /* A file that shrank before it was mapped would fault when read. */
    struct stat st;
    if (fstat(fd, &st) != 0 || (uint64_t)st.st_size < size) {
        *err_no = EIO;
        mp_buf_free(b);
        return NULL;
    }
    return b;
}

static bool same_file(const mp_buf *a, const mp_buf *b)
{
    return a->fd >= 0 && b->fd >= 0 && a->fd_dev == b->fd_dev && a->fd_ino == b->fd_ino;
}

/* Replaces file-backed pages [first, first+count) with anonymous copies. */
static bool unshare_pages(mp_buf *b, size_t first, size_t count)
{
    uint8_t *tmp = malloc(count * b->page);
    if (!tmp)
        return false;
    uint8_t *at = b->base + first * b->page;
    memcpy(tmp, at, count * b->page);
    bool ok = mmap(at, count * b->page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
              (void *)at;
    if (ok) {
        memcpy(at, tmp, count * b->page);
        for (size_t i = 0; i < count; i++)
            b->src[first + i] = MP_BUF_ANON;
    }
    free(tmp);
    return ok;
}

uint8_t *mp_buf_writable(mp_buf *b, size_t off, size_t len)
{
    if (off > b->size || len > b->size - off)
        return NULL;
    if (len == 0)
        return b->base + off;
    size_t p = off / b->page, last = (off + len - 1) / b->page;
    while (p <= last) {
        if (b->src[p] == MP_BUF_ANON) {
            p++;
            continue;
        }
        size_t n = 1;
        while (p + n <= last && n < WRITABLE_BATCH && b->src[p + n] != MP_BUF_ANON)
            n++;
        if (!unshare_pages(b, p, n))
            return NULL;
        p += n;
    }
    return b->base + off;
}

bool mp_buf_copy(mp_buf *dst, size_t dst_off, const mp_buf *src, size_t src_off, size_t len)
{
    if (dst_off > dst->size || len > dst->size - dst_off || src_off > src->size || len > src->size - src_off)
        return false;
    size_t page = dst->page, pos = 0;
    while (pos < len) {
        size_t d = dst_off + pos, s = src_off + pos;
        uint64_t from = src->src[s / page];
        bool mappable = d % page == 0 && s % page == 0 && len - pos >= page && from != MP_BUF_ANON &&
                        (dst->fd < 0 || same_file(dst, src));
        if (mappable) {
            if (dst->fd < 0) {
                if (!adopt_fd(dst, src->fd))
                    return false;
            }
            size_t n = 1;
            while ((n + 1) * page <= len - pos && src->src[s / page + n] == from + n * page)
                n++;
            if (!map_pages(dst, d / page, n, from))
                return false;
            pos += n * page;
            continue;
        }
        size_t chunk = page - d % page;
        if (chunk > len - pos)
            chunk = len - pos;
        uint8_t *out = mp_buf_writable(dst, d, chunk);
        if (!out)
            return false;
        memcpy(out, src->base + s, chunk);
        pos += chunk;
    }
    return true;
}

void mp_buf_release(const mp_buf *b, size_t off, size_t len)
{
    if (off > b->size || len > b->size - off || b->fd < 0)
        return;
    size_t p = off / b->page + (off % b->page != 0), end = (off + len) / b->page;
    while (p < end) {
        if (b->src[p] == MP_BUF_ANON) {
            p++;
            continue;
        }
        size_t n = 1;
        while (p + n < end && b->src[p + n] != MP_BUF_ANON)
            n++;
        /* Clean private file pages: dropping them loses nothing. */
        (void)madvise(b->base + p * b->page, n * b->page, MADV_DONTNEED);
        p += n;
    }
}

void mp_buf_prefetch(const mp_buf *b, size_t off, size_t len)
{
#ifdef MADV_POPULATE_READ
    if (off > b->size || len > b->size - off || b->fd < 0 || len == 0)
        return;
    size_t first = off / b->page * b->page, end = off + len;
    /* Fails with EINVAL on kernels before 5.14: then pages fault in as read. */
    (void)madvise(b->base + first, end - first, MADV_POPULATE_READ);
#else
    (void)b, (void)off, (void)len;
#endif
}

size_t mp_buf_run(const mp_buf *b, size_t off, uint64_t *file_off)
{
    *file_off = MP_BUF_ANON;
    if (off >= b->size)
        return 0;
    size_t p = off / b->page, q = p + 1;
    uint64_t first = b->src[p];
    if (first == MP_BUF_ANON) {
        while (q < b->npages && b->src[q] == MP_BUF_ANON)
            q++;
    } else {
        *file_off = first + off % b->page;
        while (q < b->npages && b->src[q] == first + (q - p) * b->page)
            q++;
    }
    size_t end = q * b->page < b->size ? q * b->page : b->size;
    return end - off;
}

bool mp_buf_equal(const mp_buf *a, const mp_buf *b)
{
    if (a->size != b->size)
        return false;
    const size_t chunk = (size_t)1 << 20;
    size_t off = 0;
    while (off < a->size) {
        uint64_t fa, fb;
        size_t na = mp_buf_run(a, off, &fa), nb = mp_buf_run(b, off, &fb);
        size_t n = na < nb ? na : nb;
        if (fa != MP_BUF_ANON && fa == fb && same_file(a, b)) {
            off += n;
            continue;
        }
        if (n > chunk)
            n = chunk;
        bool same = memcmp(a->base + off, b->base + off, n) == 0;
        mp_buf_release(a, off, n);
        mp_buf_release(b, off, n);
        if (!same)
            return false;
        off += n;
    }
    return true;
}
