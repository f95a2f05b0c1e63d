/* Digest back ends. */
#include "hash.h"
#include "macho_format.h"

#include <stdlib.h>
#include <string.h>

#ifdef __APPLE__
#include <CommonCrypto/CommonDigest.h>
#else
#include <openssl/evp.h>
#endif

struct mp_hasher {
    unsigned type;
#ifndef __APPLE__
    EVP_MD_CTX *ctx;
    const EVP_MD *md;
#endif
};

unsigned mp_hash_stored_size(unsigned hash_type)
{
    switch (hash_type) {
    case CS_HASHTYPE_SHA1: return 20;
    case CS_HASHTYPE_SHA256: return 32;
    case CS_HASHTYPE_SHA256_TRUNCATED: return 20;
    case CS_HASHTYPE_SHA384: return 48;
    }
    return 0;
}

const char *mp_hash_name(unsigned hash_type)
{
    switch (hash_type) {
    case CS_HASHTYPE_SHA1: return "sha1";
    case CS_HASHTYPE_SHA256: return "sha256";
    case CS_HASHTYPE_SHA256_TRUNCATED: return "sha256_truncated";
    case CS_HASHTYPE_SHA384: return "sha384";
    }
    return "unknown";
}

mp_hasher *mp_hasher_new(unsigned hash_type)
{
    if (!mp_hash_stored_size(hash_type))
        return NULL;
    mp_hasher *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->type = hash_type;
#ifndef __APPLE__
    h->md = hash_type == CS_HASHTYPE_SHA1 ? EVP_sha1() : hash_type == CS_HASHTYPE_SHA384 ? EVP_sha384() : EVP_sha256();
    h->ctx = EVP_MD_CTX_new();
    if (!h->ctx) {
        free(h);
        return NULL;
    }
#endif
    return h;
}

void mp_hasher_free(mp_hasher *h)
{
    if (!h)
        return;
#ifndef __APPLE__
    EVP_MD_CTX_free(h->ctx);
#endif
    free(h);
}

bool mp_hasher_digest(mp_hasher *h, const void *data, size_t len, uint8_t *out)
{
    uint8_t full[MP_HASH_MAX];
#ifdef __APPLE__
    /* CommonCrypto takes CC_LONG lengths; pages and blobs are far below 4 GiB,
     * but feed in chunks anyway so any length is correct. */
    const uint8_t *p = data;
    if (h->type == CS_HASHTYPE_SHA1) {
        CC_SHA1_CTX c;
        CC_SHA1_Init(&c);
        for (; len > 0x40000000; p += 0x40000000, len -= 0x40000000)
            CC_SHA1_Update(&c, p, 0x40000000);
        CC_SHA1_Update(&c, p, (CC_LONG)len);
        CC_SHA1_Final(full, &c);
    } else if (h->type == CS_HASHTYPE_SHA384) {
        CC_SHA512_CTX c;
        CC_SHA384_Init(&c);
        for (; len > 0x40000000; p += 0x40000000, len -= 0x40000000)
            CC_SHA384_Update(&c, p, 0x40000000);
        CC_SHA384_Update(&c, p, (CC_LONG)len);
        CC_SHA384_Final(full, &c);
    } else {
        CC_SHA256_CTX c;
        CC_SHA256_Init(&c);
        for (; len > 0x40000000; p += 0x40000000, len -= 0x40000000)
            CC_SHA256_Update(&c, p, 0x40000000);
        CC_SHA256_Update(&c, p, (CC_LONG)len);
        CC_SHA256_Final(full, &c);
    }
#else
    unsigned int n = 0;
    if (EVP_DigestInit_ex(h->ctx, h->md, NULL) != 1 || EVP_DigestUpdate(h->ctx, data, len) != 1 ||
        EVP_DigestFinal_ex(h->ctx, full, &n) != 1)
        return false;
#endif
    memcpy(out, full, mp_hash_stored_size(h->type));
    return true;
}

bool mp_hash_once(unsigned hash_type, const void *data, size_t len, uint8_t *out)
{
    mp_hasher *h = mp_hasher_new(hash_type);
    if (!h)
        return false;
    bool ok = mp_hasher_digest(h, data, len, out);
    mp_hasher_free(h);
    return ok;
}
