/* Signing one slice: special-slot hashes, codesign's size estimate (which sets
 * LC_CODE_SIGNATURE.datasize), then the new slice bytes, CodeDirectories,
 * SuperBlob written into the output buffer.
 *
 * Size estimate (Security signer.cpp signMachO pass 1, superblob.h
 * Maker::size, signerutils.cpp MachOEditor::allocate): 12 + 8 per blob + the
 * other blobs + each CodeDirectory sized at the current version (0x20500)
 * with code slots for the OLD signing extent (old LC_CODE_SIGNATURE offset,
 * or the whole slice) + 18000 bytes for the CMS blob, rounded up to 16. */
#include "bytes.h"
#include "hash.h"
#include "macho_format.h"
#include "sign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PIECES 8u

static bool hash_slot(unsigned type, uint32_t slot, const uint8_t *data, size_t len, mp_slice_signing *job, size_t h)
{
    unsigned hs = mp_hash_stored_size(type);
    if (slot > job->n_special)
        job->n_special = slot;
    return mp_hash_once(type, data, len, job->special[h] + (size_t)(slot - 1) * hs);
}

mp_status mp_sign_slice_prepare(const mp_image *img, const mp_slice *s, const mp_sign_plan *plan,
                                const mp_sign_slice_plan *sp, mp_slice_signing *job, mp_error *err)
{
    char where[512];
    mp_slice_where(img, s, where, sizeof where);
    memset(job, 0, sizeof *job);
    mp_status st = mp_sig_layout_plan(img, s, &job->layout, err);
    if (st != MP_OK)
        return st;

    job->extra[job->nextra++] =
        (mp_blob_piece){CSSLOT_REQUIREMENTS, mp_empty_requirements, sizeof mp_empty_requirements};
    if (sp->ent_xml)
        job->extra[job->nextra++] = (mp_blob_piece){CSSLOT_ENTITLEMENTS, sp->ent_xml, sp->ent_xml_len};
    if (sp->ent_der)
        job->extra[job->nextra++] = (mp_blob_piece){CSSLOT_DER_ENTITLEMENTS, sp->ent_der, sp->ent_der_len};

    for (size_t h = 0; h < sp->nhashes; h++) {
        bool ok = true;
        if (sp->has_info_plist)
            ok = hash_slot(sp->hash_types[h], CSSLOT_INFOSLOT, sp->info_plist, sp->info_plist_len, job, h);
        for (size_t k = 0; ok && k < job->nextra; k++)
            ok = hash_slot(sp->hash_types[h], job->extra[k].type, job->extra[k].data, job->extra[k].len, job, h);
        if (!ok)
            return mp_fail(err, MP_ERR_NOMEM, "%s: hashing failed", where);
    }

    size_t ident_len = strlen(plan->identifier);
    uint64_t estimate = 12 + 8 * (uint64_t)(job->nextra + sp->nhashes + 1) + MP_CMS_SIZE_ESTIMATE;
    for (size_t k = 0; k < job->nextra; k++)
        estimate += job->extra[k].len;
    for (size_t h = 0; h < sp->nhashes; h++)
        estimate += mp_cd_size(CS_SUPPORTSRUNTIME, ident_len, job->n_special,
                               mp_code_slots(sp->estimate_limit, sp->page_size),
                               mp_hash_stored_size(sp->hash_types[h]));
    estimate = mp_align_up(estimate, 16);
    if (estimate > UINT32_MAX)
        return mp_fail(err, MP_ERR_UNSUPPORTED, "%s: signature too large", where);
    return mp_sig_layout_size(img, s, &job->layout, (uint32_t)estimate, err);
}

mp_status mp_sign_slice_lay_out(const mp_image *img, const mp_slice *s, const mp_slice_signing *job, mp_buf *out,
                                size_t at, mp_error *err)
{
    if (mp_sig_layout_apply(img, s, &job->layout, out, at))
        return MP_OK;
    char where[512];
    mp_slice_where(img, s, where, sizeof where);
    return mp_fail(err, MP_ERR_NOMEM, "%s: out of memory (%llu bytes)", where,
                   (unsigned long long)job->layout.new_size);
}

