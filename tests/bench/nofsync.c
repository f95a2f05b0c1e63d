/* Benchmark-only LD_PRELOAD shim: fsync() and fdatasync() return 0 at once.
 *
 * Issue 8's throughput targets are stated with fsync excluded, while
 * machoplist's atomic writes (lib/write_file.c) fsync the file and its
 * directory. bench.py runs the write commands once as shipped and once with
 * this shim preloaded, so both numbers are visible. Never use it outside the
 * benchmark: it throws away the durability the writes promise.
 *
 * Build: cc -shared -fPIC -O2 -o nofsync.so nofsync.c  (bench.sh does this)
 */
int fsync(int fd);
int fdatasync(int fd);

int fsync(int fd)
{
    (void)fd;
    return 0;
}

int fdatasync(int fd)
{
    (void)fd;
    return 0;
}
