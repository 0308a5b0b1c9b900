"""The arithmetic of windows and scales on one axis, exactly: what the kinds' rules
(``convshape.ops``) are written with. Integers only.

The names follow Dumoulin & Visin's *A guide to convolution arithmetic*: input size
``I``, kernel ``k``, stride ``s``, dilation ``d``, effective kernel ``kₑ = d·(k−1)+1``.
"""

# Annotations evaluated, not strings: see the note in layers.py (a NamedTuple's string fields cost start-up).
from typing import TYPE_CHECKING, NamedTuple

from .layers import Convention, Layer, Pair

if TYPE_CHECKING:
    from fractions import Fraction


def exact_ratio(numerator: int, denominator: int = 1) -> "int | Fraction":
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
    scale: "Fraction | None" = None
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


def upsampled_size(in_size: int, scale: "Fraction") -> int:
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


def resolve_padding(layer: Layer, axis: int, in_size: int, convention: Convention) -> Pair:
    """The (before, after) padding of ``layer`` on ``axis``, with psame/pvalid/pfull resolved."""
    return layer.kind.op.resolve_padding(layer, axis, in_size, convention)


def axis_step(layer: Layer, axis: int, in_size: int, convention: Convention, target: int | None = None) -> AxisStep:
    """The output size of ``layer`` on one axis, with the numbers that produced it.

    Assumes the layer's parameters are valid (positive kernel, stride, dilation);
    the diagnostics check that first. ``target`` is the size `up like NAME` resizes to.
    Each kind's rule is its op's (``convshape.ops``).
    """
    return layer.kind.op.axis_step(layer, axis, in_size, convention, target)
