"""`convshape calc`: a stack over an input size, or as formulas without one."""

import sys
from typing import List, Optional

import typer

from .common import CHANNELS_OPTION, COLUMN_WORDS, CONVENTION_OPTION, ConventionName, DIMS_OPTION, DtypeName, EXIT_INVALID, EXIT_OK, FILE_OPTION, Format, MacsProfile, NO_COLOR_OPTION, _check_allowed, _check_columns, _check_digits, _check_quiet, _complete_stack, _console, _convention, _fail, _imported_dims, _imported_input, _parse_stack, _read_stack, _render_quiet, _render_table, _sized_run, _write


CALC_EPILOG = """\
Examples:

  convshape calc -i 224 -c 3 conv k7 s2 p3 c64 maxpool k3 s2 p1

  convshape calc -i 7 conv k3 s2 --explain

  convshape calc -i 224 -c 3 -f examples/vgg16.stack --format json

  convshape calc -i 224 -c 3 -f resnet50.stack --batch 64 --dtype bfloat16   (params, MACs, memory)

  echo 'conv k3 p1 c64 x2, maxpool k2' | convshape calc -i 32 -c 3 -f - -q

  convshape calc conv k3 s2 p1 x5       (no -i: each output as a formula of the input)

Exit status: 0 every layer can run; 1 a layer is invalid (or, with --strict,
a warning that --allow does not exempt); 2 usage or parse error.
"""


def calc(
    stack: Optional[List[str]] = typer.Argument(
        None,
        metavar="LAYERS...",
        help="The layers, e.g. conv k7 s2 p3 c64 maxpool k3 s2 p1 (commas optional).",
        show_default=False,
        autocompletion=_complete_stack,
    ),
    input: Optional[str] = typer.Option(
        None, "--input", "-i", metavar="SIZE", show_default=False,
        help="Spatial input size: 224, 224x224, 16x112x112 (without it: formulas).",
    ),
    channels: Optional[int] = CHANNELS_OPTION,
    file: Optional[List[str]] = FILE_OPTION,
    dims: Optional[int] = DIMS_OPTION,
    convention: Optional[ConventionName] = CONVENTION_OPTION,
    output_format: Format = typer.Option(Format.table, "--format", case_sensitive=False, help="Output format."),
    quiet: bool = typer.Option(False, "--quiet", "-q",
                               help="Print only the final shape (512x7x7, or 25088 when flat); not with --format or --explain."),
    explain: bool = typer.Option(False, "--explain", help="Show each layer's formula with its numbers."),
    strict: bool = typer.Option(False, "--strict", help="Warnings make the exit status 1 too."),
    allow: Optional[List[str]] = typer.Option(
        None, "--allow", metavar="CODE", show_default=False,
        help="A warning code to accept (repeatable); implies --strict for every other warning.",
    ),
    no_color: bool = NO_COLOR_OPTION,
    macs: MacsProfile = typer.Option(MacsProfile.torch, "--macs", case_sensitive=False,
                                     help="Count MACs as torch's FlopCounterMode does (halved), or as torchinfo."),
    flops: bool = typer.Option(False, "--flops", help="Show FLOPs, 2 × MACs."),
    batch: int = typer.Option(1, "--batch", metavar="N", min=1, help="Batch size for MACs and memory."),
    dtype: DtypeName = typer.Option(DtypeName.float32, "--dtype", case_sensitive=False, help="Element type for memory."),
    columns: Optional[str] = typer.Option(
        None, "--columns", metavar="A,B", show_default=False,
        help=f"The table's columns, in its order: {', '.join(COLUMN_WORDS)} (default: all but memory).",
    ),
    compact: bool = typer.Option(False, "--compact", help="Hide rows that keep the shape (norms, activations, dropout)."),
) -> None:
    """Compute each layer's output size, channels, receptive field, parameters and MACs."""
    from ..api import with_fit_hint

    _check_quiet(quiet, output_format, explain)
    _check_digits("--channels", channels, "count", "values")
    _check_digits("--batch", batch, "size", "values")
    shown = _check_columns(columns)
    allowed = _check_allowed(allow or [])
    strict = strict or bool(allowed)  # --allow names the exceptions to --strict, which it implies
    pieces = _read_stack(stack or [], file)
    input, channels = _imported_input(input, channels)
    convention, dims = _convention(convention), _imported_dims(dims)
    if (columns is not None or compact) and (output_format is not Format.table or quiet or input is None):
        what = "--columns" if columns is not None else "--compact"
        _fail(f"{what} is for the table with an input size (calc -i SIZE, without -q or --format)")
    if input is None:
        # No input size: every layer's output as a formula of it.
        if output_format in (Format.csv, Format.tsv):
            _fail(f"--format {output_format.value} needs an input size (-i); without one, use table or json")
        counting = [option for option, given in (("--macs torchinfo", macs is MacsProfile.torchinfo),
                                                 ("--flops", flops), ("--batch", batch != 1),
                                                 ("--dtype", dtype is not DtypeName.float32)) if given]
        if counting:
            _fail(f"{counting[0]} needs an input size (-i): without one, MACs are formulas for one image, "
                  "as torch counts them")
        parsed = _parse_stack(pieces, None, dims)
        _symbolic(parsed, convention, channels, output_format, quiet, explain, no_color)
        return
    parsed, result = _sized_run(pieces, input, channels, dims, convention)
    result = with_fit_hint(result, parsed)

    failing_warnings = [
        warning for row in result.rows for warning in row.warnings if warning.code.value not in allowed
    ] if strict else []
    status = EXIT_OK if result.valid and not failing_warnings else EXIT_INVALID

    if quiet:
        _render_quiet(result, failing_warnings)
    else:
        from ..counts import Profile, count

        # A table shows the counts only when the input channels are known.
        counted = output_format is not Format.table or channels is not None
        costs = count(result, Profile(macs.value), batch, dtype.value, flops) if counted else None
        if output_format is Format.json:
            from ..render.json import chunks

            sys.stdout.writelines(chunks(result, costs))
            sys.stdout.flush()
        elif output_format in (Format.csv, Format.tsv):
            from ..render.csv import render

            _write(render(result, "," if output_format is Format.csv else "\t", costs))
        else:
            _render_table(result, explain, no_color, costs, shown, compact)
    raise typer.Exit(status)


def _symbolic(parsed, convention, channels, output_format, quiet, explain, no_color) -> None:
    from ..render import answers
    from ..symbolic import symbolic_calc

    result = symbolic_calc(parsed, convention, channels)
    status = EXIT_OK if result.valid else EXIT_INVALID
    if quiet:
        for note in result.notes:
            sys.stderr.write(f"convshape: note: {note}\n")
        if result.valid:
            _write(answers.symbolic_quiet(result) + "\n")
        else:
            index, diagnostic = result.fit.error
            sys.stderr.write(f"convshape: layer {index}: {diagnostic.message}\n")
    elif output_format is Format.json:
        _write(answers.dumps(answers.symbolic_dict(result)))
    else:
        answers.symbolic_table(_console(no_color), result, explain)
    raise typer.Exit(status)
