/* Decoding an embedded code signature (SuperBlob) into mp_signature.
 * A signature that does not decode does not make the slice unreadable: the
 * reason is kept in sig.error for show and verify to report. */
#include "bytes.h"
#include "image.h"
#include "macho_format.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CD_MIN_HEADER 44u /* up to spare2, version 0x20001 */

static bool sig_error(mp_signature *sig, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool sig_error(mp_signature *sig, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sig->error, sizeof sig->error, fmt, ap);
    va_end(ap);
    sig->decoded = false;
    return false;
}

/* A NUL-terminated string at off inside blob [0, len), or NULL. */
static const char *blob_string(const uint8_t *blob, uint32_t len, uint32_t off)
{
    if (off == 0 || off >= len)
        return NULL;
    if (!memchr(blob + off, 0, len - off))
        return NULL;
    return (const char *)blob + off;
}

static bool decode_cd(mp_signature *sig, mp_cd *cd, uint32_t slot, uint32_t off, uint32_t len)
{
    const uint8_t *b = sig->superblob + off;
    memset(cd, 0, sizeof *cd);
    cd->slot = slot;
    cd->blob_off = off;
    cd->blob = b;
    cd->length = len;
    if (len < CD_MIN_HEADER)
        return sig_error(sig, "CodeDirectory in slot %#x is %u bytes, shorter than its header", slot, len);
    cd->version = mp_be32(b + 8);
    cd->flags = mp_be32(b + 12);
    cd->hash_offset = mp_be32(b + 16);
    cd->ident_offset = mp_be32(b + 20);
    cd->n_special = mp_be32(b + 24);
    cd->n_code = mp_be32(b + 28);
    cd->code_limit = mp_be32(b + 32);
    cd->hash_size = b[36];
    cd->hash_type = b[37];
    cd->platform = b[38];
    cd->page_shift = b[39];
    uint32_t need = CD_MIN_HEADER;
    if (cd->version >= CS_SUPPORTSSCATTER) {
        need = 48;
        if (len >= need)
            cd->scatter_offset = mp_be32(b + 44);
    }
    if (cd->version >= CS_SUPPORTSTEAMID) {
        need = 52;
        if (len >= need)
            cd->team_offset = mp_be32(b + 48);
    }
    if (cd->version >= CS_SUPPORTSCODELIMIT64) {
        need = 64;
        if (len >= need)
            cd->code_limit64 = mp_be64(b + 56);
    }
    if (cd->version >= CS_SUPPORTSEXECSEG) {
        need = 88;
        if (len >= need) {
            cd->exec_seg_base = mp_be64(b + 64);
            cd->exec_seg_limit = mp_be64(b + 72);
            cd->exec_seg_flags = mp_be64(b + 80);
        }
    }
    if (cd->version >= CS_SUPPORTSRUNTIME) {
        need = 96;
        if (len >= need) {
            cd->runtime = mp_be32(b + 88);
            cd->pre_encrypt_offset = mp_be32(b + 92);
        }
    }
    if (len < need)
        return sig_error(sig, "CodeDirectory in slot %#x version %#x needs %u header bytes, has %u", slot,
                         cd->version, need, len);
    if (cd->hash_size == 0 || cd->hash_size > 64)
        return sig_error(sig, "CodeDirectory in slot %#x has hash size %u", slot, cd->hash_size);
    uint64_t special_bytes = (uint64_t)cd->n_special * cd->hash_size;
    if (cd->hash_offset > len || special_bytes > cd->hash_offset || cd->hash_offset - special_bytes < need)
        return sig_error(sig, "CodeDirectory in slot %#x: special slots (%u) do not fit before hashOffset %#x", slot,
                         cd->n_special, cd->hash_offset);
    if (!mp_range_ok(len, cd->hash_offset, (uint64_t)cd->n_code * cd->hash_size))
        return sig_error(sig, "CodeDirectory in slot %#x: %u code slots at hashOffset %#x extend past its length %u",
                         slot, cd->n_code, cd->hash_offset, len);
    cd->identifier = blob_string(b, len, cd->ident_offset);
    if (!cd->identifier)
        return sig_error(sig, "CodeDirectory in slot %#x: identifier at %#x is not a terminated string", slot,
                         cd->ident_offset);
    if (cd->team_offset) {
        cd->team_id = blob_string(b, len, cd->team_offset);
        if (!cd->team_id)
            return sig_error(sig, "CodeDirectory in slot %#x: team id at %#x is not a terminated string", slot,
                             cd->team_offset);
    }
    return true;
}

