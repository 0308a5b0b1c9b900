"""Diagnostics as data: a stable code, a level, the axis, and the numbers behind it.

The message a person reads is derived from those numbers, so a script can rely on
``code`` and a person on ``message``.
"""

from __future__ import annotations

from typing import NamedTuple

from .named import Named, named


@named
class Level(Named):
    ERROR = "error"  # the stack cannot run from this layer on
    WARNING = "warning"  # it runs, but probably not as intended
    NOTE = "note"  # worth knowing, usually intended


@named
class Code(Named):
    # warnings
    FLOOR_ROUNDING = "floor_rounding"
    STRIDE_GAP = "stride_gap"
    PADDING_ONLY_OUTPUTS = "padding_only_outputs"
    CEIL_WINDOW_DROPPED = "ceil_window_dropped"
    MERGE_MISALIGNED = "merge_misaligned"
    # notes
    PADDING_TRIMMED = "padding_trimmed"
    FIELD_EXCEEDS_INPUT = "field_exceeds_input"
    INEXACT_SCALE = "inexact_scale"
    FIELD_NOT_TRACKED = "field_not_tracked"
    MERGE_CROPPED = "merge_cropped"
    MERGE_PADDED = "merge_padded"
    BROADCAST = "broadcast"
    UNUSED = "unused"
    # errors
    KERNEL_TOO_LARGE = "kernel_too_large"
    OUTPUT_TOO_SMALL = "output_too_small"
    KERNEL_BELOW_1 = "kernel_below_1"
    STRIDE_BELOW_1 = "stride_below_1"
    DILATION_BELOW_1 = "dilation_below_1"
    GROUPS_BELOW_1 = "groups_below_1"
    CHANNELS_BELOW_1 = "channels_below_1"
    SCALE_NOT_POSITIVE = "scale_not_positive"
    NEGATIVE_PADDING = "negative_padding"
    NEGATIVE_OUTPUT_PADDING = "negative_output_padding"
    POOL_PADDING_TOO_LARGE = "pool_padding_too_large"
    ASYMMETRIC_POOL_PADDING = "asymmetric_pool_padding"
    SAME_WITH_STRIDE = "same_with_stride"
    SAME_UNSUPPORTED = "same_unsupported"
    OUTPUT_PADDING_TOO_LARGE = "output_padding_too_large"
    GROUPS_MISMATCH = "groups_mismatch"
    DECLARED_CHANNELS = "declared_channels"
    SPATIAL_AFTER_FLATTEN = "spatial_after_flatten"
    LINEAR_NEEDS_FLAT = "linear_needs_flat"
    CEIL_UNSUPPORTED = "ceil_unsupported"
    STRIDE_WITH_DILATION = "stride_with_dilation"
    FRACTIONAL_SCALE = "fractional_scale"
    INPUT_SMALLER_THAN_KERNEL = "input_smaller_than_kernel"
    OUTPUT_SIZE_BELOW_1 = "output_size_below_1"
    ADAPTIVE_UNSUPPORTED = "adaptive_unsupported"
    RESIZE_UNSUPPORTED = "resize_unsupported"
    MERGE_SIZE_MISMATCH = "merge_size_mismatch"
    MERGE_CHANNEL_MISMATCH = "merge_channel_mismatch"
    DEPTHWISE_CHANNELS = "depthwise_channels"
    NORM_SINGLE_VALUE = "norm_single_value"
    ONNX_SAME_DILATION = "onnx_same_dilation"
    ONNX_OUTPUT_PADDING = "onnx_output_padding"
    ONNX_NEGATIVE_SAME_PADDING = "onnx_negative_same_padding"


WARNINGS = {Code.FLOOR_ROUNDING, Code.STRIDE_GAP, Code.PADDING_ONLY_OUTPUTS, Code.CEIL_WINDOW_DROPPED,
            Code.MERGE_MISALIGNED}
