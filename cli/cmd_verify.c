/* machoplist verify: the signature as `codesign -dvvv` describes it, the
 * problems found, and one verdict line per file. On macOS, when codesign is
 * on PATH, Apple's own verdict is asked for too; disagreement is an error. */
#include "cli.h"
#include "json_out.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct verify_args {
    mp_verify_options opt;
    bool json;
    bool allow_unbound;
} verify_args;

static void hex(FILE *f, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%02x", p[i]);
}

static void format_version3(uint32_t v, char *buf, size_t len)
{
    snprintf(buf, len, "%u.%u.%u", v >> 16, (v >> 8) & 0xff, v & 0xff);
}

static void format_line(const mp_image *img, char *buf, size_t len)
{
    size_t n = mp_image_slice_count(img);
    if (!mp_image_is_universal(img)) {
        mp_slice_info s;
        mp_image_slice(img, 0, &s);
        snprintf(buf, len, "Mach-O thin (%s)", s.arch);
        return;
    }
    size_t used = (size_t)snprintf(buf, len, "Mach-O universal (");
    for (size_t i = 0; i < n && used < len; i++) {
        mp_slice_info s;
        mp_image_slice(img, i, &s);
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? " " : "", s.arch);
    }
    if (used < len)
        snprintf(buf + used, len - used, ")");
}

/* The problem text without its leading "FILE: ". */
static const char *strip_name(const char *problem, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(problem, name, n) == 0 && strncmp(problem + n, ": ", 2) == 0)
        return problem + n + 2;
    return problem;
}

static void print_slice_text(const mp_image *img, const mp_verify_slice *v, const char *format)
{
    printf("Executable=%s\n", mp_image_name(img));
    if (!v->is_signed) {
        printf("Format=%s\n", format);
        if (mp_image_is_universal(img))
            printf("Architecture=%s\n", v->arch);
        printf("Signature=none\n");
        return;
    }
    char flags[160], version[32];
    mp_format_cs_flags(v->flags, flags, sizeof flags);
    printf("Identifier=%s\n", v->identifier);
    printf("Format=%s\n", format);
    if (mp_image_is_universal(img))
        printf("Architecture=%s\n", v->arch);
    printf("CodeDirectory v=%x size=%u flags=%s hashes=%u+%u location=embedded\n", v->cd_version, v->cd_size, flags,
           v->n_code_slots, v->n_special_slots);
    printf("Hash type=%s size=%u\n", v->hash_name, v->hash_size);
    size_t n = v->cd_count < MP_VERIFY_MAX_CDS ? v->cd_count : MP_VERIFY_MAX_CDS;
    for (size_t k = 0; k < n; k++) {
        printf("CandidateCDHash %s=", v->candidate_names[k]);
        hex(stdout, v->candidate_cdhash[k], v->candidate_len[k] < 20 ? v->candidate_len[k] : 20);
        printf("\nCandidateCDHashFull %s=", v->candidate_names[k]);
        hex(stdout, v->candidate_cdhash[k], v->candidate_len[k]);
        printf("\n");
    }
    printf("Hash choices=%s\n", v->hash_choices);
    if (v->page_size)
        printf("Page size=%u\n", v->page_size);
    printf("CDHash=");
    hex(stdout, v->cdhash, 20);
    printf("\n");
    if (v->adhoc)
        printf("Signature=adhoc\n");
    else
        printf("Signature size=%u\n", v->cms_size);
    if (v->info_plist_bound)
        printf("Info.plist entries=%u\n", v->info_plist_entries);
    else
        printf("Info.plist=not bound\n");
    printf("TeamIdentifier=%s\n", v->team_id[0] ? v->team_id : "not set");
    if (v->runtime_version) {
        format_version3(v->runtime_version, version, sizeof version);
        printf("Runtime Version=%s\n", version);
    }
    printf("Sealed Resources=none\n");
    if (v->requirements_size)
        printf("Internal requirements count=%u size=%u\n", v->requirements_count, v->requirements_size);
    else
        printf("Internal requirements=none\n");
}

