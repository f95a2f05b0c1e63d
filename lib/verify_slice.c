/* Verifying one slice's embedded signature. What is checked, and where the
 * rule comes from:
 * - layout: the signature starts 16-byte aligned, ends the slice and ends
 *   __LINKEDIT (codesign --strict, reference section 3);
 * - SuperBlob: index sorted by type, blobs after the index, inside the
 *   SuperBlob and not overlapping; known blobs carry their magic;
 * - CodeDirectories: at most one per hash type (xnu), known hash type and
 *   size, version in [0x20001, 0x2F000] (codedirectory.cpp checkIntegrity),
 *   codeLimit equal to the signature offset, nCodeSlots covering it, every
 *   page hash;
 * - special slots (StaticCode.cpp, component()): a non-zero slot needs its
 *   component (blob of that type, or for slot 1 the raw __TEXT,__info_plist
 *   bytes) and must equal its hash; a component with a zero or missing slot is
 *   ignored, except entitlement blobs, which the kernel requires to be hashed.
 * The CMS signature of a Developer ID signature is not evaluated (there are no
 * Apple roots here): its CodeDirectories are. */
#include "plist_input.h"
#include "bytes.h"
#include "hash.h"
#include "macho_format.h"
#include "sign.h"
#include "verify.h"

#include <plist/plist.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *slot_name(uint32_t slot)
{
    static const char *const names[] = {"code-directory", "info-plist", "requirements", "resources",
                                        "application", "entitlements", "rep-specific", "der-entitlements",
                                        "launch-constraint-self", "launch-constraint-parent",
                                        "launch-constraint-responsible", "library-constraint"};
    return slot < sizeof names / sizeof names[0] ? names[slot] : "unknown";
}

/* codedirectory.cpp hashPriorities: SHA-384, SHA-256, SHA-256/20, SHA-1. */
static int hash_rank(unsigned type)
{
    switch (type) {
    case CS_HASHTYPE_SHA384: return 0;
    case CS_HASHTYPE_SHA256: return 1;
    case CS_HASHTYPE_SHA256_TRUNCATED: return 2;
    case CS_HASHTYPE_SHA1: return 3;
    }
    return 99;
}

static const mp_blob_ref *find_blob(const mp_slice *s, uint32_t type)
{
    for (uint32_t i = 0; i < s->sig.count; i++)
        if (s->sig.blobs[i].type == type)
            return &s->sig.blobs[i];
    return NULL;
}

