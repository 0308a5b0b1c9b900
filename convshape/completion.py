"""Shell completion: the layer words a stack may continue with, and static completion
scripts for bash, zsh and fish generated from the CLI's own commands and options.

The scripts are written from one model (`Spec`) built from the Typer/click command
tree and the grammar's tables, so a new option or token reaches every shell at once;
`tests/test_completion.py` fails when a shipped file in `completions/` differs from
what this module generates now.
"""

from __future__ import annotations

from typing import NamedTuple

from .grammar import parse_kind
from .kinds import KIND_WORDS
from .kinds import Kind

# Parameter tokens: the word offered, and what it means. Words ending in a prefix
# (k, s, ...) want a number typed right after them, so no space follows them.
TOKEN_WORDS: dict[str, list[tuple[str, str]]] = {
    "k": [("k", "kernel size: k3, k3x5")],
    "s": [("s", "stride: s2, s2x1")],
    "p": [
        ("p", "padding: p1, p1x2, p0:1 (before:after)"),
        ("psame", "padding that keeps the size"),
        ("pvalid", "no padding"),
        ("pfull", "padding d*(k-1) on each side"),
    ],
    "d": [("d", "dilation: d2")],
    "c": [("c", "output channels: c64")],
    "g": [("g", "groups: g32")],
    "op": [("op", "output padding: op1")],
    "ceil": [("ceil", "ceil mode instead of floor")],
    "dw": [("dw", "depthwise: groups = input channels")],
    "keep": [("keep", "keep the 1x1 map (Keras keepdims=True)")],
    "nobias": [("nobias", "no bias")],
    "noscale": [("noscale", "no scale (Keras' scale=False)")],
    "nocenter": [("nocenter", "no shift (Keras' center=False)")],
    "v2": [("v2", "Swin V2's variant")],
    "o": [("o", "output size: o7, o7x5")],
    "x": [("x", "repeat the layer: x3")],
    "in": [("in", "the input channels the model gives it, checked: in64")],
    "i": [("i", "the part: i0")],
    "h": [("h", "heads: h12")],
    "n": [("n", "tokens: n197")],
}
PREFIXES = ("k", "s", "p", "d", "c", "g", "op", "o", "x", "in", "i", "h", "n")
CONVENTIONS = ("torch", "tf")

# What each value of an option with choices means, for the shells that show descriptions.
CHOICE_HELP = {
    "table": "a table for people",
    "json": "one JSON object",
    "csv": "comma-separated rows",
    "tsv": "tab-separated rows",
    "torch": "PyTorch's nn layers",
    "tf": "TensorFlow/Keras",
    "keras": "the same as tf",
    "floor_rounding": "real input pixels at the end are never read",
    "stride_gap": "a kernel smaller than its stride skips pixels",
    "padding_only_outputs": "some outputs see only padding",
    "ceil_window_dropped": "ceil mode's last window is dropped",
    "torchinfo": "torchinfo's mult-adds",
    "float32": "4 bytes an element",
    "float16": "2 bytes an element",
    "bfloat16": "2 bytes an element",
    "int8": "1 byte an element",
}


def kind_tokens(kind: Kind, convention: str = "tf") -> list[tuple[str, str]]:
    """The parameter tokens ``kind`` accepts under ``convention``, with their meaning.

    >>> [word for word, _ in kind_tokens(Kind.UP)]
    ['s', 'o', 'x', 'like']
    >>> "psame" in dict(kind_tokens(Kind.MAXPOOL, "torch")), "psame" in dict(kind_tokens(Kind.MAXPOOL, "tf"))
    (False, True)
    """
    spec = kind.op
    refused = tuple("p" + rule for rule in spec.refused_rules) + (spec.torch_refused if convention == "torch" else ())
    meanings = dict(spec.token_help)
    words = []
    for prefix in spec.takes:
        for word, meaning in TOKEN_WORDS[prefix]:
            if word not in refused:
                words.append((word, meanings.get(prefix, meaning) if word == prefix else meaning))
    return words + list(spec.after)


def kinds() -> list[tuple[str, str]]:
    return [(kind.value, kind.op.help) for kind in Kind]


