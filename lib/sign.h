/* Internal interface of the ad-hoc signer, one stage per file:
 *   sign_plan.c    policy: what each slice is signed with
 *   sign_layout.c  LC_CODE_SIGNATURE and __LINKEDIT, as codesign_allocate does
 *   sign_blobs.c   CodeDirectory / SuperBlob bytes (big-endian)
 *   sign_der.c     DER entitlements from XML (CoreEntitlements form)
 *   page_hash.c    page hashing, parallel
 *   sign_slice.c   one slice: plan + layout + blobs -> new slice bytes
 *   fat_write.c    re-laying a universal file
 *   api_sign.c     mp_image_sign
 * The rules and where they were read are listed in doc/machoplist.1 and at
 * each function. */
#ifndef MP_SIGN_H
#define MP_SIGN_H

#include "hash.h"
#include "image.h"
#include "page_sink.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Security CodeSigner.cpp: state.mCMSSize when no "cmssize" is given. codesign
 * reserves this much for the CMS blob even when signing ad hoc; the unused
 * part of the allocation stays zero. */
#define MP_CMS_SIZE_ESTIMATE 18000u
#define MP_MAX_HASHES 2u

extern const uint8_t mp_empty_requirements[12]; /* fade0c01 0000000c 00000000 */
extern const uint8_t mp_empty_cms[8]; /* fade0b01 00000008 */

/* ---- policy (sign_plan.c) ---- */

typedef struct mp_sign_slice_plan {
    unsigned hash_types[MP_MAX_HASHES]; /* superblob order: primary (slot 0) first */
    size_t nhashes;
    uint32_t page_size; /* bytes */
    uint32_t flags; /* CodeDirectory flags */
    uint32_t runtime[MP_MAX_HASHES]; /* runtime version per hash type; 0 = none */
    uint64_t exec_base, exec_limit, exec_flags; /* exec_limit 0: no execSeg fields */
    bool has_info_plist; /* __TEXT,__info_plist exists (slot 1 is filled) */
    const uint8_t *info_plist; size_t info_plist_len;
    const uint8_t *ent_xml; uint32_t ent_xml_len; /* whole blobs (header included) or NULL */
    const uint8_t *ent_der; uint32_t ent_der_len;
    uint64_t estimate_limit; /* old signing extent, used for codesign's size estimate */
    bool had_signature, was_linker_signed, dropped_identity;
    char old_team_id[64];
    char unreadable[256]; /* why the old signature could not be decoded; "" when it could */
} mp_sign_slice_plan;

typedef struct mp_sign_plan {
    char *identifier; /* one identifier for every slice */
    unsigned threads;
    size_t main_slice; /* the slice codesign reads inherited metadata from */
    mp_sign_slice_plan *slices;
    size_t nslices;
    uint8_t *owned[4]; /* blobs built here (entitlements from options, generated DER) */
} mp_sign_plan;

mp_status mp_sign_plan_make(const mp_image *img, const mp_sign_options *opt, mp_sign_plan *plan, mp_error *err);
void mp_sign_plan_release(mp_sign_plan *plan);

/* Security DiskRep::canonicalIdentifier: the file name without directories and
 * without a final non-numeric extension; numeric suffixes after the first
 * are dropped ("libfrotz7.3.5.dylib" -> "libfrotz7"). */
void mp_canonical_identifier(const char *path, char *out, size_t len);
/* The slice codesign treats as "the" architecture of a universal file on an
 * Apple silicon Mac: arm64e, else arm64, else any arm64, else the first. */
size_t mp_main_slice(const mp_image *img);

/* ---- layout (sign_layout.c) ---- */

typedef struct mp_sig_layout {
    uint32_t dataoff; /* new signature offset, 16-byte aligned = codeLimit */
    uint32_t datasize;
    uint64_t keep; /* bytes kept from the old slice: [0, keep) */
    bool add_command; /* append a new LC_CODE_SIGNATURE */
    uint32_t command_off; /* offset of the LC_CODE_SIGNATURE command */
    uint64_t linkedit_filesize, linkedit_vmsize;
    uint64_t new_size; /* dataoff + datasize */
} mp_sig_layout;

/* Where the signature goes; fails with MP_ERR_NO_ROOM when a new load command
 * does not fit. */
mp_status mp_sig_layout_plan(const mp_image *img, const mp_slice *s, mp_sig_layout *l, mp_error *err);
/* Fills datasize and the __LINKEDIT sizes for a signature of datasize bytes. */
mp_status mp_sig_layout_size(const mp_image *img, const mp_slice *s, mp_sig_layout *l, uint32_t datasize,
                             mp_error *err);
/* Writes the new slice (l->new_size bytes, signature area zeroed) into out at
 * offset at: the kept bytes are shared with img's (buffer.h), the load
 * commands patched. False when out of memory. */
bool mp_sig_layout_apply(const mp_image *img, const mp_slice *s, const mp_sig_layout *l, mp_buf *out, size_t at);
/* cctools get_seg_align(): log2 of the segment alignment guessed from vmaddrs. */
uint32_t mp_seg_align(const mp_slice *s);

/* ---- blobs (sign_blobs.c) ---- */

typedef struct mp_cd_params {
    unsigned hash_type;
    uint32_t version, flags, page_size;
    uint32_t code_limit;
    const char *identifier;
    uint32_t n_special; /* highest special slot */
    const uint8_t *special; /* hash of slot n at (n - 1) * hash size, n = 1..n_special */
    uint64_t exec_base, exec_limit, exec_flags;
    uint32_t runtime;
} mp_cd_params;

