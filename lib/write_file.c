/* Atomic replacement of a file: temporary file in the same directory, fsync,
 * rename over the target, fsync the directory. A symlink at the path is
 * followed so the link itself stays; the target's mode and owner are kept. */
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static mp_status write_all(int fd, const uint8_t *data, size_t size, const char *path, mp_error *err)
{
    while (size > 0) {
        ssize_t n = write(fd, data, size > (1u << 30) ? (1u << 30) : size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return mp_fail(err, MP_ERR_IO, "%s: write failed: %s", path, strerror(errno));
        data += n;
        size -= (size_t)n;
    }
    return MP_OK;
}

static void fsync_directory(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_CLOEXEC | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd); /* best effort: some filesystems refuse fsync on directories */
        close(fd);
    }
}

mp_status mp_write_atomic(const char *path, const uint8_t *data, size_t size, mode_t new_mode, mp_error *err)
{
    /* Resolve symlinks so the link stays a link and the target is replaced. */
    char target[PATH_MAX];
    struct stat st;
    bool exists = realpath(path, target) != NULL;
    if (!exists) {
        if (errno != ENOENT)
            return mp_fail(err, MP_ERR_IO, "%s: cannot resolve path: %s", path, strerror(errno));
        if (strlen(path) >= sizeof target)
            return mp_fail(err, MP_ERR_IO, "%s: path too long", path);
        snprintf(target, sizeof target, "%s", path);
    } else {
        if (stat(target, &st) != 0)
            return mp_fail(err, MP_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
        if (!S_ISREG(st.st_mode))
            return mp_fail(err, MP_ERR_IO, "%s: not a regular file", path);
        if (access(target, W_OK) != 0)
            return mp_fail(err, MP_ERR_IO, "%s: not writable: %s", path, strerror(errno));
    }
    char dir_buf[PATH_MAX], base_buf[PATH_MAX];
    snprintf(dir_buf, sizeof dir_buf, "%s", target);
    snprintf(base_buf, sizeof base_buf, "%s", target);
    const char *dir = dirname(dir_buf);
    const char *base = basename(base_buf);
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s/.%s.machoplist-XXXXXX", dir, base) >= (int)sizeof tmp)
        return mp_fail(err, MP_ERR_IO, "%s: path too long", path);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return mp_fail(err, MP_ERR_IO, "%s: cannot create a temporary file in %s: %s", path, dir, strerror(errno));
    mp_status status = write_all(fd, data, size, path, err);
    if (status == MP_OK) {
        mode_t mode = exists ? (st.st_mode & 07777) : new_mode;
        if (fchmod(fd, mode) != 0)
            status = mp_fail(err, MP_ERR_IO, "%s: cannot set mode %o: %s", path, (unsigned)mode, strerror(errno));
        else if (exists && (st.st_uid != geteuid() || st.st_gid != getegid()) && fchown(fd, st.st_uid, st.st_gid) != 0)
            status = mp_fail(err, MP_ERR_IO, "%s: cannot keep owner %u:%u: %s", path, (unsigned)st.st_uid,
                             (unsigned)st.st_gid, strerror(errno));
        /* fchown may clear set-id bits; put the mode back. */
        else if (exists && fchmod(fd, mode) != 0)
            status = mp_fail(err, MP_ERR_IO, "%s: cannot set mode %o: %s", path, (unsigned)mode, strerror(errno));
    }
    if (status == MP_OK && fsync(fd) != 0)
        status = mp_fail(err, MP_ERR_IO, "%s: fsync failed: %s", path, strerror(errno));
    if (close(fd) != 0 && status == MP_OK)
        status = mp_fail(err, MP_ERR_IO, "%s: close failed: %s", path, strerror(errno));
    if (status == MP_OK && rename(tmp, target) != 0)
        status = mp_fail(err, MP_ERR_IO, "%s: cannot replace the file: %s", path, strerror(errno));
    if (status != MP_OK) {
        unlink(tmp);
        return status;
    }
    fsync_directory(dir);
    return MP_OK;
}

mp_status mp_image_write(const mp_image *img, const char *path, mp_error *err)
{
    if (!img || !path)
        return mp_fail(err, MP_ERR_USAGE, "mp_image_write: NULL argument");
    return mp_write_atomic(path, img->data, img->size, 0755, err);
}
