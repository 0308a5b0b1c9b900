"""The registry: every layer kind's words, and the family module of ``convshape.ops`` that
holds all the rest of its behaviour.

A new kind is one module under ``ops/`` (a subclass of ``ops.base.Op`` in a tuple ``OPS``)
and its words in ``FAMILIES`` below. ``Kind`` is made from the registered words, and each
member carries its op (``Kind.CONV.op``), which the parser, the engines, the writers and
the pictures ask; none of them lists kinds.

A family's module is imported the first time one of its kinds is asked for its op (or one
of the op's flags below): a stack of convs, norms and activations never loads the token,
window or shuffle kinds, which is a millisecond and a half of every start. What asks for
every kind (the completions, the model readers, a message that lists kinds) loads them all.
``tests/test_kinds.py`` checks this table against the modules' ``OPS``.
"""

from __future__ import annotations

from importlib import import_module

from .named import Named, with_members

# Each family module, and its kinds in the order they are listed everywhere: a kind's own
# word (its op's ``word``), then the other words that name it in a stack.
FAMILIES: dict[str, dict[str, tuple[str, ...]]] = {
    "conv": {"conv": (), "convt": ("deconv", "convtranspose")},
    "pool": {"maxpool": ("pool",), "avgpool": ()},
    "resize": {"up": ("upsample",)},
    "pad": {"pad": ()},
    "whole": {"gap": (), "flatten": (), "linear": ("fc",)},
    "adaptive": {"adaptiveavgpool": (), "adaptivemaxpool": ()},
    "merge": {"add": (), "mul": (), "cat": ("concat",)},
    "norm": {"bn": ("batchnorm",), "ln": ("layernorm",), "gn": ("groupnorm",), "in": ("instancenorm",),
             "layerscale": (), "normalize": ()},
    "activation": {"relu": (), "relu6": (), "gelu": (), "silu": ("swish",), "sigmoid": (), "tanh": (),
                   "hardswish": (), "lrelu": ("leakyrelu",), "dropout": ()},
    "shuffle": {"pixelshuffle": ("depthtospace",), "pixelunshuffle": ("spacetodepth",)},
    "channels": {"chunk": ("split",), "channelshuffle": ("shuffle",)},
    "tokens": {"tokens": ("patches",), "cls": ("classtoken",), "posembed": ("positions",),
               "attn": ("attention", "mha"), "token": ()},
    "expect": {"expect": ()},
    "windows": {"wattn": ("windowattention",), "patchmerge": ("patchmerging",), "battn": ("blockattention",),
                "gattn": ("gridattention",)},
}

_FAMILY_OF = {word: family for family, words in FAMILIES.items() for word in words}
# Read for every layer of every stack: plain attributes of each member once its family is loaded.
_FLAGS = ("is_pool", "is_windowed", "is_spatial", "is_adaptive", "is_merge", "keeps_shape")
_FROM_FAMILY = frozenset(("op", *_FLAGS))


class Kind(Named):
    """A layer kind: its word, and its op (``Kind.CONV.op``), which arrives with its family's
    module, with the op's flags, the first time one of them is asked for."""

    def __getattr__(self, name: str):
        if name not in _FROM_FAMILY:
            raise AttributeError(name)
        _load(_FAMILY_OF[self.value])
        return self.__dict__[name]


with_members(Kind, [(word.upper(), word) for word in _FAMILY_OF])

# Every word that starts a layer, to its kind (``conv2d``-style names are read apart).
KIND_WORDS: dict[str, Kind] = {word: Kind(own) for words in FAMILIES.values() for own, others in words.items()
                               for word in (own, *others)}


def _load(family: str) -> None:
    """Import a family's module and give each of its kinds its op and the op's flags."""
    for op in import_module(f".ops.{family}", __package__).OPS:
        kind = Kind(op.word)
        kind.op = op
        for flag in _FLAGS:
            setattr(kind, flag, getattr(op, flag))


def __getattr__(name: str):
    """The tables over every kind, made (and every family loaded) on first use: ``OPS``
    (word to op) and the model readers' ``TORCH_CLASSES`` (print(model)) and ``ONNX_OPS``."""
    if name == "OPS":
        value = {kind.value: kind.op for kind in Kind}
    elif name == "TORCH_CLASSES":
        value = {class_name: op for op in __getattr__("OPS").values() for class_name in op.torch_classes}
    elif name == "ONNX_OPS":
        value = {op_type: op for op in __getattr__("OPS").values() for op_type in op.onnx_ops}
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value
