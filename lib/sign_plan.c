/* Signing policy: what `codesign -s - -f --preserve-metadata=entitlements,flags,runtime`
 * (macOS 26, Security-61901) would sign each slice with. Pure: reads the image,
 * writes a plan. Rules and their source (apple-oss-distributions/Security,
 * OSX/libsecurity_codesigning/lib/):
 * - Inheritance (signer.cpp, Signer::prepare): metadata is inherited only when
 *   the old signature is not linker-signed; it is read from the main
 *   architecture's signature (Universal::bestNativeArch) and applied to every
 *   slice. Flags: old flags minus adhoc (runtime included); a CSFlags key in
 *   the embedded Info.plist overrides them. adhoc is always added. The team id
 *   is not preserved (ad hoc has none).
 * - Identifier (signer.cpp, machorep.cpp, diskrep.cpp): explicit option, else
 *   CFBundleIdentifier of the main slice's __TEXT,__info_plist (an embedded
 *   plist that is not a dictionary, or a non-string CFBundleIdentifier, is an
 *   error), else DiskRep::canonicalIdentifier(file name) and, when that has no
 *   '.', "-" + hex of MachORep::identification(): "UUID" + the 16 LC_UUID
 *   bytes, or SHA-1 of mach_header (28 bytes) + load commands without LC_UUID.
 * - Hashes (machorep.cpp, prepareForSigning): SHA-1 + SHA-256 when ANY slice's
 *   minimum OS is below macOS 10.11.4 / iOS, tvOS 11 / watchOS 12; else SHA-256.
 *   The SHA-1 CodeDirectory is primary (signerutils.cpp, CodeDirectorySet).
 * - Page size (machorep.cpp, pageSize): 16384 for arm64/arm64_32 except tvOS,
 *   4096 otherwise.
 * - Runtime version (signer.cpp, signMachO): with the runtime flag, the old
 *   CodeDirectory's runtime version of the same hash type, else the SDK version.
 * - Entitlements (signer.cpp, populate): kept XML blob of the main slice,
 *   written only for MH_EXECUTE; DER generated from it (we keep the old DER
 *   blob when there is one: codesign regenerates the same bytes).
 * - execSeg (machorep.cpp execSegBase/Limit, signer.cpp): only with a platform
 *   load command: base = __TEXT.fileoff, limit = __TEXT.filesize, flags =
 *   MAIN_BINARY for MH_EXECUTE plus entitlement bits. */
#include "plist_input.h"
#include "bytes.h"
#include "hash.h"
#include "macho_format.h"
#include "sign.h"

#include <plist/plist.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLATFORM_MACOS 1u
#define PLATFORM_IOS 2u
#define PLATFORM_TVOS 3u
#define PLATFORM_WATCHOS 4u

void mp_canonical_identifier(const char *path, char *out, size_t len)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char s[1024];
    snprintf(s, sizeof s, "%s", base);
    size_t n = strlen(s);
    /* Drop the final extension unless it starts with a digit (or is empty:
     * codesign's strchr() then finds the terminating NUL). */
    char *dot = strrchr(s, '.');
    if (dot && dot[1] && !strchr("0123456789", dot[1])) {
        *dot = '\0';
        n = (size_t)(dot - s);
    }
    if (n == 0 || strchr("0123456789.", s[0])) {
        snprintf(out, len, "%s", s);
        return;
    }
    size_t p = n - 1;
    while (strchr("0123456789.", s[p]))
        p--;
    p++;
    if (s[p] == '.')
        p++;
    while (p < n && strchr("0123456789", s[p]))
        p++;
    s[p] = '\0';
    snprintf(out, len, "%s", s);
}

size_t mp_main_slice(const mp_image *img)
{
    if (!img->fat)
        return 0;
    int arm64 = -1, any_arm64 = -1;
    for (size_t i = 0; i < img->nslices; i++) {
        const mp_slice *s = &img->slices[i];
        if (s->cputype != CPU_TYPE_ARM64)
            continue;
        uint32_t sub = s->cpusubtype & ~CPU_SUBTYPE_MASK;
        if (sub == CPU_SUBTYPE_ARM64E)
            return i;
        if (sub == 0 && arm64 < 0)
            arm64 = (int)i;
        if (any_arm64 < 0)
            any_arm64 = (int)i;
    }
    return arm64 >= 0 ? (size_t)arm64 : any_arm64 >= 0 ? (size_t)any_arm64 : 0;
}

static const uint8_t *slice_plist(const mp_slice *s, size_t *len)
{
    *len = 0;
    if (s->info_plist_sect < 0)
        return NULL;
    const mp_section *c = &s->sects[s->info_plist_sect];
    *len = (size_t)c->size;
    /* An empty section's offset is not checked by the reader: don't use it. */
    return c->size ? s->data + c->offset : s->data;
}

