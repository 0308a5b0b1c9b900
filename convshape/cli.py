"""The command line: options, reading stacks from files or stdin, renderers, exit statuses.

A thin layer over the core (calc, fit, solve, symbolic). Rich is imported only when a
table is drawn, so ``--format json`` and ``-q`` start as fast as Typer allows.
"""

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
EXIT_PIPE = 128 + 13  # the reader went away (SIGPIPE), as `yes | head -1` reports in a shell

CALC_EPILOG = """\
Examples:

  convshape calc -i 224 -c 3 conv k7 s2 p3 c64 maxpool k3 s2 p1

  convshape calc -i 7 conv k3 s2 --explain

  convshape calc -i 224 -c 3 -f vgg16.stack --format json

  convshape calc -i 224 -c 3 -f resnet50.stack --batch 64 --dtype bfloat16   (params, MACs, memory)

  echo 'conv k3 p1 c64 x2, maxpool k2' | convshape calc -i 32 -c 3 -f - -q

  convshape calc conv k3 s2 p1 x5       (no -i: each output as a formula of the input)

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

class _ReaderGone(Exception):
    """stdout's reader went away (``| head -1``). Not an OSError: Typer catches a broken
    pipe itself and exits with 1, which a script reads as "invalid stack"."""


class _GuardedStdout:
    """sys.stdout during a run, turning a broken pipe into ``_ReaderGone``."""

    CHUNK = 1 << 14

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            if len(text) <= self.CHUNK:
                return self._stream.write(text)
            # A write larger than the pipe that the reader stops in the middle of can end
            # as a short write that Python does not report: in pieces, the next one fails.
            for start in range(0, len(text), self.CHUNK):
                self._stream.write(text[start:start + self.CHUNK])
                self._stream.flush()
            return len(text)
        except BrokenPipeError:
            raise _ReaderGone from None

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise _ReaderGone from None

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


SHORT_HELP = """Usage: convshape COMMAND [OPTIONS] [LAYERS]...

Commands: calc, fit, solve, schema, completions.
  convshape calc -i 224 -c 3 conv k7 s2 p3 c64 maxpool k3 s2 p1
Try 'convshape -h' for help.
"""


class _Group(typer.core.TyperGroup):
    """The app's group: usage errors in convshape's own words, and exit statuses a script
    can trust (2 for usage, 141 when the reader stops early), in-process too."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        click_errors = _click_exceptions()
        if hasattr(sys, "set_int_max_str_digits"):
            sys.set_int_max_str_digits(0)  # exact answers may be long (fit: 3^10000 has 4,772 digits)
        real = sys.stdout
        sys.stdout = _GuardedStdout(real)
        try:
            status = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            sys.stdout.flush()
        except _ReaderGone:
            status = EXIT_PIPE
            _silence(real)
        except click_errors.UsageError as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # `convshape` alone
                sys.stderr.write(SHORT_HELP)
            else:
                sys.stderr.write(f"convshape: {usage_message(exc)}\n")
            status = EXIT_USAGE
        except click_errors.Abort:  # end of input at a prompt; convshape has none
            status = EXIT_INVALID
        finally:
            sys.stdout = real
        status = status or 0
        if standalone_mode:
            sys.exit(status)
        return status


def _click_exceptions():
    """Click's exception module, wherever this Typer keeps click (vendored since 0.24)."""
    import types

    import typer.core

    click = getattr(typer.core, "_click", None) or getattr(typer.core, "click")
    errors = click.exceptions
    abort = getattr(errors, "Abort", None) or typer.core.Abort
    return types.SimpleNamespace(UsageError=errors.UsageError, BadParameter=errors.BadParameter,
                                 MissingParameter=errors.MissingParameter, Abort=abort)


