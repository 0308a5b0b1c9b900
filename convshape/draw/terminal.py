"""The small pictures in the terminal, with Rich: characters and colour, no file viewer.

Characters carry the meaning on their own, so the picture reads the same without colour
(in a pipe, or with --no-color): ``■`` a pixel read, ``·`` padding, ``0`` a zero a
transposed conv inserts, ``^`` where only ceil mode's last window reaches, ``!`` a pixel never read or an output that sees only padding,
``█`` a pixel a unit reaches.
"""

from __future__ import annotations


from rich.text import Text

from . import UNREAD, WINDOW
from .field import FieldPicture
from .layer import LayerPicture

MAX_WIDTH = 48


def _grid(rows: int, columns: int, cell) -> list[Text]:
    lines = []
    for row in range(rows):
        line = Text()
        for column in range(columns):
            char, style = cell(row, column)
            line.append(char + " ", style=style)
        lines.append(line)
    return lines


def layer_text(picture: LayerPicture) -> Text:
    rows, columns = picture.grid
    out_rows, out_columns = picture.output_grid

    def cell_in(row, column):
        position = picture.at(row, column)
        if picture.unread(position):
            return "!", f"bold {UNREAD}"
        return {"real": ("■", ""), "pad": ("·", "dim"), "zero": ("0", "dim"), "ceil": ("^", "yellow")}[
            picture.cell(position)]

    def cell_out(row, column):
        output = picture.at(row, column)
        return ("!", f"bold {UNREAD}") if picture.padding_only(output) else ("■", WINDOW)

    left = _grid(rows, columns, cell_in)
    right = _grid(out_rows, out_columns, cell_out)
    overhang = ", ceil mode's overhang ^" if any("ceil" in axis.cells for axis in picture.axes) else ""
    text = Text(f"{picture.layer.text}: input (padding ·{overhang}) → output\n", style="bold")
    width = 2 * columns
    for line in range(max(rows, out_rows)):
        text.append_text(left[line] if line < rows else Text(" " * width))
        text.append("   ")
        if line < out_rows:
            text.append_text(right[line])
        text.append("\n")
    unread, alone = picture.unread_count, picture.padding_only_count
    notes = [f"{picture.frames} window position{'s' if picture.frames != 1 else ''}"]
    if unread:
        notes.append(f"! {unread} input pixels never read")
    if alone:
        notes.append(f"! {alone} outputs see only padding")
    text.append("; ".join(notes) + " (-o picture.svg animates the window)\n")
    return text


def field_text(picture: FieldPicture) -> Text:
    rows, columns = picture.grid

    def cell(row, column):
        position = picture.at(row, column)
        return ("█", WINDOW) if position in picture.paths_through else ("·", "dim")

    text = Text(f"unit ({', '.join(map(str, picture.unit))}) of row {picture.row} ({picture.label}): "
                f"{picture.reached_text}\n", style="bold")
    for line in _grid(rows, columns, cell):
        text.append_text(line)
        text.append("\n")
    return text


def show(console, picture) -> None:
    from ..draw import DrawError

    sizes = [len(a.cells) for a in picture.axes] if isinstance(picture, LayerPicture) else list(picture.input_size)
    if sizes[-1] > MAX_WIDTH:
        raise DrawError(f"{sizes[-1]} cells across are too wide for the terminal: write a picture with -o")
    text = layer_text(picture) if isinstance(picture, LayerPicture) else field_text(picture)
    # One rule for every picture: its grid lines fit the terminal, or it is not drawn there
    # (a wrapped grid is garbage). Piped, the console is as wide as the text.
    grid = text.plain.splitlines()[1:-1] if isinstance(picture, LayerPicture) else text.plain.splitlines()[1:]
    widest = max((len(line.rstrip()) for line in grid), default=0)
    if widest > console.width:
        raise DrawError(f"the picture is {widest} characters wide and the terminal {console.width}: "
                        "write a picture with -o (or widen the terminal)")
    console.print(text, end="", soft_wrap=True)
