/* machoplist show: what matters about a binary for this product. */
#include "cli.h"
#include "json_out.h"

#include <plist/plist.h>
#include <stdlib.h>
#include <string.h>

typedef struct show_options {
    bool json;
    bool plist_only;
    const char *arch;
} show_options;

/* The embedded plist as XML text (caller frees with plist_to_xml_free), or NULL. */
static char *plist_as_xml(const uint8_t *bytes, size_t len, const char **format, uint32_t *entries)
{
    *format = "unparseable";
    *entries = 0;
    if (!bytes || len == 0 || len > UINT32_MAX)
        return NULL;
    plist_t root = NULL;
    if (mp_plist_check(bytes, len, NULL) != MP_OK) /* would crash libplist */
        return NULL;
    plist_from_memory((const char *)bytes, (uint32_t)len, &root);
    if (!root)
        return NULL;
    *format = plist_is_binary((const char *)bytes, (uint32_t)len) ? "binary" : "xml";
    if (plist_get_node_type(root) == PLIST_DICT)
        *entries = plist_dict_get_size(root);
    char *xml = NULL;
    uint32_t xml_len = 0;
    plist_to_xml(root, &xml, &xml_len);
    plist_free(root);
    return xml;
}

static void format_uuid(const uint8_t u[16], char out[37])
{
    snprintf(out, 37, "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X", u[0], u[1], u[2], u[3],
             u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

static void print_signature_text(const mp_signature_info *sig)
{
    if (!sig->present) {
        printf("  signature: none\n");
        return;
    }
    printf("  signature: %u bytes at %#x\n", sig->datasize, sig->dataoff);
    if (!sig->decoded) {
        printf("    unreadable: %s\n", sig->error);
        return;
    }
    char flags[128];
    mp_format_cs_flags(sig->flags, flags, sizeof flags);
    printf("    Identifier=%s\n", sig->identifier);
    printf("    TeamIdentifier=%s\n", sig->team_id[0] ? sig->team_id : "not set");
    printf("    CodeDirectory v=%x flags=%s hashes=%u+%u\n", sig->cd_version, flags, sig->n_code_slots,
           sig->n_special_slots);
    printf("    Hash type=%s size=%u, page size %u, code limit %#x\n", sig->hash_name, sig->hash_size, sig->page_size,
           sig->code_limit);
    printf("    CodeDirectories=%zu, blobs=%zu\n", sig->code_directory_count, sig->blob_count);
    printf("    special slots with hashes:");
    static const char *const slot_names[] = {NULL, "info-plist", "requirements", "resources", "application",
                                             "entitlements", "rep-specific", "der-entitlements"};
    bool any = false;
    for (unsigned slot = 1; slot < 32; slot++)
        if (sig->special_slots_present & (1u << slot)) {
            printf(" %u(%s)", slot, slot < 8 ? slot_names[slot] : "?");
            any = true;
        }
    printf("%s\n", any ? "" : " none");
    if (sig->cd_version >= 0x20400)
        printf("    execSeg base=%#llx limit=%#llx flags=%#llx\n", (unsigned long long)sig->exec_seg_base,
               (unsigned long long)sig->exec_seg_limit, (unsigned long long)sig->exec_seg_flags);
    if (sig->runtime_version) {
        char v[32];
        cli_format_version(sig->runtime_version, v, sizeof v);
        printf("    runtime version=%s\n", v);
    }
    printf("    entitlements: %s%s%s\n", sig->has_entitlements_xml ? "xml " : "",
           sig->has_entitlements_der ? "der" : "",
           sig->has_entitlements_xml || sig->has_entitlements_der ? "" : "none");
    printf("    CMS signature: %s\n", !sig->has_cms ? "none" : sig->cms_empty ? "empty (ad hoc)" : "present");
    printf("    CDHash=");
    for (int i = 0; i < 20; i++)
        printf("%02x", sig->cdhash[i]);
    printf("\n");
}

static void show_text(const mp_image *img)
{
    size_t n = mp_image_slice_count(img);
    if (mp_image_is_universal(img))
        printf("%s: Mach-O universal, %zu slices\n", mp_image_name(img), n);
    else
        printf("%s: Mach-O thin\n", mp_image_name(img));
    for (size_t i = 0; i < n; i++) {
        mp_slice_info s;
        mp_image_slice(img, i, &s);
        printf("slice %zu: %s %s, %s, offset %#llx, size %#llx", i, s.arch, s.filetype_name,
               s.is64 ? "64-bit" : "32-bit", (unsigned long long)s.file_offset, (unsigned long long)s.file_size);
        if (mp_image_is_universal(img))
            printf(", align 2^%u", s.fat_align);
        printf("\n");
        if (s.platform) {
            char minos[32], sdk[32];
            cli_format_version(s.minos, minos, sizeof minos);
            cli_format_version(s.sdk, sdk, sizeof sdk);
            printf("  deployment target: %s %s (sdk %s)\n", s.platform, minos, sdk);
        } else {
            printf("  deployment target: unknown (no platform load command)\n");
        }
        if (s.has_uuid) {
            char uuid[37];
            format_uuid(s.uuid, uuid);
            printf("  uuid: %s\n", uuid);
        }
        printf("  load commands: %u, %u bytes, end at %#llx\n", s.ncmds, s.sizeofcmds,
               (unsigned long long)s.load_commands_end);
        printf("  __TEXT room: head gap %llu bytes, tail slack %llu bytes\n", (unsigned long long)s.head_gap,
               (unsigned long long)s.tail_slack);
        if (s.encrypted)
            printf("  encrypted: yes (LC_ENCRYPTION_INFO cryptid != 0)\n");
        printf("  segments:\n");
        for (size_t g = 0; g < s.segment_count; g++) {
            mp_segment_info seg;
            mp_image_segment(img, i, g, &seg);
            printf("    %-16s vm %#llx+%#llx file %#llx+%#llx\n", seg.name, (unsigned long long)seg.vmaddr,
                   (unsigned long long)seg.vmsize, (unsigned long long)seg.fileoff, (unsigned long long)seg.filesize);
            for (size_t k = seg.first_section; k < seg.first_section + seg.nsects; k++) {
                mp_section_info sec;
                mp_image_section(img, i, k, &sec);
                printf("      %2u %-16s addr %#llx size %#llx offset %#x align 2^%u\n", sec.ordinal, sec.sectname,
                       (unsigned long long)sec.addr, (unsigned long long)sec.size, sec.offset, sec.align);
            }
        }
        size_t plen = 0;
        const uint8_t *pbytes = mp_image_info_plist(img, i, &plen);
        if (!s.has_info_plist) {
            printf("  __TEXT,__info_plist: none\n");
        } else {
            const char *format;
            uint32_t entries;
            char *xml = plist_as_xml(pbytes, plen, &format, &entries);
            printf("  __TEXT,__info_plist: %zu bytes, %s, %u entries\n", plen, format, entries);
            if (xml) {
                for (char *line = strtok(xml, "\n"); line; line = strtok(NULL, "\n"))
                    printf("    %s\n", line);
                plist_to_xml_free(xml);
            }
        }
        mp_signature_info sig;
        mp_image_signature(img, i, &sig);
        print_signature_text(&sig);
    }
}

static void show_json_signature(json_out *j, const mp_signature_info *sig)
{
    if (!sig->present) {
        json_string(j, "signature", NULL);
        return;
    }
    json_begin_object(j, "signature");
    json_uint(j, "offset", sig->dataoff);
    json_uint(j, "size", sig->datasize);
    json_bool(j, "decoded", sig->decoded);
    if (!sig->decoded) {
        json_string(j, "error", sig->error);
        json_end_object(j);
        return;
    }
    char flags[128];
    json_string(j, "identifier", sig->identifier);
    json_string(j, "team_id", sig->team_id[0] ? sig->team_id : NULL);
    json_uint(j, "flags", sig->flags);
    json_string(j, "flags_text", mp_format_cs_flags(sig->flags, flags, sizeof flags));
    json_uint(j, "code_directory_version", sig->cd_version);
    json_string(j, "hash_type", sig->hash_name);
    json_uint(j, "page_size", sig->page_size);
    json_uint(j, "code_slots", sig->n_code_slots);
    json_uint(j, "special_slots", sig->n_special_slots);
    json_begin_array(j, "special_slots_present");
    for (unsigned slot = 1; slot < 32; slot++)
        if (sig->special_slots_present & (1u << slot))
            json_uint(j, NULL, slot);
    json_end_array(j);
    json_uint(j, "code_limit", sig->code_limit);
    json_uint(j, "code_directories", sig->code_directory_count);
    json_uint(j, "runtime_version", sig->runtime_version);
    json_uint(j, "exec_seg_base", sig->exec_seg_base);
    json_uint(j, "exec_seg_limit", sig->exec_seg_limit);
    json_uint(j, "exec_seg_flags", sig->exec_seg_flags);
    json_bool(j, "entitlements_xml", sig->has_entitlements_xml);
    json_bool(j, "entitlements_der", sig->has_entitlements_der);
    json_bool(j, "cms_signature", sig->has_cms && !sig->cms_empty);
    json_hex(j, "cdhash", sig->cdhash, 20);
    json_end_object(j);
}

static void show_json(json_out *j, const mp_image *img)
{
    json_begin_object(j, NULL);
    json_string(j, "file", mp_image_name(img));
    json_bool(j, "universal", mp_image_is_universal(img));
    json_begin_array(j, "slices");
    for (size_t i = 0; i < mp_image_slice_count(img); i++) {
        mp_slice_info s;
        mp_image_slice(img, i, &s);
        json_begin_object(j, NULL);
        json_string(j, "arch", s.arch);
        json_string(j, "filetype", s.filetype_name);
        json_uint(j, "offset", s.file_offset);
        json_uint(j, "size", s.file_size);
        char v[32];
        json_string(j, "platform", s.platform);
        cli_format_version(s.minos, v, sizeof v);
        json_string(j, "minos", s.platform ? v : NULL);
        cli_format_version(s.sdk, v, sizeof v);
        json_string(j, "sdk", s.platform ? v : NULL);
        json_uint(j, "ncmds", s.ncmds);
        json_uint(j, "sizeofcmds", s.sizeofcmds);
        json_uint(j, "head_gap", s.head_gap);
        json_uint(j, "tail_slack", s.tail_slack);
        json_bool(j, "encrypted", s.encrypted);
        json_begin_array(j, "segments");
        for (size_t g = 0; g < s.segment_count; g++) {
            mp_segment_info seg;
            mp_image_segment(img, i, g, &seg);
            json_begin_object(j, NULL);
            json_string(j, "name", seg.name);
            json_uint(j, "vmaddr", seg.vmaddr);
            json_uint(j, "vmsize", seg.vmsize);
            json_uint(j, "fileoff", seg.fileoff);
            json_uint(j, "filesize", seg.filesize);
            json_begin_array(j, "sections");
            for (size_t k = seg.first_section; k < seg.first_section + seg.nsects; k++) {
                mp_section_info sec;
                mp_image_section(img, i, k, &sec);
                json_begin_object(j, NULL);
                json_string(j, "name", sec.sectname);
                json_uint(j, "ordinal", sec.ordinal);
                json_uint(j, "addr", sec.addr);
                json_uint(j, "size", sec.size);
                json_uint(j, "offset", sec.offset);
                json_uint(j, "align", sec.align);
                json_uint(j, "flags", sec.flags);
                json_end_object(j);
            }
            json_end_array(j);
            json_end_object(j);
        }
        json_end_array(j);
        size_t plen = 0;
        const uint8_t *pbytes = mp_image_info_plist(img, i, &plen);
        if (s.has_info_plist) {
            const char *format;
            uint32_t entries;
            char *xml = plist_as_xml(pbytes, plen, &format, &entries);
            json_begin_object(j, "info_plist");
            json_uint(j, "size", plen);
            json_string(j, "format", format);
            json_uint(j, "entries", entries);
            json_string(j, "xml", xml);
            json_end_object(j);
            if (xml)
                plist_to_xml_free(xml);
        } else {
            json_string(j, "info_plist", NULL);
        }
        mp_signature_info sig;
        mp_image_signature(img, i, &sig);
        show_json_signature(j, &sig);
        json_end_object(j);
    }
    json_end_array(j);
    json_end_object(j);
}

/* show --plist: the raw section bytes, like segedit -extract. */
static int show_plist_only(const mp_image *img, const char *arch)
{
    size_t n = mp_image_slice_count(img);
    for (size_t i = 0; i < n; i++) {
        mp_slice_info s;
        mp_image_slice(img, i, &s);
        if (arch && strcmp(arch, s.arch) != 0)
            continue;
        size_t len = 0;
        const uint8_t *bytes = mp_image_info_plist(img, i, &len);
        if (!s.has_info_plist) {
            cli_error("%s: slice %zu (%s): no __TEXT,__info_plist section", mp_image_name(img), i, s.arch);
            return MP_ERR_VERIFY;
        }
        fwrite(bytes, 1, len, stdout);
        return 0;
    }
    cli_error("%s: no slice for architecture %s", mp_image_name(img), arch);
    return MP_ERR_USAGE;
}

int cmd_show(int argc, char **argv)
{
    show_options opt = {0};
    int first_file = argc;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            opt.json = true;
        } else if (strcmp(argv[i], "--plist") == 0) {
            opt.plist_only = true;
        } else if (strcmp(argv[i], "--arch") == 0 && i + 1 < argc) {
            opt.arch = argv[++i];
        } else if (strcmp(argv[i], "--") == 0) {
            first_file = i + 1;
            break;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            cli_error("show: unknown option '%s'", argv[i]);
            return MP_ERR_USAGE;
        } else {
            first_file = i;
            break;
        }
    }
    if (first_file >= argc) {
        cli_error("show: no file given (usage: machoplist show [--json] [--plist [--arch ARCH]] FILE...)");
        return MP_ERR_USAGE;
    }
    int status = 0;
    json_out j;
    json_init(&j, stdout);
    bool many = argc - first_file > 1;
    if (opt.json && many)
        json_begin_array(&j, NULL);
    for (int i = first_file; i < argc; i++) {
        mp_image *img = NULL;
        mp_error err;
        cli_reading(argv[i]);
        if (mp_image_open(argv[i], &img, &err) != MP_OK) {
            status = cli_combine_status(status, cli_report(&err));
            continue;
        }
        if (opt.plist_only) {
            status = cli_combine_status(status, show_plist_only(img, opt.arch));
        } else if (opt.json) {
            show_json(&j, img);
        } else {
            show_text(img);
        }
        mp_image_free(img);
    }
    if (opt.json && many)
        json_end_array(&j);
    if (opt.json && !opt.plist_only)
        json_finish(&j);
    return status;
}
