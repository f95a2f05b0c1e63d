#!/usr/bin/env bash
# (d) scripts/machoplist-brew-wrapper.sh re-applies machoplist after a
# simulated `brew upgrade tmux` (the stub brew pours a fresh, unpatched keg),
# after reinstall and a partly failed upgrade; stays quiet when nothing
# changed; leaves other brew commands alone; returns brew's exit status.
. "$MP_SRC/tests/homebrew/common.sh"
p="$(mkdir -p "$MP_WORK/prefix" && cd "$MP_WORK/prefix" && pwd -P)"
make_prefix "$p"
stub_bin "$MP_WORK/stub" "$p"
export PATH="$MP_WORK/stub:$(path_without_brew)"
export STUB_BREW_LOG="$MP_WORK/brew.log"
unset HOMEBREW_PREFIX HOMEBREW_CELLAR MACHOPLIST_FORMULAE MACHOPLIST_FORMULAE_FILE
export XDG_CONFIG_HOME="$MP_WORK/config"
mkdir -p "$XDG_CONFIG_HOME/machoplist"
printf '# formulae machoplist keeps patched\ntmux\n\n  neovim   # not installed: skipped\n' >"$XDG_CONFIG_HOME/machoplist/formulae"
# A machoplist that logs its calls.
printf '#!/bin/sh\necho "machoplist $*" >>"%s"\nexec "%s" "$@"\n' "$MP_WORK/mp.log" "$MP_CLI" >"$MP_WORK/mp-logged"
chmod +x "$MP_WORK/mp-logged"
export MACHOPLIST="$MP_WORK/mp-logged"
: >"$MP_WORK/mp.log"

# in_shell COMMAND...: runs COMMAND in bash with the wrapper sourced.
in_shell() { bash -c '. "$MP_SRC/scripts/machoplist-brew-wrapper.sh" && "$@"' in_shell "$@"; }
mp_calls() { wc -l <"$MP_WORK/mp.log" | tr -d ' '; }

assert_exit 0 "patch tmux 3.5a" -- "$mp" inject -q "$p/bin/tmux"
assert_eq "3.5a" "$(plist_json "$p/bin/tmux" | python3 -c 'import json, sys; print(json.load(sys.stdin)["CFBundleVersion"])')" "3.5a patched"

# brew upgrade tmux: new keg 3.6, unpatched, then re-applied.
assert_exit 0 "brew upgrade tmux" -- in_shell brew upgrade tmux
assert_eq "==> Upgrading tmux 3.5a -> 3.6
==> machoplist brew tmux
tmux: keg $p/Cellar/tmux/3.6
$p/opt/tmux/bin/tmux: embedded Info.plist (594 bytes, identifier sh.brew.tmux) in 1 slice; signed ad hoc
  next: a running tmux server still runs the old binary; end it with 'tmux kill-server' and start tmux again
  next: macOS asks once for local network access when the program first connects; check with 'machoplist verify $p/opt/tmux/bin/tmux'" \
  "$MP_OUT" "upgrade output"
assert_eq "" "$MP_ERR" "upgrade stderr"
assert_eq "../Cellar/tmux/3.6/bin/tmux" "$(readlink "$p/bin/tmux")" "bin/tmux now points at 3.6"
[ -d "$p/Cellar/tmux/3.5a" ] && mp_fail "old keg still there" || mp_ok
assert_eq '{"CFBundleIdentifier": "sh.brew.tmux", "CFBundleInfoDictionaryVersion": "6.0", "CFBundleName": "tmux", "CFBundleShortVersionString": "3.6", "CFBundleVersion": "3.6", "NSLocalNetworkUsageDescription": "tmux connects to servers and devices on your local network."}' \
  "$(plist_json "$p/bin/tmux")" "3.6 plist: same identifier, new version"
