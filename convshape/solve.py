"""Which configurations of a layer take an input size to an output size.

Searches kernels up to 11, strides up to 8, dilations up to 4 and paddings up to the
kernel on each side (and ``psame``), with any given tokens held fixed. Each candidate's
output comes from the same arithmetic as ``calc``, and each match is then run through
``calc`` itself, so validity and diagnostics are exactly calc's.

Order: clean solutions (no floor rounding, no other warning) first, then the usual
before the unusual (symmetric padding, odd kernel, dilation 1, explicit padding), then
smaller strides, kernels and paddings.
"""

from __future__ import annotations

from typing import NamedTuple

from .arithmetic import effective_kernel, transposed_output_size, windowed_output_size
from .calc import Row, run
from .diagnostics import Code
from .grammar import parse_stack
from .layers import Convention, PaddingRule
from .kinds import Kind

MAX_KERNEL, MAX_STRIDE, MAX_DILATION = 11, 8, 4
FREE = object()  # an output padding solve picks
MAX_RULE_OUTPUT_PADDING = 64  # with psame, the output paddings tried (a stride this large has no use for more)
KINDS = tuple(kind for kind in Kind if kind.op.solvable)  # the windows and the transposed conv


class Solution(NamedTuple):
    """One configuration on one axis, with what calc says about it."""

    kernel: int
    stride: int
    dilation: int
    padding: tuple[int, int] | None  # None when a rule stands for it
    rule: PaddingRule | None
    output_padding: int | None
    ceil: bool
    row: Row  # calc's row for this layer at this input size

    @property
    def floor_rounding(self) -> bool:
        return any(w.code is Code.FLOOR_ROUNDING for w in self.row.warnings)

    @property
    def clean(self) -> bool:
        return not self.row.warnings

    def tokens(self, kind: Kind) -> str:
        """The tokens that write this configuration: ``k3 s2 p1``."""
        parts = [f"k{self.kernel}", f"s{self.stride}"]
        if self.rule is not None:
            parts.append(f"p{self.rule.value}")
        elif self.padding is not None and self.padding != (0, 0):
            before, after = self.padding
            parts.append(f"p{before}" if before == after else f"p{before}:{after}")
        if self.dilation != 1:
            parts.append(f"d{self.dilation}")
        if self.output_padding:
            parts.append(f"op{self.output_padding}")
        if self.ceil:
            parts.append("ceil")
        return " ".join(parts)

    def rank(self) -> tuple:
        symmetric = self.padding is None or self.padding[0] == self.padding[1]
        return (
            self.floor_rounding,
            not self.clean,
            not symmetric,
            bool(self.output_padding),
            self.kernel % 2 == 0 and kind_prefers_odd(self.row),
            self.dilation != 1,
            self.rule is not None,
            self.ceil,
            self.stride,
            self.kernel,
            sum(self.padding or (0, 0)),
            self.dilation,
        )


def kind_prefers_odd(row: Row) -> bool:
    """Odd kernels are the usual ones for convs and pools; transposed convs use even ones (k2 s2, k4 s2 p1)."""
    return not row.layer.kind.op.transposed


class AxisAnswer(NamedTuple):
    axis: str
    in_size: int
    out_size: int
    solutions: tuple[Solution, ...]
    nearest: tuple[int | None, int | None]  # reachable outputs just below and above, when none fit


class Fixed(NamedTuple):
    """Tokens the user holds fixed (None: free)."""

    kernel: int | None = None
    stride: int | None = None
    dilation: int | None = None
    padding: tuple[int, int] | None = None
    rule: PaddingRule | None = None
    output_padding: int | None = None
    ceil: bool | None = None
    extra: str = ""  # tokens that do not affect sizes (c64, g2), kept in the answer


def fixed_from_layer(values: dict, axis: int) -> Fixed:
    """Fixed tokens on one axis from the grammar's parsed values (prefix -> value)."""

    def pick(prefix):
        value = values.get(prefix)
        if value is None:
            return None
        return value[axis] if len(value) > 1 else value[0]

    padding = values.get("p")
    rule = padding if isinstance(padding, PaddingRule) else None
    pair = None if padding is None or rule is not None else (padding[axis] if len(padding) > 1 else padding[0])
    stride = pick("s")
    return Fixed(pick("k"), int(stride) if stride is not None else None, pick("d"), pair, rule, pick("op"),
                 True if "ceil" in values else None, values.get("_extra", ""))


def _candidates(kind: Kind, fixed: Fixed, convention: Convention):
    kernels = [fixed.kernel] if fixed.kernel is not None else range(1, MAX_KERNEL + 1)
    strides = [fixed.stride] if fixed.stride is not None else range(1, MAX_STRIDE + 1)
    dilations = [fixed.dilation] if fixed.dilation is not None else (
        range(1, (kind.op.max_dilation or MAX_DILATION) + 1))
    ceils = [fixed.ceil] if fixed.ceil is not None else ([False, True] if kind.is_pool and convention.honours_ceil else [False])
    for k in kernels:
        for s in strides:
            for d in dilations:
                ops = [None]
                if "op" in kind.op.takes:
                    ops = [fixed.output_padding] if fixed.output_padding is not None else [FREE]
                for op in ops:
                    for ceil in ceils:
                        yield k, s, d, op, ceil


MAX_PADDING_LOOP = 4096  # up to this many total paddings, every one is tried


