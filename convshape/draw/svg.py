"""SVG text for the pictures, written by hand: self-contained, readable in any browser.

A layer picture is a static summary (the input grid with its padding, the pixels never
read and the outputs that see only padding in the warning colour) with one frame per
output position on top: each frame shows the window's taps and its output, and the
frames take turns (SMIL, no script). ``frame`` draws one of them alone instead.
"""

from __future__ import annotations

from itertools import product
from xml.sax.saxutils import escape

from . import CEIL, OUTPUT, PADDING, REAL, UNREAD, WINDOW, ZERO
from .layer import LayerPicture

FONT = "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\""
SECONDS_PER_FRAME = 0.8


def _document(width: float, height: float, body: list[str], title: str) -> str:
    return "\n".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}" height="{height:g}" '
        f'viewBox="0 0 {width:g} {height:g}">',
        f"<title>{escape(title)}</title>",
        f'<rect x="0" y="0" width="{width:g}" height="{height:g}" fill="#ffffff"/>',
        *body,
        "</svg>",
    ]) + "\n"


def scaled(text: str, factor: float) -> str:
    """A picture drawn ``factor`` times as large: its <svg> element's width and height, the
    viewBox unchanged, so every renderer (a browser, cairo for PNG) scales it whole."""
    if factor == 1:
        return text
    head, rest = text.split(">", 1)
    for name in ("width", "height"):
        start = head.index(f' {name}="') + len(name) + 3
        end = head.index('"', start)
        head = head[:start] + f"{float(head[start:end]) * factor:g}" + head[end:]
    return head + ">" + rest


def _text(x: float, y: float, text: str, size: int = 13, anchor: str = "start", extra: str = "") -> str:
    return f'<text x="{x:g}" y="{y:g}" font-size="{size}" text-anchor="{anchor}" {FONT}{extra}>{escape(text)}</text>'


def cell_size(picture: LayerPicture) -> int:
    rows, columns = picture.grid
    return 28 if max(rows, columns) <= 12 else 20 if max(rows, columns) <= 24 else 14