static void print_slice_json(json_out *j, const mp_verify_slice *v)
{
    json_begin_object(j, NULL);
    json_string(j, "arch", v->arch);
    json_bool(j, "signed", v->is_signed);
    json_bool(j, "valid", v->valid);
    if (v->is_signed) {
        char flags[160];
        json_string(j, "identifier", v->identifier);
        json_string(j, "team_id", v->team_id[0] ? v->team_id : NULL);
        json_uint(j, "code_directory_version", v->cd_version);
        json_uint(j, "code_directory_size", v->cd_size);
        json_uint(j, "flags", v->flags);
        json_string(j, "flags_text", mp_format_cs_flags(v->flags, flags, sizeof flags));
        json_uint(j, "code_slots", v->n_code_slots);
        json_uint(j, "special_slots", v->n_special_slots);
        json_uint(j, "page_size", v->page_size);
        json_string(j, "hash_type", v->hash_name);
        json_string(j, "hash_choices", v->hash_choices);
        json_begin_object(j, "candidate_cdhashes");
        size_t n = v->cd_count < MP_VERIFY_MAX_CDS ? v->cd_count : MP_VERIFY_MAX_CDS;
        for (size_t k = 0; k < n; k++)
            json_hex(j, v->candidate_names[k], v->candidate_cdhash[k], v->candidate_len[k]);
        json_end_object(j);
        json_hex(j, "cdhash", v->cdhash, 20);
        json_bool(j, "adhoc", v->adhoc);
        json_uint(j, "cms_size", v->cms_size);
        json_uint(j, "runtime_version", v->runtime_version);
        json_uint(j, "exec_seg_base", v->exec_seg_base);
        json_uint(j, "exec_seg_limit", v->exec_seg_limit);
        json_uint(j, "exec_seg_flags", v->exec_seg_flags);
        json_uint(j, "requirements_count", v->requirements_count);
        json_uint(j, "requirements_size", v->requirements_size);
        json_uint(j, "signature_offset", v->signature_offset);
        json_uint(j, "signature_size", v->signature_size);
    }
    json_bool(j, "info_plist_bound", v->info_plist_bound);
    json_uint(j, "info_plist_entries", v->info_plist_entries);
    json_uint(j, "problems", v->problem_count);
    json_end_object(j);
}

#ifdef __APPLE__
#include <unistd.h>

/* Runs cmd (a shell command line) and returns its exit status; its combined
 * output goes to out (NUL-terminated, truncated to len). */
static int run_capture(const char *cmd, char *out, size_t len)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t n = fread(out, 1, len - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return st;
}

static bool codesign_available(void)
{
    return system("command -v codesign >/dev/null 2>&1") == 0;
}

/* 'path' quoted for sh. */
static char *shell_quote(const char *path)
{
    size_t n = 3;
    for (const char *c = path; *c; c++)
        n += *c == '\'' ? 4 : 1;
    char *q = malloc(n);
    if (!q)
        return NULL;
    char *o = q;
    *o++ = '\'';
    for (const char *c = path; *c; c++) {
        if (*c == '\'') {
            memcpy(o, "'\\''", 4);
            o += 4;
        } else {
            *o++ = *c;
        }
    }
    *o++ = '\'';
    *o = '\0';
    return q;
}

/* Asks codesign; returns the number of disagreements (printed as problems). */
static int apple_agrees(const mp_image *img, const mp_verify_report *r, bool valid, bool json)
{
    const char *name = mp_image_name(img);
    char *q = shell_quote(name);
    if (!q)
        return 1;
    size_t cap = strlen(q) + 128;
    char *cmd = malloc(cap);
    char *out = malloc(65536);
    int disagreements = 0;
    if (!cmd || !out) {
        free(q);
        free(cmd);
        free(out);
        return 1;
    }
    snprintf(cmd, cap, "codesign --verify --strict %s 2>&1", q);
    int st = run_capture(cmd, out, 65536);
    bool apple_valid = st == 0;
    if (apple_valid != valid) {
        disagreements++;
        if (!json)
            printf("%s: codesign --verify --strict says %s: %s", name, apple_valid ? "valid" : "invalid", out);
    }
    for (size_t i = 0; i < mp_verify_report_slice_count(r); i++) {
        mp_verify_slice v;
        mp_verify_report_slice(r, i, &v);
        if (!v.is_signed)
            continue;
        snprintf(cmd, cap, "codesign -dvvv --arch %s %s 2>&1", v.arch, q);
        run_capture(cmd, out, 65536);
        char want[128];
        snprintf(want, sizeof want, "CDHash=");
        for (int k = 0; k < 20; k++)
            snprintf(want + 7 + 2 * k, sizeof want - 7 - 2 * (size_t)k, "%02x", v.cdhash[k]);
        if (!strstr(out, want)) {
            disagreements++;
            if (!json)
                printf("%s: slice %zu (%s): codesign -dvvv shows another CDHash (we computed %s)\n", name, i, v.arch,
                       want + 7);
        }
        if (v.info_plist_bound)
            snprintf(want, sizeof want, "Info.plist entries=%u\n", v.info_plist_entries);
        else
            snprintf(want, sizeof want, "Info.plist=not bound\n");
        if (!strstr(out, want)) {
            disagreements++;
            if (!json)
                printf("%s: slice %zu (%s): codesign -dvvv does not show \"%.*s\"\n", name, i, v.arch,
                       (int)strlen(want) - 1, want);
        }
    }
    if (!json)
        printf("%s: codesign %s\n", name, disagreements ? "DISAGREES" : "agrees");
    free(q);
    free(cmd);
    free(out);
    return disagreements;
}
#endif