def _totals(kind: Kind, k: int, s: int, d: int, in_size: int, out_size: int):
    """The total paddings (0 to 2k) worth trying. For a kernel of a few thousand, all of them;
    for a larger one (k2147483648: billions), those near the one that gives ``out_size`` and
    the two ends: the output moves one way as the padding grows, so the nearest outputs when
    none fits are at the ends or beside the target."""
    top = 2 * k
    if top <= MAX_PADDING_LOOP:
        return range(top + 1)
    reach = d * (k - 1) + 1
    if kind.op.transposed:  # out = (in − 1)·s − total + reach + op
        centre, step = (in_size - 1) * s + reach - out_size, max(s, d)
    else:  # out = ⌊(in + total − reach) / s⌋ + 1, ceil mode at most one more
        centre, step = (out_size - 1) * s + reach - in_size, s
    near = range(centre - 2 * step, centre + 2 * step + 1) if step <= MAX_PADDING_LOOP else (
        centre + offset * step + shift for offset in (-2, -1, 0, 1, 2) for shift in (-1, 0, 1))
    return sorted({0, top} | {total for total in near if 0 <= total <= top})


def _paddings(kind: Kind, k: int, s: int, d: int, fixed: Fixed, in_size: int, out_size: int):
    if fixed.rule is not None:
        yield None, fixed.rule
        return
    if fixed.padding is not None:
        yield fixed.padding, None
        return
    for total in _totals(kind, k, s, d, in_size, out_size):
        before = total // 2
        yield (before, total - before), None
    yield None, PaddingRule.SAME


def _quick_out(kind: Kind, in_size: int, k: int, s: int, d: int, padding, op, ceil) -> int | None:
    """The output size by the shared arithmetic, or None where only calc can say (rules)."""
    if padding is None:
        return None
    if kind.op.transposed:
        return transposed_output_size(in_size, k, s, padding, d, op or 0)
    if in_size + sum(padding) < effective_kernel(k, d):
        return 0
    return windowed_output_size(in_size, k, s, padding, d, ceil)[0]


def _layer_text(kind: Kind, k, s, d, padding, rule, op, ceil) -> str:
    parts = [kind.value, f"k{k}", f"s{s}"]
    if rule is not None:
        parts.append(f"p{rule.value}")
    elif padding is not None:
        parts.append(f"p{padding[0]}:{padding[1]}")
    if d != 1:
        parts.append(f"d{d}")
    if op is not None:
        parts.append(f"op{op}")
    if ceil:
        parts.append("ceil")
    return " ".join(parts)


def solve_axis(kind: Kind, in_size: int, out_size: int, fixed: Fixed, convention: Convention, axis: str = "L") -> AxisAnswer:
    """Every configuration of ``kind`` that takes ``in_size`` to ``out_size`` on one axis.

    >>> answer = solve_axis(Kind.CONV, 224, 112, Fixed(kernel=3), Convention.TORCH)
    >>> answer.solutions[0].tokens(Kind.CONV)
    'k3 s2 p1'
    """
    convention = Convention(convention)
    solutions: list[Solution] = []
    reachable: set[int] = set()
    for k, s, d, free, ceil in _candidates(kind, fixed, convention):
        for padding, rule in _paddings(kind, k, s, d, fixed, in_size, out_size):
            if padding is not None and max(padding) > k:
                continue
            ops = [free]
            if free is FREE:  # a transposed conv's output padding: 0 up to below max(s, d)
                if padding is None:  # a rule: only calc knows the size; each padding, to a bound
                    ops = [None, *range(1, min(max(s, d), MAX_RULE_OUTPUT_PADDING))]
                else:  # it adds to the size: the one that reaches out_size, not a loop over a stride
                    base = transposed_output_size(in_size, k, s, padding, d, 0)
                    top = base + max(s, d) - 1
                    if not base <= out_size <= top:
                        closest = base if base > out_size else top
                        if closest >= 1:
                            reachable.add(closest)
                        continue
                    need = out_size - base  # and its neighbours, for the nearest outputs when it fails
                    ops = [value or None for value in (need - 1, need, need + 1) if 0 <= value <= top - base]
            for op in ops:
                quick = _quick_out(kind, in_size, k, s, d, padding, op, ceil)
                if quick is not None and quick != out_size:
                    if quick >= 1:
                        reachable.add(quick)
                    continue
                text = _layer_text(kind, k, s, d, padding, rule, op, ceil)
                row = _named(run(parse_stack(text, dims=1), (in_size,), None, convention).rows[0], axis)
                if row.error is not None or row.out_size is None:
                    continue
                reachable.add(row.out_size[0])
                if row.out_size[0] == out_size:
                    solutions.append(Solution(k, s, d, padding, rule, op, ceil, row))
    solutions.sort(key=Solution.rank)
    nearest = (None, None)
    if not solutions:
        below = [o for o in reachable if o < out_size]
        above = [o for o in reachable if o > out_size]
        nearest = (max(below) if below else None, min(above) if above else None)
    return AxisAnswer(axis, in_size, out_size, tuple(_unique(solutions, kind)), nearest)


def _named(row: Row, axis: str) -> Row:
    """The row's diagnostics on the axis solved (calc ran it as a 1-D layer, "on L"); on a
    single axis they need no name at all."""
    axes = () if axis == "L" else (axis,)

    def renamed(found):
        return tuple(d._replace(axes=axes) if d.axes else d for d in found)

    return row._replace(warnings=renamed(row.warnings), notes=renamed(row.notes))


def _unique(solutions: list[Solution], kind: Kind) -> list[Solution]:
    """One solution per written form (psame often equals an explicit padding)."""
    seen, unique = set(), []
    for solution in solutions:
        key = solution.tokens(kind)
        if key not in seen:
            seen.add(key)
            unique.append(solution)
    return unique

