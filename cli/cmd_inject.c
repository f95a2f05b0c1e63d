/* machoplist inject / remove: add, replace or take out __TEXT,__info_plist,
 * then re-sign ad hoc. All work is in the library; this file parses options,
 * reads the plist, and prints what happened. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_SETS 64

typedef struct inject_options {
    const char *plist_path;
    const char *output;
    bool dry_run, backup, quiet, force, remove;
    mp_inject_options inject;
    mp_default_plist_options defaults;
    const char *sets[MAX_SETS];
    mp_sign_options sign;
} inject_options;

static uint8_t *read_stream(FILE *f, size_t *len)
{
    size_t cap = 1 << 14, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
        if (n == cap) {
            if (cap >= (64u << 20)) { /* no plist this large fits in __TEXT */
                free(buf);
                return NULL;
            }
            uint8_t *bigger = realloc(buf, cap * 2);
            if (!bigger)
                free(buf);
            buf = bigger;
            cap *= 2;
        }
    }
    *len = n;
    return buf;
}

static int read_plist_file(const char *path, uint8_t **out, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        cli_error("%s: cannot open plist: %s", path, strerror(errno));
        return MP_ERR_IO;
    }
    struct stat st;
    if (f != stdin && fstat(fileno(f), &st) == 0 && !S_ISREG(st.st_mode)) {
        fclose(f);
        cli_error("%s: plist is not a regular file", path);
        return MP_ERR_IO;
    }
    *out = read_stream(f, len);
    bool failed = ferror(f);
    if (f != stdin)
        fclose(f);
    if (!*out || failed) {
        free(*out);
        *out = NULL;
        cli_error("%s: cannot read plist", path);
        return MP_ERR_IO;
    }
    return 0;
}

/* What to tell the user after a successful change, when it applies. */
static void print_next_steps(const char *path)
{
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    if (strcmp(base, "tmux") == 0)
        printf("  next: a running tmux server still runs the old binary; end it with 'tmux kill-server' and start tmux again\n");
    else if (strcmp(base, "zellij") == 0 || strcmp(base, "screen") == 0)
        printf("  next: sessions started before this keep the old binary; start a new %s session\n", base);
    printf("  next: macOS asks once for local network access when the program first connects; check with 'machoplist verify %s'\n",
           path);
}

static int write_backup(const char *path, const uint8_t *bytes, size_t size, bool quiet)
{
    char backup[4096];
    if (snprintf(backup, sizeof backup, "%s.bak", path) >= (int)sizeof backup) {
        cli_error("%s: path too long for a backup", path);
        return MP_ERR_IO;
    }
    if (access(backup, F_OK) == 0) {
        if (!quiet)
            printf("  backup %s exists already; kept as it is\n", backup);
        return 0;
    }
    mp_image *copy = NULL;
    mp_error err;
    if (mp_image_open_memory(bytes, size, path, &copy, &err) != MP_OK)
        return cli_report(&err);
    mp_status st = mp_image_write(copy, backup, &err);
    mp_image_free(copy);
    if (st != MP_OK)
        return cli_report(&err);
    if (!quiet)
        printf("  original kept as %s\n", backup);
    return 0;
}

static int inject_one(const char *path, const inject_options *opt, const uint8_t *plist, size_t plist_len)
{
    mp_error err;
    mp_image *img = NULL;
    if (mp_image_open(path, &img, &err) != MP_OK)
        return cli_report(&err);
    size_t before_size;
    const uint8_t *before_view = mp_image_bytes(img, &before_size);
    uint8_t *before = malloc(before_size ? before_size : 1);
    if (!before) {
        mp_image_free(img);
        cli_error("%s: out of memory", path);
        return MP_ERR_NOMEM;
    }
    memcpy(before, before_view, before_size);

    uint8_t *generated = NULL;
    size_t generated_len = 0;
    char identifier[256] = "";
    mp_plan *plan = NULL;
    mp_status st = MP_OK;
    if (opt->remove) {
        st = mp_plan_remove(img, &plan, &err);
    } else {
        if (!plist) {
            st = mp_default_plist(img, path, &opt->defaults, &generated, &generated_len, identifier,
                                  sizeof identifier, &err);
            plist = generated;
            plist_len = generated_len;
        }
        if (st == MP_OK)
            st = mp_plan_inject(img, plist, plist_len, &opt->inject, &plan, &err);
    }
    int rc = 0;
    if (st != MP_OK) {
        rc = cli_report(&err);
        goto out;
    }
    if (opt->dry_run) {
        char *text = mp_plan_describe(plan);
        printf("%s: dry run, nothing written\n%s", path, text ? text : "");
        free(text);
        goto out;
    }
    mp_sign_result result;
    if ((st = mp_image_apply(img, plan, &err)) != MP_OK ||
        (st = mp_image_sign(img, &opt->sign, &result, &err)) != MP_OK) {
        rc = cli_report(&err);
        goto out;
    }
    if (result.dropped_identity && !opt->force) {
        cli_error("%s: signed by team %s; an ad hoc signature replaces that identity (Developer ID, notarization). "
                  "Use --force to do it anyway",
                  path, result.old_team_id);
        rc = MP_ERR_SIGNATURE;
        goto out;
    }
    if (result.dropped_identity)
        fprintf(stderr, "%s: warning: %s: team %s signature replaced by an ad hoc one\n", cli_program, path,
                result.old_team_id);
    size_t after_size;
    const uint8_t *after = mp_image_bytes(img, &after_size);
    if (!opt->output && after_size == before_size && memcmp(after, before, after_size) == 0) {
        if (!opt->quiet)
            printf("%s: already up to date; nothing changed\n", path);
        goto out;
    }
    if (opt->backup && !opt->output && (rc = write_backup(path, before, before_size, opt->quiet)) != 0)
        goto out;
    const char *target = opt->output ? opt->output : path;
    if ((st = mp_image_write(img, target, &err)) != MP_OK) {
        rc = cli_report(&err);
        goto out;
    }
    if (!opt->quiet) {
        size_t n = mp_image_slice_count(img);
        if (opt->remove)
            printf("%s: removed __TEXT,__info_plist from %zu slice%s; signed ad hoc\n", target, n, n == 1 ? "" : "s");
        else
            printf("%s: embedded Info.plist (%zu bytes, identifier %s) in %zu slice%s; signed ad hoc\n", target,
                   plist_len, result.slices[0].identifier, n, n == 1 ? "" : "s");
        if (!opt->remove)
            print_next_steps(target);
    }
out:
    free(before);
    free(generated);
    mp_plan_free(plan);
    mp_image_free(img);
    return rc;
}

