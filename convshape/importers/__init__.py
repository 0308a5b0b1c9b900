"""From a real model to a stack: PyTorch's ``print(model)``, Keras' ``model.to_json()`` and
ONNX files. Each reader returns an ``Imported``: the stack text (with ``#`` comments naming
the source modules), what the file says of the input, and the warnings and notes that
say where the stack may differ from the model.

``read`` judges the format by content, so ``calc -f model.onnx`` and ``calc -f dump.txt``
work as ``calc -f net.stack`` does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .result import Imported

ONNX_MAGIC = b"\x08"  # a ModelProto starts with field 1 (ir_version), a varint
BOM = b"\xef\xbb\xbf"


def __getattr__(name: str):
    """``Imported`` and ``ImportFailure``, the readers' results, imported when first named:
    reading a stack file only asks ``read`` whether it is a model, and it is not."""
    if name in ("Imported", "ImportFailure"):
        from . import result

        return getattr(result, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def text_of(data: bytes) -> str:
    """``data`` as UTF-8 text, without a byte-order mark: the utf-8-sig codec, without its import."""
    return (data[len(BOM):] if data.startswith(BOM) else data).decode("utf-8")


def kind_of(data: bytes, name: str = "") -> str | None:
    """``torch``, ``keras``, ``onnx``, or None for stack text.

    >>> kind_of(b"Sequential(\\n  (0): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1))\\n)")
    'torch'
    >>> kind_of(b"conv k3 s2") is None
    True
    """
    if name.lower().endswith(".onnx") or (data[:1] == ONNX_MAGIC and b"\x00" in data[:64]):
        return "onnx"
    try:
        text = text_of(data).lstrip()
    except UnicodeDecodeError:
        return "onnx" if data[:1] == ONNX_MAGIC else None
    if text.startswith("{") and '"class_name"' in text[:4000]:
        return "keras"
    first = text.split("\n", 1)[0].rstrip()
    if not first.endswith("(") or " " in first:  # a repr opens with 'ResNet(' alone: a stack does not
        return None
    from .torch_repr import looks_like_repr

    return "torch" if looks_like_repr(text) else None


def read(data: bytes, name: str = "") -> Imported | None:
    """The stack a model file stands for, or None when ``data`` is stack text already."""
    kind = kind_of(data, name)
    if kind is None:
        return None
    if kind == "onnx":
        from .onnx_graph import read_onnx

        return read_onnx(data, name)
    text = text_of(data)
    if kind == "keras":
        from .keras_json import read_keras

        return read_keras(text)
    from .torch_repr import read_repr

    return read_repr(text)
