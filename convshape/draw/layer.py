"""One layer on its input, in the style of Dumoulin and Visin's conv_arithmetic: the input
grid with its padding, the window at each output position, the output grid.

Everything is per axis and the picture is their product: a cell of a 2-D grid is real
when it is real on both axes, a window's taps are the product of its taps on each axis.
A transposed convolution is drawn as what it computes: a stride-1 convolution over the
input with s − 1 zeros between its pixels, padded by kₑ − 1 − p on each side (and the
output padding after).
"""

from __future__ import annotations

from itertools import product
from math import prod
from typing import NamedTuple

from ..arithmetic import AxisStep, axis_step
from ..layers import Convention, Layer
from . import DrawError

MAX_CELLS = 48  # per axis, padding included: beyond it the picture is no longer readable


class AxisPicture(NamedTuple):
    """One axis: its cells ("pad", "real", "zero", and "ceil": past the padding, where only
    ceil mode's last window reaches), each output's taps (cell indices), the
    real cells no window reads, and the outputs whose taps touch no real cell."""

    cells: tuple[str, ...]
    windows: tuple[tuple[int, ...], ...]
    unread: frozenset[int]
    padding_only: frozenset[int]
    step: AxisStep

    @property
    def out_size(self) -> int:
        return len(self.windows)


class LayerPicture(NamedTuple):
    layer: Layer
    axes: tuple[AxisPicture, ...]  # one per spatial axis (1-D: one)
    convention: Convention

    @property
    def frames(self) -> int:
        """One frame per output position."""
        return prod(axis.out_size for axis in self.axes)

    @property
    def grid(self) -> tuple[int, int]:
        """(rows, columns) of the input grid, padding included: a 1-D input is one row."""
        sizes = [len(axis.cells) for axis in self.axes]
        return (1, sizes[0]) if len(sizes) == 1 else (sizes[0], sizes[1])

    @property
    def output_grid(self) -> tuple[int, int]:
        sizes = [axis.out_size for axis in self.axes]
        return (1, sizes[0]) if len(sizes) == 1 else (sizes[0], sizes[1])

    def at(self, row: int, column: int) -> tuple[int, ...]:
        """The position of a grid cell: (column,) on one axis."""
        return (column,) if len(self.axes) == 1 else (row, column)

    @property
    def unread_count(self) -> int:
        return sum(self.unread(p) for p in product(*(range(len(a.cells)) for a in self.axes)))

    @property
    def padding_only_count(self) -> int:
        return sum(self.padding_only(o) for o in product(*(range(a.out_size) for a in self.axes)))

    def cell(self, position: tuple[int, ...]) -> str:
        kinds = [axis.cells[i] for axis, i in zip(self.axes, position)]
        for kind in ("ceil", "pad", "zero"):  # outside the input first: no pixel is there
            if kind in kinds:
                return kind
        return "real"

    def unread(self, position: tuple[int, ...]) -> bool:
        return self.cell(position) == "real" and any(i in axis.unread for axis, i in zip(self.axes, position))

    def padding_only(self, output: tuple[int, ...]) -> bool:
        return any(o in axis.padding_only for axis, o in zip(self.axes, output))


def axis_picture(layer: Layer, axis: int, in_size: int, convention: Convention) -> AxisPicture:
    """The cells and windows of ``layer`` on one axis of size ``in_size``.

    >>> from convshape.kinds import Kind
    >>> picture = axis_picture(Layer(Kind.CONV, "conv k3 s2", 1, (3,), (2,), dilation=(1,)), 0, 6, Convention.TORCH)
    >>> picture.windows, sorted(picture.unread)
    (((0, 1, 2), (2, 3, 4)), [5])
    """
    step = axis_step(layer, axis, in_size, convention)
    k, d = step.kernel, step.dilation
    count, stride = layer.kind.op.picture_extent(layer, step, in_size)
    reach = (step.out_size - 1) * stride + (k - 1) * d + 1 if step.out_size > 0 else 0  # ceil mode's overhang
    if max(count, reach) > MAX_CELLS:  # said before a cell is made: a kernel of 10^15 is no list of 10^15
        raise DrawError(f"{max(count, reach):,} cells on an axis (padding included): a layer picture is readable up"
                        f" to {MAX_CELLS}; draw it on a smaller input (-i)")
    cells, stride = layer.kind.op.picture_cells(layer, step, in_size)  # a transposed conv's input is spread out
    windows = tuple(tuple(o * stride + j * d for j in range(k)) for o in range(step.out_size))
    cells += ["ceil"] * max(reach - len(cells), 0)  # ceil mode's last window overhangs input and padding
    read = {tap for window in windows for tap in window}
    unread = frozenset(i for i, kind in enumerate(cells) if kind == "real" and i not in read)
    padding_only = frozenset(o for o, window in enumerate(windows) if all(cells[t] != "real" for t in window))
    return AxisPicture(tuple(cells), windows, unread, padding_only, step)


def layer_picture(layer: Layer, in_size: tuple[int, ...], convention: Convention) -> LayerPicture:
    """The picture of a conv, convt or pool on an input of ``in_size`` (1 or 2 axes)."""
    if not layer.kind.op.slides:
        raise DrawError(f"{layer.text}: a layer picture shows a window sliding; draw a conv, convt or pool"
                        " (or a whole stack, for its network diagram)")
    if len(in_size) > 2:
        raise DrawError(f"a layer picture is drawn on 1 or 2 axes, not {len(in_size)}")
    axes = tuple(axis_picture(layer, axis, size, convention) for axis, size in enumerate(in_size))
    return LayerPicture(layer, axes, convention)
