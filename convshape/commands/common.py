"""What the commands share: exit statuses, the option definitions, reading stacks and
models from arguments, files and stdin, and drawing results on the terminal."""

import os
import sys
from enum import Enum
from typing import List, Optional

import typer

from ..layers import Convention


EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
EXIT_INTERNAL = 70  # EX_SOFTWARE: a bug in convshape, never a user's doing
EXIT_PIPE = 128 + 13  # the reader went away (SIGPIPE), as `yes | head -1` reports in a shell


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    tsv = "tsv"


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


def _fail(message: str, status: int = EXIT_USAGE) -> None:
    sys.stderr.write(f"convshape: {message}\n")
    raise typer.Exit(status)


_IMPORTED: list = []  # the model files the last _read_stack imported: (piece position, Imported)


def _read_stack(stack: List[str], files: Optional[List[str]]) -> list[tuple[str, str]]:
    """The stack's pieces, each with the name to cite in errors: each file's layers in
    order, then any given as arguments (``-f vgg16.stack flatten linear c10``). A model
    file (print(model), Keras JSON, ONNX) stands for the stack it imports to."""
    from ..grammar import ARGS_SOURCE

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
    from ..importers import text_of

    try:
        return text_of(data)
    except UnicodeDecodeError as exc:  # the byte's place in the file, counting a byte-order mark
        _fail(f"{name} is not UTF-8 text (byte {exc.start + len(data) - len(exc.object)})")
    raise AssertionError("unreachable")


def _import(data: bytes, name: str):
    """The import of a model file, its warnings and notes written to stderr; None for stack text."""
    from .. import importers

    try:
        imported = importers.read(data, name)
    except importers.ImportFailure as exc:  # named (and imported) only when a reader fails
        _fail(f"{name}: {exc}", EXIT_INVALID)
    if imported is not None:
        _report(imported, name)
    return imported


def _report(imported, name: str) -> None:
    """An import's warnings and notes, on stderr, each naming the model."""
    for warning in imported.warnings:
        sys.stderr.write(f"convshape: warning: {name}: {warning}\n")
    for note in imported.notes:
        sys.stderr.write(f"convshape: note: {name}: {note}\n")


def _imported_input(input: Optional[str], channels: Optional[int]) -> tuple[Optional[str], Optional[int]]:
    """The input size and channels a model file fixes, where the options do not give them."""
    for _, imported in _IMPORTED:
        if input is None and imported.input_size is not None:
            input = "x".join(map(str, imported.input_size))
        elif imported.input_size is not None and imported.source == "ONNX" and not _same_size(input, imported.input_size):
            sys.stderr.write(f"convshape: note: the ONNX file was exported at {'x'.join(map(str, imported.input_size))}"
                             f"; at -i {input} its graph can differ from the module it came from (an adaptive pool"
                             " is written as a fixed AveragePool), and its weights still fix every layer's input"
                             " channels (in)\n")
        if channels is None and imported.input_channels is not None:
            channels = imported.input_channels
    return input, channels


def _same_size(text: str, size: tuple[int, ...]) -> bool:
    """``-i`` gives this size (``224`` stands for 224 on every axis); text that is no size is
    left to the parser's own error."""
    from ..grammar import ParseError, parse_size

    try:
        given = parse_size(text, "--input")
    except ParseError:
        return True
    return tuple(given) == tuple(size) or len(given) == 1 and set(size) == set(given)


def _imported_dims(dims: Optional[int]) -> Optional[int]:
    return next((imported.dims for _, imported in _IMPORTED if imported.dims), dims) if dims is None else dims


def _convention(convention: Optional["ConventionName"]) -> Convention:
    """--convention, or the semantics of the model file read (Keras: tf), or torch."""
    if convention is not None:
        return convention.convention
    found = next((imported.convention for _, imported in _IMPORTED if imported.convention), None)
    return Convention(found) if found else Convention.TORCH


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
    from ..grammar import MAX_DIGITS

    if value is not None and value >= 10**MAX_DIGITS:
        _fail(f"{option}: a {what} of {len(str(value)):,} digits; {which} have at most {MAX_DIGITS}")


