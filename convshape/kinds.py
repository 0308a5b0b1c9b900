"""The registry: every layer kind, from the family modules of ``convshape.ops``.

A new kind is one module under ``ops/`` (a subclass of ``ops.base.Op`` in a tuple ``OPS``)
and one line in ``FAMILIES`` below. ``Kind`` is made from the registered words, and each
member carries its op (``Kind.CONV.op``), which the parser, the engines, the writers and
the pictures ask; none of them lists kinds.
"""

from __future__ import annotations

from enum import Enum

from .ops import (activation, adaptive, channels, conv, expect, merge, norm, pad, pool, resize, shuffle, tokens,
                  whole, windows)

FAMILIES = (
    conv,  # conv, convt
    pool,  # maxpool, avgpool
    resize,  # up
    pad,  # pad
    whole,  # gap, flatten, linear
    adaptive,  # adaptiveavgpool, adaptivemaxpool
    merge,  # add, mul, cat
    norm,  # bn, ln, gn, in, layerscale
    activation,  # relu ... dropout
    shuffle,  # pixelshuffle, pixelunshuffle
    channels,  # chunk, channelshuffle
    tokens,  # tokens, cls, posembed, attn, token
    expect,  # expect
    windows,  # wattn, patchmerge
)

OPS = {op.word: op for family in FAMILIES for op in family.OPS}

Kind = Enum("Kind", [(word.upper(), word) for word in OPS], type=str, module=__name__)
Kind.__doc__ = "A layer kind: its word, and its op (``Kind.CONV.op``)."

_FLAGS = ("is_pool", "is_windowed", "is_spatial", "is_adaptive", "is_merge", "keeps_shape")
for _kind in Kind:
    _kind.op = OPS[_kind.value]
    for _flag in _FLAGS:  # plain attributes: read for every layer of every stack
        setattr(_kind, _flag, getattr(_kind.op, _flag))
del _kind, _flag

SPECS = {kind: kind.op for kind in Kind}  # a kind's words and tokens: its op's class attributes
# Every word that starts a layer, to its kind (``conv2d``-style names are read apart).
KIND_WORDS: dict[str, Kind] = {word: kind for kind in Kind for word in (kind.value, *kind.op.aliases)}
ACCEPTS: dict[Kind, tuple[str, ...]] = {kind: kind.op.takes for kind in Kind}

# The readers' lookups: a framework's name to the op that reads it (print(model), ONNX).
TORCH_CLASSES = {name: op for op in OPS.values() for name in op.torch_classes}
ONNX_OPS = {name: op for op in OPS.values() for name in op.onnx_ops}
