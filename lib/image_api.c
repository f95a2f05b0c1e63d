/* Public accessors over the internal image model. */
#include "bytes.h"
#include "hash.h"
#include "image.h"
#include "macho_format.h"

#include <stdio.h>
#include <string.h>

static const mp_slice *slice_at(const mp_image *img, size_t i)
{
    return img && i < img->nslices ? &img->slices[i] : NULL;
}

const uint8_t *mp_image_bytes(const mp_image *img, size_t *size)
{
    if (size)
        *size = img ? img->size : 0;
    return img ? img->data : NULL;
}

const char *mp_image_name(const mp_image *img)
{
    return img ? img->name : NULL;
}

int mp_image_is_universal(const mp_image *img)
{
    return img && img->fat;
}

size_t mp_image_slice_count(const mp_image *img)
{
    return img ? img->nslices : 0;
}

mp_status mp_image_slice(const mp_image *img, size_t i, mp_slice_info *out)
{
    const mp_slice *s = slice_at(img, i);
    if (!s || !out)
        return MP_ERR_USAGE;
    memset(out, 0, sizeof *out);
    out->arch = s->arch;
    out->cputype = s->cputype;
    out->cpusubtype = s->cpusubtype;
    out->filetype = s->filetype;
    out->filetype_name = mp_filetype_name(s->filetype);
    out->is64 = s->is64;
    out->file_offset = s->offset;
    out->file_size = s->size;
    out->fat_align = s->fat_align;
    out->ncmds = s->ncmds;
    out->sizeofcmds = s->sizeofcmds;
    out->header_flags = s->flags;
    out->segment_count = s->nsegs;
    out->section_count = s->nsects;
    out->platform = s->has_platform ? mp_platform_name(s->platform) : NULL;
    out->minos = s->minos;
    out->sdk = s->sdk;
    out->has_uuid = s->has_uuid;
    memcpy(out->uuid, s->uuid, 16);
    out->load_commands_end = s->lc_end;
    out->head_gap = s->head_gap;
    out->tail_slack = s->tail_slack;
    out->has_info_plist = s->info_plist_sect >= 0;
    out->has_signature = s->sig.present;
    out->encrypted = s->encrypted;
    return MP_OK;
}

mp_status mp_image_segment(const mp_image *img, size_t slice, size_t index, mp_segment_info *out)
{
    const mp_slice *s = slice_at(img, slice);
    if (!s || !out || index >= s->nsegs)
        return MP_ERR_USAGE;
    const mp_segment *g = &s->segs[index];
    memset(out, 0, sizeof *out);
    memcpy(out->name, g->name, sizeof out->name);
    out->vmaddr = g->vmaddr;
    out->vmsize = g->vmsize;
    out->fileoff = g->fileoff;
    out->filesize = g->filesize;
    out->maxprot = g->maxprot;
    out->initprot = g->initprot;
    out->flags = g->flags;
    out->nsects = g->nsects;
    out->first_section = g->first_section;
    return MP_OK;
}

mp_status mp_image_section(const mp_image *img, size_t slice, size_t index, mp_section_info *out)
{
    const mp_slice *s = slice_at(img, slice);
    if (!s || !out || index >= s->nsects)
        return MP_ERR_USAGE;
    const mp_section *c = &s->sects[index];
    memset(out, 0, sizeof *out);
    memcpy(out->segname, c->segname, sizeof out->segname);
    memcpy(out->sectname, c->sectname, sizeof out->sectname);
    out->addr = c->addr;
    out->size = c->size;
    out->offset = c->offset;
    out->align = c->align;
    out->reloff = c->reloff;
    out->nreloc = c->nreloc;
    out->flags = c->flags;
    out->ordinal = c->ordinal;
    return MP_OK;
}

const uint8_t *mp_image_info_plist(const mp_image *img, size_t slice, size_t *len)
{
    const mp_slice *s = slice_at(img, slice);
    if (len)
        *len = 0;
    if (!s || s->info_plist_sect < 0)
        return NULL;
    const mp_section *c = &s->sects[s->info_plist_sect];
    /* The reader checked the section lies inside __TEXT and the slice. */
    if (len)
        *len = (size_t)c->size;
    return c->size ? s->data + c->offset : s->data;
}

