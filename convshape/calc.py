"""The public entry: run a stack over an input size and return plain per-layer rows."""

# Annotations evaluated, not strings: see the note in layers.py (a NamedTuple's string fields cost start-up).
from math import prod
from typing import TYPE_CHECKING, NamedTuple

from . import receptive
from .arithmetic import AxisStep, axis_step
from .diagnostics import (
    Code,
    Diagnostic,
    Level,
    axis_findings,
    channel_error,
    merge_axes,
    parameter_error,
    size_error,
)
from .grammar import Stack, output_rows, parse_stack, with_dims  # noqa: F401  (parse_stack: the doctests)
from .layers import Convention, Layer, Pair, axis_names, drops_axes

if TYPE_CHECKING:
    from fractions import Fraction


class Field(NamedTuple):
    """Receptive field per axis: size, jump and start (see ``receptive``)."""

    size: tuple[int, ...]
    jump: tuple["Fraction", ...]
    start: tuple["Fraction | None", ...]


class Row(NamedTuple):
    """One layer's result. ``computed`` is False after an earlier layer's error.

    Sizes are ``None`` where the tensor has no spatial axes (after flatten, or gap
    under tf); ``features`` is the flat feature count there.
    """

    index: int
    layer: Layer
    computed: bool = False
    in_size: tuple[int, ...] | None = None
    out_size: tuple[int, ...] | None = None
    in_channels: int | None = None
    out_channels: int | None = None
    features: int | None = None
    padding: tuple[Pair, ...] | None = None
    steps: tuple[AxisStep, ...] = ()
    axis_fields: tuple[receptive.AxisField | None, ...] = ()
    error: Diagnostic | None = None
    warnings: tuple[Diagnostic, ...] = ()
    notes: tuple[Diagnostic, ...] = ()
    min_fields: tuple[receptive.AxisField | None, ...] | None = None  # the smallest over all paths, if not axis_fields
    in_tokens: int | None = None  # a sequence's length (after tokens): its width is the channels
    tokens: int | None = None

    @property
    def min_size(self) -> tuple[int, ...] | None:
        """The smallest receptive field over all paths into this row (a shortcut's, say)."""
        fields = self.axis_fields if self.min_fields is None else self.min_fields
        if not fields or any(f is None for f in fields):
            return None
        return tuple(f.size for f in fields)

    @property
    def field(self) -> Field | None:
        """Receptive field size, jump and start per axis (None where it is not tracked)."""
        if not self.axis_fields or any(f is None for f in self.axis_fields):
            return None
        fields = self.axis_fields
        return Field(tuple(f.size for f in fields), tuple(f.jump for f in fields), tuple(f.start for f in fields))


class Output(NamedTuple):
    size: tuple[int, ...] | None
    channels: int | None
    features: int | None
    tokens: int | None = None  # a sequence of tokens, of width ``channels``


class Result(NamedTuple):
    """What a stack does to an input: rows, the final output and validity."""

    input_size: tuple[int, ...]
    input_channels: int | None
    dims: int
    convention: Convention
    rows: tuple[Row, ...]
    output: Output | None  # None when a layer is invalid
    axes_from: str = "input"  # what set the number of axes (see grammar.Stack)
    notes: tuple[str, ...] = ()  # about how the input was read
    reads: dict = {}  # the graph (see grammar.Stack): rows that read other rows than the one before
    binds: dict = {}  # names bound after each row (0: the input)

    def inputs(self, index: int) -> tuple[int, ...]:
        """The rows row ``index`` reads (0 is the input)."""
        return self.reads.get(index) or (index - 1,)

    @property
    def output_rows(self) -> tuple[int, ...]:
        """The rows whose results leave the network: the last, and each bound row nothing reads."""
        return output_rows(len(self.rows), self.reads, self.binds)

    @property
    def valid(self) -> bool:
        return self.output is not None

    @property
    def axes(self) -> tuple[str, ...]:
        return axis_names(self.dims)

    @property
    def error_row(self) -> Row | None:
        return next((row for row in self.rows if row.error is not None), None)

    def warning_codes(self) -> set[Code]:
        return {w.code for row in self.rows for w in row.warnings}


