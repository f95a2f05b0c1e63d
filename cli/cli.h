/* Shared pieces of the machoplist command line. The CLI only parses
 * arguments and prints reports; all work is done by libmachoplist. */
#ifndef MP_CLI_H
#define MP_CLI_H

#include "machoplist.h"

#include <stdbool.h>
#include <stdio.h>

extern const char *cli_program;

/* One-line error to stderr: "machoplist: MESSAGE". */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* fopen(path, "rb") for a regular file or a pipe, opened without blocking
 * (a FIFO without a writer hung fopen); a device or directory is refused.
 * NULL after printing the error. */
FILE *cli_open_regular(const char *path, const char *what);
/* The input file being worked on, named if it is truncated while mapped
 * (the SIGBUS handler in main.c). path must outlive the work. */
void cli_reading(const char *path);
/* Writes under way (pending_writes.c): registered from mp_write_begin until
 * after the commit or abort, so that a signal ending the process removes
 * their temporary files. started returns a slot for ended (-1 when w is NULL
 * or no slot is free; ended ignores -1). */
int cli_write_started(const mp_write *w);
void cli_write_ended(int slot);
/* Async-signal-safe: removes the temporaries of all writes under way. */
void cli_remove_pending_temps(void);
/* SIGINT, SIGTERM, SIGHUP, SIGQUIT: remove them, then end as the signal would. */
void cli_clean_up_on_signals(void);
/* Reports err and returns its status (the exit code). */
int cli_report(const mp_error *err);
/* "11.0" or "10.9.5" from a packed xxxx.yy.zz version. */
void cli_format_version(uint32_t v, char *buf, size_t len);
/* Combines per-file exit codes: the first failure wins. */
int cli_combine_status(int current, int next);

int cmd_show(int argc, char **argv);
int cmd_inject(int argc, char **argv);
int cmd_remove(int argc, char **argv);
int cmd_brew(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_verify(int argc, char **argv);

#endif
