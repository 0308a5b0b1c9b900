"""Zero padding: ``pad p1`` or ``pad p0:1`` (nn.ZeroPadNd, Keras' ZeroPaddingND). A negative
padding crops, as torch's ``F.pad`` and ``nn.ZeroPad2d`` do and Keras' CroppingND: ``pad p-1:0``
drops the first row and column."""

from __future__ import annotations

from .. import receptive
from ..arithmetic import AxisStep
from .base import Op
from .window import padding_fields


class Pad(Op):
    word = "pad"
    help = "zero padding"
    takes = ("p", "x")
    required = ("p",)
    needs = "a padding, such as p1 or p0:1"
    bare = "p"
    refused_rules = ("same", "valid", "full")
    is_spatial = True
    keeps_shape = False
    shows_padding = True
    crops = True

    def build(self, get, dims):
        return padding_fields(get, dims, [(0, 0)])

    def axis_step(self, layer, axis, in_size, convention, target=None):
        padding = layer.padding[axis] if layer.padding else (0, 0)
        return AxisStep(in_size, in_size + padding[0] + padding[1], padding)

    def field(self, layer, current, step, axis, in_size, last_spatial):
        return receptive.through_pad(current, step.padding[0])

    def formula(self, layer, axis, before, convention):
        from ..formula import Step, lin

        pb, pa = layer.padding[axis]
        return Step(lin(1, before, pb + pa), True)

    def formula_text(self, layer, axis, convention):
        return f"{{x}} + {sum(layer.padding[axis])}"

    def explain_step(self, step):
        return f"{step.in_size} + {step.padding[0]} + {step.padding[1]} = {step.out_size}"

    def sources(self, layer, step, o, in_size):
        i = o - step.padding[0]
        return [i] if 0 <= i < in_size else []

    def torch_module(self, row, w):
        return f"nn.ZeroPad{row.layer.dims}d({w.pad_args(row.layer.padding)})"

    def keras_layers(self, row, w):
        pairs, dims = row.layer.padding, row.layer.dims
        if all(b >= 0 and a >= 0 for b, a in pairs):
            return [f"layers.ZeroPadding{dims}D({w.pairs_arg(pairs, dims)})"]
        if all(b <= 0 and a <= 0 for b, a in pairs):
            return [f"layers.Cropping{dims}D({w.pairs_arg(tuple((-b, -a) for b, a in pairs), dims)})"]
        w.refuse(row, "a padding that pads one side and crops another")


OPS = (Pad(),)
