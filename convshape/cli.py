"""The command line: options, reading stacks from files or stdin, renderers, exit statuses.

A thin layer over ``convshape.calc``. Rich is imported only when a table is drawn, so
``--format json`` and ``-q`` start as fast as Typer allows.
"""

from __future__ import annotations

import gc
import os
import sys
from enum import Enum
from typing import List, Optional

import typer

from . import __version__
from .layers import Convention

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
EXIT_INTERNAL = 70  # EX_SOFTWARE: a bug in convshape, never a user's doing

CALC_EPILOG = """\
Examples:

  convshape calc -i 224 -c 3 conv k7 s2 p3 c64 maxpool k3 s2 p1

  convshape calc -i 7 conv k3 s2 --explain

  convshape calc -i 224 -c 3 -f vgg16.stack --format json

  echo 'conv k3 p1 c64 x2, maxpool k2' | convshape calc -i 32 -c 3 -f - -q

Exit status: 0 every layer can run; 1 a layer is invalid (or, with --strict,
a warning that --allow does not exempt); 2 usage or parse error.
"""


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    tsv = "tsv"


ROOT_EPILOG = """\
Examples:

  convshape calc -i 224 -c 3 conv k7 s2 p3 c64 maxpool k3 s2 p1

  convshape calc --help

Exit status: 0 success; 1 an invalid stack (or a warning, with --strict); 2 usage or parse error.
"""

app = typer.Typer(
    name="convshape",
    help="Exact output sizes, channels and receptive fields of CNN layer stacks.",
    epilog=ROOT_EPILOG,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"convshape {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Optional[bool] = typer.Option(
        None, "--version", help="Print the version and exit.", callback=_print_version, is_eager=True
    ),
) -> None:
    """Exact output sizes, channels and receptive fields of CNN layer stacks."""


def _fail(message: str, status: int = EXIT_USAGE) -> None:
    sys.stderr.write(f"convshape: {message}\n")
    raise typer.Exit(status)


