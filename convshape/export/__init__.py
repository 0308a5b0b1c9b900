"""From a checked stack to model code: what every writer needs to know of each row.

A writer (``pytorch``, ``keras``) turns a ``Plan`` into the text of a Python module. The
plan carries, per row, the numbers convshape computed that the framework wants written
down (the input channels, the input features of a linear layer) and the shape to write in
the row's comment. It comes from calc's rows when the input size is known, and from the
formulas without one. No writer imports a framework: the text is the product.
"""

from __future__ import annotations

from typing import NamedTuple

from ..layers import Convention, Layer, layer_label


class ExportError(Exception):
    """A stack the target framework cannot express, or that does not run: which row, and why."""

    def __init__(self, message: str, index: int | None = None, layer: Layer | None = None):
        where = f"row {index} ({layer.text}): " if index is not None and layer is not None else ""
        super().__init__(where + message)
        self.index = index


class RowPlan(NamedTuple):
    index: int
    layer: Layer
    inputs: tuple[int, ...]  # the rows it reads (0: the input), in the merge's order
    in_channels: int | None  # channels of its input, or its input features once flat
    out_channels: int | None
    flat_in: bool  # its input has no spatial axes
    shape: str  # the output, for the comment: 64×112×112, 1000, 64 × (H − 2) × (W − 2)
    in_sizes: tuple[tuple[int, ...] | None, ...] = ()  # the spatial size of each input, where known
    unknown: str = ""  # why its numbers are unknown whatever the options (a forced export): an earlier layer


class Plan(NamedTuple):
    rows: tuple[RowPlan, ...]
    dims: int
    convention: Convention
    input_channels: int | None
    input_size: tuple[int, ...] | None  # None: the size is left free
    sample_size: tuple[int, ...]  # a size at which the stack runs, for the module's self-test
    names: dict  # row -> the names the stack binds to it (0: the input)
    command: str  # how it was made, for the header

    @property
    def is_chain(self) -> bool:
        return all(row.inputs == (row.index - 1,) and not row.layer.kind.is_merge for row in self.rows)

    @property
    def output_rows(self) -> tuple[int, ...]:
        """What the model returns: the last row, and each row bound to a name nothing reads."""
        from ..grammar import output_rows

        return output_rows(len(self.rows), {row.index: row.inputs for row in self.rows}, self.names)


def plan_from_result(result, stack, command: str) -> Plan:
    """The plan of a stack run on a given input size (calc's ``Result``)."""
    from ..render.common import short_shape

    failed = next((row for row in result.rows if row.error is not None), None)
    unknown = "" if failed is None else (f"layer {failed.index} ({layer_label(failed.layer, failed.index)}) cannot "
                                         "run at this input size, and no row from it on is computed")
    rows = []
    for row in result.rows:
        sources = result.inputs(row.index)
        in_sizes = tuple(result.input_size if source == 0 else result.rows[source - 1].out_size for source in sources)
        first = result.rows[sources[-1] - 1] if sources[-1] else None
        flat_in = (first is not None and first.out_size is None) if row.computed else row.layer.kind.op.reads_flat
        rows.append(RowPlan(row.index, row.layer, sources, row.in_channels, row.out_channels if row.computed else None,
                            flat_in,
                            short_shape(row.out_size, row.out_channels, row.features, row.tokens) if row.computed else "?",
                            in_sizes, unknown if failed is not None and row.index >= failed.index else ""))
    return Plan(tuple(rows), result.dims, result.convention, result.input_channels, result.input_size,
                result.input_size, dict(stack.binds), command)