NOTES = {Code.PADDING_TRIMMED, Code.FIELD_EXCEEDS_INPUT, Code.INEXACT_SCALE, Code.FIELD_NOT_TRACKED,
         Code.MERGE_CROPPED, Code.MERGE_PADDED, Code.BROADCAST, Code.UNUSED}


class KindCode(str):
    """A code that one kind's module declares for findings only that kind makes, with its
    level and message template (``Code`` holds the codes the engines share).

    >>> code = KindCode("shuffle_channels", Level.ERROR, "{channels} channels")
    >>> code.value, Diagnostic(code, (), {"channels": 3}).message
    ('shuffle_channels', '3 channels')
    """

    level: Level
    template: str
    about_size: bool  # an error that another input size avoids (fit searches on past it)

    def __new__(cls, value: str, level: Level, template: str, about_size: bool = False):
        code = super().__new__(cls, value)
        code.level, code.template, code.about_size = level, template, about_size
        return code

    @property
    def value(self) -> str:
        return str(self)


def level_of(code: Code | KindCode) -> Level:
    if isinstance(code, KindCode):
        return code.level
    if code in WARNINGS:
        return Level.WARNING
    if code in NOTES:
        return Level.NOTE
    return Level.ERROR


# Each template is filled from the diagnostic's numbers; {where} is "on W: " or "".
MESSAGES: dict[Code, str] = {
    Code.FLOOR_ROUNDING: (
        "{where}the last {dropped} never read (({in_size} + {pb} + {pa} − {ke}) mod {stride} = {rem})"
    ),
    Code.PADDING_TRIMMED: (
        "{where}({in_size} + {pb} + {pa} − {ke}) mod {stride} = {rem}: only padding is skipped, every input pixel is read"
    ),
    Code.STRIDE_GAP: "{where}kernel {ke} is smaller than stride {stride}: {gap} of every {stride} {what} {verb}",
    Code.PADDING_ONLY_OUTPUTS: "{where}padding {padding} is not smaller than the kernel {ke}: some outputs see only padding",
    Code.CEIL_WINDOW_DROPPED: (
        "{where}ceil mode would start a last window at {window_start}, past the input and left padding "
        "({in_size} + {pb} = {limit}); PyTorch drops it"
    ),
    Code.FIELD_EXCEEDS_INPUT: "{where}the receptive field ({field}) is now larger than the input ({input})",
    Code.INEXACT_SCALE: (
        "{where}PyTorch computes floor({in_size} · {scale}) in floating point and {scale} has no exact binary form: "
        "its result may differ by one"
    ),
    Code.FIELD_NOT_TRACKED: "the receptive field is not tracked past this layer ({reason})",
    Code.KERNEL_TOO_LARGE: (
        "{where}the padded input ({in_size} + {pb} + {pa} = {padded}) is smaller than the kernel {ke}"
    ),
    Code.OUTPUT_TOO_SMALL: "{where}the output size would be {out_size}, below 1",
    Code.KERNEL_BELOW_1: "{where}kernel {value} is below 1",
    Code.STRIDE_BELOW_1: "{where}stride {value} is below 1",
    Code.DILATION_BELOW_1: "{where}dilation {value} is below 1",
    Code.GROUPS_BELOW_1: "groups {value} is below 1",
    Code.CHANNELS_BELOW_1: "channels {value} is below 1",
    Code.SCALE_NOT_POSITIVE: "{where}scale factor {value} is not positive",
    Code.NEGATIVE_PADDING: "{where}padding {value} is negative",
    Code.NEGATIVE_OUTPUT_PADDING: "{where}output padding {value} is negative: PyTorch refuses it",
    Code.POOL_PADDING_TOO_LARGE: (
        "{where}padding {padding} is more than half the kernel {kernel}: PyTorch allows at most {limit}"
    ),
    Code.ASYMMETRIC_POOL_PADDING: (
        "{where}PyTorch pools take one padding per axis, not {pb}:{pa}; put a pad layer before the pool"
    ),
    Code.SAME_WITH_STRIDE: "PyTorch refuses padding='same' with stride {stride}: it supports stride 1 only",
    Code.SAME_UNSUPPORTED: "PyTorch's {kind} layers have no padding='same'",
    Code.OUTPUT_PADDING_TOO_LARGE: (
        "{where}output padding {output_padding} must be smaller than the stride {stride} or the dilation {dilation}"
    ),
    Code.GROUPS_MISMATCH: "groups {groups} do not divide the {which} channels ({channels})",
    Code.DECLARED_CHANNELS: (
        "the model gives this layer {declared} {what} (in{declared}), but the rows before it make {got}: the model "
        "fails here, or those rows are not its own"
    ),
    Code.DEPTHWISE_CHANNELS: (
        "a depthwise layer's output channels ({channels}) must be a multiple of its input channels ({groups})"
    ),
    Code.NORM_SINGLE_VALUE: "{what} needs more than one value per {per}, but {holds}: PyTorch fails with '{torch}'",
    Code.SPATIAL_AFTER_FLATTEN: "{kind} needs spatial axes, but {reason}",
    Code.LINEAR_NEEDS_FLAT: (
        "linear needs flat input but gets {shape}: PyTorch fails with 'mat1 and mat2 shapes cannot be multiplied'; "
        "add flatten before it"
    ),
    Code.CEIL_UNSUPPORTED: "Keras pooling layers have no ceil mode",
    Code.ONNX_SAME_DILATION: "ONNX Runtime refuses dilation with auto_pad SAME_UPPER for Conv: write the padding out",
    Code.ONNX_OUTPUT_PADDING: "ONNX Runtime refuses output padding {op} with stride {stride}: it must be below the stride",
    Code.ONNX_NEGATIVE_SAME_PADDING: (
        "{where}ONNX Runtime's MaxPool refuses SAME_UPPER here: (⌈{in_size}/{stride}⌉ − 1)·{stride} + {kernel} − "
        "{in_size} = {total} padding, below 0"
    ),
    Code.STRIDE_WITH_DILATION: "Keras refuses strides > 1 together with dilation_rate > 1 ({stride} and {dilation})",
    Code.FRACTIONAL_SCALE: "{where}Keras' UpSampling layers take whole-number sizes, not {value}",
    Code.MERGE_MISALIGNED: "{where}the receptive fields of {rows} do not line up: {how}",
    Code.MERGE_CROPPED: "{row} is centre-cropped from {from} to {to} ({detail}, before:after)",
    Code.MERGE_PADDED: "{row} is zero-padded from {from} to {to} ({detail}, before:after)",
    Code.BROADCAST: "{where}{rows} of size 1 is broadcast to the others' size",
    Code.UNUSED: "this row's result never reaches the output",
    Code.OUTPUT_SIZE_BELOW_1: "{where}output size {value} is below 1",
    Code.ADAPTIVE_UNSUPPORTED: "Keras has no adaptive pooling layers (only global ones: gap)",
    Code.RESIZE_UNSUPPORTED: "Keras' UpSampling layers take whole-number factors, not an output size: use up s2",
    Code.MERGE_SIZE_MISMATCH: "{where}{kind} cannot join its inputs: {shapes}{framework}{hint}",
    Code.MERGE_CHANNEL_MISMATCH: "{kind} needs the same number of {what} in every input (or 1): {listed}{framework}",
    Code.INPUT_SMALLER_THAN_KERNEL: (
        "{where}PyTorch's AvgPool3d needs the unpadded input ({in_size}) to be at least the kernel ({kernel})"
    ),
}


