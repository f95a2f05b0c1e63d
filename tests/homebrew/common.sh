# shellcheck shell=bash
# Shared by the homebrew tests: a fake Homebrew prefix and a stub brew.
. "$MP_SRC/tests/lib.sh"
need_fixtures
mp_workdir
mp="$MP_CLI"

# make_prefix DIR: DIR laid out like a Homebrew prefix with two formulae:
#   tmux 3.5a: bin/tmux (arm64, room for a plist)
#   mosh 1.4.0_2: bin/mosh-server (arm64), bin/mosh-client (x86_64), bin/mosh (a Perl script)
# bin/* and opt/* are relative symlinks into the Cellar, as `brew link` makes them.
make_prefix() {
  local p="$1"
  mkdir -p "$p/bin" "$p/opt" "$p/Cellar/tmux/3.5a/bin" "$p/Cellar/mosh/1.4.0_2/bin"
  cp "$MP_FIXTURES/hello-arm64-headerpad" "$p/Cellar/tmux/3.5a/bin/tmux"
  cp "$MP_FIXTURES/hello-arm64-headerpad" "$p/Cellar/mosh/1.4.0_2/bin/mosh-server"
  cp "$MP_FIXTURES/hello-x86_64-headerpad" "$p/Cellar/mosh/1.4.0_2/bin/mosh-client"
  printf '#!/usr/bin/env perl\nprint "mosh\\n";\n' >"$p/Cellar/mosh/1.4.0_2/bin/mosh"
  chmod 755 "$p/Cellar/mosh/1.4.0_2/bin/mosh"
  ln -s ../Cellar/tmux/3.5a/bin/tmux "$p/bin/tmux"
  ln -s ../Cellar/tmux/3.5a "$p/opt/tmux"
  local f
  for f in mosh mosh-client mosh-server; do ln -s "../Cellar/mosh/1.4.0_2/bin/$f" "$p/bin/$f"; done
  ln -s ../Cellar/mosh/1.4.0_2 "$p/opt/mosh"
}

# stub_bin DIR PREFIX: DIR/brew (the stub), DIR/brew-machoplist (the real
# external command) and DIR/machoplist (the binary under test).
stub_bin() {
  mkdir -p "$1"
  ln -sf "$MP_SRC/tests/homebrew/stub-brew" "$1/brew"
  ln -sf "$MP_SRC/scripts/brew-machoplist" "$1/brew-machoplist"
  ln -sf "$MP_CLI" "$1/machoplist"
  export STUB_BREW_PREFIX="$2"
}

# plist_json FILE: the embedded Info.plist as JSON with sorted keys (plistlib).
plist_json() {
  "$mp" show --plist "$1" | python3 -c 'import json, plistlib, sys; print(json.dumps(plistlib.loads(sys.stdin.buffer.read()), sort_keys=True))'
}
sha() { sha256sum <"$1" | cut -d' ' -f1; }
# PATH without any directory holding a brew (a real Homebrew on the test
# machine must not answer for the fake prefix).
path_without_brew() {
  local d out="" IFS=:
  for d in $PATH; do
    [ -n "$d" ] && [ ! -x "$d/brew" ] && out="${out:+$out:}$d"
  done
  printf '%s\n' "$out"
}
