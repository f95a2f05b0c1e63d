/* Batch runs for inject, remove and brew; see batch.h. */
#include "batch.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Buffered output of one file */

typedef struct segment {
    bool to_stderr;
    char *text;
} segment;

struct batch_out {
    segment *segs;
    size_t n, cap;
    bool quiet;
    bool lost; /* out of memory: some output was dropped */
    bool has_reason;
    char reason[1024];
};

static char *vformat(const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int len = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (len < 0)
        return NULL;
    char *s = malloc((size_t)len + 1);
    if (s)
        vsnprintf(s, (size_t)len + 1, fmt, ap);
    return s;
}

static void out_add(batch_out *o, bool to_stderr, char *text)
{
    if (!text) {
        o->lost = true;
        return;
    }
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 8;
        segment *bigger = realloc(o->segs, cap * sizeof *bigger);
        if (!bigger) {
            free(text);
            o->lost = true;
            return;
        }
        o->segs = bigger;
        o->cap = cap;
    }
    o->segs[o->n].to_stderr = to_stderr;
    o->segs[o->n].text = text;
    o->n++;
}

/* "machoplist: KIND" + formatted message + newline to stderr, as one segment;
 * the first error is kept as the reason. */
static void out_stderr(batch_out *o, const char *kind, bool is_error, const char *fmt, va_list ap)
{
    char *msg = vformat(fmt, ap);
    if (!msg) {
        o->lost = true;
        return;
    }
    if (is_error && !o->has_reason) {
        snprintf(o->reason, sizeof o->reason, "%s", msg);
        o->has_reason = true;
    }
    size_t len = strlen(cli_program) + 2 + strlen(kind) + strlen(msg) + 2;
    char *text = malloc(len);
    if (text)
        snprintf(text, len, "%s: %s%s\n", cli_program, kind, msg);
    free(msg);
    out_add(o, true, text);
}

void bo_printf(batch_out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    out_add(o, false, vformat(fmt, ap));
    va_end(ap);
}

void bo_error(batch_out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    out_stderr(o, "", true, fmt, ap);
    va_end(ap);
}

void bo_note(batch_out *o, const char *fmt, ...)
{
    if (o->quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    out_stderr(o, "note: ", false, fmt, ap);
    va_end(ap);
}

void bo_warn(batch_out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    out_stderr(o, "warning: ", false, fmt, ap);
    va_end(ap);
}

int bo_report(batch_out *o, const mp_error *err)
{
    bo_error(o, "%s", err->message);
    return (int)err->status;
}

static void out_flush(batch_out *o)
{
    for (size_t i = 0; i < o->n; i++) {
        if (o->segs[i].to_stderr) {
            fflush(stdout);
            fputs(o->segs[i].text, stderr);
        } else {
            fputs(o->segs[i].text, stdout);
        }
        free(o->segs[i].text);
    }
    if (o->lost) {
        fflush(stdout);
        fprintf(stderr, "%s: out of memory; some output was lost\n", cli_program);
    }
    fflush(stdout);
    free(o->segs);
    o->segs = NULL;
    o->n = o->cap = 0;
}

static void out_free(batch_out *o)
{
    for (size_t i = 0; i < o->n; i++)
        free(o->segs[i].text);
    free(o->segs);
    o->segs = NULL;
    o->n = o->cap = 0;
}

/* ------------------------------------------------------------------------ */
/* The list */

typedef enum item_kind { ITEM_FILE, ITEM_MESSAGE } item_kind;

typedef struct item {
    item_kind kind;
    char *path; /* ITEM_FILE */
    bool from_walk;
    char *text; /* ITEM_MESSAGE, with its newline */
    bool to_stderr;
    int code; /* ITEM_MESSAGE: nonzero is a refusal */
    size_t group; /* SIZE_MAX: none */
    /* results */
    batch_out out;
    batch_result result;
    int rc;
    bool done;
} item;

typedef struct group {
    char *message;
    int code;
    size_t start; /* index of its first item */
} group;

/* A set of (device, inode) pairs, open addressing. */
typedef struct idset {
    struct fid {
        dev_t dev;
        ino_t ino;
        bool used;
    } *slots;
    size_t n, cap;
} idset;

struct batch_list {
    item *items;
    size_t n, cap;
    bool quiet;
    idset files, dirs;
    group *groups;
    size_t ngroups;
    size_t current_group;
};

static size_t id_hash(dev_t dev, ino_t ino, size_t cap)
{
    uint64_t h = (uint64_t)ino * 0x9e3779b97f4a7c15ull ^ (uint64_t)dev * 0xff51afd7ed558ccdull;
    return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

/* 1 when added, 0 when already there, -1 out of memory. */
static int idset_add(idset *s, dev_t dev, ino_t ino)
{
    if ((s->n + 1) * 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        struct fid *slots = calloc(cap, sizeof *slots);
        if (!slots)
            return -1;
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->slots[i].used)
                continue;
            size_t j = id_hash(s->slots[i].dev, s->slots[i].ino, cap);
            while (slots[j].used)
                j = (j + 1) & (cap - 1);
            slots[j] = s->slots[i];
        }
        free(s->slots);
        s->slots = slots;
        s->cap = cap;
    }
    size_t j = id_hash(dev, ino, s->cap);
    while (s->slots[j].used) {
        if (s->slots[j].dev == dev && s->slots[j].ino == ino)
            return 0;
        j = (j + 1) & (s->cap - 1);
    }
    s->slots[j].dev = dev;
    s->slots[j].ino = ino;
    s->slots[j].used = true;
    s->n++;
    return 1;
}

