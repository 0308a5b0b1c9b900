"""Shapes without an input size: each layer's output as a formula of the input.

A formula is a small tree of integer operations on the input size x (H, W, D or L):
``m·e + c`` and ``⌊e / d⌋``. Consecutive floor divisions collapse into one wherever
that is exact (⌊(⌊(x + a)/p⌋ + b)/q⌋ = ⌊(x + a + p·b)/(p·q)⌋), so five ``conv k3 s2 p1``
read ⌊(H + 31)/32⌋. Every formula is checked against calc's numbers by the tests.
"""

from __future__ import annotations

from math import gcd
from typing import NamedTuple, Union

from .arithmetic import ceil_div, effective_kernel, keras_transposed_rule, onnx_dilated_pool, resolve_padding
from .diagnostics import factor_text
from .layers import Convention, Kind, Layer, PaddingRule, drops_axes


class X(NamedTuple):
    """The input size."""


class Lin(NamedTuple):
    """mul · inner + add (mul 0: the constant add)."""

    mul: int
    inner: "Expr"
    add: int


class Div(NamedTuple):
    """⌊inner / den⌋."""

    inner: "Expr"
    den: int


Expr = Union[X, Lin, Div]
VAR = X()


def lin(mul: int, inner: Expr, add: int = 0) -> Expr:
    if mul == 0:
        return Lin(0, VAR, add)
    if isinstance(inner, Lin):
        return lin(mul * inner.mul, inner.inner, mul * inner.add + add) if inner.mul else Lin(0, VAR, mul * inner.add + add)
    if mul == 1 and add == 0:
        return inner
    if mul == 1 and isinstance(inner, Div):  # ⌊u/d⌋ + c = ⌊(u + c·d)/d⌋
        return div(lin(1, inner.inner, add * inner.den), inner.den)
    return Lin(mul, inner, add)


