"""Text for values, shared by every renderer; plain Python, no terminal."""

from __future__ import annotations

from ..calc import Output, Result, Row
from ..diagnostics import decimal_or_fraction
from ..layers import layer_label


def number(value) -> int | float | None:
    """A JSON number: an int when whole, else the nearest float (exact inside, numbers outside)."""
    if value is None or type(value) is int:
        return value
    return value.numerator if value.denominator == 1 else value.numerator / value.denominator


def axes_text(values, sep: str = "x") -> str:
    """``(224, 224)`` -> ``224x224``; fractions exact; empty for None.

    >>> from fractions import Fraction
    >>> axes_text((Fraction(1, 2), 3))
    '0.5x3'
    """
    if values is None:
        return ""
    return sep.join("?" if v is None else decimal_or_fraction(v) for v in values)


def structure_text(result: Result, index: int) -> str:
    """What a table shows of the graph on row ``index``: the rows it reads, where that is not
    just the row before (``← 1, 3``), and the names it binds (``@x``).

    >>> from convshape import calc
    >>> result = calc("conv k3 p1 @x conv k3 p1, add x", 8)
    >>> [structure_text(result, index) for index in (1, 2, 3)]
    ['@x', '', '← 1, 2']
    """
    parts = []
    if index in result.reads:
        parts.append("← " + ", ".join("input" if source == 0 else str(source) for source in result.reads[index]))
    parts += [f"@{name}" for name in result.binds.get(index, ())]
    return "  ".join(parts)


def padding_text(padding) -> str:
    if padding is None:
        return ""
    return "x".join(str(b) if b == a else f"{b}:{a}" for b, a in padding)


def stride_values(row: Row):
    layer = row.layer
    return layer.kind.op.stride_values(layer)


def quiet_shape(output: Output, sep: str = "x") -> str:
    """The final shape alone: ``512x7x7``, ``7x7`` when channels are unknown, ``25088`` when flat.

    >>> quiet_shape(Output((7, 7), 512, 25088))
    '512x7x7'
    """
    if output.tokens is not None:
        return f"{output.tokens}{sep}{'?' if output.channels is None else output.channels}"
    if output.size is None:
        return "?" if output.channels is None else str(output.channels)
    parts = ([] if output.channels is None else [output.channels]) + list(output.size)
    return sep.join(map(str, parts))


def size_text(size, channels, sep: str = " × ", tokens: int | None = None) -> str:
    """``512 × 7 × 7`` for a table; ``?`` for unknown channels; ``197 × 768 tokens`` for a
    sequence (tokens × width)."""
    if tokens is not None:
        return f"{tokens}{sep}{'?' if channels is None else channels} tokens"
    if size is None:
        return "?" if channels is None else f"{channels} features"
    return sep.join(["?" if channels is None else str(channels), *map(str, size)])


def short_shape(size, channels, features, tokens: int | None = None) -> str:
    """A row's output in a comment or a label: ``64×56×56``, ``1000`` once flat, ``?`` where
    unknown, ``197×768`` for a sequence (tokens × width).

    >>> short_shape((56, 56), 64, None), short_shape(None, 1000, 1000), short_shape((7, 7), None, None)
    ('64×56×56', '1000', '?×7×7')
    """
    if tokens is not None:
        return f"{tokens}×{'?' if channels is None else channels}"
    if size is None:
        return "?" if features is None else str(features)
    return "×".join(["?" if channels is None else str(channels), *map(str, size)])


