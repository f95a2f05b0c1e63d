/* Page hashing for CodeDirectory code slots. The pages are split into
 * contiguous runs, one per thread; each thread owns one hasher and writes
 * straight into the output array, so nothing is allocated per page. When a
 * thread cannot be started its run is hashed by the caller. Each thread also
 * writes the bytes it hashed to the output file when asked (mp_page_io). */
#include "hash.h"
#include "sign.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#define MP_MAX_THREADS 64u
/* Below this many pages per thread, threads cost more than they save. */
#define MP_PAGES_PER_THREAD 64u
/* A thread gives back the memory of mapped file pages it has hashed every
 * this many bytes, so memory stays flat whatever the file size. */
#define MP_RELEASE_EVERY ((uint64_t)4 << 20)
/* ...and writes what it hashed to the sink every this many bytes, while the
 * bytes are still in its cache. */
#define MP_SINK_EVERY ((uint64_t)256 << 10)

typedef struct page_run {
    const uint8_t *data;
    uint64_t limit;
    uint32_t page_size;
    unsigned hash_type;
    uint64_t first, count; /* pages */
    uint8_t *out;
    const mp_page_io *io;
    bool ok;
} page_run;

unsigned mp_default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        return 1;
    return n > (long)MP_MAX_THREADS ? MP_MAX_THREADS : (unsigned)n;
}

static void hash_run(page_run *r)
{
    mp_hasher *h = mp_hasher_new(r->hash_type);
    r->ok = h != NULL;
    unsigned size = mp_hash_stored_size(r->hash_type);
    const mp_buf *drop = r->io ? r->io->drop : NULL;
    mp_page_sink *sink = r->io ? r->io->sink : NULL;
    uint64_t kept = r->first * r->page_size; /* start of the bytes not given back yet */
    uint64_t unwritten = kept; /* start of the bytes not yet given to the sink */
    uint64_t ready = kept; /* end of the bytes prefetched */
    uint64_t end = (r->first + r->count) * r->page_size < r->limit ? (r->first + r->count) * r->page_size : r->limit;
    for (uint64_t i = r->first; r->ok && i < r->first + r->count; i++) {
        uint64_t off = i * r->page_size;
        uint64_t len = r->limit - off < r->page_size ? r->limit - off : r->page_size;
        bool last = i + 1 == r->first + r->count;
        if (drop && off + len > ready) {
            uint64_t n = end - ready < MP_RELEASE_EVERY ? end - ready : MP_RELEASE_EVERY;
            mp_buf_prefetch(drop, r->io->drop_off + (size_t)ready, (size_t)n);
            ready += n;
        }
        r->ok = mp_hasher_digest(h, r->data + off, (size_t)len, r->out + i * size);
        bool release = drop && (off + len - kept >= MP_RELEASE_EVERY || last);
        if (sink && (off + len - unwritten >= MP_SINK_EVERY || release || last)) {
            mp_page_sink_write(sink, r->data + unwritten, (size_t)(off + len - unwritten), r->io->sink_off + unwritten);
            unwritten = off + len;
        }
        if (release) {
            mp_buf_release(drop, r->io->drop_off + (size_t)kept, (size_t)(off + len - kept));
            kept = off + len;
        }
    }
    mp_hasher_free(h);
}

static void *thread_main(void *arg)
{
    hash_run(arg);
    return NULL;
}

bool mp_hash_pages(const uint8_t *data, uint64_t limit, uint32_t page_size, unsigned hash_type, uint8_t *out,
                   unsigned threads, const mp_page_io *io)
{
    if (limit == 0)
        return true;
    uint64_t pages = page_size ? mp_code_slots(limit, page_size) : 1;
    if (page_size == 0)
        page_size = (uint32_t)-1; /* one page covering everything (limit < 4 GiB here) */
    if (threads == 0)
        threads = mp_default_threads();
    if (threads > MP_MAX_THREADS)
        threads = MP_MAX_THREADS;
    uint64_t useful = pages / MP_PAGES_PER_THREAD;
    if (useful < threads)
        threads = useful ? (unsigned)useful : 1;

    page_run runs[MP_MAX_THREADS];
    pthread_t tids[MP_MAX_THREADS];
    bool started[MP_MAX_THREADS];
    uint64_t per = pages / threads, extra = pages % threads, next = 0;
    for (unsigned t = 0; t < threads; t++) {
        runs[t] = (page_run){data, limit, page_size, hash_type, next, per + (t < extra), out, io, false};
        next += runs[t].count;
        /* Run 0 is done by this thread once the others are under way. */
        started[t] = t > 0 && pthread_create(&tids[t], NULL, thread_main, &runs[t]) == 0;
    }
    hash_run(&runs[0]);
    bool ok = runs[0].ok;
    for (unsigned t = 1; t < threads; t++) {
        if (started[t])
            pthread_join(tids[t], NULL);
        else
            hash_run(&runs[t]);
        ok = ok && runs[t].ok;
    }
    return ok;
}
