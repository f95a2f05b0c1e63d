/* Entitlements: the exec-segment flags they imply, and their DER form.
 *
 * Flags (Security signer.cpp, Signer::cookEntitlements; values from
 * CSCommonPriv.h): a key whose value is boolean true sets
 *   get-task-allow, run-unsigned-code             0x10  (AllowUnsigned)
 *   com.apple.private.cs.debugger                 0x20  (Debugger)
 *   dynamic-codesigning                           0x40  (Jit)
 *   com.apple.private.skip-library-validation     0x80  (SkipLibraryVal)
 *   com.apple.private.amfi.can-load-cdhash        0x100 (CanLoadCdHash)
 *   com.apple.private.amfi.can-execute-cdhash     0x200 (CanExecCdHash)
 *
 * DER (what CESerializeCFDictionary produces, slot 7): [APPLICATION 16] {
 * INTEGER 1, dict }, a dict being [CONTEXT 16] { SEQUENCE { UTF8String key,
 * value } ... } with keys in byte order; values are BOOLEAN, INTEGER,
 * UTF8String, OCTET STRING (data), SEQUENCE (array) or a dict. Reals and dates
 * cannot be serialized (codesign fails on them too). */
#include "plist_input.h"
#include "bytes.h"
#include "macho_format.h"
#include "sign.h"

#include <plist/plist.h>
#include <stdlib.h>
#include <string.h>

static plist_t parse_dict(const uint8_t *xml, size_t len)
{
    if (!xml || len == 0 || len > UINT32_MAX)
        return NULL;
    plist_t root = NULL;
    (void)mp_plist_parse(xml, len, &root, NULL);
    if (root && plist_get_node_type(root) != PLIST_DICT) {
        plist_free(root);
        root = NULL;
    }
    return root;
}

static bool is_true(plist_t dict, const char *key)
{
    plist_t v = plist_dict_get_item(dict, key);
    uint8_t b = 0;
    if (!v || plist_get_node_type(v) != PLIST_BOOLEAN)
        return false;
    plist_get_bool_val(v, &b);
    return b != 0;
}

uint64_t mp_entitlement_exec_flags(const uint8_t *xml, size_t len)
{
    static const struct {
        const char *key;
        uint64_t flag;
    } table[] = {
        {"get-task-allow", 0x10},
        {"run-unsigned-code", 0x10},
        {"com.apple.private.cs.debugger", 0x20},
        {"dynamic-codesigning", 0x40},
        {"com.apple.private.skip-library-validation", 0x80},
        {"com.apple.private.amfi.can-load-cdhash", 0x100},
        {"com.apple.private.amfi.can-execute-cdhash", 0x200},
    };
    plist_t root = parse_dict(xml, len);
    if (!root)
        return 0;
    uint64_t flags = 0;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (is_true(root, table[i].key))
            flags |= table[i].flag;
    plist_free(root);
    return flags;
}

/* A growable byte buffer; DER is built inside out, each value into its own
 * buffer, then wrapped with tag and length. */
typedef struct der_buf {
    uint8_t *p;
    size_t len, cap;
    bool failed;
} der_buf;

static void put(der_buf *b, const void *data, size_t len)
{
    if (b->failed)
        return;
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + len)
            cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    if (len)
        memcpy(b->p + b->len, data, len);
    b->len += len;
}

/* Identifier octets (high-tag-number form for tags >= 31), definite length, contents. */
static void put_tlv(der_buf *b, uint8_t class_bits, bool constructed, unsigned tag, const uint8_t *data, size_t len)
{
    uint8_t head[16];
    size_t n = 0;
    uint8_t first = (uint8_t)(class_bits | (constructed ? 0x20 : 0));
    if (tag < 31) {
        head[n++] = (uint8_t)(first | tag);
    } else {
        head[n++] = (uint8_t)(first | 0x1f);
        head[n++] = (uint8_t)tag; /* tags used here are < 128 */
    }
    if (len < 0x80) {
        head[n++] = (uint8_t)len;
    } else {
        uint8_t bytes = 0;
        for (size_t v = len; v; v >>= 8)
            bytes++;
        head[n++] = (uint8_t)(0x80 | bytes);
        for (int i = bytes - 1; i >= 0; i--)
            head[n++] = (uint8_t)(len >> (8 * i));
    }
    put(b, head, n);
    put(b, data, len);
}

#define UNIVERSAL 0x00
#define APPLICATION 0x40
#define CONTEXT 0x80

static bool encode_value(der_buf *out, plist_t v);

typedef struct key_value {
    char *key;
    plist_t value;
} key_value;

static int compare_keys(const void *a, const void *b)
{
    const char *x = ((const key_value *)a)->key, *y = ((const key_value *)b)->key;
    return strcmp(x, y); /* byte order: UTF-8 strings without NULs */
}

