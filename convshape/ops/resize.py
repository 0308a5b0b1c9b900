"""Resizing: ``up``, nearest-neighbour upsampling by a scale factor (s2, s1.5), to a size
(o64), or to a named tensor's size (up like x)."""

from __future__ import annotations

from .. import receptive
from ..arithmetic import AxisStep, upsampled_size
from ..diagnostics import Code, Diagnostic, decimal_or_fraction
from ..layers import Convention
from .base import Op, TokenError
from .window import broadcast


class Up(Op):
    word = "up"
    help = "nearest-neighbour upsampling by a scale factor"
    takes = ("s", "o", "x")
    bare = "s"
    token_help = (("s", "scale factor: s2, s1.5"),)
    after = (("like", "resize to a named tensor's size: like x"),)
    is_spatial = True
    keeps_shape = False
    fractional_scale = True

    def build(self, get, dims):
        return {"scale": broadcast(get("s", [2]), dims)}

    def finish(self, fields, tokens, like):
        given = [tokens[p] for p in ("s", "o") if p in tokens] + ([like] if like else [])
        if len(given) > 1:
            raise TokenError("up takes one of a scale (s2), an output size (o64) and 'like NAME'", given[1])
        if given and "s" not in tokens:
            fields["scale"] = None

    def axis_step(self, layer, axis, in_size, convention, target=None):
        if layer.scale is None:  # to a size: o64, or like a named tensor (``target``)
            return AxisStep(in_size, target if target is not None else layer.out[axis])
        scale = layer.scale[axis]
        return AxisStep(in_size, upsampled_size(in_size, scale), scale=scale)

    def stride_values(self, layer):
        return layer.scale

    def field(self, layer, current, step, axis, in_size, last_spatial):
        if layer.scale is None:
            return receptive.through_resize(current, step.in_size, step.out_size)
        return receptive.through_upsample(current, layer.scale[axis])

    def growth(self, layer, step, axis):
        return layer.scale[axis].numerator if layer.scale else step.out_size

    def convention_error(self, layer, convention, axes):
        if convention is Convention.TF and layer.scale is None:
            return Diagnostic(Code.RESIZE_UNSUPPORTED)
        return None

    def axis_findings(self, layer, step, axis, convention):
        if convention is Convention.TORCH and step.scale is not None:
            den = step.scale.denominator
            while den % 2 == 0:
                den //= 2
            if den != 1:
                return [Diagnostic(Code.INEXACT_SCALE, (axis,), {"in_size": step.in_size, "scale": step.scale})]
        return []

    def sized(self, layer) -> bool:
        """Its output size is given, not computed (o64, like x)."""
        return layer.scale is None

    def formula(self, layer, axis, before, convention):
        from ..formula import VAR, Lin, Step, div, lin

        if layer.scale is None:
            return Step(Lin(0, VAR, layer.out[axis]), True)
        scale = layer.scale[axis]
        return Step(div(lin(scale.numerator, before), scale.denominator), True)

    def formula_text(self, layer, axis, convention):
        return f"floor({{x}}·{layer.scale[axis]})" if layer.scale is not None else str(layer.out[axis])

    def constant_output(self, layer, axis):
        return layer.out[axis] if layer.scale is None and layer.like is None else None

    def period(self, layer, axis):
        return layer.scale[axis].denominator if layer.scale is not None else 1

    def offset_only(self, layer):
        return False

    def estimate(self, layer, axis, needed_out):
        if layer.scale is None:
            return needed_out
        scale = layer.scale[axis]
        return needed_out * scale.denominator // scale.numerator if scale > 0 else 1

    def shrink(self, layer):
        if layer.scale is None:
            return 1
        return max([1, *(-(-scale.denominator // scale.numerator) for scale in layer.scale if scale > 0)])

    def explain_step(self, step):
        if step.scale is None:
            return f"resized from {step.in_size} to {step.out_size}"
        return f"floor({step.in_size} · {decimal_or_fraction(step.scale)}) = {step.out_size}"

    def sources(self, layer, step, o, in_size):
        if step.scale is not None:
            from fractions import Fraction

            return [min(int(Fraction(o) / step.scale), in_size - 1)]
        return [min((o * in_size) // step.out_size, in_size - 1)]

    def torch_module(self, row, w):
        layer = row.layer
        if layer.like is not None:
            raise AssertionError("forward writes `up like`")
        if layer.out is not None:
            return f"nn.Upsample(size={w.per_axis(layer.out)})"
        return f"nn.Upsample(scale_factor={w.per_axis(layer.scale, w.number_text)})"

    def keras_layers(self, row, w):
        layer, dims = row.layer, row.layer.dims
        if layer.like is not None:
            w.refuse(row, "`up like` (a resize to another tensor's size)")
        if layer.out is not None:
            if dims != 2:
                w.refuse(row, f"a resize to a size on {dims} axes (Resizing is for images)")
            return [f"layers.Resizing({layer.out[0]}, {layer.out[1]}, interpolation='nearest')"]
        if any(s.denominator != 1 for s in layer.scale):
            w.refuse(row, f"a fractional upsampling factor ({layer.text})")
        return [f"layers.UpSampling{dims}D({w.tuple(tuple(int(s) for s in layer.scale))})"]


OPS = (Up(),)