static int parse_uint(const char *s, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 0);
    if (errno || *end || end == s || v > 0xffffffffu)
        return -1;
    *out = (unsigned)v;
    return 0;
}

static int usage_error(const char *cmd, const char *what)
{
    cli_error("%s: %s (see 'machoplist help')", cmd, what);
    return MP_ERR_USAGE;
}

static int run(int argc, char **argv, bool remove)
{
    const char *cmd = remove ? "remove" : "inject";
    inject_options opt;
    memset(&opt, 0, sizeof opt);
    opt.remove = remove;
    mp_inject_options_init(&opt.inject);
    mp_sign_options_init(&opt.sign);
    opt.defaults.set = opt.sets;
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else if (a[0] != '-' || strcmp(a, "-") == 0) {
            break;
        } else if (strcmp(a, "--dry-run") == 0 || strcmp(a, "-n") == 0) {
            opt.dry_run = true;
        } else if (strcmp(a, "--backup") == 0) {
            opt.backup = true;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            opt.quiet = true;
        } else if (strcmp(a, "--force") == 0 || strcmp(a, "-f") == 0) {
            opt.force = true;
        } else if (strcmp(a, "-o") == 0 && has_value) {
            opt.output = argv[++i];
        } else if (strcmp(a, "--page-size") == 0 && has_value) {
            if (parse_uint(argv[++i], &opt.sign.page_size) != 0)
                return usage_error(cmd, "--page-size takes a number");
        } else if (strcmp(a, "--threads") == 0 && has_value) {
            if (parse_uint(argv[++i], &opt.sign.threads) != 0)
                return usage_error(cmd, "--threads takes a number");
        } else if (!remove && strcmp(a, "--plist") == 0 && has_value) {
            opt.plist_path = argv[++i];
        } else if (!remove && strcmp(a, "--make-room") == 0) {
            opt.inject.make_room = 1;
        } else if (!remove && strcmp(a, "--binary-plist") == 0) {
            opt.inject.keep_binary_plist = 1;
        } else if (!remove && strcmp(a, "--identifier") == 0 && has_value) {
            opt.defaults.identifier = argv[++i];
        } else if (!remove && strcmp(a, "--usage") == 0 && has_value) {
            opt.defaults.usage = argv[++i];
        } else if (!remove && strcmp(a, "--replace") == 0) {
            opt.defaults.replace = 1;
        } else if (!remove && strcmp(a, "--set") == 0 && has_value) {
            if (opt.defaults.nset == MAX_SETS)
                return usage_error(cmd, "too many --set options");
            opt.sets[opt.defaults.nset++] = argv[++i];
        } else {
            cli_error("%s: unknown option or missing value: '%s' (see 'machoplist help')", cmd, a);
            return MP_ERR_USAGE;
        }
    }
    int nfiles = argc - i;
    if (nfiles <= 0)
        return usage_error(cmd, "no file given");
    if (opt.output && nfiles != 1)
        return usage_error(cmd, "-o takes exactly one input file");
    if (opt.plist_path && (opt.defaults.identifier || opt.defaults.usage || opt.defaults.nset || opt.defaults.replace))
        return usage_error(cmd, "--identifier, --usage, --set and --replace build the default plist; they do not go with --plist");
    uint8_t *plist = NULL;
    size_t plist_len = 0;
    if (opt.plist_path) {
        int rc = read_plist_file(opt.plist_path, &plist, &plist_len);
        if (rc)
            return rc;
    }
    int status = 0;
    for (; i < argc; i++)
        status = cli_combine_status(status, inject_one(argv[i], &opt, plist, plist_len));
    free(plist);
    return status;
}

int cmd_inject(int argc, char **argv)
{
    return run(argc, argv, false);
}

int cmd_remove(int argc, char **argv)
{
    return run(argc, argv, true);
}
