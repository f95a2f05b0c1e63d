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
[ "$(id -u)" = 0 ] || mp_skip "not root: cannot mount a loop filesystem"
command -v mkfs.ext4 >/dev/null || mp_skip "mkfs.ext4 not found (Debian package e2fsprogs)"
src="$MP_WORK/big"
python3 "$MP_SRC/tests/bench/make-large-fixture.py" "$src" 40 >"$MP_WORK/fixture.log" 2>&1 ||
  { grep -q "not found" "$MP_WORK/fixture.log" && mp_skip "$(tail -1 "$MP_WORK/fixture.log")"; cat "$MP_WORK/fixture.log"; mp_fail "make-large-fixture.py failed"; mp_done; }
img="$MP_WORK/ext4.img"
mnt="$MP_WORK/mnt"
mkdir -p "$mnt"
truncate -s 64M "$img"
mkfs.ext4 -q -F -m 0 "$img" >/dev/null 2>&1 || mp_skip "mkfs.ext4 failed"
mount -o loop "$img" "$mnt" 2>"$MP_WORK/mount.err" || mp_skip "cannot mount a loop device: $(head -1 "$MP_WORK/mount.err")"
trap 'umount "$mnt" 2>/dev/null; rm -f "$img" "$src"' EXIT

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
mp_done
