# machoplist-brew-wrapper.sh: re-apply machoplist after `brew upgrade`.
#
# `brew upgrade`, `brew reinstall` and `brew install` put a fresh, unpatched
# binary in a new keg, and macOS then blocks its local network access again.
# Homebrew has no user hooks around its commands (its maintainers suggest
# wrapping `brew`), so this file defines a `brew` shell function that runs the
# real brew and then `machoplist brew` on the formulae you listed.
#
# Use it from bash or zsh: add to ~/.zshrc or ~/.bashrc
#
#     . "$(brew --prefix)/share/machoplist/machoplist-brew-wrapper.sh"
#
# and list the formulae to keep patched, one per line (# starts a comment), in
# ~/.config/machoplist/formulae (or $XDG_CONFIG_HOME/machoplist/formulae, or
# the file named by MACHOPLIST_FORMULAE_FILE):
#
#     tmux
#     zellij
#
# or set MACHOPLIST_FORMULAE="tmux zellij" (spaces or commas) instead.
#
# After `brew install`, `brew reinstall`, `brew upgrade` and `brew bundle`
# (install or upgrade), whatever their exit status, `machoplist brew` runs on
# the listed formulae that are installed. It changes nothing when a binary is
# already patched, and prints its output only when it patched something or
# failed. The function returns brew's exit status. MACHOPLIST names the
# machoplist program (default: machoplist on PATH).

# The listed formulae, one per line.
_machoplist_formulae() {
    if [ -n "${MACHOPLIST_FORMULAE:-}" ]; then
        printf '%s\n' "$MACHOPLIST_FORMULAE" | awk '{ gsub(/[,[:space:]]+/, "\n"); print }'
    else
        _machoplist_list="${MACHOPLIST_FORMULAE_FILE:-${XDG_CONFIG_HOME:-$HOME/.config}/machoplist/formulae}"
        if [ -r "$_machoplist_list" ]; then
            sed -e 's/#.*//' -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' "$_machoplist_list"
        fi
        unset _machoplist_list
    fi
}

# Runs `machoplist brew` on the listed formulae that are installed.
_machoplist_reapply() {
    local mp prefix f out rc
    mp="${MACHOPLIST:-machoplist}"
    command -v "$mp" >/dev/null 2>&1 || return 0
    prefix="${HOMEBREW_PREFIX:-}"
    [ -n "$prefix" ] || prefix="$(command brew --prefix 2>/dev/null)"
    set --
    while IFS= read -r f; do
        [ -n "$f" ] || continue
        # Installed formulae have an opt link; skip the others quietly.
        [ -d "$prefix/opt/${f##*/}" ] || continue
        set -- "$@" "$f"
    done <<EOF
$(_machoplist_formulae)
EOF
    [ $# -gt 0 ] || return 0
    out="$("$mp" brew "$@" 2>&1)"
    rc=$?
    if [ "$rc" -ne 0 ] || printf '%s\n' "$out" | grep -q ': embedded Info.plist '; then
        printf '==> machoplist brew %s\n%s\n' "$*" "$out"
    fi
    return "$rc"
}

brew() {
    local rc
    command brew "$@"
    rc=$?
    case "${1:-}" in
    install | reinstall | upgrade)
        _machoplist_reapply
        ;;
    bundle)
        case "${2:-}" in
        "" | install | upgrade | -*) _machoplist_reapply ;;
        esac
        ;;
    esac
    return "$rc"
}
