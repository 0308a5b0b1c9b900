"""A whole stack or graph as a diagram: one block per row, drawn to scale.

A block's height is its spatial size (the first axis) against the input's, its width the
channels on a log scale; it sits lower the more the input has been downsampled, so an
encoder goes down, a decoder comes back up, and a U-Net's skips run across. Rows that
keep the shape (norms, activations, dropout) fold into the block before them. Merges are
circles; a row that reads another than the one before gets an arrow from it; rows with
an error or warnings are outlined in red or orange, their messages in the block's tooltip.
"""

from __future__ import annotations

from math import log2
from typing import NamedTuple
from xml.sax.saxutils import escape

from ..layers import layer_label
from ..render.common import short_shape
from . import ERROR, UNREAD
from .svg import FONT, _document, _text

LEVEL_STEP = 70  # pixels per halving of the spatial size
MAX_HEIGHT = 150
GAP = 30


class Block(NamedTuple):
    row: int  # 0: the input
    label: str
    shape: str
    x: float
    y: float  # the centre line
    width: float
    height: float
    merge: str | None  # "+", "×", "‖" for a merge
    sources: tuple[int, ...]  # the drawn rows it reads
    level: str  # "", "warning", "error", "skipped"
    messages: tuple[str, ...]
    stacked: bool = False  # below another block of its column: its labels live in its tooltip


def _width(channels: int | None) -> float:
    return 6 + 5 * log2((channels or 1) + 1)


def layout(result) -> list[Block]:
    """The blocks of ``result`` (calc's), left to right in row order."""
    rows = result.rows
    first = result.input_size[0]
    drawn: dict[int, int] = {0: 0}  # row -> the drawn row that stands for it (a kept-shape row: the one before)
    blocks = [Block(0, "input", short_shape(result.input_size, result.input_channels, None), 0, 0,
                    _width(result.input_channels), MAX_HEIGHT, None, (), "", ())]
    levels = {0: 0.0}
    last_level = 0.0
    for row in rows:
        layer = row.layer
        sources = tuple(dict.fromkeys(drawn[s] for s in result.inputs(row.index)))
        messages = tuple(d.message for d in ((row.error,) if row.error else ()) + row.warnings)
        level = "error" if row.error else "warning" if row.warnings else "" if row.computed else "skipped"
        if layer.kind.keeps_shape and row.computed and not row.error:
            owner = sources[0]
            drawn[row.index] = owner
            if messages:  # its warnings mark the block it folds into
                index = next(i for i, b in enumerate(blocks) if b.row == owner)
                block = blocks[index]
                blocks[index] = block._replace(messages=block.messages + messages,
                                               level=block.level or level)
            continue
        drawn[row.index] = row.index
        size = row.out_size
        if size is not None and row.computed:
            height = max(6.0, MAX_HEIGHT * size[0] / max(first, 1))
            level_value = log2(max(first, 1) / max(size[0], 1))
            width = _width(row.out_channels)
        else:
            height, width = 40.0, 6.0
            level_value = last_level + 0.5 if row.computed else last_level
        last_level = level_value if size is not None else last_level
        levels[row.index] = level_value
        merge = {"add": "+", "mul": "×", "cat": "‖"}.get(layer.kind.value)
        shape = short_shape(size, row.out_channels, row.features) if row.computed else "not computed"
        blocks.append(Block(row.index, layer_label(layer, row.index), shape, 0, level_value, width, height, merge,
                            sources, level, messages))
    return _place(blocks)


def _place(blocks: list[Block]) -> list[Block]:
    """Columns by depth (the longest way from the input), so that parallel branches stand one
    above the other; within a column, the first block on its level's line and the others below."""
    depth: dict[int, int] = {}
    for block in blocks:
        depth[block.row] = 1 + max((depth[s] for s in block.sources), default=-1)
    columns: dict[int, list[Block]] = {}
    for block in blocks:
        block = block._replace(width=18.0 if block.merge else block.width,
                               height=18.0 if block.merge else block.height)
        columns.setdefault(depth[block.row], []).append(block)
    placed, x = [], 20.0
    for column in sorted(columns):
        below = None
        for block in columns[column]:
            centre = 40 + MAX_HEIGHT / 2 + 120 + block.y * LEVEL_STEP
            if below is not None:
                centre = max(centre, below + 30 + block.height / 2)
            placed.append(block._replace(x=x, y=centre, stacked=below is not None))
            below = centre + block.height / 2
        x += max(block.width for block in columns[column]) + GAP
    return sorted(placed, key=lambda block: block.row)


