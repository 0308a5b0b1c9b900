"""Merges: add, mul and cat. Everything a merge does lives here: how it makes its inputs'
sizes agree (crop, pad, broadcasting), its output size and channels, its checks, and the
receptive field of what it makes (the union of its inputs' fields).

A merge reads several tensors: the ones it names, in the written order, then the current
one. Sizes are per spatial axis; a flat tensor (after flatten or linear) has none, and its
feature count stands where the channels would be.
"""

# Annotations evaluated, not strings: see the note in layers.py (string annotations cost start-up).
from math import lcm
from typing import TYPE_CHECKING

from . import receptive
from .diagnostics import Code, Diagnostic, number_text
from .layers import Convention, Layer, MergeMode

if TYPE_CHECKING:
    from .kinds import Kind


class Incoming:
    """One tensor a merge reads: the row that made it (0: the input) and its shape; ``layer``:
    the layer of the row that made it (None: the input), for suggestions.

    This record and ``Merged`` are slotted classes: they stay between calc and this module,
    and a NamedTuple's definition costs start-up time (see layers.py)."""

    __slots__ = ("row", "size", "channels", "fields", "layer")

    def __init__(self, row: int, size: tuple[int, ...] | None, channels: int | None,
                 fields: tuple[receptive.AxisField | None, ...], layer: Layer | None = None) -> None:
        self.row, self.size, self.channels, self.fields, self.layer = row, size, channels, fields, layer


class Merged:
    """What a merge makes of its inputs; ``untracked``: why the field stops being tracked here, if it does."""

    __slots__ = ("size", "channels", "fields", "error", "warnings", "notes", "untracked")

    def __init__(self, size: tuple[int, ...] | None, channels: int | None,
                 fields: tuple[receptive.AxisField | None, ...], error: Diagnostic | None = None,
                 warnings: tuple[Diagnostic, ...] = (), notes: tuple[Diagnostic, ...] = (),
                 untracked: str | None = None) -> None:
        self.size, self.channels, self.fields, self.error = size, channels, fields, error
        self.warnings, self.notes, self.untracked = warnings, notes, untracked


def centre_crop_offset(excess: int) -> int:
    """Where torchvision's ``center_crop`` starts a window ``excess`` pixels smaller than the
    map: ``int(round(excess / 2.0))``, Python's round, so half-way goes to the even number.

    >>> [centre_crop_offset(e) for e in range(7)]
    [0, 0, 1, 2, 2, 2, 3]
    """
    half, odd = divmod(excess, 2)
    return half + (odd and half % 2)


def offsets(mode: MergeMode, have: int, want: int) -> tuple[int, int]:
    """How many pixels a merge's ``crop`` takes off (or its ``pad`` adds) before and after,
    to take an input of ``have`` to ``want`` on one axis.

    >>> offsets(MergeMode.CROP, 64, 56), offsets(MergeMode.PAD, 5, 8)
    ((4, 4), (1, 2))
    """
    if mode is MergeMode.CROP:
        before = centre_crop_offset(have - want)
        return before, have - want - before
    before = (want - have) // 2
    return before, want - have - before


def row_name(row: int) -> str:
    return "the input" if row == 0 else f"row {row}"


def _shape_text(size, channels) -> str:
    if size is None:
        return f"{channels} features (flat)"
    return "×".join(map(str, size))


def _torch_message(kind: "Kind", shapes: list[tuple[int, ...]]) -> str:
    """The message PyTorch raises for the first pair of inputs that does not fit; a shape is
    (channels, *sizes), the tensor's dimensions from 1 on (NCHW)."""
    if kind.op.joins_channels:
        first = shapes[0]
        for number, other in enumerate(shapes[1:], 1):
            for axis in range(1, len(first)):
                if first[axis] != other[axis]:
                    return (f"Sizes of tensors must match except in dimension 1. Expected size {first[axis]} but got "
                            f"size {other[axis]} for tensor number {number} in the list.")
        return ""
    current = shapes[0]
    for other in shapes[1:]:
        for axis in reversed(range(len(current))):  # torch compares from the last dimension
            a, b = current[axis], other[axis]
            if a != b and 1 not in (a, b):
                return (f"The size of tensor a ({a}) must match the size of tensor b ({b}) "
                        f"at non-singleton dimension {axis + 1}")
        current = tuple(max(a, b) for a, b in zip(current, other))
    return ""


