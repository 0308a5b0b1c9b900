"""Shapes without an input size: each layer's output as a formula of the input.

A formula is a small tree of integer operations on the input size x (H, W, D or L):
``m·e + c`` and ``⌊e / d⌋``. Consecutive floor divisions collapse into one wherever
that is exact (⌊(⌊(x + a)/p⌋ + b)/q⌋ = ⌊(x + a + p·b)/(p·q)⌋), so five ``conv k3 s2 p1``
read ⌊(H + 31)/32⌋. Every formula is checked against calc's numbers by the tests.
"""

from __future__ import annotations

from typing import NamedTuple

from .diagnostics import factor_text
from .layers import Convention, Layer, PaddingRule, drops_axes
from .ops.tokens import UNANSWERED


from .formula import VAR, Div, Expr, Lin, Step, X, coefficients, div, evaluate, formulas, lin, sizes_into, text, through  # noqa: F401


class SymbolicRow(NamedTuple):
    index: int
    layer: Layer
    steps: list[Step] | None  # per axis; None once there are no spatial axes
    row: object  # calc's Row on a huge input: channels, receptive field, errors that no size avoids
    features: str | None = None  # once flat: the feature count as a formula (64·⌊(H + 31)/32⌋·⌊(W + 31)/32⌋)
    start_fixed: bool = False  # the field's start is the same at every input size (shown without -i)
    size_fixed: bool = True  # and its size (a merge's union moves with its inputs' starts)
    fits: str | None = None  # a merge that runs only at some input sizes: which ("H ≡ 0 (mod 4), H ≥ 4")

    @property
    def exact(self) -> bool:
        return self.steps is None or all(step.exact for step in self.steps)


class SymbolicResult(NamedTuple):
    dims: int
    axes: tuple[str, ...]
    convention: Convention
    input_channels: int | None
    rows: tuple[SymbolicRow, ...]
    fit: object  # convshape.fit.Fit: the smallest valid input and the clean-input rule
    axes_from: str = "default"  # what set the number of axes (see grammar.Stack)
    notes: tuple[str, ...] = ()  # where only a layer's token set it
    reads: dict = {}  # the graph (see grammar.Stack)

    def inputs(self, index: int) -> tuple[int, ...]:
        """The rows row ``index`` reads (0 is the input)."""
        return self.reads.get(index) or (index - 1,)

    @property
    def valid(self) -> bool:
        return self.fit.error is None

    def output_texts(self) -> list[str] | None:
        """The last spatial formulas, one per axis."""
        for row in reversed(self.rows):
            if row.steps is not None:
                return [text(step.expr, name) for step, name in zip(row.steps, self.axes)]
        return None


MAX_MERGES_FITTED = 64  # the first merges' own rules; the stack's rule is under the table whatever its depth


def _where_it_fits(stack, index: int, convention: Convention, channels: int | None) -> str | None:
    """The input sizes at which the stack runs up to merge ``index``, where that is not every
    size from some minimum on: the rows before it, with it last, through fit."""
    from .fit import analyse

    head = stack._replace(layers=stack.layers[:index],
                          reads={row: sources for row, sources in stack.reads.items() if row <= index},
                          binds={row: names for row, names in stack.binds.items() if row <= index})
    found = analyse(head, convention, channels)
    if found.error is not None:
        return None
    texts = [rule.describe_valid() for rule in found.rules]
    if all(text.startswith("every") for text in texts):
        return None
    return "; ".join(texts)


