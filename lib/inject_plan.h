/* The edit plan for adding, replacing or removing __TEXT,__info_plist.
 * Computed by inject_plan.c from a parsed image (pure: no byte changes),
 * executed by inject_apply.c, printed by plan_describe.c. */
#ifndef MP_INJECT_PLAN_H
#define MP_INJECT_PLAN_H

#include "image.h"
#include "macho_format.h"

typedef enum mp_plan_action {
    MP_PLAN_ADD, /* no section yet: insert a header and place the bytes */
    MP_PLAN_REPLACE, /* section exists: new bytes in place, grown in place, or moved */
    MP_PLAN_REMOVE, /* take the section out */
    MP_PLAN_NONE /* nothing to do in this slice (remove without a section) */
} mp_plan_action;

#define MP_MAX_DROPPED 16

typedef struct mp_slice_plan {
    size_t slice;
    char arch[16];
    mp_plan_action action;
    bool unchanged; /* the section already holds exactly these bytes */

    /* Where the bytes go (ADD, REPLACE). */
    const char *region; /* "tail slack", "head gap", "in place", "grown in place" */
    uint64_t data_off, data_addr;

    /* Old bytes to zero (REPLACE when moved or shrunk, REMOVE). */
    uint64_t clear_off, clear_size;

    /* __TEXT section headers after the change, in order: indexes into the
     * slice's sections, or -1 for the new section. */
    int text_order[MAX_SECT + 1];
    size_t text_count;
    /* Old ordinal (1..nsects) -> new ordinal (0: removed). */
    uint8_t ordinal_map[MAX_SECT + 1];
    unsigned new_ordinal; /* of __info_plist after the change; 0 when removed */
    unsigned moved_ordinals; /* sections whose ordinal changes */
    uint32_t symbols_renumbered, relocations_renumbered;

    /* Load commands dropped to make room (indexes into the slice's lcs). */
    uint32_t dropped[MP_MAX_DROPPED];
    uint32_t dropped_cmd[MP_MAX_DROPPED];
    size_t ndropped;

    int64_t lc_growth; /* bytes the load commands grow by (negative: shrink) */
    uint64_t head_gap_before, head_gap_after, tail_slack_before, tail_slack_after;
    bool needs_code_signature_lc; /* signing will add LC_CODE_SIGNATURE (16 bytes) */
} mp_slice_plan;

struct mp_plan {
    uint8_t *bytes; /* the plist to embed; NULL when removing */
    size_t len;
    mp_slice_plan *slices;
    size_t nslices;
    char *name; /* the image's name, for messages */
};

/* Counts (plan) or rewrites (apply) the section ordinals in the symbol table
 * and local relocations of a slice. Pass out == NULL to count only; out is
 * otherwise a copy of the image with the slice at out_off. *orphans counts
 * references to a section the map removes (left untouched). False when a
 * page of out could not be made writable. */
bool mp_remap_ordinals(const mp_slice *s, mp_buf *out, size_t out_off, const uint8_t map[MAX_SECT + 1],
                       uint32_t *symbols, uint32_t *relocations, uint32_t *orphans);

/* Name of a load command the planner may drop. */
const char *mp_lc_name(uint32_t cmd);

#endif
