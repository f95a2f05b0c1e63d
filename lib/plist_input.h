/* Plists: what may be embedded, and what an embedded one says. */
#ifndef MP_PLIST_INPUT_H
#define MP_PLIST_INPUT_H

#include "machoplist.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Parses len bytes (XML, binary, or JSON where libplist supports it) as a
 * dictionary. On success *entries is its key count and *identifier (malloc'd,
 * NULL when absent or not a string) its CFBundleIdentifier. */
mp_status mp_plist_summary(const uint8_t *bytes, size_t len, uint32_t *entries, char **identifier, mp_error *err);

/* The bytes to embed for a plist given by the user (see mp_inject_options). */
mp_status mp_plist_for_embedding(const uint8_t *in, size_t len, bool keep_binary, uint8_t **out, size_t *out_len,
                                 mp_error *err);

#endif