static bool encode_dict(der_buf *out, plist_t dict)
{
    uint32_t n = plist_dict_get_size(dict);
    key_value *items = calloc(n ? n : 1, sizeof *items);
    if (!items)
        return false;
    plist_dict_iter it = NULL;
    plist_dict_new_iter(dict, &it);
    uint32_t got = 0;
    bool ok = it != NULL;
    while (ok && got < n) {
        char *key = NULL;
        plist_t val = NULL;
        plist_dict_next_item(dict, it, &key, &val);
        if (!key || !val) {
            free(key);
            break;
        }
        items[got].key = key;
        items[got].value = val;
        got++;
    }
    free(it);
    qsort(items, got, sizeof *items, compare_keys);
    der_buf body = {0};
    for (uint32_t i = 0; ok && i < got; i++) {
        der_buf pair = {0};
        put_tlv(&pair, UNIVERSAL, false, 12, (const uint8_t *)items[i].key, strlen(items[i].key));
        ok = encode_value(&pair, items[i].value) && !pair.failed;
        if (ok)
            put_tlv(&body, UNIVERSAL, true, 16, pair.p, pair.len);
        free(pair.p);
    }
    for (uint32_t i = 0; i < got; i++)
        free(items[i].key);
    free(items);
    ok = ok && got == n && !body.failed;
    if (ok)
        put_tlv(out, CONTEXT, true, 16, body.p, body.len);
    free(body.p);
    return ok;
}

static bool encode_value(der_buf *out, plist_t v)
{
    switch (plist_get_node_type(v)) {
    case PLIST_BOOLEAN: {
        uint8_t b = 0;
        plist_get_bool_val(v, &b);
        uint8_t byte = b ? 0xff : 0x00;
        put_tlv(out, UNIVERSAL, false, 1, &byte, 1);
        return true;
    }
    case PLIST_UINT: {
        uint64_t u = 0;
        plist_get_uint_val(v, &u);
        /* libplist keeps negative integers as their two's complement. */
        uint8_t bytes[9];
        size_t n = 8;
        for (int i = 0; i < 8; i++)
            bytes[1 + i] = (uint8_t)(u >> (56 - 8 * i));
        bytes[0] = 0;
        size_t start = 1;
        /* minimal two's complement as int64 */
        while (start < 8 && ((bytes[start] == 0x00 && !(bytes[start + 1] & 0x80)) ||
                             (bytes[start] == 0xff && (bytes[start + 1] & 0x80))))
            start++;
        n = 9 - start;
        put_tlv(out, UNIVERSAL, false, 2, bytes + start, n);
        return true;
    }
    case PLIST_STRING: {
        char *s = NULL;
        plist_get_string_val(v, &s);
        if (!s)
            return false;
        put_tlv(out, UNIVERSAL, false, 12, (const uint8_t *)s, strlen(s));
        free(s);
        return true;
    }
    case PLIST_DATA: {
        char *d = NULL;
        uint64_t len = 0;
        plist_get_data_val(v, &d, &len);
        put_tlv(out, UNIVERSAL, false, 4, (const uint8_t *)d, (size_t)len);
        free(d);
        return true;
    }
    case PLIST_ARRAY: {
        der_buf body = {0};
        bool ok = true;
        for (uint32_t i = 0; ok && i < plist_array_get_size(v); i++)
            ok = encode_value(&body, plist_array_get_item(v, i));
        ok = ok && !body.failed;
        if (ok)
            put_tlv(out, UNIVERSAL, true, 16, body.p, body.len);
        free(body.p);
        return ok;
    }
    case PLIST_DICT:
        return encode_dict(out, v);
    default:
        return false;
    }
}

mp_status mp_entitlements_der_blob(const uint8_t *xml, size_t len, uint8_t **blob, uint32_t *blob_len,
                                   mp_error *err)
{
    *blob = NULL;
    *blob_len = 0;
    plist_t root = parse_dict(xml, len);
    if (!root)
        return mp_fail(err, MP_ERR_PLIST, "entitlements are not a plist dictionary");
    der_buf inner = {0}, outer = {0};
    static const uint8_t version[] = {0x02, 0x01, 0x01};
    put(&inner, version, sizeof version);
    bool ok = encode_dict(&inner, root);
    plist_free(root);
    ok = ok && !inner.failed;
    if (ok) {
        uint8_t header[8] = {0};
        put(&outer, header, sizeof header);
        put_tlv(&outer, APPLICATION, true, 16, inner.p, inner.len);
    }
    free(inner.p);
    if (!ok || outer.failed || outer.len > UINT32_MAX) {
        free(outer.p);
        return mp_fail(err, ok ? MP_ERR_NOMEM : MP_ERR_PLIST,
                       ok ? "out of memory" : "entitlements hold a value DER entitlements cannot express (real or date)");
    }
    mp_put_be32(outer.p, CSMAGIC_EMBEDDED_DER_ENTITLEMENTS);
    mp_put_be32(outer.p + 4, (uint32_t)outer.len);
    *blob = outer.p;
    *blob_len = (uint32_t)outer.len;
    return MP_OK;
}
