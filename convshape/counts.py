"""What a network costs: parameters, multiply-accumulates and memory, per row and in
total, counted the way the frameworks count them. Exact integers throughout.

- parameters: ``sum(p.numel() for p in module.parameters())`` of the same torch module
  (Keras' trainable weights); buffers (BatchNorm's running statistics) apart.
- MACs, by profile: ``torch`` is what ``torch.utils.flop_counter.FlopCounterMode``
  counts, halved: conv over output positions, transposed conv over input positions,
  linear m·n·k, no bias, and 0 for everything else. ``torchinfo`` is torchinfo's
  mult-adds: a conv's or transposed conv's parameters (bias included) times its output
  positions, any other layer's parameters once per batch item.
- memory: each row's output, parameters and buffers, in bytes of a dtype; the inference
  peak is the most bytes alive at once while the rows run in order (see ``_peak``).

Each kind's rule is in ``weights`` and ``macs``; nothing here knows the terminal. The
records are small slotted classes (``_Record``): a ``NamedTuple`` compiles its annotations
and a ``namedtuple`` evaluates generated code at import, about a millisecond of every JSON
start between them.
"""

from __future__ import annotations

from math import prod
from typing import TYPE_CHECKING

from .layers import Convention, Layer
from .named import Named, named

if TYPE_CHECKING:
    from .calc import Result, Row


class _Record:
    """Fields by name, given in order or by keyword; read-only by convention, shown as a
    NamedTuple is. Subclasses set ``__slots__`` (the fields) and ``_defaults``."""

    __slots__ = ()
    _defaults: dict = {}

    def __init__(self, *values, **named) -> None:
        if not named and len(values) == len(self.__slots__):  # every field in order: a row's, the common case
            for field, value in zip(self.__slots__, values):
                object.__setattr__(self, field, value)
            return
        given = dict(zip(self.__slots__, values), **named)
        for field in self.__slots__:
            object.__setattr__(self, field, given[field] if field in given else self._defaults[field])

    def __repr__(self) -> str:
        fields = ", ".join(f"{field}={getattr(self, field)!r}" for field in self.__slots__)
        return f"{type(self).__name__}({fields})"

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and all(getattr(self, f) == getattr(other, f) for f in self.__slots__)


@named
class Profile(Named):
    TORCH = "torch"  # FlopCounterMode / 2
    TORCHINFO = "torchinfo"  # torchinfo's "Total mult-adds"


DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}
TRACKED_BATCHES_BYTES = 8  # BatchNorm's num_batches_tracked (see batch_counters)

class Weights(_Record):
    """``params``: learned (weights, biases, a norm's affine scale and shift); ``buffers``: kept
    but not learned (BatchNorm's running mean and variance, and torch's batch counter)."""

    __slots__ = ("params", "buffers")


def groups_of(layer: Layer, in_channels: int | None) -> int | None:
    """A conv's groups: ``dw`` makes them the input channels.

    >>> from convshape.grammar import parse_stack
    >>> groups_of(parse_stack("conv k3 dw").layers[0], 32)
    32
    """
    return in_channels if layer.depthwise else layer.groups


def batch_counters(layer: Layer, convention: Convention) -> int:
    """torch's BatchNorm also counts the batches it has seen (``num_batches_tracked``, one
    int64 whatever the dtype); Keras keeps the two statistics only."""
    return layer.kind.op.batch_counters(convention)


def weights(layer: Layer, in_channels: int | None, out_channels: int | None,
            convention: Convention = Convention.TORCH) -> Weights | None:
    """A layer's parameters and buffers, or None where they need channels nobody gave.

    >>> from convshape.grammar import parse_stack
    >>> weights(parse_stack("conv k3 c64").layers[0], 3, 64)
    Weights(params=1792, buffers=0)
    >>> weights(parse_stack("bn").layers[0], 64, 64)
    Weights(params=128, buffers=129)
    """
    found = layer.kind.op.weights(layer, in_channels, out_channels, convention)
    return None if found is None else Weights(*found)


def macs(row: Row, params: int | None, profile: Profile = Profile.TORCH, batch: int = 1) -> int | None:
    """A computed row's multiply-accumulates for a batch, under a profile (None: unknown).

    >>> from convshape import calc
    >>> row = calc("convt k2 s2 c32", 8, channels=64).rows[0]
    >>> macs(row, 8224), macs(row, 8224, Profile.TORCHINFO)
    (524288, 2105344)
    """
    if params is None:
        return None
    return row.layer.kind.op.macs(row, params, profile is Profile.TORCHINFO, batch)


def elements(size: tuple[int, ...] | None, channels: int | None) -> int | None:
    """How many values a tensor holds per batch item (None: unknown channels)."""
    if channels is None:
        return None
    return channels * prod(size) if size is not None else channels


class RowCost(_Record):
    """One row's counts (None: unknown); ``macs`` and ``output_bytes`` for the whole batch,
    under the profile and in the dtype."""

    __slots__ = ("params", "buffers", "macs", "output_bytes")


