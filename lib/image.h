/* Internal model of a parsed Mach-O file (thin or universal).
 * Produced by the reader (read_*.c), consumed by every later stage.
 * All pointers into file bytes are views into mp_image.data (the read-only
 * view of mp_image.buf, see buffer.h) and are valid as long as the image is. Offsets are relative to the slice start unless
 * a name says otherwise. */
#ifndef MP_IMAGE_H
#define MP_IMAGE_H

#include "buffer.h"
#include "machoplist.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mp_lc {
    uint32_t cmd;
    uint32_t cmdsize;
    uint32_t off; /* offset of the command within the slice */
} mp_lc;

typedef struct mp_segment {
    char name[17];
    uint64_t vmaddr, vmsize, fileoff, filesize;
    uint32_t maxprot, initprot, nsects, flags;
    uint32_t lc_index; /* index into mp_slice.lcs */
    size_t first_section; /* index into mp_slice.sects */
} mp_segment;

typedef struct mp_section {
    char segname[17], sectname[17];
    uint64_t addr, size;
    uint32_t offset, align, reloff, nreloc, flags;
    uint32_t hdr_off; /* offset of the section header within the slice */
    uint32_t segment; /* index into mp_slice.segs */
    unsigned ordinal; /* 1-based, as nlist.n_sect counts */
} mp_section;

/* One CodeDirectory of an embedded signature. */
typedef struct mp_cd {
    uint32_t slot; /* superblob index type: 0 or 0x1000+n */
    uint32_t blob_off; /* offset of the blob within the superblob */
    uint32_t length, version, flags;
    uint32_t hash_offset, ident_offset, n_special, n_code, code_limit;
    uint8_t hash_size, hash_type, platform, page_shift;
    uint32_t scatter_offset, team_offset;
    uint64_t code_limit64, exec_seg_base, exec_seg_limit, exec_seg_flags;
    uint32_t runtime, pre_encrypt_offset;
    const char *identifier; /* NUL-terminated inside the blob */
    const char *team_id; /* NULL when absent */
    const uint8_t *blob; /* whole CodeDirectory blob */
} mp_cd;

typedef struct mp_blob_ref {
    uint32_t type, offset, magic, length;
} mp_blob_ref;

#define MP_MAX_CDS 6

typedef struct mp_signature {
    bool present; /* an LC_CODE_SIGNATURE exists */
    bool decoded; /* the superblob parsed; else error says why */
    char error[256];
    uint32_t dataoff, datasize; /* from LC_CODE_SIGNATURE */
    const uint8_t *superblob; /* view of [dataoff, dataoff+datasize) */
    uint32_t superblob_len, count;
    mp_blob_ref *blobs; /* count entries, as in the index */
    mp_cd cds[MP_MAX_CDS];
    size_t ncds;
    const uint8_t *requirements; uint32_t requirements_len; /* whole blob */
    const uint8_t *ent_xml; uint32_t ent_xml_len; /* whole blob, header included */
    const uint8_t *ent_der; uint32_t ent_der_len;
    const uint8_t *cms; uint32_t cms_len;
} mp_signature;

typedef struct mp_slice {
    size_t index;
    uint64_t offset, size; /* within the file */
    uint32_t fat_align; /* log2; universal files only */
    const uint8_t *data; /* slice bytes */
    bool is64;
    uint32_t magic, cputype, cpusubtype, filetype, ncmds, sizeofcmds, flags;
    uint32_t header_size;
    char arch[16];

    mp_lc *lcs; size_t nlcs;
    mp_segment *segs; size_t nsegs;
    mp_section *sects; size_t nsects;

    int text_seg, linkedit_seg, info_plist_sect; /* -1 when absent */
    uint64_t lc_end; /* header_size + sizeofcmds */
    uint64_t low_fileoff; /* lowest offset of a non-empty file-backed section in __TEXT */
    uint64_t head_gap, tail_slack;

    bool has_platform; /* LC_BUILD_VERSION or LC_VERSION_MIN_* */
    uint32_t platform, minos, sdk;
    bool has_uuid; uint8_t uuid[16];
    int codesig_lc, symtab_lc, dysymtab_lc; /* indexes into lcs, -1 when absent */
    uint32_t symoff, nsyms, stroff, strsize;
    bool encrypted; /* LC_ENCRYPTION_INFO(_64) with cryptid != 0 */
    mp_signature sig;
} mp_slice;

struct mp_image {
    char *name; /* file path or caller-given name, for messages */
    mp_buf *buf; /* owned */
    const uint8_t *data; /* buf->base */
    size_t size;
    bool fat;
    mp_slice *slices; size_t nslices;
};

/* Zero-fill section types occupy no bytes in the file. */
static inline bool mp_is_zerofill(uint32_t flags)
{
    uint32_t type = flags & 0xffu; /* SECTION_TYPE */
    return type == 0x1u || type == 0xcu || type == 0x12u; /* S_ZEROFILL, S_GB_ZEROFILL, S_THREAD_LOCAL_ZEROFILL */
}

/* True when a section occupies bytes in the file. */
static inline bool mp_section_in_file(const mp_section *sec)
{
    return sec->size > 0 && !mp_is_zerofill(sec->flags);
}

/* A CodeDirectory's page size in bytes; 0 means one page for everything. */
static inline uint32_t mp_cd_page_size(const mp_cd *cd)
{
    return cd->page_shift && cd->page_shift < 32 ? 1u << cd->page_shift : 0;
}

/* Reader entry points (read_image.c). buf is owned by the image on success
 * and freed on failure. */
mp_status mp_image_parse(mp_buf *buf, const char *name, mp_image **out, mp_error *err);
/* Replaces an image's bytes with buf (owned by the image on success, freed on
 * failure) and re-parses; on failure the image is left as it was. */
mp_status mp_image_reset(mp_image *img, mp_buf *buf, mp_error *err);
mp_status mp_parse_slice(mp_image *img, mp_slice *s, mp_error *err);
void mp_parse_signature(mp_slice *s);
void mp_slice_release(mp_slice *s);

/* Errors (error.c): set err (may be NULL) and return status. */
/* Replaces control characters (and DEL) by '?': strings copied from a file
 * reach terminals and one-line messages. */
void mp_mask_controls(char *text);
/* Copies src (NULL = "") into dst, truncated to cap, control characters masked. */
void mp_copy_text(char *dst, size_t cap, const char *src);
mp_status mp_fail(mp_error *err, mp_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefix for slice-level messages: "NAME: slice N (arch)". */
void mp_slice_where(const mp_image *img, const mp_slice *s, char *buf, size_t len);

/* Atomic file replacement (write_file.c); new_mode applies when path does not exist. */
#include <sys/types.h>
mp_status mp_write_atomic(const char *path, const mp_buf *data, mode_t new_mode, mp_error *err);
/* Readies w's temporary for data, the image about to be committed, whose
 * bytes the signatures cover are final. Where the filesystem clones, the
 * source file is cloned into it and NULL returned: commit then writes only
 * what changed. Otherwise the space is reserved and a sink returned for the
 * hashing threads to write what they hash, each range they completed then
 * given to mp_write_covered. Commit writes whatever is still missing. */
typedef struct mp_page_sink mp_page_sink;
mp_page_sink *mp_write_prepare(mp_write *w, const mp_buf *data);
void mp_write_covered(mp_write *w, uint64_t off, uint64_t len);

const char *mp_arch_name(uint32_t cputype, uint32_t cpusubtype);
const char *mp_filetype_name(uint32_t filetype);
const char *mp_platform_name(uint32_t platform);
void mp_segname_copy(char dst[17], const uint8_t *src);

#endif
