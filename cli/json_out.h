/* A small streaming JSON writer for the CLI's --json output. */
#ifndef MP_CLI_JSON_OUT_H
#define MP_CLI_JSON_OUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

typedef struct json_out {
    FILE *f;
    int depth;
    bool need_comma[JSON_MAX_DEPTH];
    bool wrote; /* any value yet */
} json_out;

void json_init(json_out *j, FILE *f);
/* key is NULL inside arrays and at the top level. */
void json_begin_object(json_out *j, const char *key);
void json_end_object(json_out *j);
void json_begin_array(json_out *j, const char *key);
void json_end_array(json_out *j);
void json_string(json_out *j, const char *key, const char *value); /* NULL writes null */
void json_string_n(json_out *j, const char *key, const char *value, size_t len);
void json_uint(json_out *j, const char *key, uint64_t value);
void json_bool(json_out *j, const char *key, bool value);
void json_hex(json_out *j, const char *key, const uint8_t *bytes, size_t len);
/* Ends the document with a newline; nothing when nothing was written (every
 * file given failed to open: stdout stays empty, the errors are on stderr). */
void json_finish(json_out *j);

#endif