static int verify_one(const char *path, const verify_args *a, json_out *j)
{
    mp_image *img = NULL;
    mp_error err;
    cli_reading(path);
    if (mp_image_open(path, &img, &err) != MP_OK)
        return cli_report(&err);
    mp_verify_report *r = NULL;
    mp_status st = mp_image_verify(img, &a->opt, &r, &err);
    if (st != MP_OK && st != MP_ERR_VERIFY) {
        mp_image_free(img);
        return cli_report(&err);
    }
    bool valid = mp_verify_report_valid(r);
    bool bound = mp_verify_report_info_plist_bound(r);
    char format[256];
    format_line(img, format, sizeof format);
    size_t nslices = mp_verify_report_slice_count(r);
    int apple_problems = 0;
    if (!a->json) {
        for (size_t i = 0; i < nslices; i++) {
            mp_verify_slice v;
            mp_verify_report_slice(r, i, &v);
            print_slice_text(img, &v, format);
        }
        for (size_t i = 0; i < mp_verify_report_problem_count(r); i++)
            printf("problem: %s\n", mp_verify_report_problem(r, i));
    }
#ifdef __APPLE__
    if (codesign_available())
        apple_problems = apple_agrees(img, r, valid, a->json);
#endif
    bool ok = valid && (bound || a->allow_unbound) && apple_problems == 0;
    if (a->json) {
        json_begin_object(j, NULL);
        json_string(j, "file", path);
        json_bool(j, "valid", valid);
        json_bool(j, "info_plist_bound", bound);
        json_bool(j, "ok", ok);
        json_string(j, "format", format);
        json_begin_array(j, "slices");
        for (size_t i = 0; i < nslices; i++) {
            mp_verify_slice v;
            mp_verify_report_slice(r, i, &v);
            print_slice_json(j, &v);
        }
        json_end_array(j);
        json_begin_array(j, "problems");
        for (size_t i = 0; i < mp_verify_report_problem_count(r); i++)
            json_string(j, NULL, mp_verify_report_problem(r, i));
        json_end_array(j);
        json_end_object(j);
    } else if (!valid) {
        printf("%s: INVALID: %s\n", path, strip_name(mp_verify_report_problem(r, 0), mp_image_name(img)));
    } else if (apple_problems) {
        printf("%s: INVALID: codesign disagrees with machoplist\n", path);
    } else {
        printf("%s: valid, Info.plist %s\n", path, bound ? "bound" : "not bound");
    }
    mp_verify_report_free(r);
    mp_image_free(img);
    return ok ? 0 : MP_ERR_VERIFY;
}

int cmd_verify(int argc, char **argv)
{
    verify_args a;
    memset(&a, 0, sizeof a);
    mp_verify_options_init(&a.opt);
    int first = argc;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            a.json = true;
        } else if (strcmp(argv[i], "--allow-unbound") == 0) {
            a.allow_unbound = true;
        } else if (strcmp(argv[i], "--") == 0) {
            first = i + 1;
            break;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            cli_error("verify: unknown option '%s'", argv[i]);
            return MP_ERR_USAGE;
        } else {
            first = i;
            break;
        }
    }
    if (first >= argc) {
        cli_error("verify: no file given (usage: machoplist verify [--allow-unbound] [--json] FILE...)");
        return MP_ERR_USAGE;
    }
    a.opt.require_info_plist = !a.allow_unbound;
    json_out j;
    json_init(&j, stdout);
    bool many = argc - first > 1;
    if (a.json && many)
        json_begin_array(&j, NULL);
    int status = 0;
    for (int i = first; i < argc; i++)
        status = cli_combine_status(status, verify_one(argv[i], &a, &j));
    if (a.json && many)
        json_end_array(&j);
    if (a.json)
        json_finish(&j);
    return status;
}