def current_kind(words: list[str]) -> Kind | None:
    """The kind of the layer being written after ``words`` (None: a new layer must start).

    >>> current_kind(["conv", "k3"]), current_kind(["conv", "k3,"]), current_kind([]), current_kind(["conv", "@x"])
    (<Kind.CONV: 'conv'>, None, None, None)
    """
    kind = None
    for word in words:
        for part in word.replace(";", ",").split(","):
            found = parse_kind(part) if part else None
            if found is not None:
                kind = found[0]
            elif part.startswith("@") or part.lower() == "from":
                kind = None
        if word.endswith((",", ";")):
            kind = None
    return kind


NAME_HELP = "a tensor named with @"
FROM_WORD = ("from", "read a named tensor instead: from x")


def bound_names(words: list[str]) -> list[str]:
    """The names bound with @name in ``words``, in order, each once.

    >>> bound_names(["@in", "conv", "k3", "@x,", "conv", "@in"])
    ['in', 'x']
    """
    names: list[str] = []
    for word in words:
        for part in word.replace(";", ",").split(","):
            if part.startswith("@") and len(part) > 1 and part[1:] not in names:
                names.append(part[1:])
    return names


def layer_candidates(words: list[str], incomplete: str, convention: str = "torch") -> list[tuple[str, str]]:
    """What may come next in a stack: a bound name after from, like or a merge; the current
    kind's tokens; then the kinds.

    >>> [w for w, _ in layer_candidates(["conv", "k3"], "p")][:5]  # then the kinds that start with p
    ['p', 'psame', 'pvalid', 'pfull', 'pad']
    >>> [w for w, _ in layer_candidates(["conv", "@skip", "conv", "from"], "")]
    ['skip']
    """
    names = [(name, NAME_HELP) for name in bound_names(words)]
    if words and words[-1].lower() in ("from", "like"):
        offered = names
    else:
        kind = current_kind(words)
        offered = (names if kind is not None and kind.is_merge else []) + (kind_tokens(kind, convention) if kind else [])
        offered += kinds() + [FROM_WORD]
    return [(word, meaning) for word, meaning in offered if word.startswith(incomplete)
            or (meaning != NAME_HELP and word.startswith(incomplete.lower()))]


# ---------------------------------------------------------------------------------
# The model the scripts are written from.


class OptionSpec(NamedTuple):
    names: tuple[str, ...]
    help: str
    takes_value: bool
    choices: tuple[str, ...] = ()
    files: bool = False


class CommandSpec(NamedTuple):
    name: str
    help: str
    options: tuple[OptionSpec, ...]
    kinds: tuple[Kind, ...]  # the layer kinds it takes as arguments (none: it takes no stack)
    arguments: tuple[str, ...] = ()  # choices for its positional argument, if any
    argument_name: str = ""  # that argument's name, for zsh's heading
    argument_files: bool = False  # its positional argument is a file (import's model)

    @property
    def stack(self) -> bool:
        return bool(self.kinds)


class Spec(NamedTuple):
    program: str
    options: tuple[OptionSpec, ...]
    commands: tuple[CommandSpec, ...]


def _options(params, extra_choices: dict[str, tuple[str, ...]]) -> tuple[OptionSpec, ...]:
    found = []
    for param in params:
        if param.param_type_name != "option" or getattr(param, "hidden", False):
            continue
        names = tuple(param.opts) + tuple(param.secondary_opts)
        choices = tuple(getattr(param.type, "choices", ()) or ())
        choices = tuple(getattr(c, "value", c) for c in choices) or extra_choices.get(names[0], ())
        help_text = " ".join((param.help or "").split())
        found.append(OptionSpec(names, help_text, not param.is_flag, choices, param.metavar == "PATH"))  # -f, -o
    found.append(OptionSpec(("--help", "-h"), "Show the help and exit.", False))
    return tuple(found)


def spec_from_click(group, extra_choices: dict[str, tuple[str, ...]], kinds_of: dict[str, tuple[Kind, ...]]) -> Spec:
    """The completion model of a click group (the Typer app, via typer.main.get_command);
    ``kinds_of`` names the layer kinds each command that takes layers accepts."""
    commands = []
    for name, command in sorted(group.commands.items()):
        arguments = [p for p in command.params if p.param_type_name == "argument"]
        stack = kinds_of.get(name, ())
        choices, argument_name = (), ""
        files = any("FILE" in (argument.metavar or "") for argument in arguments)
        for argument in arguments:
            choices = tuple(getattr(c, "value", c) for c in (getattr(argument.type, "choices", ()) or ()))
            argument_name = argument.name
        summary = " ".join((command.short_help or command.help or "").split()).split(". ")[0].rstrip(".")
        commands.append(CommandSpec(name, summary, _options(command.params, extra_choices), stack, choices, argument_name,
                                    files))
    return Spec(group.name or "convshape", _options(group.params, extra_choices), tuple(commands))


