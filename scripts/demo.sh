#!/usr/bin/env bash
# Builds machoplist and shows the one-command fix on a bundled example: a
# small program (fixtures/src/hello.c) linked for macOS arm64 from source,
# laid out like a Homebrew keg (bin/hello -> Cellar/hello/1.0/bin/hello).
# Installs what it needs first. Runs on Linux or macOS; no Mac needed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${MP_DEMO_BUILD:-$root/build}"

"$root/scripts/install-deps.sh" --build
[ -f "$build/build.ninja" ] || meson setup "$build" "$root" --buildtype=release >/dev/null
ninja -C "$build" >/dev/null
ninja -C "$build" fixtures/fixtures.stamp >/dev/null
fixture="$build/fixtures/out/hello-arm64-headerpad"
[ -f "$fixture" ] || { echo "demo: could not build the example (clang and ld64.lld are needed)" >&2; exit 1; }

mp="$build/cli/machoplist"
demo="$(mktemp -d "${TMPDIR:-/tmp}/machoplist-demo.XXXXXX")"
mkdir -p "$demo/Cellar/hello/1.0/bin" "$demo/bin"
cp "$fixture" "$demo/Cellar/hello/1.0/bin/hello"
ln -s ../Cellar/hello/1.0/bin/hello "$demo/bin/hello"

run() { printf '\n$ %s\n' "$*"; "$@"; }
cd "$demo"
run "$mp" verify bin/hello || true
run "$mp" inject bin/hello
run "$mp" verify bin/hello
run "$mp" show --plist bin/hello
run "$mp" inject bin/hello
printf '\nThe example is in %s\n' "$demo"