class Diagnostic(NamedTuple):
    """One finding on one layer.

    >>> Diagnostic(Code.STRIDE_BELOW_1, ("H", "W"), {"value": 0}).message
    'on H and W: stride 0 is below 1'
    """

    code: Code | KindCode
    axes: tuple[str, ...] = ()
    numbers: dict | None = None

    @property
    def level(self) -> Level:
        return level_of(self.code)

    @property
    def message(self) -> str:
        where = f"on {' and '.join(self.axes)}: " if self.axes else ""
        values = {key: number_text(value) for key, value in (self.numbers or {}).items()}
        template = self.code.template if isinstance(self.code, KindCode) else MESSAGES[self.code]
        return template.format(where=where, **values)


def number_text(value) -> str:
    """A value for a message: fractions exactly (``decimal_or_fraction``), anything else as str."""
    if isinstance(value, int) or not hasattr(value, "denominator"):
        return str(value)
    return decimal_or_fraction(value)


def decimal_or_fraction(value) -> str:
    """Exact text for a fraction: a decimal when it terminates, a/b otherwise.

    >>> from fractions import Fraction
    >>> decimal_or_fraction(Fraction(-1, 2)), decimal_or_fraction(Fraction(2, 3)), decimal_or_fraction(4)
    ('-0.5', '2/3', '4')
    """
    if value.denominator == 1:
        return str(value.numerator)
    den = value.denominator
    twos = fives = 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    if den != 1:
        return f"{value.numerator}/{value.denominator}"
    digits = max(twos, fives)
    scaled = abs(value.numerator) * 10**digits // value.denominator
    sign = "-" if value < 0 else ""
    whole, frac = divmod(scaled, 10**digits)
    return f"{sign}{whole}.{str(frac).rjust(digits, '0')}"


