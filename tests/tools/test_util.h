/* Helpers shared by the C test programs (each is one translation unit). */
#ifndef MP_TEST_UTIL_H
#define MP_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>

/* Counted by CHECK; a program prints and returns them at its end. */
static int fails __attribute__((unused)), checks __attribute__((unused));

/* One check: on failure, the file, line and a printf-style message on stderr. */
#define CHECK(cond, ...)                                                                                               \
    do {                                                                                                               \
        checks++;                                                                                                      \
        if (!(cond)) {                                                                                                 \
            fails++;                                                                                                   \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                                      \
            fprintf(stderr, __VA_ARGS__);                                                                              \
            fputc('\n', stderr);                                                                                       \
        }                                                                                                              \
    } while (0)

/* The whole file at path, malloc'd, its size in *len; NULL if unreadable. */
static inline unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0, got;
    unsigned char *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            unsigned char *bigger = realloc(buf, cap *= 2);
            if (!bigger)
                free(buf);
            buf = bigger;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

#endif