def network_svg(result, title: str = "") -> str:
    blocks = layout(result)
    by_row = {block.row: block for block in blocks}
    width = max(b.x + b.width for b in blocks) + 140
    height = max(b.y + b.height / 2 for b in blocks) + 150
    body = ['<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
            'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555555"/></marker></defs>']
    if title:
        body.append(_text(20, 28, title, 16, extra=' font-weight="bold"'))
    previous = {block.row: before.row for before, block in zip(blocks, blocks[1:])}
    for block in blocks:
        for source in block.sources:
            start = by_row[source]
            # Dashed where the row reads another than the one before it (a name, from): as the README says.
            body.append(_arrow(start, block, adjacent=block.x - (start.x + start.width) <= GAP + 0.5,
                               named=source != previous.get(block.row, 0)))
    for block in blocks:
        body += _block(block)
    return _document(width, height, body, title or "convshape network diagram")


def _arrow(source: Block, target: Block, adjacent: bool, named: bool = False) -> str:
    x1, y1 = source.x + source.width, source.y
    x2, y2 = target.x, target.y
    kind, dash = ("arrow skip", ' stroke-dasharray="5 3"') if named else ("arrow", "")
    if adjacent and abs(y1 - y2) < 1:
        return f'<line class="{kind}" x1="{x1:g}" y1="{y1:g}" x2="{x2 - 1:g}" y2="{y2:g}" stroke="#555555" ' \
               f'stroke-width="1.2"{dash} marker-end="url(#arrow)"/>'
    if adjacent:
        path = f"M {x1:g} {y1:g} C {x1 + 12:g} {y1:g} {x2 - 12:g} {y2:g} {x2 - 1:g} {y2:g}"
    else:  # a skip: arch over the blocks between
        lift = min(y1, y2) - 40 - 0.08 * (x2 - x1) ** 0.9
        path = f"M {x1:g} {y1:g} C {x1 + 30:g} {lift:g} {x2 - 30:g} {lift:g} {x2 - 1:g} {y2:g}"
    return f'<path class="{kind}" d="{path}" fill="none" stroke="#555555" stroke-width="1.2"{dash} ' \
           'marker-end="url(#arrow)"/>'


def _block(block: Block) -> list[str]:
    colour = {"error": ERROR, "warning": UNREAD}.get(block.level, "#4a6fa5")
    stroke = 2.5 if block.level in ("error", "warning") else 1
    tooltip = f"{block.row}: {block.label} -> {block.shape}" + "".join(f"\n{m}" for m in block.messages)
    parts = [f'<g class="block {block.level}" id="row{block.row}"><title>{escape(tooltip)}</title>']
    top = block.y - block.height / 2
    if block.merge:
        parts.append(f'<circle cx="{block.x + 9:g}" cy="{block.y:g}" r="9" fill="#ffffff" stroke="{colour}" '
                     f'stroke-width="{stroke}"/>')
        parts.append(_text(block.x + 9, block.y + 4.5, block.merge, 13, "middle"))
    else:
        fill = "#f2f2f2" if block.level == "skipped" else "#cfe0fc" if block.row else "#e8e8e8"
        dash = ' stroke-dasharray="4 3"' if block.level == "skipped" else ""
        parts.append(f'<rect x="{block.x:g}" y="{top:g}" width="{block.width:g}" height="{block.height:g}" '
                     f'fill="{fill}" stroke="{colour}" stroke-width="{stroke}"{dash}/>')
    if not block.stacked:
        label_y = top - 6
        parts.append(f'<text x="{block.x + 2:g}" y="{label_y:g}" font-size="10" {FONT} '
                     f'transform="rotate(-60 {block.x + 2:g} {label_y:g})">{escape(block.label[:28])}</text>')
        shape_y = block.y + block.height / 2 + 10
        parts.append(f'<text x="{block.x + 2:g}" y="{shape_y:g}" font-size="10" fill="#444444" {FONT} '
                     f'transform="rotate(60 {block.x + 2:g} {shape_y:g})">{escape(block.shape)}</text>')
    if block.level in ("error", "warning"):
        parts.append(_text(block.x + block.width / 2, top - 24 if not block.merge else block.y - 14, "!", 14,
                           "middle", f' fill="{colour}" font-weight="bold"'))
    parts.append("</g>")
    return parts
