// minirt completion bash|zsh: a shell completion script. The commands are
// this binary's own; the rest is asked of minirt while completing (each
// command's --help for its options and subcommands, ps and images for the
// names), so the script stays true to the minirt it runs.
#include <iostream>

#include "cli/cli.hpp"
#include "common/error.hpp"
#include "common/parse.hpp"

namespace minirt::cli {

namespace {

// The body both shells run (zsh through bashcompinit).
constexpr const char* kBashFunction = R"SH(
_minirt_words() { "${COMP_WORDS[0]}" "$@" 2>/dev/null; }
_minirt() {
    local cur=${COMP_WORDS[COMP_CWORD]} cmd='' sub='' i w words=''
    # The command and subcommand: the first two words that are not flags
    # (or the global flags' values).
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        case $w in
            --root | --storage) i=$((i + 1)); continue ;;
            -*) continue ;;
        esac
        if [ -z "$cmd" ]; then cmd=$w
        elif [ -z "$sub" ]; then sub=$w; break
        fi
    done
    if [ -z "$cmd" ]; then
        case $cur in
            -*) words='--root --storage --version --help' ;;
            *) words='__MINIRT_COMMANDS__' ;;
        esac
        COMPREPLY=($(compgen -W "$words" -- "$cur"))
        return
    fi
    [ "$cmd" = pause ] && cmd=freeze
    [ "$cmd" = unpause ] && cmd=thaw
    local subs
    subs=$(_minirt_words "$cmd" --help | sed -n 's/^Usage: minirt [a-z]* \([a-z|]*\)\( .*\)\{0,1\}$/\1/p' | tr '|' ' ')
    if [ -n "$subs" ] && [ -z "$sub" ]; then
        COMPREPLY=($(compgen -W "$subs" -- "$cur"))
        return
    fi
    case $cur in
        -*)
            local help
            if [ -n "$subs" ]; then help=$(_minirt_words "$cmd" "$sub" --help); else help=$(_minirt_words "$cmd" --help); fi
            words=$(grep -oE -- '(^|[ [])--?[a-zA-Z][a-zA-Z0-9-]*' <<<"$help" | tr -d ' [' | sort -u)
            ;;
        *)
            case $cmd/$sub in
                run/* | create/* | images/* | rmi/* | tag/* | untag/* | save/* | push/* | image/*)
                    words=$(_minirt_words images --format '{{.Repository}}:{{.Tag}}' | sed 's/:<none>$//') ;;
                volume/*) words=$(_minirt_words volume ls -q) ;;
                network/connect | network/disconnect)
                    words="$(_minirt_words network ls -q) $(_minirt_words ps -a --format '{{.Names}}')" ;;
                network/*) words=$(_minirt_words network ls -q) ;;
                completion/*) words='bash zsh' ;;
                *) words=$(_minirt_words ps -a --format '{{.Names}}') ;;
            esac
            ;;
    esac
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F _minirt minirt
)SH";

}  // namespace

int cmd_completion(Context&, const Args& args) {
    const char* usage = "minirt completion bash|zsh";
    po::options_description desc("Options");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 1, 1, usage);
    const std::string& shell = p.positional[0];
    if (shell != "bash" && shell != "zsh")
        throw Error("invalid shell " + quote_for_message(shell) + ": bash or zsh (" + usage + ")");
    std::string names;
    for (const auto& c : commands()) names += std::string(names.empty() ? "" : " ") + c.name;
    names += " pause unpause oci";
    std::string body = kBashFunction;
    body.replace(body.find("__MINIRT_COMMANDS__"), 19, names);
    if (shell == "bash") {
        std::cout << "# bash completion for minirt: source <(minirt completion bash), or save it as\n"
                     "# /usr/share/bash-completion/completions/minirt\n"
                  << body;
    } else {
        std::cout << "#compdef minirt\n"
                     "# zsh completion for minirt: source <(minirt completion zsh), or save it as _minirt\n"
                     "# in a directory of $fpath. It runs the bash function through zsh's bashcompinit.\n"
                     "(( $+functions[compdef] )) || { autoload -U +X compinit && compinit -u; }\n"
                     "autoload -U +X bashcompinit && bashcompinit\n"
                  << body;
    }
    return 0;
}

}  // namespace minirt::cli
