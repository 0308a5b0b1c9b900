"""Output size per spatial axis, for each kind, under each convention. Integers only.

The names follow Dumoulin & Visin's *A guide to convolution arithmetic*: input size
``I``, kernel ``k``, stride ``s``, dilation ``d``, effective kernel ``kₑ = d·(k−1)+1``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from .layers import Convention, Kind, Layer, Pair, PaddingRule

if TYPE_CHECKING:
    from fractions import Fraction


def exact_ratio(numerator: int, denominator: int = 1) -> int | Fraction:
    """numerator / denominator exactly: an int when it is whole, else a Fraction.

    Most values in a stack are whole, so ``fractions`` is imported only when one is not.

    >>> exact_ratio(6, 2), exact_ratio(3, 2)
    (3, Fraction(3, 2))
    """
    if numerator % denominator == 0:
        return numerator // denominator
    from fractions import Fraction

    return Fraction(numerator, denominator)


def effective_kernel(kernel: int, dilation: int = 1) -> int:
    """The span a dilated kernel covers.

    >>> effective_kernel(3, dilation=2)
    5
    """
    return dilation * (kernel - 1) + 1


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


class AxisStep(NamedTuple):
    """The numbers of one layer on one axis: enough to explain and diagnose it."""

    in_size: int
    out_size: int
    padding: Pair = (0, 0)
    kernel: int | None = None
    effective_kernel: int | None = None
    stride: int | None = None
    dilation: int | None = None
    scale: Fraction | None = None
    output_padding: int = 0
    ceil: bool = False
    ceil_dropped: bool = False  # ceil mode's extra window was dropped by PyTorch's rule
    same_ceil: bool = False  # the size came from TF's out = ceil(I / s)

    @property
    def remainder(self) -> int | None:
        """(I + p_before + p_after − kₑ) mod s for windowed layers: padded positions never read."""
        if self.effective_kernel is None or self.stride is None:
            return None
        span = self.in_size + sum(self.padding) - self.effective_kernel
        return span % self.stride if span >= 0 else None


def windowed_output_size(
    in_size: int, kernel: int, stride: int, padding: Pair = (0, 0), dilation: int = 1, ceil: bool = False
) -> tuple[int, bool]:
    """Output size of a conv or pool window sliding over one axis, and whether ceil mode's
    last window was dropped (PyTorch: it must start inside the input or the left padding).

    >>> windowed_output_size(7, kernel=3, stride=2)
    (3, False)
    >>> windowed_output_size(6, kernel=3, stride=2, ceil=True)
    (3, False)
    """
    span = in_size + padding[0] + padding[1] - effective_kernel(kernel, dilation)
    if not ceil:
        return span // stride + 1, False
    out = ceil_div(span, stride) + 1
    if out > 1 and (out - 1) * stride >= in_size + padding[0]:
        return out - 1, True
    return out, False


def transposed_output_size(
    in_size: int, kernel: int, stride: int, padding: Pair = (0, 0), dilation: int = 1, output_padding: int = 0
) -> int:
    """(I − 1)·s − p_before − p_after + d·(k − 1) + op + 1.

    >>> transposed_output_size(4, kernel=4, stride=2, padding=(1, 1))
    8
    """
    return (in_size - 1) * stride - padding[0] - padding[1] + dilation * (kernel - 1) + output_padding + 1


def upsampled_size(in_size: int, scale: Fraction) -> int:
    """floor(I · s), exactly.

    >>> upsampled_size(7, exact_ratio(3, 2))
    10
    """
    return in_size * scale.numerator // scale.denominator


def same_padding(in_size: int, kernel: int, stride: int, dilation: int, convention: Convention) -> Pair:
    """The padding that ``psame`` stands for on one axis: floor of half before, the rest after.

    Under torch the total is d·(k−1) (stride 1 only); under tf it is what makes
    out = ceil(I / s): max((out − 1)·s + kₑ − I, 0).

    >>> same_padding(7, 4, 2, 1, Convention.TF)
    (1, 2)
    """
    k_eff = effective_kernel(kernel, dilation)
    if not convention.same_like_tf:
        total = k_eff - 1
    else:
        out = ceil_div(in_size, stride)
        total = max((out - 1) * stride + k_eff - in_size, 0)
    return total // 2, total - total // 2


def onnx_dilated_pool(layer: Layer) -> bool:
    """ONNX Runtime sizes a SAME pool's padding by its undilated kernel: with a dilation the
    output is ⌈I/s⌉ − ⌈(kₑ − k)/s⌉, not ⌈I/s⌉ (only pools, whose windows may then overhang)."""
    return layer.kind.is_pool and layer.dilation is not None and max(layer.dilation) > 1


def keras_transposed_rule(layer: Layer, convention: Convention) -> bool:
    """A transposed conv sized by Keras' padding rule alone: psame and pvalid without output
    padding. (ONNX's SAME_UPPER is the plain formula with the padding ``resolve_padding`` gives.)"""
    return convention is Convention.TF and layer.output_padding is None and layer.padding_rule is not None


def resolve_padding(layer: Layer, axis: int, in_size: int, convention: Convention) -> Pair:
    """The (before, after) padding of ``layer`` on ``axis``, with psame/pvalid/pfull resolved."""
    rule = layer.padding_rule
    if rule is None:
        return layer.padding[axis] if layer.padding else (0, 0)
    if rule is PaddingRule.VALID:
        return (0, 0)
    kernel, dilation = layer.kernel[axis], layer.dilation[axis]
    if rule is PaddingRule.FULL:
        full = dilation * (kernel - 1)
        return (full, full)
    if layer.kind is Kind.CONVT and convention is Convention.ONNX:
        # ONNX Runtime's SAME_UPPER: out = I·s where the kernel reaches; the padding never below 0.
        op = layer.output_padding[axis] if layer.output_padding else 0
        total = max(effective_kernel(kernel, dilation) + op - layer.stride[axis], 0)
        return (total // 2, total - total // 2)
    if layer.kind is Kind.CONVT:
        # Keras' transposed "same": pad kₑ // 2 on each side (used only with output padding).
        half = effective_kernel(kernel, dilation) // 2
        return (half, half)
    if convention is Convention.ONNX and layer.kind.is_pool:
        dilation = 1  # ONNX Runtime pads a SAME pool by its undilated kernel, then dilates it
    return same_padding(in_size, kernel, layer.stride[axis], dilation, convention)


def axis_step(layer: Layer, axis: int, in_size: int, convention: Convention, target: int | None = None) -> AxisStep:
    """The output size of ``layer`` on one axis, with the numbers that produced it.

    Assumes the layer's parameters are valid (positive kernel, stride, dilation);
    the diagnostics check that first. ``target`` is the size `up like NAME` resizes to.
    """
    kind = layer.kind
    if kind.is_windowed:
        k, s, d = layer.kernel[axis], layer.stride[axis], layer.dilation[axis]
        padding = resolve_padding(layer, axis, in_size, convention)
        ceil = layer.ceil and convention.honours_ceil
        out, dropped = windowed_output_size(in_size, k, s, padding, d, ceil)
        span = in_size + padding[0] + padding[1] - effective_kernel(k, d)
        if convention is Convention.ONNX and kind.is_pool and not ceil and span < 0:
            out = 1 - (-span) // s  # ONNX Runtime divides toward zero: a window overhanging by less than s runs
        same_ceil = layer.padding_rule is PaddingRule.SAME and convention.same_like_tf and not onnx_dilated_pool(layer)
        return AxisStep(in_size, out, padding, k, effective_kernel(k, d), s, d, ceil=ceil,
                        ceil_dropped=dropped, same_ceil=same_ceil)
    if kind is Kind.CONVT:
        k, s, d = layer.kernel[axis], layer.stride[axis], layer.dilation[axis]
        op = layer.output_padding[axis] if layer.output_padding else 0
        padding = resolve_padding(layer, axis, in_size, convention)
        k_eff = effective_kernel(k, d)
        if keras_transposed_rule(layer, convention):
            # Keras without output padding: "same" gives I·s, "valid" I·s + max(kₑ − s, 0).
            extra = 0 if layer.padding_rule is PaddingRule.SAME else max(k_eff - s, 0)
            out = in_size * s + extra
            total = (in_size - 1) * s + k_eff - out  # the padding (negative: output padding) it implies
            before = max(total, 0) // 2
            padding = (before, total - before) if total >= 0 else (0, 0)
            op = max(-total, 0)
        else:
            out = transposed_output_size(in_size, k, s, padding, d, op)
        return AxisStep(in_size, out, padding, k, k_eff, s, d, output_padding=op)
    if kind is Kind.UP:
        if layer.scale is None:  # to a size: o64, or like a named tensor (``target``)
            return AxisStep(in_size, target if target is not None else layer.out[axis])
        scale = layer.scale[axis]
        return AxisStep(in_size, upsampled_size(in_size, scale), scale=scale)
    if kind.is_adaptive:
        return AxisStep(in_size, layer.out[axis])
    if kind is Kind.PAD:
        padding = layer.padding[axis] if layer.padding else (0, 0)
        return AxisStep(in_size, in_size + padding[0] + padding[1], padding)
    if kind is Kind.GAP:
        return AxisStep(in_size, 1, kernel=in_size, effective_kernel=in_size, stride=in_size)
    raise ValueError(f"{kind.value} has no spatial axes")
