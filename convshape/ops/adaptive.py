"""Adaptive pooling to a given output size: ``adaptiveavgpool o7``, ``adaptivemaxpool o7x5``
(nn.AdaptiveAvgPoolNd / nn.AdaptiveMaxPoolNd; Keras has none)."""

from __future__ import annotations

from .. import receptive
from ..arithmetic import AxisStep, ceil_div
from ..diagnostics import Code, Diagnostic
from ..layers import Convention
from .base import Op
from .window import padding_fields


class Adaptive(Op):
    takes = ("o", "x")
    required = ("o",)
    needs = "its output size, such as o7 or o7x5"
    is_spatial = True
    is_adaptive = True
    keeps_shape = False
    torch_name: str

    def build(self, get, dims):
        return padding_fields(get, dims, [(0, 0)])

    def axis_step(self, layer, axis, in_size, convention, target=None):
        return AxisStep(in_size, layer.out[axis])

    def field(self, layer, current, step, axis, in_size, last_spatial):
        return receptive.through_adaptive(current, step.in_size, step.out_size)

    def growth(self, layer, step, axis):
        return step.out_size

    def convention_error(self, layer, convention, axes):
        return Diagnostic(Code.ADAPTIVE_UNSUPPORTED) if convention is Convention.TF else None

    def sized(self, layer):
        return True

    def formula(self, layer, axis, before, convention):
        from ..formula import VAR, Lin, Step

        return Step(Lin(0, VAR, layer.out[axis]), True)

    def formula_text(self, layer, axis, convention):
        return str(layer.out[axis])

    def constant_output(self, layer, axis):
        return layer.out[axis]

    def explain_step(self, step):
        return f"{step.out_size} windows over {step.in_size}: window i from floor(i·{step.in_size}/{step.out_size}) " \
               f"to ceil((i+1)·{step.in_size}/{step.out_size})"

    def sources(self, layer, step, o, in_size):
        out = step.out_size
        return list(range((o * in_size) // out, ceil_div((o + 1) * in_size, out)))

    def torch_module(self, row, w):
        return f"nn.{self.torch_name}{row.layer.dims}d({w.per_axis(row.layer.out)})"

    def keras_layers(self, row, w):
        w.refuse(row, "adaptive pooling")


class AdaptiveAvgPool(Adaptive):
    word = "adaptiveavgpool"
    help = "adaptive average pooling to an output size"
    torch_name = "AdaptiveAvgPool"


class AdaptiveMaxPool(Adaptive):
    word = "adaptivemaxpool"
    help = "adaptive max pooling to an output size"
    torch_name = "AdaptiveMaxPool"


OPS = (AdaptiveAvgPool(), AdaptiveMaxPool())