assert_exit 0 "verify 3.6" -- "$mp" verify "$p/bin/tmux"
assert_contains "$MP_OUT" "Info.plist entries=6" "3.6 bound"
assert_eq "brew upgrade tmux
brew --prefix
brew --prefix tmux" "$(cat "$STUB_BREW_LOG")" "brew ran with the arguments, then the wrapper and machoplist asked for prefixes"
assert_eq "machoplist brew tmux" "$(cat "$MP_WORK/mp.log")" "machoplist ran on the listed, installed formulae"

# Nothing upgraded: machoplist runs, finds it up to date, prints nothing.
assert_exit 0 "brew upgrade, nothing to do" -- in_shell brew upgrade tmux
assert_eq "Warning: tmux 3.6 already installed" "$MP_OUT" "quiet when up to date"
assert_eq 2 "$(mp_calls)" "machoplist ran again"

# Commands that install nothing do not run machoplist.
assert_exit 0 "brew list" -- in_shell brew list
assert_eq "mosh
tmux" "$MP_OUT" "brew list output passed through"
assert_exit 0 "brew --prefix" -- in_shell brew --prefix
assert_exit 1 "brew bundle dump (no brew-bundle here)" -- in_shell brew bundle dump
assert_eq 2 "$(mp_calls)" "no machoplist for list, --prefix, bundle dump"
assert_exit 1 "brew bundle (no brew-bundle here)" -- in_shell brew bundle
assert_eq 3 "$(mp_calls)" "machoplist after brew bundle"

# reinstall pours a fresh binary into the same keg: patched again.
assert_exit 0 "brew reinstall tmux" -- in_shell brew reinstall tmux
assert_contains "$MP_OUT" "==> machoplist brew tmux" "reinstall re-applies"
assert_contains "$MP_OUT" "$p/opt/tmux/bin/tmux: embedded Info.plist (594 bytes, identifier sh.brew.tmux)" "reinstall patched"

# A partly failed upgrade: brew's exit status is kept, the keg patched anyway.
STUB_BREW_FAIL=1 STUB_BREW_UPGRADE_TO=3.7 in_shell brew upgrade tmux >"$MP_WORK/out" 2>&1
assert_eq 1 "$?" "brew's exit status returned"
assert_contains "$(cat "$MP_WORK/out")" "$p/opt/tmux/bin/tmux: embedded Info.plist" "patched after a failed upgrade"
assert_exit 0 "verify 3.7" -- "$mp" verify "$p/bin/tmux"

# MACHOPLIST_FORMULAE overrides the file; a refusal is shown with machoplist's output.
cp "$MP_FIXTURES/hello-arm64" "$p/Cellar/mosh/1.4.0_2/bin/mosh-server"
MACHOPLIST_FORMULAE="tmux, mosh" in_shell brew upgrade neovim-not-installed >"$MP_WORK/out" 2>&1
assert_eq 0 "$?" "brew's status (0) despite machoplist's refusal"
out="$(cat "$MP_WORK/out")"
assert_contains "$out" "==> machoplist brew tmux mosh" "both listed formulae"
assert_contains "$out" "$p/opt/mosh/bin/mosh-client: embedded Info.plist" "mosh-client patched"
assert_contains "$out" "machoplist: $p/opt/mosh/bin/mosh-server: slice 0 (arm64): not enough room in __TEXT" "refusal shown"
assert_contains "$out" "1 injected, 1 already up to date, 1 refused" "summary shown"

# No machoplist installed: brew still works and nothing is printed.
MACHOPLIST="$MP_WORK/none" STUB_BREW_UPGRADE_TO=3.7 in_shell brew upgrade tmux >"$MP_WORK/out" 2>&1
assert_eq 0 "$?" "without machoplist"
assert_eq "Warning: tmux 3.7 already installed" "$(cat "$MP_WORK/out")" "without machoplist: brew's output only"

# zsh, when installed, runs the same function.
if command -v zsh >/dev/null; then
  out="$(zsh -c '. "$MP_SRC/scripts/machoplist-brew-wrapper.sh" && brew reinstall tmux' 2>&1)"
  assert_contains "$out" "$p/opt/tmux/bin/tmux: embedded Info.plist" "zsh: reinstall re-applies"
fi
mp_done
