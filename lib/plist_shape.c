/* What a plist must look like before libplist sees it. libplist 2.2 walks
 * nesting recursively (a deep plist overflows the stack) and asserts on a NUL
 * inside a string (an abort): both would take the process down, so such
 * plists are refused here with a message instead. Nothing is parsed into a
 * tree; the bytes are scanned with an explicit stack. */
#include "plist_input.h"
#include "bytes.h"
#include "image.h"

#include <stdlib.h>
#include <string.h>

/* Apple's plists nest a handful of levels; 64 leaves room and keeps
 * libplist's recursion shallow. */
#define MP_PLIST_MAX_DEPTH 64u
/* Objects a binary plist walk may visit (shared objects count each time). */
#define MP_PLIST_MAX_VISITS 1000000u

static mp_status too_deep(mp_error *err)
{
    return mp_fail(err, MP_ERR_PLIST, "plist nests more than %u levels deep", MP_PLIST_MAX_DEPTH);
}

/* XML or JSON text: no NUL byte, and containers nested at most the limit.
 * Counting tags and brackets outside strings over-counts only in comments
 * and CDATA, which is the safe direction. */
static mp_status check_text(const uint8_t *p, size_t len, bool xml, mp_error *err)
{
    const void *nul = memchr(p, 0, len);
    if (nul)
        return mp_fail(err, MP_ERR_PLIST, "plist text has a NUL byte at offset %zu",
                       (size_t)((const uint8_t *)nul - p));
    unsigned depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        if (xml) {
            if (p[i] != '<')
                continue;
            bool closing = i + 1 < len && p[i + 1] == '/';
            size_t name = i + 1 + closing;
            size_t n = len - name >= 5 && memcmp(p + name, "array", 5) == 0 ? 5
                       : len - name >= 4 && memcmp(p + name, "dict", 4) == 0 ? 4
                                                                               : 0;
            if (!n)
                continue;
            size_t end = name + n;
            while (end < len && (p[end] == ' ' || p[end] == '\t' || p[end] == '\r' || p[end] == '\n'))
                end++;
            if (end < len && p[end] == '/')
                continue; /* <array/>: empty, no level */
            if (closing)
                depth -= depth > 0;
            else if (++depth > MP_PLIST_MAX_DEPTH)
                return too_deep(err);
        } else if (in_string) {
            if (p[i] == '\\')
                i++;
            else if (p[i] == '"')
                in_string = false;
        } else if (p[i] == '"') {
            in_string = true;
        } else if (p[i] == '[' || p[i] == '{') {
            if (++depth > MP_PLIST_MAX_DEPTH)
                return too_deep(err);
        } else if (p[i] == ']' || p[i] == '}') {
            depth -= depth > 0;
        }
    }
    return MP_OK;
}

typedef struct bplist {
    const uint8_t *p;
    size_t len;
    unsigned off_size, ref_size;
    uint64_t count, table;
} bplist;

static bool read_be(const bplist *b, uint64_t at, unsigned size, uint64_t *out)
{
    if (size == 0 || size > 8 || !mp_range_ok(b->len, at, size))
        return false;
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v = v << 8 | b->p[at + i];
    *out = v;
    return true;
}

/* Offset of object `ref`, its marker byte, and where its content starts with
 * the element count (the low nibble, or an int object after the marker). */
static bool object(const bplist *b, uint64_t ref, uint8_t *marker, uint64_t *count, uint64_t *content)
{
    uint64_t at;
    if (ref >= b->count || !read_be(b, b->table + ref * b->off_size, b->off_size, &at) || at >= b->len)
        return false;
    *marker = b->p[at];
    *count = *marker & 0x0f;
    *content = at + 1;
    if (*count == 0x0f) {
        if (*content >= b->len || (b->p[*content] & 0xf0) != 0x10)
            return false;
        unsigned size = 1u << (b->p[*content] & 0x0f);
        if (!read_be(b, *content + 1, size, count))
            return false;
        *content += 1 + size;
    }
    return true;
}

static mp_status bad_binary(mp_error *err, const char *what)
{
    return mp_fail(err, MP_ERR_PLIST, "binary plist does not parse (%s)", what);
}

/* Binary plist: every string free of NUL, containers nested at most the
 * limit, at most MP_PLIST_MAX_VISITS objects reached (shared subtrees count
 * every time, as libplist copies them). */