class _State:
    """What flows from one layer to the next. Once flat, ``channels`` is the feature count.

    A slotted class, not a NamedTuple: it never leaves this module, and a NamedTuple's
    definition costs start-up time (see layers.py).
    """

    __slots__ = ("size", "channels", "fields", "last_spatial", "flattened", "field_exceeded", "min_fields",
                 "regrouped", "tokens", "attended")

    def __init__(self, size: tuple[int, ...] | None, channels: int | None,
                 fields: list[receptive.AxisField | None],
                 last_spatial: tuple[int, ...],  # the last spatial size seen, for a linear layer's field
                 flattened: str | None,  # why there are no spatial axes any more
                 field_exceeded: list[bool],  # per axis: has the field outgrown the input yet
                 min_fields: list[receptive.AxisField | None] | None = None,  # smallest over the paths; None: ``fields``
                 regrouped: bool = False,  # the channels at a position read different pixels (nothing has mixed them since)
                 tokens: int | None = None,  # a sequence of this many tokens (size None, channels its width)
                 attended: int = 0) -> None:  # the last window attention row on this path (0: none): a position's
        # field is its window's from there on, not centred on it
        self.size, self.channels, self.fields, self.last_spatial = size, channels, fields, last_spatial
        self.flattened, self.field_exceeded, self.min_fields = flattened, field_exceeded, min_fields
        self.regrouped, self.tokens, self.attended = regrouped, tokens, attended


def flat_features(channels: int | None, size: tuple[int, ...] | None) -> int | None:
    if channels is None:
        return None
    return channels * prod(size) if size is not None else channels


def _structure_error(layer: Layer, state: _State, convention: Convention) -> Diagnostic | None:
    op = layer.kind.op
    if (layer.kind.is_spatial or op.makes_tokens) and state.size is None:
        return Diagnostic(Code.SPATIAL_AFTER_FLATTEN, (), {"kind": layer.kind.value, "reason": state.flattened})
    if state.tokens is not None:
        return op.token_error(layer, state.tokens, state.channels) or (
            None if op.reads_tokens else op.structure_error(layer, None, state.channels, None, convention))
    if op.reads_tokens:
        from .ops.tokens import NEEDS_TOKENS

        what = "it gets flat features" if state.size is None else f"it gets a {'×'.join(map(str, state.size))} map"
        return Diagnostic(NEEDS_TOKENS, (), {"kind": layer.kind.value, "what": what})
    return op.structure_error(layer, state.size, state.channels, state.flattened, convention)


def _next_fields(layer: Layer, state: _State, steps: list[AxisStep], alike: bool,
                 before: list[receptive.AxisField | None]) -> list[receptive.AxisField | None]:
    """The fields after ``layer`` of ``before`` (the state's fields, or its smallest ones)."""
    if state.tokens is not None and not layer.kind.op.mixes_tokens:  # token-wise: each token reads its own
        return list(before)
    if alike and len(set(before)) == 1:  # the same layer on the same field: once
        return _next_fields(layer, state, steps, False, before[:1]) * len(before)
    fields = []
    for axis, current in enumerate(before):
        if current is None:
            fields.append(None)
            continue
        new = layer.kind.op.field(layer, current, steps[axis] if steps else None, axis, state.size, state.last_spatial)
        fields.append(new)
    return fields


