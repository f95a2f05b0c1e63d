/* Plist validation and conversion for embedding, through libplist.
 * XML is embedded byte for byte as given (what ld -sectcreate would do); other
 * formats are converted to XML unless the caller asks to keep a binary plist. */
#include "plist_input.h"
#include "image.h"

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

static bool looks_like_json(const uint8_t *p, size_t len)
{
    size_t i = 0;
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    return i < len && (p[i] == '{' || p[i] == '[');
}

static mp_status parse(const uint8_t *bytes, size_t len, plist_t *root, const char **format, mp_error *err)
{
    *root = NULL;
    if (len == 0)
        return mp_fail(err, MP_ERR_PLIST, "plist is empty");
    if (len > MP_PLIST_MAX_INPUT)
        return mp_fail(err, MP_ERR_PLIST, "plist is %zu bytes, more than the %u bytes accepted", len,
                       MP_PLIST_MAX_INPUT);
    if (plist_is_binary((const char *)bytes, (uint32_t)len)) {
        *format = "binary";
        plist_from_bin((const char *)bytes, (uint32_t)len, root);
    } else if (looks_like_xml(bytes, len)) {
        *format = "XML";
        plist_from_xml((const char *)bytes, (uint32_t)len, root);
    } else if (looks_like_json(bytes, len)) {
        *format = "JSON";
#ifdef MP_HAVE_PLIST_JSON
        plist_from_json((const char *)bytes, (uint32_t)len, root);
#else
        return mp_fail(err, MP_ERR_PLIST, "JSON plists need libplist 2.3 or later (this build has an older one)");
#endif
    } else {
        return mp_fail(err, MP_ERR_PLIST, "not a plist (neither XML, binary nor JSON)");
    }
    if (!*root)
        return mp_fail(err, MP_ERR_PLIST, "%s plist does not parse", *format);
    return MP_OK;
}

mp_status mp_plist_summary(const uint8_t *bytes, size_t len, uint32_t *entries, char **identifier, mp_error *err)
{
    *entries = 0;
    *identifier = NULL;
    plist_t root;
    const char *format;
    mp_status st = parse(bytes, len, &root, &format, err);
    if (st != MP_OK)
        return st;
    if (plist_get_node_type(root) != PLIST_DICT) {
        plist_free(root);
        return mp_fail(err, MP_ERR_PLIST, "%s plist is not a dictionary", format);
    }
    *entries = plist_dict_get_size(root);
    plist_t id = plist_dict_get_item(root, "CFBundleIdentifier");
    if (id && plist_get_node_type(id) == PLIST_STRING)
        plist_get_string_val(id, identifier);
    plist_free(root);
    return MP_OK;
}

mp_status mp_plist_for_embedding(const uint8_t *in, size_t len, bool keep_binary, uint8_t **out, size_t *out_len,
                                 mp_error *err)
{
    *out = NULL;
    *out_len = 0;
    plist_t root;
    const char *format;
    mp_status st = parse(in, len, &root, &format, err);
    if (st != MP_OK)
        return st;
    if (plist_get_node_type(root) != PLIST_DICT) {
        plist_free(root);
        return mp_fail(err, MP_ERR_PLIST, "%s plist is not a dictionary", format);
    }
    plist_t id = plist_dict_get_item(root, "CFBundleIdentifier");
    char *ident = NULL;
    if (id && plist_get_node_type(id) == PLIST_STRING)
        plist_get_string_val(id, &ident);
    bool ident_ok = ident && ident[0];
    free(ident);
    if (!ident_ok) {
        plist_free(root);
        return mp_fail(err, MP_ERR_PLIST, "plist has no CFBundleIdentifier string (macOS needs it to name the program)");
    }
    bool verbatim = strcmp(format, "XML") == 0 || (keep_binary && strcmp(format, "binary") == 0);
    if (verbatim) {
        plist_free(root);
        *out = malloc(len);
        if (!*out)
            return mp_fail(err, MP_ERR_NOMEM, "out of memory");
        memcpy(*out, in, len);
        *out_len = len;
        return MP_OK;
    }
    char *xml = NULL;
    uint32_t xml_len = 0;
    plist_to_xml(root, &xml, &xml_len);
    plist_free(root);
    if (!xml)
        return mp_fail(err, MP_ERR_PLIST, "cannot convert the %s plist to XML", format);
    *out = malloc(xml_len ? xml_len : 1);
    if (!*out) {
        plist_to_xml_free(xml);
        return mp_fail(err, MP_ERR_NOMEM, "out of memory");
    }
    memcpy(*out, xml, xml_len);
    *out_len = xml_len;
    plist_to_xml_free(xml);
    return MP_OK;
}