def _keras_message(kind: "Kind", shapes: list[tuple[int, ...]]) -> str:
    """The message Keras 3 raises building the merge in a functional model; a shape is
    (*sizes, channels), channels last, without the batch."""
    if kind.op.joins_channels:
        listed = ", ".join(repr((None, *shape)) for shape in shapes)
        return ("A `Concatenate` layer requires inputs with matching shapes except for the concatenation axis. "
                f"Received: input_shape=[{listed}]")
    current = shapes[0]
    for other in shapes[1:]:
        if any(a != b and 1 not in (a, b) for a, b in zip(current, other)):
            return f"Inputs have incompatible shapes. Received shapes {current} and {other}"
        current = tuple(b if a == 1 else a for a, b in zip(current, other))
    return ""


def _fix_hint(incoming: list[Incoming], sizes: list[tuple[int, ...]], target: tuple[int, ...]) -> str:
    """An output padding on a transposed conv that would make its output the size needed."""
    for item, size in zip(incoming, sizes):
        layer = item.layer
        if layer is None or not layer.kind.op.transposed:
            continue
        short = [t - s for s, t in zip(size, target)]
        stride, dilation = layer.stride, layer.dilation
        have = layer.output_padding or (0,) * len(size)
        if any(d < 0 for d in short) or not any(short):
            continue
        wanted = [h + d for h, d in zip(have, short)]
        if all(w < max(s, d) for w, s, d in zip(wanted, stride, dilation)):
            value = str(wanted[0]) if len(set(wanted)) == 1 else "x".join(map(str, wanted))
            return f", or op{value} on the convt at {row_name(item.row)}"
    return ""


def combine(layer: Layer, incoming: list[Incoming], axes: tuple[str, ...], convention: Convention) -> Merged:
    """What ``layer`` (a merge) makes of its inputs, or the error that stops it."""
    kind = layer.kind
    flat = [item.size is None for item in incoming]
    if any(flat) and not all(flat):
        shapes = ", ".join(f"{row_name(item.row)} gives {_shape_text(item.size, item.channels)}" for item in incoming)
        return Merged(None, None, (), Diagnostic(Code.MERGE_SIZE_MISMATCH, (), {
            "kind": kind.value, "shapes": shapes, "framework": "",
            "hint": "; flatten them all, or none"}))
    notes: list[Diagnostic] = []
    fields = [list(item.fields) for item in incoming]
    sizes = [item.size for item in incoming]
    if not any(flat) and layer.mode is not None:
        sizes, fields, notes = _adjust(layer.mode, incoming, axes)

    channels = [item.channels for item in incoming]
    if any(flat):
        out_size = None
    elif kind.op.joins_channels:
        out_size = sizes[0]
        if any(size != out_size for size in sizes):
            return Merged(None, None, (), _size_mismatch(kind, incoming, sizes, axes, convention))
    else:
        out_size = []
        for axis in range(len(axes)):
            values = {size[axis] for size in sizes}
            big = values - {1}
            if len(big) > 1:
                return Merged(None, None, (), _size_mismatch(kind, incoming, sizes, axes, convention))
            out_size.append(max(values))
        out_size = tuple(out_size)
        broadcast = [axes[axis] for axis in range(len(axes)) if 1 in {s[axis] for s in sizes} and out_size[axis] > 1]
        if broadcast:
            rows = [row_name(item.row) for item, size in zip(incoming, sizes)
                    if any(size[axes.index(a)] == 1 for a in broadcast)]
            notes.append(Diagnostic(Code.BROADCAST, tuple(broadcast), {"rows": " and ".join(rows)}))

    if any(c is None for c in channels):
        out_channels = None
    elif kind.op.joins_channels:
        out_channels = sum(channels)
    else:
        big = set(channels) - {1}
        if len(big) > 1:
            listed = ", ".join(f"{row_name(item.row)} has {item.channels}" for item in incoming)
            what = "features" if out_size is None else "channels"
            framework = _framework_message(kind, incoming, [out_size] * len(incoming), convention)
            return Merged(None, None, (), Diagnostic(Code.MERGE_CHANNEL_MISMATCH, (), {
                "kind": kind.value, "listed": listed, "what": what, "framework": framework}))
        out_channels = max(channels)

    if out_size is None:
        return Merged(None, out_channels, (), notes=tuple(notes))
    merged_fields, warnings, untracked = _union(incoming, sizes, fields, out_size, axes)
    return Merged(out_size, out_channels, merged_fields, None, tuple(warnings), tuple(notes), untracked)