def layer_svg(picture: LayerPicture, frame: int | None = None) -> str:
    """The picture as SVG: the summary with every frame animated in turn, or frame ``frame``
    (1-based, row-major over the outputs) alone."""
    size = cell_size(picture)
    rows, columns = picture.grid
    out_rows, out_columns = picture.output_grid
    margin, top = 20, 80
    gap = 3 * size
    input_x, output_x = margin, margin + columns * size + gap
    legend, legend_width = _legend(picture, margin, top + max(rows, out_rows) * size + 24)
    width = max(output_x + out_columns * size + margin, legend_width + 2 * margin, 6.6 * len(_subtitle(picture)) + 2 * margin)
    height = top + max(rows, out_rows) * size + 70
    layer = picture.layer
    in_text = "×".join(str(sum(c == "real" for c in axis.cells) if layer.kind.value != "convt"
                           else axis.step.in_size) for axis in picture.axes)
    out_text = "×".join(str(axis.out_size) for axis in picture.axes)
    body = [_text(margin, 26, f"{layer.text} on {in_text} → {out_text}", 16, extra=' font-weight="bold"'),
            _text(margin, 46, _subtitle(picture), 12, extra=' fill="#555555"')]
    # the input grid: padding apart, the pixels never read in the warning colour
    body.append('<g id="input">')
    for row, column in product(range(rows), range(columns)):
        position = picture.at(row, column)
        kind = picture.cell(position)
        fill = UNREAD if picture.unread(position) else {"real": REAL, "pad": PADDING, "zero": ZERO, "ceil": CEIL}[kind]
        dash = ' stroke-dasharray="3 2"' if kind != "real" else ""
        body.append(f'<rect class="cell {kind}{" unread" if picture.unread(position) else ""}" '
                    f'x="{input_x + column * size}" y="{top + row * size}" width="{size}" height="{size}" '
                    f'fill="{fill}" stroke="#888888" stroke-width="1"{dash}/>')
    body.append("</g>")
    body.append('<g id="output">')
    for row, column in product(range(out_rows), range(out_columns)):
        output = picture.at(row, column)
        alone = picture.padding_only(output)
        body.append(f'<rect class="cell output{" padding-only" if alone else ""}" '
                    f'x="{output_x + column * size}" y="{top + row * size}" width="{size}" height="{size}" '
                    f'fill="{UNREAD if alone else OUTPUT}" stroke="#4a6fa5" stroke-width="1"/>')
    body.append("</g>")
    body.append(_text(input_x, top - 6, "input", 12, extra=' fill="#333333"'))
    body.append(_text(output_x, top - 6, "output", 12, extra=' fill="#333333"'))
    body += legend
    outputs = list(product(range(out_rows), range(out_columns)))
    count = len(outputs)
    if frame is not None and not 1 <= frame <= count:
        raise ValueError(f"frame {frame} of {count}")
    for number, (row, column) in enumerate(outputs, start=1):
        if frame is not None and number != frame:
            continue
        output = picture.at(row, column)
        taps = [picture.axes[0].windows[output[0]]] if len(output) == 1 else \
            [picture.axes[0].windows[output[0]], picture.axes[1].windows[output[1]]]
        cells = [(0, t) for t in taps[0]] if len(taps) == 1 else list(product(taps[0], taps[1]))
        # The first frame shows where nothing animates (a PNG, a viewer without SMIL): a window, not none.
        visible = "visible" if frame is not None or number == 1 else "hidden"
        body.append(f'<g class="frame" id="frame{number}" visibility="{visible}">')
        if frame is None:
            start, end = (number - 1) / count, number / count
            times = f"0;{start:.6g};{end:.6g}" if number < count else f"0;{start:.6g}"
            values = "hidden;visible;hidden" if number < count else "hidden;visible"
            body.append(f'<animate attributeName="visibility" values="{values}" keyTimes="{times}" '
                        f'dur="{count * SECONDS_PER_FRAME:g}s" calcMode="discrete" repeatCount="indefinite"/>')
        for tap_row, tap_column in cells:
            body.append(f'<rect class="tap" x="{input_x + tap_column * size + 2}" y="{top + tap_row * size + 2}" '
                        f'width="{size - 4}" height="{size - 4}" fill="{WINDOW}" fill-opacity="0.55"/>')
        body.append(f'<rect class="current" x="{output_x + column * size + 2}" y="{top + row * size + 2}" '
                    f'width="{size - 4}" height="{size - 4}" fill="{WINDOW}" fill-opacity="0.75"/>')
        label = f"output {', '.join(map(str, output))}  ({number}/{count})"
        body.append(_text(output_x, top + max(rows, out_rows) * size + 18, label, 12, extra=' fill="#2f6fd6"'))
        body.append("</g>")
    title = f"convshape: {layer.text} on {in_text}"
    return _document(width, height, body, title)


def _subtitle(picture: LayerPicture) -> str:
    steps = [axis.step for axis in picture.axes]
    words = [f"kernel {'×'.join(str(s.kernel) for s in steps)}", f"stride {'×'.join(str(s.stride) for s in steps)}"]
    pads = [f"{s.padding[0]}:{s.padding[1]}" if s.padding[0] != s.padding[1] else str(s.padding[0]) for s in steps]
    words.append(f"padding {'×'.join(pads)}")
    if any(s.dilation != 1 for s in steps):
        words.append(f"dilation {'×'.join(str(s.dilation) for s in steps)}")
    if any(s.ceil for s in steps):
        words.append("ceil mode")
    if picture.layer.kind.value == "convt":
        words.append("as a stride-1 conv over the input spread out by its stride")
    return ", ".join(words)