mp_status mp_sign_slice_emit(const mp_image *img, const mp_slice *s, const mp_sign_plan *plan,
                             const mp_sign_slice_plan *sp, const mp_slice_signing *job, mp_buf *out, size_t at,
                             mp_page_sink *sink, mp_sign_slice_result *r, mp_error *err)
{
    char where[512];
    mp_slice_where(img, s, where, sizeof where);
    const mp_sig_layout *layout = &job->layout;

    /* CodeDirectories over the new bytes [0, dataoff). */
    mp_status st = MP_OK;
    size_t ident_len = strlen(plan->identifier);
    uint8_t *cds[MP_MAX_HASHES] = {NULL, NULL};
    uint32_t cd_len[MP_MAX_HASHES] = {0, 0};
    uint32_t version = 0;
    for (size_t h = 0; h < sp->nhashes && st == MP_OK; h++) {
        mp_cd_params p = {
            .hash_type = sp->hash_types[h],
            .flags = sp->flags,
            .page_size = sp->page_size,
            .code_limit = layout->dataoff,
            .identifier = plan->identifier,
            .n_special = job->n_special,
            .special = job->special[h],
            .exec_base = sp->exec_base,
            .exec_limit = sp->exec_limit,
            .exec_flags = sp->exec_flags,
            .runtime = sp->runtime[h],
        };
        p.version = mp_cd_choose_version(p.runtime, p.exec_limit, p.code_limit, false);
        if (h == 0)
            version = p.version;
        uint64_t size = mp_cd_size(p.version, ident_len, job->n_special, mp_code_slots(p.code_limit, p.page_size),
                                   mp_hash_stored_size(p.hash_type));
        cds[h] = malloc((size_t)size);
        cd_len[h] = (uint32_t)size;
        if (!cds[h])
            st = mp_fail(err, MP_ERR_NOMEM, "%s: out of memory", where);
        else if (mp_cd_write(&p, out, at, plan->threads, h == 0 ? sink : NULL, cds[h], (size_t)size) != MP_OK)
            st = mp_fail(err, MP_ERR_NOMEM, "%s: page hashing failed", where);
    }

    mp_blob_piece pieces[MAX_PIECES];
    size_t n = 0;
    if (st == MP_OK) {
        pieces[n++] = (mp_blob_piece){CSSLOT_CODEDIRECTORY, cds[0], cd_len[0]};
        for (size_t k = 0; k < job->nextra; k++)
            pieces[n++] = job->extra[k];
        for (size_t h = 1; h < sp->nhashes; h++)
            pieces[n++] = (mp_blob_piece){CSSLOT_ALTERNATE_CODEDIRECTORIES + (uint32_t)h - 1, cds[h], cd_len[h]};
        pieces[n++] = (mp_blob_piece){CSSLOT_SIGNATURESLOT, mp_empty_cms, sizeof mp_empty_cms};
        uint64_t total = mp_superblob_size(pieces, n);
        uint8_t *sig = total <= layout->datasize ? mp_buf_writable(out, at + layout->dataoff, (size_t)total) : NULL;
        if (total > layout->datasize)
            st = mp_fail(err, MP_ERR_SIGNATURE,
                         "%s: internal error: signature of %llu bytes exceeds the %u bytes allocated", where,
                         (unsigned long long)total, layout->datasize);
        else if (!sig)
            st = mp_fail(err, MP_ERR_NOMEM, "%s: out of memory", where);
        else
            mp_superblob_write(pieces, n, sig);
    }
    if (st == MP_OK && r) {
        memset(r, 0, sizeof *r);
        snprintf(r->arch, sizeof r->arch, "%s", s->arch);
        snprintf(r->identifier, sizeof r->identifier, "%s", plan->identifier);
        r->cd_version = version;
        r->flags = sp->flags;
        r->page_size = sp->page_size;
        r->hash_count = (uint32_t)sp->nhashes;
        r->signature_offset = layout->dataoff;
        r->signature_size = layout->datasize;
        r->runtime_version = sp->runtime[0];
        r->exec_seg_flags = version >= CS_SUPPORTSEXECSEG ? sp->exec_flags : 0;
        r->had_signature = sp->had_signature;
        r->was_linker_signed = sp->was_linker_signed;
        r->dropped_identity = sp->dropped_identity;
        snprintf(r->old_team_id, sizeof r->old_team_id, "%s", sp->old_team_id);
        snprintf(r->unreadable, sizeof r->unreadable, "%s", sp->unreadable);
        uint8_t digest[MP_HASH_MAX];
        if (mp_hash_once(sp->hash_types[0], cds[0], cd_len[0], digest))
            memcpy(r->cdhash, digest, CS_CDHASH_LEN);
    }
    for (size_t h = 0; h < MP_MAX_HASHES; h++)
        free(cds[h]);
    return st;
}
