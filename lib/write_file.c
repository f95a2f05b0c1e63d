/* Atomic replacement of a file: temporary file in the same directory, fsync,
 * rename over the target, fsync the directory. A symlink at the path is
 * followed so the link itself stays; the target's mode and owner are kept.
 *
 * The temporary file (.NAME.machoplist-XXXXXX) is flock'ed by its writer for
 * as long as it exists. A writer killed before the rename leaves it behind
 * (nothing can clean up after SIGKILL); the next write to the same target
 * removes such leftovers: a temporary nobody holds a lock on belongs to a
 * dead writer.
 *
 * mp_lock_path: advisory lock for a whole read-modify-write (see the header). */
#ifdef __linux__
#define _GNU_SOURCE /* copy_file_range, fallocate */
#include <linux/fs.h> /* FICLONE */
#include <sys/ioctl.h>
#endif
#include "image.h"
#include "page_sink.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Bytes written from memory at a time; the mapped file pages among them are
 * given back after each write so memory stays flat. */
#define WRITE_CHUNK ((size_t)8 << 20)

static mp_status write_memory(int fd, const mp_buf *b, size_t off, size_t len, const char *path, mp_error *err)
{
    while (len > 0) {
        size_t want = len < WRITE_CHUNK ? len : WRITE_CHUNK;
        ssize_t n = pwrite(fd, b->base + off, want, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return mp_fail(err, MP_ERR_IO, "%s: write failed: %s", path, strerror(errno));
        if (n == 0)
            return mp_fail(err, MP_ERR_IO, "%s: write failed: no progress", path);
        mp_buf_release(b, off, (size_t)n);
        off += (size_t)n;
        len -= (size_t)n;
    }
    return MP_OK;
}

/* Copies len bytes at file_off of the source file to offset at of fd in the
 * kernel (copy_file_range: no trip through user space, and shared extents
 * where the filesystem can clone). MP_ERR_UNSUPPORTED when this kernel or
 * filesystem pair cannot and nothing was copied: the caller writes from
 * memory. */
static mp_status copy_from_source(int fd, const mp_buf *b, uint64_t file_off, size_t len, uint64_t at,
                                  const char *path, mp_error *err)
{
#ifdef __linux__
    loff_t in = (loff_t)file_off, out = (loff_t)at;
    size_t done = 0;
    while (done < len) {
        ssize_t n = copy_file_range(b->fd, &in, fd, &out, len - done, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && done == 0 &&
            (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP || errno == EBADF))
            return MP_ERR_UNSUPPORTED;
        if (n < 0)
            return mp_fail(err, MP_ERR_IO, "%s: write failed: %s", path, strerror(errno));
        if (n == 0)
            return mp_fail(err, MP_ERR_IO, "%s: the file being read changed size", path);
        done += (size_t)n;
    }
    return MP_OK;
#else
    (void)fd, (void)b, (void)file_off, (void)len, (void)at, (void)path, (void)err;
    return MP_ERR_UNSUPPORTED;
#endif
}

struct mp_write {
    char path[PATH_MAX]; /* as given, for messages */
    char tmp[PATH_MAX], base[PATH_MAX];
    int dfd, fd, hold;
    bool exists;
    struct stat st; /* of the target when it exists */
    mode_t new_mode;
    /* Set by mp_write_prepare for the buffer with this id. */
    uint64_t prepared_id;
    bool cloned;
    uint64_t clone_dev, clone_ino;
    mp_page_sink sink;
    uint64_t (*covered)[2];
    size_t ncovered, covered_cap;
    bool covered_lost; /* out of memory while recording: trust none of it */
};

/* Length of the bytes at off (at most n) that still need writing, or, as a
 * negative number, of those the temporary already holds: what w (NULL:
 * nothing) cloned or had the hashing threads write for this buffer. */
static int64_t next_piece(const mp_write *w, const mp_buf *b, size_t off, size_t n, uint64_t file_off)
{
    if (!w || w->prepared_id != b->id)
        return (int64_t)n;
    if (w->cloned && file_off == off && b->fd_dev == w->clone_dev && b->fd_ino == w->clone_ino)
        return -(int64_t)n;
    for (size_t k = 0; !w->covered_lost && k < w->ncovered; k++) {
        uint64_t start = w->covered[k][0], end = start + w->covered[k][1];
        if (off >= start && off < end)
            return -(int64_t)(end - off < n ? end - off : n);
        if (off < start && start - off < n)
            n = (size_t)(start - off);
    }
    return (int64_t)n;
}

/* Writes the whole buffer, each run at its offset: what the file already
 * holds is skipped, runs of source-file pages go through the kernel when it
 * can, everything else from memory. */
static mp_status write_buf(int fd, const mp_buf *b, const mp_write *w, const char *path, mp_error *err)
{
    bool kernel_copy = b->fd >= 0;
    size_t off = 0;
    while (off < b->size) {
        uint64_t file_off;
        size_t run = mp_buf_run(b, off, &file_off);
        int64_t piece = next_piece(w, b, off, run, file_off);
        if (piece < 0) {
            off += (size_t)-piece;
            continue;
        }
        size_t n = (size_t)piece;
        mp_status st = MP_ERR_UNSUPPORTED;
        if (file_off != MP_BUF_ANON && kernel_copy) {
            st = copy_from_source(fd, b, file_off, n, off, path, err);
            if (st == MP_ERR_UNSUPPORTED)
                kernel_copy = false;
        }
        if (st == MP_ERR_UNSUPPORTED)
            st = write_memory(fd, b, off, n, path, err);
        if (st != MP_OK)
            return st;
        off += n;
    }
    /* A clone, or a reservation, may be longer than the result. */
    if (ftruncate(fd, (off_t)b->size) != 0)
        return mp_fail(err, MP_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    return MP_OK;
}

#define TMP_TAG ".machoplist-"
#define TMP_RANDOM 6 /* mkstemp's XXXXXX */

static int flock_retry(int fd, int op)
{
    int r;
    while ((r = flock(fd, op)) != 0 && errno == EINTR)
        ;
    return r;
}

/* Removes .BASE.machoplist-XXXXXX files in dir that no live writer holds
 * (their writer was killed). Best effort: anything unexpected is left alone. */
static void remove_stale_temps(int dir_fd, const char *base)
{
    size_t base_len = strlen(base), tag_len = strlen(TMP_TAG);
    int dfd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 0); /* closedir closes it */
    if (dfd < 0)
        return;
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *n = e->d_name;
        if (n[0] != '.' || strlen(n) != 1 + base_len + tag_len + TMP_RANDOM || strncmp(n + 1, base, base_len) != 0 ||
            strncmp(n + 1 + base_len, TMP_TAG, tag_len) != 0)
            continue;
        int fd = openat(dfd, n, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0)
            continue;
        struct stat st;
        /* Locked: a writer is alive. Unlinked while we hold the lock: a writer
         * that creates it meanwhile sees the name gone and makes another. */
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && flock_retry(fd, LOCK_EX | LOCK_NB) == 0)
            unlinkat(dfd, n, 0);
        close(fd);
    }
    closedir(d);
}

