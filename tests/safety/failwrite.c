/* LD_PRELOAD shim for the crash-safety tests: makes the library's temporary
 * file (.NAME.machoplist-XXXXXX) fail to be written, synced or renamed.
 * Other files and the standard streams are left alone, so the program can
 * still report the failure.
 *
 *   MP_FAILWRITE=write        write(), pwrite() and copy_file_range() to the
 *                             temporary fail with ENOSPC
 *   MP_FAILWRITE=write-late   the first write() or pwrite() stores at most
 *                             4096 bytes,
 *                             the next fails with ENOSPC (a partial file)
 *   MP_FAILWRITE=copy         copy_file_range() to the temporary fails with
 *                             ENOSPC (a full disk met by the kernel copy)
 *   MP_FAILWRITE=copy-unsupported  copy_file_range() fails with EXDEV, as
 *                             between filesystems on older kernels: the
 *                             library must fall back to write()
 *   MP_FAILWRITE=fsync        fsync() of the temporary fails with EIO
 *   MP_FAILWRITE=rename       rename() of the temporary fails with EACCES
 *   MP_DELAY_RENAME_MS=N      sleep N ms before renaming the temporary
 *                             (widens the read-modify-write window) */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int is_temp_name(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    return base[0] == '.' && strstr(base, ".machoplist-") != NULL;
}

static int is_temp_fd(int fd)
{
    if (fd <= 2)
        return 0;
    char link[64], target[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n <= 0)
        return 0;
    target[n] = '\0';
    return is_temp_name(target);
}

static int mode_is(const char *mode)
{
    const char *m = getenv("MP_FAILWRITE");
    return m && strcmp(m, mode) == 0;
}

/* The write and write-late faults, shared by write() and pwrite(): -1 to
 * fail, else the count to pass on. */
static ssize_t write_fault(int fd, size_t count)
{
    static int late_writes;
    if (!is_temp_fd(fd))
        return (ssize_t)count;
    if (mode_is("write")) {
        errno = ENOSPC;
        return -1;
    }
    if (mode_is("write-late")) {
        if (late_writes++ > 0) {
            errno = ENOSPC;
            return -1;
        }
        if (count > 4096)
            count = 4096;
    }
    return (ssize_t)count;
}

ssize_t write(int fd, const void *buf, size_t count)
{
    static ssize_t (*real)(int, const void *, size_t);
    if (!real)
        real = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    ssize_t n = write_fault(fd, count);
    return n < 0 ? -1 : real(fd, buf, (size_t)n);
}

/* The library writes at offsets: the hashing threads write what they hash.
 * With _FILE_OFFSET_BITS=64 (as the library is built) glibc's headers name
 * this function pwrite64, and the library calls that symbol. */
ssize_t pwrite(int fd, const void *buf, size_t count, off_t at)
{
    static ssize_t (*real)(int, const void *, size_t, off_t);
#if defined(_FILE_OFFSET_BITS) && _FILE_OFFSET_BITS == 64
    static const char name[] = "pwrite64";
#else
    static const char name[] = "pwrite";
#endif
    if (!real)
        real = (ssize_t (*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, name);
    ssize_t n = write_fault(fd, count);
    return n < 0 ? -1 : real(fd, buf, (size_t)n, at);
}

ssize_t copy_file_range(int in, loff_t *in_off, int out, loff_t *out_off, size_t len, unsigned flags)
{
    static ssize_t (*real)(int, loff_t *, int, loff_t *, size_t, unsigned);
    if (!real)
        real = (ssize_t (*)(int, loff_t *, int, loff_t *, size_t, unsigned))dlsym(RTLD_NEXT, "copy_file_range");
    if (is_temp_fd(out)) {
        if (mode_is("write") || mode_is("copy")) {
            errno = ENOSPC;
            return -1;
        }
        if (mode_is("copy-unsupported")) {
            errno = EXDEV;
            return -1;
        }
    }
    return real(in, in_off, out, out_off, len, flags);
}

int fsync(int fd)
{
    static int (*real)(int);
    if (!real)
        real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    if (mode_is("fsync") && is_temp_fd(fd)) {
        errno = EIO;
        return -1;
    }
    return real(fd);
}

/* Delay and failure of the temporary's rename; 0 to go ahead. */
static int rename_fault(const char *from)
{
    if (!is_temp_name(from))
        return 0;
    const char *delay = getenv("MP_DELAY_RENAME_MS");
    if (delay) {
        long ms = atol(delay);
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }
    if (mode_is("rename")) {
        errno = EACCES;
        return -1;
    }
    return 0;
}

int rename(const char *from, const char *to)
{
    static int (*real)(const char *, const char *);
    if (!real)
        real = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
    return rename_fault(from) ? -1 : real(from, to);
}

/* The library renames relative to the target's directory. */
int renameat(int from_dir, const char *from, int to_dir, const char *to)
{
    static int (*real)(int, const char *, int, const char *);
    if (!real)
        real = (int (*)(int, const char *, int, const char *))dlsym(RTLD_NEXT, "renameat");
    return rename_fault(from) ? -1 : real(from_dir, from, to_dir, to);
}
