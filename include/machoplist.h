/* machoplist: embed an Info.plist into a finished Mach-O executable and
 * re-sign it ad hoc, so macOS can attribute it to an identity
 * (Local Network Privacy and other TCC prompts).
 *
 * Conventions for every call in this header:
 * - Functions return an mp_status; MP_OK (0) on success. On failure the
 *   mp_error, when the caller passes one, holds the same status and a one-line
 *   message naming the file, the slice and the load command or offset at fault.
 * - The library never prints, never exits and never aborts on bad input.
 * - Handles (mp_image, mp_verify_report) are owned by the caller and freed
 *   with their _free function; free(NULL)-style calls are allowed.
 * - There is no global state: distinct handles may be used from distinct
 *   threads at once. A single handle must not be used from two threads at once.
 * - Nothing touches the disk except calls whose name says so (mp_image_open
 *   reads, mp_image_write and mp_write_* write, mp_lock_path locks).
 */
#ifndef MACHOPLIST_H
#define MACHOPLIST_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MACHOPLIST_VERSION_MAJOR 0
#define MACHOPLIST_VERSION_MINOR 1
#define MACHOPLIST_VERSION_PATCH 0

/* Status codes. They double as the CLI's exit codes. */
typedef enum mp_status {
    MP_OK = 0,
    MP_ERR_VERIFY = 1, /* verification found the signature invalid or the plist unbound */
    MP_ERR_USAGE = 2, /* bad argument or option */
    MP_ERR_IO = 3, /* missing, unreadable, not a regular file, or a write failed */
    MP_ERR_NOT_MACHO = 4, /* the file is not Mach-O at all */
    MP_ERR_MALFORMED = 5, /* Mach-O that breaks a rule loaders enforce */
    MP_ERR_UNSUPPORTED = 6, /* valid but not handled (FAT_MAGIC_64, encrypted, ...) */
    MP_ERR_NO_ROOM = 7, /* not enough free space in __TEXT for the change */
    MP_ERR_PLIST = 8, /* the plist given is unusable */
    MP_ERR_SIGNATURE = 9, /* the existing signature cannot be handled */
    MP_ERR_NOMEM = 10 /* out of memory */
} mp_status;

typedef struct mp_error {
    mp_status status;
    char message[1024];
} mp_error;

/* "0.1.0" */
const char *mp_version(void);
/* Short fixed name of a status, e.g. "malformed". */
const char *mp_status_name(mp_status status);

/* ------------------------------------------------------------------------ */
/* Reading */

typedef struct mp_image mp_image;

/* Map and parse a file. Fails with MP_ERR_IO for missing, unreadable or
 * non-regular files, MP_ERR_UNSUPPORTED for a thin file of 4 GiB or more.
 * The file is mapped, not read into memory: it must not be truncated while
 * the image is open (a page past the new end raises SIGBUS, as for any
 * mapped file; the machoplist CLI turns that into exit 3). */
mp_status mp_image_open(const char *path, mp_image **out, mp_error *err);
/* Parse bytes in memory (copied); name is used in messages. */
mp_status mp_image_open_memory(const void *data, size_t size, const char *name,
                               mp_image **out, mp_error *err);
void mp_image_free(mp_image *image);

/* MP_OK when plist bytes are safe to hand to a plist parser: nesting at most
 * 64 levels, no NUL inside the text or a string (libplist recurses on
 * nesting and aborts on such NULs). Every plist the library reads is checked
 * so; callers that parse plists themselves can do the same. */
mp_status mp_plist_check(const void *bytes, size_t len, mp_error *err);

/* A copy of an image as it is now, for comparing or writing later. Cheap: the
 * copy shares the file's pages instead of duplicating them. */
mp_status mp_image_copy(const mp_image *image, mp_image **out, mp_error *err);
/* 1 when both images hold the same bytes, else 0. Pages both share with the
 * same file are equal without being read. */
int mp_image_same_bytes(const mp_image *a, const mp_image *b);

/* The file's current bytes (after any in-memory edit), borrowed, read-only.
 * A file is mapped, not read: touching every byte makes every page resident;
 * the library's own passes (sign, verify, write) keep memory flat instead. */
