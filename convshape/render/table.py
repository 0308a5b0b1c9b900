"""The Rich table: one row per layer, diagnostics coloured, the final shape under it.

Most cells are one short line that never wraps (a shape, a number). Rich's ``Text``
would measure each of them, wrap it and pad it, which for a ResNet's 424 cells costs
more than all of convshape's own start-up. Such cells are ``Line``s instead: they know
their width and draw their own padding, so the table is laid out with fixed column
widths and Rich's padding off. Cells that do wrap or carry several styles stay Rich
``Text`` in Rich's ``Padding``. A table that fits its width is drawn by ``FixedTable``
(see ``fixed_table``) rather than laid out by Rich. The tests check that the output is
the very table Rich draws from ``Text`` cells, colours included.
"""

from __future__ import annotations

from rich.console import Console
from rich.measure import Measurement
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from ..calc import Result, Row
from ..explain import explain_row
from ..layers import layer_label
from .common import axes_text, cost_lines, readable, size_text, structure_text, summary_lines
from .fixed_table import PAD, FixedTable, Line, cell_width

def _cell(text: str | Text, folds: bool) -> Line | Padding:
    """A cell of the table: a plain string is one unstyled line (shapes and numbers)."""
    if isinstance(text, str) and not folds:
        return Line(text)
    if isinstance(text, str):
        text = Text(text)
    if not folds and not text.spans and "\n" not in text.plain:
        return Line(text.plain, str(text.style))
    return Padding(text, (0, PAD))


STYLES = {"error": "bold red", "warning": "yellow", "note": "dim"}


def _items(row: Row) -> list:
    return ([row.error] if row.error else []) + list(row.warnings) + list(row.notes)


def _codes(row: Row) -> str | Text:
    """The row's diagnostic codes, coloured by level, each once (a code said on H and on W
    with different numbers is two messages, one code); the messages follow the table."""
    if not (row.error or row.warnings or row.notes):
        return ""
    text, shown = Text(), set()
    for diagnostic in _items(row):
        if diagnostic.code in shown:
            continue
        if shown:
            text.append("\n")
        shown.add(diagnostic.code)
        text.append(diagnostic.code.value, style=STYLES[diagnostic.level.value])
    return text


def _messages(result: Result) -> list[Text]:
    lines = []
    for row in result.rows:
        for diagnostic in _items(row):
            level = diagnostic.level.value
            line = Text(f"{row.index}: ")
            line.append(f"{level} {diagnostic.code.value}", style=STYLES[level])
            line.append(f": {diagnostic.message}", style="dim" if level == "note" else None)
            lines.append(line)
    return lines


def _per_axis(values) -> str:
    """One value when every axis agrees (``7``), else one per axis (``7x5``)."""
    return axes_text(values[:1] if len(set(values)) == 1 else values)


def _shape(size, channels, tokens=None) -> str:
    return size_text(size, channels, sep="×", tokens=tokens)


COLUMNS = [("#", "right"), ("layer", "left"), ("in", "right"), ("out", "right"),
           ("rf", "right"), ("jump", "right"), ("start", "right"), ("params", "right"), ("macs", "right"),
           ("memory", "right"), ("diagnostics", "left")]
NAMES = [name for name, _ in COLUMNS]
COSTS = ("params", "macs", "memory")  # drawn only with the costs (input channels known)
HIDDEN = ("memory",)  # shown only when asked for (--columns)
HEADERS = {"macs": "MACs", "memory": "out mem"}


def default_columns(costs) -> list[str]:
    """The columns a table shows unless told: costs only when they are known."""
    return [name for name in NAMES if name not in HIDDEN and (costs is not None or name not in COSTS)]


# On a terminal too narrow for every column, these go first (the codes are also listed
# under the table, and each row's input is the row before's output), rather than
# folding a shape across lines.
DROPPABLE = ["start", "jump", "memory", "macs", "params", "diagnostics", "rf", "in"]


def _cost_cells(cost, flops: bool) -> dict:
    if cost.params is None and cost.output_bytes is None:
        return {}
    macs = None if cost.macs is None else cost.macs * (2 if flops else 1)
    return {"params": readable(cost.params), "macs": readable(macs), "memory": readable(cost.output_bytes, "B")}


def draw_hint(row: Row, convention) -> str:
    """The command that draws a row's window sliding over its input, where it fits a picture."""
    if not row.layer.kind.op.slides or not row.in_size \
            or len(row.in_size) > 2 or row.error is not None or row.layer.repeat > 1 or max(row.in_size) > 48:
        return ""
    from ..draw.layer import DrawError, axis_picture

    try:
        for axis, size in enumerate(row.in_size):
            axis_picture(row.layer, axis, size, convention)
    except DrawError:  # wider than a picture is readable
        return ""
    option = "" if convention.value == "torch" else f" --convention {convention.value}"
    return f"see it: convshape draw -i {'x'.join(map(str, row.in_size))}{option} \"{row.layer.text}\""