def _kind_words() -> dict[Kind, list[str]]:
    """Every word that starts a layer of each kind: aliases and conv2d-style names."""
    words: dict[Kind, list[str]] = {kind: [] for kind in Kind}
    for word, kind in KIND_WORDS.items():
        words[kind].append(word)
        if kind.is_spatial:
            words[kind] += [f"{word}{n}d" for n in (1, 2, 3)]
    return words


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


HEADER = "{comment} {shell} completion for {program}; generated by `{program} completions {shell}`: do not edit.\n"


# ---------------------------------------------------------------------------------
# bash


def bash_script(spec: Spec) -> str:
    p = spec.program
    lines = [HEADER.format(comment="#", shell="bash", program=p).rstrip("\n")]
    lines += [
        f"# Install: source it from ~/.bashrc, or copy it to ~/.local/share/bash-completion/completions/{p}",
        "",
        f"_{p}_kind() {{  # the kind a word starts, or nothing",
        '    local word="${1,,}"',
        '    word="${word%%[,;]*}"',
        '    case "$word" in',
    ]
    for kind, words in _kind_words().items():
        lines.append(f"        {'|'.join(words)}) echo {kind.value} ;;")
    lines += ["    esac", "}", "",
              f"_{p}_tokens() {{  # the parameter tokens of a kind ($1) under a convention ($2)", '    case "$1" in']
    for kind in Kind:
        torch, tf = (_quote(" ".join(w for w, _ in kind_tokens(kind, c))) for c in CONVENTIONS)
        if torch == tf:
            lines.append(f"        {kind.value}) echo {torch} ;;")
        else:
            lines.append(f"        {kind.value}) if [[ $2 == tf ]]; then echo {tf}; else echo {torch}; fi ;;")
    lines += ["    esac", "}", ""]
    lines += [
        f"_{p}_layer_words() {{  # complete a layer word; $1: the index of the subcommand, $2: options that take a value,",
        "    # $3: the kinds the subcommand takes",
        '    local i word kind="" convention=torch names=""',
        "    for (( i = $1 + 1; i < COMP_CWORD; i++ )); do",
        '        word="${COMP_WORDS[i]}"',
        '        if [[ $word == --convention ]]; then convention="${COMP_WORDS[i+1],,}"; (( i++ )); continue; fi',
        '        if [[ " $2 " == *" $word "* ]]; then (( i++ )); continue; fi',
        '        [[ $word == -* ]] && continue',
        f'        [[ -n $(_{p}_kind "$word") ]] && kind=$(_{p}_kind "$word")',
        '        if [[ $word == @* ]]; then names="$names ${word#@}"; names="${names%%[,;]}"; kind=""; fi',
        '        [[ ${word,,} == from ]] && kind=""',
        "        [[ $word == *[,\\;] ]] && kind=\"\"",
        "    done",
        '    [[ $convention == keras ]] && convention=tf',
        '    if [[ ${COMP_WORDS[COMP_CWORD-1],,} == from || ${COMP_WORDS[COMP_CWORD-1],,} == like ]]; then',
        '        COMPREPLY=($(compgen -W "$names" -- "$cur")); return',
        '    fi',
        '    case "$kind" in add|mul|cat) ;; *) names="" ;; esac',
        '    local graph=""',
        '    [[ " $3 " == *" add "* ]] && graph=from  # the commands that take whole networks',
        f'    COMPREPLY=($(compgen -W "$names $(_{p}_tokens "$kind" "$convention") $3 $graph" -- "$cur"))',
        f'    if [[ ${{#COMPREPLY[@]}} -eq 1 && " {" ".join(PREFIXES)} " == *" ${{COMPREPLY[0]}} "* ]]; then',
        "        compopt -o nospace 2>/dev/null",
        "    fi",
        "}",
        "",
    ]
    root_words = " ".join([c.name for c in spec.commands])
    root_options = " ".join(n for o in spec.options for n in o.names)
    lines += [
        f"_{p}() {{",
        '    local cur="${COMP_WORDS[COMP_CWORD]}" prev="" i word kind command="" start=0',
        '    (( COMP_CWORD > 0 )) && prev="${COMP_WORDS[COMP_CWORD-1]}"',
        "    COMPREPLY=()",
        "    for (( i = 1; i < COMP_CWORD; i++ )); do",
        '        case "${COMP_WORDS[i]}" in -*) ;; *) command="${COMP_WORDS[i]}"; start=$i; break ;; esac',
        "    done",
        '    if [[ -z $command ]]; then',
        f'        if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W {_quote(root_options)} -- "$cur"));',
        f'        else COMPREPLY=($(compgen -W {_quote(root_words)} -- "$cur")); fi',
        "        return 0",
        "    fi",
        '    case "$command" in',
    ]
    for command in spec.commands:
        value_names = [n for o in command.options if o.takes_value for n in o.names]
        lines.append(f"    {command.name})")
        lines.append('        case "$prev" in')
        for option in command.options:
            if not option.takes_value:
                continue
            names = "|".join(option.names)
            if option.files:
                lines.append(f'            {names}) COMPREPLY=($(compgen -f -- "$cur")); compopt -o filenames 2>/dev/null; return 0 ;;')
            elif option.choices:
                lines.append(f'            {names}) COMPREPLY=($(compgen -W {_quote(" ".join(option.choices))} -- "$cur")); return 0 ;;')
            else:
                lines.append(f"            {names}) return 0 ;;")
        lines.append("        esac")
        options = " ".join(n for o in command.options for n in o.names)
        lines.append(f'        if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W {_quote(options)} -- "$cur")); return 0; fi')
        if command.arguments:
            lines.append(f'        COMPREPLY=($(compgen -W {_quote(" ".join(command.arguments))} -- "$cur"))')
        if command.argument_files:
            lines.append('        COMPREPLY=($(compgen -f -- "$cur")); compopt -o filenames 2>/dev/null')
        if command.stack:
            kinds_taken = " ".join(kind.value for kind in command.kinds)
            lines.append(f'        _{p}_layer_words "$start" {_quote(" ".join(value_names))} {_quote(kinds_taken)}')
        lines.append("        ;;")
    lines += ["    esac", "    return 0", "}", "", f"complete -F _{p} {p}", ""]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------