/* Six characters for a temporary name: mkstemp's alphabet, varied per call. */
static void random_suffix(char out[TMP_RANDOM + 1])
{
    static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    static unsigned long counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 40) ^ ++counter;
    for (int i = 0; i < TMP_RANDOM; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift: spread the bits */
        out[i] = set[x % (sizeof set - 1)];
    }
    out[TMP_RANDOM] = '\0';
}

/* Creates .BASE.machoplist-XXXXXX inside the directory dfd (O_EXCL, never
 * through a symlink), then locks it so remove_stale_temps leaves it alone;
 * retried when the name exists or a cleaner removed it between the two. */
static int make_temp(int dfd, char *tmp, size_t len, const char *dir, const char *base, const char *path,
                     mp_error *err)
{
    for (int attempt = 0; attempt < 64; attempt++) {
        char suffix[TMP_RANDOM + 1];
        random_suffix(suffix);
        snprintf(tmp, len, ".%s" TMP_TAG "%s", base, suffix);
        int fd = openat(dfd, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 && errno == EEXIST)
            continue;
        if (fd < 0) {
            mp_fail(err, MP_ERR_IO, "%s: cannot create a temporary file in %s: %s", path, dir, strerror(errno));
            return -1;
        }
        struct stat mine, named;
        if (flock_retry(fd, LOCK_EX) != 0) /* no flock on this filesystem: no cleanup either */
            return fd;
        if (fstat(fd, &mine) == 0 && fstatat(dfd, tmp, &named, AT_SYMLINK_NOFOLLOW) == 0 &&
            mine.st_dev == named.st_dev && mine.st_ino == named.st_ino)
            return fd;
        close(fd);
    }
    mp_fail(err, MP_ERR_IO, "%s: cannot create a temporary file in %s: removed while being created", path, dir);
    return -1;
}