def factor_text(formula) -> str:
    """A size, or a formula of one, written to be multiplied: in brackets when a sum.

    >>> [factor_text(f) for f in [7, "H − 2", "⌊(W + 1)/2⌋", "2·⌊H/2⌋ + 1"]]
    ['7', '(H − 2)', '⌊(W + 1)/2⌋', '(2·⌊H/2⌋ + 1)']
    """
    formula = str(formula)
    depth = 0
    for char in formula:
        depth += (char in "(⌊") - (char in ")⌋")
        if char == " " and depth == 0:
            return f"({formula})"
    return formula


def linear_needs_flat(channels: int | None, sizes) -> Diagnostic:
    """A linear layer on a map that still has spatial axes; ``sizes`` are numbers, or the
    formulas or placeholders that stand for them where no input size is given.

    >>> linear_needs_flat(64, ["H − 2", "⌊(W + 1)/2⌋", 7]).numbers["shape"]
    '64×(H − 2)×⌊(W + 1)/2⌋×7'
    """
    shape = "×".join(["?" if channels is None else str(channels), *map(factor_text, sizes)])
    return Diagnostic(Code.LINEAR_NEEDS_FLAT, (), {"shape": shape})


def dropped_text(count: int) -> str:
    return "input pixel is" if count == 1 else f"{count} input pixels are"


# ---------------------------------------------------------------------------
# The checks: which diagnostics a layer gets, from its parameters and numbers.
# ---------------------------------------------------------------------------
from .arithmetic import AxisStep  # noqa: E402
from .layers import Convention, Layer  # noqa: E402