class Totals(_Record):
    """The whole network's counts. ``output_bytes``: every row's output, roughly what a
    training step keeps for backward; ``peak_bytes``: the most alive at once at inference,
    the input included; ``torchinfo_bytes``: what torchinfo's "Estimated Total Size" counts."""

    __slots__ = ("params", "buffers", "macs", "param_bytes", "buffer_bytes", "input_bytes", "output_bytes",
                 "peak_bytes", "torchinfo_bytes")


class Costs(_Record):
    """Every row's counts and the ``totals`` (None when a row is invalid or a count needs
    channels nobody gave); ``flops``: shown as FLOPs, 2 × MACs."""

    __slots__ = ("profile", "batch", "dtype", "rows", "totals", "flops")
    _defaults = {"flops": False}


def count(result: Result, profile: Profile = Profile.TORCH, batch: int = 1, dtype: str = "float32",
          flops: bool = False) -> Costs:
    """Every row's costs and the totals.

    >>> from convshape import calc
    >>> costs = count(calc("conv k3 p1 c64, bn, relu, gap, flatten, linear c10", 32, channels=3))
    >>> costs.totals.params, costs.totals.macs
    (2570, 1770112)
    """
    width = DTYPE_BYTES[dtype]
    rows = []
    known: dict[tuple, Weights | None] = {}  # a layer written once (x10000) on the same channels: once
    for row in result.rows:
        if not row.computed:
            rows.append(RowCost(None, None, None, None))
            continue
        key = (id(row.layer), row.in_channels, row.out_channels)
        if key not in known:
            known[key] = weights(row.layer, row.in_channels, row.out_channels, result.convention)
        found = known[key]
        params = None if found is None else found.params
        out = elements(row.out_size, row.out_channels) if row.tokens is None else (
            None if row.out_channels is None else row.tokens * row.out_channels)
        rows.append(RowCost(params, None if found is None else found.buffers, macs(row, params, profile, batch),
                            None if out is None else batch * out * width))
    totals = None
    if result.valid and result.input_channels is not None and all(
            cost.params is not None and cost.output_bytes is not None for cost in rows):
        input_bytes = batch * elements(result.input_size, result.input_channels) * width
        buffers = sum(cost.buffers for cost in rows)
        counters = sum(batch_counters(row.layer, result.convention) for row in result.rows)
        params = sum(cost.params for cost in rows)
        outputs = [cost.output_bytes for cost in rows]
        totals = Totals(
            params=params,
            buffers=buffers,
            macs=sum(cost.macs for cost in rows),
            param_bytes=params * width,
            buffer_bytes=(buffers - counters) * width + counters * TRACKED_BATCHES_BYTES,
            input_bytes=input_bytes,
            output_bytes=sum(outputs),
            peak_bytes=_peak(result, [input_bytes, *outputs]),
            torchinfo_bytes=input_bytes + params * width + 2 * sum(
                cost.output_bytes for cost in rows if cost.params),
        )
    return Costs(profile, batch, dtype, tuple(rows), totals, flops)


def _peak(result: Result, sizes: list[int]) -> int:
    """The most bytes alive at once while the rows run in order: each row's inputs and
    output, and every tensor a later row still reads (a U-Net's skips until their ``cat``).
    A tensor is freed once its last reader has run; the network's outputs (the last row,
    and rows bound to names nothing reads) stay to the end. No layer runs in place.
    ``sizes[i]`` is row i's output (0: the input)."""
    last = len(sizes) - 1
    if not result.reads and not any(row > 0 for row in result.binds):  # a chain: a row's input and output
        return max([sizes[0]] + [sizes[index - 1] + sizes[index] for index in range(1, last + 1)])
    last_use = list(range(last + 1))  # unread: freed as soon as it is made
    for index in range(1, last + 1):
        for source in result.inputs(index):
            last_use[source] = max(last_use[source], index)
    read = {source for sources in result.reads.values() for source in sources}
    for row in (last, *(row for row in result.binds if row > 0 and row not in read)):
        last_use[row] = last
    freed_at: dict[int, list[int]] = {}
    for tensor, use in enumerate(last_use):
        freed_at.setdefault(use, []).append(tensor)
    alive = peak = sizes[0]
    for index in range(last + 1):
        if index:
            alive += sizes[index]
            peak = max(peak, alive)
        alive -= sum(sizes[tensor] for tensor in freed_at.get(index, ()))
    return peak


