"""A Rich ``Table`` drawn at fixed column widths, for tables where no cell folds.

Rich lays a table out cell by cell: it renders each cell into lines, crops and pads
them, then crops the whole again. For a ResNet's 1,700 one-line cells that costs more
than all of convshape's own start-up. Where every column is as wide as its widest cell
(a pipe, or a table that fits the terminal) nothing folds, and the table is its borders
and its cells' text side by side: ``FixedTable`` writes that straight out, with Rich's
box characters and styles, and leaves only the cells that are not ``Line``s (several
lines or several styles) to Rich. The tests check that it is the very table Rich draws.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.console import Console
from rich.measure import Measurement
from rich.padding import Padding
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text

PAD = 1  # blank cells each side of a cell's text, as Rich's default (0, 1) padding


class Line:
    """A one-line cell in Rich's console protocol: its text, one style, its padding.

    Given less room than its width (which happens only in a table already too wide for
    the terminal), it folds as a ``Text`` would.
    """

    __slots__ = ("text", "style", "width")

    def __init__(self, text: str, style: str = "") -> None:
        self.text = text
        self.style = style
        self.width = cell_len(text) + 2 * PAD

    def __rich_measure__(self, console: Console, options) -> Measurement:
        return Measurement(self.width, self.width)

    def __rich_console__(self, console: Console, options):
        space = options.max_width - self.width
        if space < 0:
            yield from console.render(Padding(Text(self.text, self.style), (0, PAD)), options)
            return
        yield from self.segments(console, space, options.justify)

    def segments(self, console: Console, space: int, justify) -> list[Segment]:
        fill = " " * space  # counted in cells, as the width is
        text = fill + self.text if justify == "right" else self.text + fill
        return [Segment(" " * PAD), Segment(text, console.get_style(self.style) if self.style else None),
                Segment(" " * PAD)]


def cell_width(cell) -> int:
    """How wide a ``Line`` or a ``Padding`` around a ``Text`` is when nothing folds."""
    if isinstance(cell, Line):
        return cell.width
    return 2 * PAD + max(cell_len(line) for line in cell.renderable.plain.split("\n"))


def natural_widths(table: Table) -> list[int]:
    """Each column as wide as its widest cell (header included), as Rich lays out a table
    that fits: a column's own ``width`` where it has one, never under its ``min_width``."""
    widths = []
    for column in table.columns:
        if column.width is not None:
            widths.append(column.width)
            continue
        cells = [column.header, *column.cells] if table.show_header else list(column.cells)
        widths.append(max([column.min_width or 0] + [cell_width(cell) for cell in cells]))
    return widths


def _laid_out_as_ours(table: Table) -> bool:
    """A table laid out as convshape's are: cells that pad themselves (``Line`` or ``Text``
    in ``Padding``), a header and edges, no title, footer, caption or row styles."""
    plain = (not any(table.padding) and table.show_header and table.show_edge and not table.show_footer
             and not table.title and not table.caption and not table.row_styles and not table.leading)
    cells = (cell for column in table.columns for cell in (column.header, *column.cells))
    return plain and all(isinstance(cell, Line) or (isinstance(cell, Padding) and isinstance(cell.renderable, Text))
                         for cell in cells)


class FixedTable:
    """``table`` at its natural column widths, drawn as Rich draws it when it fits.

    Only what convshape's tables use is followed: a header, edges, a box, lines between
    rows or not, no padding of Rich's own (cells pad themselves), no title, footer or row
    styles.
    """

    def __init__(self, table: Table) -> None:
        self.table = table
        self.widths = natural_widths(table)
        self.width = sum(self.widths) + len(self.widths) + 1  # and the borders

    @classmethod
    def fitting(cls, table: Table, width: int) -> FixedTable | None:
        """``table`` drawn at fixed widths, where that is the very table Rich draws in
        ``width`` cells: laid out as convshape's are, and no wider; else None."""
        if not _laid_out_as_ours(table):
            return None
        fixed = cls(table)
        return fixed if fixed.width <= width else None

    def __rich_measure__(self, console: Console, options) -> Measurement:
        return Measurement(self.width, self.width)

    def _lines(self, console: Console, options, cells: list, styles: list[Style], vertical: str) -> list[list]:
        """One row's cells, each as lines of segments, all as high as the highest."""
        table, rendered = self.table, []
        for width, cell, style, column in zip(self.widths, cells, styles, table.columns):
            if isinstance(cell, Line):
                lines = [cell.segments(console, width - cell.width, column.justify)]
                if style:
                    lines = [list(Segment.apply_style(lines[0], style))]
            else:
                render_options = options.update(width=width, justify=column.justify, no_wrap=column.no_wrap,
                                                overflow=column.overflow, height=None, highlight=column.highlight)
                lines = Segment.set_shape(console.render_lines(cell, render_options, style=style), width)
            rendered.append(lines)
        height = max(len(lines) for lines in rendered)
        if height > 1:
            align = Segment.align_bottom if vertical == "bottom" else Segment.align_top
            rendered = [align(lines, width, height, style)
                        for lines, width, style in zip(rendered, self.widths, styles)]
        return rendered

    def __rich_console__(self, console: Console, options):
        table, widths = self.table, self.widths
        box = table.box.substitute(options, safe=table.safe_box if table.safe_box is not None else console.safe_box)
        get_style = console.get_style
        header_styles = [get_style(table.header_style or "") + get_style(column.header_style)
                         for column in table.columns]
        body_styles = [get_style(column.style or "") for column in table.columns]
        rows = [(box.head_left, box.head_right, box.head_vertical,
                 self._lines(console, options, [column.header for column in table.columns], header_styles, "bottom"))]
        last = table.row_count - 1
        for index, cells in enumerate(zip(*(column.cells for column in table.columns))):
            left, right, vertical = ((box.foot_left, box.foot_right, box.foot_vertical) if index == last
                                     else (box.mid_left, box.mid_right, box.mid_vertical))
            rows.append((left, right, vertical, self._lines(console, options, list(cells), body_styles, "top")))
        # Runs of unstyled text are joined into one segment: the same characters, written
        # with far fewer segments for the console to crop and join.
        out: list[Segment] = []
        plain: list[str] = [box.get_top(widths), "\n"]

        def flush() -> None:
            if plain:
                out.append(Segment("".join(plain)))
                plain.clear()

        def emit(segment: Segment) -> None:
            if segment.style:
                flush()
                out.append(segment)
            else:
                plain.append(segment.text)

        for number, (left, right, vertical, cells) in enumerate(rows):
            for line in range(len(cells[0])):
                plain.append(left)
                for column, lines in enumerate(cells):
                    if column:
                        plain.append(vertical)
                    for segment in lines[line]:
                        emit(segment)
                plain.append(right)
                plain.append("\n")
            if number == 0:
                plain += [box.get_row(widths, "head", edge=True), "\n"]
            elif table.show_lines and number < len(rows) - 1:
                plain += [box.get_row(widths, "row", edge=True), "\n"]
        plain += [box.get_bottom(widths), "\n"]
        flush()
        return out
