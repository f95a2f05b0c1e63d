/* Finding an installed Homebrew formula's keg, for `machoplist brew`:
 * `brew --prefix FORMULA` when brew is on PATH, else $HOMEBREW_PREFIX/opt/FORMULA,
 * else the newest version in $HOMEBREW_CELLAR/FORMULA (HOMEBREW_PREFIX and
 * HOMEBREW_CELLAR are what Homebrew exports to external commands and what
 * `brew shellenv` sets; without them the default prefixes are tried). */
#include "brew_keg.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The first executable regular file named name in $PATH. */
static bool find_in_path(const char *name, char *out, size_t cap)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        return false;
    while (*path) {
        const char *end = strchr(path, ':');
        size_t len = end ? (size_t)(end - path) : strlen(path);
        struct stat st;
        if (len == 0)
            snprintf(out, cap, "./%s", name);
        else
            snprintf(out, cap, "%.*s/%s", (int)len, path, name);
        if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
            return true;
        if (!end)
            break;
        path = end + 1;
    }
    return false;
}

/* Runs `brew --prefix FORMULA`; its last output line into out. stderr is
 * dropped (brew prints its own errors for unknown formulae). */
static bool brew_prefix(const char *brew, const char *formula, char *out, size_t cap)
{
    int fds[2];
    if (pipe(fds) != 0)
        return false;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    char *argv[] = { (char *)brew, (char *)"--prefix", (char *)formula, NULL };
    pid_t pid;
    int spawned = posix_spawn(&pid, brew, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    char buf[8192];
    size_t n = 0;
    if (spawned == 0) {
        for (;;) {
            ssize_t got = read(fds[0], buf + n, sizeof buf - 1 - n);
            if (got < 0 && errno == EINTR)
                continue;
            if (got <= 0)
                break;
            n += (size_t)got;
            if (n == sizeof buf - 1) { /* far too long for a path: drain the rest */
                char sink[512];
                while (read(fds[0], sink, sizeof sink) > 0)
                    ;
                break;
            }
        }
    }
    close(fds[0]);
    int status = 0;
    if (spawned != 0)
        return false;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return false;
    buf[n] = '\0';
    while (n && isspace((unsigned char)buf[n - 1]))
        buf[--n] = '\0';
    const char *line = strrchr(buf, '\n') ? strrchr(buf, '\n') + 1 : buf;
    size_t len = strlen(line);
    if (line[0] != '/' || len >= cap)
        return false;
    memcpy(out, line, len + 1);
    return true;
}

/* Compares version strings with numbers compared as numbers ("3.10" > "3.9",
 * "3.5a_1" > "3.5a"). */
static int compare_versions(const char *a, const char *b)
{
    while (*a && *b) {
        if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
            while (*a == '0' && isdigit((unsigned char)a[1]))
                a++;
            while (*b == '0' && isdigit((unsigned char)b[1]))
                b++;
            size_t la = 0, lb = 0;
            while (isdigit((unsigned char)a[la]))
                la++;
            while (isdigit((unsigned char)b[lb]))
                lb++;
            if (la != lb)
                return la < lb ? -1 : 1;
            int c = strncmp(a, b, la);
            if (c)
                return c;
            a += la;
            b += lb;
        } else {
            if (*a != *b)
                return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
            a++;
            b++;
        }
    }
    return *a ? 1 : *b ? -1 : 0;
}

/* The newest version directory in rack; false when there is none. */
static bool newest_keg(const char *rack, char *out, size_t cap)
{
    DIR *d = opendir(rack);
    if (!d)
        return false;
    char best[NAME_MAX + 1] = "";
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", rack, e->d_name) >= (int)sizeof path || !is_dir(path))
            continue;
        if (!best[0] || compare_versions(e->d_name, best) > 0)
            snprintf(best, sizeof best, "%s", e->d_name);
    }
    closedir(d);
    if (!best[0])
        return false;
    snprintf(out, cap, "%s/%s", rack, best);
    return true;
}

/* Appends ", " and a formatted entry to the list of places tried. */
static void tried_add(char *buf, size_t cap, size_t *used, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void tried_add(char *buf, size_t cap, size_t *used, const char *fmt, ...)
{
    if (*used + 3 >= cap)
        return;
    if (*used) {
        memcpy(buf + *used, ", ", 3);
        *used += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(buf + *used, cap - *used, fmt, ap);
    va_end(ap);
    if (w > 0)
        *used = *used + (size_t)w < cap ? *used + (size_t)w : cap - 1;
}

int brew_find_keg(const char *formula, char *keg, size_t cap, char *why, size_t wcap)
{
    const char *name = strrchr(formula, '/') ? strrchr(formula, '/') + 1 : formula;
    if (!*name || formula[0] == '-' || strstr(formula, "..") || strlen(formula) > 200) {
        snprintf(why, wcap, "'%s' is not a formula name", formula);
        return MP_ERR_USAGE;
    }
    char tried[1024] = "";
    size_t used = 0;

    char brew[PATH_MAX], path[PATH_MAX];
    if (find_in_path("brew", brew, sizeof brew)) {
        if (brew_prefix(brew, formula, path, sizeof path)) {
            if (is_dir(path)) {
                snprintf(keg, cap, "%s", path);
                return 0;
            }
            tried_add(tried, sizeof tried, &used, "brew --prefix %s: %s", formula, path);
        } else {
            tried_add(tried, sizeof tried, &used, "brew --prefix %s failed", formula);
        }
    }
    /* What Homebrew exports to external commands (and `brew shellenv` sets);
     * without either, the default prefixes. */
    const char *env_prefix = getenv("HOMEBREW_PREFIX");
    const char *env_cellar = getenv("HOMEBREW_CELLAR");
    bool from_env = (env_prefix && *env_prefix) || (env_cellar && *env_cellar);
    static const char *const defaults[] = { "/opt/homebrew", "/usr/local", "/home/linuxbrew/.linuxbrew" };
    for (size_t i = 0; i < (from_env ? 1 : sizeof defaults / sizeof defaults[0]); i++) {
        const char *prefix = from_env ? env_prefix : defaults[i];
        if (prefix && *prefix) {
            snprintf(path, sizeof path, "%s/opt/%s", prefix, name);
            if (is_dir(path)) {
                snprintf(keg, cap, "%s", path);
                return 0;
            }
            if (from_env)
                tried_add(tried, sizeof tried, &used, "%s", path);
        }
        char rack[PATH_MAX];
        if (from_env && env_cellar && *env_cellar)
            snprintf(rack, sizeof rack, "%s/%s", env_cellar, name);
        else
            snprintf(rack, sizeof rack, "%s/Cellar/%s", prefix, name);
        if (newest_keg(rack, keg, cap))
            return 0;
        if (from_env)
            tried_add(tried, sizeof tried, &used, "%s/*", rack);
    }
    if (used)
        snprintf(why, wcap, "%s: not installed (tried %s)", formula, tried);
    else
        snprintf(why, wcap, "%s: not installed (no brew on PATH, HOMEBREW_PREFIX not set, no keg under %s, %s or %s)",
                 formula, defaults[0], defaults[1], defaults[2]);
    return MP_ERR_IO;
}