def _adjust(mode: MergeMode, incoming: list[Incoming], axes: tuple[str, ...]):
    """Crop every larger input to the smallest size, or pad every smaller one to the largest."""
    sizes = [item.size for item in incoming]
    pick = min if mode is MergeMode.CROP else max
    target = tuple(pick(size[axis] for size in sizes) for axis in range(len(axes)))
    adjusted_fields, notes = [], []
    for item, size in zip(incoming, sizes):
        fields = list(item.fields)
        changes = []
        for axis, (have, want) in enumerate(zip(size, target)):
            if have == want:
                continue
            before, after = offsets(mode, have, want)
            shift = -before if mode is MergeMode.CROP else before
            changes.append((axes[axis], before, after))
            if fields[axis] is not None:
                fields[axis] = receptive.through_pad(fields[axis], shift)
        adjusted_fields.append(fields)
        if changes:
            code = Code.MERGE_CROPPED if mode is MergeMode.CROP else Code.MERGE_PADDED
            detail = ", ".join(f"{b}:{a} on {name}" for name, b, a in changes)
            notes.append(Diagnostic(code, (), {"row": row_name(item.row), "from": "×".join(map(str, size)),
                                                "to": "×".join(map(str, target)), "detail": detail}))
    return [target] * len(incoming), adjusted_fields, notes


def _framework_message(kind: "Kind", incoming: list[Incoming], sizes, convention: Convention) -> str:
    channels = [item.channels for item in incoming]
    if any(c is None for c in channels):  # channels unknown (no -c): the message would name them
        return ""
    if convention is Convention.ONNX:
        return ""  # an ONNX runtime's message depends on the runtime
    if convention is Convention.TF:
        shapes = [(*size, c) if size is not None else (c,) for c, size in zip(channels, sizes)]
        return f"; Keras: '{_keras_message(kind, shapes)}'"
    shapes = [(c, *size) if size is not None else (c,) for c, size in zip(channels, sizes)]
    return f"; PyTorch: '{_torch_message(kind, shapes)}'"


def _size_mismatch(kind: "Kind", incoming: list[Incoming], sizes, axes, convention: Convention) -> Diagnostic:
    shapes = ", ".join(f"{row_name(item.row)} gives {_shape_text(size, None)}" for item, size in zip(incoming, sizes))
    bad = [axes[axis] for axis in range(len(axes)) if len({s[axis] for s in sizes} - ({1} if not kind.op.joins_channels else set())) > 1]
    framework = _framework_message(kind, incoming, sizes, convention)
    target = tuple(max(s[axis] for s in sizes) for axis in range(len(axes)))
    hint = f"; add crop or pad to the {kind.value}" + _fix_hint(incoming, sizes, target)
    return Diagnostic(Code.MERGE_SIZE_MISMATCH, tuple(bad), {
        "kind": kind.value, "shapes": shapes, "framework": framework, "hint": hint})


def _union(incoming: list[Incoming], sizes, fields, out_size, axes):
    """The merged field per axis, the misalignment warnings, and why a field is lost, if it is."""
    merged, warnings, untracked = [], [], None
    for axis, name in enumerate(axes):
        # An input broadcast on this axis (size 1) gives every output the same field.
        spread = [(item, f[axis]) for item, size, f in zip(incoming, sizes, fields) if size[axis] == out_size[axis]]
        flat = [f[axis] for size, f in zip(sizes, fields) if size[axis] != out_size[axis]]
        axis_fields = [f for _, f in spread] + flat
        if any(f is None for f in axis_fields):
            merged.append(None)
            continue
        local = [(item, f) for item, f in spread if f.jump_num != 0]  # fields that move with the output
        warning = _misalignment(local, name)
        if warning is not None:
            warnings.append(warning)
        if len({f.jump for _, f in local}) > 1:
            merged.append(None)
            untracked = untracked or "its inputs' jumps differ"
            continue
        union = _union_same_jump([f for _, f in spread])
        for constant in flat:
            union = _cover(union, constant, out_size[axis])
            if union is None:
                untracked = untracked or "a broadcast input covers only part of it"
                break
        merged.append(union)
    return tuple(merged), warnings, untracked