def div(inner: Expr, den: int) -> Expr:
    """⌊inner / den⌋, collapsed where that is exact."""
    if den == 1:
        return inner
    mul, core, add = (inner.mul, inner.inner, inner.add) if isinstance(inner, Lin) else (1, inner, 0)
    if mul == 0:
        return Lin(0, VAR, add // den)
    if mul % den == 0:  # (m·e + c)/d with d | m: exact apart from ⌊c/d⌋
        return lin(mul // den, core, add // den)
    if mul == 1 and isinstance(core, Div):  # ⌊(⌊u/p⌋ + c)/q⌋ = ⌊(u + p·c)/(p·q)⌋
        return div(lin(1, core.inner, core.den * add), core.den * den)
    common = gcd(gcd(mul, add), den)
    if common > 1 and not isinstance(core, Div):
        return div(lin(mul // common, core, add // common), den // common)
    return Div(lin(mul, core, add), den)


def evaluate(expr: Expr, x: int) -> int:
    """The formula's value at input size x.

    >>> evaluate(div(lin(1, VAR, 31), 32), 224)
    7
    """
    if isinstance(expr, X):
        return x
    if isinstance(expr, Lin):
        return expr.mul * evaluate(expr.inner, x) + expr.add if expr.mul else expr.add
    return evaluate(expr.inner, x) // expr.den


def text(expr: Expr, name: str = "H") -> str:
    """The formula as people write it.

    >>> text(div(lin(1, VAR, 31), 32))
    '⌊(H + 31)/32⌋'
    """
    if isinstance(expr, X):
        return name
    if isinstance(expr, Div):
        inner = text(expr.inner, name)
        return f"⌊{inner}/{expr.den}⌋" if isinstance(expr.inner, X) else f"⌊({inner})/{expr.den}⌋"
    if expr.mul == 0:
        return str(expr.add)
    inner = text(expr.inner, name)
    term = inner if expr.mul == 1 else f"{expr.mul}·{inner}"
    if expr.add == 0:
        return term
    return f"{term} + {expr.add}" if expr.add > 0 else f"{term} − {-expr.add}"


def coefficients(expr: Expr) -> dict | None:
    """{mul, a, b, den, add} with value = mul·⌊(a·x + b)/den⌋ + add, where the formula has that form."""
    mul, core, add = (expr.mul, expr.inner, expr.add) if isinstance(expr, Lin) else (1, expr, 0)
    if mul == 0:
        return {"mul": 0, "a": 0, "b": 0, "den": 1, "add": add}
    if isinstance(core, X):
        return {"mul": 1, "a": mul, "b": add, "den": 1, "add": 0}
    if isinstance(core, Div):
        inner = core.inner
        a, rest, b = (inner.mul, inner.inner, inner.add) if isinstance(inner, Lin) else (1, inner, 0)
        if isinstance(rest, X):
            return {"mul": mul, "a": a, "b": b, "den": core.den, "add": add}
    return None


class Step(NamedTuple):
    """One layer on one axis: its output formula and whether it is exact."""

    expr: Expr
    exact: bool  # False where PyTorch's ceil-mode correction may take 1 off
    before: Expr | None = None  # the formula before the layer, and
    template: str = ""  # the layer's formula with {x} for it, for --explain
    name: str = "H"

    @property
    def how(self) -> str:
        """The layer's formula applied to the previous one, with its numbers (written only
        when asked: a deep stack's numbers run to thousands of digits)."""
        if self.before is None:
            return ""
        return self.template.format(x=text(self.before, self.name)) + f" = {text(self.expr, self.name)}"


def _explained(step: Step, before: Expr, name: str, template: str) -> Step:
    return step._replace(before=before, template=template, name=name)


def through(layer: Layer, axis: int, before: Expr, convention: Convention) -> Step:
    """The formula after ``layer``, given the formula before it."""
    kind = layer.kind
    if kind.is_windowed:
        k, s, d = layer.kernel[axis], layer.stride[axis], layer.dilation[axis]
        ke = effective_kernel(k, d)
        rule = layer.padding_rule
        if rule is PaddingRule.SAME and convention.same_like_tf:
            shrink = ceil_div(ke - k, s) if convention is Convention.ONNX and onnx_dilated_pool(layer) else 0
            return Step(lin(1, div(lin(1, before, s - 1), s), -shrink), True)  # ceil(I / s), less ONNX's overhang
        if rule is PaddingRule.SAME:  # torch: stride 1 and total padding d·(k−1) keep the size
            return Step(before, True)
        pb, pa = resolve_padding(layer, axis, 0, convention)  # without "same", the size plays no part
        if layer.ceil and convention.honours_ceil:
            # ceil((I + P − kₑ)/s) + 1; PyTorch drops the last window when it starts past the input.
            may_drop = s - 1 >= ke - pa
            return Step(div(lin(1, before, pb + pa - ke + 2 * s - 1), s), not may_drop)
        return Step(div(lin(1, before, pb + pa - ke + s), s), True)
    if kind is Kind.CONVT:
        k, s, d = layer.kernel[axis], layer.stride[axis], layer.dilation[axis]
        ke = effective_kernel(k, d)
        op = layer.output_padding[axis] if layer.output_padding else 0
        if keras_transposed_rule(layer, convention):
            extra = 0 if layer.padding_rule is PaddingRule.SAME else max(ke - s, 0)
            return Step(lin(s, before, extra), True)
        pb, pa = resolve_padding(layer, axis, 0, convention)
        return Step(lin(s, before, -s - pb - pa + d * (k - 1) + op + 1), True)
    if kind is Kind.UP and layer.scale is not None:
        scale = layer.scale[axis]
        return Step(div(lin(scale.numerator, before), scale.denominator), True)
    if kind is Kind.PAD:
        pb, pa = layer.padding[axis]
        return Step(lin(1, before, pb + pa), True)
    if kind is Kind.GAP:
        return Step(Lin(0, VAR, 1), True)
    if kind.is_adaptive or (kind is Kind.UP and layer.scale is None):  # to a size: o7, o64
        return Step(Lin(0, VAR, layer.out[axis]), True)
    return Step(before, True)


def _how(layer: Layer, axis: int, convention: Convention) -> str:
    """The layer's formula with ``{x}`` for its input, as --explain shows it."""
    kind = layer.kind
    if kind.is_windowed:
        k, s, d = layer.kernel[axis], layer.stride[axis], layer.dilation[axis]
        ke = effective_kernel(k, d)
        if layer.padding_rule is PaddingRule.SAME:
            if convention is Convention.ONNX and onnx_dilated_pool(layer):
                return f"ceil({{x}}/{s}) − {ceil_div(ke - k, s)}"
            return f"ceil({{x}}/{s})" if convention.same_like_tf else "{x}"
        pb, pa = resolve_padding(layer, axis, 0, convention)
        rounding = "ceil" if layer.ceil and convention.honours_ceil else "floor"
        return f"{rounding}(({{x}} + {pb + pa} − {ke})/{s}) + 1"
    if kind is Kind.CONVT:
        k, s, d = layer.kernel[axis], layer.stride[axis], layer.dilation[axis]
        op = layer.output_padding[axis] if layer.output_padding else 0
        if keras_transposed_rule(layer, convention):
            extra = 0 if layer.padding_rule is PaddingRule.SAME else max(effective_kernel(k, d) - s, 0)
            return f"{{x}}·{s} + {extra}"
        pb, pa = resolve_padding(layer, axis, 0, convention)
        return f"({{x}} − 1)·{s} − {pb + pa} + {d}·({k} − 1) + {op} + 1"
    if kind is Kind.UP and layer.scale is not None:
        return f"floor({{x}}·{layer.scale[axis]})"
    if kind.is_adaptive or kind is Kind.UP:
        return str(layer.out[axis])
    if kind is Kind.PAD:
        return f"{{x}} + {sum(layer.padding[axis])}"
    return "1"


def formulas(layers: list[Layer], dims: int, convention: Convention, parent=None) -> list[list[Step] | None]:
    """Per layer, one Step per axis (None for layers without spatial axes).

    ``parent(index)`` is the row whose size row ``index`` follows (a graph's; by default
    the row before): a merge has its inputs' size where it fits, `up like x` has x's.
    """
    from .layers import axis_names

    names = axis_names(dims)
    current: list[Expr] = [VAR] * dims
    rows: list[list[Step] | None] = []
    flat = False
    kept: dict[int, tuple[list[Expr], bool]] = {0: (current, False)}
    for index, layer in enumerate(layers, 1):
        if parent is not None:
            current, flat = kept[parent(index)]
            if layer.kind.is_merge or layer.like is not None:
                # Where a crop or pad changes nothing, that is: where the inputs agree.
                exact = layer.mode is None
                steps = None if flat else [Step(expr, exact, None, "", name) for expr, name in zip(current, names)]
                rows.append(steps)
                kept[index] = (current, flat)
                continue
        if layer.kind.keeps_shape and not flat:  # the same sizes: the same formulas, as exact as they were
            source = (parent(index) if parent is not None else index - 1) - 1
            before = rows[source] if source >= 0 else None
            exact = [True] * dims if before is None else [step.exact for step in before]
            rows.append([Step(expr, ok, None, "", name) for expr, ok, name in zip(current, exact, names)])
            if parent is not None:
                kept[index] = (current, flat)
            continue
        if not layer.kind.is_spatial or flat:
            rows.append(None)
            flat = True if layer.kind is Kind.FLATTEN else flat
            if parent is not None:
                kept[index] = (current, flat)
            continue
        if layer.uniform and dims > 1 and len(set(current)) == 1:  # k3 on H and W alike: one formula
            first = through(layer, 0, current[0], convention)
            how = _how(layer, 0, convention)
            steps = [_explained(first, current[0], name, how) for name in names]
        else:
            steps = [_explained(through(layer, axis, current[axis], convention), current[axis], names[axis],
                                _how(layer, axis, convention)) for axis in range(dims)]
        current = [step.expr for step in steps]
        rows.append(steps)
        if drops_axes(layer, convention):
            flat = True
        if parent is not None:
            kept[index] = (current, flat)
    return rows


def sizes_into(layers: list[Layer], index: int, dims: int, convention: Convention) -> list[str]:
    """The spatial sizes that reach layer ``index`` (1-based), as formulas of the input.

    >>> from convshape.grammar import parse_stack
    >>> sizes_into(list(parse_stack("conv k3, gap, linear c4").layers), 3, 2, Convention.TORCH)
    ['1', '1']
    """
    from .layers import axis_names

    steps = [step for step in formulas(layers[: index - 1], dims, convention) if step is not None]
    names = axis_names(dims)
    return list(names) if not steps else [text(step.expr, name) for step, name in zip(steps[-1], names)]


# ---------------------------------------------------------------------------------
# A whole stack without an input size.


class SymbolicRow(NamedTuple):
    index: int
    layer: Layer
    steps: list[Step] | None  # per axis; None once there are no spatial axes
    row: object  # calc's Row on a huge input: channels, receptive field, errors that no size avoids
    features: str | None = None  # once flat: the feature count as a formula (64·⌊(H + 31)/32⌋·⌊(W + 31)/32⌋)
    start_fixed: bool = False  # the field's start is the same at every input size (shown without -i)
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
    start_fixed = True
    for index, (layer, row, step) in enumerate(zip(stack.layers, huge.rows, steps), 1):
        seen_whole = seen_whole or layer.kind in (Kind.GAP, Kind.LINEAR)
        # The start follows the paddings: fixed under torch; under tf, psame with a stride
        # pads by the input's size; a crop or pad, an adaptive pool or a resize moves by it too.
        start_fixed = start_fixed and not (
            (convention.same_like_tf and layer.padding_rule is PaddingRule.SAME and layer.stride
             and max(layer.stride) > 1)
            or (layer.kind.is_merge and layer.mode is not None) or layer.kind.is_adaptive
            or (layer.kind is Kind.UP and layer.scale is None))
        if seen_whole and row.computed:
            row = row._replace(axis_fields=())  # a field over "the whole input" has no size without one
        if row.error is not None and fit.error is not None and fit.error[0] == index:
            row = row._replace(error=fit.error[1])  # fit's words for it: formulas, not the huge input's sizes
        if step is not None:
            last_steps = step
        if layer.kind is Kind.LINEAR:
            features = str(layer.channels)
        elif step is None and features is None and layer.kind is Kind.FLATTEN:
            channels_in = "?" if row.in_channels is None else str(row.in_channels)
            last = list(names) if last_steps is None else [text(s.expr, name) for s, name in zip(last_steps, names)]
            factors = [factor_text(t) for t in last if t != "1"]
            features = "·".join([channels_in, *factors])
        elif drops_axes(layer, convention):
            features = "?" if row.out_channels is None else str(row.out_channels)
        rows.append(SymbolicRow(index, layer, step, row, features if step is None or drops_axes(layer, convention) else None,
                                start_fixed and not seen_whole))
    from .calc import input_notes

    if stack.reads and fit.error is None:
        rows = [row._replace(fits=_where_it_fits(stack, row.index, convention, channels))
                if row.layer.kind.is_merge and row.layer.mode is None else row for row in rows]
    return SymbolicResult(stack.dims, axis_names(stack.dims), convention, channels, tuple(rows), fit, stack.axes_from,
                          input_notes(stack, (), channels), stack.reads)
