"""Framework syntax typed where a stack was expected: ``nn.Conv2d(3, 64, kernel_size=3,
stride=2, padding=1)`` or ``layers.Conv2D(64, 3, strides=2, padding='same')``.

It is not a stack, so it stays a parse error; but where the call alone says what the
layer is, the error gives the convshape layer to write instead. Only the grammar imports
this module, and only for text that has a ``(`` in it.
"""

from __future__ import annotations

import ast
import re

# A module name called like a function, optionally qualified (nn., torch.nn., layers., keras.layers., tf.keras.layers.).
CALL = re.compile(r"(?:[A-Za-z_][A-Za-z_0-9]*\.)*([A-Z][A-Za-z0-9]*)\s*\(")
# The module names, with the number of axes where they carry it: nn.Conv2d, layers.Conv2DTranspose.
TORCH_NAME = re.compile(r"(Conv|ConvTranspose|MaxPool|AvgPool|AdaptiveAvgPool|AdaptiveMaxPool|ZeroPad|BatchNorm|InstanceNorm|Dropout)"
                        r"([123])d|Linear|Flatten|Upsample|GroupNorm|ReLU6?|GELU|SiLU|Sigmoid|Tanh|Hardswish|LeakyReLU"
                        r"|Dropout")
KERAS_NAME = re.compile(r"(Conv|MaxPooling|AveragePooling|GlobalAveragePooling|UpSampling|ZeroPadding)([123])D(Transpose)?"
                        r"|Dense|Flatten|BatchNormalization|LayerNormalization|GroupNormalization|Dropout|Activation")
SPATIAL = ("conv", "convt", "maxpool", "avgpool", "pad", "up")  # the kinds that take conv2d-style names

TORCH = "PyTorch"
KERAS = "Keras"


def find_call(text: str) -> tuple[int, str, str | None] | None:
    """The first call of a capitalised name in ``text`` (no stack has one): its offset, its
    text, and the equivalent layer or None.

    >>> find_call("Conv2d(3, 64, kernel_size=3, stride=2, padding=1)")[2]
    'conv k3 s2 p1 c64'
    >>> find_call("conv k3 s2") is None
    True
    """
    for match in CALL.finditer(text):
        end = _closing(text, match.end())
        if end is None:
            continue
        call = text[match.start():end]
        return match.start(), call, equivalent(match.group(1), text[match.end():end - 1])
    return None


def _closing(text: str, start: int) -> int | None:
    """The index just past the parenthesis that closes the one before ``start``."""
    depth = 1
    for index in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[index], 0)
        if depth == 0:
            return index + 1
    return None


def framework_of(name: str) -> str | None:
    """PyTorch, Keras, or None for a name that is neither's layer.

    >>> framework_of("Conv2d"), framework_of("Conv2DTranspose"), framework_of("Sequential")
    ('PyTorch', 'Keras', None)
    """
    if TORCH_NAME.fullmatch(name) or name in _registered():
        return TORCH
    return KERAS if KERAS_NAME.fullmatch(name) else None


def _registered() -> dict:
    """torch's module names that the kinds' own modules read (``Op.torch_classes``)."""
    from .kinds import TORCH_CLASSES

    return TORCH_CLASSES


