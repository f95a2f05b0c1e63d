#!/usr/bin/env bash
# (b) `machoplist brew FORMULA...` and `brew machoplist FORMULA...` (the
# external command) against a fake prefix, with a stub brew on PATH; the keg
# found without brew (HOMEBREW_PREFIX/opt, the newest HOMEBREW_CELLAR keg).
. "$MP_SRC/tests/homebrew/common.sh"
base_path="$(path_without_brew)"
new_prefix() { # new_prefix NAME: a fresh fake prefix, its real path in $p
  mkdir -p "$MP_WORK/$1"
  p="$(cd "$MP_WORK/$1" && pwd -P)"
  make_prefix "$p"
}
unset HOMEBREW_PREFIX HOMEBREW_CELLAR

# --- machoplist brew tmux, keg from `brew --prefix tmux` (stub on PATH).
new_prefix one
stub_bin "$MP_WORK/stub1" "$p"
export STUB_BREW_LOG="$MP_WORK/brew.log"
PATH="$MP_WORK/stub1:$base_path"
assert_exit 0 "machoplist brew tmux" -- "$mp" brew tmux
assert_eq "tmux: keg $p/Cellar/tmux/3.5a
$p/opt/tmux/bin/tmux: embedded Info.plist (596 bytes, identifier sh.brew.tmux) in 1 slice; signed ad hoc
  next: a running tmux server still runs the old binary; end it with 'tmux kill-server' and start tmux again
  next: macOS asks once for local network access when the program first connects; check with 'machoplist verify $p/opt/tmux/bin/tmux'" \
  "$MP_OUT" "machoplist brew tmux output"
assert_eq "" "$MP_ERR" "machoplist brew tmux stderr"
assert_eq "brew --prefix tmux" "$(cat "$STUB_BREW_LOG")" "asked brew for the keg"
assert_eq "../Cellar/tmux/3.5a/bin/tmux" "$(readlink "$p/bin/tmux")" "bin/tmux link kept"
assert_exit 0 "verify" -- "$mp" verify "$p/bin/tmux"
assert_contains "$MP_OUT" "Info.plist entries=6" "verify after brew"
assert_exit 0 "machoplist brew tmux again" -- "$mp" brew tmux
assert_eq "tmux: keg $p/Cellar/tmux/3.5a
$p/opt/tmux/bin/tmux: already up to date; nothing changed" "$MP_OUT" "second run up to date"

# --- brew machoplist tmux mosh: Homebrew runs brew-machoplist from PATH.
new_prefix two
stub_bin "$MP_WORK/stub2" "$p"
PATH="$MP_WORK/stub2:$base_path"
: >"$STUB_BREW_LOG"
assert_exit 0 "brew machoplist tmux mosh" -- brew machoplist tmux mosh
assert_eq "tmux: keg $p/Cellar/tmux/3.5a
$p/opt/tmux/bin/tmux: embedded Info.plist (596 bytes, identifier sh.brew.tmux) in 1 slice; signed ad hoc
  next: a running tmux server still runs the old binary; end it with 'tmux kill-server' and start tmux again
mosh: keg $p/Cellar/mosh/1.4.0_2
$p/opt/mosh/bin/mosh-client: embedded Info.plist (626 bytes, identifier sh.brew.mosh.mosh-client) in 1 slice; signed ad hoc
$p/opt/mosh/bin/mosh-server: embedded Info.plist (626 bytes, identifier sh.brew.mosh.mosh-server) in 1 slice; signed ad hoc
  next: macOS asks once per program for local network access, when it first connects; check with 'machoplist verify FILE...'
3 injected, 0 already up to date, 0 refused" "$MP_OUT" "brew machoplist output"
assert_eq "machoplist: note: $p/opt/mosh/bin/mosh: not a Mach-O file (magic 23212f75); skipped" "$MP_ERR" "the Perl script is skipped with a note"
assert_eq "brew machoplist tmux mosh
brew --prefix tmux
brew --prefix mosh" "$(cat "$STUB_BREW_LOG")" "brew calls"
assert_eq "sh.brew.mosh.mosh-client 1.4.0 1.4.0_2" \
  "$("$mp" show --plist "$p/bin/mosh-client" | python3 -c 'import plistlib, sys; d = plistlib.loads(sys.stdin.buffer.read()); print(d["CFBundleIdentifier"], d["CFBundleShortVersionString"], d["CFBundleVersion"])')" \
  "mosh-client keys"
