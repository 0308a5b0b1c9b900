"""The Rich table: one row per layer, diagnostics coloured, the final shape under it."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..calc import Result, Row
from ..explain import explain_row
from .common import axes_text, size_text, summary_lines

STYLES = {"error": "bold red", "warning": "yellow", "note": "dim"}


def _diagnostics(row: Row) -> Text:
    text = Text()
    items = ([row.error] if row.error else []) + list(row.warnings) + list(row.notes)
    for number, diagnostic in enumerate(items):
        if number:
            text.append("\n")
        level = diagnostic.level.value
        text.append(f"{level} {diagnostic.code.value}: ", style=STYLES[level])
        text.append(diagnostic.message, style="dim" if level == "note" else None)
    return text


def _shape(size, channels) -> str:
    return size_text(size, channels, sep="×")


def build(result: Result, explain: bool = False) -> Table:
    table = Table(title=None, show_lines=explain, header_style="bold")
    for name, justify in [("#", "right"), ("layer", "left"), ("in", "right"), ("out", "right"),
                          ("rf", "right"), ("jump", "right"), ("start", "right"), ("diagnostics", "left")]:
        table.add_column(name, justify=justify, overflow="fold")
    for row in result.rows:
        if not row.computed and row.error is None:
            table.add_row(str(row.index), row.layer.text, "", Text("not computed", style="dim"), "", "", "", "")
            continue
        field = row.field
        layer_cell = Text(row.layer.text)
        if explain:
            for line in explain_row(row, result.convention):
                layer_cell.append("\n" + line, style="cyan")
        out = _shape(row.out_size, row.out_channels) if row.computed else Text("invalid", style="bold red")
        table.add_row(
            str(row.index),
            layer_cell,
            _shape(row.in_size, row.in_channels),
            out,
            axes_text(field.size) if field else "",
            axes_text(field.jump) if field else "",
            axes_text(field.start) if field else "",
            _diagnostics(row),
        )
    return table


def render(result: Result, console: Console, explain: bool = False) -> None:
    console.print(build(result, explain))
    for line in summary_lines(result):
        style = "bold red" if not result.valid else "bold"
        console.print(Text(line, style=style))