def _read_stack(stack: List[str], file: Optional[str]) -> tuple[str, str]:
    """The stack text and the name to cite in errors."""
    if file is not None and stack:
        _fail("give the stack as arguments or with --file, not both")
    if file is None:
        if not stack:
            _fail("no stack given: add layers such as 'conv k3 s2', or read them with --file PATH")
        from .grammar import ARGS_SOURCE

        return " ".join(stack), ARGS_SOURCE
    if file == "-":
        data, name = sys.stdin.buffer.read(), "<stdin>"
    else:
        try:
            with open(file, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            _fail(f"cannot read {file}: {exc.strerror or exc}")
        name = file
    try:
        return data.decode("utf-8-sig"), name
    except UnicodeDecodeError as exc:
        _fail(f"{name} is not UTF-8 text (byte {exc.start})")
    raise AssertionError("unreachable")


def _check_allowed(codes: List[str]) -> set:
    from .diagnostics import WARNINGS
    from .grammar import nearest

    names = sorted(code.value for code in WARNINGS)
    for code in codes:
        if code not in names:
            hint = nearest(code, names)
            suggestion = f" (did you mean '{hint}'?)" if hint else f"; warning codes: {', '.join(names)}"
            _fail(f"--allow: '{code}' is not a warning code{suggestion}")
    return set(codes)


def _complete_stack(ctx: typer.Context, incomplete: str):
    """Typer's own (dynamic) completion of layer words: the same answers as the static scripts."""
    from .completion import layer_candidates

    return layer_candidates(list(ctx.params.get("stack") or []), incomplete)


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


@app.command(epilog=CALC_EPILOG)
def calc(
    stack: Optional[List[str]] = typer.Argument(
        None,
        help="The layers, e.g. conv k7 s2 p3 c64 maxpool k3 s2 p1 (commas optional).",
        show_default=False,
        autocompletion=_complete_stack,
    ),
    input: Optional[str] = typer.Option(
        None, "--input", "-i", help="Spatial input size: 224, 224x224, 16x112x112.", show_default=False
    ),
    channels: Optional[int] = typer.Option(None, "--channels", "-c", help="Input channels (unknown if absent).", min=1),
    file: Optional[str] = typer.Option(
        None, "--file", "-f", help="Read the stack from a file ('-' for stdin); # starts a comment.", show_default=False
    ),
    dims: Optional[int] = typer.Option(None, "--dims", help="Number of spatial axes where nothing else says.", min=1, max=3),
    convention: Convention = typer.Option(Convention.TORCH, "--convention", help="Framework semantics."),
    output_format: Format = typer.Option(Format.table, "--format", help="Output format."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the final shape (512x7x7, or 25088 when flat)."),
    explain: bool = typer.Option(False, "--explain", help="Show each layer's formula with its numbers."),
    strict: bool = typer.Option(False, "--strict", help="Warnings make the exit status 1 too."),
    allow: Optional[List[str]] = typer.Option(
        None, "--allow", help="With --strict, a warning code to accept (repeatable).", show_default=False
    ),
    no_color: bool = typer.Option(False, "--no-color", help="No colours or styles in the table."),
) -> None:
    """Compute each layer's output size, channels and receptive field."""
    # One short run that makes no reference cycles: the cyclic collector would only
    # re-scan every row again and again as a long stack grows.
    gc.disable()
    from .calc import run
    from .grammar import ParseError, parse_size, parse_stack

    allowed = _check_allowed(allow or [])
    if input is None:
        _fail("missing --input/-i: give the spatial input size, such as -i 224 or -i 224x224")
    text, source = _read_stack(stack or [], file)
    try:
        size = parse_size(input)
        parsed = parse_stack(text, source, input_dims=len(size), dims=dims)
    except ParseError as exc:
        _fail(exc.render())
    result = run(parsed, size, channels, convention)

    failing_warnings = [
        warning for row in result.rows for warning in row.warnings if warning.code.value not in allowed
    ] if strict else []
    status = EXIT_OK if result.valid and not failing_warnings else EXIT_INVALID

    if quiet:
        _render_quiet(result, failing_warnings)
    elif output_format is Format.json:
        from .render.json import chunks

        sys.stdout.writelines(chunks(result))
        sys.stdout.flush()
    elif output_format in (Format.csv, Format.tsv):
        from .render.csv import render

        _write(render(result, "," if output_format is Format.csv else "\t"))
    else:
        _render_table(result, explain, no_color)
    raise typer.Exit(status)


SCHEMA_EPILOG = """\
Examples:

  convshape schema > convshape.schema.json

  convshape calc -i 224 conv k3 --format json | check-jsonschema --schemafile convshape.schema.json -
"""


@app.command(epilog=SCHEMA_EPILOG)
def schema() -> None:
    """Print the JSON Schema that `calc --format json` output follows."""
    from importlib.resources import files

    _write(files("convshape").joinpath("schema.json").read_text(encoding="utf-8"))


class Shell(str, Enum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


COMPLETIONS_EPILOG = """\
Examples:

  convshape completions bash > ~/.local/share/bash-completion/completions/convshape

  convshape completions zsh > ~/.zfunc/_convshape

  convshape completions fish > ~/.config/fish/completions/convshape.fish

The same scripts ship in the repository's completions/ folder.
"""


@app.command(epilog=COMPLETIONS_EPILOG)
def completions(shell: Shell = typer.Argument(..., help="bash, zsh or fish.")) -> None:
    """Print a static completion script for a shell."""
    _write(completion_script(shell.value))


def completion_script(shell: str) -> str:
    """The completion script for ``shell``, generated from this CLI's commands and options."""
    from .completion import SHELLS, spec_from_click
    from .diagnostics import WARNINGS

    group = typer.main.get_command(app)
    group.name = "convshape"
    spec = spec_from_click(group, {"--allow": tuple(sorted(code.value for code in WARNINGS))})
    return SHELLS[shell](spec)


def _render_quiet(result, failing_warnings) -> None:
    from .render.common import quiet_shape

    if not result.valid:
        row = result.error_row
        sys.stderr.write(f"convshape: layer {row.index} ({row.layer.text}): {row.error.message}\n")
        return
    for warning in failing_warnings:
        sys.stderr.write(f"convshape: warning {warning.code.value}: {warning.message}\n")
    _write(quiet_shape(result.output) + "\n")


def _render_table(result, explain: bool, no_color: bool) -> None:
    from rich.console import Console

    from .render.table import render

    # NO_COLOR (https://no-color.org) and --no-color mean no escape codes at all, styles included.
    plain = no_color or bool(os.environ.get("NO_COLOR"))
    console = Console(color_system=None if plain else "auto", no_color=plain or None, highlight=False)
    render(result, console, explain)


def main() -> None:
    """The console script: Typer's app, with no traceback ever reaching the user."""
    try:
        app(prog_name="convshape")
    except BrokenPipeError:
        # The reader went away (`| head -1`): stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(128 + 13)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # a bug: say so plainly, without a traceback
        sys.stderr.write(f"convshape: internal error, please report it: {type(exc).__name__}: {exc}\n")
        sys.exit(EXIT_INTERNAL)