/* Slot 1 is the raw plist section; every other slot the blob of that type. */
static const uint8_t *component(const mp_slice *s, uint32_t slot, size_t *len)
{
    *len = 0;
    if (slot == CSSLOT_INFOSLOT) {
        if (s->info_plist_sect < 0)
            return NULL;
        const mp_section *c = &s->sects[s->info_plist_sect];
        *len = (size_t)c->size;
        return c->size ? s->data + c->offset : s->data; /* an empty one's offset is unchecked */
    }
    const mp_blob_ref *b = find_blob(s, slot);
    if (!b)
        return NULL;
    *len = b->length;
    return s->sig.superblob + b->offset;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static void check_layout(mp_verify_report *r, const mp_image *img, size_t i)
{
    const mp_slice *s = &img->slices[i];
    uint64_t end = (uint64_t)s->sig.dataoff + s->sig.datasize;
    if (s->sig.dataoff % 16)
        mp_verify_problem(r, img, i, "signature offset %#x is not 16-byte aligned", s->sig.dataoff);
    if (end != s->size)
        mp_verify_problem(r, img, i, "signature ends at %#llx, not at the end of the slice (%#llx)",
                          (unsigned long long)end, (unsigned long long)s->size);
    if (s->linkedit_seg < 0) {
        mp_verify_problem(r, img, i, "no __LINKEDIT segment holds the signature");
        return;
    }
    const mp_segment *le = &s->segs[s->linkedit_seg];
    if (s->sig.dataoff < le->fileoff)
        mp_verify_problem(r, img, i, "signature at %#x starts before __LINKEDIT (%#llx)", s->sig.dataoff,
                          (unsigned long long)le->fileoff);
    if (le->fileoff + le->filesize != end)
        mp_verify_problem(r, img, i, "__LINKEDIT ends at %#llx, not at the end of the signature (%#llx)",
                          (unsigned long long)(le->fileoff + le->filesize), (unsigned long long)end);
}

static int compare_by_offset(const void *a, const void *b)
{
    const mp_blob_ref *x = a, *y = b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static void check_superblob(mp_verify_report *r, const mp_image *img, size_t i)
{
    const mp_signature *sig = &img->slices[i].sig;
    uint32_t index_end = 12 + 8 * sig->count;
    for (uint32_t k = 0; k < sig->count; k++) {
        const mp_blob_ref *b = &sig->blobs[k];
        if (k > 0 && b->type <= sig->blobs[k - 1].type)
            mp_verify_problem(r, img, i, "SuperBlob index is not sorted: entry %u (type %#x) follows type %#x", k,
                              b->type, sig->blobs[k - 1].type);
        if (b->offset < index_end)
            mp_verify_problem(r, img, i, "blob type %#x at offset %u overlaps the SuperBlob index (ends at %u)",
                              b->type, b->offset, index_end);
        uint32_t want = b->type == CSSLOT_REQUIREMENTS ? CSMAGIC_REQUIREMENTS
                        : b->type == CSSLOT_ENTITLEMENTS ? CSMAGIC_EMBEDDED_ENTITLEMENTS
                        : b->type == CSSLOT_DER_ENTITLEMENTS ? CSMAGIC_EMBEDDED_DER_ENTITLEMENTS
                        : b->type == CSSLOT_SIGNATURESLOT ? CSMAGIC_BLOBWRAPPER
                                                          : 0;
        if (want && b->magic != want)
            mp_verify_problem(r, img, i, "blob type %#x (%s) has magic %08x, expected %08x", b->type,
                              b->type == CSSLOT_SIGNATURESLOT ? "cms" : slot_name(b->type), b->magic, want);
    }
    mp_blob_ref *sorted = malloc((sig->count ? sig->count : 1) * sizeof *sorted);
    if (!sorted) {
        r->out_of_memory = true;
        return;
    }
    memcpy(sorted, sig->blobs, sig->count * sizeof *sorted);
    qsort(sorted, sig->count, sizeof *sorted, compare_by_offset);
    for (uint32_t k = 1; k < sig->count; k++)
        if ((uint64_t)sorted[k - 1].offset + sorted[k - 1].length > sorted[k].offset)
            mp_verify_problem(r, img, i, "blob type %#x [%u, +%u) overlaps blob type %#x at %u", sorted[k - 1].type,
                              sorted[k - 1].offset, sorted[k - 1].length, sorted[k].type, sorted[k].offset);
    free(sorted);
}

/* Page hashes and special slots of one CodeDirectory. */
static void check_cd(mp_verify_report *r, const mp_image *img, size_t i, const mp_cd *cd, unsigned threads)
{
    const mp_slice *s = &img->slices[i];
    const char *hn = mp_hash_name(cd->hash_type);
    unsigned hs = mp_hash_stored_size(cd->hash_type);
    if (hs == 0) {
        mp_verify_problem(r, img, i, "CodeDirectory in slot %#x has unknown hash type %u", cd->slot, cd->hash_type);
        return;
    }
    if (cd->hash_size != hs) {
        mp_verify_problem(r, img, i, "%s CodeDirectory has hash size %u, expected %u", hn, cd->hash_size, hs);
        return;
    }
    if (cd->version < 0x20001u || cd->version > 0x2F000u)
        mp_verify_problem(r, img, i, "%s CodeDirectory version %#x is not supported", hn, cd->version);
    if (cd->scatter_offset)
        mp_verify_problem(r, img, i, "%s CodeDirectory has a scatter vector (not produced for Mach-O)", hn);
    uint64_t limit = cd->version >= CS_SUPPORTSCODELIMIT64 && cd->code_limit64 ? cd->code_limit64 : cd->code_limit;
    if (limit != s->sig.dataoff)
        mp_verify_problem(r, img, i, "%s CodeDirectory codeLimit %#llx differs from the signature offset %#x", hn,
                          (unsigned long long)limit, s->sig.dataoff);
    if (cd->page_shift != 0 && (cd->page_shift < 12 || cd->page_shift > 16)) {
        mp_verify_problem(r, img, i, "%s CodeDirectory page size 2^%u is not supported", hn, cd->page_shift);
        return;
    }
    uint32_t page = mp_cd_page_size(cd);
    if (limit > s->size) {
        mp_verify_problem(r, img, i, "%s CodeDirectory codeLimit %#llx lies past the end of the slice", hn,
                          (unsigned long long)limit);
        return;
    }
    uint64_t want_slots = limit == 0 ? 0 : page == 0 ? 1 : (limit - 1) / page + 1;
    if (want_slots != cd->n_code)
        mp_verify_problem(r, img, i, "%s CodeDirectory has %u code slots, codeLimit %#llx needs %llu", hn, cd->n_code,
                          (unsigned long long)limit, (unsigned long long)want_slots);
    uint64_t n = want_slots < cd->n_code ? want_slots : cd->n_code;
    if (n > 0) {
        uint8_t *hashes = malloc((size_t)n * hs);
        if (!hashes) {
            r->out_of_memory = true;
            return;
        }
        uint64_t covered = page ? (n * page < limit ? n * page : limit) : limit;
        mp_page_io io = {img->buf, (size_t)s->offset, NULL, 0};
        if (!mp_hash_pages(s->data, covered, page, cd->hash_type, hashes, threads, &io)) {
            r->out_of_memory = true;
        } else {
            const uint8_t *stored = cd->blob + cd->hash_offset;
            uint64_t bad = 0, first = 0;
            for (uint64_t k = 0; k < n; k++)
                if (memcmp(hashes + k * hs, stored + k * hs, hs) != 0 && bad++ == 0)
                    first = k;
            if (bad)
                mp_verify_problem(r, img, i,
                                  "%llu of %llu pages do not match the %s CodeDirectory, first page %llu at offset 0x%llx",
                                  (unsigned long long)bad, (unsigned long long)n, hn, (unsigned long long)first,
                                  (unsigned long long)(first * (page ? page : 0)));
        }
        free(hashes);
    }
    for (uint32_t slot = 1; slot <= cd->n_special; slot++) {
        const uint8_t *stored = cd->blob + cd->hash_offset - (size_t)slot * hs;
        size_t len;
        const uint8_t *data = component(s, slot, &len);
        if (all_zero(stored, hs))
            continue;
        if (!data) {
            mp_verify_problem(r, img, i, "special slot %u (%s) of the %s CodeDirectory has a hash but there is no %s",
                              slot, slot_name(slot), hn, slot == 1 ? "__TEXT,__info_plist section" : "such blob");
            continue;
        }
        uint8_t digest[MP_HASH_MAX];
        if (!mp_hash_once(cd->hash_type, data, len, digest)) {
            r->out_of_memory = true;
            continue;
        }
        if (memcmp(digest, stored, hs) != 0)
            mp_verify_problem(r, img, i, "special slot %u (%s) does not match %s in the %s CodeDirectory", slot,
                              slot_name(slot), slot == 1 ? "the __TEXT,__info_plist bytes" : "its blob", hn);
    }
    static const uint32_t kernel_checked[] = {CSSLOT_ENTITLEMENTS, CSSLOT_DER_ENTITLEMENTS};
    for (size_t k = 0; k < 2; k++) {
        uint32_t slot = kernel_checked[k];
        size_t len;
        if (component(s, slot, &len) &&
            (cd->n_special < slot || all_zero(cd->blob + cd->hash_offset - (size_t)slot * hs, hs)))
            mp_verify_problem(r, img, i, "%s blob is not covered by special slot %u of the %s CodeDirectory",
                              slot_name(slot), slot, hn);
    }
}

/* Bound when the section exists, slot 1 is filled and correct in EVERY
 * CodeDirectory, and the bytes parse as a dictionary. */
static void check_info_plist(const mp_slice *s, mp_verify_slice *v)
{
    size_t len;
    const uint8_t *bytes = component(s, CSSLOT_INFOSLOT, &len);
    if (!bytes)
        return;
    for (size_t k = 0; k < s->sig.ncds; k++) {
        const mp_cd *cd = &s->sig.cds[k];
        unsigned hs = mp_hash_stored_size(cd->hash_type);
        uint8_t digest[MP_HASH_MAX];
        if (hs == 0 || cd->hash_size != hs || cd->n_special < 1)
            return;
        const uint8_t *stored = cd->blob + cd->hash_offset - hs;
        if (all_zero(stored, hs) || !mp_hash_once(cd->hash_type, bytes, len, digest) || memcmp(digest, stored, hs))
            return;
    }
    plist_t root = NULL;
    if (len > 0 && len <= UINT32_MAX)
        (void)mp_plist_parse(bytes, len, &root, NULL);
    if (root && plist_get_node_type(root) == PLIST_DICT) {
        v->info_plist_bound = 1;
        v->info_plist_entries = plist_dict_get_size(root);
    }
    plist_free(root);
}

static void describe(const mp_slice *s, mp_verify_slice *v)
{
    const mp_signature *sig = &s->sig;
    const mp_cd *best = &sig->cds[0];
    for (size_t k = 1; k < sig->ncds; k++)
        if (hash_rank(sig->cds[k].hash_type) < hash_rank(best->hash_type))
            best = &sig->cds[k];
    mp_copy_text(v->identifier, sizeof v->identifier, best->identifier);
    mp_copy_text(v->team_id, sizeof v->team_id, best->team_id);
    v->cd_version = best->version;
    v->cd_size = best->length;
    v->flags = best->flags;
    v->n_code_slots = best->n_code;
    v->n_special_slots = best->n_special;
    v->page_size = mp_cd_page_size(best);
    v->hash_name = mp_hash_name(best->hash_type);
    v->hash_size = best->hash_size;
    v->runtime_version = best->version >= CS_SUPPORTSRUNTIME ? best->runtime : 0;
    v->exec_seg_base = best->exec_seg_base;
    v->exec_seg_limit = best->exec_seg_limit;
    v->exec_seg_flags = best->exec_seg_flags;
    /* Candidates in ascending hash type, as codesign lists them. */
    const mp_cd *order[MP_MAX_CDS];
    size_t n = sig->ncds < MP_VERIFY_MAX_CDS ? sig->ncds : MP_VERIFY_MAX_CDS;
    for (size_t k = 0; k < n; k++)
        order[k] = &sig->cds[k];
    for (size_t a = 1; a < n; a++)
        for (size_t b = a; b > 0 && order[b]->hash_type < order[b - 1]->hash_type; b--) {
            const mp_cd *t = order[b];
            order[b] = order[b - 1];
            order[b - 1] = t;
        }
    v->cd_count = sig->ncds;
    size_t used = 0;
    for (size_t k = 0; k < n; k++) {
        v->candidate_names[k] = mp_hash_name(order[k]->hash_type);
        uint8_t digest[MP_HASH_MAX] = {0};
        if (mp_hash_once(order[k]->hash_type, order[k]->blob, order[k]->length, digest)) {
            v->candidate_len[k] = mp_hash_stored_size(order[k]->hash_type);
            memcpy(v->candidate_cdhash[k], digest, v->candidate_len[k]);
        }
        if (order[k] == best)
            memcpy(v->cdhash, digest, CS_CDHASH_LEN);
        used += (size_t)snprintf(v->hash_choices + used, used < sizeof v->hash_choices ? sizeof v->hash_choices - used : 0,
                                 "%s%s", k ? "," : "", v->candidate_names[k]);
        if (used >= sizeof v->hash_choices)
            used = sizeof v->hash_choices;
    }
    v->adhoc = !sig->cms || sig->cms_len <= 8;
    v->cms_size = v->adhoc ? 0 : sig->cms_len - 8;
    if (sig->requirements) {
        v->requirements_size = sig->requirements_len;
        v->requirements_count = sig->requirements_len >= 12 ? mp_be32(sig->requirements + 8) : 0;
    }
}

void mp_verify_slice_run(mp_verify_report *r, const mp_image *img, size_t i, const mp_verify_options *opt)
{
    const mp_slice *s = &img->slices[i];
    mp_verify_slice *v = &r->slices[i];
    v->arch = s->arch;
    v->valid = 1;
    v->signature_offset = s->sig.dataoff;
    v->signature_size = s->sig.datasize;
    if (!s->sig.present) {
        mp_verify_problem(r, img, i, "code object is not signed at all (no LC_CODE_SIGNATURE)");
        return;
    }
    if (!s->sig.decoded) {
        mp_verify_problem(r, img, i, "signature at %#x does not decode: %s", s->sig.dataoff, s->sig.error);
        return;
    }
    v->is_signed = 1;
    describe(s, v);
    check_layout(r, img, i);
    check_superblob(r, img, i);
    for (size_t a = 0; a < s->sig.ncds; a++)
        for (size_t b = a + 1; b < s->sig.ncds; b++)
            if (s->sig.cds[a].hash_type == s->sig.cds[b].hash_type)
                mp_verify_problem(r, img, i, "two CodeDirectories (slots %#x and %#x) use hash type %s",
                                  s->sig.cds[a].slot, s->sig.cds[b].slot, mp_hash_name(s->sig.cds[a].hash_type));
    for (size_t k = 0; k < s->sig.ncds; k++)
        check_cd(r, img, i, &s->sig.cds[k], opt->threads);
    check_info_plist(s, v);
}
