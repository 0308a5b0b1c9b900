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
from .svg import _document, _text

LEVEL_STEP = 70  # pixels per halving of the spatial size
MAX_HEIGHT = 150
GAP = 30  # between columns
MERGE = 18  # a merge's circle
FONT_SIZE = 11
LABEL = FONT_SIZE + 7  # room above a block for its layer, and below it for its shape
LANE_GAP = 8
MARGIN = 20
BLOCK_FILL = "#cfe0fc"
BLOCK_STROKE = "#4a6fa5"


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
    lane: int = 0  # the branch it stands in: lanes are rows of the picture, 0 on top
    span: float = 0.0  # its column's width: arrows leave a block there, past every label in the column


def _width(channels: int | None) -> float:
    return 6 + 5 * log2((channels or 1) + 1)


def layout(result) -> list[Block]:
    """The blocks of ``result`` (calc's), left to right in row order."""
    rows = result.rows
    first = result.input_size[0]
    drawn: dict[int, int] = {0: 0}  # row -> the drawn row that stands for it (a kept-shape row: the one before)
    blocks = [Block(0, "input", short_shape(result.input_size, result.input_channels, None), 0, 0,
                    _width(result.input_channels), MAX_HEIGHT, None, (), "", ())]
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
        merge = {"add": "+", "mul": "×", "cat": "‖"}.get(layer.kind.value)
        shape = short_shape(size, row.out_channels, row.features, row.tokens) if row.computed else "not computed"
        blocks.append(Block(row.index, layer_label(layer, row.index), shape, 0, level_value, width, height, merge,
                            sources, level, messages))
    return _place(blocks)




def _place(blocks: list[Block]) -> list[Block]:
    """Columns by depth (the longest way from the input), lanes by branch: a block continues
    the lane of the block it reads, unless that one is continued already; then it opens a
    lane, the lowest one free from its column on. A lane keeps one height offset across the
    picture, below every earlier lane's blocks and labels in each column it shares."""
    depth: dict[int, int] = {}
    for block in blocks:
        depth[block.row] = 1 + max((depth[s] for s in block.sources), default=-1)
    reach = dict(depth)  # the last column a block's arrows reach
    for block in blocks:
        for source in block.sources:
            reach[source] = max(reach[source], depth[block.row])
    lane: dict[int, int] = {}
    continued: set[int] = set()
    busy: list[int] = []  # per lane: the last column it is taken to
    for block in blocks:
        # a merge goes on in the highest lane it joins (the main path, above its shortcuts and branches)
        free = sorted((s for s in block.sources if s not in continued), key=lambda s: lane[s])
        if free:
            continued.add(free[0])
            lane[block.row] = lane[free[0]]
        else:
            column = depth[block.row]
            lane[block.row] = next((k for k in range(1, len(busy)) if busy[k] < column), max(len(busy), 1 if busy else 0))
            if lane[block.row] == len(busy):
                busy.append(-1)
        busy[lane[block.row]] = max(busy[lane[block.row]], reach[block.row])
    sized = [block._replace(width=MERGE if block.merge else block.width,
                            height=MERGE if block.merge else block.height, lane=lane[block.row])
             for block in blocks]
    # x: a column is as wide as its widest block or text
    columns: dict[int, list[Block]] = {}
    for block in sized:
        columns.setdefault(depth[block.row], []).append(block)
    left, span, x = {}, {}, float(MARGIN)
    for column in sorted(columns):
        left[column] = x
        span[column] = max(max(b.width, text_width(_label(b)), text_width(b.shape)) for b in columns[column])
        x += span[column] + GAP
    # y: each lane's offset, the smallest that clears the lanes above it in every shared column
    natural = {b.row: b.y * LEVEL_STEP for b in sized}
    offset: dict[int, float] = {}
    for current in sorted(set(lane.values())):
        needed = offset[current - 1] if current else 0.0
        for block in (b for b in sized if b.lane == current):
            for other in columns[depth[block.row]]:
                if other.lane < current:
                    other_bottom = natural[other.row] + offset[other.lane] + other.height / 2 + LABEL
                    needed = max(needed, other_bottom + LANE_GAP - (natural[block.row] - block.height / 2 - LABEL))
        offset[current] = needed
    placed = [b._replace(x=round(left[depth[b.row]], 1), y=round(natural[b.row] + offset[b.lane], 1),
                         span=round(span[depth[b.row]], 1), width=round(b.width, 1), height=round(b.height, 1))
              for b in sized]
    return placed


