/* The plan as text: what --dry-run prints, line for line what apply does. */
#include "inject_plan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct text_buf {
    char *s;
    size_t len, cap;
    bool failed;
} text_buf;

static void add(text_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(text_buf *b, const char *fmt, ...)
{
    if (b->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if (b->len + (size_t)n + 1 > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 1024) + (size_t)n;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->failed = true;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static void describe_slice(text_buf *b, const mp_plan *plan, const mp_slice_plan *p)
{
    const char *verb = p->action == MP_PLAN_ADD ? "add" : p->action == MP_PLAN_REPLACE ? "replace"
                       : p->action == MP_PLAN_REMOVE ? "remove" : "nothing to do:";
    if (p->action == MP_PLAN_NONE) {
        add(b, "slice %zu (%s): no __TEXT,__info_plist to remove\n", p->slice, p->arch);
        return;
    }
    if (p->unchanged) {
        add(b, "slice %zu (%s): __TEXT,__info_plist already holds these %zu bytes; no change\n", p->slice, p->arch,
            plan->len);
        return;
    }
    if (p->action == MP_PLAN_REMOVE)
        add(b, "slice %zu (%s): remove __TEXT,__info_plist (%llu bytes at %#llx zeroed)\n", p->slice, p->arch,
            (unsigned long long)p->clear_size, (unsigned long long)p->clear_off);
    else
        add(b, "slice %zu (%s): %s __TEXT,__info_plist, %zu bytes at file offset %#llx, address %#llx (%s)\n",
            p->slice, p->arch, verb, plan->len, (unsigned long long)p->data_off, (unsigned long long)p->data_addr,
            p->region);
    if (p->action == MP_PLAN_ADD)
        add(b, "  section header: 80 bytes after the load commands, as section #%u\n", p->new_ordinal);
    if (p->action == MP_PLAN_REPLACE && p->clear_size)
        add(b, "  old bytes zeroed: %llu at %#llx\n", (unsigned long long)p->clear_size,
            (unsigned long long)p->clear_off);
    if (p->moved_ordinals)
        add(b, "  section ordinals: %u sections renumbered; %u symbols and %u relocations updated\n",
            p->moved_ordinals, p->symbols_renumbered, p->relocations_renumbered);
    else
        add(b, "  section ordinals: unchanged\n");
    for (size_t i = 0; i < p->ndropped; i++)
        add(b, "  dropped unused load command %u (%s), %s\n", p->dropped[i], mp_lc_name(p->dropped_cmd[i]),
            "reclaimed by --make-room");
    add(b, "  room in __TEXT: head gap %llu -> %llu bytes, tail slack %llu -> %llu bytes\n",
        (unsigned long long)p->head_gap_before, (unsigned long long)p->head_gap_after,
        (unsigned long long)p->tail_slack_before, (unsigned long long)p->tail_slack_after);
    add(b, "  then re-signed ad hoc%s\n", p->needs_code_signature_lc ? " (adds LC_CODE_SIGNATURE, 16 bytes)" : "");
}

char *mp_plan_describe(const mp_plan *plan)
{
    text_buf b = {0};
    if (!plan)
        return NULL;
    for (size_t i = 0; i < plan->nslices; i++)
        describe_slice(&b, plan, &plan->slices[i]);
    if (b.failed) {
        free(b.s);
        return NULL;
    }
    return b.s ? b.s : strdup("");
}
