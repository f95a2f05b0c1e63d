/* machoplist sign: ad-hoc signing, as `codesign -s - -f
 * --preserve-metadata=entitlements,flags,runtime` on macOS 26. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sign_args {
    mp_sign_options opt;
    bool force;
    const char *output;
    const char *entitlements_path;
} sign_args;

static int read_file(const char *path, uint8_t **out, size_t *len)
{
    FILE *f = cli_open_regular(path, "entitlements");
    if (!f)
        return MP_ERR_IO;
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        uint8_t *bigger = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    bool bad = !buf || ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        cli_error("%s: cannot read", path);
        return MP_ERR_IO;
    }
    *out = buf;
    *len = n;
    return 0;
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || !end || *end || end == s || v > max || s[0] == '-')
        return false;
    *out = v;
    return true;
}

static int sign_one(const char *path, const sign_args *a)
{
    mp_image *img = NULL;
    mp_error err;
    /* As inject does: another process editing the file goes before or after
     * this read-modify-write, never between. */
    mp_lock *lock = NULL;
    if (mp_lock_path(path, &lock, &err) != MP_OK)
        return cli_report(&err);
    cli_reading(path);
    if (mp_image_open(path, &img, &err) != MP_OK) {
        mp_lock_release(lock);
        return cli_report(&err);
    }
    mp_sign_result *res = calloc(1, sizeof *res);
    if (!res) {
        mp_image_free(img);
        mp_lock_release(lock);
        cli_error("%s: out of memory", path);
        return MP_ERR_NOMEM;
    }
    int status = 0;
    const char *dest = a->output ? a->output : path;
    /* Unchanged pages are copied while they are hashed; a failure to start
     * is reported by the write at the end. */
    mp_write *ahead = NULL;
    int pending = -1;
    if (mp_write_begin(dest, &ahead, NULL) != MP_OK)
        ahead = NULL;
    pending = cli_write_started(ahead);
    if (mp_image_sign_write(img, &a->opt, ahead, res, &err) != MP_OK) {
        status = cli_report(&err);
    } else if (res->dropped_identity && !a->force) {
        cli_error("%s: has a Developer ID signature%s%s%s; an ad-hoc signature drops that identity (pass --force to sign anyway)",
                  path, res->old_team_id[0] ? " (team " : "", res->old_team_id, res->old_team_id[0] ? ")" : "");
        status = MP_ERR_SIGNATURE;
    } else {
        if (res->dropped_identity)
            fprintf(stderr, "%s: warning: %s: replacing the Developer ID signature%s%s%s with an ad-hoc one\n",
                    cli_program, path, res->old_team_id[0] ? " of team " : "", res->old_team_id, "");
        for (size_t i = 0; i < res->slice_count; i++)
            if (res->slices[i].unreadable[0])
                fprintf(stderr, "%s: warning: %s: slice %zu (%s): the old signature could not be read (%s); replaced\n",
                        cli_program, path, i, res->slices[i].arch, res->slices[i].unreadable);
        mp_status st = ahead ? mp_write_commit(ahead, img, &err) : mp_image_write(img, dest, &err);
        cli_write_ended(pending);
        ahead = NULL;
        pending = -1;
        if (st != MP_OK) {
            status = cli_report(&err);
        } else {
            printf("%s: signed ad hoc, Identifier=%s", dest, res->slices[0].identifier);
            for (size_t i = 0; i < res->slice_count; i++)
                printf("%s%s", i ? " " : " (", res->slices[i].arch);
            printf(")\n");
        }
    }
    mp_write_abort(ahead);
    cli_write_ended(pending);
    mp_lock_release(lock);
    free(res);
    mp_image_free(img);
    return status;
}

int cmd_sign(int argc, char **argv)
{
    sign_args a;
    memset(&a, 0, sizeof a);
    mp_sign_options_init(&a.opt);
    int first = argc;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        bool has_value = i + 1 < argc;
        unsigned long v;
        if (strcmp(o, "--force") == 0 || strcmp(o, "-f") == 0) {
            a.force = true;
        } else if ((strcmp(o, "--identifier") == 0 || strcmp(o, "-i") == 0) && has_value) {
            a.opt.identifier = argv[++i];
        } else if (strcmp(o, "--entitlements") == 0 && has_value) {
            a.entitlements_path = argv[++i];
        } else if (strcmp(o, "--page-size") == 0 && has_value) {
            if (!parse_uint(argv[++i], 65536, &v)) {
                cli_error("sign: --page-size wants a number, got '%s'", argv[i]);
                return MP_ERR_USAGE;
            }
            a.opt.page_size = (uint32_t)v;
        } else if (strcmp(o, "--hash") == 0 && has_value) {
            const char *h = argv[++i];
            if (strcmp(h, "sha256") == 0)
                a.opt.hash = MP_HASH_SHA256;
            else if (strcmp(h, "sha1,sha256") == 0 || strcmp(h, "sha256,sha1") == 0)
                a.opt.hash = MP_HASH_SHA1_SHA256;
            else if (strcmp(h, "auto") == 0)
                a.opt.hash = MP_HASH_AUTO;
            else {
                cli_error("sign: --hash wants sha256 or sha1,sha256, got '%s'", h);
                return MP_ERR_USAGE;
            }
        } else if ((strcmp(o, "--threads") == 0 || strcmp(o, "-j") == 0) && has_value) {
            /* --threads as in inject; -j is kept for existing scripts (for
             * inject it means files at once). */
            if (!parse_uint(argv[++i], 1024, &v)) {
                cli_error("sign: %s wants a number, got '%s'", o, argv[i]);
                return MP_ERR_USAGE;
            }
            a.opt.threads = (unsigned)v;
        } else if (strcmp(o, "-o") == 0 && has_value) {
            a.output = argv[++i];
        } else if (strcmp(o, "--") == 0) {
            first = i + 1;
            break;
        } else if (o[0] == '-' && o[1]) {
            cli_error("sign: unknown option or missing value '%s'", o);
            return MP_ERR_USAGE;
        } else {
            first = i;
            break;
        }
    }
    if (first >= argc) {
        cli_error("sign: no file given (usage: machoplist sign [--identifier ID] [--entitlements FILE] "
                  "[--page-size N] [--hash sha256|sha1,sha256] [-j N] [--force] [-o OUT] FILE...)");
        return MP_ERR_USAGE;
    }
    if (a.output && argc - first != 1) {
        cli_error("sign: -o takes exactly one input file");
        return MP_ERR_USAGE;
    }
    uint8_t *ents = NULL;
    if (a.entitlements_path) {
        size_t len = 0;
        int st = read_file(a.entitlements_path, &ents, &len);
        if (st)
            return st;
        a.opt.entitlements = ents;
        a.opt.entitlements_len = len;
    }
    int status = 0;
    for (int i = first; i < argc; i++)
        status = cli_combine_status(status, sign_one(argv[i], &a));
    free(ents);
    return status;
}