def _silence(stream) -> None:
    """Point stdout at /dev/null, so that Python's last flush at exit finds no broken pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (a test's capture)
        pass


def usage_message(exc) -> str:
    """A usage error as one line, naming the option and what it takes, then where to look.

    Click's "Invalid value for '--near': 'abc' is not a valid int range." reads as
    "--near: 'abc' is not a whole number (see 'convshape fit -h')".
    """
    import re

    click_errors = _click_exceptions()
    param = getattr(exc, "param", None)
    if isinstance(exc, click_errors.MissingParameter) and param is not None:
        text = f"{_param_name(param)} is required"
    elif isinstance(exc, click_errors.BadParameter) and param is not None:
        message = exc.message.rstrip(".")
        message = re.sub(r"^'(.*)' is not a valid (?:int|integer)(?: range)?$", r"'\1' is not a whole number", message)
        bounds = re.match(r"^(-?\d+) is not in the range (?:(-?\d+)<=)?x(?:<=(-?\d+)|>=(-?\d+))?$", message)
        if bounds:
            value, low, high, minimum = bounds.groups()
            message = f"{value} is below {minimum}" if minimum else f"{value} is not between {low} and {high}"
        message = re.sub(r"^'(.*)' is not one of (.*)$", lambda m: f"'{m[1]}' is not one of {m[2].replace(chr(39), '')}",
                         message)
        text = f"{_param_name(param)}: {message}"
    else:
        text = exc.format_message().rstrip(".")
        text = text[:1].lower() + text[1:]
    command = exc.ctx.command_path if exc.ctx is not None else "convshape"
    return f"{text} (see '{command} -h')"


def _param_name(param) -> str:
    if param.param_type_name == "argument":
        return (param.metavar or param.name).upper()
    return max(param.opts, key=len)


app = typer.Typer(
    name="convshape",
    cls=_Group,
    help="Exact output sizes, channels and receptive fields of CNN layer stacks.",
    epilog=ROOT_EPILOG,
    no_args_is_help=True,
    add_completion=False,  # `convshape completions SHELL --install` installs the static scripts
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
)


# Options that mean the same on every command, defined once.
FILE_OPTION = typer.Option(
    None, "--file", "-f", metavar="PATH", show_default=False,
    help="Read the stack from a file ('-' for stdin); # starts a comment. Repeat it to read several files, in order.",
)
CHANNELS_OPTION = typer.Option(None, "--channels", "-c", metavar="N", help="Input channels (unknown if absent).", min=1)
DIMS_OPTION = typer.Option(None, "--dims", metavar="N", help="Number of spatial axes where nothing else says.", min=1,
                           max=3)


class ConventionName(str, Enum):
    """--convention's words: keras is another name for tf."""

    torch = "torch"
    tf = "tf"
    keras = "keras"
    onnx = "onnx"

    @property
    def convention(self) -> Convention:
        return Convention.TF if self is ConventionName.keras else Convention(self.value)


CONVENTION_OPTION = typer.Option(None, "--convention", case_sensitive=False, show_default=False,
                                 help="Framework semantics (keras is the same as tf); default torch, or the"
                                      " imported model's.")
NO_COLOR_OPTION = typer.Option(False, "--no-color", help="No colours or styles in the table.")


class MacsProfile(str, Enum):
    """--macs: whose count of multiply-accumulates (see counts.Profile)."""

    torch = "torch"
    torchinfo = "torchinfo"


class DtypeName(str, Enum):
    float32 = "float32"
    float16 = "float16"
    bfloat16 = "bfloat16"
    int8 = "int8"


COLUMN_WORDS = ("index", "layer", "in", "out", "rf", "jump", "start", "params", "macs", "memory", "diagnostics")



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


_IMPORTED: list = []  # the model files the last _read_stack imported: (piece position, Imported)


def _read_stack(stack: List[str], files: Optional[List[str]]) -> list[tuple[str, str]]:
    """The stack's pieces, each with the name to cite in errors: each file's layers in
    order, then any given as arguments (``-f vgg16.stack flatten linear c10``). A model
    file (print(model), Keras JSON, ONNX) stands for the stack it imports to."""
    from .grammar import ARGS_SOURCE

    _IMPORTED.clear()
    files = files or []
    if files.count("-") > 1:
        _fail("--file: '-' (stdin) can be read only once")
    pieces = []
    for file in files:
        data, name = _read_bytes(file)
        imported = _import(data, name)
        if imported is not None:
            _IMPORTED.append((len(pieces), imported))
            pieces.append((imported.stack, name))
        else:
            pieces.append((_text(data, name), name))
    if stack:
        pieces.append((" ".join(stack), ARGS_SOURCE))
    if not pieces:
        _fail("no stack given: add layers such as 'conv k3 s2', or read them with --file PATH")
    return pieces


