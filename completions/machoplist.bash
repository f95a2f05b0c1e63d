# bash completion for machoplist(1)

# Installed Homebrew formulae (the Cellar's racks), for `machoplist brew`.
_machoplist_formulae()
{
    local cellar="${HOMEBREW_CELLAR:-}"
    if [[ -z $cellar ]]; then
        local prefix="${HOMEBREW_PREFIX:-}"
        [[ -n $prefix ]] || prefix="$(brew --prefix 2>/dev/null)"
        [[ -n $prefix ]] && cellar="$prefix/Cellar"
    fi
    [[ -d $cellar ]] && command ls -1 "$cellar" 2>/dev/null
}

_machoplist()
{
    local cur prev words cword
    if declare -F _init_completion >/dev/null 2>&1; then
        _init_completion || return
    else
        COMPREPLY=()
        cur="${COMP_WORDS[COMP_CWORD]}"
        prev="${COMP_WORDS[COMP_CWORD - 1]}"
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
    fi

    local commands="show inject remove brew sign verify help version"
    if ((cword == 1)); then
        COMPREPLY=($(compgen -W "$commands" -- "$cur"))
        return
    fi
    local cmd="${words[1]}"

    # Options that take a value.
    case "$prev" in
    --plist | --entitlements | -o)
        COMPREPLY=($(compgen -f -- "$cur"))
        return
        ;;
    --arch)
        COMPREPLY=($(compgen -W "arm64 arm64e x86_64 i386" -- "$cur"))
        return
        ;;
    --hash)
        COMPREPLY=($(compgen -W "sha256 sha1,sha256" -- "$cur"))
        return
        ;;
    --page-size)
        COMPREPLY=($(compgen -W "4096 16384" -- "$cur"))
        return
        ;;
    -j | --jobs | --threads)
        COMPREPLY=($(compgen -W "0 1 2 4 8" -- "$cur"))
        return
        ;;
    --identifier | -i | --usage | --set)
        return
        ;;
    esac

    local opts
    case "$cmd" in
    show) opts="--json --plist --arch" ;;
    inject) opts="--plist --identifier --usage --set --replace --make-room --binary-plist --dry-run -o --backup --force --recursive -j --jobs --threads --page-size -q --quiet" ;;
    remove) opts="--dry-run -o --backup --force --recursive -j --jobs --threads --page-size -q --quiet" ;;
    brew) opts="--all --identifier --usage --set --replace --make-room --dry-run --backup --force -j --jobs --threads --page-size -q --quiet" ;;
    sign) opts="--identifier --entitlements --page-size --hash --threads -j --force -o" ;;
    verify) opts="--allow-unbound --json" ;;
    *) return ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    elif [[ $cmd == brew ]]; then
        COMPREPLY=($(compgen -W "$(_machoplist_formulae)" -- "$cur"))
    else
        COMPREPLY=($(compgen -f -- "$cur"))
        compopt -o filenames 2>/dev/null
    fi
}

complete -F _machoplist machoplist