def _check_allowed(codes: List[str]) -> set:
    from ..diagnostics import WARNINGS
    from ..grammar import nearest

    names = sorted(code.value for code in WARNINGS)
    for code in codes:
        if code not in names:
            hint = nearest(code, names)
            suggestion = f" (did you mean '{hint}'?)" if hint else f"; warning codes: {', '.join(names)}"
            _fail(f"--allow: '{code}' is not a warning code{suggestion}")
    return set(codes)


def _complete_stack(ctx: typer.Context, incomplete: str):
    """Typer's own (dynamic) completion of layer words: the same answers as the static scripts."""
    from ..completion import layer_candidates

    return layer_candidates(list(ctx.params.get("stack") or []), incomplete)


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


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
    from ..grammar import ParseError, parse_pieces

    try:
        return parse_pieces(pieces, input_dims=input_dims, dims=dims)
    except ParseError as exc:
        _fail(exc.render())


def _sized_run(pieces: list[tuple[str, str]], input: str, channels: Optional[int], dims: Optional[int], convention):
    """The stack run over the input size ``input`` (-i): the parsed stack and calc's result.
    A size or a stack that does not parse ends the command with its message (exit 2)."""
    from ..calc import run
    from ..grammar import ParseError, parse_size

    try:
        size = parse_size(input)
    except ParseError as exc:
        _fail(exc.render())
    parsed = _parse_stack(pieces, len(size), dims)
    return parsed, run(parsed, size, channels, convention)


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


STACK_ARGUMENT = typer.Argument(None, metavar="LAYERS...", help="The layers, as for calc.", show_default=False,
                                autocompletion=_complete_stack)


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
        width, height = _svg_size(text)
        if max(width, height) > PNG_LIMIT:
            fits = int(100 * PNG_LIMIT / max(width, height)) / 100
            smaller = f", or scale it down (--scale {fits:g})" if fits >= 0.1 else ""
            _fail(f"{output}: the picture is {width:,.0f} × {height:,.0f} px, and a PNG renderer (cairo) takes at most "
                  f"{PNG_LIMIT:,} px a side: write an SVG (-o {output[:-4]}.svg), which any browser shows{smaller}",
                  EXIT_INVALID)
        data = cairosvg.svg2png(bytestring=data)
    _save(data, output)


PNG_LIMIT = 32767  # cairo's largest image side


def _svg_size(text: str) -> tuple[float, float]:
    """The width and height on a picture's <svg> element (0 where absent)."""
    import re

    root = re.search(r"<svg\b[^>]*>", text)
    sizes = [re.search(rf'\b{name}="([\d.]+)', root.group(0)) if root else None for name in ("width", "height")]
    return tuple(float(found.group(1)) if found else 0.0 for found in sizes)


def _save(data: bytes, output: str) -> None:
    """Write a file the user named with -o; a path that cannot be written is their doing (exit 1)."""
    try:
        with open(output, "wb") as handle:
            handle.write(data)
    except OSError as exc:
        _fail(f"cannot write {output}: {exc.strerror or exc}", EXIT_INVALID)


def _render_quiet(result, failing_warnings) -> None:
    from ..layers import layer_label
    from ..render.common import CHANNELS_HINT, quiet_shape

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
    from ..render.table import render

    console = _console(no_color)
    render(result, console, explain, piped=not _stdout_is_terminal(), costs=costs, shown=shown, compact=compact)
    if costs is None and shown is not None and any(name in shown for name in ("params", "macs", "memory")):
        from ..render.common import CHANNELS_HINT

        console.print(f"params, MACs and memory need the input channels: {CHANNELS_HINT}", style="dim")