/* Security CodeDirectory::Builder::build: the smallest version that holds
 * what is set. */
uint32_t mp_cd_choose_version(uint32_t runtime, uint64_t exec_limit, uint64_t code_limit, bool has_team);
uint32_t mp_cd_header_size(uint32_t version);
uint64_t mp_cd_size(uint32_t version, size_t ident_len, uint32_t n_special, uint64_t n_code, unsigned hash_size);
uint32_t mp_code_slots(uint64_t code_limit, uint32_t page_size);
/* Writes a whole CodeDirectory (mp_cd_size bytes) hashing the code_limit
 * bytes at code_off in code. With a sink, the hashed bytes are also written
 * to it at the same offset (code is laid out as the output file). */
mp_status mp_cd_write(const mp_cd_params *p, const mp_buf *code, size_t code_off, unsigned threads,
                      mp_page_sink *sink, uint8_t *out, size_t out_len);

typedef struct mp_blob_piece {
    uint32_t type;
    const uint8_t *data;
    uint32_t len;
} mp_blob_piece;

/* Size of a SuperBlob holding these pieces. */
uint64_t mp_superblob_size(const mp_blob_piece *pieces, size_t n);
/* Writes the SuperBlob; pieces must be sorted by type. Returns its length. */
uint32_t mp_superblob_write(const mp_blob_piece *pieces, size_t n, uint8_t *out);

/* ---- entitlements (sign_der.c) ---- */

/* exec-segment flags implied by an entitlements plist (Security
 * Signer::cookEntitlements). */
uint64_t mp_entitlement_exec_flags(const uint8_t *xml, size_t len);
/* The DER entitlements blob (fade7172 header included) for an XML plist,
 * malloc'd. MP_ERR_PLIST when the plist is not a dictionary or holds a type
 * CoreEntitlements cannot serialize (data, date, real). */
mp_status mp_entitlements_der_blob(const uint8_t *xml, size_t len, uint8_t **blob, uint32_t *blob_len,
                                   mp_error *err);

/* ---- hashing (page_hash.c) ---- */

unsigned mp_default_threads(void);
/* What page hashing does with the bytes besides hashing them; all optional. */
typedef struct mp_page_io {
    const mp_buf *drop; /* data is drop->base + drop_off: give the mapped file pages back once hashed */
    size_t drop_off;
    mp_page_sink *sink; /* write data[k] to the sink's file at sink_off + k once hashed */
    uint64_t sink_off;
} mp_page_io;

/* Hashes data[0, limit) in pages of page_size (the last one short) into out,
 * one digest per page, using up to threads threads. io may be NULL. */
bool mp_hash_pages(const uint8_t *data, uint64_t limit, uint32_t page_size, unsigned hash_type, uint8_t *out,
                   unsigned threads, const mp_page_io *io);

/* ---- one slice (sign_slice.c) ---- */

#define MP_MAX_SPECIAL_SLOT 7u

/* What signing a slice takes, worked out before any byte is written: the
 * layout (so the new size is known for a universal file's layout), the
 * blobs besides the CodeDirectories, and the special-slot hashes. */
typedef struct mp_slice_signing {
    mp_sig_layout layout;
    mp_blob_piece extra[3]; /* requirements, entitlements (XML, DER), in type order */
    size_t nextra;
    uint32_t n_special;
    uint8_t special[MP_MAX_HASHES][MP_MAX_SPECIAL_SLOT * MP_HASH_MAX];
} mp_slice_signing;

mp_status mp_sign_slice_prepare(const mp_image *img, const mp_slice *s, const mp_sign_plan *plan,
                                const mp_sign_slice_plan *sp, mp_slice_signing *job, mp_error *err);
/* Lays the signed slice (job->layout.new_size bytes) into out at offset at:
 * the kept bytes shared with the old image, the patched load commands, and
 * the rest, signature included, as zeroed memory. After this the slice's
 * file-backed pages in out no longer change. */
mp_status mp_sign_slice_lay_out(const mp_image *img, const mp_slice *s, const mp_slice_signing *job, mp_buf *out,
                                size_t at, mp_error *err);
/* Then hashes the laid-out slice into its CodeDirectories and writes the
 * SuperBlob. With a sink, the bytes hashed (the slice up to its signature)
 * are written to it as they are hashed. */
mp_status mp_sign_slice_emit(const mp_image *img, const mp_slice *s, const mp_sign_plan *plan,
                             const mp_sign_slice_plan *sp, const mp_slice_signing *job, mp_buf *out, size_t at,
                             mp_page_sink *sink, mp_sign_slice_result *r, mp_error *err);

/* ---- universal files (fat_write.c) ---- */

typedef struct mp_fat_piece {
    uint32_t cputype, cpusubtype, align;
    uint64_t size;
} mp_fat_piece;

/* Lays slices out as codesign_allocate (cctools writeout) does: in header
 * order, each at the next multiple of 2^align, zero gaps, nothing after the
 * last slice. Sets offsets[i] and the file size. */
mp_status mp_fat_layout(const char *name, const mp_fat_piece *pieces, size_t n, uint64_t *offsets, uint64_t *total,
                        mp_error *err);
/* The FAT_MAGIC header and fat_arch entries (8 + 20 * n bytes). */
void mp_fat_header_write(const mp_fat_piece *pieces, const uint64_t *offsets, size_t n, uint8_t *out);

#endif
