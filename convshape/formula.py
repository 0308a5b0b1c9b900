"""The algebra of shape formulas: the input size x and the integer operations a layer does
to it, ``m·e + c`` and ``⌊e / d⌋``. Consecutive floor divisions collapse into one wherever
that is exact (⌊(⌊(x + a)/p⌋ + b)/q⌋ = ⌊(x + a + p·b)/(p·q)⌋), so five ``conv k3 s2 p1``
read ⌊(H + 31)/32⌋. A kind's module writes its formula with these; ``symbolic`` runs them.
"""

from __future__ import annotations

from math import gcd
from typing import NamedTuple, Union

from .layers import Convention, Layer, drops_axes


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
    """The formula after ``layer``, given the formula before it (its kind's rule)."""
    return layer.kind.op.formula(layer, axis, before, convention)


def _how(layer: Layer, axis: int, convention: Convention) -> str:
    """The layer's formula with ``{x}`` for its input, as --explain shows it."""
    return layer.kind.op.formula_text(layer, axis, convention)


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
            flat = True if layer.kind.op.flattens else flat
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


def sizes_into(layers: list[Layer], index: int, dims: int, convention: Convention, parent=None) -> list[str]:
    """The spatial sizes that reach layer ``index`` (1-based), as formulas of the input
    (``parent``: a graph's, as for ``formulas``).

    >>> from convshape.grammar import parse_stack
    >>> sizes_into(list(parse_stack("conv k3, gap, linear c4").layers), 3, 2, Convention.TORCH)
    ['1', '1']
    """
    from .layers import axis_names

    rows = formulas(layers[: index - 1], dims, convention, parent)
    source = (parent(index) if parent is not None else index - 1) - 1  # the row it reads
    steps = [step for step in rows[: source + 1] if step is not None]
    names = axis_names(dims)
    return list(names) if not steps else [text(step.expr, name) for step, name in zip(steps[-1], names)]
