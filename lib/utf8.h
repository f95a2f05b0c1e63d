/* UTF-8 validation, for plist text that macOS will decode as UTF-8. */
#ifndef MP_UTF8_H
#define MP_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length of the valid UTF-8 sequence at p (n > 0 bytes available): 1 for
 * ASCII, 0 when the bytes there are not UTF-8. */
size_t mp_utf8_sequence_length(const uint8_t *p, size_t n);
/* Offset of the first byte of p[0, len) that does not start a valid UTF-8
 * sequence (no overlong forms, no surrogates, nothing past U+10FFFF), or len
 * when all of it is valid. */
size_t mp_utf8_invalid_at(const uint8_t *p, size_t len);

#endif
