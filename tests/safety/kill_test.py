#!/usr/bin/env python3
"""(b) SIGKILL at random points of an inject that writes a large file.

The file is a fixture padded with zeros to MP_SAFETY_BIG_MB MiB (default
200), so the write takes long enough to be hit. After every kill:
  - the file's bytes are exactly the old ones or exactly the new ones
    (sha256), and its mode is unchanged;
  - at most one temporary .NAME.machoplist-XXXXXX is left (a killed process
    cannot clean up; the next write removes it), and if the killed run's own
    temporary is still there, the file holds the old bytes;
  - nothing else appears in the directory.
Kills land at uniformly random delays over the length of a clean run, and at
targeted moments: as soon as the temporary exists, and when it is half
written. Finally a clean run removes the leftover temporary and writes the new
bytes. Exit 77 (skip) without fixtures or disk space."""
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from checks import check, sha, summary  # noqa: E402  (tests/tools/checks.py)

fixtures = os.environ["MP_FIXTURES"]
tool = os.environ["MP_SAFETY_INJECT"]
plist = os.path.join(os.environ["MP_SRC"], "fixtures", "Info.plist")
size_mb = int(os.environ.get("MP_SAFETY_BIG_MB", "200"))
random_kills = int(os.environ.get("MP_SAFETY_KILLS", "16"))
seed = int(os.environ.get("MP_SAFETY_SEED", str(int(time.time()))))

if not os.path.exists(os.path.join(fixtures, "MANIFEST")):
    print("SKIP: fixtures not built")
    sys.exit(77)
tmp_root = os.environ["MP_TMP"]
os.makedirs(tmp_root, exist_ok=True)
if shutil.disk_usage(tmp_root).free < 4 * size_mb << 20:
    print(f"SKIP: less than {4 * size_mb} MiB free in {tmp_root}")
    sys.exit(77)


work = tempfile.mkdtemp(prefix="kill_test.", dir=tmp_root)
try:
    ref_dir = os.path.join(work, "ref")
    d = os.path.join(work, "dir")
    os.mkdir(ref_dir)
    os.mkdir(d)
    old_copy = os.path.join(ref_dir, "big.old")
    shutil.copyfile(os.path.join(fixtures, "hello-arm64-headerpad"), old_copy)
    with open(old_copy, "r+b") as f:
        f.truncate(size_mb << 20)
    target = os.path.join(d, "big")
    prefix = ".big.machoplist-"
    old = sha(old_copy)

    def reset():
        shutil.copyfile(old_copy, target)
        os.chmod(target, 0o755)

    def temps():
        return sorted(n for n in os.listdir(d) if n.startswith(prefix))

    def start():
        return subprocess.Popen([tool, plist, target], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    # A clean run: the new bytes and how long a run takes.
    reset()
    t0 = time.monotonic()
    p = start()
    _, err = p.communicate()
    duration = time.monotonic() - t0
    check(p.returncode == 0, f"clean run exited {p.returncode}: {err.decode(errors='replace')}")
    new = sha(target)
    check(new != old, "clean run did not change the file")
    check(temps() == [], f"clean run left {temps()}")
    print(f"{size_mb} MiB file, clean run {duration:.3f} s, seed {seed}")
    reset()  # every killed run starts from the old bytes

    rng = random.Random(seed)
    outcomes = {"old": 0, "new": 0, "completed": 0, "temp-left": 0}

    def after_kill(p, before, what):
        p.wait()
        h = sha(target)
        state = "old" if h == old else "new" if h == new else "other"
        check(state != "other", f"{what}: file is neither the old nor the new bytes (sha256 {h})")
        check(os.stat(target).st_mode & 0o7777 == 0o755, f"{what}: mode changed")
        left = temps()
        check(len(left) <= 1, f"{what}: {len(left)} temporaries left: {left}")
        mine = [n for n in left if n not in before]
        if mine:
            outcomes["temp-left"] += 1
            check(state == "old", f"{what}: own temporary {mine} left but the file was replaced")
        others = sorted(set(os.listdir(d)) - set(left) - {"big"})
        check(others == [], f"{what}: unexpected files {others}")
        if p.returncode == 0:
            outcomes["completed"] += 1
        elif state in outcomes:
            outcomes[state] += 1
        if state != "old":
            reset()
        return left

    for i in range(random_kills):
        before = temps()
        delay = rng.uniform(0, duration * 1.1)
        p = start()
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        after_kill(p, before, f"kill {i} after {delay * 1e6:.0f} us")

    def targeted(condition, what):
        before = temps()
        p = start()
        deadline = time.monotonic() + 30
        while p.poll() is None and time.monotonic() < deadline:
            new_temps = [n for n in temps() if n not in before]
            if new_temps and condition(new_temps[0]):
                break
            time.sleep(0.0005)
        p.send_signal(signal.SIGKILL)
        return after_kill(p, before, what)

    def size_at_least(n):
        def cond(name):
            try:
                return os.stat(os.path.join(d, name)).st_size >= n
            except FileNotFoundError:
                return False
        return cond

    targeted(lambda name: True, "kill when the temporary appears")
    left = []
    for attempt in range(5):  # until a half-written temporary is left behind
        left = targeted(size_at_least((size_mb << 20) // 2), f"kill at half written ({attempt})")
        if left:
            break
    check(len(left) == 1, "no kill left a temporary behind (the write was never interrupted)")

    # The next write removes the dead writer's temporary and completes.
    p = start()
    _, err = p.communicate()
    check(p.returncode == 0, f"final run exited {p.returncode}: {err.decode(errors='replace')}")
    check(sha(target) == new, "final run did not write the new bytes")
    check(temps() == [], f"final run left temporaries: {temps()}")
    print("outcomes of killed runs:", outcomes)
finally:
    shutil.rmtree(work, ignore_errors=True)

sys.exit(summary(f" (seed {seed})"))