def _cells(result: Result, row: Row, explain: bool, costs=None) -> dict:
    """The row's cells by column, plain strings or ``Text``; ``costs`` (from ``counts.count``) adds its counts."""
    label = layer_label(row.layer, row.index)
    structure = structure_text(result, row.index) if result.reads or result.binds else ""
    if structure:
        label += "  " + structure
    if not row.computed and row.error is None:
        return {"#": str(row.index), "layer": label, "out": Text("not computed", style="dim")}
    field = row.field
    layer_cell = label
    if explain:
        layer_cell = Text(label)
        for line in explain_row(row, result.convention):
            layer_cell.append("\n" + line, style="cyan")
        if costs is not None:
            from ..counts import explain as explain_costs

            for line in explain_costs(row, costs.rows[row.index - 1], costs.profile, costs.batch, result.convention):
                layer_cell.append("\n" + line, style="cyan")
        picture = draw_hint(row, result.convention)
        if picture:
            layer_cell.append("\n" + picture, style="dim")
    return {
        "#": str(row.index),
        "layer": layer_cell,
        "in": _shape(row.in_size, row.in_channels, row.in_tokens),
        "out": _shape(row.out_size, row.out_channels, row.tokens) if row.computed else Text("invalid", style="bold red"),
        "rf": _per_axis(field.size) if field else "",
        "jump": _per_axis(field.jump) if field else "",
        "start": _per_axis(field.start) if field else "",
        "diagnostics": _codes(row),
        **({} if costs is None else _cost_cells(costs.rows[row.index - 1], costs.flops)),
    }


def build(result: Result, explain: bool = False, wrap: bool = True, shown: list[str] | None = None,
          costs=None, compact: bool = False) -> Table:
    """The table of the ``shown`` columns (all by default). With ``wrap`` (a terminal) the
    layer column wraps between words; without it (a pipe) nothing wraps. Shapes and
    numbers never break.

    Every cell starts as a ``Text``, so no markup is parsed out of what the user typed;
    those that fit on one line with one style become ``Line``s (see the module's text).
    """
    shown = shown or default_columns(costs)
    table = Table(title=None, show_lines=explain, header_style="bold", padding=0)
    flops = costs is not None and costs.flops
    rows = [_cells(result, row, explain, costs) for row in result.rows
            if not (compact and row.layer.kind.keeps_shape and row.computed and not row.warnings and not row.notes)]
    columns = []
    for name, justify in COLUMNS:
        if name in shown:
            layer = name == "layer"
            folds = layer and (wrap or explain)
            min_width = 10 + 2 * PAD if layer else None
            cells = [_cell(texts.get(name, ""), folds) for texts in rows]
            title = "FLOPs" if name == "macs" and flops else HEADERS.get(name, name)
            header = _cell(Text(title), folds)
            # A column that never folds is exactly as wide as its widest cell: say so,
            # rather than have Rich measure every cell to find out.
            width = None if folds else max([cell_width(header), min_width or 0] + [cell_width(cell) for cell in cells])
            table.add_column(header, justify=justify, no_wrap=not folds, overflow="fold",
                             min_width=min_width, width=width)
            columns.append(cells)
    for cells in zip(*columns):
        table.add_row(*cells)
    return table


def print_fitted(console: Console, make_table, names: list[str], droppable: list[str],
                 instead: str = "--format csv") -> None:
    """Print the table ``make_table(shown)`` on a terminal: the ``droppable`` columns go, in
    order, until it fits, and a line says which went. A table that does not fit even so is
    drawn at its natural width for the terminal to wrap: no cell is ever split or cut."""
    shown, hidden = list(names), []
    natural = console.options.update_width(100_000)
    for name in [*droppable, None]:
        table = make_table(shown)
        fixed = FixedTable.fitting(table, console.width)  # it fits as it is: nothing for Rich to measure
        if fixed is not None:
            console.print(fixed)
            break
        measured = Measurement.get(console, natural, table)
        if measured.minimum <= console.width:  # it fits by folding the layer column
            console.print(table)
            break
        if name is None:
            console.print(table, width=measured.maximum, crop=False)
            break
        shown.remove(name)
        hidden.append(name)
    if hidden:
        console.print(Text(f"({', '.join(hidden)} hidden: {console.width} columns; widen the terminal or use "
                           f"{instead})", style="dim"))


def render(result: Result, console: Console, explain: bool = False, piped: bool | None = None, costs=None,
           shown: list[str] | None = None, compact: bool = False) -> None:
    """Draw the table, fitted to a terminal; ``piped`` (by default: not a terminal) draws it at
    its natural width, coloured or not, for a console the caller has given room for it.
    ``costs`` (from ``counts.count``) adds their columns and the totals under the table;
    ``shown`` picks the columns; ``compact`` hides rows that keep the shape."""
    piped = not console.is_terminal if piped is None else piped
    shown = shown or default_columns(costs)
    if piped:
        table = build(result, explain, wrap=False, shown=shown, costs=costs, compact=compact)
        console.print(FixedTable.fitting(table, console.width) or table)
    else:
        print_fitted(console, lambda columns: build(result, explain, wrap=True, shown=columns, costs=costs,
                                                    compact=compact), shown, [n for n in DROPPABLE if n in shown])
    lines = _messages(result) + [Text(f"note: {note}", style="dim") for note in result.notes]
    style = "bold red" if not result.valid else "bold"
    lines += [Text(line, style=style) for line in summary_lines(result)]
    lines += [Text(line) for line in (cost_lines(costs) if costs is not None else ())]
    # One print for all of them: each print costs Rich about a millisecond of set-up.
    console.print(Text("\n").join(lines), soft_wrap=piped)