# zsh


def _zsh_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "'\\''").replace("[", "\\[").replace("]", "\\]").replace(":", "\\:")


def _zsh_option(option: OptionSpec) -> list[str]:
    exclusive = f"({' '.join(option.names)})" if len(option.names) > 1 else ""
    action = ""
    if option.takes_value:
        if option.files:
            action = ":file:_files"
        elif option.choices:
            described = " ".join(f"{c}\\:{_zsh_escape(CHOICE_HELP[c]).replace(' ', chr(92) + ' ')}" if c in CHOICE_HELP
                                 else c for c in option.choices)
            action = f":value:(({described}))"
        else:
            action = ":value: "
    help_text = _zsh_escape(option.help)
    repeat = "*" if option.names[0] == "--allow" else ""
    if repeat:
        exclusive = ""
    return [f"'{exclusive}{repeat}{name}[{help_text}]{action}'" for name in option.names]


def zsh_script(spec: Spec) -> str:
    p = spec.program
    lines = [f"#compdef {p}", HEADER.format(comment="#", shell="zsh", program=p).rstrip("\n")]
    lines += [
        f"# Install: save it as _{p} in a folder on $fpath (e.g. ~/.zfunc, with fpath=(~/.zfunc $fpath)",
        "# before compinit in ~/.zshrc).",
        "",
        f"_{p}_layer() {{  # the arguments: the kinds the subcommand takes",
        "    local -a kinds prefixes words_ names",
        "    local kind='' word part i convention=torch",
        "    kinds=(",
    ]
    lines += [f"        '{name}:{_zsh_escape(meaning)}'" for name, meaning in kinds()]
    lines += ["    )", "    kinds=(${(M)kinds:#(${(j:|:)~@}):*})"]
    value_names = sorted({n for c in spec.commands for o in c.options if o.takes_value for n in o.names})
    lines += [
        "    for (( i = 2; i < CURRENT; i++ )); do",
        "        word=${(L)words[i]}",
        "        if [[ $word == --convention ]]; then convention=${(L)words[i+1]}; (( i++ )); continue; fi",
        f"        case $word in ({'|'.join(value_names)}) (( i++ )); continue ;; (-*) continue ;; esac",
        "        part=${word%%[,;]*}",
        "        if [[ $part == @?* ]]; then names+=(${${words[i]%%[,;]*}#@}); kind=''; fi",
        "        [[ $part == from ]] && kind=''",
        "        case $part in",
    ]
    for kind, words in _kind_words().items():
        lines.append(f"            ({'|'.join(words)}) kind={kind.value} ;;")
    lines += [
        "        esac",
        "        [[ $word == *[,\\;] ]] && kind=''",
        "    done",
        "    [[ $convention == keras ]] && convention=tf",
        "    case $kind in",
    ]
    for kind in Kind:
        specs = []
        for convention in CONVENTIONS:
            tokens = kind_tokens(kind, convention)
            prefix_specs = " ".join(f"'{w}:{_zsh_escape(m)}'" for w, m in tokens if w in PREFIXES)
            word_specs = " ".join(f"'{w}:{_zsh_escape(m)}'" for w, m in tokens if w not in PREFIXES)
            specs.append(f"prefixes=({prefix_specs}); words_=({word_specs})")
        if specs[0] == specs[1]:
            lines.append(f"        ({kind.value}) {specs[0]} ;;")
        else:
            lines.append(f"        ({kind.value}) if [[ $convention == tf ]]; then {specs[1]}; else {specs[0]}; fi ;;")
    lines += [
        "    esac",
        "    if [[ ${(L)words[CURRENT-1]} == (from|like) ]]; then compadd -a names; return; fi",
        f"    [[ $kind == (add|mul|cat) ]] && words_+=(${{^names}}':{NAME_HELP}')",
        "    words_+=('from:read a named tensor instead\\: from x')",
        "    # One _describe for all three groups, so that their descriptions line up.",
        "    _describe -t layer 'parameter (k, s, ...: type a number after it) or layer kind' prefixes -S '' -- words_ -- kinds",
        "}",
        "",
        f"_{p}() {{",
        "    local curcontext=$curcontext state line",
        "    typeset -A opt_args",
        "    _arguments -C \\",
    ]
    for option in spec.options:
        for item in _zsh_option(option):
            lines.append(f"        {item} \\")
    lines += ["        '1: :->command' \\", "        '*:: :->args'", "    case $state in", "        (command)", "            local -a commands", "            commands=("]
    lines += [f"                '{c.name}:{_zsh_escape(c.help)}'" for c in spec.commands]
    lines += ["            )", "            _describe -t commands 'command' commands ;;", "        (args)", "            case $words[1] in"]
    for command in spec.commands:
        lines.append(f"                ({command.name})")
        lines.append("                    _arguments \\")
        for option in command.options:
            for item in _zsh_option(option):
                lines.append(f"                        {item} \\")
        if command.stack:
            lines.append(f"                        '*:layer:_{p}_layer {' '.join(k.value for k in command.kinds)}' ;;")
        elif command.arguments:
            lines.append(f"                        '1:{command.argument_name}:({' '.join(command.arguments)})' ;;")
        elif command.argument_files:
            lines.append(f"                        '1:{command.argument_name}:_files' ;;")
        else:
            lines[-1] = lines[-1].rstrip(" \\") + " ;;"
    lines += ["            esac ;;", "    esac", "}", "", f'_{p} "$@"', ""]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------