def symbolic_calc(stack, convention: Convention = Convention.TORCH, channels: int | None = None) -> SymbolicResult:
    """Formulas for every layer of ``stack``, with the clean-input rule from ``fit``.

    >>> from convshape.grammar import parse_stack
    >>> result = symbolic_calc(parse_stack("conv k3 s2 p1 x5"))
    >>> result.output_texts()
    ['⌊(H + 31)/32⌋', '⌊(W + 31)/32⌋']
    """
    convention = Convention(convention)
    from .calc import run
    from .fit import analyse
    from .layers import axis_names

    fit = analyse(stack, convention, channels)
    huge = fit.probe  # calc on a huge input: only size-free errors show
    if huge is None:  # the merges fit at no size: the rows, computed where they can be
        from .fit import huge_size, probe_stack

        huge = run(probe_stack(stack), (huge_size(stack),) * stack.dims, channels, convention)
    # Formulas up to the first layer that fails at every size: past it the stack does not
    # run, and a stride of 0 there has no formula.
    runs = len(stack.layers) if fit.error is None else fit.error[0] - 1
    parent = None
    if stack.reads:
        from .fit import _Graph

        parent = _Graph(stack).parent
    steps = formulas(list(stack.layers[:runs]), stack.dims, convention, parent) + [None] * (len(stack.layers) - runs)
    names = axis_names(stack.dims)
    rows = []
    seen_whole = False
    last_steps = None
    features = None
    start_fixed, size_fixed = {0: True}, {0: True}  # per row, along what it reads
    for index, (layer, row, step) in enumerate(zip(stack.layers, huge.rows, steps), 1):
        seen_whole = seen_whole or layer.kind.op.whole
        sources = stack.inputs(index)[:1] if layer.like is not None else stack.inputs(index)  # like lends a size
        # The start follows the paddings: fixed under torch; under tf, psame with a stride
        # pads by the input's size; a crop or pad, an adaptive pool or a resize moves by it too.
        moves = ((convention.same_like_tf and layer.padding_rule is PaddingRule.SAME and layer.stride
                  and max(layer.stride) > 1)
                 or (layer.kind.is_merge and layer.mode is not None) or layer.kind.op.sized(layer)
                 or layer.kind.op.attends and any(layer.shift or ()))  # the shift is dropped on small maps
        start_fixed[index] = not moves and all(start_fixed[source] for source in sources)
        # A field's size follows its input's, but a merge's union spans its inputs' starts too,
        # and a resize to a size (or an adaptive pool) stretches it by the input's size.
        size_fixed[index] = all(size_fixed[source] for source in sources) and not layer.kind.op.sized(layer) and (
            not layer.kind.is_merge or all(start_fixed[source] for source in sources)) and not (
            layer.kind.op.attends and any(layer.shift or ()))
        if seen_whole and row.computed:
            row = row._replace(axis_fields=())  # a field over "the whole input" has no size without one
        if row.error is not None and fit.error is not None and fit.error[0] == index:
            row = row._replace(error=fit.error[1])  # fit's words for it: formulas, not the huge input's sizes
        elif fit.error is not None and fit.error[1].code == UNANSWERED and index >= fit.error[0] or (
                fit.error is None and row.error is not None and getattr(row.error.code, "about_size", False)):
            # not followed without a size, or an error of the huge probe's size that fit found sizes avoiding:
            row = type(row)(index=index, layer=layer)  # nothing to show, rather than a guess
        if step is not None:
            last_steps = step
        if layer.kind.op.reads_flat:
            features = str(layer.channels)
        elif step is None and features is None and layer.kind.op.flattens:
            channels_in = "?" if row.in_channels is None else str(row.in_channels)
            last = list(names) if last_steps is None else [text(s.expr, name) for s, name in zip(last_steps, names)]
            factors = [factor_text(t) for t in last if t != "1"]
            features = "·".join([channels_in, *factors])
        elif drops_axes(layer, convention):
            features = "?" if row.out_channels is None else str(row.out_channels)
        rows.append(SymbolicRow(index, layer, step, row, features if step is None or drops_axes(layer, convention) else None,
                                start_fixed[index] and not seen_whole, size_fixed=size_fixed[index]))
    from .calc import input_notes

    # Where every size from some minimum on runs, every merge fits at those sizes: nothing to add,
    # and a fit per merge (each one over the rows before it) would cost the square of the depth.
    if stack.reads and fit.error is None and not all(rule.describe_valid().startswith("every") for rule in fit.rules):
        merges = [row.index for row in rows if row.layer.kind.is_merge and row.layer.mode is None][:MAX_MERGES_FITTED]
        fits = {index: _where_it_fits(stack, index, convention, channels) for index in merges}
        rows = [row._replace(fits=fits[row.index]) if row.index in fits else row for row in rows]
    return SymbolicResult(stack.dims, axis_names(stack.dims), convention, channels, tuple(rows), fit, stack.axes_from,
                          input_notes(stack, (), channels), stack.reads)