const uint8_t *mp_image_bytes(const mp_image *image, size_t *size);
const char *mp_image_name(const mp_image *image);
int mp_image_is_universal(const mp_image *image);
size_t mp_image_slice_count(const mp_image *image);

typedef struct mp_slice_info {
    const char *arch; /* "arm64", "x86_64", "arm64e", "i386", ... */
    uint32_t cputype, cpusubtype;
    uint32_t filetype; /* MH_EXECUTE 2, MH_DYLIB 6, MH_BUNDLE 8, ... */
    const char *filetype_name; /* "execute", "dylib", "bundle", ... */
    int is64;
    uint64_t file_offset, file_size; /* the slice within the file */
    uint32_t fat_align; /* log2 alignment; 0 for thin files */
    uint32_t ncmds, sizeofcmds, header_flags;
    size_t segment_count, section_count;
    const char *platform; /* "macos", "ios", ...; NULL without a platform command */
    uint32_t minos, sdk; /* packed xxxx.yy.zz as in LC_BUILD_VERSION */
    int has_uuid;
    uint8_t uuid[16];
    uint64_t load_commands_end; /* header + sizeofcmds */
    uint64_t head_gap; /* free bytes between the load commands and the first __TEXT section */
    uint64_t tail_slack; /* free bytes between the last __TEXT section and the end of __TEXT */
    int has_info_plist; /* a __TEXT,__info_plist section exists */
    int has_signature; /* an LC_CODE_SIGNATURE exists */
    int encrypted; /* LC_ENCRYPTION_INFO with cryptid != 0 */
} mp_slice_info;

mp_status mp_image_slice(const mp_image *image, size_t slice, mp_slice_info *out);

typedef struct mp_segment_info {
    char name[17];
    uint64_t vmaddr, vmsize, fileoff, filesize;
    uint32_t maxprot, initprot, flags, nsects;
    size_t first_section; /* index for mp_image_section */
} mp_segment_info;

mp_status mp_image_segment(const mp_image *image, size_t slice, size_t index,
                           mp_segment_info *out);

typedef struct mp_section_info {
    char segname[17], sectname[17];
    uint64_t addr, size;
    uint32_t offset, align, reloff, nreloc, flags;
    unsigned ordinal; /* 1-based, across all segments, as nlist.n_sect counts */
} mp_section_info;

mp_status mp_image_section(const mp_image *image, size_t slice, size_t index,
                           mp_section_info *out);

/* Raw bytes of __TEXT,__info_plist of a slice (borrowed), or NULL. */
const uint8_t *mp_image_info_plist(const mp_image *image, size_t slice, size_t *len);

typedef struct mp_signature_info {
    int present; /* LC_CODE_SIGNATURE exists */
    int decoded; /* its superblob parsed; else error says why */
    char error[256];
    uint32_t dataoff, datasize;
    char identifier[256]; /* as in the file, control characters shown as '?' */
    char team_id[64]; /* "" when none; control characters shown as '?' */
    uint32_t cd_version, flags; /* of the primary CodeDirectory */
    uint32_t hash_type, hash_size;
    const char *hash_name; /* "sha1", "sha256", ... */
    uint32_t page_size; /* bytes; 0 means the whole file is one page */
    uint32_t n_special_slots, n_code_slots, code_limit;
    uint32_t special_slots_present; /* bit n set: special slot n holds a non-zero hash */
    size_t code_directory_count; /* primary plus alternates */
    uint32_t runtime_version; /* 0 when not set */
    uint64_t exec_seg_base, exec_seg_limit, exec_seg_flags;
    int has_requirements, has_entitlements_xml, has_entitlements_der, has_cms;
    int cms_empty; /* the CMS wrapper holds no signature (ad hoc) */
    size_t blob_count;
    uint8_t cdhash[20]; /* of the primary CodeDirectory */
} mp_signature_info;

mp_status mp_image_signature(const mp_image *image, size_t slice, mp_signature_info *out);

/* XML entitlements plist bytes (without the blob header), borrowed, or NULL. */
const uint8_t *mp_image_entitlements(const mp_image *image, size_t slice, size_t *len);