def _run_layer(index: int, layer: Layer, state: _State, convention: Convention, axes: tuple[str, ...],
               input_size: tuple[int, ...], checked: dict, target: tuple[int, ...] | None = None) -> tuple[Row, _State | None]:
    base = {"index": index, "layer": layer, "in_size": state.size, "in_channels": state.channels,
            "in_tokens": state.tokens}
    if id(layer) not in checked:  # a layer's own parameters, once per layer written (x10000 is one layer)
        checked[id(layer)] = parameter_error(layer, convention, axes)
    error = checked[id(layer)] or _structure_error(layer, state, convention)  # its own parameters first: a kernel of 0 divides
    op = layer.kind.op
    out_channels = op.out_channels(layer, state.channels, state.size)
    tokens = op.out_tokens(layer, state.tokens, state.size)
    if state.tokens is not None and op.flattens and state.channels is not None:
        out_channels = state.tokens * state.channels  # flatten of a sequence: every token's width
    if error is None:
        error = channel_error(layer, state.channels, out_channels)
    if error is not None:
        return Row(**base, error=error), None

    steps: list[AxisStep] = []
    # A square layer on a square map (k3 on 224x224, the common case) is one axis's work.
    alike = layer.kind.is_spatial and len(axes) > 1 and layer.uniform and len(set(state.size)) == 1 and (
        target is None or len(set(target)) == 1)
    named = [axes] if alike else [(name,) for name in axes]
    if layer.kind.is_spatial:
        problems = []
        for axis, in_size in enumerate(state.size[:1] if alike else state.size):
            step = axis_step(layer, axis, in_size, convention, None if target is None else target[axis])
            problem = size_error(layer, step, axes[axis], convention)
            if problem is not None:
                problems.append(problem._replace(axes=named[axis]))
            steps.append(step)
        if problems:  # every axis that fails alike, named in one message ("on H and W")
            return Row(**base, error=merge_axes(problems)[0]), None

    warnings: list[Diagnostic] = []
    notes: list[Diagnostic] = []
    for axis, step in enumerate(steps):
        for finding in axis_findings(layer, step, axes[axis], convention):
            finding = finding._replace(axes=named[axis]) if alike and finding.axes else finding
            (warnings if finding.level is Level.WARNING else notes).append(finding)
    if alike:
        steps *= len(axes)

    kind = layer.kind
    size: tuple[int, ...] | None = tuple(step.out_size for step in steps) if steps else state.size
    flattened = state.flattened
    last_spatial = state.size if state.size is not None else state.last_spatial
    if state.tokens is not None and tokens is None and not op.flattens:  # one token taken: a single position
        last_spatial = (1,) * len(axes)
    if drops_axes(layer, convention):
        size, flattened = None, f"{kind.value} at layer {index} removed them (--convention {convention.value})"
    elif op.flattens:
        if state.size is not None:
            flattened = f"{kind.value} at layer {index} removed them"
        size = None
    elif op.makes_tokens:
        size, flattened = None, f"{kind.value} at layer {index} made the map a sequence of tokens"

    fields = _next_fields(layer, state, steps, alike, state.fields)
    min_fields = None if state.min_fields is None else _next_fields(layer, state, steps, alike, state.min_fields)
    regrouped = (state.regrouped or op.regroups_channels) and not op.mixes_channels(layer)
    if state.regrouped and op.reads_channel_groups and None not in state.fields:
        # One field per position says what all its channels read together: here channels that
        # read different pixels go to different positions, each with only part of that field.
        fields, min_fields = [None] * len(fields), None
        notes.append(Diagnostic(Code.FIELD_NOT_TRACKED, (), {"reason": (
            f"{kind.value} spreads channels that read different pixels, and no layer without groups mixed them")}))
    elif None in fields and None not in state.fields:
        axis = next(axis for axis, f in enumerate(fields) if f is None)
        growth = op.growth(layer, steps[axis] if steps else None, axis)
        reason = receptive.untracked_reason(state.fields[axis], growth)
        notes.append(Diagnostic(Code.FIELD_NOT_TRACKED, (), {"reason": reason}))
    exceeded = state.field_exceeded
    if not (op.reads_flat or op.mixes_tokens) and False in exceeded:  # not said of a linear layer: every
        exceeded = list(exceeded)  # feature sees the whole map by construction
        for axis, f in enumerate(fields):
            if f is not None and not exceeded[axis] and f.size > input_size[axis]:
                exceeded[axis] = True
                notes.append(Diagnostic(Code.FIELD_EXCEEDS_INPUT, (axes[axis],),
                                        {"field": f.size, "input": input_size[axis]}))

    # Row's fields in order (index, layer, computed, in_size, out_size, in_channels, out_channels,
    # features, padding, steps, axis_fields, error, warnings, notes, min_fields, in_tokens, tokens).
    row = Row(index, layer, True, state.size, size, state.channels, out_channels,
              out_channels if size is None and tokens is None else None,
              tuple([step.padding for step in steps]) if op.shows_padding else None,
              tuple(steps), tuple(fields), None,
              tuple(merge_axes(warnings)) if warnings else (),
              tuple(merge_axes(notes)) if notes else (),
              None if min_fields is None else tuple(min_fields), state.tokens, tokens)
    return row, _State(size, out_channels, fields, last_spatial, flattened, exceeded, min_fields, regrouped, tokens,
                       index if op.attends else state.attended)