batch_list *batch_list_new(bool quiet)
{
    batch_list *l = calloc(1, sizeof *l);
    if (l) {
        l->quiet = quiet;
        l->current_group = SIZE_MAX;
    }
    return l;
}

void batch_list_free(batch_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].path);
        free(l->items[i].text);
        out_free(&l->items[i].out);
    }
    for (size_t i = 0; i < l->ngroups; i++)
        free(l->groups[i].message);
    free(l->items);
    free(l->groups);
    free(l->files.slots);
    free(l->dirs.slots);
    free(l);
}

size_t batch_file_count(const batch_list *l)
{
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++)
        n += l->items[i].kind == ITEM_FILE;
    return n;
}

static item *new_item(batch_list *l, item_kind kind)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        item *bigger = realloc(l->items, cap * sizeof *bigger);
        if (!bigger)
            return NULL;
        l->items = bigger;
        l->cap = cap;
    }
    item *it = &l->items[l->n++];
    memset(it, 0, sizeof *it);
    it->kind = kind;
    it->group = l->current_group;
    it->out.quiet = l->quiet;
    return it;
}

static int vmessage(batch_list *l, int code, bool to_stderr, const char *fmt, va_list ap)
{
    if (code == 0 && l->quiet)
        return 0;
    char *msg = vformat(fmt, ap);
    if (!msg)
        return MP_ERR_NOMEM;
    const char *prefix = to_stderr ? cli_program : "";
    const char *sep = to_stderr ? (code ? ": " : ": note: ") : "";
    size_t len = strlen(prefix) + strlen(sep) + strlen(msg) + 2;
    char *text = malloc(len);
    item *it = text ? new_item(l, ITEM_MESSAGE) : NULL;
    if (!it) {
        free(msg);
        free(text);
        return MP_ERR_NOMEM;
    }
    snprintf(text, len, "%s%s%s\n", prefix, sep, msg);
    it->text = text;
    it->to_stderr = to_stderr;
    it->code = code;
    if (code) {
        snprintf(it->out.reason, sizeof it->out.reason, "%s", msg);
        it->out.has_reason = true;
    }
    free(msg);
    return 0;
}

int batch_add_message(batch_list *l, int code, bool to_stderr, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vmessage(l, code, to_stderr, fmt, ap);
    va_end(ap);
    return rc;
}

