#!/usr/bin/env bash
# The shell files: bash completion (driven like bash does), zsh completion and
# scripts parse, shellcheck when installed, the man page renders without
# warnings, and meson installs everything where documented with its mode.
. "$MP_SRC/tests/homebrew/common.sh"
src="$MP_SRC"

# bash completion: commands, options per command, formulae from the Cellar.
complete_words() { # complete_words WORD... -> COMPREPLY for the last word
  bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _machoplist; printf "%s\n" "${COMPREPLY[@]}"' \
    complete "$src/completions/machoplist.bash" "$@"
}
assert_eq "brew" "$(complete_words machoplist br)" "complete a command"
assert_eq "--replace
--recursive" "$(complete_words machoplist inject --re)" "inject options"
assert_eq "--all" "$(complete_words machoplist brew --a)" "brew options"
mkdir -p "$MP_WORK/Cellar/tmux/3.5a" "$MP_WORK/Cellar/tree/2.1"
assert_eq "tmux
tree" "$(HOMEBREW_CELLAR="$MP_WORK/Cellar" complete_words machoplist brew t)" "formulae from the Cellar"
assert_eq "arm64
arm64e" "$(complete_words machoplist show --arch arm)" "--arch values"
assert_eq "" "$(bash -c '. "$1"; complete -p machoplist' x "$src/completions/machoplist.bash" | grep -v -- '-F _machoplist machoplist')" "registered for machoplist"

for f in scripts/brew-machoplist scripts/machoplist-brew-wrapper.sh completions/machoplist.bash tests/homebrew/stub-brew; do
  assert_exit 0 "bash -n $f" -- bash -n "$src/$f"
done
assert_exit 0 "sh -n brew-machoplist" -- sh -n "$src/scripts/brew-machoplist"
if command -v zsh >/dev/null; then
  assert_exit 0 "zsh -n _machoplist" -- zsh -n "$src/completions/_machoplist"
  assert_exit 0 "zsh -n wrapper" -- zsh -n "$src/scripts/machoplist-brew-wrapper.sh"
fi
if command -v shellcheck >/dev/null; then
  assert_exit 0 "shellcheck brew-machoplist" -- shellcheck -s sh "$src/scripts/brew-machoplist"
  assert_exit 0 "shellcheck wrapper" -- shellcheck -s bash "$src/scripts/machoplist-brew-wrapper.sh"
fi
[ -x "$src/scripts/brew-machoplist" ] && mp_ok || mp_fail "scripts/brew-machoplist is not executable"

# The man page renders without warnings and documents the new commands.
if command -v groff >/dev/null; then
  assert_exit 0 "groff" -- groff -man -ww -z "$src/doc/machoplist.1"
  assert_eq "" "$MP_ERR" "groff warnings"
  text="$(sed -e 's/\\f[BIRP]//g' -e 's/\\-/-/g' "$src/doc/machoplist.1")"
  for w in "machoplist brew" "--recursive" "already up to date" "brew-machoplist" "machoplist-brew-wrapper.sh"; do
    assert_contains "$text" "$w" "man page mentions $w"
  done
fi

# meson install: brew-machoplist next to machoplist (rwxr-xr-x), completions
# where bash-completion and zsh look, the wrapper with the package data.
dest="$MP_WORK/dest"
meson install -C "$MP_BUILD" --no-rebuild --destdir "$dest" >"$MP_WORK/install.log" 2>&1
assert_eq 0 "$?" "meson install (log: $(tail -n 3 "$MP_WORK/install.log"))"
prefix="$(meson introspect "$MP_BUILD" --buildoptions | python3 -c 'import json, sys; print({o["name"]: o["value"] for o in json.load(sys.stdin)}["prefix"])')"
root="$dest$prefix"
assert_eq "755" "$(stat -c %a "$root/bin/brew-machoplist")" "brew-machoplist mode"
cmp -s "$root/bin/brew-machoplist" "$src/scripts/brew-machoplist" && mp_ok || mp_fail "brew-machoplist installed as is"
assert_eq "644" "$(stat -c %a "$root/share/machoplist/machoplist-brew-wrapper.sh")" "wrapper installed, not executable"
[ -f "$root/share/bash-completion/completions/machoplist" ] && mp_ok || mp_fail "bash completion not installed"
[ -f "$root/share/zsh/site-functions/_machoplist" ] && mp_ok || mp_fail "zsh completion not installed"
mp_done