/* Code-signing flags as codesign prints them: "0x20002(adhoc,linker-signed)".
 * Writes at most len bytes including the NUL; returns buf. */
char *mp_format_cs_flags(uint32_t flags, char *buf, size_t len);

/* Write the image's current bytes to path atomically: a temporary file in the
 * same directory, fsync, rename. A symlink at path is followed and kept;
 * the target's mode and owner are kept. On failure the file is untouched and
 * the temporary removed; a killed writer leaves its temporary
 * (.NAME.machoplist-XXXXXX), which the next write to that file removes. */
mp_status mp_image_write(const mp_image *image, const char *path, mp_error *err);

/* The same write in two steps, so that it can overlap other work (see
 * mp_image_sign_write). mp_write_begin checks that path can be replaced and
 * creates the temporary file; nothing at path changes. mp_write_commit
 * writes image into the temporary and renames it over path as
 * mp_image_write does; mp_write_abort removes the temporary. Either one ends
 * the write (the handle is freed whatever the result). A target replaced by
 * another file between begin and commit fails the commit. */
typedef struct mp_write mp_write;

mp_status mp_write_begin(const char *path, mp_write **out, mp_error *err);
mp_status mp_write_commit(mp_write *write, const mp_image *image, mp_error *err);
void mp_write_abort(mp_write *write);
/* Where write's temporary file is: the returned name, inside the directory
 * open as *dir_fd. Both belong to write; a caller that wants to remove the
 * temporary from a signal handler (unlinkat) keeps a duplicate of the
 * descriptor and a copy of the name. */
const char *mp_write_temp_name(const mp_write *write, int *dir_fd);

/* Advisory lock for a read-modify-write of the file at path: take it before
 * mp_image_open and release it after mp_image_write, so two processes editing
 * one file run one after the other and the second reads the first's result.
 * It is an exclusive flock(2) on the file (a symlink at path is followed),
 * taken again when the holder it waited for replaced the file. Waits while
 * another process holds it; fails with MP_ERR_IO when path is missing,
 * unreadable or not a regular file. The kernel drops it when the process
 * dies. Do not hold two locks on one file in one process (they would wait on
 * each other). */
typedef struct mp_lock mp_lock;

mp_status mp_lock_path(const char *path, mp_lock **out, mp_error *err);
void mp_lock_release(mp_lock *lock);

/* ------------------------------------------------------------------------ */
/* Injection: add or replace __TEXT,__info_plist */

typedef struct mp_inject_options {
    int make_room; /* when room is short, drop load commands no loader uses
                      (LC_SOURCE_VERSION; zero-size LC_DATA_IN_CODE and LC_FUNCTION_STARTS) */
    int keep_binary_plist; /* embed a binary plist as given instead of converting it to XML */
} mp_inject_options;

void mp_inject_options_init(mp_inject_options *opt);

/* Where the plist goes in every slice, computed before any byte changes. */
typedef struct mp_plan mp_plan;

/* Plans the injection of plist (XML, binary, or JSON with libplist >= 2.3;
 * must be a dictionary with a non-empty string CFBundleIdentifier). XML is
 * embedded byte for byte; other formats are converted to XML unless
 * keep_binary_plist. Fails, changing nothing, when any slice cannot take it:
 * MP_ERR_NO_ROOM (message: bytes needed and available, and the remedies),
 * MP_ERR_UNSUPPORTED (encrypted, 32-bit, ...), MP_ERR_PLIST. */
mp_status mp_plan_inject(const mp_image *image, const uint8_t *plist, size_t len, const mp_inject_options *opt,
                         mp_plan **out, mp_error *err);
/* Plans removing __TEXT,__info_plist from every slice that has one. */
mp_status mp_plan_remove(const mp_image *image, mp_plan **out, mp_error *err);
/* The plan as text, a few lines per slice (what --dry-run prints); free() it. */
char *mp_plan_describe(const mp_plan *plan);
/* Nonzero when applying the plan leaves every slice's section bytes as they are. */
int mp_plan_is_noop(const mp_plan *plan);
void mp_plan_free(mp_plan *plan);

