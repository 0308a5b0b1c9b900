"""The receptive field of one output unit, pixel by pixel, through a whole stack or graph.

Walking back from the unit, each row maps the positions it needs to the positions of the
rows it reads: a window's taps (dilation leaves gaps, a stride larger than the kernel
skips pixels), a transposed conv's sources, a crop's or a pad's offset, a broadcast's
single pixel. At a merge the fields of its inputs are united, and the number of paths
through which each input pixel is reached is counted. Where the graph has few paths
from the unit to the input, each path's own pixels are kept apart.
"""

from __future__ import annotations

from collections import Counter
from itertools import product
from typing import NamedTuple

from ..layers import MergeMode
from ..merge import offsets
from . import DrawError

MAX_SIDE = 96  # per axis: beyond it a pixel grid is no longer a picture
MAX_PATHS = 6
MAX_READS = 1 << 16  # per axis, the input pixels one output may read for its field to be traced pixel by pixel


class FieldPicture(NamedTuple):
    input_size: tuple[int, ...]
    row: int
    label: str
    unit: tuple[int, ...]
    paths_through: dict  # input position -> how many paths reach it
    paths: tuple[tuple[tuple[int, ...], frozenset], ...]  # (rows from the unit to the input, the pixels), if few

    @property
    def grid(self) -> tuple[int, int]:
        """(rows, columns) of the input grid: a 1-D input is one row."""
        return (1, self.input_size[0]) if len(self.input_size) == 1 else self.input_size

    def at(self, row: int, column: int) -> tuple[int, ...]:
        return (column,) if len(self.input_size) == 1 else (row, column)

    @property
    def reached(self) -> frozenset:
        return frozenset(self.paths_through)

    @property
    def reached_text(self) -> str:
        """``9 input pixels reached``, ``1 input pixel reached``."""
        count = len(self.paths_through)
        return f"{count} input pixel{'' if count == 1 else 's'} reached"


def _axis_sources(row, axis: int, o: int, in_size: int) -> list[int]:
    """The positions on one axis of a row's input that its output position ``o`` reads."""
    layer, step = row.layer, row.steps[axis] if row.steps else None
    return layer.kind.op.sources(layer, step, o, in_size)


