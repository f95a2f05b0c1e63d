#!/usr/bin/env bash
# Benchmark of issue 8: machoplist on large files against openssl, cp and
# llvm-objcopy.  Not part of the test suite (meson test never runs it).
#
# usage: tests/bench/bench.sh [--sizes "100 300"] [--big] [--runs N]
#                             [--threads "1 2"] [--no-universal] [--no-npm]
#                             [--workdir DIR] [--npm-cache DIR]
#
#   --sizes      fixture sizes in MiB (default "100 300"); for each size an
#                arm64 file and a universal arm64+x86_64 file (twice the size)
#   --big        add a 1000 MiB size (several minutes more)
#   --runs       runs per command; the table shows medians (default 3)
#   --threads    hashing threads to try for inject/sign (default "1 2")
#   --no-universal / --no-npm   skip the universal fixtures / the npm binary
#   --workdir    fixtures and outputs (default build-bench/bench, reused)
#   --npm-cache  where tests/npm/fetch-npm-binaries.sh keeps the npm binaries
#                (default WORKDIR/npm-cache); the largest one is timed too
#   --machoplist BIN  time this binary instead of building build-bench/
#
# Builds machoplist in release mode in build-bench/ (meson setup
# build-bench --buildtype=release -Dtests=false) when needed, the fixtures
# with tests/bench/make-large-fixture.py (kept in WORKDIR for the next run)
# and the fsync shim tests/bench/nofsync.c; then tests/bench/bench.py
# measures and prints the table.  Needs clang, ld64.lld, llvm-lipo,
# llvm-objcopy (optional), openssl, python3, meson, ninja.
#
# Disk: about 5x the sum of the sizes in WORKDIR (per size S: the arm64
# fixture S, the universal 2S, and while measuring one output plus one
# verify input, up to 2 x 2S); sizes 100 300 1000 need about 7 GiB.
# Memory: machoplist maps the file and stays at a few tens of MiB; the page cache
# should hold the fixture (the measurements assume a warm cache).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
sizes="100 300"
runs=3
threads="1 2"
universal=1
npm=1
workdir=$root/build-bench/bench
npm_cache=
mp=

while [ $# -gt 0 ]; do
	case $1 in
	--sizes) sizes=$2; shift 2 ;;
	--big) sizes="$sizes 1000"; shift ;;
	--runs) runs=$2; shift 2 ;;
	--threads) threads=$2; shift 2 ;;
	--no-universal) universal=0; shift ;;
	--no-npm) npm=0; shift ;;
	--workdir) workdir=$2; shift 2 ;;
	--npm-cache) npm_cache=$2; shift 2 ;;
	--machoplist) mp=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift 2 ;;
	-h|--help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
done
mkdir -p "$workdir"
workdir=$(cd "$workdir" && pwd)
[ -n "$npm_cache" ] || npm_cache=$workdir/npm-cache

find_tool() { # find_tool NAME -> path or nothing
	local n=$1 v
	for v in "" -14 -15 -16 -17 -18 -19 -20 -13; do
		if command -v "$n$v" >/dev/null 2>&1; then
			command -v "$n$v"
			return 0
		fi
	done
	for v in /usr/lib/llvm-*/bin/"$n"; do
		[ -x "$v" ] && { echo "$v"; return 0; }
	done
	return 0
}

log() { echo "bench: $*" >&2; }

# --- machoplist, release build ------------------------------------------------
if [ -z "$mp" ]; then
	build=$root/build-bench
	if [ ! -f "$build/build.ninja" ]; then
		log "meson setup build-bench --buildtype=release -Dtests=false"
		meson setup "$build" "$root" --buildtype=release -Dtests=false >&2
	fi
	ninja -C "$build" >&2 || { log "release build failed (see above)"; exit 1; }
	mp=$build/cli/machoplist
fi
[ -x "$mp" ] || { log "$mp: not executable"; exit 1; }

# --- fsync shim ---------------------------------------------------------------
cc=${CC:-$(find_tool clang)}
[ -n "$cc" ] || cc=cc
nofsync=$workdir/nofsync.so
"$cc" -shared -fPIC -O2 -o "$nofsync" "$here/nofsync.c"
peakrss=$workdir/peakrss
"$cc" -O2 -o "$peakrss" "$here/peakrss.c"

# --- fixtures -----------------------------------------------------------------
files=()
make_fixture() { # make_fixture ARCH SIZE
	local f=$workdir/large-$1-$2
	if [ ! -s "$f" ]; then
		log "building $f"
		python3 "$here/make-large-fixture.py" "$f" "$2" --arch "$1" >&2
		# Check it before timing anything: sign, then verify the result.
		"$mp" sign -o "$f.check" "$f" >/dev/null
		"$mp" verify --allow-unbound "$f.check" >/dev/null ||
			{ log "$f: verify after sign failed"; rm -f "$f" "$f.check"; exit 1; }
		rm -f "$f.check"
	fi
	files+=("$1-$2=$f")
}
for s in $sizes; do
	make_fixture arm64 "$s"
	[ "$universal" = 0 ] || make_fixture universal "$s"
done

if [ "$npm" = 1 ]; then
	if bash "$root/tests/npm/fetch-npm-binaries.sh" "$npm_cache" >"$workdir/npm-fetch.log" 2>&1; then
		biggest=$(find "$npm_cache/bin" -maxdepth 1 -type f ! -name MANIFEST -printf '%s %p\n' |
			sort -n | tail -n 1 | cut -d' ' -f2-)
		[ -z "$biggest" ] || files+=("npm:$(basename "$biggest")=$biggest")
	else
		log "npm binaries not timed: $(tail -n 1 "$workdir/npm-fetch.log")"
	fi
fi

objcopy=$(find_tool llvm-objcopy)
[ -n "$objcopy" ] || log "llvm-objcopy not found: no objcopy reference"

echo "command: tests/bench/bench.sh --sizes \"$sizes\" --runs $runs --threads \"$threads\"$([ "$universal" = 1 ] || echo ' --no-universal')$([ "$npm" = 1 ] || echo ' --no-npm')"
python3 "$here/bench.py" --machoplist "$mp" --plist "$root/fixtures/Info.plist" \
	--workdir "$workdir" --runs "$runs" --threads "$threads" \
	${objcopy:+--objcopy "$objcopy"} --nofsync "$nofsync" --peakrss "$peakrss" "${files[@]}"