assert_exit 0 "brew machoplist -q" -- brew machoplist -q tmux mosh
assert_eq "" "$MP_OUT$MP_ERR" "-q: nothing printed"
assert_exit 0 "brew machoplist --help" -- brew machoplist --help
assert_contains "$MP_OUT" '`machoplist` [<options>] <formula> [...]' "help from the #: lines"
assert_exit 0 "dry run" -- "$mp" brew --dry-run tmux
assert_contains "$MP_OUT" "$p/opt/tmux/bin/tmux: dry run, nothing written" "dry run passes through"

# --- not installed, unknown, and no formula: one line each, documented codes.
assert_exit 3 "known but not installed" -- "$mp" brew neovim
assert_eq "machoplist: neovim: not installed (tried brew --prefix neovim: $p/opt/neovim)" "$MP_ERR" "not installed message"
assert_eq "" "$MP_OUT" "not installed: nothing on stdout"
assert_exit 3 "unknown formula" -- "$mp" brew nosuchthing
assert_eq "machoplist: nosuchthing: not installed (tried brew --prefix nosuchthing failed)" "$MP_ERR" "unknown formula message"
assert_exit 2 "no formula" -- "$mp" brew
assert_eq "machoplist: brew: no formula given (see 'machoplist help')" "$MP_ERR" "no formula message"
assert_exit 2 "--plist is not a brew option" -- "$mp" brew --plist x tmux
assert_exit 3 "first failure's code" -- "$mp" brew tmux neovim
assert_eq "tmux: keg $p/Cellar/tmux/3.5a
$p/opt/tmux/bin/tmux: already up to date; nothing changed
0 injected, 1 already up to date, 1 refused
  refused: neovim: not installed (tried brew --prefix neovim: $p/opt/neovim)" "$MP_OUT" "summary with a refusal"

# A keg with no Mach-O executable in bin/ or sbin/: refused with exit 4.
mkdir -p "$p/Cellar/scripts/2.0/bin" "$p/Cellar/scripts/2.0/libexec"
printf '#!/bin/sh\n' >"$p/Cellar/scripts/2.0/bin/run"
cp "$MP_FIXTURES/hello-arm64-headerpad" "$p/Cellar/scripts/2.0/libexec/helper"
PATH="$base_path"
export HOMEBREW_PREFIX="$p"
assert_exit 4 "no executables" -- "$mp" brew scripts
assert_eq "scripts: keg $p/Cellar/scripts/2.0" "$MP_OUT" "keg named"
assert_eq "machoplist: note: $p/Cellar/scripts/2.0/bin/run: not a Mach-O file (magic 23212f62); skipped
machoplist: scripts: no Mach-O executable in bin/ or sbin/ of $p/Cellar/scripts/2.0 (--all adds libexec/)" "$MP_ERR" "no executables message"
# --all adds libexec/.
assert_exit 0 "--all" -- "$mp" brew --all -q scripts
assert_eq "sh.brew.scripts.helper" "$("$mp" show --plist "$p/Cellar/scripts/2.0/libexec/helper" | python3 -c 'import plistlib, sys; print(plistlib.loads(sys.stdin.buffer.read())["CFBundleIdentifier"])')" "libexec helper injected"

# --- without brew on PATH: $HOMEBREW_PREFIX/opt/FORMULA.
new_prefix three
PATH="$base_path"
export HOMEBREW_PREFIX="$p"
assert_exit 0 "HOMEBREW_PREFIX/opt" -- "$mp" brew -q tmux
assert_eq "sh.brew.tmux" "$(grep -o 'sh.brew.tmux' <<<"$("$mp" show --plist "$p/bin/tmux")" | head -n 1)" "injected through HOMEBREW_PREFIX/opt"

# --- no opt link: the newest keg in $HOMEBREW_CELLAR/FORMULA (3.10 > 3.9 > 3.4).
new_prefix four
rm "$p/opt/tmux"
for v in 3.4 3.9 3.10; do mkdir -p "$p/Cellar/tmux/$v/bin"; cp "$MP_FIXTURES/hello-arm64-headerpad" "$p/Cellar/tmux/$v/bin/tmux"; done
unset HOMEBREW_PREFIX
export HOMEBREW_CELLAR="$p/Cellar"
assert_exit 0 "newest Cellar keg" -- "$mp" brew tmux
assert_eq "tmux: keg $p/Cellar/tmux/3.10" "$(head -n 1 <<<"$MP_OUT")" "picked 3.10"
assert_contains "$MP_OUT" "$p/Cellar/tmux/3.10/bin/tmux: embedded Info.plist" "3.10 injected"
assert_exit 1 "3.9 left alone" -- "$mp" show --plist "$p/Cellar/tmux/3.9/bin/tmux"
unset HOMEBREW_CELLAR
mp_done