def summary_lines(result: Result) -> list[str]:
    """What the last layer leaves: the shape, and what the next nn.Linear needs."""
    if result.output is None:
        row = result.error_row
        return [f"invalid: layer {row.index} ({layer_label(row.layer, row.index)}) cannot run: {row.error.code.value}"]
    output = result.output
    outputs = result.output_rows
    if len(outputs) > 1:  # bound rows nothing reads leave the network too (an FPN's levels)
        return [f"outputs ({len(outputs)}): " + ", ".join(
            f"{output_name(result, row)} {size_text(result.rows[row - 1].out_size, result.rows[row - 1].out_channels, tokens=result.rows[row - 1].tokens)}"
            for row in outputs)]
    lines = [f"output: {size_text(output.size, output.channels, tokens=output.tokens)}"]
    if output.tokens is not None:
        return lines
    last = result.rows[-1].layer.kind if result.rows else None
    if output.features is None:
        if output.size is None or last.op.flattens:
            lines.append(f"the feature count needs the input channels: {CHANNELS_HINT}")
    elif output.size is None:
        if not last.op.reads_flat:  # after a classifier, its outputs are the answer, not a next layer's input
            lines.append(f"the next linear layer needs in_features = {output.features}")
    else:
        lines.append(f"after flatten: in_features = {output.features}")
    return lines


def output_name(result: Result, row: int) -> str:
    """An output as a user names it: its bound name and row (``p3 (row 182)``), or its row."""
    names = result.binds.get(row)
    return f"{names[-1]} (row {row})" if names else f"row {row}"


CHANNELS_HINT = "give them with -c (as -c 3 for RGB)"


def readable(value: int | None, unit: str = "") -> str:
    """A count in three significant digits with an SI prefix, rounded half to even:
    ``25557032`` -> ``25.6 M``; below 1000 as it is; ``?`` for unknown.

    >>> readable(25557032), readable(4089184256), readable(999), readable(999_500), readable(1_250, "B")
    ('25.6 M', '4.09 G', '999', '1.00 M', '1.25 kB')
    """
    if value is None:
        return "?"
    units = ["", " k" if unit else " K", " M", " G", " T", " P", " E", " Z", " Y"]
    if abs(value) < 1000:
        return f"{value}{' ' + unit if unit else ''}"
    power = 0
    while power < len(units) - 1 and abs(value) >= 1000 ** (power + 1):
        power += 1
    digits = max(0, 3 - len(str(abs(value) // 1000 ** power)))  # decimals that leave three significant digits
    rounded = _round_half_even(abs(value) * 10 ** digits, 1000 ** power)
    if rounded == 1000:  # rounding made a fourth digit: 9.995 is 10.0, 999.5 K is 1.00 M
        if digits:
            digits, rounded = digits - 1, 100
        elif power < len(units) - 1:
            power, digits, rounded = power + 1, 2, 100
    whole, part = divmod(rounded, 10 ** digits)
    text = f"{'-' if value < 0 else ''}{whole}" + (f".{part:0{digits}d}" if digits else "")
    return f"{text}{units[power]}{unit}"


def _round_half_even(numerator: int, denominator: int) -> int:
    quotient, remainder = divmod(numerator, denominator)
    if 2 * remainder > denominator or 2 * remainder == denominator and quotient % 2:
        quotient += 1
    return quotient


def count_text(value: int) -> str:
    """``25,557,032 (25.6 M)``; below 1000 the number alone."""
    return f"{value:,}" if value < 1000 else f"{value:,} ({readable(value)})"


def cost_lines(costs) -> list[str]:
    """What a network costs, under the table (see ``counts``): parameters, MACs, memory."""
    totals = costs.totals
    if totals is None:
        return []
    what = "MACs" if not costs.flops else "FLOPs"
    value = totals.macs * (2 if costs.flops else 1)
    profile = ("torch's FlopCounterMode count" + ("" if costs.flops else ", halved")
               if costs.profile.value == "torch" else "torchinfo's mult-adds" + (", doubled" if costs.flops else ""))
    return [
        f"params: {count_text(totals.params)}"
        + (f", and {totals.buffers:,} in buffers" if totals.buffers else ""),
        f"{what}: {count_text(value)}: {profile}; batch {costs.batch}",
        f"memory, {costs.dtype}, batch {costs.batch}: params {readable(totals.param_bytes, 'B')}, "
        f"outputs {readable(totals.output_bytes, 'B')}, inference peak {readable(totals.peak_bytes, 'B')}",
    ]