# fish


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def fish_script(spec: Spec) -> str:
    p = spec.program
    value_names = sorted({n for c in spec.commands for o in c.options if o.takes_value for n in o.names})
    lines = [HEADER.format(comment="#", shell="fish", program=p).rstrip("\n")]
    lines += [
        f"# Install: copy it to ~/.config/fish/completions/{p}.fish",
        "",
        f"function __{p}_kind --description 'the kind of the layer being written'",
        "    set -l kind ''",
        "    set -l skip 0",
        "    for word in (commandline -opc)[3..-1]",
        "        if test $skip -eq 1",
        "            set skip 0",
        "            continue",
        "        end",
        "        switch $word",
        f"            case {' '.join(value_names)}",
        "                set skip 1",
        "                continue",
        "            case '-*'",
        "                continue",
        "        end",
        "        set -l part (string replace -r '[,;].*$' '' -- (string lower -- $word))",
        "        if string match -qr '^@.' -- $part; or test $part = from",
        "            set kind ''",
        "        end",
        "        switch $part",
    ]
    for kind, words in _kind_words().items():
        lines += [f"            case {' '.join(words)}", f"                set kind {kind.value}"]
    lines += [
        "        end",
        "        if string match -qr '[,;]$' -- $word",
        "            set kind ''",
        "        end",
        "    end",
        "    echo $kind",
        "end",
        "",
        f"function __{p}_names --description 'the names bound with @ on the line'",
        "    for word in (commandline -opc)",
        "        set -l part (string replace -r '[,;].*$' '' -- $word)",
        "        string match -qr '^@.' -- $part; and string sub -s 2 -- $part",
        "    end",
        "end",
        "",
        f"function __{p}_wants_name --description 'after from, like or a merge: a name may come'",
        "    set -l words (commandline -opc)",
        "    contains -- (string lower -- $words[-1]) from like; and return 0",
        f"    contains -- (__{p}_kind) add mul cat",
        "end",
        "",
        f"function __{p}_convention --description 'the convention on the line: torch or tf'",
        "    set -l words (commandline -opc)",
        "    set -l found (contains -i -- --convention $words)",
        "    set -l convention torch",
        "    if test -n \"$found\"; and test (count $words) -gt $found",
        "        set convention (string lower -- $words[(math $found + 1)])",
        "    end",
        "    test $convention = keras; and set convention tf",
        "    echo $convention",
        "end",
        "",
        f"complete -c {p} -f",
    ]
    for option in spec.options:
        lines.append(_fish_option(p, "__fish_use_subcommand", option))
    for command in spec.commands:
        lines.append(f"complete -c {p} -n __fish_use_subcommand -a {command.name} -d {_fish_quote(command.help)}")
    for command in spec.commands:
        condition = f"__fish_seen_subcommand_from {command.name}"
        for option in command.options:
            lines.append(_fish_option(p, condition, option))
        for argument in command.arguments:
            lines.append(f"complete -c {p} -n {_fish_quote(condition)} -a {argument}")
        if command.argument_files:
            lines.append(f"complete -c {p} -n {_fish_quote(condition)} -F")
    stacks = " ".join(c.name for c in spec.commands if c.stack)
    if stacks:
        condition = f"__fish_seen_subcommand_from {stacks}"
        for kind in Kind:
            torch, tf = kind_tokens(kind, "torch"), kind_tokens(kind, "tf")
            for word, meaning in tf:
                test = f"{condition}; and test (__{p}_kind) = {kind.value}"
                if (word, meaning) not in torch:
                    test += f"; and test (__{p}_convention) = tf"
                lines.append(f"complete -c {p} -n {_fish_quote(test)} -a {word} -d {_fish_quote(meaning)}")
        merging = " ".join(c.name for c in spec.commands if c.stack and Kind.ADD in c.kinds)
        if merging:
            condition_names = f"__fish_seen_subcommand_from {merging}; and __{p}_wants_name"
            lines.append(f"complete -c {p} -n {_fish_quote(condition_names)} -a '(__{p}_names)' -d {_fish_quote(NAME_HELP)}")
            lines.append(f"complete -c {p} -n {_fish_quote('__fish_seen_subcommand_from ' + merging)} "
                         f"-a from -d {_fish_quote(FROM_WORD[1])}")
        help_of = dict(kinds())
        for taken in sorted({c.kinds for c in spec.commands if c.stack}, key=len, reverse=True):
            names = " ".join(c.name for c in spec.commands if c.kinds == taken)
            for kind in taken:
                lines.append(f"complete -c {p} -n {_fish_quote('__fish_seen_subcommand_from ' + names)} "
                             f"-a {kind.value} -d {_fish_quote(help_of[kind.value])}")
    return "\n".join(lines) + "\n"


def _fish_option(program: str, condition: str, option: OptionSpec) -> str:
    parts = [f"complete -c {program} -n {_fish_quote(condition)}"]
    for name in option.names:
        parts.append(f"-l {name[2:]}" if name.startswith("--") else f"-s {name[1:]}")
    if option.takes_value:
        parts.append("-r -F" if option.files else "-x")
        if option.choices:  # each value with its own description, not the option's
            described = " ".join(f'{c}\\t"{CHOICE_HELP[c]}"' if c in CHOICE_HELP else c for c in option.choices)
            parts.append(f"-a {_fish_quote(described)}")
    parts.append(f"-d {_fish_quote(option.help)}")
    return " ".join(parts)


SHELLS = {"bash": bash_script, "zsh": zsh_script, "fish": fish_script}
FILES = {"bash": "convshape.bash", "zsh": "_convshape", "fish": "convshape.fish"}