static bool decode(mp_slice *s)
{
    mp_signature *sig = &s->sig;
    if (!mp_range_ok(s->size, sig->dataoff, sig->datasize))
        return sig_error(sig, "LC_CODE_SIGNATURE range extends past the end of the slice");
    sig->superblob = s->data + sig->dataoff;
    if (sig->datasize < 12)
        return sig_error(sig, "signature area of %u bytes is too small for a SuperBlob", sig->datasize);
    const uint8_t *sb = sig->superblob;
    if (mp_be32(sb) != CSMAGIC_EMBEDDED_SIGNATURE)
        return sig_error(sig, "signature magic is %08x, not an embedded SuperBlob (fade0cc0)", mp_be32(sb));
    sig->superblob_len = mp_be32(sb + 4);
    sig->count = mp_be32(sb + 8);
    if (sig->superblob_len > sig->datasize || sig->superblob_len < 12)
        return sig_error(sig, "SuperBlob length %u does not fit its %u-byte area", sig->superblob_len, sig->datasize);
    if ((uint64_t)sig->count * 8 + 12 > sig->superblob_len)
        return sig_error(sig, "SuperBlob index of %u entries does not fit its length %u", sig->count,
                         sig->superblob_len);
    sig->blobs = calloc(sig->count ? sig->count : 1, sizeof *sig->blobs);
    if (!sig->blobs)
        return sig_error(sig, "out of memory");
    for (uint32_t i = 0; i < sig->count; i++) {
        mp_blob_ref *r = &sig->blobs[i];
        r->type = mp_be32(sb + 12 + 8 * i);
        r->offset = mp_be32(sb + 16 + 8 * i);
        if (!mp_range_ok(sig->superblob_len, r->offset, 8))
            return sig_error(sig, "blob %u (type %#x) at offset %#x lies outside the SuperBlob", i, r->type,
                             r->offset);
        r->magic = mp_be32(sb + r->offset);
        r->length = mp_be32(sb + r->offset + 4);
        if (r->length < 8 || !mp_range_ok(sig->superblob_len, r->offset, r->length))
            return sig_error(sig, "blob %u (type %#x) at offset %#x has length %u outside the SuperBlob", i, r->type,
                             r->offset, r->length);
        const uint8_t *blob = sb + r->offset;
        if (r->type == CSSLOT_CODEDIRECTORY ||
            (r->type >= CSSLOT_ALTERNATE_CODEDIRECTORIES &&
             r->type < CSSLOT_ALTERNATE_CODEDIRECTORIES + CSSLOT_ALTERNATE_CODEDIRECTORY_MAX)) {
            if (r->magic != CSMAGIC_CODEDIRECTORY)
                return sig_error(sig, "blob in slot %#x has magic %08x, not a CodeDirectory", r->type, r->magic);
            if (sig->ncds == MP_MAX_CDS)
                return sig_error(sig, "more than %u CodeDirectories", MP_MAX_CDS);
            if (!decode_cd(sig, &sig->cds[sig->ncds], r->type, r->offset, r->length))
                return false;
            sig->ncds++;
        } else if (r->type == CSSLOT_REQUIREMENTS) {
            sig->requirements = blob;
            sig->requirements_len = r->length;
        } else if (r->type == CSSLOT_ENTITLEMENTS) {
            sig->ent_xml = blob;
            sig->ent_xml_len = r->length;
        } else if (r->type == CSSLOT_DER_ENTITLEMENTS) {
            sig->ent_der = blob;
            sig->ent_der_len = r->length;
        } else if (r->type == CSSLOT_SIGNATURESLOT) {
            sig->cms = blob;
            sig->cms_len = r->length;
        }
    }
    if (sig->ncds == 0)
        return sig_error(sig, "SuperBlob holds no CodeDirectory");
    if (sig->cds[0].slot != CSSLOT_CODEDIRECTORY)
        return sig_error(sig, "SuperBlob has no primary CodeDirectory in slot 0");
    sig->decoded = true;
    return true;
}

void mp_parse_signature(mp_slice *s)
{
    if (!s->sig.present)
        return;
    decode(s);
}