/* CFBundleIdentifier and CSFlags of an embedded plist. */
static mp_status read_info_plist(const mp_image *img, const mp_slice *s, char **bundle_id, bool *have_csflags,
                                 uint32_t *csflags, mp_error *err)
{
    *bundle_id = NULL;
    *have_csflags = false;
    size_t len;
    const uint8_t *bytes = slice_plist(s, &len);
    if (!bytes)
        return MP_OK;
    char where[512];
    mp_slice_where(img, s, where, sizeof where);
    plist_t root = NULL;
    mp_error shape;
    if (mp_plist_check_shape(bytes, len, &shape) != MP_OK)
        return mp_fail(err, MP_ERR_PLIST, "%s: __TEXT,__info_plist (%zu bytes): %s", where, len, shape.message);
    if (len > 0 && len <= UINT32_MAX)
        (void)mp_plist_parse(bytes, len, &root, NULL);
    if (!root || plist_get_node_type(root) != PLIST_DICT) {
        plist_free(root);
        return mp_fail(err, MP_ERR_PLIST,
                       "%s: __TEXT,__info_plist (%zu bytes) is not a plist dictionary; codesign refuses to sign it without an explicit identifier",
                       where, len);
    }
    mp_status st = MP_OK;
    plist_t id = plist_dict_get_item(root, "CFBundleIdentifier");
    if (id && plist_get_node_type(id) != PLIST_STRING)
        st = mp_fail(err, MP_ERR_PLIST, "%s: CFBundleIdentifier in __TEXT,__info_plist is not a string", where);
    else if (id)
        plist_get_string_val(id, bundle_id);
    plist_t f = plist_dict_get_item(root, "CSFlags");
    if (st == MP_OK && f) {
        if (plist_get_node_type(f) == PLIST_UINT) {
            uint64_t v = 0;
            plist_get_uint_val(f, &v);
            *csflags = (uint32_t)v;
            *have_csflags = true;
        } else if (plist_get_node_type(f) == PLIST_STRING) {
            /* codedirectory.cpp kSecCodeDirectoryFlagTable, signable names only */
            static const struct {
                const char *name;
                uint32_t bit;
            } names[] = {{"host", 0x1}, {"hard", 0x100}, {"kill", 0x200}, {"expires", 0x400},
                         {"restrict", 0x800}, {"enforcement", 0x1000}, {"library-validation", 0x2000},
                         {"runtime", 0x10000}, {"linker-signed", 0x20000}};
            char *text = NULL;
            plist_get_string_val(f, &text);
            *csflags = 0;
            *have_csflags = true;
            for (char *save = NULL, *w = text ? strtok_r(text, ",", &save) : NULL; w && st == MP_OK;
                 w = strtok_r(NULL, ",", &save)) {
                size_t k = 0;
                while (k < sizeof names / sizeof names[0] && strcmp(names[k].name, w) != 0)
                    k++;
                if (k == sizeof names / sizeof names[0])
                    st = mp_fail(err, MP_ERR_PLIST, "%s: CSFlags in __TEXT,__info_plist names unknown flag '%s'",
                                 where, w);
                else
                    *csflags |= names[k].bit;
            }
            free(text);
        } else {
            st = mp_fail(err, MP_ERR_PLIST, "%s: CSFlags in __TEXT,__info_plist is neither a number nor a string",
                         where);
        }
    }
    plist_free(root);
    if (st != MP_OK) {
        free(*bundle_id);
        *bundle_id = NULL;
    }
    return st;
}

static mp_status default_identifier(const mp_image *img, const mp_slice *main, char **out, mp_error *err)
{
    char name[1024];
    mp_canonical_identifier(img->name, name, sizeof name);
    char suffix[2 * 20 + 2] = "";
    if (!strchr(name, '.')) {
        uint8_t ident[20];
        size_t n;
        if (main->has_uuid) {
            memcpy(ident, "UUID", 4);
            memcpy(ident + 4, main->uuid, 16);
            n = 20;
        } else {
            /* sizeof(mach_header), even for 64-bit headers, then the commands */
            uint8_t *buf = malloc(MACH_HEADER_SIZE + (size_t)main->sizeofcmds);
            if (!buf)
                return mp_fail(err, MP_ERR_NOMEM, "%s: out of memory", img->name);
            memcpy(buf, main->data, MACH_HEADER_SIZE);
            memcpy(buf + MACH_HEADER_SIZE, main->data + main->header_size, main->sizeofcmds);
            bool ok = mp_hash_once(CS_HASHTYPE_SHA1, buf, MACH_HEADER_SIZE + (size_t)main->sizeofcmds, ident);
            free(buf);
            if (!ok)
                return mp_fail(err, MP_ERR_NOMEM, "%s: SHA-1 unavailable", img->name);
            n = 20;
        }
        suffix[0] = '-';
        for (size_t i = 0; i < n; i++)
            snprintf(suffix + 1 + 2 * i, 3, "%02x", ident[i]);
    }
    size_t len = strlen(name) + strlen(suffix) + 1;
    *out = malloc(len);
    if (!*out)
        return mp_fail(err, MP_ERR_NOMEM, "%s: out of memory", img->name);
    snprintf(*out, len, "%s%s", name, suffix);
    return MP_OK;
}