def _run_merge(index: int, layer: Layer, sources: tuple[int, ...], states: list[_State], axes: tuple[str, ...],
               convention: Convention, layers: tuple[Layer, ...]) -> tuple[Row, _State | None]:
    """A merge row: what ``merge.combine`` makes of the states of the rows it reads."""
    from . import merge  # only graphs have merges: a chain does not import it
    current = states[-1]
    base = {"index": index, "layer": layer, "in_size": current.size, "in_channels": current.channels,
            "in_tokens": current.tokens}
    if any(state.tokens is not None for state in states):
        problem = _sequence_merge_error(layer, sources, states)
        if problem is not None:
            return Row(**base, error=problem), None
    incoming = [merge.Incoming(row, state.size, state.channels, tuple(state.fields), layers[row - 1] if row else None)
                for row, state in zip(sources, states)]
    merged = merge.combine(layer, incoming, axes, convention)
    if merged.error is not None:
        return Row(**base, error=merged.error), None
    notes = list(merged.notes)
    fields = list(merged.fields) if merged.size is not None else list(current.fields)
    if merged.untracked and not any(f is None for state in states for f in state.fields):
        notes.append(Diagnostic(Code.FIELD_NOT_TRACKED, (), {"reason": merged.untracked}))
    min_fields = None
    if merged.size is not None:
        min_fields = []
        for axis in range(len(axes)):
            candidates = [(state.min_fields or state.fields)[axis] for state in states]
            tracked = [f for f in candidates if f is not None]
            min_fields.append(min(tracked, key=lambda f: f.size) if len(tracked) == len(candidates) else None)
        if min_fields == fields:
            min_fields = None
    exceeded = [any(state.field_exceeded[axis] for state in states) for axis in range(len(axes))]
    flattened = current.flattened if merged.size is None else None
    row = Row(
        **base,
        computed=True,
        out_size=merged.size,
        out_channels=merged.channels,
        features=merged.channels if merged.size is None and current.tokens is None else None,
        tokens=current.tokens,
        axis_fields=tuple(fields),
        warnings=tuple(merge_axes(list(merged.warnings))),
        notes=tuple(notes),
        min_fields=None if min_fields is None else tuple(min_fields),
    )
    regrouped = any(state.regrouped for state in states)
    attended = {state.attended for state in states}
    if len(attended) > 1:  # one input went through a window attention the other did not: its fields are off
        # their positions by design (a residual around attention lines up); after the same one, they are compared
        row = row._replace(warnings=tuple(w for w in row.warnings if w.code is not Code.MERGE_MISALIGNED))
    return row, _State(merged.size, merged.channels, fields, current.last_spatial, flattened, exceeded, min_fields,
                       regrouped, current.tokens, max(attended))


def _sequence_merge_error(layer: Layer, sources: tuple[int, ...], states: list[_State]) -> Diagnostic | None:
    """Sequences add and multiply token by token: the same length in every input (the widths
    are checked as channels); a cat of sequences is no channel join, and not done here."""
    from .merge import row_name

    counts = {state.tokens for state in states}
    if len(counts) == 1 and not layer.kind.op.joins_channels:
        return None
    shapes = ", ".join(f"{row_name(row)} gives " + (
        f"{state.tokens} tokens of width {state.channels}" if state.tokens is not None else
        "flat features" if state.size is None else f"a {'×'.join(map(str, state.size))} map")
        for row, state in zip(sources, states))
    hint = ("; cat joins channels, and sequences have none (torch.cat(dim=1) would join their tokens)"
            if layer.kind.op.joins_channels else "")
    return Diagnostic(Code.MERGE_SIZE_MISMATCH, (), {"kind": layer.kind.value, "shapes": shapes, "framework": "",
                                                     "hint": hint})


