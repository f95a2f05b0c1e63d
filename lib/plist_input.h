/* Plists: what may be embedded, and what an embedded one says. */
#ifndef MP_PLIST_INPUT_H
#define MP_PLIST_INPUT_H

#include "machoplist.h"

#include <plist/plist.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when the first non-blank byte opens a JSON object or array. */
bool mp_plist_looks_like_json(const uint8_t *p, size_t len);

/* Refuses (MP_ERR_PLIST) what would crash libplist: nesting deeper than 64
 * levels, a NUL inside the text or a string (plist_shape.c). */
mp_status mp_plist_check_shape(const uint8_t *bytes, size_t len, mp_error *err);
/* mp_plist_check_shape, then libplist's parser (any format). */
mp_status mp_plist_parse(const uint8_t *bytes, size_t len, plist_t *root, mp_error *err);

/* A string value of a dictionary (malloc'd), or NULL when absent or not a string. */
char *mp_plist_dict_string(plist_t dict, const char *key);
/* The plist as XML bytes (malloc'd). */
mp_status mp_plist_to_xml_bytes(plist_t root, uint8_t **out, size_t *out_len, mp_error *err);

/* The bytes to embed for a plist given by the user (see mp_inject_options). */
mp_status mp_plist_for_embedding(const uint8_t *in, size_t len, bool keep_binary, uint8_t **out, size_t *out_len,
                                 mp_error *err);

#endif