def _legend(picture: LayerPicture, x: float, y: float) -> tuple[list[str], float]:
    entries = [(REAL, "input pixel"), (PADDING, "padding"), (WINDOW, "window")]
    if any("zero" in axis.cells for axis in picture.axes):
        entries.insert(2, (ZERO, "zero between pixels"))
    if any("ceil" in axis.cells for axis in picture.axes):
        entries.insert(2, (CEIL, "ceil mode's overhang"))
    unread, alone = picture.unread_count, picture.padding_only_count
    if unread:
        entries.append((UNREAD, f"never read ({unread})"))
    if alone:
        entries.append((UNREAD, f"sees only padding ({alone})"))
    parts = []
    for index, (colour, words) in enumerate(entries):
        left = x + index * 150
        parts.append(f'<rect x="{left:g}" y="{y + 16:g}" width="12" height="12" fill="{colour}" stroke="#888888"/>')
        parts.append(_text(left + 18, y + 26, words, 12))
    return parts, 150 * len(entries)


def ways_text(count: int) -> str:
    """A count of paths, in full below a million; beyond, its leading digits and its power of
    ten (a thousand 3×3 convs reach a pixel in a number of ways 478 digits long).

    >>> ways_text(123456), ways_text(31821199380090873994)
    ('123,456', '3.18×10^19')
    """
    if count < 10 ** 6:
        return f"{count:,}"
    digits = str(count)
    return f"{digits[0]}.{digits[1:3]}×10^{len(digits) - 1}"


def field_svg(picture) -> str:
    """The input grid with the pixels a unit reaches, shaded by the number of paths; and where
    the graph has few paths, one grid more per path, in its colour."""
    from math import log2

    from . import FIELD, PATHS

    rows, columns = picture.grid
    size = 18 if max(rows, columns) <= 24 else 10 if max(rows, columns) <= 48 else 6
    panels = [("all paths", None, FIELD)] + [
        (f"path {n}: rows {' ← '.join(map(str, path))}", pixels, PATHS[(n - 1) % len(PATHS)])
        for n, (path, pixels) in enumerate(picture.paths, start=1)]
    margin, top = 20, 80
    panel_width = max(columns * size, 180) + 30
    width = margin * 2 + panel_width * len(panels)
    height = top + rows * size + 60
    unit = ", ".join(map(str, picture.unit))
    most = max(picture.paths_through.values(), default=1)
    title = f"the receptive field of unit ({unit}) of row {picture.row}: {picture.label}"
    subtitle = picture.reached_text + (
        f", the most-reached one {ways_text(most)} ways" if most > 1 else "")
    width = max(width, 2 * margin + 9.5 * len(title), 2 * margin + 7 * len(subtitle))  # no text cut off
    body = [_text(margin, 26, title, 16, extra=' font-weight="bold"'),
            _text(margin, 46, subtitle, 12, extra=' fill="#555555"')]
    for number, (title, pixels, colour) in enumerate(panels):
        left = margin + number * panel_width
        body.append(f'<g class="panel" id="panel{number}">')
        body.append(_text(left, top - 8, title, 12))
        for row, column in product(range(rows), range(columns)):
            position = picture.at(row, column)
            count = picture.paths_through.get(position, 0) if pixels is None else int(position in pixels)
            if count:
                opacity = 1.0 if pixels is not None or most == 1 else 0.35 + 0.65 * log2(count + 1) / log2(most + 1)
                fill = f'fill="{colour}" fill-opacity="{opacity:.3g}"'
                kind = "reached"
            else:
                fill, kind = f'fill="{REAL}"', "unreached"
            body.append(f'<rect class="cell {kind}" x="{left + column * size}" y="{top + row * size}" '
                        f'width="{size}" height="{size}" {fill} stroke="#bbbbbb" stroke-width="0.5"/>')
        body.append("</g>")
    return _document(width, height, body, f"convshape: receptive field of unit ({unit}) of row {picture.row}")
