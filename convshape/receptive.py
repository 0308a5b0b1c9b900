"""Receptive fields, in pixels of the original input (input pixel i has centre i).

For a chain of convs and pools the field follows the recurrence of Araujo et al.
(Distill, 2019): j' = j·s, r' = r + (kₑ − 1)·j, start' = start + ((kₑ − 1)/2 − p_before)·j.

Transposed convs and upsampling make the jump fractional (j/s), and then fields of
neighbouring outputs no longer all have the same span. So instead of three numbers
this module keeps, per axis, the field of every output index over one period: output
o sees original pixels ``lo(o)..hi(o)``, and ``lo(o + b) = lo(o) + a`` where the
jump is a/b. A chain of convs has b = 1 and reduces to the recurrence above.

Definitions (documented in the README):
- size r: the largest span hi(o) − lo(o) + 1 over all output positions, ignoring
  the input's borders (padding counts as pixels);
- jump j: a/b, the distance in input pixels between neighbouring outputs on average
  (exactly, for integral chains);
- start: the centre (lo(0) + hi(0)) / 2 of output 0's field, which may be negative
  (it lies in the padding) or a half-integer.
"""

from __future__ import annotations

from math import gcd
from typing import TYPE_CHECKING, NamedTuple

from .arithmetic import exact_ratio

if TYPE_CHECKING:
    from fractions import Fraction

# Beyond this period (a chain of fractional scale factors) the tables stop being cheap.
MAX_PERIOD = 4096
# Beyond this many pixels a field is larger than any input and its exact numbers (a jump of
# 2^100000 after as many stride-2 layers) would make every later layer cost as much as its
# depth: the field stops being tracked there, in time and memory flat per layer.
MAX_PIXELS = 10**18


class AxisField(NamedTuple):
    """The fields of all outputs on one axis, as one period of (lo, hi) pairs.

    ``None`` in ``lo`` marks an output that reads no input pixel at all (a transposed
    conv whose stride is larger than its kernel leaves such holes).
    """

    jump_num: int
    jump_den: int
    lo: tuple[int | None, ...]
    hi: tuple[int | None, ...]

    @classmethod
    def identity(cls) -> AxisField:
        return cls(1, 1, (0,), (0,))

    def bounds(self, index: int) -> tuple[int | None, int | None]:
        """The first and last original pixel that output ``index`` sees."""
        q, r = divmod(index, self.jump_den)
        lo = self.lo[r]
        if lo is None:
            return None, None
        shift = q * self.jump_num
        return lo + shift, self.hi[r] + shift

    @property
    def jump(self) -> int | Fraction:
        """Pixels of the original input between neighbouring outputs, on average over a period."""
        return exact_ratio(self.jump_num, self.jump_den)

    @property
    def size(self) -> int:
        if len(self.lo) == 1:  # the common case: one period of one output
            return 0 if self.lo[0] is None else self.hi[0] - self.lo[0] + 1
        return max((h - l + 1 for l, h in zip(self.lo, self.hi) if l is not None), default=0)

    @property
    def start(self) -> int | Fraction | None:
        lo, hi = self.bounds(0)
        if lo is None:
            return None
        return exact_ratio(lo + hi, 2)


def _gather(field: AxisField, sources: list[int] | range) -> tuple[int | None, int | None]:
    """The first and last pixel that the inputs ``sources`` see together.

    Sources in a ``range`` may be as many as a global pool over a huge input has. Along a
    range, the input one period further on (``jump_den`` indices) is a hole where this one
    is, or sees the same pixels shifted by ``jump_num`` or more: the least ``lo`` is in the
    first period of the range and the greatest ``hi`` in the last, so only those are read.
    """
    period = field.jump_den
    if isinstance(sources, range) and sources.start + 2 * period * sources.step < sources.stop:  # not len(): > 2**63
        if sources.step == 1 and period > 1:  # a window of whole periods (a global pool): O(1) from the tables
            return _extremes(field).gather(sources.start, sources.stop - period)
        first, last = _gather(field, sources[:period]), _gather(field, sources[-period:])
        return (first[0], last[1]) if first[0] is not None else (None, None)
    lows, highs = [], []
    for index in sources:
        lo, hi = field.bounds(index)
        if lo is not None:
            lows.append(lo)
            highs.append(hi)
    return (min(lows), max(highs)) if lows else (None, None)