def _arguments(inside: str) -> tuple[list, dict] | None:
    try:
        call = ast.parse(f"f({inside})", mode="eval").body
        return [ast.literal_eval(a) for a in call.args], {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    except (SyntaxError, ValueError, TypeError):
        return None


def _value(value) -> str | None:
    """``3`` -> ``3``, ``(3, 5)`` -> ``3x5``; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (tuple, list)) and value and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return str(value[0]) if len(set(value)) == 1 else "x".join(map(str, value))
    return None


def _padding(value) -> str | None:
    if isinstance(value, str) and value.lower() in ("same", "valid"):
        return f"p{value.lower()}"
    text = _value(value)
    return None if text is None else ("" if set(text.split("x")) == {"0"} else f"p{text}")


def equivalent(name: str, inside: str) -> str | None:
    """The convshape layer a framework call stands for, where its text alone says so.

    >>> equivalent("Conv2D", "64, 3, strides=2, padding='same'")
    'conv k3 s2 psame c64'
    >>> equivalent("MaxPool2d", "2")
    'maxpool k2'
    """
    parsed = _arguments(inside)
    match = TORCH_NAME.fullmatch(name) or KERAS_NAME.fullmatch(name)
    if parsed is not None and match is None and name in _registered():  # a kind's module reads it
        return _registered()[name].from_torch(name, *parsed)
    if parsed is None or match is None:
        return None
    args, kwargs = parsed
    table = _TORCH if TORCH_NAME.fullmatch(name) else _KERAS
    base = match.group(1) or name
    if match.lastindex == 3 and match.group(3):  # Conv2DTranspose
        base = "ConvTranspose"
    axes = match.group(2) if match.lastindex and match.group(2) in ("1", "3") else ""
    try:
        words = table[base](args, kwargs)
    except (KeyError, IndexError, TypeError):
        return None
    if words is None or None in words:
        return None
    kind, *tokens = words
    named = kind + (f"{axes}d" if axes and kind in SPATIAL else "")
    return " ".join([named] + [t for t in tokens if t])


def _pick(args: list, kwargs: dict, position: int, name: str, default=None):
    if name in kwargs:
        return kwargs[name]
    return args[position] if len(args) > position else default


def _token(prefix: str, value, skip=None) -> str | None:
    if value is None or value == skip:
        return ""
    text = _value(value)
    if text is None:
        return None
    return "" if skip is not None and set(text.split("x")) == {str(skip)} else prefix + text


def _torch_conv(kind: str):
    def words(args, kwargs):
        out = _pick(args, kwargs, 1, "out_channels")
        kernel = _pick(args, kwargs, 2, "kernel_size")
        stride = _pick(args, kwargs, 3, "stride", 1)
        padding = _pick(args, kwargs, 4, "padding", 0)
        tokens = [_token("k", kernel), _token("s", stride, 1), _padding(padding)]
        if kind == "convt":
            tokens.append(_token("op", _pick(args, kwargs, 5, "output_padding", 0), 0))
            groups, dilation = _pick(args, kwargs, 6, "groups", 1), _pick(args, kwargs, 8, "dilation", 1)
        else:
            dilation, groups = _pick(args, kwargs, 5, "dilation", 1), _pick(args, kwargs, 6, "groups", 1)
        bias = "" if _pick(args, kwargs, 7, "bias", True) else "nobias"
        return [kind, *tokens, _token("d", dilation, 1), _token("g", groups, 1), _token("c", out), bias]

    return words


def _torch_pool(kind: str):
    def words(args, kwargs):
        kernel = _pick(args, kwargs, 0, "kernel_size")
        stride = _pick(args, kwargs, 1, "stride")
        padding = _pick(args, kwargs, 2, "padding", 0)
        tokens = [_token("k", kernel), "" if stride is None or stride == kernel else _token("s", stride), _padding(padding)]
        if kind == "maxpool":
            tokens.append(_token("d", _pick(args, kwargs, 3, "dilation", 1), 1))
            ceil = _pick(args, kwargs, 5, "ceil_mode", False)
        else:
            ceil = _pick(args, kwargs, 3, "ceil_mode", False)
        return [kind, *tokens, "ceil" if ceil else ""]

    return words


def _keras_conv(kind: str):
    def words(args, kwargs):
        filters = _pick(args, kwargs, 0, "filters")
        kernel = _pick(args, kwargs, 1, "kernel_size")
        strides = _pick(args, kwargs, 2, "strides", 1)
        padding = _pick(args, kwargs, 3, "padding", "valid")
        tokens = [_token("k", kernel), _token("s", strides, 1), _padding(padding)]
        if kind == "convt" and kwargs.get("output_padding") is not None:
            tokens.append(_token("op", kwargs["output_padding"]))
        return [kind, *tokens, _token("d", kwargs.get("dilation_rate", 1), 1), _token("g", kwargs.get("groups", 1), 1),
                _token("c", filters), "" if kwargs.get("use_bias", True) else "nobias"]

    return words


def _keras_pool(kind: str):
    def words(args, kwargs):
        size = _pick(args, kwargs, 0, "pool_size", 2)
        strides = _pick(args, kwargs, 1, "strides")
        padding = _pick(args, kwargs, 2, "padding", "valid")
        stride = "" if strides is None or strides == size else _token("s", strides)
        return [kind, _token("k", size), stride, "" if padding == "valid" else _padding(padding)]

    return words


def _adaptive(kind: str):
    def words(args, kwargs):
        size = _value(_pick(args, kwargs, 0, "output_size"))
        if kind == "adaptiveavgpool" and size == "1":
            return ["gap"]
        return None if size is None else [kind, f"o{size}"]

    return words


_TORCH = {
    "Conv": _torch_conv("conv"),
    "ConvTranspose": _torch_conv("convt"),
    "MaxPool": _torch_pool("maxpool"),
    "AvgPool": _torch_pool("avgpool"),
    "AdaptiveAvgPool": _adaptive("adaptiveavgpool"),
    "AdaptiveMaxPool": _adaptive("adaptivemaxpool"),
    "Linear": lambda args, kwargs: ["linear", _token("c", _pick(args, kwargs, 1, "out_features")),
                                    "" if _pick(args, kwargs, 2, "bias", True) else "nobias"],
    # Norms with their affine scale and shift (without them the parameters differ: no equivalent).
    "BatchNorm": lambda args, kwargs: ["bn"] if _pick(args, kwargs, 3, "affine", True) else None,
    "InstanceNorm": lambda args, kwargs: None if _pick(args, kwargs, 3, "affine", False) else ["in"],
    "GroupNorm": lambda args, kwargs: ["gn", _token("g", _pick(args, kwargs, 0, "num_groups"))]
    if _pick(args, kwargs, 3, "affine", True) else None,
    **{name: (lambda kind: lambda args, kwargs: [kind])(kind) for name, kind in (
        ("ReLU", "relu"), ("ReLU6", "relu6"), ("GELU", "gelu"), ("SiLU", "silu"), ("Sigmoid", "sigmoid"),
        ("Tanh", "tanh"), ("Hardswish", "hardswish"), ("LeakyReLU", "lrelu"), ("Dropout", "dropout"))},
    "Flatten": lambda args, kwargs: ["flatten"],
    "Upsample": lambda args, kwargs: None if "size" in kwargs or args else ["up", _token("s", kwargs.get("scale_factor", 2))],
    "ZeroPad": lambda args, kwargs: ["pad", _padding(_pick(args, kwargs, 0, "padding"))],
}

_KERAS = {
    "Conv": _keras_conv("conv"),
    "ConvTranspose": _keras_conv("convt"),
    "MaxPooling": _keras_pool("maxpool"),
    "AveragePooling": _keras_pool("avgpool"),
    # convshape's gap under tf drops the spatial axes, as Keras does unless keepdims=True (gap keep)
    "GlobalAveragePooling": lambda args, kwargs: ["gap", "keep" if kwargs.get("keepdims") else ""],
    "UpSampling": lambda args, kwargs: ["up", _token("s", _pick(args, kwargs, 0, "size", 2))],
    "ZeroPadding": lambda args, kwargs: ["pad", _padding(_pick(args, kwargs, 0, "padding", 1))],
    "Dense": lambda args, kwargs: ["linear", _token("c", _pick(args, kwargs, 0, "units")),
                                   "" if kwargs.get("use_bias", True) else "nobias"],
    "Flatten": lambda args, kwargs: ["flatten"],
    "BatchNormalization": lambda args, kwargs: ["bn"] if _affine(kwargs) else None,
    "LayerNormalization": lambda args, kwargs: ["ln"] if _affine(kwargs) and kwargs.get("axis", -1) == -1 else None,
    "GroupNormalization": lambda args, kwargs: ["gn", _token("g", _pick(args, kwargs, 0, "groups", 32))]
    if _affine(kwargs) else None,
    "Dropout": lambda args, kwargs: ["dropout"],
    "Activation": lambda args, kwargs: [ACTIVATIONS.get(_pick(args, kwargs, 0, "activation"))],
}

# Keras' activation names, to convshape's kinds.
ACTIVATIONS = {"relu": "relu", "relu6": "relu6", "gelu": "gelu", "silu": "silu", "swish": "silu", "sigmoid": "sigmoid",
               "tanh": "tanh", "hard_swish": "hardswish", "hard_silu": "hardswish", "leaky_relu": "lrelu"}


def _affine(kwargs: dict) -> bool:
    return kwargs.get("center", True) and kwargs.get("scale", True)
