/* Unit tests of the signer's stages, each called on its own: identifier rule,
 * CodeDirectory version and header sizes, empty blobs, DER entitlements and
 * exec-segment flags, parallel page hashing, universal layout, options. */
#include "hash.h"
#include "macho_format.h"
#include "sign.h"
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static void test_canonical_identifier(void)
{
    /* Cases from Security DiskRep::canonicalIdentifier's comment and edges. */
    static const char *const cases[][2] = {
        {"libfrotz7.3.5.dylib", "libfrotz7"},
        {"mumble.77.plugin", "mumble.77"},
        {"rumble.rb", "rumble"},
        {"/usr/local/bin/hello-arm64", "hello-arm64"},
        {"foo.2.3.4", "foo.2"},
        {"foo2.3", "foo2"},
        {"foo.9", "foo.9"},
        {"foo", "foo"},
        {"3dtool", "3dtool"},
        {"fixture-arm64.bundle", "fixture-arm64"},
        {"trailing.", "trailing."},
        {"esbuild", "esbuild"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[256];
        mp_canonical_identifier(cases[i][0], out, sizeof out);
        CHECK(strcmp(out, cases[i][1]) == 0, "canonical(%s) = %s, expected %s", cases[i][0], out, cases[i][1]);
    }
}

static void test_cd_version(void)
{
    CHECK(mp_cd_choose_version(0x1a0500, 0x4000, 0x8000, false) == 0x20500, "runtime -> 0x20500");
    CHECK(mp_cd_choose_version(0, 0x4000, 0x8000, false) == 0x20400, "execSeg -> 0x20400");
    CHECK(mp_cd_choose_version(0, 0, 0x100000000ull, false) == 0x20300, "> 4 GiB -> 0x20300");
    CHECK(mp_cd_choose_version(0, 0, 0x8000, true) == 0x20200, "team -> 0x20200");
    CHECK(mp_cd_choose_version(0, 0, 0x8000, false) == 0x20100, "else 0x20100");
    CHECK(mp_cd_header_size(0x20500) == 96 && mp_cd_header_size(0x20400) == 88 &&
              mp_cd_header_size(0x20300) == 64 && mp_cd_header_size(0x20200) == 52 &&
              mp_cd_header_size(0x20100) == 48,
          "header sizes 96/88/64/52/48");
    CHECK(mp_code_slots(0, 4096) == 0 && mp_code_slots(1, 4096) == 1 && mp_code_slots(4096, 4096) == 1 &&
              mp_code_slots(4097, 4096) == 2 && mp_code_slots(5, 0) == 1,
          "code slot counts");
    CHECK(mp_cd_size(0x20400, 5, 2, 3, 32) == 88 + 6 + 5 * 32, "cd size");
}

static void test_empty_blobs(void)
{
    uint8_t d[32];
    char h[65];
    CHECK(mp_hash_once(CS_HASHTYPE_SHA256, mp_empty_requirements, sizeof mp_empty_requirements, d), "sha256");
    hex(d, 32, h);
    CHECK(strcmp(h, "987920904eab650e75788c054aa0b0524e6a80bfc71aa32df8d237a61743f986") == 0,
          "SHA-256 of the empty requirements blob is %s", h);
    CHECK(mp_hash_once(CS_HASHTYPE_SHA1, mp_empty_requirements, sizeof mp_empty_requirements, d), "sha1");
    hex(d, 20, h);
    CHECK(strcmp(h, "3a75f6db058529148e14dd7ea1b4729cc09ec973") == 0, "SHA-1 of the empty requirements blob is %s", h);
    hex(mp_empty_cms, sizeof mp_empty_cms, h);
    CHECK(strcmp(h, "fade0b0100000008") == 0, "empty CMS wrapper %s", h);
}

static const char *plist_xml(const char *body)
{
    static char buf[2048];
    snprintf(buf, sizeof buf,
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
             "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist version=\"1.0\">\n%s\n</plist>\n",
             body);
    return buf;
}

static void der_case(const char *body, const char *want)
{
    const char *xml = plist_xml(body);
    uint8_t *blob = NULL;
    uint32_t len = 0;
    mp_error err;
    mp_status st = mp_entitlements_der_blob((const uint8_t *)xml, strlen(xml), &blob, &len, &err);
    CHECK(st == MP_OK, "DER of %s failed: %s", body, st ? err.message : "");
    if (st != MP_OK)
        return;
    char *h = malloc(2 * (size_t)len + 1);
    hex(blob, len, h);
    CHECK(strcmp(h, want) == 0, "DER of %s:\n  got  %s\n  want %s", body, h, want);
    free(h);
    free(blob);
}

static void test_der(void)
{
    /* The empty dictionary: byte for byte what codesign wrote into the pinned
     * sentry-cli signature (slot 7). */
    der_case("<dict/>", "fade71720000000f7005020101b000");
    der_case("<dict><key>get-task-allow</key><true/></dict>",
             "fade717200000024701a020101b01530130c0e6765742d7461736b2d616c6c6f770101ff");
    /* keys sorted bytewise; false, integer, string, array */
    der_case("<dict><key>b</key><false/><key>a</key><integer>300</integer><key>ab</key>"
             "<array><string>x</string></array></dict>",
             "fade71720000002b7021020101b01c30070c01610202012c30090c02616230030c017830060c0162010100");
    const char *bad = plist_xml("<dict><key>r</key><real>1.5</real></dict>");
    uint8_t *blob = NULL;
    uint32_t len = 0;
    mp_error err;
    CHECK(mp_entitlements_der_blob((const uint8_t *)bad, strlen(bad), &blob, &len, &err) == MP_ERR_PLIST,
          "a real cannot be serialized");
    const char *arr = plist_xml("<array/>");
    CHECK(mp_entitlements_der_blob((const uint8_t *)arr, strlen(arr), &blob, &len, &err) == MP_ERR_PLIST,
          "an array is not entitlements");
}

static void test_exec_flags(void)
{
    const char *x = plist_xml("<dict><key>get-task-allow</key><true/><key>com.apple.private.cs.debugger</key><true/>"
                              "<key>dynamic-codesigning</key><true/><key>run-unsigned-code</key><false/>"
                              "<key>com.apple.private.skip-library-validation</key><string>yes</string></dict>");
    uint64_t f = mp_entitlement_exec_flags((const uint8_t *)x, strlen(x));
    CHECK(f == 0x70, "exec flags %#llx, expected 0x70", (unsigned long long)f);
    x = plist_xml("<dict><key>com.apple.private.skip-library-validation</key><true/>"
                  "<key>com.apple.private.amfi.can-load-cdhash</key><true/>"
                  "<key>com.apple.private.amfi.can-execute-cdhash</key><true/></dict>");
    f = mp_entitlement_exec_flags((const uint8_t *)x, strlen(x));
    CHECK(f == 0x380, "exec flags %#llx, expected 0x380", (unsigned long long)f);
}

static void test_page_hashes(void)
{
    size_t size = 16384 * 300 + 123;
    uint8_t *data = malloc(size);
    for (size_t i = 0; i < size; i++)
        data[i] = (uint8_t)(i * 2654435761u >> 13);
    size_t n = mp_code_slots(size, 4096);
    uint8_t *one = malloc(n * 32), *many = malloc(n * 32), last[32];
    CHECK(mp_hash_pages(data, size, 4096, CS_HASHTYPE_SHA256, one, 1, NULL), "one thread");
    CHECK(mp_hash_pages(data, size, 4096, CS_HASHTYPE_SHA256, many, 7, NULL), "seven threads");
    CHECK(memcmp(one, many, n * 32) == 0, "thread count does not change the hashes");
    CHECK(mp_hash_once(CS_HASHTYPE_SHA256, data + (n - 1) * 4096, size - (n - 1) * 4096, last) &&
              memcmp(last, one + (n - 1) * 32, 32) == 0,
          "the last page is hashed at its real length");
    free(one);
    free(many);
    free(data);
}

static void test_fat_layout(void)
{
    mp_fat_piece p[2] = {{CPU_TYPE_X86_64, 3, 12, 5000}, {CPU_TYPE_ARM64, 0, 14, 100}};
    uint64_t offsets[2] = {0, 0}, total = 0;
    uint8_t header[8 + 2 * 20];
    mp_error err;
    CHECK(mp_fat_layout("t", p, 2, offsets, &total, &err) == MP_OK, "fat layout");
    CHECK(total == 16384 + 100, "file ends with the last slice (%llu)", (unsigned long long)total);
    CHECK(offsets[0] == 4096 && offsets[1] == 16384, "slices at 4096 and 16384");
    mp_fat_header_write(p, offsets, 2, header);
    CHECK(header[0] == 0xca && header[7] == 2 && header[8 + 8 + 2] == 0x10 && header[8 + 20 + 8 + 2] == 0x40,
          "header: magic, count, offsets");
    mp_fat_piece big[2] = {{CPU_TYPE_X86_64, 3, 12, 0xfffff000u}, {CPU_TYPE_ARM64, 0, 14, 100}};
    CHECK(mp_fat_layout("t", big, 2, offsets, &total, &err) == MP_ERR_UNSUPPORTED, "a slice past 4 GiB is refused");
}

static void test_options(void)
{
    mp_sign_options o;
    memset(&o, 0x5a, sizeof o);
    mp_sign_options_init(&o);
    CHECK(o.identifier == NULL && o.entitlements == NULL && o.page_size == 0 && o.hash == MP_HASH_AUTO &&
              o.threads == 0,
          "sign options defaults");
    mp_verify_options v;
    mp_verify_options_init(&v);
    CHECK(v.require_info_plist == 1 && v.threads == 0, "verify options defaults");
    static const uint8_t not_macho[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    mp_image *img = NULL;
    mp_error err;
    CHECK(mp_image_open_memory(not_macho, sizeof not_macho, "x", &img, &err) == MP_ERR_NOT_MACHO, "not Mach-O");
    CHECK(mp_image_sign(NULL, NULL, NULL, &err) == MP_ERR_USAGE, "NULL image");
}

int main(void)
{
    test_canonical_identifier();
    test_cd_version();
    test_empty_blobs();
    test_der();
    test_exec_flags();
    test_page_hashes();
    test_fat_layout();
    test_options();
    if (fails) {
        fprintf(stderr, "%d of %d checks failed\n", fails, checks);
        return 1;
    }
    printf("%d checks passed\n", checks);
    return 0;
}