static int message(batch_list *l, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int message(batch_list *l, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vmessage(l, code, true, fmt, ap);
    va_end(ap);
    return rc;
}

int batch_begin_group(batch_list *l, int code, const char *fmt, ...)
{
    group *bigger = realloc(l->groups, (l->ngroups + 1) * sizeof *bigger);
    if (!bigger)
        return MP_ERR_NOMEM;
    l->groups = bigger;
    va_list ap;
    va_start(ap, fmt);
    char *msg = vformat(fmt, ap);
    va_end(ap);
    if (!msg)
        return MP_ERR_NOMEM;
    group *g = &l->groups[l->ngroups];
    g->message = msg;
    g->code = code;
    g->start = l->n;
    l->current_group = l->ngroups++;
    return 0;
}

/* Adds a file unless the same file (device and inode) is listed already. */
static int add_file(batch_list *l, const char *path, bool from_walk, const struct stat *st)
{
    if (st) {
        int added = idset_add(&l->files, st->st_dev, st->st_ino);
        if (added < 0)
            return MP_ERR_NOMEM;
        if (added == 0)
            return message(l, 0, "%s: the same file is listed already; skipped", path);
    }
    char *copy = strdup(path);
    item *it = copy ? new_item(l, ITEM_FILE) : NULL;
    if (!it) {
        free(copy);
        return MP_ERR_NOMEM;
    }
    it->path = copy;
    it->from_walk = from_walk;
    return 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* real is inside (or is) boundary. */
static bool inside(const char *real, const char *boundary)
{
    size_t n = strlen(boundary);
    if (n == 1 && boundary[0] == '/')
        return true;
    return strncmp(real, boundary, n) == 0 && (real[n] == '\0' || real[n] == '/');
}

/* A machoplist temporary: ".NAME.machoplist-XXXXXX". */
static bool is_temporary(const char *name)
{
    return name[0] == '.' && strstr(name, ".machoplist-") != NULL;
}

/* NAME.bak next to NAME: a --backup copy. */
static bool is_backup_of_sibling(const char *path)
{
    size_t n = strlen(path);
    if (n <= 4 || strcmp(path + n - 4, ".bak") != 0)
        return false;
    char original[PATH_MAX];
    if (n - 4 >= sizeof original)
        return false;
    memcpy(original, path, n - 4);
    original[n - 4] = '\0';
    return access(original, F_OK) == 0;
}

static int walk(batch_list *l, const char *dir, const char *boundary, unsigned depth)
{
    if (depth > 64)
        return message(l, MP_ERR_IO, "%s: directories nested too deeply; not walked", dir);
    DIR *d = opendir(dir);
    if (!d)
        return message(l, MP_ERR_IO, "%s: cannot open directory: %s", dir, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 || is_temporary(e->d_name))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            char **bigger = realloc(names, cap * sizeof *bigger);
            if (!bigger) {
                rc = MP_ERR_NOMEM;
                break;
            }
            names = bigger;
        }
        if (!(names[n] = strdup(e->d_name))) {
            rc = MP_ERR_NOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, compare_names);
    size_t dlen = strlen(dir);
    bool slash = dlen > 0 && dir[dlen - 1] == '/';
    for (size_t i = 0; i < n && rc == 0; i++) {
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s%s%s", dir, slash ? "" : "/", names[i]) >= (int)sizeof path) {
            rc = message(l, MP_ERR_IO, "%s/%s: path too long", dir, names[i]);
            continue;
        }
        struct stat lst, st;
        if (lstat(path, &lst) != 0) {
            rc = message(l, MP_ERR_IO, "%s: %s", path, strerror(errno));
            continue;
        }
        bool link = S_ISLNK(lst.st_mode);
        if (link && stat(path, &st) != 0) {
            rc = message(l, 0, "%s: dangling symbolic link; skipped", path);
            continue;
        }
        if (!link)
            st = lst;
        if (S_ISDIR(st.st_mode)) {
            if (link) {
                char real[PATH_MAX];
                if (!realpath(path, real) || !inside(real, boundary)) {
                    rc = message(l, 0, "%s: symbolic link to a directory outside %s; not followed", path, boundary);
                    continue;
                }
            }
            int added = idset_add(&l->dirs, st.st_dev, st.st_ino);
            if (added < 0)
                rc = MP_ERR_NOMEM;
            else if (added > 0)
                rc = walk(l, path, boundary, depth + 1);
        } else if (S_ISREG(st.st_mode)) {
            if (is_backup_of_sibling(path))
                rc = message(l, 0, "%s: a --backup copy; skipped", path);
            else
                rc = add_file(l, path, true, &st);
        } else {
            rc = message(l, 0, "%s: not a regular file; skipped", path);
        }
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

int batch_add_tree(batch_list *l, const char *dir, const char *boundary)
{
    char real[PATH_MAX];
    struct stat st;
    if (!realpath(dir, real) || stat(dir, &st) != 0)
        return message(l, MP_ERR_IO, "%s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return message(l, MP_ERR_IO, "%s: not a directory", dir);
    int added = idset_add(&l->dirs, st.st_dev, st.st_ino);
    if (added < 0)
        return MP_ERR_NOMEM;
    if (added == 0)
        return 0;
    return walk(l, dir, boundary ? boundary : real, 0);
}

int batch_add_arg(batch_list *l, const char *path, bool recursive)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return add_file(l, path, false, NULL); /* the file's own run reports why */
    if (S_ISDIR(st.st_mode)) {
        if (!recursive)
            return message(l, MP_ERR_IO, "%s: is a directory; use --recursive (-r) for the Mach-O executables under it",
                           path);
        return batch_add_tree(l, path, NULL);
    }
    return add_file(l, path, false, &st);
}

/* ------------------------------------------------------------------------ */
/* Running */

typedef struct run_state {
    batch_list *l;
    const batch_config *cfg;
    batch_fn fn;
    void *ctx;
    bool several; /* more than one file */
    pthread_mutex_t lock;
    size_t next_take, next_print;
    size_t files_total, files_done;
    bool progress;
    const char *current;
} run_state;

static void progress_clear(run_state *s)
{
    if (s->progress)
        fputs("\r\033[K", stderr);
}

static void progress_draw(run_state *s)
{
    if (!s->progress || s->files_done >= s->files_total)
        return;
    struct winsize ws;
    size_t width = 80;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
        width = ws.ws_col;
    char head[64];
    snprintf(head, sizeof head, "%s: [%zu/%zu] ", cli_program, s->files_done, s->files_total);
    const char *path = s->current ? s->current : "";
    size_t room = width - 1 > strlen(head) + 4 ? width - 1 - strlen(head) : 4;
    if (strlen(path) > room)
        fprintf(stderr, "\r\033[K%s...%s", head, path + strlen(path) - (room - 3));
    else
        fprintf(stderr, "\r\033[K%s%s", head, path);
}

/* Prints every finished item whose predecessors are printed. Under the lock. */
static void print_ready(run_state *s)
{
    batch_list *l = s->l;
    bool cleared = false;
    while (s->next_print < l->n && l->items[s->next_print].done) {
        item *it = &l->items[s->next_print++];
        if (!cleared) {
            progress_clear(s);
            cleared = true;
        }
        if (it->kind == ITEM_MESSAGE) {
            if (it->to_stderr) {
                fflush(stdout);
                fputs(it->text, stderr);
            } else {
                fputs(it->text, stdout);
                fflush(stdout);
            }
        } else {
            out_flush(&it->out);
        }
    }
    if (cleared)
        progress_draw(s);
}

static void process(run_state *s, item *it)
{
    if (it->kind == ITEM_FILE) {
        batch_file f = { it->path, it->from_walk, s->several };
        it->rc = 0;
        it->result = s->fn(&f, s->ctx, &it->out, &it->rc);
        if (it->result == BATCH_REFUSED && it->rc == 0)
            it->rc = MP_ERR_IO;
    } else {
        it->rc = it->code;
    }
}

static void *worker(void *arg)
{
    run_state *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->lock);
        if (s->next_take >= s->l->n) {
            pthread_mutex_unlock(&s->lock);
            return NULL;
        }
        item *it = &s->l->items[s->next_take++];
        if (it->kind == ITEM_FILE) {
            s->current = it->path;
            progress_draw(s);
        }
        pthread_mutex_unlock(&s->lock);

        process(s, it);

        pthread_mutex_lock(&s->lock);
        it->done = true;
        if (it->kind == ITEM_FILE)
            s->files_done++;
        print_ready(s);
        pthread_mutex_unlock(&s->lock);
    }
}

