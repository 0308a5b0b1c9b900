"""The Rich table: one row per layer, diagnostics coloured, the final shape under it."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..calc import Result, Row
from ..explain import explain_row
from .common import axes_text, size_text, summary_lines

STYLES = {"error": "bold red", "warning": "yellow", "note": "dim"}


def _items(row: Row) -> list:
    return ([row.error] if row.error else []) + list(row.warnings) + list(row.notes)


def _codes(row: Row) -> Text:
    """The row's diagnostic codes, coloured by level; the messages follow the table."""
    text = Text()
    for number, diagnostic in enumerate(_items(row)):
        if number:
            text.append("\n")
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


def _shape(size, channels) -> str:
    return size_text(size, channels, sep="×")


COLUMNS = [("#", "right"), ("layer", "left"), ("in", "right"), ("out", "right"),
           ("rf", "right"), ("jump", "right"), ("start", "right"), ("diagnostics", "left")]


def build(result: Result, explain: bool = False, wrap: bool = True) -> Table:
    """The table; with ``wrap`` (a terminal) long cells fold, without it (a pipe) none do.

    Every cell is a ``Text``: no markup is parsed out of what the user typed, and Rich
    renders it faster.
    """
    table = Table(title=None, show_lines=explain, header_style="bold")
    for name, justify in COLUMNS:
        minimum = len(str(len(result.rows))) if name == "#" else (10 if name == "layer" else None)
        no_wrap = not wrap and (name != "layer" or not explain)
        table.add_column(name, justify=justify, overflow="fold", no_wrap=no_wrap, min_width=minimum)
    blank = Text("")
    for row in result.rows:
        if not row.computed and row.error is None:
            table.add_row(Text(str(row.index)), Text(row.layer.text), blank, Text("not computed", style="dim"),
                          blank, blank, blank, blank)
            continue
        field = row.field
        layer_cell = Text(row.layer.text)
        if explain:
            for line in explain_row(row, result.convention):
                layer_cell.append("\n" + line, style="cyan")
        out = Text(_shape(row.out_size, row.out_channels)) if row.computed else Text("invalid", style="bold red")
        table.add_row(
            Text(str(row.index)),
            layer_cell,
            Text(_shape(row.in_size, row.in_channels)),
            out,
            Text(_per_axis(field.size)) if field else blank,
            Text(_per_axis(field.jump)) if field else blank,
            Text(_per_axis(field.start)) if field else blank,
            _codes(row),
        )
    return table


def render(result: Result, console: Console, explain: bool = False) -> None:
    piped = not console.is_terminal  # the caller gives a piped console room for the table's natural width
    table = build(result, explain, wrap=not piped)
    console.print(table)
    for line in _messages(result):
        console.print(line, soft_wrap=piped)
    for line in summary_lines(result):
        style = "bold red" if not result.valid else "bold"
        console.print(Text(line, style=style), soft_wrap=piped)
