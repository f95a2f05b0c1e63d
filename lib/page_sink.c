/* The page sink (see page_sink.h): positioned writes, first error kept. */
#include "page_sink.h"

#include <errno.h>
#include <sys/types.h>
#include <unistd.h>

void mp_page_sink_write(mp_page_sink *sink, const uint8_t *p, size_t len, uint64_t at)
{
    while (len > 0 && atomic_load_explicit(&sink->error, memory_order_relaxed) == 0) {
        ssize_t n = pwrite(sink->fd, p, len, (off_t)at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int expected = 0;
            atomic_compare_exchange_strong(&sink->error, &expected, n < 0 ? errno : EIO);
            return;
        }
        p += n, len -= (size_t)n, at += (uint64_t)n;
    }
}
