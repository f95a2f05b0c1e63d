/* CodeDirectory and SuperBlob bytes, big-endian, laid out as Security's
 * CodeDirectory::Builder (cdbuilder.cpp) and SuperBlob::Maker (superblob.h)
 * write them: header of the chosen version, identifier, team id, special
 * slots -n..-1, code slots; blobs packed in ascending type order. */
#include "bytes.h"
#include "hash.h"
#include "macho_format.h"
#include "sign.h"

#include <string.h>

const uint8_t mp_empty_requirements[12] = {0xfa, 0xde, 0x0c, 0x01, 0, 0, 0, 12, 0, 0, 0, 0};
const uint8_t mp_empty_cms[8] = {0xfa, 0xde, 0x0b, 0x01, 0, 0, 0, 8};

uint32_t mp_cd_choose_version(uint32_t runtime, uint64_t exec_limit, uint64_t code_limit, bool has_team)
{
    if (runtime)
        return CS_SUPPORTSRUNTIME;
    if (exec_limit > 0)
        return CS_SUPPORTSEXECSEG;
    if (code_limit > UINT32_MAX)
        return CS_SUPPORTSCODELIMIT64;
    if (has_team)
        return CS_SUPPORTSTEAMID;
    return CS_SUPPORTSSCATTER;
}

/* Builder::fixedSize: the 96-byte header less the fields the version lacks. */
uint32_t mp_cd_header_size(uint32_t version)
{
    uint32_t size = 96;
    if (version < CS_SUPPORTSRUNTIME)
        size -= 8; /* runtime, preEncryptOffset */
    if (version < CS_SUPPORTSEXECSEG)
        size -= 24; /* execSegBase, execSegLimit, execSegFlags */
    if (version < CS_SUPPORTSCODELIMIT64)
        size -= 12; /* spare3, codeLimit64 */
    if (version < CS_SUPPORTSTEAMID)
        size -= 4; /* teamOffset */
    return size;
}

uint64_t mp_cd_size(uint32_t version, size_t ident_len, uint32_t n_special, uint64_t n_code, unsigned hash_size)
{
    return mp_cd_header_size(version) + (uint64_t)ident_len + 1 + ((uint64_t)n_special + n_code) * hash_size;
}

uint32_t mp_code_slots(uint64_t code_limit, uint32_t page_size)
{
    if (code_limit == 0)
        return 0;
    if (page_size == 0)
        return 1;
    return (uint32_t)((code_limit - 1) / page_size + 1);
}

static uint8_t log2_of(uint32_t v)
{
    uint8_t n = 0;
    while (v > 1) {
        v >>= 1;
        n++;
    }
    return n;
}

mp_status mp_cd_write(const mp_cd_params *p, const mp_buf *code, size_t code_off, unsigned threads,
                      mp_page_sink *sink, uint8_t *out, size_t out_len)
{
    unsigned hs = mp_hash_stored_size(p->hash_type);
    size_t ident_len = strlen(p->identifier);
    uint32_t n_code = mp_code_slots(p->code_limit, p->page_size);
    uint64_t total = mp_cd_size(p->version, ident_len, p->n_special, n_code, hs);
    if (hs == 0 || total != out_len || total > UINT32_MAX)
        return MP_ERR_SIGNATURE;
    uint32_t header = mp_cd_header_size(p->version);
    memset(out, 0, out_len);
    mp_put_be32(out, CSMAGIC_CODEDIRECTORY);
    mp_put_be32(out + 4, (uint32_t)total);
    mp_put_be32(out + 8, p->version);
    mp_put_be32(out + 12, p->flags);
    uint32_t hash_offset = header + (uint32_t)ident_len + 1 + p->n_special * hs;
    mp_put_be32(out + 16, hash_offset);
    mp_put_be32(out + 20, header); /* identOffset: no scatter vector, identifier right after the header */
    mp_put_be32(out + 24, p->n_special);
    mp_put_be32(out + 28, n_code);
    mp_put_be32(out + 32, p->code_limit);
    out[36] = (uint8_t)hs;
    out[37] = (uint8_t)p->hash_type;
    out[38] = 0; /* platform */
    out[39] = p->page_size ? log2_of(p->page_size) : 0;
    /* spare2, scatterOffset, teamOffset, spare3, codeLimit64 stay zero */
    if (p->version >= CS_SUPPORTSEXECSEG) {
        mp_put_be64(out + 64, p->exec_base);
        mp_put_be64(out + 72, p->exec_limit);
        mp_put_be64(out + 80, p->exec_flags);
    }
    if (p->version >= CS_SUPPORTSRUNTIME)
        mp_put_be32(out + 88, p->runtime); /* preEncryptOffset stays zero */
    memcpy(out + header, p->identifier, ident_len + 1);
    for (uint32_t slot = 1; slot <= p->n_special; slot++)
        memcpy(out + hash_offset - (size_t)slot * hs, p->special + (size_t)(slot - 1) * hs, hs);
    if (code_off > code->size || p->code_limit > code->size - code_off)
        return MP_ERR_SIGNATURE;
    mp_page_io io = {code, code_off, sink, code_off};
    if (!mp_hash_pages(code->base + code_off, p->code_limit, p->page_size, p->hash_type, out + hash_offset, threads,
                       &io))
        return MP_ERR_NOMEM;
    return MP_OK;
}

uint64_t mp_superblob_size(const mp_blob_piece *pieces, size_t n)
{
    uint64_t total = 12 + 8 * (uint64_t)n;
    for (size_t i = 0; i < n; i++)
        total += pieces[i].len;
    return total;
}

uint32_t mp_superblob_write(const mp_blob_piece *pieces, size_t n, uint8_t *out)
{
    uint32_t total = (uint32_t)mp_superblob_size(pieces, n);
    mp_put_be32(out, CSMAGIC_EMBEDDED_SIGNATURE);
    mp_put_be32(out + 4, total);
    mp_put_be32(out + 8, (uint32_t)n);
    uint32_t off = 12 + 8 * (uint32_t)n;
    for (size_t i = 0; i < n; i++) {
        mp_put_be32(out + 12 + 8 * i, pieces[i].type);
        mp_put_be32(out + 16 + 8 * i, off);
        memcpy(out + off, pieces[i].data, pieces[i].len);
        off += pieces[i].len;
    }
    return total;
}