def run(stack: Stack, input_size: tuple[int, ...], channels: int | None = None, convention: Convention = Convention.TORCH) -> Result:
    """Run a parsed stack over an input size (one value per axis, or one for all)."""
    convention = Convention(convention)  # "torch" works as well as Convention.TORCH
    dims = stack.dims
    sizes = with_dims(tuple(input_size), dims)
    if len(sizes) != dims:
        raise ValueError(f"input has {len(sizes)} axes, stack has {dims}")
    axes = axis_names(dims)
    state: _State | None = _State(sizes, channels, [receptive.AxisField.identity()] * dims, sizes, None, [False] * dims)
    rows: list[Row] = []
    checked: dict[int, Diagnostic | None] = {}  # id of a layer of the stack (alive while it runs) -> its error
    # The graph: a row's state is kept only while a later row may read it by name.
    kept = {source for sources in stack.reads.values() for source in sources}
    saved = {0: state} if 0 in kept else {}
    for index, layer in enumerate(stack.layers, 1):
        if state is None:  # the frameworks stop at the first error, as a script runs top to bottom
            rows.append(Row(index=index, layer=layer))
            continue
        sources = stack.reads.get(index)
        if layer.kind.is_merge:
            row, state = _run_merge(index, layer, sources, [saved[s] for s in sources], axes, convention, stack.layers)
        elif sources is not None:
            target = saved[sources[1]].size if layer.like is not None else None
            if layer.like is not None and target is None:
                row, state = Row(index=index, layer=layer, in_size=saved[sources[0]].size,
                                 error=Diagnostic(Code.SPATIAL_AFTER_FLATTEN, (), {
                                     "kind": f"up like {layer.like}", "reason": f"{layer.like} has no spatial axes"})), None
            else:
                row, state = _run_layer(index, layer, saved[sources[0]], convention, axes, sizes, checked, target)
        else:
            row, state = _run_layer(index, layer, state, convention, axes, sizes, checked)
        rows.append(row)
        if index in kept and state is not None:
            saved[index] = state
    output = None
    if state is not None:
        output = Output(state.size, state.channels,
                        None if state.tokens is not None else flat_features(state.channels, state.size), state.tokens)
        if stack.reads:
            from . import merge

            for unused in sorted(merge.unused_rows(len(rows), stack.inputs, stack.output_rows)):
                row = rows[unused - 1]
                rows[unused - 1] = row._replace(notes=row.notes + (Diagnostic(Code.UNUSED),))
    return Result(sizes, channels, dims, Convention(convention), tuple(rows), output, stack.axes_from,
                  input_notes(stack, tuple(input_size), channels), stack.reads, stack.binds)


def input_notes(stack: Stack, input_size: tuple[int, ...], channels: int | None) -> tuple[str, ...]:
    """What a person may not have meant by the input: three sizes read as D×H×W when the
    first looks like channels, and axes that only a layer's token made 3-D or 1-D.

    >>> print(input_notes(parse_stack("conv k3", input_dims=3), (3, 224, 224), 3)[0])
    -i 3x224x224 is read as D×H×W (3-D), a depth of 3; for channels × height × width, give -i 224x224 -c 3
    """
    notes = []
    first = input_size[0] if input_size else None
    if len(input_size) == 3 and not stack.layers_claim and (first == channels or first in (1, 3, 4)):
        rest = "x".join(map(str, input_size[1:]))
        notes.append(f"-i {'x'.join(map(str, input_size))} is read as D×H×W (3-D), a depth of {first}; "
                     f"for channels × height × width, give -i {rest} -c {first}")
    if stack.axes_from not in ("input", "default", "--dims"):
        names = "×".join(axis_names(stack.dims))
        notes.append(f"{stack.dims} spatial {'axis' if stack.dims == 1 else 'axes'} ({names}), from {stack.axes_from}")
    return tuple(notes)
