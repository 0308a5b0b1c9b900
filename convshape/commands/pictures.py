"""`convshape draw`: a layer sliding over its input, a network diagram, a unit's field."""

import sys
from typing import List, Optional

import typer

from .common import CHANNELS_OPTION, CONVENTION_OPTION, ConventionName, DIMS_OPTION, EXIT_INVALID, EXIT_OK, FILE_OPTION, STACK_ARGUMENT, _console, _convention, _fail, _imported_dims, _imported_input, _read_stack, _sized_run, _write_picture


DRAW_EPILOG = """\
Examples:

  convshape draw -i 6 conv k3 s2                      # in the terminal: the window, the pixel never read

  convshape draw -i 7 conv k3 s2 -o conv.svg          # an animated SVG, one frame per output

  convshape draw -f examples/unet.stack -i 572 -o unet.svg

  convshape draw -f examples/resnet18.stack -i 32 --unit 0,0 -o field.svg

Exit status: 0 drawn; 1 the stack is invalid (drawn, with stderr saying why) or the picture
cannot be made; 2 usage or parse error, or a --layer, --frame or --unit the stack does not have.
"""


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
    scale: float = typer.Option(1.0, "--scale", metavar="F", min=0.1, max=10.0,
                                help="Draw the SVG or PNG F times as large (0.1 to 10)."),
    no_color: bool = typer.Option(False, "--no-color", help="No colours or styles in the terminal picture."),
) -> None:
    """Draw a layer sliding over its input, a network diagram, or a unit's receptive field."""
    pieces = _read_stack(stack or [], file)
    input, channels = _imported_input(input, channels)
    convention, dims = _convention(convention), _imported_dims(dims)
    if input is None:
        _fail("draw needs an input size (-i), such as -i 7 or -i 6x6")
    parsed, result = _sized_run(pieces, input, channels, dims, convention)
    if output is not None and output != "-" and not output.lower().endswith((".svg", ".png")):
        _fail(f"--output: {output!r} is neither .svg nor .png (or '-' for SVG on stdout)")
    if scale != 1 and output is None:
        _fail("--scale sizes a picture file: give -o picture.svg (or .png)")
    from ..draw import DrawError

    try:
        if unit is not None:
            picture, text = _draw_field(result, unit, layer, output)
        elif layer is not None or frame is not None or len(result.rows) == 1:
            picture, text = _draw_layer(result, layer, frame, output)
        else:
            if output is None:
                _fail("a network diagram is a picture: give -o unet.svg (or .png, or '-' for SVG on stdout)")
            from ..draw.network import network_svg

            if title is None:
                title = "convshape " + " ".join(_without_output(sys.argv[1:])) if sys.argv[1:2] == ["draw"] else ""
            picture, text = None, network_svg(result, title)
        if output is None:
            from ..draw.terminal import show

            show(_console(no_color), picture)
    except DrawError as exc:
        _fail(str(exc), EXIT_INVALID)
    if output is not None:
        from ..draw.svg import scaled

        _write_picture(scaled(text, scale), output)
    if not result.valid:  # the picture marks the row; the exit status alone would not say why
        row = result.error_row
        sys.stderr.write(f"convshape: invalid: layer {row.index} ({row.layer.text}) cannot run: {row.error.message}\n")
    raise typer.Exit(EXIT_OK if result.valid else EXIT_INVALID)


def _without_output(words: list[str]) -> list[str]:
    """The command line as a title: what was drawn, not where it was written (-o net.svg) or
    how large (--scale 2)."""
    kept, skip = [], False
    for word in words:
        if skip:
            skip = False
        elif word in ("-o", "--output", "--scale"):
            skip = True
        elif not word.startswith(("--output=", "-o", "--scale=")):  # -ofile.svg, --output=file.svg
            kept.append(word)
    return kept


def _draw_layer(result, index: Optional[int], frame: Optional[int], output: Optional[str]):
    from ..draw import DrawError
    from ..draw.layer import layer_picture
    from ..draw.svg import layer_svg

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
    from ..draw.field import field_picture
    from ..draw.svg import field_svg

    try:
        position = tuple(int(v) for v in unit.replace("x", ",").split(","))
    except ValueError:
        _fail(f"--unit: {unit!r} is not a position such as 3,4 (0-based, one value per axis)")
    if index is None:  # the last row with a map before a global pool: a unit of gap (or after) sees everything
        whole = next((row.index for row in result.rows if row.layer.kind.op.whole), len(result.rows) + 1)
        index = next((row.index for row in reversed(result.rows[:whole - 1]) if row.out_size is not None),
                     len(result.rows))
    row = result.rows[index - 1] if 1 <= index <= len(result.rows) else None
    if row is not None and row.out_size is not None and (len(position) != len(row.out_size) or any(
            not 0 <= u < size for u, size in zip(position, row.out_size))):  # as --frame and --layer: a usage error
        _fail(f"--unit {unit}: row {index}'s output is {'×'.join(map(str, row.out_size))}; a unit is one 0-based "
              f"position per axis, below those sizes")
    picture = field_picture(result, index, position)
    return picture, (field_svg(picture) if output is not None else None)