/* The Info.plist machoplist embeds when the user gives none. */
typedef struct mp_default_plist_options {
    const char *identifier; /* CFBundleIdentifier; NULL: keep the binary's own or derive one */
    const char *usage; /* NSLocalNetworkUsageDescription; NULL: a default sentence */
    const char *const *set; /* "KEY=VALUE" string entries added or replaced */
    size_t nset;
    int replace; /* ignore an already embedded plist instead of merging into it */
} mp_default_plist_options;

/* Builds the default plist (XML) for the binary at path (its real path is
 * looked up to recognise a Homebrew Cellar). CFBundleIdentifier is, in order:
 * opt->identifier; the embedded plist's; a reverse-DNS identifier of a
 * non-linker signature; "sh.brew.FORMULA" (".PROGRAM" when it differs) inside
 * a Cellar; "org.machoplist.PROGRAM". Never a version. Keys already embedded
 * are kept unless opt->replace. *out is malloc'd; the identifier is copied to
 * identifier (cap bytes). */
mp_status mp_default_plist(const mp_image *image, const char *path, const mp_default_plist_options *opt,
                           uint8_t **out, size_t *out_len, char *identifier, size_t cap, mp_error *err);

/* Applies a plan made for this image, in memory; the image is re-parsed.
 * Does not sign: call mp_image_sign afterwards. */
mp_status mp_image_apply(mp_image *image, const mp_plan *plan, mp_error *err);

/* ------------------------------------------------------------------------ */
/* Signing (ad hoc, as `codesign -s - -f --preserve-metadata=entitlements,flags,runtime`
 * on macOS 26 writes it; see doc/machoplist.1 for the rules followed). */

typedef enum mp_hash_choice {
    MP_HASH_AUTO = 0, /* codesign's rule: SHA-1 + SHA-256 when a slice targets
                         macOS < 10.11.4 (iOS/tvOS < 11, watchOS < 12), else SHA-256 */
    MP_HASH_SHA256 = 1, /* one SHA-256 CodeDirectory */
    MP_HASH_SHA1_SHA256 = 2 /* SHA-1 primary + SHA-256 alternate (slot 0x1000) */
} mp_hash_choice;

typedef struct mp_sign_options {
    const char *identifier; /* NULL: CFBundleIdentifier of the embedded plist, else
                               codesign's file-name rule (name-55554944<uuid hex>) */
    const uint8_t *entitlements; /* XML plist bytes replacing the entitlements;
                                    NULL keeps the old signature's */
    size_t entitlements_len;
    uint32_t page_size; /* 0: 16384 for arm64/arm64e (not tvOS), 4096 for others */
    mp_hash_choice hash;
    unsigned threads; /* page-hashing threads; 0: number of online CPUs */
} mp_sign_options;

void mp_sign_options_init(mp_sign_options *options);

#define MP_SIGN_MAX_SLICES 64

typedef struct mp_sign_slice_result {
    char arch[16];
    char identifier[256];
    uint32_t cd_version; /* of the primary CodeDirectory */
    uint32_t flags; /* CodeDirectory flags written */
    uint32_t page_size;
    uint32_t hash_count; /* CodeDirectories written (1 or 2) */
    uint32_t signature_offset, signature_size; /* the new LC_CODE_SIGNATURE */
    uint32_t runtime_version; /* 0 when not set */
    uint64_t exec_seg_flags;
    int had_signature; /* an old signature was replaced */
    int was_linker_signed; /* ... and it was a linker signature (nothing kept) */
    int dropped_identity; /* ... and it carried a CMS signature or a team id */
    char old_team_id[64]; /* "" when none */
    char unreadable[256]; /* the old signature could not be decoded: why (it was replaced,
                             nothing kept from it); "" otherwise */
    uint8_t cdhash[20]; /* of the new primary CodeDirectory */
} mp_sign_slice_result;

typedef struct mp_sign_result {
    int dropped_identity; /* some slice lost a Developer ID (CMS/team) identity */
    char old_team_id[64]; /* the first one dropped, "" when none */
    size_t slice_count;
    mp_sign_slice_result slices[MP_SIGN_MAX_SLICES];
} mp_sign_result;

