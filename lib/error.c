/* Error reporting: one message per failure, naming where it happened. */
#include "image.h"

#include <stdarg.h>
#include <stdio.h>

mp_status mp_fail(mp_error *err, mp_status status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        /* One line, whatever the file holds: names copied from a hostile file
         * (segment, section, identifier) may carry newlines or escapes. */
        mp_mask_controls(err->message);
        err->status = status;
    }
    return status;
}

void mp_mask_controls(char *text)
{
    for (char *c = text; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
}

void mp_copy_text(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
    mp_mask_controls(dst);
}

void mp_slice_where(const mp_image *img, const mp_slice *s, char *buf, size_t len)
{
    snprintf(buf, len, "%s: slice %zu (%s)", img->name, s->index, s->arch[0] ? s->arch : "?");
}

const char *mp_version(void)
{
    return MP_VERSION_STRING;
}

const char *mp_status_name(mp_status status)
{
    switch (status) {
    case MP_OK: return "ok";
    case MP_ERR_VERIFY: return "verify-failed";
    case MP_ERR_USAGE: return "usage";
    case MP_ERR_IO: return "io";
    case MP_ERR_NOT_MACHO: return "not-macho";
    case MP_ERR_MALFORMED: return "malformed";
    case MP_ERR_UNSUPPORTED: return "unsupported";
    case MP_ERR_NO_ROOM: return "no-room";
    case MP_ERR_PLIST: return "plist";
    case MP_ERR_SIGNATURE: return "signature";
    case MP_ERR_NOMEM: return "out-of-memory";
    }
    return "unknown";
}