mp_status mp_image_signature(const mp_image *img, size_t slice, mp_signature_info *out)
{
    const mp_slice *s = slice_at(img, slice);
    if (!s || !out)
        return MP_ERR_USAGE;
    memset(out, 0, sizeof *out);
    const mp_signature *sig = &s->sig;
    out->present = sig->present;
    out->dataoff = sig->dataoff;
    out->datasize = sig->datasize;
    if (!sig->present)
        return MP_OK;
    out->decoded = sig->decoded;
    snprintf(out->error, sizeof out->error, "%s", sig->error);
    if (!sig->decoded)
        return MP_OK;
    const mp_cd *cd = &sig->cds[0];
    mp_copy_text(out->identifier, sizeof out->identifier, cd->identifier);
    mp_copy_text(out->team_id, sizeof out->team_id, cd->team_id);
    out->cd_version = cd->version;
    out->flags = cd->flags;
    out->hash_type = cd->hash_type;
    out->hash_size = cd->hash_size;
    out->hash_name = mp_hash_name(cd->hash_type);
    out->page_size = mp_cd_page_size(cd);
    out->n_special_slots = cd->n_special;
    out->n_code_slots = cd->n_code;
    out->code_limit = cd->code_limit;
    for (uint32_t slot = 1; slot <= cd->n_special && slot < 32; slot++) {
        const uint8_t *h = cd->blob + cd->hash_offset - (size_t)slot * cd->hash_size;
        for (unsigned k = 0; k < cd->hash_size; k++)
            if (h[k]) {
                out->special_slots_present |= 1u << slot;
                break;
            }
    }
    out->code_directory_count = sig->ncds;
    out->runtime_version = cd->runtime;
    out->exec_seg_base = cd->exec_seg_base;
    out->exec_seg_limit = cd->exec_seg_limit;
    out->exec_seg_flags = cd->exec_seg_flags;
    out->has_requirements = sig->requirements != NULL;
    out->has_entitlements_xml = sig->ent_xml != NULL;
    out->has_entitlements_der = sig->ent_der != NULL;
    out->has_cms = sig->cms != NULL;
    out->cms_empty = !sig->cms || sig->cms_len <= 8;
    out->blob_count = sig->count;
    uint8_t digest[MP_HASH_MAX];
    if (mp_hash_once(cd->hash_type, cd->blob, cd->length, digest))
        memcpy(out->cdhash, digest, CS_CDHASH_LEN);
    return MP_OK;
}

const uint8_t *mp_image_entitlements(const mp_image *img, size_t slice, size_t *len)
{
    const mp_slice *s = slice_at(img, slice);
    if (len)
        *len = 0;
    if (!s || !s->sig.decoded || !s->sig.ent_xml)
        return NULL;
    if (len)
        *len = s->sig.ent_xml_len - 8;
    return s->sig.ent_xml + 8;
}

char *mp_format_cs_flags(uint32_t flags, char *buf, size_t len)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } names[] = {
        {0x1, "host"}, {0x2, "adhoc"}, {0x4, "forced"}, {0x100, "hard"}, {0x200, "kill"},
        {0x400, "expires"}, {0x800, "restrict"}, {0x1000, "enforcement"},
        {0x2000, "library-validation"}, {0x10000, "runtime"}, {0x20000, "linker-signed"},
    };
    if (!buf || len == 0)
        return buf;
    size_t used = (size_t)snprintf(buf, len, "%#x", flags);
    if (flags == 0) {
        snprintf(buf, len, "0x0(none)");
        return buf;
    }
    const char *sep = "(";
    for (size_t i = 0; i < sizeof names / sizeof names[0] && used < len; i++)
        if (flags & names[i].bit) {
            used += (size_t)snprintf(buf + used, len - used, "%s%s", sep, names[i].name);
            sep = ",";
        }
    if (used < len && sep[0] == ',')
        snprintf(buf + used, len - used, ")");
    return buf;
}
