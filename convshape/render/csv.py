"""CSV and TSV output: a header row, then one row per layer; per-axis values joined by 'x',
lists (the rows a row reads, the names it binds) by ';'."""

from __future__ import annotations

import csv
import io

from ..calc import Result, Row
from ..layers import layer_label
from .common import axes_text, padding_text, stride_values

COLUMNS = [
    "index", "spec", "kind", "in_size", "out_size", "in_channels", "out_channels", "features", "tokens",
    "kernel", "stride", "padding", "dilation", "rf_size", "rf_jump", "rf_start",
    "error", "warnings", "notes", "inputs", "names", "rf_min_size",
    "params", "buffers", "macs", "output_bytes",
]


def _cells(row: Row, result: Result, cost=None) -> list:
    layer = row.layer
    field = row.field if row.computed else None

    def maybe(value):
        return "" if value is None else value

    return [
        row.index,
        layer_label(layer, row.index),
        layer.kind.value,
        axes_text(row.in_size),
        axes_text(row.out_size),
        maybe(row.in_channels),
        maybe(row.out_channels),
        maybe(row.features),
        maybe(row.tokens),
        axes_text(layer.kernel),
        axes_text(stride_values(row)),
        padding_text(row.padding),
        axes_text(layer.dilation),
        axes_text(field.size) if field else "",
        axes_text(field.jump) if field else "",
        axes_text(field.start) if field else "",
        row.error.code.value if row.error else "",
        ";".join(d.code.value for d in row.warnings),
        ";".join(d.code.value for d in row.notes),
        ";".join(map(str, result.inputs(row.index))),
        ";".join(result.binds.get(row.index, ())),
        axes_text(row.min_size or field.size) if field else "",
        *(("", "", "", "") if cost is None else (maybe(cost.params), maybe(cost.buffers), maybe(cost.macs),
                                                 maybe(cost.output_bytes))),
    ]


def render(result: Result, delimiter: str = ",", costs=None) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in result.rows:
        writer.writerow(_cells(row, result, None if costs is None else costs.rows[row.index - 1]))
    return buffer.getvalue()