def plan_from_formulas(symbolic, stack, command: str) -> Plan:
    """The plan of a stack whose input size is left free (``symbolic.symbolic_calc``)."""
    from ..render.answers import formula_shape

    stop = symbolic.fit.error[0] if symbolic.fit.error else len(symbolic.rows) + 1
    unknown = "" if stop > len(symbolic.rows) else _stopped(symbolic.rows[stop - 1], symbolic.fit.error[1])
    rows = []
    for row in symbolic.rows:
        sources = symbolic.inputs(row.index)
        before = symbolic.rows[sources[-1] - 1] if sources[-1] else None
        # Past the layer where the formulas stop, an input without steps is unknown, not flat.
        flat_in = (before is not None and before.steps is None) if row.index <= stop else row.layer.kind.op.reads_flat
        in_channels = row.row.in_channels  # None where the run did not reach the row
        if flat_in and before is not None:  # calc ran on a huge size: the features are the formula's, a
            # number only if no size moves it (a row past the stop that reads the input keeps the input's channels)
            in_channels = int(before.features) if before.features and before.features.isdigit() else None
        if row.steps is None:
            shape = f"{row.features}" if row.features else "?"
        else:
            shape = formula_shape(symbolic, row)
        out_channels = row.row.out_channels if row.row.computed and row.steps is not None else None
        if row.steps is None and row.features and row.features.isdigit():
            out_channels = int(row.features)
        rows.append(RowPlan(row.index, row.layer, sources, in_channels, out_channels, flat_in, shape,
                            unknown="" if row.index < stop else unknown))
    sample = tuple(rule.smallest_clean or rule.minimum_valid for rule in symbolic.fit.rules) \
        if symbolic.fit.rules else (32,) * symbolic.dims
    return Plan(tuple(rows), symbolic.dims, symbolic.convention, symbolic.input_channels, None, sample,
                dict(stack.binds), command)


def _stopped(row, diagnostic) -> str:
    """Why no row from ``row`` on has numbers, without an input size."""
    from ..ops.tokens import UNANSWERED

    label = f"layer {row.index} ({layer_label(row.layer, row.index)})"
    if diagnostic.code == UNANSWERED:  # fit's answer at a sequence of tokens, as symbolic and answers read it
        return f"without -i, no row from {label} on is computed (a sequence of tokens): give -i"
    return f"{label} cannot run at any input size, and no row from it on is computed"


def full_padding(layer: Layer) -> tuple[int, ...]:
    """``pfull``'s padding on each side, per axis: d·(k − 1)."""
    return tuple(d * (k - 1) for k, d in zip(layer.kernel, layer.dilation or (1,) * layer.dims))


def variable_names(plan: Plan) -> dict[int, str]:
    """A Python name for each row's tensor (0: the input): the name the stack binds to it
    where the stack binds that name once, else ``t7``; ``x`` for an unnamed input."""
    import keyword

    reserved = {"self", "torch", "nn", "F", "keras", "layers", "model", "inputs", "x"}
    counts: dict[str, int] = {}
    for names in plan.names.values():
        for name in names:
            counts[name] = counts.get(name, 0) + 1
    chosen = {0: "x"}
    for row in range(len(plan.rows) + 1):
        for name in plan.names.get(row, ()):
            if counts[name] == 1 and not keyword.iskeyword(name) and name not in reserved \
                    and not (name[:1] == "t" and name[1:].isdigit()):
                chosen[row] = name
                break
        else:
            if row:
                chosen[row] = f"t{row}"
    return chosen


def per_axis(values: tuple, wrap=repr) -> str:
    """One value for every axis (``3``), or a tuple (``(3, 5)``)."""
    if len(set(values)) == 1:
        return wrap(values[0])
    return "(" + ", ".join(map(wrap, values)) + ")"


def number_text(value) -> str:
    """A scale factor as Python text: 2, 1.5 (the grammar reads only finite decimals)."""
    if getattr(value, "denominator", 1) == 1:
        return str(int(value))
    return repr(float(value))


def docstring_text(text: str) -> str:
    r"""Text that stays inside a module's docstring: a backslash or three quotes in a path would end it.

    >>> print(docstring_text(r'convshape export -f C:\nets\a.stack'))
    convshape export -f C:\\nets\\a.stack
    """
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')

