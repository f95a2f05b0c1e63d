#include "json_out.h"
#include "utf8.h" /* the library's validator (internal header, static link) */

#include <string.h>

void json_init(json_out *j, FILE *f)
{
    memset(j, 0, sizeof *j);
    j->f = f;
}

static void indent(json_out *j)
{
    fputc('\n', j->f);
    for (int i = 0; i < j->depth; i++)
        fputs("  ", j->f);
}

/* A JSON string; bytes that are not UTF-8 (names in a hostile file) become
 * U+FFFD so the document stays valid JSON. */
static void write_escaped(FILE *f, const char *s, size_t len)
{
    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            size_t n = mp_utf8_sequence_length((const uint8_t *)s + i, len - i);
            if (n == 0) {
                fputs("\\ufffd", f);
                continue;
            }
            fwrite(s + i, 1, n, f);
            i += n - 1;
        } else if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* Separator, indentation and key before a value. */
static void start_value(json_out *j, const char *key)
{
    j->wrote = true;
    if (j->depth > 0) {
        if (j->need_comma[j->depth])
            fputc(',', j->f);
        indent(j);
    }
    if (j->depth < JSON_MAX_DEPTH)
        j->need_comma[j->depth] = true;
    if (key) {
        write_escaped(j->f, key, strlen(key));
        fputs(": ", j->f);
    }
}

static void open_container(json_out *j, const char *key, char c)
{
    start_value(j, key);
    fputc(c, j->f);
    if (j->depth + 1 < JSON_MAX_DEPTH) {
        j->depth++;
        j->need_comma[j->depth] = false;
    }
}

static void close_container(json_out *j, char c)
{
    bool had_items = j->need_comma[j->depth];
    if (j->depth > 0)
        j->depth--;
    if (had_items)
        indent(j);
    fputc(c, j->f);
}

void json_begin_object(json_out *j, const char *key) { open_container(j, key, '{'); }
void json_end_object(json_out *j) { close_container(j, '}'); }
void json_begin_array(json_out *j, const char *key) { open_container(j, key, '['); }
void json_end_array(json_out *j) { close_container(j, ']'); }

void json_string(json_out *j, const char *key, const char *value)
{
    if (!value) {
        start_value(j, key);
        fputs("null", j->f);
        return;
    }
    json_string_n(j, key, value, strlen(value));
}

void json_string_n(json_out *j, const char *key, const char *value, size_t len)
{
    start_value(j, key);
    write_escaped(j->f, value, len);
}

void json_uint(json_out *j, const char *key, uint64_t value)
{
    start_value(j, key);
    fprintf(j->f, "%llu", (unsigned long long)value);
}

void json_bool(json_out *j, const char *key, bool value)
{
    start_value(j, key);
    fputs(value ? "true" : "false", j->f);
}

void json_hex(json_out *j, const char *key, const uint8_t *bytes, size_t len)
{
    start_value(j, key);
    fputc('"', j->f);
    for (size_t i = 0; i < len; i++)
        fprintf(j->f, "%02x", bytes[i]);
    fputc('"', j->f);
}

void json_finish(json_out *j)
{
    if (j->wrote)
        fputc('\n', j->f);
}