class Formula(_Record):
    """A count as a product: ``coefficient`` times the sizes in ``factors`` (formulas of the
    input, as ``symbolic`` writes them)."""

    __slots__ = ("coefficient", "factors")

    def value(self) -> int | str:
        """The number, when no factor is left; else the formula as text.

        >>> Formula(1728, ("⌊(H − 1)/2⌋", "⌊(W − 1)/2⌋")).value()
        '1728·⌊(H − 1)/2⌋·⌊(W − 1)/2⌋'
        """
        if not self.factors or self.coefficient == 0:
            return self.coefficient
        return "·".join(([] if self.coefficient == 1 else [str(self.coefficient)]) + list(self.factors))

    def times(self, other: Formula) -> Formula:
        return Formula(self.coefficient * other.coefficient, self.factors + other.factors)


def _split_coefficient(formula: str) -> tuple[int, str]:
    """``2·⌊(H − 1)/2⌋`` -> (2, '⌊(H − 1)/2⌋'); ``7`` -> (7, ''); a sum stays whole."""
    if formula.isdigit():
        return int(formula), ""
    head, dot, rest = formula.partition("·")
    if dot and head.isdigit():
        depth = 0
        for char in rest:  # the rest must be one factor: no sum at the top level
            depth += (char in "(⌊") - (char in ")⌋")
            if char == " " and depth == 0:
                return 1, formula
        return int(head), rest
    return 1, formula


def symbolic_costs(result) -> list[tuple[int | str | None, int | str | None]]:
    """Per row of a result without an input size (``symbolic.symbolic_calc``): its
    parameters and its MACs (torch's count, halved, for one image), each a number where the
    input size does not matter, a formula of H and W where it does, or None (unknown
    channels, a row that cannot run, or a ceil-mode size the formula may overstate by 1).

    >>> from convshape.grammar import parse_stack
    >>> from convshape.symbolic import symbolic_calc
    >>> symbolic_costs(symbolic_calc(parse_stack("conv k3 s2 c8, flatten, linear c10"), channels=3))[0]
    (224, '216·⌊(H − 1)/2⌋·⌊(W − 1)/2⌋')
    """
    from .diagnostics import factor_text
    from .symbolic import text

    elements: dict[int, Formula | None] = {0: None if result.input_channels is None else Formula(
        result.input_channels, tuple(result.axes))}
    sound = {0: True}  # every size on the way here is exact (a ceil-mode formula may be 1 over)
    costs = []
    for row in result.rows:
        calc_row, layer, index = row.row, row.layer, row.index
        source = elements.get(result.inputs(index)[0])
        exact = sound[index] = row.exact and all(sound[i] for i in result.inputs(index))
        out = None
        if calc_row.computed and calc_row.out_channels is not None and exact:
            if row.steps is not None:
                constant, factors = calc_row.out_channels, []
                for step, name in zip(row.steps, result.axes):
                    number, rest = _split_coefficient(text(step.expr, name))
                    constant *= number
                    if rest:
                        factors.append(factor_text(rest))
                out = Formula(constant, tuple(factors))
            elif layer.kind.op.reads_flat or row.features is not None and row.features.isdigit():
                out = Formula(calc_row.out_channels if layer.kind.op.reads_flat else int(row.features), ())
            else:  # flatten, or a shape-keeping row on flat features: what it reads
                out = source
        elements[index] = out
        params = macs = None
        if calc_row.computed and source is not None:
            kind = layer.kind
            if kind.op.reads_flat:  # a weight per input feature, however many
                per = Formula(layer.channels, ())
                weights_in = per.times(source)
                params = weights_in.value() if not layer.bias else (
                    weights_in.coefficient + layer.channels if not weights_in.factors
                    else f"{weights_in.value()} + {layer.channels}")
                macs = weights_in.value()
            elif kind.keeps_shape and row.steps is None:  # on flat features: per feature, however many
                per = weights(layer, 1, 1, result.convention).params
                params, macs = Formula(per, ()).times(source).value(), 0
            else:
                found = weights(layer, calc_row.in_channels, calc_row.out_channels, result.convention)
                params = None if found is None else found.params
                if found is not None:  # a conv: a kernel at each position; most others none
                    macs = kind.op.formula_macs(layer, calc_row.in_channels, calc_row.out_channels, out, source, Formula)
        costs.append((params, macs))
    return costs


def explain(row: Row, cost: RowCost, profile: Profile = Profile.TORCH, batch: int = 1,
            convention: Convention = Convention.TORCH) -> list[str]:
    """How a computed row's parameters and MACs (torch's count) come about, for ``--explain``.

    >>> from convshape import calc
    >>> result = calc("conv k3 c4, bn", 8, channels=3)
    >>> costs = count(result)
    >>> explain(result.rows[0], costs.rows[0]), explain(result.rows[1], costs.rows[1])
    (['params 4·3·3·3 + 4 = 112', 'MACs 6·6 positions · 3·3 · 3 · 4 = 3,888'], ['params 2·4 = 8, a scale and a shift per channel; buffers 2·4 + 1 = 9'])
    """
    if cost.params is None or not row.computed:
        return []
    times = f" · batch {batch}" if batch != 1 else ""
    return row.layer.kind.op.cost_lines(row, cost, profile is Profile.TORCH, times, convention)