static void write_free(mp_write *w, bool remove_temp)
{
    free(w->covered);
    if (w->fd >= 0)
        close(w->fd);
    if (remove_temp)
        unlinkat(w->dfd, w->tmp, 0);
    if (w->hold >= 0)
        close(w->hold);
    close(w->dfd);
    free(w);
}

/* Why symlinks cannot redirect the write: the path is resolved once
 * (realpath), its directory opened once, and from then on every step - the
 * check that the file there is still the one resolved, the temporary file
 * (O_EXCL | O_NOFOLLOW), the rename - is relative to that directory handle.
 * Swapping a directory on the path for a symlink afterwards changes nothing,
 * and a symlink put in place of the file itself is replaced, not followed. So
 * nothing is written outside the directory that held the target when the
 * write began, and nothing there but the target and its temporary. */
static mp_status write_begin(const char *path, mode_t new_mode, mp_write **out, mp_error *err)
{
    *out = NULL;
    mp_write *w = calloc(1, sizeof *w);
    if (!w)
        return mp_fail(err, MP_ERR_NOMEM, "%s: out of memory", path);
    w->fd = w->hold = -1;
    w->new_mode = new_mode;
    snprintf(w->path, sizeof w->path, "%s", path);
    /* Resolve symlinks so the link stays a link and the target is replaced. */
    char target[PATH_MAX];
    w->exists = realpath(path, target) != NULL;
    mp_status st = MP_OK;
    if (!w->exists) {
        if (errno != ENOENT)
            st = mp_fail(err, MP_ERR_IO, "%s: cannot resolve path: %s", path, strerror(errno));
        else if (strlen(path) >= sizeof target)
            st = mp_fail(err, MP_ERR_IO, "%s: path too long", path);
        else
            snprintf(target, sizeof target, "%s", path);
    } else {
        if (stat(target, &w->st) != 0)
            st = mp_fail(err, MP_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
        else if (!S_ISREG(w->st.st_mode))
            st = mp_fail(err, MP_ERR_IO, "%s: not a regular file", path);
        else if (access(target, W_OK) != 0)
            st = mp_fail(err, MP_ERR_IO, "%s: not writable: %s", path, strerror(errno));
    }
    if (st != MP_OK) {
        free(w);
        return st;
    }
    char dir_buf[PATH_MAX];
    snprintf(dir_buf, sizeof dir_buf, "%s", target);
    snprintf(w->tmp, sizeof w->tmp, "%s", target); /* basename may modify its argument */
    snprintf(w->base, sizeof w->base, "%s", basename(w->tmp));
    const char *dir = dirname(dir_buf);
    if (strlen(w->base) + sizeof TMP_TAG + TMP_RANDOM + 2 > sizeof w->tmp) {
        free(w);
        return mp_fail(err, MP_ERR_IO, "%s: path too long", path);
    }
    w->dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (w->dfd < 0) {
        st = mp_fail(err, MP_ERR_IO, "%s: cannot open directory %s: %s", path, dir, strerror(errno));
        free(w);
        return st;
    }
    struct stat now;
    if (w->exists && (fstatat(w->dfd, w->base, &now, AT_SYMLINK_NOFOLLOW) != 0 || now.st_dev != w->st.st_dev ||
                      now.st_ino != w->st.st_ino)) {
        write_free(w, false);
        return mp_fail(err, MP_ERR_IO, "%s: replaced by another file while being written; nothing written", path);
    }
    remove_stale_temps(w->dfd, w->base);
    w->fd = make_temp(w->dfd, w->tmp, sizeof w->tmp, dir, w->base, path, err);
    if (w->fd < 0) {
        write_free(w, false);
        return err ? err->status : MP_ERR_IO;
    }
    /* The flock lives while any descriptor of the open file does: this one
     * keeps the temporary locked from the close in commit until the rename. */
    w->hold = dup(w->fd);
    *out = w;
    return MP_OK;
}

static mp_status write_commit(mp_write *w, const mp_buf *data, mp_error *err)
{
    const char *path = w->path;
    mp_status status = MP_OK;
    int e = w->prepared_id == data->id ? atomic_load(&w->sink.error) : 0;
    if (e)
        status = mp_fail(err, MP_ERR_IO, "%s: write failed: %s", path, strerror(e));
    else
        status = write_buf(w->fd, data, w, path, err);
    const struct stat *st = &w->st;
    if (status == MP_OK) {
        mode_t mode = w->exists ? (st->st_mode & 07777) : w->new_mode;
        if (fchmod(w->fd, mode) != 0)
            status = mp_fail(err, MP_ERR_IO, "%s: cannot set mode %o: %s", path, (unsigned)mode, strerror(errno));
        else if (w->exists && (st->st_uid != geteuid() || st->st_gid != getegid()) &&
                 fchown(w->fd, st->st_uid, st->st_gid) != 0)
            status = mp_fail(err, MP_ERR_IO, "%s: cannot keep owner %u:%u: %s", path, (unsigned)st->st_uid,
                             (unsigned)st->st_gid, strerror(errno));
        /* fchown may clear set-id bits; put the mode back. */
        else if (w->exists && fchmod(w->fd, mode) != 0)
            status = mp_fail(err, MP_ERR_IO, "%s: cannot set mode %o: %s", path, (unsigned)mode, strerror(errno));
    }
    if (status == MP_OK && fsync(w->fd) != 0)
        status = mp_fail(err, MP_ERR_IO, "%s: fsync failed: %s", path, strerror(errno));
    int fd = w->fd;
    w->fd = -1;
    if (close(fd) != 0 && status == MP_OK)
        status = mp_fail(err, MP_ERR_IO, "%s: close failed: %s", path, strerror(errno));
    /* The write may have taken a while: the target must still be the file
     * that was checked when it began. */
    struct stat now;
    if (status == MP_OK && w->exists &&
        (fstatat(w->dfd, w->base, &now, AT_SYMLINK_NOFOLLOW) != 0 || now.st_dev != st->st_dev ||
         now.st_ino != st->st_ino))
        status = mp_fail(err, MP_ERR_IO, "%s: replaced by another file while being written; nothing written", path);
    if (status == MP_OK && renameat(w->dfd, w->tmp, w->dfd, w->base) != 0)
        status = mp_fail(err, MP_ERR_IO, "%s: cannot replace the file: %s", path, strerror(errno));
    if (status == MP_OK)
        fsync(w->dfd); /* best effort: some filesystems refuse fsync on directories */
    write_free(w, status != MP_OK);
    return status;
}

mp_status mp_write_atomic(const char *path, const mp_buf *data, mode_t new_mode, mp_error *err)
{
    mp_write *w;
    mp_status st = write_begin(path, new_mode, &w, err);
    return st == MP_OK ? write_commit(w, data, err) : st;
}

/* Clones the whole source file into fd where the filesystem shares extents
 * (btrfs, XFS); false elsewhere (ext4, tmpfs, another filesystem). */
static bool clone_source(int fd, const mp_buf *data)
{
#if defined(__linux__) && defined(FICLONE)
    return data->fd >= 0 && ioctl(fd, FICLONE, data->fd) == 0;
#else
    (void)fd, (void)data;
    return false;
#endif
}

mp_page_sink *mp_write_prepare(mp_write *w, const mp_buf *data)
{
    if (!w || !data)
        return NULL;
    w->prepared_id = data->id;
    w->ncovered = 0;
    w->covered_lost = false;
    atomic_store(&w->sink.error, 0);
    w->sink.fd = w->fd;
    w->cloned = clone_source(w->fd, data);
    if (w->cloned) {
        w->clone_dev = data->fd_dev;
        w->clone_ino = data->fd_ino;
        return NULL;
    }
#ifdef __linux__
    /* Blocks reserved in one go cost less than one at a time as pages are
     * written (measured on ext4: half the time). Best effort. */
    if (data->size > 0)
        (void)fallocate(w->fd, 0, 0, (off_t)data->size);
#endif
    return &w->sink;
}

void mp_write_covered(mp_write *w, uint64_t off, uint64_t len)
{
    if (!w || len == 0)
        return;
    if (w->ncovered == w->covered_cap) {
        size_t cap = w->covered_cap ? w->covered_cap * 2 : 4;
        uint64_t(*grown)[2] = realloc(w->covered, cap * sizeof *grown);
        if (!grown) {
            w->covered_lost = true; /* commit writes everything again */
            return;
        }
        w->covered = grown;
        w->covered_cap = cap;
    }
    w->covered[w->ncovered][0] = off;
    w->covered[w->ncovered][1] = len;
    w->ncovered++;
}

mp_status mp_write_begin(const char *path, mp_write **out, mp_error *err)
{
    if (out)
        *out = NULL;
    if (!path || !out)
        return mp_fail(err, MP_ERR_USAGE, "mp_write_begin: NULL argument");
    return write_begin(path, 0755, out, err);
}

mp_status mp_write_commit(mp_write *w, const mp_image *img, mp_error *err)
{
    if (!w)
        return mp_fail(err, MP_ERR_USAGE, "mp_write_commit: NULL write");
    if (!img) {
        mp_write_abort(w);
        return mp_fail(err, MP_ERR_USAGE, "mp_write_commit: NULL image");
    }
    return write_commit(w, img->buf, err);
}

const char *mp_write_temp_name(const mp_write *w, int *dir_fd)
{
    if (!w || !dir_fd)
        return NULL;
    *dir_fd = w->dfd;
    return w->tmp;
}

void mp_write_abort(mp_write *w)
{
    if (w)
        write_free(w, true);
}

mp_status mp_image_write(const mp_image *img, const char *path, mp_error *err)
{
    if (!img || !path)
        return mp_fail(err, MP_ERR_USAGE, "mp_image_write: NULL argument");
    return mp_write_atomic(path, img->buf, 0755, err);
}

struct mp_lock {
    int fd;
};

mp_status mp_lock_path(const char *path, mp_lock **out, mp_error *err)
{
    if (out)
        *out = NULL;
    if (!path || !out)
        return mp_fail(err, MP_ERR_USAGE, "mp_lock_path: NULL argument");
    mp_lock *lock = malloc(sizeof *lock);
    if (!lock)
        return mp_fail(err, MP_ERR_NOMEM, "%s: out of memory", path);
    for (;;) {
        /* O_NONBLOCK: a FIFO must not hang the open; regular files ignore it. */
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0) {
            int e = errno;
            free(lock);
            return mp_fail(err, MP_ERR_IO, "%s: cannot open: %s", path, strerror(e));
        }
        struct stat held, now;
        if (fstat(fd, &held) != 0 || !S_ISREG(held.st_mode)) {
            close(fd);
            free(lock);
            return mp_fail(err, MP_ERR_IO, "%s: not a regular file", path);
        }
        if (flock_retry(fd, LOCK_EX) != 0) {
            int e = errno;
            close(fd);
            free(lock);
            return mp_fail(err, MP_ERR_IO, "%s: cannot lock: %s", path, strerror(e));
        }
        /* The holder we waited for may have replaced the file (rename): then
         * the lock is on the old inode and protects nothing; take it again. */
        if (stat(path, &now) == 0 && now.st_dev == held.st_dev && now.st_ino == held.st_ino) {
            lock->fd = fd;
            *out = lock;
            return MP_OK;
        }
        close(fd);
    }
}

void mp_lock_release(mp_lock *lock)
{
    if (!lock)
        return;
    close(lock->fd); /* drops the flock */
    free(lock);
}