def _read_bytes(file: str) -> tuple[bytes, str]:
    if not file:
        _fail("--file: the path is empty")
    if file == "-":
        return sys.stdin.buffer.read(), "<stdin>"
    try:
        with open(file, "rb") as handle:
            return handle.read(), file
    except OSError as exc:
        _fail(f"cannot read {file}: {exc.strerror or exc}")
    raise AssertionError("unreachable")


def _text(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        _fail(f"{name} is not UTF-8 text (byte {exc.start})")
    raise AssertionError("unreachable")


def _import(data: bytes, name: str):
    """The import of a model file, its warnings and notes written to stderr; None for stack text."""
    from .importers import ImportFailure, read

    try:
        imported = read(data, name)
    except ImportFailure as exc:
        _fail(f"{name}: {exc}", EXIT_INVALID)
    if imported is not None:
        for warning in imported.warnings:
            sys.stderr.write(f"convshape: warning: {name}: {warning}\n")
        for note in imported.notes:
            sys.stderr.write(f"convshape: note: {name}: {note}\n")
    return imported


def _imported_input(input: Optional[str], channels: Optional[int]) -> tuple[Optional[str], Optional[int]]:
    """The input size and channels a model file fixes, where the options do not give them."""
    for _, imported in _IMPORTED:
        if input is None and imported.input_size is not None:
            input = "x".join(map(str, imported.input_size))
        if channels is None and imported.input_channels is not None:
            channels = imported.input_channels
    return input, channels


def _imported_dims(dims: Optional[int]) -> Optional[int]:
    return next((imported.dims for _, imported in _IMPORTED if imported.dims), dims) if dims is None else dims


def _convention(convention: Optional["ConventionName"]) -> Convention:
    """--convention, or the semantics of the model file read (Keras: tf), or torch."""
    if convention is not None:
        return convention.convention
    found = next((imported.convention for _, imported in _IMPORTED if imported.convention), None)
    return Convention(found) if found else Convention.TORCH


def _check_declared(result) -> None:
    """Where the model gives a layer other channels than the stack as read does, say so: the
    forward wires the modules otherwise than the order they were printed in."""
    for position, imported in _IMPORTED:
        if position != 0:
            continue
        for row, channels, module in imported.declared:
            if row > len(result.rows):
                continue
            got = result.rows[row - 1]
            if got.computed and got.in_channels is not None and got.in_channels != channels:
                sys.stderr.write(f"convshape: warning: layer {row} ({module}) takes {channels} channels in the model, "
                                 f"but {got.in_channels} as read: its forward wires the modules otherwise, so the "
                                 "rows from here on are not the model's\n")
                return


def _check_quiet(quiet: bool, output_format, explain: bool) -> None:
    """-q prints the answer alone: asking for another format or explanations too is a contradiction."""
    if not quiet:
        return
    if output_format.value != "table":
        _fail(f"-q prints the answer alone and cannot be combined with --format {output_format.value}: give one")
    if explain:
        _fail("-q prints the answer alone and cannot be combined with --explain: give one")


def _check_digits(option: str, value: Optional[int], what: str, which: str) -> None:
    """A whole-number option has at most 18 digits, as every value in a stack does."""
    from .grammar import MAX_DIGITS

    if value is not None and value >= 10**MAX_DIGITS:
        _fail(f"{option}: a {what} of {len(str(value)):,} digits; {which} have at most {MAX_DIGITS}")


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
    from .calc import run
    from .fit import with_fit_hint
    from .grammar import ParseError, parse_size

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
    try:
        size = parse_size(input)
    except ParseError as exc:
        _fail(exc.render())
    parsed = _parse_stack(pieces, len(size), dims)
    result = with_fit_hint(run(parsed, size, channels, convention), parsed)
    _check_declared(result)

    failing_warnings = [
        warning for row in result.rows for warning in row.warnings if warning.code.value not in allowed
    ] if strict else []
    status = EXIT_OK if result.valid and not failing_warnings else EXIT_INVALID

    if quiet:
        _render_quiet(result, failing_warnings)
    else:
        from .counts import Profile, count

        # A table shows the counts only when the input channels are known.
        counted = output_format is not Format.table or channels is not None
        costs = count(result, Profile(macs.value), batch, dtype.value, flops) if counted else None
        if output_format is Format.json:
            from .render.json import chunks

            sys.stdout.writelines(chunks(result, costs))
            sys.stdout.flush()
        elif output_format in (Format.csv, Format.tsv):
            from .render.csv import render

            _write(render(result, "," if output_format is Format.csv else "\t", costs))
        else:
            _render_table(result, explain, no_color, costs, shown, compact)
    raise typer.Exit(status)


def _check_columns(columns: Optional[str]) -> Optional[list[str]]:
    """--columns' names, in the table's order (``#`` and ``index`` are the same column)."""
    if columns is None:
        return None
    names = [name.strip().lower() for name in columns.split(",") if name.strip()]
    names = ["index" if name == "#" else name for name in names]
    unknown = [name for name in names if name not in COLUMN_WORDS]
    if unknown or not names:
        what = f"no column {unknown[0]!r}" if unknown else "no column named"
        _fail(f"--columns: {what}; choose from {', '.join(COLUMN_WORDS)} (see 'convshape calc -h')")
    return ["#" if name == "index" else name for name in COLUMN_WORDS if name in names]


def _parse_stack(pieces: list[tuple[str, str]], input_dims: Optional[int], dims: Optional[int]):
    """One stack from its pieces (files, then the command line); names carry across them."""
    from .grammar import ParseError, parse_pieces

    try:
        return parse_pieces(pieces, input_dims=input_dims, dims=dims)
    except ParseError as exc:
        _fail(exc.render())


def _stdout_is_terminal() -> bool:
    """Whether stdout really is a terminal (FORCE_COLOR makes Rich say so of a pipe too)."""
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def _console(no_color: bool):
    """A Rich console for tables. NO_COLOR (https://no-color.org) and --no-color mean no
    escape codes at all, styles included."""
    from rich.console import Console

    plain = no_color or bool(os.environ.get("NO_COLOR"))
    console = Console(color_system=None if plain else "auto", no_color=plain or None, highlight=False)
    terminal = _stdout_is_terminal()
    if not terminal:
        console.width = 100_000  # piped, coloured (FORCE_COLOR) or not: nothing wraps or is cut
    elif not os.environ.get("COLUMNS", "").isdigit():
        try:  # the real width, also where Rich assumes 80 (TERM=dumb)
            console.width = os.get_terminal_size(sys.stdout.fileno()).columns
        except (OSError, ValueError, AttributeError):
            pass
    return console


def _symbolic(parsed, convention, channels, output_format, quiet, explain, no_color) -> None:
    from .render import answers
    from .symbolic import symbolic_calc

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


@app.command(epilog=FIT_EPILOG)
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
    from .fit import analyse
    from .render import answers

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
        from .fit import aligned as aligned_only

        result = aligned_only(result, parsed, convention, channels)
    clean = result.valid and all(rule.residues for rule in result.rules)
    status = EXIT_OK if clean else EXIT_INVALID
    if quiet:
        if not result.valid:
            index, diagnostic = result.error
            sys.stderr.write(f"convshape: no input size works: layer {index}: {diagnostic.message}\n")
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
    from .grammar import MAX_DIGITS

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


@app.command(epilog=SOLVE_EPILOG)
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
    from .grammar import ParseError, parse_kind, parse_layer_tokens, parse_size
    from .layers import axis_names
    from .render import answers
    from .solve import KINDS, fixed_from_layer, solve_axis

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
    from .diagnostics import Code, Diagnostic

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


SCHEMA_EPILOG = """\
Examples:

  convshape schema > convshape.schema.json

  convshape calc -i 224 conv k3 --format json | check-jsonschema --schemafile convshape.schema.json -

  convshape schema fit > fit.schema.json
"""


STACK_ARGUMENT = typer.Argument(None, metavar="LAYERS...", help="The layers, as for calc.", show_default=False,
                                autocompletion=_complete_stack)


class Target(str, Enum):
    torch = "torch"
    keras = "keras"


EXPORT_EPILOG = """\
Examples:

  convshape export --to torch -f examples/unet.stack -c 1 -i 572 > unet.py && python unet.py

  convshape export --to keras -i 224 -c 3 conv k3 s2 psame c32, bn, relu, gap, flatten, linear c10
"""


@app.command(epilog=EXPORT_EPILOG)
def export(
    stack: Optional[List[str]] = STACK_ARGUMENT,
    to: Target = typer.Option(..., "--to", case_sensitive=False, help="The framework whose code to write."),
    input: Optional[str] = typer.Option(
        None, "--input", "-i", metavar="SIZE", show_default=False,
        help="Spatial input size: the comments give shapes (without it: formulas).",
    ),
    channels: Optional[int] = CHANNELS_OPTION,
    file: Optional[List[str]] = FILE_OPTION,
    dims: Optional[int] = DIMS_OPTION,
    convention: Optional[ConventionName] = typer.Option(
        None, "--convention", case_sensitive=False, show_default=False,
        help="torch for --to torch, tf for --to keras (the default for each).",
    ),
    force: bool = typer.Option(False, "--force", help="Write the code even when a layer is invalid."),
    output: Optional[str] = typer.Option(None, "--output", "-o", metavar="PATH", show_default=False,
                                         help="Write to this file instead of stdout."),
) -> None:
    """Write the stack as PyTorch or Keras code, with every channel count filled in."""
    from .grammar import ParseError, parse_size

    wanted = Convention.TORCH if to is Target.torch else Convention.TF
    if convention is not None and convention.convention is not wanted:
        _fail(f"--to {to.value} writes code with {wanted.value} semantics: --convention {convention.value} cannot be"
              f" exported to it (use --convention {wanted.value}, or leave it out)")
    _check_digits("--channels", channels, "count", "values")
    pieces = _read_stack(stack or [], file)
    input, channels = _imported_input(input, channels)
    dims = _imported_dims(dims)
    command = " ".join(["convshape export", *sys.argv[2:]]) if sys.argv[1:2] == ["export"] else "convshape export"
    from .export import ExportError, plan_from_formulas, plan_from_result

    if input is None:
        from .symbolic import symbolic_calc

        parsed = _parse_stack(pieces, None, dims)
        result = symbolic_calc(parsed, wanted, channels)
        problem = None if result.valid else result.fit.error
        plan = plan_from_formulas(result, parsed, command)
    else:
        from .calc import run

        try:
            size = parse_size(input)
        except ParseError as exc:
            _fail(exc.render())
        parsed = _parse_stack(pieces, len(size), dims)
        result = run(parsed, size, channels, wanted)
        problem = None if result.valid else (result.error_row.index, result.error_row.error)
        plan = plan_from_result(result, parsed, command)
        for row in result.rows:
            for warning in row.warnings:
                sys.stderr.write(f"convshape: warning: layer {row.index} ({row.layer.text}): {warning.message}\n")
    if problem is not None and not force:
        index, diagnostic = problem
        _fail(f"layer {index} ({parsed.layers[index - 1].text}): {diagnostic.message}\n"
              f"convshape: the stack is invalid under --convention {wanted.value}, so the model would fail: nothing"
              " written (--force writes it anyway)",
              EXIT_INVALID)
    if to is Target.torch:
        from .export.pytorch import write
    else:
        from .export.keras import write
    try:
        code, notes = write(plan)
    except ExportError as exc:
        _fail(f"cannot export to {to.value}: {exc}", EXIT_INVALID)
    for note in notes:
        sys.stderr.write(f"convshape: note: {note}\n")
    if output is None:
        _write(code)
    else:
        _save(code.encode("utf-8"), output)


IMPORT_EPILOG = """\
Reads PyTorch's print(model) text, a Keras model's to_json(), or an ONNX file
(pip install 'convshape[onnx]'), judging the format by content. calc, fit and export
read the same files with -f.

Examples:

  python -c "import torchvision; print(torchvision.models.resnet18())" | convshape import -

  convshape import model.json > model.stack && convshape calc -i 224 -f model.stack
"""


@app.command("import", epilog=IMPORT_EPILOG)
def import_(
    file: str = typer.Argument("-", metavar="[FILE|-]", help="The model file; '-' or nothing reads stdin."),
) -> None:
    """Print the stack a model file stands for: print(model), Keras JSON or ONNX."""
    data, name = _read_bytes(file)
    if not data.strip():
        _fail(f"{name} is empty: paste a print(model), or give a Keras JSON or ONNX file")
    imported = _import(data, name)
    if imported is None:
        _fail(f"{name} is neither a print(model) text, a Keras model's JSON nor an ONNX file"
              " (a stack is read by calc -f as it is)", EXIT_INVALID)
    lines = [imported.stack.rstrip("\n")]
    if imported.input_size is not None or imported.input_channels is not None:
        options = " ".join(option for option in (
            f"-i {'x'.join(map(str, imported.input_size))}" if imported.input_size else "",
            f"-c {imported.input_channels}" if imported.input_channels is not None else "") if option)
        lines.insert(0, f"# the model's input: calc {options}")
    _write("\n".join(lines) + "\n")


DRAW_EPILOG = """\
Examples:

  convshape draw -i 6 conv k3 s2                      # in the terminal: the window, the pixel never read

  convshape draw -i 7 conv k3 s2 -o conv.svg          # an animated SVG, one frame per output

  convshape draw -f examples/unet.stack -i 572 -o unet.svg

  convshape draw -f examples/resnet18.stack -i 32 --unit 0,0 -o field.svg
"""


@app.command(epilog=DRAW_EPILOG)
def draw(
    stack: Optional[List[str]] = STACK_ARGUMENT,
    input: Optional[str] = typer.Option(None, "--input", "-i", metavar="SIZE", show_default=False,
                                        help="Spatial input size: 7, 6x6, 572."),
    channels: Optional[int] = CHANNELS_OPTION,
    file: Optional[List[str]] = FILE_OPTION,
    dims: Optional[int] = DIMS_OPTION,
    convention: Optional[ConventionName] = CONVENTION_OPTION,
    output: Optional[str] = typer.Option(
        None, "--output", "-o", metavar="PATH", show_default=False,
        help="Write an SVG (or a PNG, by its extension; '-' for SVG on stdout). Without it: the terminal.",
    ),
    layer: Optional[int] = typer.Option(None, "--layer", metavar="N", min=1, show_default=False,
                                        help="Draw row N's layer on its input (default: a one-layer stack's)."),
    frame: Optional[int] = typer.Option(None, "--frame", metavar="N", min=1, show_default=False,
                                        help="One frame of a layer picture alone (its N-th output position)."),
    unit: Optional[str] = typer.Option(None, "--unit", metavar="I,J", show_default=False,
                                       help="Draw the input pixels this unit of the last row (or --layer's) reaches."),
    title: Optional[str] = typer.Option(None, "--title", metavar="TEXT", show_default=False,
                                        help="A network diagram's title (default: the command line)."),
    no_color: bool = NO_COLOR_OPTION,
) -> None:
    """Draw a layer sliding over its input, a network diagram, or a unit's receptive field."""
    from .calc import run
    from .grammar import ParseError, parse_size

    pieces = _read_stack(stack or [], file)
    input, channels = _imported_input(input, channels)
    convention, dims = _convention(convention), _imported_dims(dims)
    if input is None:
        _fail("draw needs an input size (-i), such as -i 7 or -i 6x6")
    try:
        size = parse_size(input)
    except ParseError as exc:
        _fail(exc.render())
    parsed = _parse_stack(pieces, len(size), dims)
    result = run(parsed, size, channels, convention)
    if output is not None and output != "-" and not output.lower().endswith((".svg", ".png")):
        _fail(f"--output: {output!r} is neither .svg nor .png (or '-' for SVG on stdout)")
    from .draw import DrawError

    try:
        if unit is not None:
            picture, text = _draw_field(result, unit, layer, output)
        elif layer is not None or frame is not None or len(result.rows) == 1:
            picture, text = _draw_layer(result, layer, frame, output)
        else:
            if output is None:
                _fail("a network diagram is a picture: give -o unet.svg (or .png, or '-' for SVG on stdout)")
            from .draw.network import network_svg

            if title is None:
                title = "convshape " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["draw"] else ""
            picture, text = None, network_svg(result, title)
        if output is None:
            from .draw.terminal import show

            show(_console(no_color), picture)
    except DrawError as exc:
        _fail(str(exc), EXIT_INVALID)
    if output is not None:
        _write_picture(text, output)
    raise typer.Exit(EXIT_OK if result.valid else EXIT_INVALID)


def _draw_layer(result, index: Optional[int], frame: Optional[int], output: Optional[str]):
    from .draw import DrawError
    from .draw.layer import layer_picture
    from .draw.svg import layer_svg

    if index is None:
        index = 1
        if len(result.rows) != 1:
            _fail("--frame draws a layer picture: say which row with --layer N")
    if index > len(result.rows):
        _fail(f"--layer {index}: the stack has {len(result.rows)} rows")
    row = result.rows[index - 1]
    if row.error is not None or not row.computed:
        problem = row.error.message if row.error is not None else "an earlier row fails"
        raise DrawError(f"layer {index} ({row.layer.text}) does not run: {problem}")
    picture = layer_picture(row.layer, row.in_size, result.convention)
    if frame is not None and frame > picture.frames:
        _fail(f"--frame {frame}: the layer has {picture.frames} output positions")
    return picture, (layer_svg(picture, frame) if output is not None else None)


def _draw_field(result, unit: str, index: Optional[int], output: Optional[str]):
    from .draw.field import field_picture
    from .draw.svg import field_svg

    try:
        position = tuple(int(v) for v in unit.replace("x", ",").split(","))
    except ValueError:
        _fail(f"--unit: {unit!r} is not a position such as 3,4 (0-based, one value per axis)")
    if index is None:  # the last row with a map: a unit after flatten sees everything
        index = next((row.index for row in reversed(result.rows) if row.out_size is not None), len(result.rows))
    picture = field_picture(result, index, position)
    return picture, (field_svg(picture) if output is not None else None)


def _write_picture(text: str, output: str) -> None:
    if output == "-":
        _write(text)
        return
    data = text.encode("utf-8")
    if output.lower().endswith(".png"):
        try:
            import cairosvg
        except ImportError:
            _fail("PNG needs cairosvg: pip install 'convshape[draw]' (or write .svg)", EXIT_INVALID)
        data = cairosvg.svg2png(bytestring=data)
    _save(data, output)


def _save(data: bytes, output: str) -> None:
    """Write a file the user named with -o; a path that cannot be written is their doing (exit 1)."""
    try:
        with open(output, "wb") as handle:
            handle.write(data)
    except OSError as exc:
        _fail(f"cannot write {output}: {exc.strerror or exc}", EXIT_INVALID)


class SchemaOf(str, Enum):
    calc = "calc"
    fit = "fit"
    solve = "solve"


@app.command(epilog=SCHEMA_EPILOG)
def schema(
    command: SchemaOf = typer.Argument(
        SchemaOf.calc, metavar="COMMAND", case_sensitive=False, help="calc, fit or solve: the command whose --format json output it describes."
    ),
) -> None:
    """Print the JSON Schema that `calc --format json` output follows (or fit's, or solve's)."""
    from .schemas import schema_text

    _write(schema_text(command.value))


class Shell(str, Enum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


COMPLETIONS_EPILOG = """\
Examples:

\b
  convshape completions bash --install
  convshape completions zsh --install
  convshape completions fish > ~/.config/fish/completions/convshape.fish

\b
--install writes the script where the shell looks for it, creating the folder:
  bash  ${XDG_DATA_HOME:-~/.local/share}/bash-completion/completions/convshape
  zsh   ~/.zfunc/_convshape  (then, in ~/.zshrc before compinit: fpath=(~/.zfunc $fpath))
  fish  ${XDG_CONFIG_HOME:-~/.config}/fish/completions/convshape.fish
The same scripts ship in the repository's completions/ folder.
"""


def completion_path(shell: str) -> str:
    """Where ``--install`` puts the script for ``shell``: where the shell looks by itself."""
    home = os.path.expanduser("~")
    data = os.environ.get("XDG_DATA_HOME") or os.path.join(home, ".local", "share")
    config = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    return {
        "bash": os.path.join(data, "bash-completion", "completions", "convshape"),
        "zsh": os.path.join(home, ".zfunc", "_convshape"),
        "fish": os.path.join(config, "fish", "completions", "convshape.fish"),
    }[shell]


@app.command(epilog=COMPLETIONS_EPILOG)
def completions(
    shell: Shell = typer.Argument(..., metavar="SHELL", case_sensitive=False, help="bash, zsh or fish."),
    install: bool = typer.Option(False, "--install", help="Write the script where the shell finds it, not to stdout."),
) -> None:
    """Print (or install) a static completion script for a shell."""
    script = completion_script(shell.value)
    if not install:
        _write(script)
        return
    path = completion_path(shell.value)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(script)
    except OSError as exc:
        _fail(f"cannot write {path}: {exc.strerror or exc}", EXIT_INVALID)
    _write(f"installed {path}\n")
    if shell.value == "zsh":
        _write("add to ~/.zshrc, before compinit: fpath=(~/.zfunc $fpath)\n")


def completion_script(shell: str) -> str:
    """The completion script for ``shell``, generated from this CLI's commands and options."""
    from .completion import SHELLS, spec_from_click
    from .diagnostics import WARNINGS

    group = typer.main.get_command(app)
    group.name = "convshape"
    from .kinds import Kind
    from .solve import KINDS

    every = tuple(Kind)
    spec = spec_from_click(group, {"--allow": tuple(sorted(code.value for code in WARNINGS))},
                           {"calc": every, "fit": every, "solve": tuple(KINDS)})
    return SHELLS[shell](spec)


def _render_quiet(result, failing_warnings) -> None:
    from .layers import layer_label
    from .render.common import CHANNELS_HINT, quiet_shape

    for note in result.notes:  # first: an invalid stack is where a misread input shows
        sys.stderr.write(f"convshape: note: {note}\n")
    if not result.valid:
        row = result.error_row
        sys.stderr.write(f"convshape: layer {row.index} ({layer_label(row.layer, row.index)}): {row.error.message}\n")
        return
    for warning in failing_warnings:
        sys.stderr.write(f"convshape: warning {warning.code.value}: {warning.message}\n")
    if result.output.size is None and result.output.channels is None:
        sys.stderr.write(f"convshape: note: the feature count is unknown (?): it needs the input channels; "
                         f"{CHANNELS_HINT}\n")
    _write(quiet_shape(result.output) + "\n")


def _render_table(result, explain: bool, no_color: bool, costs=None, shown=None, compact: bool = False) -> None:
    from .render.table import render

    console = _console(no_color)
    render(result, console, explain, piped=not _stdout_is_terminal(), costs=costs, shown=shown, compact=compact)
    if costs is None and shown is not None and any(name in shown for name in ("params", "macs", "memory")):
        from .render.common import CHANNELS_HINT

        console.print(f"params, MACs and memory need the input channels: {CHANNELS_HINT}", style="dim")


def main() -> None:
    """The console script: Typer's app, with no traceback ever reaching the user.

    The process is one short run, and the cyclic garbage collector is told so. The run
    makes no reference cycles, so a collection during it would only re-scan every row
    again and again as a long stack grows: it is off. And everything the imports built
    lives until exit: frozen, it is skipped by the full collections Python makes while
    it shuts down, which otherwise walk all of it (about 5 ms of every start). Here and
    not in the commands, so that calling the app in-process leaves the collector alone.
    """
    gc.disable()
    gc.freeze()
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