def _most_reads(row) -> int:
    """At least as many input pixels as any one output of the row reads on an axis: its window
    (never more than its input), or its input over its output (a pool to a given size), and 1
    where that is no bound."""
    if row.layer.kind.is_merge or row.layer.kind.op.transposed or not row.in_size or not row.out_size:
        return 1  # a transposed conv's sources are found from the taps that can meet, however wide its kernel
    most = 1
    for axis, (have, made) in enumerate(zip(row.in_size, row.out_size)):
        window = (row.steps[axis].effective_kernel or 1) if row.steps else 1
        most = max(most, min(have, max(window, -(-have // max(made, 1)) + 1)))
    return most


def _merge_sources(row, source_size, out_size, axis: int, o: int) -> list[int]:
    """Where a merge's output position ``o`` reads one of its inputs, of ``source_size``."""
    have = source_size[axis]
    if have == 1 and out_size[axis] != 1:
        return [0]  # broadcast
    if row.layer.mode is MergeMode.CROP:
        return [o + offsets(MergeMode.CROP, have, out_size[axis])[0]]
    if row.layer.mode is MergeMode.PAD:
        i = o - offsets(MergeMode.PAD, have, out_size[axis])[0]
        return [i] if 0 <= i < have else []
    return [o]


def _reads(row, in_size, axis: int, o: int) -> list[int]:
    """The positions on one axis of an input (of ``in_size``) that row's output ``o`` reads."""
    if row.layer.kind.is_merge:
        return _merge_sources(row, in_size, row.out_size, axis, o)
    return _axis_sources(row, axis, o, in_size[axis])


def _back(result, counts: dict[int, Counter], only: tuple[int, ...] | None = None) -> Counter:
    """Walk back from the rows in ``counts`` to the input; ``only``: follow this row path alone."""
    size_of = {0: result.input_size}
    for row in result.rows:
        size_of[row.index] = row.out_size
    for index in range(max(counts), 0, -1):
        here = counts.pop(index, None)
        if not here:
            continue
        row = result.rows[index - 1]
        for source in dict.fromkeys(result.inputs(index)):
            if only is not None and source != only[only.index(index) + 1]:
                continue
            if row.layer.like is not None and source != result.inputs(index)[0]:
                continue  # `like` only lends its size
            in_size = size_of[source]
            if in_size is None:
                raise DrawError(f"row {source} has no spatial axes: a receptive field is drawn for a unit of a map")
            target = counts.setdefault(source, Counter())
            for position, paths in here.items():
                per_axis = [_reads(row, in_size, a, o) for a, o in enumerate(position)]
                for found in product(*per_axis):
                    target[found] += paths
    return counts.get(0, Counter())


def _back_by_axis(result, index: int, unit: tuple[int, ...]) -> Counter:
    """``_back`` along a single path of rows, one axis at a time: the count of ways to a pixel
    is then the product of its axes' counts, so the work is the sum of the axes' sizes per
    row, not their product (a thousand 3×3 convs on 64×64 took a minute)."""
    size_of = {0: result.input_size, **{row.index: row.out_size for row in result.rows}}
    per_axis = []
    for axis, start in enumerate(unit):
        here, at = Counter({start: 1}), index
        while at != 0:
            row = result.rows[at - 1]
            source = result.inputs(at)[0]  # one path: every input of the row is this one
            in_size = size_of[source]
            if in_size is None:
                raise DrawError(f"row {source} has no spatial axes: a receptive field is drawn for a unit of a map")
            below = Counter()
            for o, ways in here.items():
                for position in _reads(row, in_size, axis, o):
                    below[position] += ways
            here, at = below, source
        per_axis.append(here)
    total = Counter()
    for combination in product(*(sorted(counts.items()) for counts in per_axis)):
        ways = 1
        for _, count in combination:
            ways *= count
        total[tuple(position for position, _ in combination)] = ways
    return total


def _row_paths(result, start: int, limit: int) -> list[tuple[int, ...]] | None:
    """Every path of rows from ``start`` back to the input, or None when there are more than ``limit``."""
    paths: list[tuple[int, ...]] = []
    stack = [(start,)]
    while stack:
        path = stack.pop()
        if path[-1] == 0:
            paths.append(path)
            if len(paths) > limit:
                return None
            continue
        row = result.rows[path[-1] - 1]
        sources = result.inputs(path[-1])
        if row.layer.like is not None:
            sources = sources[:1]
        for source in reversed(list(dict.fromkeys(sources))):
            stack.append(path + (source,))
    return paths


def field_picture(result, index: int, unit: tuple[int, ...]) -> FieldPicture:
    """The input pixels unit ``unit`` of row ``index`` reaches, and through how many paths."""
    if not 1 <= index <= len(result.rows):
        raise DrawError(f"--layer {index}: the stack has {len(result.rows)} rows")
    row = result.rows[index - 1]
    bad = next((r for r in result.rows[:index] if r.error is not None or not r.computed), None)
    if bad is not None:
        raise DrawError(f"layer {bad.index} ({bad.layer.text}) does not run: "
                        f"{bad.error.message if bad.error else 'an earlier row fails'}")
    if row.out_size is None:
        raise DrawError(f"row {index} ({row.layer.text}) has no spatial axes: pick a row with a map (--layer N)")
    if len(unit) != len(row.out_size) or any(not 0 <= u < s for u, s in zip(unit, row.out_size)):
        shape = "×".join(map(str, row.out_size))
        raise DrawError(f"--unit {','.join(map(str, unit))}: row {index}'s output is {shape}; a unit is one"
                        f" 0-based position per axis, below those sizes")
    if len(result.input_size) > 2 or max(result.input_size) > MAX_SIDE:
        raise DrawError(f"a receptive field is drawn on inputs of 1 or 2 axes up to {MAX_SIDE} per axis, not "
                        f"{'×'.join(map(str, result.input_size))}")
    for earlier in result.rows[:index]:  # an output that reads 10^14 pixels is no walk, pixel by pixel
        reads = _most_reads(earlier)
        if reads > MAX_READS:
            raise DrawError(f"row {earlier.index} ({earlier.layer.text}) reads up to {reads:,} pixels of its input "
                            f"per output on an axis: a receptive field is traced pixel by pixel through up to "
                            f"{MAX_READS:,}")
    paths = _row_paths(result, index, MAX_PATHS)
    if paths is not None and len(paths) == 1:  # one path: each axis alone, then their product
        through = _back_by_axis(result, index, unit)
    else:
        through = _back(result, {index: Counter({unit: 1})})
    kept = ()
    if paths is not None and len(paths) > 1:
        kept = tuple((path, frozenset(_back(result, {index: Counter({unit: 1})}, path))) for path in paths)
    from ..layers import layer_label

    return FieldPicture(tuple(result.input_size), index, layer_label(row.layer, index), unit, dict(through), kept)
