/* machoplist: command dispatch. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *cli_program = "machoplist";

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", cli_program);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_report(const mp_error *err)
{
    cli_error("%s", err->message);
    return (int)err->status;
}

void cli_format_version(uint32_t v, char *buf, size_t len)
{
    unsigned major = v >> 16, minor = (v >> 8) & 0xff, patch = v & 0xff;
    if (patch)
        snprintf(buf, len, "%u.%u.%u", major, minor, patch);
    else
        snprintf(buf, len, "%u.%u", major, minor);
}

int cli_combine_status(int current, int next)
{
    return current ? current : next;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: machoplist COMMAND [OPTIONS] FILE...\n"
            "\n"
            "Give a finished macOS executable an embedded, signed Info.plist.\n"
            "\n"
            "commands:\n"
            "  show FILE...        print slices, segments, sections, room, Info.plist and signature\n"
            "                      --json for scripts; --plist prints only the embedded plist\n"
            "  inject [--plist FILE] FILE...\n"
            "                      embed an Info.plist in __TEXT,__info_plist and sign ad hoc; without\n"
            "                      --plist a default one is made (--identifier, --usage, --set KEY=VALUE,\n"
            "                      --replace); --make-room, --dry-run, -o OUT, --backup, --force, -q;\n"
            "                      -r DIR... for the Mach-O executables under DIR, -j N files at once\n"
            "  remove FILE...      take __TEXT,__info_plist out again and sign ad hoc (-r, -j too)\n"
            "  brew FORMULA...     inject into the Mach-O executables in bin/ and sbin/ of Homebrew kegs\n"
            "                      (--all adds libexec/; inject's options apply)\n"
            "  sign FILE...        sign ad hoc as codesign -s - -f does (--force to replace a Developer ID)\n"
            "  verify FILE...      check the signature and the Info.plist binding (codesign -dvvv style)\n"
            "  help                this text\n"
            "  version             print the version\n"
            "\n"
            "exit codes: 0 ok, 1 verification failed, 2 usage, 3 I/O, 4 not Mach-O,\n"
            "            5 malformed, 6 unsupported, 7 no room, 8 bad plist, 9 signature, 10 out of memory\n"
            "See machoplist(1).\n");
}

FILE *cli_open_regular(const char *path, const char *what)
{
    /* O_NONBLOCK: opening a FIFO with no writer must not hang. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        cli_error("%s: cannot open %s: %s", path, what, strerror(errno));
        return NULL;
    }
    struct stat st;
    /* A pipe is fine (--plist <(...)): without a writer it reads as empty
     * once the open no longer blocks. A device could read forever. */
    if (fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode))) {
        close(fd);
        cli_error("%s: %s is not a regular file or a pipe", path, what);
        return NULL;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0)
        fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        close(fd);
        cli_error("%s: cannot open %s: %s", path, what, strerror(errno));
    }
    return f;
}

/* The library maps its input files (lib/buffer.h). If another process
 * truncates one meanwhile, touching a page past the new end raises SIGBUS.
 * Nothing has been written to the target by then (the temporary file the
 * hashing threads were writing is removed; the kernel copies of a plain write
 * report an error instead), so this is an I/O error like any other, not a
 * crash. */
static const char *volatile reading;

void cli_reading(const char *path)
{
    reading = path;
}

/* Appends s to buf (of size cap) at *at; async-signal-safe. */
static void append(char *buf, size_t cap, size_t *at, const char *s)
{
    while (*s && *at + 1 < cap)
        buf[(*at)++] = *s++;
}

static void on_sigbus(int sig)
{
    (void)sig;
    /* Several hashing threads may fault at once: one reports, the others
     * wait for its _exit. */
    static atomic_flag reported = ATOMIC_FLAG_INIT;
    if (atomic_flag_test_and_set(&reported))
        for (;;)
            pause();
    char msg[4608];
    size_t n = 0;
    const char *path = reading;
    append(msg, sizeof msg, &n, "machoplist: ");
    if (path) {
        append(msg, sizeof msg, &n, path);
        append(msg, sizeof msg, &n, ": ");
    }
    append(msg, sizeof msg, &n, "file shrank while being read (truncated by another process); nothing was written\n");
    cli_remove_pending_temps();
    ssize_t w = write(STDERR_FILENO, msg, n);
    (void)w;
    _exit(MP_ERR_IO);
}

int main(int argc, char **argv)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigbus;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, NULL);
    cli_clean_up_on_signals();
    if (argc < 2) {
        usage(stderr);
        return MP_ERR_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "show") == 0)
        return cmd_show(argc - 1, argv + 1);
    if (strcmp(cmd, "inject") == 0)
        return cmd_inject(argc - 1, argv + 1);
    if (strcmp(cmd, "remove") == 0)
        return cmd_remove(argc - 1, argv + 1);
    if (strcmp(cmd, "brew") == 0)
        return cmd_brew(argc - 1, argv + 1);
    if (strcmp(cmd, "sign") == 0)
        return cmd_sign(argc - 1, argv + 1);
    if (strcmp(cmd, "verify") == 0)
        return cmd_verify(argc - 1, argv + 1);
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("machoplist %s\n", mp_version());
        return 0;
    }
    cli_error("unknown command '%s' (try 'machoplist help')", cmd);
    return MP_ERR_USAGE;
}
