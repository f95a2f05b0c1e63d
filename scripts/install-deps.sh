#!/usr/bin/env bash
# Installs what building and testing machoplist needs, only when missing.
#   scripts/install-deps.sh          build + test dependencies
#   scripts/install-deps.sh --build  only what building the tool needs
# Debian/Ubuntu: apt-get (as root, or through sudo). macOS: Homebrew.
set -euo pipefail
mode="${1:-all}"

if [ "$(uname -s)" = Darwin ]; then
  command -v brew >/dev/null || { echo "install-deps: Homebrew is needed (https://brew.sh)" >&2; exit 1; }
  want=(meson ninja pkg-config libplist)
  [ "$mode" = --build ] || want+=(llvm lld go node)
  missing=()
  for f in "${want[@]}"; do brew list --versions "$f" >/dev/null 2>&1 || missing+=("$f"); done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps: brew install ${missing[*]}"
    brew install "${missing[@]}"
  fi
  exit 0
fi

if ! command -v dpkg >/dev/null; then
  echo "install-deps: not a Debian-like system; install meson, ninja, pkg-config, libplist (2.2+), OpenSSL libcrypto, clang, lld, llvm by hand" >&2
  exit 0
fi

want=(meson ninja-build pkg-config gcc libc6-dev libplist-dev libssl-dev python3)
if [ "$mode" != --build ]; then
  # Fixtures (clang + ld64.lld + llvm tools), the LIEF cross-check, Go-linked
  # fixtures, npm for the real Apple-signed binaries, and xfsprogs for the
  # clone test on a loop-mounted XFS.
  want+=(clang lld llvm liblief-dev g++ golang-go libclang-rt-14-dev ruby xfsprogs)
  command -v npm >/dev/null || want+=(npm)
else
  want+=(clang lld llvm)
fi
missing=()
for p in "${want[@]}"; do
  dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
echo "install-deps: apt-get install ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