int batch_run(batch_list *l, const batch_config *cfg, batch_fn fn, void *ctx)
{
    run_state s;
    memset(&s, 0, sizeof s);
    s.l = l;
    s.cfg = cfg;
    s.fn = fn;
    s.ctx = ctx;
    size_t units = 0; /* files and refusals */
    for (size_t i = 0; i < l->n; i++)
        units += l->items[i].kind == ITEM_FILE || l->items[i].code != 0;
    s.files_total = batch_file_count(l);
    s.several = units > 1;
    s.progress = !cfg->quiet && s.files_total > 1 && isatty(STDERR_FILENO);
    pthread_mutex_init(&s.lock, NULL);

    unsigned jobs = cfg->jobs ? cfg->jobs : 1;
    if (jobs > s.files_total)
        jobs = s.files_total ? (unsigned)s.files_total : 1;
    pthread_t *threads = jobs > 1 ? calloc(jobs, sizeof *threads) : NULL;
    unsigned started = 0;
    if (threads)
        for (; started < jobs; started++)
            if (pthread_create(&threads[started], NULL, worker, &s) != 0)
                break;
    if (started == 0)
        worker(&s); /* one job, or no thread could be started */
    for (unsigned t = 0; t < started; t++)
        pthread_join(threads[t], NULL);
    free(threads);
    progress_clear(&s);
    pthread_mutex_destroy(&s.lock);

    /* Groups in which nothing but skipped files turned up. */
    bool *group_failed = l->ngroups ? calloc(l->ngroups, sizeof *group_failed) : NULL;
    for (size_t g = 0; g < l->ngroups && group_failed; g++) {
        bool found = false;
        for (size_t i = 0; i < l->n && !found; i++) {
            const item *it = &l->items[i];
            found = it->group == g && ((it->kind == ITEM_FILE && it->result != BATCH_SKIPPED) || it->code != 0);
        }
        if (!found) {
            group_failed[g] = true;
            fprintf(stderr, "%s: %s\n", cli_program, l->groups[g].message);
        }
    }

    size_t changed = 0, current = 0, refused = 0;
    int rc = 0;
    for (size_t i = 0; i <= l->n; i++) {
        for (size_t k = 0; group_failed && k < l->ngroups; k++)
            if (group_failed[k] && l->groups[k].start == i) {
                refused++;
                rc = cli_combine_status(rc, l->groups[k].code);
            }
        if (i == l->n)
            break;
        const item *it = &l->items[i];
        if (it->kind == ITEM_FILE) {
            changed += it->result == BATCH_CHANGED;
            current += it->result == BATCH_UP_TO_DATE;
        }
        if (it->rc) {
            refused++;
            rc = cli_combine_status(rc, it->rc);
        }
    }
    if (!cfg->quiet && changed && s.several && cfg->closing_hint)
        printf("%s\n", cfg->closing_hint);
    if (changed + current + refused > 1 && !cfg->quiet) {
        printf("%zu %s, %zu already up to date, %zu refused\n", changed, cfg->done_verb, current, refused);
        for (size_t i = 0; i <= l->n; i++) {
            for (size_t k = 0; group_failed && k < l->ngroups; k++)
                if (group_failed[k] && l->groups[k].start == i)
                    printf("  refused: %s\n", l->groups[k].message);
            if (i < l->n && l->items[i].rc)
                printf("  refused: %s\n", l->items[i].out.has_reason ? l->items[i].out.reason : l->items[i].path);
        }
    }
    fflush(stdout);
    free(group_failed);
    return rc;
}
