/* machoplist inject / remove / brew: add, replace or take out
 * __TEXT,__info_plist, then re-sign ad hoc. All work is in the library; this
 * file parses options, reads the plist, and prints what happened. Many files
 * (and directory trees, and Homebrew kegs) go through batch.c. */
#include "batch.h"
#include "brew_keg.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_SETS 64

typedef enum inject_mode { MODE_INJECT, MODE_REMOVE, MODE_BREW } inject_mode;

typedef struct inject_options {
    const char *plist_path;
    const char *output;
    bool dry_run, backup, quiet, force, remove;
    bool recursive, all;
    unsigned jobs;
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
    FILE *f = strcmp(path, "-") == 0 ? stdin : cli_open_regular(path, "plist");
    if (!f)
        return MP_ERR_IO;
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

#define GENERIC_NEXT_STEP "  next: macOS asks once for local network access when the program first connects"

/* What to tell the user after a successful change, when it applies. In a
 * batch the generic line is printed once at the end instead (batch.c). */
static void print_next_steps(batch_out *o, const char *path, bool batch)
{
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    if (strcmp(base, "tmux") == 0)
        bo_printf(o, "  next: a running tmux server still runs the old binary; end it with 'tmux kill-server' and start tmux again\n");
    else if (strcmp(base, "zellij") == 0 || strcmp(base, "screen") == 0)
        bo_printf(o, "  next: sessions started before this keep the old binary; start a new %s session\n", base);
    if (!batch)
        bo_printf(o, GENERIC_NEXT_STEP "; check with 'machoplist verify %s'\n", path);
}

static int write_backup(batch_out *o, const char *path, const mp_image *original, bool quiet)
{
    char backup[4096];
    if (snprintf(backup, sizeof backup, "%s.bak", path) >= (int)sizeof backup) {
        bo_error(o, "%s: path too long for a backup", path);
        return MP_ERR_IO;
    }
    if (access(backup, F_OK) == 0) {
        if (!quiet)
            bo_printf(o, "  backup %s exists already; kept as it is\n", backup);
        return 0;
    }
    mp_error err;
    mp_status st = mp_image_write(original, backup, &err);
    if (st != MP_OK)
        return bo_report(o, &err);
    if (!quiet)
        bo_printf(o, "  original kept as %s\n", backup);
    return 0;
}

/* For files found in a directory walk: MP_ERR_NOT_MACHO (with its message in
 * err) when the first bytes already say the file is not Mach-O, so large
 * data files are not read whole. Anything else: read and parse the file. */
static mp_status probe_not_macho(const char *path, mp_error *err)
{
    uint8_t head[4096];
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return MP_OK;
    ssize_t n;
    while ((n = read(fd, head, sizeof head)) < 0 && errno == EINTR)
        ;
    close(fd);
    if (n < 0)
        return MP_OK;
    mp_image *img = NULL;
    mp_status st = mp_image_open_memory(head, (size_t)n, path, &img, err);
    mp_image_free(img);
    return st == MP_ERR_NOT_MACHO ? st : MP_OK;
}

/* The file type of the first slice that is not an executable, or NULL. */
static const char *not_executable(const mp_image *img)
{
    for (size_t i = 0; i < mp_image_slice_count(img); i++) {
        mp_slice_info s;
        if (mp_image_slice(img, i, &s) == MP_OK && s.filetype != 2 /* MH_EXECUTE */)
            return s.filetype_name ? s.filetype_name : "file";
    }
    return NULL;
}

/* After the plan is applied: the bytes did not change and the signature is
 * already an ad hoc one made after linking, so re-signing will most likely
 * give the same file (a re-run). Only decides whether to start writing early. */
static bool probably_up_to_date(const mp_image *img, const mp_image *before)
{
    mp_signature_info sig;
    return mp_image_same_bytes(img, before) && mp_image_signature(img, 0, &sig) == MP_OK && sig.decoded &&
           (sig.flags & 0x2u) && !(sig.flags & 0x20000u); /* adhoc, not linker-signed */
}

typedef struct inject_ctx {
    const inject_options *opt;
    const uint8_t *plist;
    size_t plist_len;
} inject_ctx;

static batch_result inject_one(const batch_file *f, void *vctx, batch_out *o, int *rc_out)
{
    const inject_ctx *ctx = vctx;
    const inject_options *opt = ctx->opt;
    const char *path = f->path;
    const uint8_t *plist = ctx->plist;
    size_t plist_len = ctx->plist_len;
    mp_error err;
    mp_image *img = NULL;
    if (f->from_walk && probe_not_macho(path, &err) == MP_ERR_NOT_MACHO) {
        bo_note(o, "%s; skipped", err.message);
        return BATCH_SKIPPED;
    }
    /* Another process editing the file (machoplist, or a program using the
     * library) goes before or after this read-modify-write, never between. */
    mp_lock *lock = NULL;
    if (!opt->dry_run && mp_lock_path(path, &lock, &err) != MP_OK) {
        *rc_out = bo_report(o, &err);
        return BATCH_REFUSED;
    }
    mp_image *before = NULL;
    uint8_t *generated = NULL;
    size_t generated_len = 0;
    char identifier[256] = "";
    mp_plan *plan = NULL;
    mp_write *ahead = NULL;
    int pending = -1;
    mp_status st = MP_OK;
    batch_result result = BATCH_CHANGED;
    int rc = 0;
    cli_reading(path);
    if (mp_image_open(path, &img, &err) != MP_OK) {
        if (f->from_walk && err.status == MP_ERR_NOT_MACHO) {
            bo_note(o, "%s; skipped", err.message);
            result = BATCH_SKIPPED;
        } else {
            rc = bo_report(o, &err);
        }
        goto out;
    }
    const char *kind = f->from_walk ? not_executable(img) : NULL;
    if (kind) {
        bo_note(o, "%s: Mach-O %s, not an executable; skipped", path, kind);
        result = BATCH_SKIPPED;
        goto out;
    }
    if (mp_image_copy(img, &before, &err) != MP_OK) {
        rc = bo_report(o, &err);
        goto out;
    }

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
    if (st != MP_OK) {
        rc = bo_report(o, &err);
        goto out;
    }
    if (opt->dry_run) {
        char *text = mp_plan_describe(plan);
        bo_printf(o, "%s: dry run, nothing written\n%s", path, text ? text : "");
        free(text);
    }
    const char *target = opt->output ? opt->output : path;
    mp_sign_result sign_result;
    if ((st = mp_image_apply(img, plan, &err)) != MP_OK) {
        rc = bo_report(o, &err);
        goto out;
    }
    /* Start the write now, so the unchanged pages are copied while they are
     * hashed; it is abandoned if nothing needs writing after all. A failure
     * here is reported by the write at the end, if one is needed. */
    if (!opt->dry_run && (opt->output || !probably_up_to_date(img, before)) &&
        mp_write_begin(target, &ahead, NULL) != MP_OK)
        ahead = NULL;
    pending = cli_write_started(ahead);
    if ((st = mp_image_sign_write(img, &opt->sign, ahead, &sign_result, &err)) != MP_OK) {
        rc = bo_report(o, &err);
        goto out;
    }
    if (sign_result.dropped_identity && !opt->force) {
        bo_error(o, "%s: signed by team %s; an ad hoc signature replaces that identity (Developer ID, notarization). "
                    "Use --force to do it anyway",
                 path, sign_result.old_team_id);
        rc = MP_ERR_SIGNATURE;
        goto out;
    }
    bool same = mp_image_same_bytes(img, before);
    if (opt->dry_run) {
        result = same ? BATCH_UP_TO_DATE : BATCH_CHANGED;
        goto out;
    }
    if (sign_result.dropped_identity)
        bo_warn(o, "%s: team %s signature replaced by an ad hoc one", path, sign_result.old_team_id);
    for (size_t i = 0; i < sign_result.slice_count; i++)
        if (sign_result.slices[i].unreadable[0])
            bo_warn(o, "%s: slice %zu (%s): the old signature could not be read (%s); replaced", path, i,
                    sign_result.slices[i].arch, sign_result.slices[i].unreadable);
    if (!opt->output && same) {
        if (!opt->quiet)
            bo_printf(o, "%s: already up to date; nothing changed\n", path);
        result = BATCH_UP_TO_DATE;
        goto out;
    }
    if (opt->backup && !opt->output && (rc = write_backup(o, path, before, opt->quiet)) != 0)
        goto out;
    st = ahead ? mp_write_commit(ahead, img, &err) : mp_image_write(img, target, &err);
    cli_write_ended(pending);
    ahead = NULL;
    pending = -1;
    if (st != MP_OK) {
        rc = bo_report(o, &err);
        goto out;
    }
    if (!opt->quiet) {
        size_t n = mp_image_slice_count(img);
        if (opt->remove)
            bo_printf(o, "%s: removed __TEXT,__info_plist from %zu slice%s; signed ad hoc\n", target, n,
                      n == 1 ? "" : "s");
        else
            bo_printf(o, "%s: embedded Info.plist (%zu bytes, identifier %s) in %zu slice%s; signed ad hoc\n", target,
                      plist_len, sign_result.slices[0].identifier, n, n == 1 ? "" : "s");
        if (!opt->remove)
            print_next_steps(o, target, f->batch);
    }
out:
    mp_write_abort(ahead);
    cli_write_ended(pending);
    mp_lock_release(lock);
    mp_image_free(before);
    free(generated);
    mp_plan_free(plan);
    mp_image_free(img);
    *rc_out = rc;
    return rc ? BATCH_REFUSED : result;
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

/* -j N, -jN, --jobs N: files at once; 0 means one per online CPU. */
static int parse_jobs(const char *value, unsigned *out)
{
    unsigned n;
    if (parse_uint(value, &n) != 0 || n > 1024)
        return -1;
    if (n == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        n = cpus > 0 ? (unsigned)(cpus > 1024 ? 1024 : cpus) : 1;
    }
    *out = n;
    return 0;
}

/* Adds the Mach-O executables of each formula's keg (bin/, sbin/, and with
 * --all libexec/) to the list, each formula as a group that is refused when
 * it turns out to hold no Mach-O executable. */
static int add_formulae(batch_list *l, char **formulae, int n, const inject_options *opt)
{
    static const char *const dirs[] = { "bin", "sbin", "libexec" };
    for (int f = 0; f < n; f++) {
        char keg[PATH_MAX], why[1200], real[PATH_MAX];
        int rc = brew_find_keg(formulae[f], keg, sizeof keg, why, sizeof why);
        if (rc == MP_OK && !realpath(keg, real))
            snprintf(real, sizeof real, "%s", keg);
        const char *where = opt->all ? "bin/, sbin/ or libexec/" : "bin/ or sbin/";
        if ((rc == MP_OK && batch_begin_group(l, MP_ERR_NOT_MACHO, "%s: no Mach-O executable in %s of %s%s",
                                              formulae[f], where, real,
                                              opt->all ? "" : " (--all adds libexec/)") != 0) ||
            (rc != MP_OK && batch_begin_group(l, rc, "%s", why) != 0))
            return MP_ERR_NOMEM;
        if (rc != MP_OK) {
            if (batch_add_message(l, rc, true, "%s", why) != 0)
                return MP_ERR_NOMEM;
            continue;
        }
        if (batch_add_message(l, 0, false, "%s: keg %s", formulae[f], real) != 0)
            return MP_ERR_NOMEM;
        for (size_t d = 0; d < (opt->all ? 3u : 2u); d++) {
            char dir[PATH_MAX];
            struct stat st;
            if (snprintf(dir, sizeof dir, "%s/%s", keg, dirs[d]) >= (int)sizeof dir || stat(dir, &st) != 0 ||
                !S_ISDIR(st.st_mode))
                continue;
            if ((rc = batch_add_tree(l, dir, real)) != 0)
                return rc;
        }
    }
    return 0;
}

static int run(int argc, char **argv, inject_mode mode)
{
    bool remove = mode == MODE_REMOVE, brew = mode == MODE_BREW;
    const char *cmd = remove ? "remove" : brew ? "brew" : "inject";
    inject_options opt;
    memset(&opt, 0, sizeof opt);
    opt.remove = remove;
    opt.jobs = 1;
    mp_inject_options_init(&opt.inject);
    mp_sign_options_init(&opt.sign);
    opt.defaults.set = opt.sets;
    bool threads_given = false;
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
        } else if (!brew && strcmp(a, "-o") == 0 && has_value) {
            opt.output = argv[++i];
        } else if (!brew && (strcmp(a, "--recursive") == 0 || strcmp(a, "-r") == 0 || strcmp(a, "-R") == 0)) {
            opt.recursive = true;
        } else if (brew && strcmp(a, "--all") == 0) {
            opt.all = true;
        } else if ((strcmp(a, "-j") == 0 || strcmp(a, "--jobs") == 0) && has_value) {
            if (parse_jobs(argv[++i], &opt.jobs) != 0)
                return usage_error(cmd, "-j takes a number of files to process at once (0: one per CPU)");
        } else if (strncmp(a, "-j", 2) == 0 && a[2]) {
            if (parse_jobs(a + 2, &opt.jobs) != 0)
                return usage_error(cmd, "-j takes a number of files to process at once (0: one per CPU)");
        } else if (strcmp(a, "--page-size") == 0 && has_value) {
            if (parse_uint(argv[++i], &opt.sign.page_size) != 0)
                return usage_error(cmd, "--page-size takes a number");
        } else if (strcmp(a, "--threads") == 0 && has_value) {
            if (parse_uint(argv[++i], &opt.sign.threads) != 0)
                return usage_error(cmd, "--threads takes a number");
            threads_given = true;
        } else if (!remove && !brew && strcmp(a, "--plist") == 0 && has_value) {
            opt.plist_path = argv[++i];
        } else if (!remove && strcmp(a, "--make-room") == 0) {
            opt.inject.make_room = 1;
        } else if (!remove && !brew && strcmp(a, "--binary-plist") == 0) {
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
    int nargs = argc - i;
    if (nargs <= 0)
        return usage_error(cmd, brew ? "no formula given" : "no file given");
    if (opt.output) {
        struct stat st;
        if (nargs != 1 || opt.recursive || (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)))
            return usage_error(cmd, "-o takes exactly one input file");
    }
    if (opt.plist_path && (opt.defaults.identifier || opt.defaults.usage || opt.defaults.nset || opt.defaults.replace))
        return usage_error(cmd, "--identifier, --usage, --set and --replace build the default plist; they do not go with --plist");
    /* Files in parallel share the CPUs instead of each hashing on all of them. */
    if (opt.jobs > 1 && !threads_given) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        opt.sign.threads = cpus > (long)opt.jobs ? (unsigned)(cpus / (long)opt.jobs) : 1;
    }

    uint8_t *plist = NULL;
    size_t plist_len = 0;
    int rc = 0;
    if (opt.plist_path && (rc = read_plist_file(opt.plist_path, &plist, &plist_len)) != 0)
        return rc;
    batch_list *list = batch_list_new(opt.quiet);
    if (!list) {
        free(plist);
        cli_error("out of memory");
        return MP_ERR_NOMEM;
    }
    if (brew)
        rc = add_formulae(list, argv + i, nargs, &opt);
    else
        for (; i < argc && rc == 0; i++)
            rc = batch_add_arg(list, argv[i], opt.recursive);
    if (rc != 0) {
        batch_list_free(list);
        free(plist);
        cli_error("out of memory");
        return rc;
    }
    inject_ctx ctx = { &opt, plist, plist_len };
    batch_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.jobs = opt.jobs;
    cfg.quiet = opt.quiet;
    if (opt.dry_run)
        cfg.done_verb = remove ? "would be removed" : "would be injected";
    else
        cfg.done_verb = remove ? "removed" : "injected";
    if (!remove && !opt.dry_run)
        cfg.closing_hint = "  next: macOS asks once per program for local network access, when it first connects; "
                           "check with 'machoplist verify FILE...'";
    int status = batch_run(list, &cfg, inject_one, &ctx);
    batch_list_free(list);
    free(plist);
    return status;
}

int cmd_inject(int argc, char **argv)
{
    return run(argc, argv, MODE_INJECT);
}

int cmd_remove(int argc, char **argv)
{
    return run(argc, argv, MODE_REMOVE);
}

int cmd_brew(int argc, char **argv)
{
    return run(argc, argv, MODE_BREW);
}
