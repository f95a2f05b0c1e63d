/* UTF-8 validation (see utf8.h). */
#include "utf8.h"

size_t mp_utf8_sequence_length(const uint8_t *p, size_t n)
{
    if (p[0] < 0x80)
        return 1;
    size_t len = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : 2;
    if (p[0] < 0xc2 || p[0] > 0xf4 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f) || (p[0] == 0xf0 && p[1] < 0x90) ||
        (p[0] == 0xf4 && p[1] > 0x8f))
        return 0;
    return len;
}

size_t mp_utf8_invalid_at(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len;) {
        size_t n = mp_utf8_sequence_length(p + i, len - i);
        if (n == 0)
            return i;
        i += n;
    }
    return len;
}
