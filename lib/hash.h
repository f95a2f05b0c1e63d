/* Digests used by code signatures: SHA-1, SHA-256 (and its 20-byte truncation),
 * SHA-384. OpenSSL libcrypto on Linux, CommonCrypto on macOS.
 * A hasher is created once and reused for every page: no per-page allocation. */
#ifndef MP_HASH_H
#define MP_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MP_HASH_MAX 48

typedef struct mp_hasher mp_hasher;

/* Digest length in bytes as stored in a CodeDirectory (hashSize), 0 if unknown. */
unsigned mp_hash_stored_size(unsigned hash_type);
/* "sha1", "sha256", "sha256_truncated", "sha384", "unknown". */
const char *mp_hash_name(unsigned hash_type);

/* NULL for an unknown type or when out of memory. */
mp_hasher *mp_hasher_new(unsigned hash_type);
void mp_hasher_free(mp_hasher *h);
/* Writes mp_hash_stored_size(type) bytes to out. */
bool mp_hasher_digest(mp_hasher *h, const void *data, size_t len, uint8_t *out);

/* One-shot convenience. */
bool mp_hash_once(unsigned hash_type, const void *data, size_t len, uint8_t *out);

#endif
