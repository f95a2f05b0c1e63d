/* Plist validation and conversion for embedding, through libplist.
 * XML is embedded byte for byte as given (what ld -sectcreate would do); other
 * formats are converted to XML unless the caller asks to keep a binary plist. */
#include "plist_input.h"
#include "image.h"
#include "utf8.h"

#include <plist/plist.h>
#include <stdlib.h>
#include <string.h>

/* libplist keeps the whole tree in memory; bound what we feed it. __TEXT has
 * at most a few pages of room, so anything larger cannot be embedded anyway. */
#define MP_PLIST_MAX_INPUT (16u << 20)

static bool looks_like_xml(const uint8_t *p, size_t len)
{
    size_t i = 0;
    if (len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
        i = 3; /* UTF-8 byte order mark */
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    return i < len && p[i] == '<';
}

bool mp_plist_looks_like_json(const uint8_t *p, size_t len)
{
    size_t i = 0;
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    return i < len && (p[i] == '{' || p[i] == '[');
}

/* An XML declaration naming an encoding other than UTF-8 (<?xml ...
 * encoding="ISO-8859-1"?>): its bytes are that encoding's, not UTF-8. */
static bool declares_other_encoding(const uint8_t *p, size_t len)
{
    size_t i = len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf ? 3 : 0;
    if (len - i < 5 || memcmp(p + i, "<?xml", 5) != 0)
        return false;
    const uint8_t *end = memchr(p + i, '>', len - i);
    size_t decl = end ? (size_t)(end - p) : len;
    for (size_t k = i; k + 9 < decl; k++) {
        if (memcmp(p + k, "encoding=", 9) != 0)
            continue;
        size_t v = k + 9;
        if (v < decl && (p[v] == '"' || p[v] == '\''))
            v++;
        static const char utf8[] = "utf-8";
        for (size_t c = 0; c < 5; c++)
            if (v + c >= decl || (p[v + c] | 0x20) != (uint8_t)utf8[c])
                return true;
        return false;
    }
    return false;
}

static mp_status parse(const uint8_t *bytes, size_t len, plist_t *root, const char **format, mp_error *err)
{
    *root = NULL;
    if (len == 0)
        return mp_fail(err, MP_ERR_PLIST, "plist is empty");
    if (len > MP_PLIST_MAX_INPUT)
        return mp_fail(err, MP_ERR_PLIST, "plist is %zu bytes, more than the %u bytes accepted", len,
                       MP_PLIST_MAX_INPUT);
    bool binary = plist_is_binary((const char *)bytes, (uint32_t)len);
    *format = binary ? "binary" : looks_like_xml(bytes, len) ? "XML" : mp_plist_looks_like_json(bytes, len) ? "JSON" : NULL;
    if (!*format)
        return mp_fail(err, MP_ERR_PLIST, "not a plist (neither XML, binary nor JSON)");
    mp_status st = mp_plist_check_shape(bytes, len, err);
    if (st != MP_OK)
        return st;
    /* XML is embedded as given and macOS reads it as UTF-8 unless it says
     * otherwise; libplist would take the bytes as they are. */
    size_t bad = binary || declares_other_encoding(bytes, len) ? len : mp_utf8_invalid_at(bytes, len);
    if (bad < len)
        return mp_fail(err, MP_ERR_PLIST, "%s plist is not valid UTF-8 (byte %#x at offset %zu)", *format,
                       (unsigned)bytes[bad], bad);
    if (binary) {
        plist_from_bin((const char *)bytes, (uint32_t)len, root);
    } else if (strcmp(*format, "XML") == 0) {
        plist_from_xml((const char *)bytes, (uint32_t)len, root);
    } else {
#ifdef MP_HAVE_PLIST_JSON
        plist_from_json((const char *)bytes, (uint32_t)len, root);
#else
        return mp_fail(err, MP_ERR_PLIST, "JSON plists need libplist 2.3 or later (this build has an older one)");
#endif
    }
    if (!*root)
        return mp_fail(err, MP_ERR_PLIST, "%s plist does not parse", *format);
    return MP_OK;
}

/* Parses bytes and insists on a dictionary. */
static mp_status parse_dict(const uint8_t *bytes, size_t len, plist_t *root, const char **format, mp_error *err)
{
    mp_status st = parse(bytes, len, root, format, err);
    if (st != MP_OK)
        return st;
    if (plist_get_node_type(*root) != PLIST_DICT) {
        plist_free(*root);
        *root = NULL;
        return mp_fail(err, MP_ERR_PLIST, "%s plist is not a dictionary", *format);
    }
    return MP_OK;
}

char *mp_plist_dict_string(plist_t dict, const char *key)
{
    plist_t node = plist_dict_get_item(dict, key);
    char *value = NULL;
    if (node && plist_get_node_type(node) == PLIST_STRING)
        plist_get_string_val(node, &value);
    return value;
}

mp_status mp_plist_to_xml_bytes(plist_t root, uint8_t **out, size_t *out_len, mp_error *err)
{
    char *xml = NULL;
    uint32_t xml_len = 0;
    plist_to_xml(root, &xml, &xml_len);
    if (!xml)
        return mp_fail(err, MP_ERR_PLIST, "cannot write the plist as XML");
    *out = malloc(xml_len ? xml_len : 1);
    if (*out)
        memcpy(*out, xml, xml_len);
    plist_to_xml_free(xml);
    if (!*out)
        return mp_fail(err, MP_ERR_NOMEM, "out of memory");
    *out_len = xml_len;
    return MP_OK;
}

mp_status mp_plist_for_embedding(const uint8_t *in, size_t len, bool keep_binary, uint8_t **out, size_t *out_len,
                                 mp_error *err)
{
    *out = NULL;
    *out_len = 0;
    plist_t root;
    const char *format = "";
    mp_status st = parse_dict(in, len, &root, &format, err);
    if (st != MP_OK)
        return st;
    char *ident = mp_plist_dict_string(root, "CFBundleIdentifier");
    bool ident_ok = ident && ident[0];
    free(ident);
    if (!ident_ok) {
        plist_free(root);
        return mp_fail(err, MP_ERR_PLIST, "plist has no CFBundleIdentifier string (macOS needs it to name the program)");
    }
    if (strcmp(format, "XML") != 0 && !(keep_binary && strcmp(format, "binary") == 0)) {
        st = mp_plist_to_xml_bytes(root, out, out_len, err);
        plist_free(root);
        return st;
    }
    plist_free(root);
    *out = malloc(len);
    if (!*out)
        return mp_fail(err, MP_ERR_NOMEM, "out of memory");
    memcpy(*out, in, len);
    *out_len = len;
    return MP_OK;
}