def _label(block: Block) -> str:
    """The text above a block: its layer, with a mark where it has a problem (the colour says which)."""
    return ("! " if block.level in ("error", "warning") else "") + block.label


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """A generous estimate of a text's width in DejaVu Sans (0.62 em a character)."""
    return 0.62 * size * len(text)


def network_svg(result, title: str = "") -> str:
    blocks = layout(result)
    by_row = {block.row: block for block in blocks}
    previous = {block.row: before.row for before, block in zip(blocks, blocks[1:])}
    edges = []
    for block in blocks:
        for source in block.sources:
            edges.append((by_row[source], block, source != previous.get(block.row, 0)))
    clears = [_clearance(blocks, start, end) for start, end, _ in edges]
    # the content's box: blocks with their labels, arches, title and legend; the picture is cropped to it
    top = min([b.y - b.height / 2 - LABEL for b in blocks] + [c - 2 for c in clears if c is not None])
    title_room = 34 if title else 0
    dy = round(MARGIN + title_room - top, 1)
    blocks = [b._replace(y=b.y + dy) for b in blocks]
    by_row = {block.row: block for block in blocks}
    clears = [c + dy if c is not None else None for c in clears]
    bottom = max(b.y + b.height / 2 + LABEL for b in blocks)
    legend, legend_width, legend_height = _legend(MARGIN, bottom + 14)
    right = max(b.x + b.span for b in blocks)
    width = max(right + MARGIN, legend_width + 2 * MARGIN, text_width(title, 16) + 2 * MARGIN)
    height = bottom + 14 + legend_height + MARGIN
    body = ['<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
            'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555555"/></marker></defs>']
    if title:
        body.append(_text(MARGIN, MARGIN + 16, title, 16, extra=' font-weight="bold"'))
    for (start, end, named), clear in zip(edges, clears):
        body.append(_arrow(by_row[start.row], by_row[end.row], clear, named))
    for block in blocks:
        body += _block(block)
    body += legend
    return _document(width, height, body, title or "convshape network diagram")


def _clearance(blocks: list[Block], source: Block, target: Block) -> float | None:
    """The height an arrow between columns apart runs at: None between columns side by side,
    else the source's height where nothing between stands there (a branch joining late),
    else the target's, else above every block and label between them (a shortcut)."""
    between = [b for b in blocks if source.x < b.x < target.x]
    if not between:
        return None
    for y in (source.y, target.y):
        if all(b.y + b.height / 2 + LABEL < y or b.y - b.height / 2 - LABEL > y for b in between):
            return y
    return min(min(b.y - b.height / 2 - LABEL for b in between), source.y, target.y) - 10


def _arrow(source: Block, target: Block, clear: float | None, named: bool) -> str:
    """From the middle of the source's right side to the middle of the target's left side:
    a curve through the gap between two columns side by side, a straight line where nothing
    stands between, else up over the blocks between and down again, in the gaps."""
    x1, y1 = source.x + source.width, source.y
    x2, y2 = target.x, target.y
    out = source.x + source.span  # past the column's labels, then in the gap
    kind, dash = ("arrow skip", ' stroke-dasharray="5 3"') if named else ("arrow", "")
    if clear is not None:
        up, down = out + GAP / 2, x2 - GAP / 2
        points = [(x1, y1), (up, y1), (up, clear), (down, clear), (down, y2), (x2 - 1, y2)]
        points = [p for i, p in enumerate(points) if i == 0 or p != points[i - 1]]
        path = "M " + " L ".join(f"{x:g} {y:g}" for x, y in points)
    elif abs(y1 - y2) < 1:
        path = f"M {x1:g} {y1:g} L {x2 - 1:g} {y2:g}"
    else:
        middle = (out + x2) / 2
        path = f"M {x1:g} {y1:g} L {out:g} {y1:g} C {middle:g} {y1:g} {middle:g} {y2:g} {x2 - 1:g} {y2:g}"
    return f'<path class="{kind}" id="edge{source.row}-{target.row}" d="{path}" fill="none" stroke="#555555" ' \
           f'stroke-width="1.2"{dash} marker-end="url(#arrow)"/>'