class _Extremes:
    """Over one period of a field, the least ``lo`` from each residue on and before it, and the
    greatest ``hi`` likewise, so that a window of consecutive inputs at least two periods wide
    has its first and last pixel in O(1): the least ``lo`` lies in its first period, the
    greatest ``hi`` in its last (see ``_gather``)."""

    def __init__(self, field: AxisField):
        self.field = field
        self.num, self.den = field.jump_num, field.jump_den
        self.lo_after = self._scan(field.lo, min, reverse=True)  # residues r..den−1
        self.lo_before = self._scan(field.lo, min, reverse=False)  # residues 0..r−1
        self.hi_after = self._scan(field.hi, max, reverse=True)
        self.hi_before = self._scan(field.hi, max, reverse=False)

    @staticmethod
    def _scan(values, pick, reverse: bool) -> list:
        out, best = [None] * (len(values) + 1), None
        order = range(len(values) - 1, -1, -1) if reverse else range(len(values))
        for r in order:
            if not reverse:
                out[r] = best
            if values[r] is not None:
                best = values[r] if best is None else pick(best, values[r])
            if reverse:
                out[r] = best
        if not reverse:
            out[len(values)] = best
        return out

    def _period(self, start: int, after, before, pick):
        """The pick over inputs start..start+den−1: residues from start's on, then the ones before it, a period on."""
        q, t = divmod(start, self.den)
        found = [v + q * self.num for v in (after[t],) if v is not None]
        found += [v + (q + 1) * self.num for v in (before[t],) if v is not None]
        return pick(found) if found else None

    def gather(self, first_period: int, last_period: int) -> tuple[int | None, int | None]:
        lo = self._period(first_period, self.lo_after, self.lo_before, min)
        if lo is None:
            return None, None
        return lo, self._period(last_period, self.hi_after, self.hi_before, max)


_EXTREMES: list = []  # the last field's tables: a pool asks for one field's many windows in a row


def _extremes(field: AxisField) -> _Extremes:
    if not _EXTREMES or _EXTREMES[0].field is not field:
        _EXTREMES[:] = [_Extremes(field)]
    return _EXTREMES[0]


def shortest_period(num: int, den: int, lo: list, hi: list) -> tuple[int, int]:
    """The smallest period p (a divisor of den) with lo(o + p) = lo(o) + num·p/den for every o."""
    for period in range(1, den):
        if den % period or (num * period) % den:
            continue
        step = num * period // den
        if all(
            (lo[o + period] is None) == (lo[o] is None)
            and (lo[o] is None or (lo[o + period] == lo[o] + step and hi[o + period] == hi[o] + step))
            for o in range(den - period)
        ):
            return num * period // den, period
    return num, den


def _build(field: AxisField, num: int, den: int, sources_of) -> AxisField | None:
    """Tabulate one period ``den`` of outputs (over which the field advances ``num`` pixels)."""
    if den > MAX_PERIOD:
        return None
    gathered: dict = {}  # outputs that read the same inputs (a window attention's whole window): once
    pairs = []
    for o in range(den):
        sources = sources_of(o)
        key = sources if isinstance(sources, range) else None
        pair = gathered.get(key) if key is not None else None
        if pair is None:
            pair = _gather(field, sources)
            if key is not None:
                gathered[key] = pair
        pairs.append(pair)
    lo = [p[0] for p in pairs]
    hi = [p[1] for p in pairs]
    num, period = shortest_period(num, den, lo, hi)
    return _bounded(AxisField(num, period, tuple(lo[:period]), tuple(hi[:period])))


def _bounded(field: AxisField) -> AxisField | None:
    """The field, or None once one of its numbers (its size, jump or ends) passes MAX_PIXELS."""
    if len(field.lo) == 1 and field.lo[0] is not None:  # the common case, without building tuples
        if field.jump_num > MAX_PIXELS or abs(field.lo[0]) > MAX_PIXELS or abs(field.hi[0]) > MAX_PIXELS or \
                field.hi[0] - field.lo[0] + 1 > MAX_PIXELS:
            return None
        return field
    if field.jump_num > MAX_PIXELS or field.size > MAX_PIXELS or any(
        v is not None and abs(v) > MAX_PIXELS for v in field.lo + field.hi
    ):
        return None
    return field


def untracked_reason(field: AxisField, period: int) -> str:
    """Why a field that was tracked stops being tracked at a layer with this period factor."""
    if field.jump_den * period > MAX_PERIOD:
        return f"its period exceeds {MAX_PERIOD} outputs"
    return "it spans more than 10^18 pixels"


def through_window(field: AxisField, kernel: int, stride: int, padding_before: int, dilation: int = 1) -> AxisField | None:
    """Conv or pool: output o reads inputs o·s − p_before + t·d for t in 0..k−1.

    >>> f = through_window(AxisField.identity(), kernel=3, stride=2, padding_before=1)
    >>> f.size, f.jump, f.start
    (3, 2, 0)
    """
    if field.jump_den == 1 and all(l is not None for l in field.lo):
        # The common case, in O(1): the recurrence itself.
        lo, _ = field.bounds(-padding_before)
        _, hi = field.bounds(-padding_before + dilation * (kernel - 1))
        return _bounded(AxisField(field.jump_num * stride, 1, (lo,), (hi,)))
    return _build(
        field,
        field.jump_num * stride,
        field.jump_den,
        lambda o: range(o * stride - padding_before, o * stride - padding_before + kernel * dilation, dilation),
    )