/* Signs every slice in memory (adds or replaces LC_CODE_SIGNATURE, resizes
 * __LINKEDIT, re-lays a universal file) and re-parses the image from the new
 * bytes. On failure the image is unchanged. options and result may be NULL.
 * Never refuses a Developer ID signature: result->dropped_identity says so,
 * and callers decide whether to write. */
mp_status mp_image_sign(mp_image *image, const mp_sign_options *options, mp_sign_result *result,
                        mp_error *err);

/* mp_image_sign, and while the pages are hashed, the pages the signature
 * leaves unchanged are already copied into write (from mp_write_begin) by a
 * thread of its own, file to file. Commit write with this image afterwards
 * (only what is still missing is written then), or abort it. write NULL: the
 * same as mp_image_sign. */
mp_status mp_image_sign_write(mp_image *image, const mp_sign_options *options, mp_write *write,
                              mp_sign_result *result, mp_error *err);

/* ------------------------------------------------------------------------ */
/* Verification */

typedef struct mp_verify_options {
    int require_info_plist; /* default 1: an unbound (or missing) Info.plist fails */
    unsigned threads; /* 0: number of online CPUs */
} mp_verify_options;

void mp_verify_options_init(mp_verify_options *options);

typedef struct mp_verify_report mp_verify_report;

#define MP_VERIFY_MAX_CDS 6

/* One slice as `codesign -dvvv` describes it, plus our verdict. */
typedef struct mp_verify_slice {
    const char *arch;
    int is_signed; /* LC_CODE_SIGNATURE present and decoded */
    int valid; /* no problem found in this slice */
    size_t problem_count;
    char identifier[256]; /* control characters shown as '?' */
    char team_id[64]; /* "" when not set; control characters shown as '?' */
    uint32_t cd_version, cd_size, flags; /* of the CodeDirectory codesign shows (best hash) */
    uint32_t n_code_slots, n_special_slots, page_size;
    const char *hash_name;
    uint32_t hash_size;
    size_t cd_count;
    char hash_choices[64]; /* "sha1,sha256" */
    const char *candidate_names[MP_VERIFY_MAX_CDS];
    uint8_t candidate_cdhash[MP_VERIFY_MAX_CDS][48]; /* full length */
    uint32_t candidate_len[MP_VERIFY_MAX_CDS];
    uint8_t cdhash[20]; /* CDHash= (best hash, truncated) */
    int adhoc; /* Signature=adhoc (empty or no CMS) */
    uint32_t cms_size; /* CMS payload bytes when not ad hoc */
    int info_plist_bound;
    uint32_t info_plist_entries;
    uint32_t requirements_count, requirements_size; /* "Internal requirements" */
    uint32_t runtime_version;
    uint64_t exec_seg_base, exec_seg_limit, exec_seg_flags;
    uint32_t signature_offset, signature_size;
} mp_verify_slice;

/* Verifies every slice: structure, every page hash of every CodeDirectory,
 * every special slot, layout (signature ends __LINKEDIT and the slice, 16-byte
 * aligned; universal layout). Returns MP_OK when valid and (if required) every
 * slice's Info.plist is bound, MP_ERR_VERIFY otherwise; other statuses for
 * usage or memory errors. *report (when out is non-NULL) is set on MP_OK and
 * MP_ERR_VERIFY. */
mp_status mp_image_verify(const mp_image *image, const mp_verify_options *options, mp_verify_report **out,
                          mp_error *err);
void mp_verify_report_free(mp_verify_report *report);

int mp_verify_report_valid(const mp_verify_report *report); /* signatures valid */
int mp_verify_report_info_plist_bound(const mp_verify_report *report); /* in every slice */
size_t mp_verify_report_slice_count(const mp_verify_report *report);
mp_status mp_verify_report_slice(const mp_verify_report *report, size_t slice, mp_verify_slice *out);
/* Problems as one-line messages naming file, slice and what is wrong. */
size_t mp_verify_report_problem_count(const mp_verify_report *report);
const char *mp_verify_report_problem(const mp_verify_report *report, size_t index);
/* Slice index a problem belongs to, or (size_t)-1 for file-level problems. */
size_t mp_verify_report_problem_slice(const mp_verify_report *report, size_t index);

#ifdef __cplusplus
}
#endif

#endif
