#!/usr/bin/env bash
# A real full disk, not a shim: inject of a 40 MiB executable on a 64 MiB
# loop-mounted ext4 that cannot hold a second copy. Exit 3 with one line
# naming the file and ENOSPC, the file byte-identical, no temporary left, and
# the space given back; the same inject into a place with room succeeds.
# Skips, saying why, without root, mkfs.ext4 or the mount.
. "$MP_SRC/tests/lib.sh"
. "$MP_SRC/tests/safety/common.sh"
need_fixtures
mp_workdir
src="$MP_WORK/big"
mnt="$MP_WORK/mnt"
loop_mount "$MP_WORK/ext4.img" 64M "mkfs.ext4 -q -F -m 0" "$mnt"
large_fixture "$src" 40

f="$mnt/big"
cp "$src" "$f"
chmod 0755 "$f"
old="$(sha "$f")"
free_before=$(df --output=avail -B1 "$mnt" | tail -1)
echo "file $(stat -c %s "$f") bytes, $free_before bytes free"
assert_exit 3 "inject on a full disk" -- "$MP_CLI" inject -q --plist "$MP_SRC/fixtures/Info.plist" "$f"
assert_eq "machoplist: $f: write failed: No space left on device" "$MP_ERR" "message on a full disk"
assert_eq "$old" "$(sha "$f")" "the file is byte-identical"
assert_eq "big lost+found " "$(dir_list "$mnt")" "no temporary left"
assert_eq "$free_before" "$(df --output=avail -B1 "$mnt" | tail -1)" "the space is given back"
# Where there is room (the test directory), the same inject succeeds.
assert_exit 0 "the same inject with room" -- "$MP_CLI" inject -q --plist "$MP_SRC/fixtures/Info.plist" -o "$MP_WORK/out" "$f"
assert_exit 0 "its result verifies" -- "$MP_CLI" verify "$MP_WORK/out"
rm -f "$src" "$MP_WORK/out"
mp_done