def through_transposed(
    field: AxisField, kernel: int, stride: int, padding_before: int, dilation: int = 1
) -> AxisField | None:
    """Transposed conv: output o receives input i when o + p_before = i·s + t·d, t in 0..k−1.

    >>> f = through_transposed(AxisField.identity(), kernel=4, stride=2, padding_before=1)
    >>> f.size, f.jump
    (2, Fraction(1, 2))
    """

    def sources(o: int) -> range:
        # The taps t with o + p_before − t·d ≡ 0 (mod s) recur every s / gcd(d, s) taps, so
        # the inputs they reach form a range, however large the kernel.
        every = stride // gcd(dilation, stride)
        first = next((t for t in range(min(kernel, every)) if (o + padding_before - t * dilation) % stride == 0), None)
        if first is None:
            return range(0)
        count = (kernel - 1 - first) // every + 1
        step = dilation * every // stride
        highest = (o + padding_before - first * dilation) // stride
        return range(highest - (count - 1) * step, highest + 1, step)

    return _build(field, field.jump_num, field.jump_den * stride, sources)


def through_upsample(field: AxisField, scale: Fraction) -> AxisField | None:
    """Nearest-neighbour resize: output o copies input floor(o / s).

    >>> through_upsample(AxisField.identity(), 2).jump
    Fraction(1, 2)
    """
    return _build(
        field,
        field.jump_num * scale.denominator,
        field.jump_den * scale.numerator,
        lambda o: [o * scale.denominator // scale.numerator],
    )


def through_adaptive(field: AxisField, in_size: int, out_size: int) -> AxisField | None:
    """Adaptive pooling: window o runs from floor(o·I/O) to ceil((o+1)·I/O) − 1.

    >>> f = through_adaptive(AxisField.identity(), 10, 4)
    >>> [f.bounds(o) for o in range(4)], f.jump
    ([(0, 2), (2, 4), (5, 7), (7, 9)], Fraction(5, 2))
    """
    common = gcd(in_size, out_size)
    return _build(
        field,
        field.jump_num * (in_size // common),
        field.jump_den * (out_size // common),
        lambda o: range(o * in_size // out_size, -(-(o + 1) * in_size // out_size)),
    )


def through_resize(field: AxisField, in_size: int, out_size: int) -> AxisField | None:
    """Nearest-neighbour resize to a size: output o copies input floor(o·I/O).

    >>> through_resize(AxisField.identity(), 3, 6).jump
    Fraction(1, 2)
    """
    common = gcd(in_size, out_size)
    return _build(
        field,
        field.jump_num * (in_size // common),
        field.jump_den * (out_size // common),
        lambda o: [o * in_size // out_size],
    )


def through_pad(field: AxisField, padding_before: int) -> AxisField:
    """A zero-padding layer shifts indices: output o is input o − p_before."""
    bounds = [field.bounds(o - padding_before) for o in range(field.jump_den)]
    return _bounded(AxisField(field.jump_num, field.jump_den, tuple(b[0] for b in bounds), tuple(b[1] for b in bounds)))


def through_whole(field: AxisField, in_size: int) -> AxisField | None:
    """Global pooling (and a linear layer over flat features): one output reads every input."""
    return through_window(field, kernel=in_size, stride=in_size, padding_before=0)


def through_all(field: AxisField, in_size: int) -> AxisField | None:
    """Every output reads every input (self-attention over a sequence of positions): each
    sees the union of all the inputs' fields, the same pixels for all, so the jump is 0.

    >>> f = through_all(through_window(AxisField.identity(), kernel=16, stride=16, padding_before=0), 14)
    >>> f.size, f.jump, f.start
    (224, 0, Fraction(223, 2))
    """
    period = field.jump_den
    firsts = [field.bounds(i) for i in range(min(in_size, period))]
    lasts = [field.bounds(i) for i in range(max(0, in_size - period), in_size)]
    lows = [lo for lo, _ in firsts if lo is not None]
    highs = [hi for _, hi in lasts if hi is not None]
    if not lows or not highs:
        return None
    return _bounded(AxisField(0, 1, (min(lows),), (max(highs),)))


def through_windows(field: AxisField, window: int, shift: int) -> AxisField | None:
    """Attention within windows of ``window`` positions, rolled by ``shift``: output o reads
    inputs w·⌊(o − s)/w⌋ + s to that + w − 1 (past the map: padding, as a conv's).

    >>> f = through_windows(AxisField.identity(), 7, 3)
    >>> [f.bounds(o) for o in (0, 2, 3, 9, 10)]
    [(-4, 2), (-4, 2), (3, 9), (3, 9), (10, 16)]
    """
    def sources(o: int) -> range:
        start = window * ((o - shift) // window) + shift
        return range(start, start + window)

    return _build(field, field.jump_num * window, field.jump_den * window, sources)


def through_grid(field: AxisField, spacing: int, in_size: int) -> AxisField | None:
    """Attention over a grid: output o reads the inputs o mod P, o mod P + P, ... below the
    size (P = spacing), the same for o and o + P: the field repeats with no advance.

    >>> f = through_grid(AxisField.identity(), 8, 56)
    >>> [f.bounds(o) for o in (0, 1, 8, 55)]
    [(0, 48), (1, 49), (0, 48), (7, 55)]
    """
    return _build(field, 0, spacing, lambda o: range(o % spacing, in_size, spacing))