/* The CodeDirectory of a given hash type in a decoded signature, or NULL. */
static const mp_cd *cd_of_type(const mp_slice *s, unsigned type)
{
    if (!s->sig.decoded)
        return NULL;
    for (size_t i = 0; i < s->sig.ncds; i++)
        if (s->sig.cds[i].hash_type == type)
            return &s->sig.cds[i];
    return NULL;
}

static bool needs_agile_hashes(const mp_image *img)
{
    for (size_t i = 0; i < img->nslices; i++) {
        const mp_slice *s = &img->slices[i];
        uint32_t limit;
        switch (s->has_platform ? s->platform : 0) {
        case PLATFORM_MACOS: limit = 10u << 16 | 11u << 8 | 4u; break;
        case PLATFORM_IOS:
        case PLATFORM_TVOS: limit = 11u << 16; break;
        case PLATFORM_WATCHOS: limit = 12u << 16; break;
        default: continue;
        }
        if (s->minos < limit)
            return true;
    }
    return false;
}

static mp_status own(mp_sign_plan *plan, uint8_t *p)
{
    for (size_t i = 0; i < sizeof plan->owned / sizeof plan->owned[0]; i++)
        if (!plan->owned[i]) {
            plan->owned[i] = p;
            return MP_OK;
        }
    free(p);
    return MP_ERR_NOMEM;
}

