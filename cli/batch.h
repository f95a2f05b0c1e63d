/* Running one command over many files: expanding arguments and directory
 * trees into a list, processing the files on -j N threads, printing each
 * file's output in argument order without interleaving, a progress line on
 * a terminal, and the closing summary. */
#ifndef MP_CLI_BATCH_H
#define MP_CLI_BATCH_H

#include "cli.h"

#include <stdbool.h>
#include <stddef.h>

/* One file's output, buffered until it is its turn to be printed. */
typedef struct batch_out batch_out;

/* To stdout. */
void bo_printf(batch_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "machoplist: MESSAGE" to stderr; the first one is the file's refusal reason. */
void bo_error(batch_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "machoplist: note: MESSAGE" to stderr, unless quiet. */
void bo_note(batch_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "machoplist: warning: MESSAGE" to stderr. */
void bo_warn(batch_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* bo_error with err's message; returns its status. */
int bo_report(batch_out *o, const mp_error *err);

typedef enum batch_result {
    BATCH_CHANGED, /* written (or, in a dry run, would be) */
    BATCH_UP_TO_DATE, /* nothing to change */
    BATCH_REFUSED, /* failed; the exit code says why */
    BATCH_SKIPPED /* found in a directory walk but not a Mach-O executable */
} batch_result;

typedef struct batch_file {
    const char *path;
    bool from_walk; /* found under a directory: skip what is not a Mach-O executable */
    bool batch; /* more than one file in this run */
} batch_file;

/* Processes one file; sets *rc (0 or an mp_status) and returns the result.
 * Called from worker threads: must use only o for output. */
typedef batch_result (*batch_fn)(const batch_file *file, void *ctx, batch_out *o, int *rc);

typedef struct batch_list batch_list;

batch_list *batch_list_new(bool quiet);
void batch_list_free(batch_list *l);

/* A file or directory named on the command line. Directories are walked when
 * recursive, else refused (exit 3). Returns 0, or MP_ERR_NOMEM. */
int batch_add_arg(batch_list *l, const char *path, bool recursive);
/* Walks dir (following it when it is a symlink). Directory symlinks are
 * followed only when they lead inside boundary (a real path; NULL: dir's own). */
int batch_add_tree(batch_list *l, const char *dir, const char *boundary);
/* A line printed at this point of the output (stdout, or stderr when
 * to_stderr), suppressed by quiet unless it is an error (code != 0, which
 * also counts as a refusal and an exit code). */
int batch_add_message(batch_list *l, int code, bool to_stderr, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Items added from now on belong to a group; a group in which nothing but
 * skipped files turned up is refused with code and message after the run. */
int batch_begin_group(batch_list *l, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Number of files (not messages) listed so far. */
size_t batch_file_count(const batch_list *l);

typedef struct batch_config {
    unsigned jobs; /* files processed at once; 0 or 1: one */
    bool quiet;
    const char *done_verb; /* "injected", "removed", "would be injected", ... */
    const char *closing_hint; /* printed once before the summary when several files changed, or NULL */
} batch_config;

/* Runs fn on every file; prints outputs in order, then (for more than one
 * file, unless quiet) "N <done_verb>, N already up to date, N refused" and one
 * "  refused: REASON" line per refusal. Returns 0 when nothing was refused,
 * else the first refusal's code. */
int batch_run(batch_list *l, const batch_config *cfg, batch_fn fn, void *ctx);

#endif