static mp_status check_binary(const uint8_t *p, size_t len, mp_error *err)
{
    if (len < 8 + 32)
        return bad_binary(err, "too short for a trailer");
    const uint8_t *t = p + len - 32;
    bplist b = {p, len, t[6], t[7], mp_be64(t + 8), mp_be64(t + 24)};
    uint64_t top = mp_be64(t + 16);
    if (b.off_size == 0 || b.off_size > 8 || b.ref_size == 0 || b.ref_size > 8 || b.count == 0 ||
        b.count > len || top >= b.count || b.table >= len || b.count > (len - b.table) / b.off_size)
        return bad_binary(err, "trailer out of range");
    typedef struct item {
        uint64_t ref;
        unsigned depth;
    } item;
    size_t cap = 256, n = 0;
    item *stack = malloc(cap * sizeof *stack);
    if (!stack)
        return mp_fail(err, MP_ERR_NOMEM, "out of memory");
    stack[n++] = (item){top, 1};
    mp_status st = MP_OK;
    uint64_t visits = 0;
    while (n > 0 && st == MP_OK) {
        item it = stack[--n];
        uint8_t marker;
        uint64_t count, content;
        if (++visits > MP_PLIST_MAX_VISITS) {
            st = bad_binary(err, "more objects than accepted");
            break;
        }
        if (!object(&b, it.ref, &marker, &count, &content)) {
            st = bad_binary(err, "object out of range");
            break;
        }
        uint8_t type = marker >> 4;
        if (type == 0x5 || type == 0x6) { /* ASCII, UTF-16 string */
            uint64_t unit = type == 0x6 ? 2 : 1;
            if (count > len / unit || !mp_range_ok(len, content, count * unit)) {
                st = bad_binary(err, "string out of range");
            } else {
                for (uint64_t i = 0; i < count; i++)
                    if (p[content + i * unit] == 0 && (unit == 1 || p[content + i * unit + 1] == 0)) {
                        st = mp_fail(err, MP_ERR_PLIST, "binary plist: a string holds a NUL character");
                        break;
                    }
            }
            continue;
        }
        if (type != 0xa && type != 0xc && type != 0xd)
            continue;
        if (it.depth >= MP_PLIST_MAX_DEPTH) {
            st = too_deep(err);
            break;
        }
        uint64_t refs = type == 0xd ? count * 2 : count;
        if (count > len || !mp_range_ok(len, content, refs * b.ref_size)) {
            st = bad_binary(err, "container out of range");
            break;
        }
        for (uint64_t i = 0; i < refs && st == MP_OK; i++) {
            uint64_t ref = 0;
            (void)read_be(&b, content + i * b.ref_size, b.ref_size, &ref); /* in range: checked above */
            if (n == cap) {
                item *bigger = cap < SIZE_MAX / 2 / sizeof *stack ? realloc(stack, 2 * cap * sizeof *stack) : NULL;
                if (!bigger) {
                    st = mp_fail(err, MP_ERR_NOMEM, "out of memory");
                    break;
                }
                stack = bigger;
                cap *= 2;
            }
            stack[n++] = (item){ref, it.depth + 1};
        }
    }
    free(stack);
    return st;
}

mp_status mp_plist_check_shape(const uint8_t *bytes, size_t len, mp_error *err)
{
    if (len >= 8 && memcmp(bytes, "bplist00", 8) == 0)
        return check_binary(bytes, len, err);
    return check_text(bytes, len, !mp_plist_looks_like_json(bytes, len), err);
}

mp_status mp_plist_check(const void *bytes, size_t len, mp_error *err)
{
    if (!bytes && len)
        return mp_fail(err, MP_ERR_USAGE, "mp_plist_check: NULL argument");
    return mp_plist_check_shape(bytes, len, err);
}

mp_status mp_plist_parse(const uint8_t *bytes, size_t len, plist_t *root, mp_error *err)
{
    *root = NULL;
    mp_status st = mp_plist_check_shape(bytes, len, err);
    if (st != MP_OK)
        return st;
    plist_from_memory((const char *)bytes, (uint32_t)len, root);
    if (!*root)
        return mp_fail(err, MP_ERR_PLIST, "plist does not parse");
    return MP_OK;
}
