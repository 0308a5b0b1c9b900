"""What each layer kind is called and takes: one record per kind, read by the parser, its
messages and the shell completions alike.

A new kind starts here (its words, tokens and messages); its numbers live in the engines
(``arithmetic.axis_step`` for the size, ``calc`` and ``receptive`` for the field,
``symbolic`` for the formula, ``fit`` for the period), and what merges do in ``merge``.
"""

from __future__ import annotations

from typing import NamedTuple

from .layers import Kind


class KindSpec(NamedTuple):
    """One kind's words and tokens.

    ``takes`` are the parameter-token prefixes it accepts (``p`` covers psame/pvalid/pfull);
    ``required`` the ones it cannot do without, and ``needs`` how its error says so;
    ``bare`` the prefix a bare number after it most likely means (``conv 3x3`` is ``k3x3``);
    ``refused_rules`` the padding rules it cannot take at all, ``torch_refused`` the
    completion words only Keras takes; ``after`` the words it takes that are no parameter
    tokens (a merge's ``crop``/``pad``, up's ``like``), with their meaning.
    """

    kind: Kind
    help: str
    aliases: tuple[str, ...] = ()
    takes: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    needs: str = ""
    bare: str | None = None
    refused_rules: tuple[str, ...] = ()
    torch_refused: tuple[str, ...] = ()
    token_help: tuple[tuple[str, str], ...] = ()  # a prefix's meaning for this kind, where it differs
    after: tuple[tuple[str, str], ...] = ()
    verb: str = ""  # a merge: what it does with the tensors it names


_MERGE_AFTER = (("crop", "centre-crop larger inputs to the smallest"), ("pad", "zero-pad smaller inputs to the largest"))

SPECS: dict[Kind, KindSpec] = {spec.kind: spec for spec in (
    KindSpec(Kind.CONV, "convolution", (), ("k", "s", "p", "d", "c", "g", "dw", "nobias", "x"), ("k",),
             "a kernel size, such as k3 or k3x5", "k"),
    KindSpec(Kind.CONVT, "transposed convolution", ("deconv", "convtranspose"),
             ("k", "s", "p", "d", "c", "g", "dw", "op", "nobias", "x"),
             ("k",), "a kernel size, such as k4 or k3x5", "k", ("full",), ("psame",)),
    KindSpec(Kind.MAXPOOL, "max pooling", ("pool",), ("k", "s", "p", "d", "ceil", "x"), ("k",),
             "a kernel size, such as k2 or k3", "k", (), ("psame",)),
    KindSpec(Kind.AVGPOOL, "average pooling", (), ("k", "s", "p", "ceil", "x"), ("k",),
             "a kernel size, such as k2 or k3", "k", (), ("psame",)),
    KindSpec(Kind.UP, "nearest-neighbour upsampling by a scale factor", ("upsample",), ("s", "o", "x"), bare="s",
             token_help=(("s", "scale factor: s2, s1.5"),),
             after=(("like", "resize to a named tensor's size: like x"),)),
    KindSpec(Kind.PAD, "zero padding", (), ("p", "x"), ("p",), "a padding, such as p1 or p0:1", "p",
             ("same", "valid", "full")),
    KindSpec(Kind.GAP, "global average pooling", (), ("keep", "x"), torch_refused=("keep",)),
    KindSpec(Kind.FLATTEN, "flatten to features", (), ("x",)),
    KindSpec(Kind.LINEAR, "fully connected layer", ("fc",), ("c", "nobias", "x"), ("c",),
             "its number of output features, such as c10", "c", token_help=(("c", "output features: c10"),)),
    KindSpec(Kind.ADAPTIVEAVGPOOL, "adaptive average pooling to an output size", (), ("o", "x"), ("o",),
             "its output size, such as o7 or o7x5"),
    KindSpec(Kind.ADAPTIVEMAXPOOL, "adaptive max pooling to an output size", (), ("o", "x"), ("o",),
             "its output size, such as o7 or o7x5"),
    KindSpec(Kind.ADD, "add named tensors to the current one", after=_MERGE_AFTER, verb="adds to the current one"),
    KindSpec(Kind.MUL, "multiply named tensors with the current one", after=_MERGE_AFTER,
             verb="multiplies with the current one"),
    KindSpec(Kind.CAT, "concatenate named tensors and the current one on channels", ("concat",), after=_MERGE_AFTER,
             verb="joins to the current one"),
    KindSpec(Kind.BN, "batch normalization", ("batchnorm",), ("x",)),
    KindSpec(Kind.LN, "layer normalization over channels, as ConvNeXt's", ("layernorm",), ("x",)),
    KindSpec(Kind.GN, "group normalization", ("groupnorm",), ("g", "x"), ("g",),
             "its number of groups, such as g32", "g", token_help=(("g", "groups, which divide the channels: g32"),)),
    KindSpec(Kind.IN, "instance normalization without affine parameters, PyTorch's default", ("instancenorm",),
             ("x",)),
    KindSpec(Kind.LAYERSCALE, "a learned scale per channel, ConvNeXt's layer scale", (), ("x",)),
    KindSpec(Kind.RELU, "ReLU activation", (), ("x",)),
    KindSpec(Kind.RELU6, "ReLU6 activation, MobileNet's", (), ("x",)),
    KindSpec(Kind.GELU, "GELU activation", (), ("x",)),
    KindSpec(Kind.SILU, "SiLU activation, also called swish", ("swish",), ("x",)),
    KindSpec(Kind.SIGMOID, "sigmoid activation", (), ("x",)),
    KindSpec(Kind.TANH, "tanh activation", (), ("x",)),
    KindSpec(Kind.HARDSWISH, "hard swish activation", (), ("x",)),
    KindSpec(Kind.LRELU, "leaky ReLU activation", ("leakyrelu",), ("x",)),
    KindSpec(Kind.DROPOUT, "dropout, the identity at inference", (), ("x",)),
)}

# Every word that starts a layer, to its kind (``conv2d``-style names are read apart).
KIND_WORDS: dict[str, Kind] = {word: spec.kind for spec in SPECS.values() for word in (spec.kind.value, *spec.aliases)}
ACCEPTS: dict[Kind, tuple[str, ...]] = {kind: spec.takes for kind, spec in SPECS.items()}
