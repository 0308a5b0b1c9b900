"""The inverse questions: `convshape fit` (which input sizes work) and `convshape solve`
(which layer parameters give an output size)."""

import sys
from enum import Enum
from typing import List, Optional

import typer

from .common import CHANNELS_OPTION, CONVENTION_OPTION, ConventionName, DIMS_OPTION, EXIT_INVALID, EXIT_OK, FILE_OPTION, NO_COLOR_OPTION, _check_digits, _check_quiet, _complete_stack, _console, _convention, _fail, _imported_dims, _imported_input, _parse_stack, _read_stack, _stdout_is_terminal, _write


class AnswerFormat(str, Enum):
    table = "table"
    json = "json"


FIT_EPILOG = """\
Examples:

  convshape fit -f examples/unet-encoder.stack --near 572

  convshape fit conv k3 s2 x5 --range 1:100 -q

  convshape fit conv k7 s2 p3 maxpool k3 s2 p1 --explain

A size is clean when every layer is valid, no floor rounding drops input pixels, and
every merge fits without crop or pad; with --aligned, when their receptive fields line up too.
Exit status: 0 clean sizes exist; 1 none do (or no size is valid); 2 usage or parse error.
"""


def fit(
    stack: Optional[List[str]] = typer.Argument(None, metavar="LAYERS...", help="The layers, as for calc.",
                                                show_default=False, autocompletion=_complete_stack),
    file: Optional[List[str]] = FILE_OPTION,
    near: Optional[int] = typer.Option(None, "--near", metavar="N", help="The clean sizes at or just below and above N.",
                                       min=1),
    size_range: Optional[str] = typer.Option(None, "--range", metavar="A:B", show_default=False,
                                             help="Every clean size from A to B (streamed with -q)."),
    channels: Optional[int] = CHANNELS_OPTION,
    dims: Optional[int] = DIMS_OPTION,
    convention: Optional[ConventionName] = CONVENTION_OPTION,
    output_format: AnswerFormat = typer.Option(AnswerFormat.table, "--format", case_sensitive=False,
                                               help="Output format."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only the answer: the smallest clean size, or the sizes."),
    explain: bool = typer.Option(False, "--explain", help="Show the rule each layer imposes, from the last back."),
    aligned: bool = typer.Option(False, "--aligned",
                                 help="Clean sizes where every merge's receptive fields line up too."),
    no_color: bool = NO_COLOR_OPTION,
) -> None:
    """Which input sizes the stack handles cleanly: a rule found in closed form."""
    from ..fit import analyse
    from ..render import answers

    _check_quiet(quiet, output_format, explain)
    _check_digits("--channels", channels, "count", "values")
    _check_digits("--near", near, "size", "sizes")
    span = _parse_range(size_range) if size_range is not None else None
    pieces = _read_stack(stack or [], file)
    _, channels = _imported_input(None, channels)
    convention = _convention(convention)
    parsed = _parse_stack(pieces, None, _imported_dims(dims))
    result = analyse(parsed, convention, channels)
    if aligned:
        from ..fit import aligned as aligned_only

        result = aligned_only(result, parsed, convention, channels)
    clean = result.valid and all(rule.residues or rule.small for rule in result.rules)
    status = EXIT_OK if clean else EXIT_INVALID
    if quiet:
        if not result.valid:
            index, diagnostic = result.error
            from ..render.answers import error_label

            sys.stderr.write(f"convshape: {error_label(diagnostic, 'no input size works')}: layer {index}: {diagnostic.message}\n")
        elif span is not None:
            _stream_sizes(result, span)
        else:
            _write(answers.fit_quiet(result, near) + "\n")
    elif output_format is AnswerFormat.json:
        _write(answers.dumps(answers.fit_dict(result, near, span)))
    else:
        answers.fit_table(_console(no_color), result, near, span, explain, piped=not _stdout_is_terminal())
    raise typer.Exit(status)


def _parse_range(text: str) -> tuple[int, int]:
    start, colon, stop = text.partition(":")
    if not colon or not start.strip().isdigit() or not stop.strip().isdigit():
        _fail(f"--range: '{text}' is not a range: give A:B, such as 1:1000")
    from ..grammar import MAX_DIGITS

    if max(len(start.strip()), len(stop.strip())) > MAX_DIGITS:
        _fail(f"--range: sizes have at most {MAX_DIGITS} digits")
    low, high = int(start), int(stop)
    if low > high:
        _fail(f"--range: {low} is after {high}")
    return low, high


def _stream_sizes(result, span) -> None:
    rules = result.rules
    same = len({(r.modulus, r.residues, r.minimum_valid) for r in rules}) == 1
    out = sys.stdout
    if same:
        for size in rules[0].clean_sizes(*span):
            out.write(f"{size}\n")
    else:
        for rule in rules:
            for size in rule.clean_sizes(*span):
                out.write(f"{rule.axis}\t{size}\n")
    out.flush()


SOLVE_EPILOG = """\
Examples:

  convshape solve -i 224 -o 112 conv k3

  convshape solve -i 56 -o 112 convt

  convshape solve -i 7x9 -o 4x5 maxpool -q

Searches kernels up to 11, strides up to 8, dilations up to 4 and paddings up to the
kernel; clean solutions first, then the usual ones (symmetric padding, odd kernel,
dilation 1). Exit status: 0 solved; 1 no configuration fits; 2 usage or parse error.
"""


def solve(
    words: Optional[List[str]] = typer.Argument(
        None, metavar="[KIND] [TOKENS]...", show_default=False, autocompletion=_complete_stack,
        help="The kind (conv by default) and any tokens to hold fixed, such as: conv k3.",
    ),
    input: str = typer.Option(..., "--input", "-i", metavar="SIZE", help="Input size: 224, 224x224.",
                              show_default=False),
    output: str = typer.Option(..., "--output", "-o", metavar="SIZE", help="Wanted output size: 112, 112x112.",
                               show_default=False),
    convention: Optional[ConventionName] = CONVENTION_OPTION,
    output_format: AnswerFormat = typer.Option(AnswerFormat.table, "--format", case_sensitive=False,
                                               help="Output format."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only the first solution's tokens."),
    explain: bool = typer.Option(False, "--explain", help="Show each solution's formula with its numbers."),
    limit: int = typer.Option(10, "--limit", metavar="N", help="How many solutions the table shows (per axis).", min=1),
    no_color: bool = NO_COLOR_OPTION,
) -> None:
    """Which configurations of a layer take the input size to the output size."""
    from ..grammar import ParseError, parse_kind, parse_layer_tokens, parse_size
    from ..layers import axis_names
    from ..render import answers
    from ..solve import KINDS, fixed_from_layer, solve_axis

    convention = (convention or ConventionName.torch).convention
    _check_quiet(quiet, output_format, explain)
    words = list(words or [])
    if not words or parse_kind(words[0].rstrip(",;")) is None:
        words.insert(0, "conv")
    try:
        in_size, out_size = parse_size(input), parse_size(output, "--output")
        kind, values = parse_layer_tokens(" ".join(words))
    except ParseError as exc:
        _fail(exc.render())
    if kind not in KINDS:
        _fail(f"solve takes conv, convt, maxpool or avgpool, not {kind.value}")
    refused = _refused_fixed(values)
    if refused is not None:
        _fail(f"{' '.join(words)}: {refused.message}", EXIT_INVALID)
    lengths = {len(in_size), len(out_size)} | {len(v) for v in values.values() if isinstance(v, list)}
    lengths.discard(1)
    if len(lengths) > 1:
        _fail(f"the sizes and tokens disagree on the number of axes ({', '.join(map(str, sorted(lengths)))})")
    dims = lengths.pop() if lengths else 1
    names = axis_names(dims) if dims > 1 else ("L",)
    extra = " ".join(f"{p}{values[p]}" for p in ("c", "g") if p in values)
    cache, results = {}, []
    for axis in range(dims):
        pick = lambda size: size[axis] if len(size) > 1 else size[0]
        fixed = fixed_from_layer(values, axis)
        key = (pick(in_size), pick(out_size), fixed)
        if key not in cache:
            cache[key] = solve_axis(kind, key[0], key[1], fixed, convention, names[axis])
        results.append(cache[key]._replace(axis=names[axis]))
    unique = {(a.in_size, a.out_size, tuple(s.tokens(kind) for s in a.solutions)) for a in results}
    answers_shown = results if len(unique) > 1 else results[:1]
    solved = all(a.solutions for a in results)
    if quiet:
        if solved:
            _write(answers.combined_tokens(kind, results, extra) + "\n")
        else:
            for a in results:
                if not a.solutions:
                    reach = " and ".join(str(v) for v in a.nearest if v is not None) or "nothing"
                    sys.stderr.write(f"convshape: no {kind.value} takes {a.in_size} to {a.out_size} on {a.axis}; "
                                     f"nearest reachable outputs: {reach}\n")
    elif output_format is AnswerFormat.json:
        _write(answers.dumps(answers.solve_dict(kind, results, convention.value)))
    else:
        answers.solve_table(_console(no_color), kind, answers_shown, limit, explain)
    raise typer.Exit(EXIT_OK if solved else EXIT_INVALID)


def _refused_fixed(values: dict):
    """The first fixed token of solve's that no framework takes (k0, s-1, p-1), as a diagnostic."""
    from ..diagnostics import Code, Diagnostic

    checks = [("k", 1, Code.KERNEL_BELOW_1), ("s", 1, Code.STRIDE_BELOW_1), ("d", 1, Code.DILATION_BELOW_1),
              ("op", 0, Code.NEGATIVE_OUTPUT_PADDING)]
    for prefix, least, code in checks:
        for value in values.get(prefix) or ():
            if value < least:
                return Diagnostic(code, (), {"value": value})
    padding = values.get("p")
    if isinstance(padding, list):
        for pair in padding:
            if min(pair) < 0:
                return Diagnostic(Code.NEGATIVE_PADDING, (), {"value": min(pair)})
    for prefix, code in (("c", Code.CHANNELS_BELOW_1), ("g", Code.GROUPS_BELOW_1)):
        if prefix in values and values[prefix] < 1:
            return Diagnostic(code, (), {"value": values[prefix]})
    return None
