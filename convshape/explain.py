"""The arithmetic of a layer written out with its numbers, as the seed article shows it:
``floor((7 − 3 + 2·0) / 2) + 1 = 3``. Plain text; no terminal knowledge."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .arithmetic import AxisStep
from .calc import Row
from .layers import Convention, axis_names, drops_axes

if TYPE_CHECKING:
    from .kinds import Kind


def explain_step(kind: Kind, step: AxisStep) -> str:
    """One axis of one layer, as its kind writes it.

    >>> from convshape.kinds import Kind
    >>> explain_step(Kind.CONV, AxisStep(7, 3, (0, 0), 3, 3, 2, 1))
    'floor((7 − 3 + 2·0) / 2) + 1 = 3'
    """
    return kind.op.explain_step(step)


def explain_row(row: Row, convention: Convention = Convention.TORCH) -> list[str]:
    """Lines explaining a computed row: one per axis, or one for all when they agree."""
    if not row.computed:
        return []
    kind = row.layer.kind
    whole = kind.op.explain_row(row)  # flatten, linear, merges (a merge's numbers are in its notes)
    if whole is not None:
        return whole
    lines = [explain_step(kind, step) for step in row.steps]
    if drops_axes(row.layer, convention):
        lines = ["global pooling removes the spatial axes"]
    if len(set(lines)) == 1:
        return lines[:1]
    return [f"{name}: {line}" for name, line in zip(axis_names(len(lines)), lines)]
