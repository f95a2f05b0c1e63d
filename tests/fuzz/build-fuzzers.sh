#!/usr/bin/env bash
# Build the libFuzzer harnesses into BUILD_OUT, compiling lib/*.c directly with
# clang -fsanitize=fuzzer,address,undefined (the meson build's sanitizer flags
# are gcc's and cannot link libFuzzer).
#
# usage: tests/fuzz/build-fuzzers.sh BUILD_OUT
#
# Builds fuzz_read and fuzz_inject always; fuzz_inject signs when the library
# defines mp_image_sign; fuzz_verify is built only when the library defines
# mp_image_verify. Writes BUILD_OUT/HARNESSES (one name per line).
# Exit status: 0 built, 77 clang or the fuzzer runtime is missing (reason on
# stdout), anything else a build failure.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 BUILD_OUT" >&2; exit 2; }
src=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)

CC=${MP_FUZZ_CC:-}
if [ -z "$CC" ]; then
  for c in clang clang-14 clang-15 clang-16 clang-17 clang-18 /usr/lib/llvm-14/bin/clang; do
    if command -v "$c" >/dev/null 2>&1; then CC=$(command -v "$c"); break; fi
  done
fi
[ -n "$CC" ] || { echo "SKIP: clang not found (install clang-14 and libclang-rt-14-dev)"; exit 77; }
for pc in libplist-2.0 libcrypto; do
  pkg-config --exists "$pc" || { echo "SKIP: pkg-config cannot find $pc"; exit 77; }
done

# The fuzzer runtime ships separately on Debian (libclang-rt-N-dev).
probe="$out/probe"
printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' > "$probe.c"
if ! "$CC" -fsanitize=fuzzer,address,undefined "$probe.c" -o "$probe" > "$probe.log" 2>&1; then
  echo "SKIP: $CC cannot link -fsanitize=fuzzer,address,undefined (libclang-rt-dev missing?): $(head -n 1 "$probe.log")"
  exit 77
fi
rm -f "$probe" "$probe.c" "$probe.log"

version=$(sed -n "s/^ *version: *'\([^']*\)'.*/\1/p" "$src/meson.build" | head -n 1)
cflags=(-std=c11 -g -O1 -fno-omit-frame-pointer -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
        "-DMP_VERSION_STRING=\"$version\"" -I"$src/include" -I"$src/lib"
        -fno-sanitize-recover=all)
read -r -a pcflags <<< "$(pkg-config --cflags libplist-2.0 libcrypto)"
read -r -a pclibs <<< "$(pkg-config --libs libplist-2.0 libcrypto)"
cflags+=("${pcflags[@]}")
# libplist >= 2.3 reads JSON plists (same test as lib/meson.build).
printf '#include <plist/plist.h>\nint main(void) { plist_t p; return plist_from_json("{}", 2, &p); }\n' > "$out/json.c"
if "$CC" "${cflags[@]}" "$out/json.c" -o "$out/json" "${pclibs[@]}" > /dev/null 2>&1; then
  cflags+=(-DMP_HAVE_PLIST_JSON)
fi
rm -f "$out/json" "$out/json.c"

# Library objects, instrumented for coverage and sanitizers.
mkdir -p "$out/obj"
rm -f "$out"/obj/*.o
export CC out
printf '%s\n' "$src"/lib/*.c | xargs -P "$(nproc 2>/dev/null || echo 2)" -I{} sh -c \
  'f="{}"; exec "$CC" "$@" -fsanitize=fuzzer-no-link,address,undefined -c "$f" -o "$out/obj/$(basename "$f" .c).o"' \
  sh "${cflags[@]}"
objs=("$out"/obj/*.o)

defines() { nm --defined-only "${objs[@]}" 2>/dev/null | grep -q " T $1\$"; }
harnesses=(fuzz_read fuzz_inject)
extra=()
if defines mp_image_sign; then extra+=(-DMP_FUZZ_HAVE_SIGN); echo "fuzz_inject: signs with mp_image_sign"; 
else echo "fuzz_inject: mp_image_sign not in the library; harness does not sign"; fi
if defines mp_image_verify; then harnesses+=(fuzz_verify);
else echo "fuzz_verify: mp_image_verify not in the library; harness not built"; fi

: > "$out/HARNESSES"
for h in "${harnesses[@]}"; do
  "$CC" "${cflags[@]}" "${extra[@]}" -Wall -Wextra -Werror -fsanitize=fuzzer,address,undefined "$src/tests/fuzz/$h.c" "${objs[@]}" \
    "${pclibs[@]}" -lpthread -o "$out/$h"
  echo "$h" >> "$out/HARNESSES"
  echo "built $out/$h"
done