def _block(block: Block) -> list[str]:
    colour = {"error": ERROR, "warning": UNREAD}.get(block.level, BLOCK_STROKE)
    stroke = 2.5 if block.level in ("error", "warning") else 1
    tooltip = f"{block.row}: {block.label} -> {block.shape}" + "".join(f"\n{m}" for m in block.messages)
    parts = [f'<g class="block {block.level}" id="row{block.row}"><title>{escape(tooltip)}</title>']
    top = block.y - block.height / 2
    if block.merge:
        parts.append(f'<circle cx="{block.x + 9:g}" cy="{block.y:g}" r="9" fill="#ffffff" stroke="{colour}" '
                     f'stroke-width="{stroke}"/>')
        parts.append(_text(block.x + 9, block.y + 4.5, block.merge, 13, "middle"))
    else:
        fill = "#f2f2f2" if block.level == "skipped" else BLOCK_FILL if block.row else "#e8e8e8"
        dash = ' stroke-dasharray="4 3"' if block.level == "skipped" else ""
        parts.append(f'<rect x="{block.x:g}" y="{top:g}" width="{block.width:g}" height="{block.height:g}" '
                     f'fill="{fill}" stroke="{colour}" stroke-width="{stroke}"{dash}/>')
    marked = block.level in ("error", "warning")
    parts.append(_text(block.x, top - 5, _label(block), FONT_SIZE,
                       extra=f' class="label" fill="{colour if marked else "#222222"}"'))
    parts.append(_text(block.x, block.y + block.height / 2 + FONT_SIZE + 2, block.shape, FONT_SIZE,
                       extra=' class="shape" fill="#444444"'))
    parts.append("</g>")
    return parts


def _legend(x: float, y: float) -> tuple[list[str], float, float]:
    """What the shapes, lines and colours mean: the same on every diagram."""
    line = 18
    parts = [f'<g class="legend" transform="translate({x:g} {y:g})">']
    parts.append(f'<rect x="0" y="2" width="10" height="14" fill="{BLOCK_FILL}" stroke="{BLOCK_STROKE}"/>')
    parts.append(_text(18, 13, "a row's output: height = spatial size (first axis, to scale), width = channels "
                               "(log scale); lower = more downsampled", 12))
    parts.append(f'<circle cx="5" cy="{line + 8:g}" r="6" fill="#ffffff" stroke="{BLOCK_STROKE}"/>')
    parts.append(_text(18, line + 13, "a merge: + add, × mul, ‖ cat", 12))
    parts.append(f'<line x1="0" y1="{2 * line + 8:g}" x2="40" y2="{2 * line + 8:g}" stroke="#555555" '
                 'stroke-width="1.2" marker-end="url(#arrow)"/>')
    parts.append(_text(48, 2 * line + 13, "reads the row before", 12))
    parts.append(f'<line x1="200" y1="{2 * line + 8:g}" x2="240" y2="{2 * line + 8:g}" stroke="#555555" '
                 'stroke-width="1.2" stroke-dasharray="5 3" marker-end="url(#arrow)"/>')
    parts.append(_text(248, 2 * line + 13, "reads a name (from x, add x)", 12))
    for index, (colour, dash, words) in enumerate([(UNREAD, "", "warnings"), (ERROR, "", "error"),
                                                   ("#999999", ' stroke-dasharray="4 3"', "not computed")]):
        left = index * 130
        parts.append(f'<rect x="{left:g}" y="{3 * line + 2:g}" width="14" height="12" fill="#ffffff" '
                     f'stroke="{colour}" stroke-width="2"{dash}/>')
        parts.append(_text(left + 20, 3 * line + 13, words, 12))
    parts.append("</g>")
    return parts, text_width("a row's output: height = spatial size (first axis, to scale), width = channels "
                             "(log scale); lower = more downsampled", 12) + 18, 4 * line
