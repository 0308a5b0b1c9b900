"""The layer model: what a parsed layer says, before any input size is known.

One immutable record (a NamedTuple: cheap to define and to create, which start-up and
long stacks both feel) serves every kind: the renderers and the JSON output need the
same fields (kernel, stride, padding, ...) for each row, and a field a kind does not
take is simply ``None``. Which tokens a kind accepts is the grammar's business.
"""

# Annotations here are evaluated, not kept as strings (no `from __future__ import annotations`):
# typing compiles every string annotation of a NamedTuple's fields, and with some 30 fields
# in each of the records a run makes that is a millisecond of every start. A name that only
# type checking imports is written as a string.
from typing import TYPE_CHECKING, NamedTuple

from .named import Named, named

if TYPE_CHECKING:
    from fractions import Fraction


@named
class MergeMode(Named):
    """How a merge makes its inputs' spatial sizes agree, if it does."""

    CROP = "crop"  # centre-crop every larger input to the smallest (torchvision's center_crop)
    PAD = "pad"  # zero-pad every smaller input to the largest, floor half before


@named
class PaddingRule(Named):
    SAME = "same"
    VALID = "valid"
    FULL = "full"


@named
class Convention(Named):
    """Whose semantics: PyTorch's, TensorFlow/Keras', or ONNX's (pads per side, auto_pad, ceil_mode).

    ONNX computes sizes as PyTorch does (ceil mode with PyTorch's rule for the last window),
    but its SAME_UPPER padding is TensorFlow's (out = ceil(I / s), the odd pixel after), and
    it refuses none of the paddings PyTorch's modules do.
    """

    TORCH = "torch"
    TF = "tf"
    ONNX = "onnx"

    honours_ceil: bool  # pools' ceil mode is a thing (torch, onnx; Keras has none)
    same_like_tf: bool  # psame makes out = ceil(I / s), the odd padding pixel after (tf; onnx's SAME_UPPER)


for _convention in Convention:
    _convention.honours_ceil = _convention.value in ("torch", "onnx")
    _convention.same_like_tf = _convention.value in ("tf", "onnx")
del _convention


Pair = tuple[int, int]


class Layer(NamedTuple):
    """One layer of a stack, with every per-axis value already broadcast to ``dims`` axes.

    >>> from convshape.kinds import Kind
    >>> Layer(Kind.CONV, "conv k3 s2", dims=2, kernel=(3, 3), stride=(2, 2)).kind.value
    'conv'
    """

    kind: "Kind"  # noqa: F821  (convshape.kinds.Kind, the registry's: layers stands below it)
    text: str
    dims: int
    kernel: tuple[int, ...] | None = None
    stride: tuple[int, ...] | None = None
    scale: tuple["Fraction", ...] | None = None  # `up` only: the scale factor per axis
    padding: tuple[Pair, ...] | None = None
    padding_rule: PaddingRule | None = None
    dilation: tuple[int, ...] | None = None
    channels: int | None = None
    groups: int = 1
    output_padding: tuple[int, ...] | None = None
    ceil: bool = False
    column: int = 0  # where the layer's text starts in its source, for messages
    repeat: int = 1  # written once with x3: the rows first..first+2 are this one layer
    first: int = 0
    uniform: bool = True  # every per-axis value is the same on every axis (k3, not k3x5)
    out: tuple[int, ...] | None = None  # adaptive pools and `up o64`: the output size per axis
    operands: tuple[str, ...] = ()  # merges: the names they read besides the current tensor
    mode: MergeMode | None = None  # merges: crop or pad
    like: str | None = None  # `up like NAME`: resize to that tensor's spatial size
    bias: bool = True  # conv, convt, linear: `nobias` drops it
    depthwise: bool = False  # conv, convt: `dw`, groups = input channels
    part: int = 0  # chunk: which part of the channels (i0)
    has_scale: bool = True  # bn: its learned scale (`noscale`: Keras' scale=False)
    has_center: bool = True  # bn: its learned shift (`nocenter`: Keras' center=False)
    declared: int | None = None  # `in64`: the input channels (a linear's in_features) the model gives the layer
    keep: bool = False  # gap: `keep` its 1×1 map under tf too (Keras' keepdims=True; PyTorch always does)
    shift: tuple[int, ...] | None = None  # wattn: the shift of the shifted windows per axis
    v2: bool = False  # wattn, patchmerge: Swin V2's variant
    positions: int | None = None  # posembed: the tokens its embedding holds


def drops_axes(layer: Layer, convention: Convention) -> bool:
    """Whether the layer removes the spatial axes: gap under tf (Keras' GlobalAveragePooling),
    unless it keeps its 1×1 map (``gap keep``).

    >>> from convshape.kinds import Kind
    >>> drops_axes(Layer(Kind.GAP, "gap", 2), Convention.TF), drops_axes(Layer(Kind.GAP, "gap keep", 2, keep=True), Convention.TF)
    (True, False)
    """
    return layer.kind.op.drops_axes(layer, convention)


def layer_label(layer: Layer, index: int) -> str:
    """How row ``index`` names its layer: the layer's text, and which of its repeats it is.

    >>> from convshape.kinds import Kind
    >>> layer_label(Layer(Kind.CONV, "conv k3 c64", dims=2, repeat=2, first=4), 5)
    'conv k3 c64 (2/2)'
    """
    if layer.repeat == 1:
        return layer.text
    return f"{layer.text} ({index - layer.first + 1}/{layer.repeat})"


AXIS_NAMES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


def axis_names(dims: int) -> tuple[str, ...]:
    """Names for the spatial axes, the way the field writes them.

    >>> axis_names(2)
    ('H', 'W')
    """
    return AXIS_NAMES.get(dims, tuple(f"X{i}" for i in range(1, dims + 1)))