mp_status mp_sign_plan_make(const mp_image *img, const mp_sign_options *opt, mp_sign_plan *plan, mp_error *err)
{
    memset(plan, 0, sizeof *plan);
    plan->threads = opt->threads;
    plan->nslices = img->nslices;
    plan->slices = calloc(img->nslices, sizeof *plan->slices);
    if (!plan->slices)
        return mp_fail(err, MP_ERR_NOMEM, "%s: out of memory", img->name);
    plan->main_slice = mp_main_slice(img);
    const mp_slice *main = &img->slices[plan->main_slice];
    const mp_cd *main_cd = main->sig.decoded ? &main->sig.cds[0] : NULL;
    bool inherit = main_cd && !(main_cd->flags & CS_LINKER_SIGNED);

    char *bundle_id = NULL;
    bool have_csflags = false;
    uint32_t csflags = 0;
    mp_status st = MP_OK;
    if (opt->identifier) {
        /* explicit: the plist is still read for CSFlags, but need not parse */
        mp_error ignored;
        if (read_info_plist(img, main, &bundle_id, &have_csflags, &csflags, &ignored) != MP_OK)
            have_csflags = false;
        free(bundle_id);
        bundle_id = NULL;
        plan->identifier = strdup(opt->identifier);
        if (!plan->identifier)
            st = mp_fail(err, MP_ERR_NOMEM, "%s: out of memory", img->name);
    } else {
        st = read_info_plist(img, main, &bundle_id, &have_csflags, &csflags, err);
        if (st == MP_OK && bundle_id)
            plan->identifier = bundle_id;
        else if (st == MP_OK)
            st = default_identifier(img, main, &plan->identifier, err);
    }
    if (st != MP_OK) {
        mp_sign_plan_release(plan);
        return st;
    }
    if (plan->identifier[0] == '\0' || strlen(plan->identifier) > 255) {
        mp_sign_plan_release(plan);
        return mp_fail(err, MP_ERR_USAGE, "%s: signing identifier must be 1 to 255 bytes", img->name);
    }

    uint32_t flags = 0;
    if (have_csflags)
        flags = csflags;
    else if (inherit)
        flags = main_cd->flags & ~CS_ADHOC;
    flags |= CS_ADHOC;

    /* Entitlements: from the options (wrapped in a blob), else inherited. */
    const uint8_t *ent_xml = NULL, *ent_der = NULL;
    uint32_t ent_xml_len = 0, ent_der_len = 0;
    if (opt->entitlements) {
        if (opt->entitlements_len > UINT32_MAX - 8) {
            mp_sign_plan_release(plan);
            return mp_fail(err, MP_ERR_PLIST, "entitlements too large");
        }
        uint8_t *blob = malloc(opt->entitlements_len + 8);
        if (!blob || own(plan, blob) != MP_OK) {
            mp_sign_plan_release(plan);
            return mp_fail(err, MP_ERR_NOMEM, "%s: out of memory", img->name);
        }
        mp_put_be32(blob, CSMAGIC_EMBEDDED_ENTITLEMENTS);
        mp_put_be32(blob + 4, (uint32_t)opt->entitlements_len + 8);
        memcpy(blob + 8, opt->entitlements, opt->entitlements_len);
        ent_xml = blob;
        ent_xml_len = (uint32_t)opt->entitlements_len + 8;
    } else if (inherit && main->sig.ent_xml) {
        ent_xml = main->sig.ent_xml;
        ent_xml_len = main->sig.ent_xml_len;
        if (main->sig.ent_der) {
            ent_der = main->sig.ent_der;
            ent_der_len = main->sig.ent_der_len;
        }
    }
    uint64_t ent_flags = 0;
    if (ent_xml) {
        ent_flags = mp_entitlement_exec_flags(ent_xml + 8, ent_xml_len - 8);
        if (!ent_der) {
            uint8_t *der = NULL;
            st = mp_entitlements_der_blob(ent_xml + 8, ent_xml_len - 8, &der, &ent_der_len, err);
            if (st == MP_OK && own(plan, der) != MP_OK)
                st = mp_fail(err, MP_ERR_NOMEM, "%s: out of memory", img->name);
            if (st != MP_OK) {
                mp_sign_plan_release(plan);
                return st;
            }
            ent_der = der;
        }
    }

    bool agile = opt->hash == MP_HASH_SHA1_SHA256 || (opt->hash == MP_HASH_AUTO && needs_agile_hashes(img));
    for (size_t i = 0; i < img->nslices; i++) {
        const mp_slice *s = &img->slices[i];
        mp_sign_slice_plan *p = &plan->slices[i];
        p->nhashes = agile ? 2 : 1;
        p->hash_types[0] = agile ? CS_HASHTYPE_SHA1 : CS_HASHTYPE_SHA256;
        p->hash_types[1] = CS_HASHTYPE_SHA256;
        p->page_size = opt->page_size ? opt->page_size
                       : (s->cputype == CPU_TYPE_ARM64 || s->cputype == CPU_TYPE_ARM64_32) &&
                                 !(s->has_platform && s->platform == PLATFORM_TVOS)
                           ? 16384u
                           : 4096u;
        p->flags = flags;
        for (size_t h = 0; h < p->nhashes; h++) {
            p->runtime[h] = 0;
            if (!(flags & CS_RUNTIME))
                continue;
            const mp_cd *old = inherit ? cd_of_type(s, p->hash_types[h]) : NULL;
            p->runtime[h] = old && old->runtime ? old->runtime : s->has_platform ? s->sdk : 0;
        }
        if (s->has_platform && s->platform != 0 && s->text_seg >= 0) {
            p->exec_base = s->segs[s->text_seg].fileoff;
            p->exec_limit = s->segs[s->text_seg].filesize;
        }
        p->has_info_plist = s->info_plist_sect >= 0;
        p->info_plist = slice_plist(s, &p->info_plist_len);
        if (s->filetype == MH_EXECUTE) {
            p->exec_flags = CS_EXECSEG_MAIN_BINARY;
            if (ent_xml) {
                p->ent_xml = ent_xml;
                p->ent_xml_len = ent_xml_len;
                p->ent_der = ent_der;
                p->ent_der_len = ent_der_len;
                p->exec_flags |= ent_flags;
            }
        }
        p->estimate_limit = s->sig.present ? s->sig.dataoff : s->size;
        p->had_signature = s->sig.present;
        if (s->sig.present && !s->sig.decoded)
            mp_copy_text(p->unreadable, sizeof p->unreadable, s->sig.error[0] ? s->sig.error : "malformed");
        if (s->sig.decoded) {
            const mp_cd *cd = &s->sig.cds[0];
            p->was_linker_signed = (cd->flags & CS_LINKER_SIGNED) != 0;
            bool cms = s->sig.cms && s->sig.cms_len > 8;
            const char *team = NULL;
            for (size_t k = 0; k < s->sig.ncds && !team; k++)
                team = s->sig.cds[k].team_id;
            p->dropped_identity = cms || (team && team[0]);
            mp_copy_text(p->old_team_id, sizeof p->old_team_id, team); /* it ends up in one-line messages */
        }
    }
    return MP_OK;
}

void mp_sign_plan_release(mp_sign_plan *plan)
{
    free(plan->identifier);
    free(plan->slices);
    for (size_t i = 0; i < sizeof plan->owned / sizeof plan->owned[0]; i++)
        free(plan->owned[i]);
    memset(plan, 0, sizeof *plan);
}