def _union_same_jump(fields: list[receptive.AxisField]) -> receptive.AxisField:
    """Per output, the lowest and highest pixel any of the fields sees: one period of them."""
    if len(set(fields)) == 1:
        return fields[0]
    if all(f.jump_den == 1 and len(f.lo) == 1 and f.lo[0] is not None for f in fields):  # the common case
        return receptive.AxisField(fields[0].jump_num, 1, (min(f.lo[0] for f in fields),),
                                   (max(f.hi[0] for f in fields),))
    period = 1
    for f in fields:
        period = lcm(period, f.jump_den)
    lows, highs = [], []
    for o in range(period):
        bounds = [f.bounds(o) for f in fields]
        seen = [b for b in bounds if b[0] is not None]
        lows.append(min(b[0] for b in seen) if seen else None)
        highs.append(max(b[1] for b in seen) if seen else None)
    num = fields[0].jump_num * period // fields[0].jump_den
    num, shortest = receptive.shortest_period(num, period, lows, highs)
    return receptive.AxisField(num, shortest, tuple(lows[:shortest]), tuple(highs[:shortest]))


def _cover(field: receptive.AxisField, constant: receptive.AxisField, count: int) -> receptive.AxisField | None:
    """``field`` joined with a broadcast one that every output sees: the broadcast field alone
    when it holds the fields of all ``count`` outputs (an SE gate sees the whole map), else None."""
    low, high = constant.bounds(0)
    if low is None:
        return field
    period = field.jump_den  # the lowest pixel is seen in the first period, the highest in the last
    starts = [field.bounds(o)[0] for o in range(min(period, count))]
    ends = [field.bounds(o)[1] for o in range(max(0, count - period), count)]
    first = min((v for v in starts if v is not None), default=None)
    last = max((v for v in ends if v is not None), default=None)
    if field.jump_num == 0 or first is None or last is None or (first >= low and last <= high):
        lows = [b for b in (first, low) if b is not None]
        return receptive.AxisField(0, 1, (min(lows),), (max(high, last if last is not None else high),))
    return None


def _misalignment(local, axis: str) -> Diagnostic | None:
    """Do the inputs' fields line up: the same jump, and the same centre for the same output?"""
    if len(local) < 2:
        return None
    jumps = [f.jump for _, f in local]
    rows = " and ".join(row_name(item.row) for item, _ in local)
    if len(set(jumps)) > 1:
        listed = ", ".join(f"{row_name(item.row)}: {number_text(f.jump)}" for item, f in local)
        return Diagnostic(Code.MERGE_MISALIGNED, (axis,), {"rows": rows, "how": f"their jumps differ ({listed})"})
    centres = [f.start for _, f in local]
    if len(set(centres)) > 1:
        low, high = min(c for c in centres if c is not None), max(c for c in centres if c is not None)
        listed = ", ".join(f"{row_name(item.row)}: {number_text(f.start)}" for item, f in local)
        return Diagnostic(Code.MERGE_MISALIGNED, (axis,), {
            "rows": rows, "how": f"the centres of output 0's fields differ by {number_text(high - low)} "
                                 f"input pixel{'' if high - low == 1 else 's'} ({listed})"})
    return None


def unused_rows(count: int, inputs, outputs=()) -> set[int]:
    """The rows whose result reaches no output (the last row, and ``outputs``: rows bound to
    a name that no row reads, as an FPN's levels), following what each row reads."""
    reached = {count, *outputs}
    for index in range(count, 0, -1):
        if index in reached:
            reached.update(inputs(index))
    return set(range(1, count + 1)) - reached


