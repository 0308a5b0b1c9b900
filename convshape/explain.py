"""The arithmetic of a layer written out with its numbers, as the seed article shows it:
``floor((7 − 3 + 2·0) / 2) + 1 = 3``. Plain text; no terminal knowledge."""

from __future__ import annotations

from .arithmetic import AxisStep
from .calc import Row
from .diagnostics import decimal_or_fraction
from .layers import Convention, Kind, axis_names, drops_axes


def _padding_term(step: AxisStep) -> str:
    before, after = step.padding
    return f"2·{before}" if before == after else f"{before} + {after}"


def _kernel_term(step: AxisStep) -> str:
    if step.dilation and step.dilation > 1:
        return f"({step.dilation}·({step.kernel} − 1) + 1)"
    return str(step.effective_kernel)


def explain_step(kind: Kind, step: AxisStep) -> str:
    """One axis of one layer.

    >>> explain_step(Kind.CONV, AxisStep(7, 3, (0, 0), 3, 3, 2, 1))
    'floor((7 − 3 + 2·0) / 2) + 1 = 3'
    """
    if kind.is_windowed:
        if step.same_ceil:
            return f"ceil({step.in_size} / {step.stride}) = {step.out_size}  (padding {step.padding[0]}:{step.padding[1]})"
        rounding = "ceil" if step.ceil else "floor"
        text = f"{rounding}(({step.in_size} − {_kernel_term(step)} + {_padding_term(step)}) / {step.stride}) + 1"
        if step.ceil_dropped:
            return f"{text} − 1 = {step.out_size}  (the last window would start in the right padding)"
        return f"{text} = {step.out_size}"
    if kind is Kind.CONVT:
        return (
            f"({step.in_size} − 1)·{step.stride} − {_padding_term(step)} + {step.dilation}·({step.kernel} − 1)"
            f" + {step.output_padding} + 1 = {step.out_size}"
        )
    if kind is Kind.UP and step.scale is None:
        return f"resized from {step.in_size} to {step.out_size}"
    if kind is Kind.UP:
        return f"floor({step.in_size} · {decimal_or_fraction(step.scale)}) = {step.out_size}"
    if kind.is_adaptive:
        return f"{step.out_size} windows over {step.in_size}: window i from floor(i·{step.in_size}/{step.out_size}) " \
               f"to ceil((i+1)·{step.in_size}/{step.out_size})"
    if kind is Kind.PAD:
        return f"{step.in_size} + {step.padding[0]} + {step.padding[1]} = {step.out_size}"
    if kind is Kind.GAP:
        return f"global pooling over {step.in_size} = 1"
    return ""


def explain_row(row: Row, convention: Convention = Convention.TORCH) -> list[str]:
    """Lines explaining a computed row: one per axis, or one for all when they agree."""
    if not row.computed:
        return []
    kind = row.layer.kind
    if kind is Kind.FLATTEN:
        if row.in_size is None:
            return ["already flat"]
        channels = "?" if row.in_channels is None else str(row.in_channels)
        features = "?" if row.features is None else str(row.features)
        return [f"{' · '.join([channels, *map(str, row.in_size)])} = {features} features"]
    if kind is Kind.LINEAR:
        incoming = "?" if row.in_channels is None else row.in_channels
        return [f"{incoming} features → {row.out_channels}"]
    if kind.is_merge:  # its numbers are in its notes (crop, pad, broadcast)
        what = "channels joined" if kind is Kind.CAT else "elementwise"
        return [f"{what}: {'×'.join(map(str, row.out_size)) if row.out_size else 'flat'}, {row.out_channels} channels"]
    lines = [explain_step(kind, step) for step in row.steps]
    if drops_axes(row.layer, convention):
        lines = ["global pooling removes the spatial axes"]
    if len(set(lines)) == 1:
        return lines[:1]
    return [f"{name}: {line}" for name, line in zip(axis_names(len(lines)), lines)]