def parameter_error(layer: Layer, convention: Convention, axes: tuple[str, ...]) -> Diagnostic | None:
    """The first error in the layer's own parameters, before any size is computed."""
    per_axis = [
        (layer.kernel, Code.KERNEL_BELOW_1),
        (layer.stride, Code.STRIDE_BELOW_1),
        (layer.dilation, Code.DILATION_BELOW_1),
    ]
    for values, code in per_axis:
        if not values or min(values) >= 1:
            continue
        bad = merge_axes([Diagnostic(code, (axis,), {"value": v}) for axis, v in zip(axes, values or ()) if v < 1])
        if bad:
            return bad[0]
    if layer.kind.op.has_groups and layer.groups < 1:
        return Diagnostic(Code.GROUPS_BELOW_1, (), {"value": layer.groups})
    if layer.channels is not None and layer.channels < 1:
        return Diagnostic(Code.CHANNELS_BELOW_1, (), {"value": layer.channels})
    if layer.out is not None and min(layer.out) < 1:
        bad = [Diagnostic(Code.OUTPUT_SIZE_BELOW_1, (axis,), {"value": v}) for axis, v in zip(axes, layer.out) if v < 1]
        return merge_axes(bad)[0]
    if layer.scale is None and (layer.padding is None or min(min(pair) for pair in layer.padding) >= 0) and (
        layer.output_padding is None or min(layer.output_padding) >= 0
    ):
        return layer.kind.op.convention_error(layer, convention, axes)
    scales = list(zip(axes, layer.scale or ()))
    paddings = [(axis, value) for axis, pair in zip(axes, layer.padding or ()) for value in sorted(set(pair))]
    for code, bad in [
        (Code.SCALE_NOT_POSITIVE, [(a, v) for a, v in scales if v <= 0]),
        (Code.FRACTIONAL_SCALE, [(a, v) for a, v in scales if convention is Convention.TF and v.denominator != 1]),
        (Code.NEGATIVE_PADDING, [(a, v) for a, v in paddings if v < 0 and not layer.kind.op.crops]),
        (Code.NEGATIVE_OUTPUT_PADDING, [(a, v) for a, v in zip(axes, layer.output_padding or ()) if v < 0]),
    ]:
        found = merge_axes([Diagnostic(code, (axis,), {"value": value}) for axis, value in bad])
        if found:
            return found[0]
    return layer.kind.op.convention_error(layer, convention, axes)


def channel_error(layer: Layer, in_channels: int | None, out_channels: int | None) -> Diagnostic | None:
    """Groups must divide both channel counts (where they are known); a depthwise layer's
    groups are its input channels, so its output channels must be a multiple of them. A
    layer the model declares its input channels for (``in64``) must get them."""
    if layer.declared is not None and in_channels is not None and in_channels != layer.declared:
        what = "input features" if layer.kind.value == "linear" else "input channels"
        return Diagnostic(Code.DECLARED_CHANNELS, (), {"declared": layer.declared, "what": what, "got": in_channels})
    if layer.depthwise:
        if in_channels is not None and out_channels is not None and out_channels % in_channels:
            return Diagnostic(Code.DEPTHWISE_CHANNELS, (), {"channels": out_channels, "groups": in_channels})
        return None
    if not layer.kind.op.has_groups or layer.groups == 1:
        return None
    for which, channels in (("input", in_channels), ("output", out_channels)):
        if channels is not None and channels % layer.groups:
            return Diagnostic(Code.GROUPS_MISMATCH, (), {"groups": layer.groups, "which": which, "channels": channels})
    return None


def size_error(layer: Layer, step: AxisStep, axis: str, convention: Convention) -> Diagnostic | None:
    """An output below 1 on one axis, or an input a framework refuses for its size."""
    refused = layer.kind.op.refused_size(layer, step, axis, convention)
    if refused is not None:
        return refused
    if step.out_size >= 1:
        return None
    return layer.kind.op.too_small(step, axis)


def axis_findings(layer: Layer, step: AxisStep, axis: str, convention: Convention) -> list[Diagnostic]:
    """Warnings and notes of a valid layer on one axis."""
    return layer.kind.op.axis_findings(layer, step, axis, convention)


def merge_axes(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """One diagnostic for axes that share a code and the same numbers ("on H and W: ...")."""
    merged: list[Diagnostic] = []
    for diagnostic in diagnostics:
        for index, seen in enumerate(merged):
            if seen.code is diagnostic.code and seen.numbers == diagnostic.numbers:
                merged[index] = Diagnostic(seen.code, seen.axes + diagnostic.axes, seen.numbers)
                break
        else:
            merged.append(diagnostic)
    return merged
