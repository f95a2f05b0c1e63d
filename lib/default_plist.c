/* The Info.plist machoplist writes when the user gives none (policy only).
 *
 * The identifier must stay the same across versions and re-runs, because
 * macOS remembers the Local Network grant by it: reuse one the binary already
 * carries, else derive one from the Homebrew formula or the program name.
 * Never a version number in it. */
#include "image.h"
#include "plist_input.h"

#include <ctype.h>
#include <limits.h>
#include <plist/plist.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MP_IDENT_MAX 255

/* Keeps letters, digits, '-' and '.'; anything else becomes '-'. */
static void sanitize_identifier_part(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    for (; *in && n + 1 < cap; in++) {
        unsigned char c = (unsigned char)*in;
        out[n++] = (char)(isalnum(c) || c == '-' || c == '.' ? c : '-');
    }
    out[n] = '\0';
}

/* A reverse-DNS identifier: two or more dot-separated parts, and not the
 * "name-<16 hex>" that linkers and codesign make up for unnamed binaries. */
static bool is_reverse_dns(const char *id)
{
    if (!id || !strchr(id, '.') || id[0] == '.')
        return false;
    const char *dash = strrchr(id, '-');
    if (dash && strlen(dash + 1) >= 8) {
        bool hex = true;
        for (const char *p = dash + 1; *p; p++)
            hex = hex && isxdigit((unsigned char)*p);
        if (hex)
            return false;
    }
    return true;
}

/* Formula and version from ".../Cellar/<formula>/<version>/...". */
static bool cellar_info(const char *real, char *formula, size_t fcap, char *version, size_t vcap)
{
    const char *c = strstr(real, "/Cellar/");
    if (!c)
        return false;
    const char *f = c + strlen("/Cellar/");
    const char *f_end = strchr(f, '/');
    if (!f_end || f_end == f)
        return false;
    const char *v = f_end + 1;
    const char *v_end = strchr(v, '/');
    if (!v_end || v_end == v)
        return false;
    snprintf(formula, fcap, "%.*s", (int)(f_end - f), f);
    snprintf(version, vcap, "%.*s", (int)(v_end - v), v);
    return true;
}

static void set_string(plist_t dict, const char *key, const char *value, bool overwrite)
{
    if (!overwrite && plist_dict_get_item(dict, key))
        return;
    plist_dict_set_item(dict, key, plist_new_string(value));
}

/* The first embedded plist among the slices, parsed, or NULL. */
static plist_t embedded_dict(const mp_image *img)
{
    for (size_t i = 0; i < img->nslices; i++) {
        const mp_slice *s = &img->slices[i];
        if (s->info_plist_sect < 0 || s->sects[s->info_plist_sect].size == 0 ||
            s->sects[s->info_plist_sect].size > UINT32_MAX)
            continue;
        const mp_section *sec = &s->sects[s->info_plist_sect];
        plist_t root = NULL;
        (void)mp_plist_parse(s->data + sec->offset, (size_t)sec->size, &root, NULL);
        if (root && plist_get_node_type(root) == PLIST_DICT)
            return root;
        plist_free(root);
    }
    return NULL;
}

/* An identifier from a real (not linker-made) signature, if reverse-DNS. */
static const char *signed_identifier(const mp_image *img)
{
    for (size_t i = 0; i < img->nslices; i++) {
        const mp_signature *sig = &img->slices[i].sig;
        if (sig->decoded && sig->ncds && !(sig->cds[0].flags & 0x20000u) && is_reverse_dns(sig->cds[0].identifier))
            return sig->cds[0].identifier;
    }
    return NULL;
}

mp_status mp_default_plist(const mp_image *img, const char *path, const mp_default_plist_options *opt, uint8_t **out,
                           size_t *out_len, char *identifier_out, size_t identifier_cap, mp_error *err)
{
    *out = NULL;
    *out_len = 0;
    char real[PATH_MAX];
    if (!realpath(path, real))
        snprintf(real, sizeof real, "%s", path);
    const char *base = strrchr(real, '/') ? strrchr(real, '/') + 1 : real;
    char name[128];
    sanitize_identifier_part(base, name, sizeof name);
    char formula[128] = "", version[128] = "";
    bool in_cellar = cellar_info(real, formula, sizeof formula, version, sizeof version);

    plist_t dict = opt->replace ? NULL : embedded_dict(img);
    if (!dict)
        dict = plist_new_dict();
    if (!dict)
        return mp_fail(err, MP_ERR_NOMEM, "out of memory");

    /* Identifier: option, embedded, signed, Homebrew formula, program name. */
    char derived[MP_IDENT_MAX + 160];
    char *embedded_id = mp_plist_dict_string(dict, "CFBundleIdentifier");
    const char *id = opt->identifier;
    if (!id && embedded_id && embedded_id[0])
        id = embedded_id;
    if (!id)
        id = signed_identifier(img);
    if (!id) {
        char f[128];
        if (in_cellar) {
            sanitize_identifier_part(formula, f, sizeof f);
            if (strcmp(f, name) == 0)
                snprintf(derived, sizeof derived, "sh.brew.%s", f);
            else
                snprintf(derived, sizeof derived, "sh.brew.%s.%s", f, name);
        } else {
            snprintf(derived, sizeof derived, "org.machoplist.%s", name);
        }
        id = derived;
    }
    set_string(dict, "CFBundleIdentifier", id, true);
    snprintf(identifier_out, identifier_cap, "%s", id);
    free(embedded_id);

    set_string(dict, "CFBundleInfoDictionaryVersion", "6.0", false);
    set_string(dict, "CFBundleName", base, false);
    if (in_cellar) {
        /* Homebrew revisions ("3.5a_1") are not part of the upstream version. */
        char short_version[128];
        snprintf(short_version, sizeof short_version, "%s", version);
        char *rev = strrchr(short_version, '_');
        if (rev && rev[1] && strspn(rev + 1, "0123456789") == strlen(rev + 1))
            *rev = '\0';
        set_string(dict, "CFBundleShortVersionString", short_version, true);
        set_string(dict, "CFBundleVersion", version, true);
    }
    char usage[512];
    snprintf(usage, sizeof usage, "%.200s connects to servers and devices on your local network.", base);
    set_string(dict, "NSLocalNetworkUsageDescription", opt->usage ? opt->usage : usage, opt->usage != NULL);
    for (size_t i = 0; i < opt->nset; i++) {
        const char *eq = strchr(opt->set[i], '=');
        if (!eq || eq == opt->set[i]) {
            plist_free(dict);
            return mp_fail(err, MP_ERR_USAGE, "--set %s: expected KEY=VALUE", opt->set[i]);
        }
        char key[256];
        snprintf(key, sizeof key, "%.*s", (int)(eq - opt->set[i]), opt->set[i]);
        set_string(dict, key, eq + 1, true);
        if (strcmp(key, "CFBundleIdentifier") == 0)
            snprintf(identifier_out, identifier_cap, "%s", eq + 1);
    }
    mp_status st = mp_plist_to_xml_bytes(dict, out, out_len, err);
    plist_free(dict);
    return st;
}
