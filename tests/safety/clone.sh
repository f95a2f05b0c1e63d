#!/usr/bin/env bash
# Where the filesystem clones (XFS, btrfs), inject clones the source into its
# temporary file (FICLONE) and writes only what changed: the output shares
# the unchanged extents with the source. On a loop-mounted XFS: the output of
# `inject -o` is byte-identical to the same command's output on the test
# directory's filesystem, verifies, and at least 90% of its blocks are shared
# with the source. Skips, saying why, without root, mkfs.xfs, a loop device
# or the mount.
. "$MP_SRC/tests/lib.sh"
. "$MP_SRC/tests/safety/common.sh"
need_fixtures
mp_workdir
command -v filefrag >/dev/null || mp_skip "filefrag not found (Debian package e2fsprogs)"
# A fixture with 40 MiB of unchanged pages (make-large-fixture.py: signed by the linker).
src="$MP_WORK/big"
mnt="$MP_WORK/mnt"
loop_mount "$MP_WORK/xfs.img" 300M "mkfs.xfs -q -f" "$mnt" # mkfs.xfs: Debian package xfsprogs
large_fixture "$src" 40

# Reference: the same command where nothing clones (the test directory).
assert_exit 0 "inject -o on the test directory" -- "$MP_CLI" inject -q -o "$MP_WORK/ref" "$src"
cp "$src" "$mnt/big"
assert_exit 0 "inject -o on XFS" -- "$MP_CLI" inject -q -o "$mnt/out" "$mnt/big"
assert_eq "$(sha256sum < "$MP_WORK/ref")" "$(sha256sum < "$mnt/out")" "XFS output == output elsewhere"
assert_exit 0 "verify the XFS output" -- "$MP_CLI" verify "$mnt/out"
# filefrag -v: one row per extent, ':'-separated; the length in blocks is
# field 4, the flags ("shared" among them) the last field.
shared=$(filefrag -v "$mnt/out" | awk -F: '/^ *[0-9]+:/ && $NF ~ /shared/ { n += $4 + 0 } END { print n + 0 }')
blocks=$(( ($(stat -c %s "$mnt/out") + 4095) / 4096 ))
echo "shared blocks: $shared of $blocks"
[ $(( shared * 10 )) -ge $(( blocks * 9 )) ] && mp_ok ||
  mp_fail "only $shared of $blocks blocks of the output are shared with the source (not cloned?)"
# In place: the result equals the -o result, and the directory holds nothing else.
assert_exit 0 "inject in place on XFS" -- "$MP_CLI" inject -q "$mnt/big"
assert_eq "$(sha256sum < "$mnt/out")" "$(sha256sum < "$mnt/big")" "in-place result == -o result"
assert_eq "big out " "$( (cd "$mnt" && ls -A | sort | tr '\n' ' ') )" "no temporary left"
rm -f "$src" "$MP_WORK/ref"
mp_done
