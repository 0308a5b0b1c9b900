"""What the layers that slide a window share (conv, convt and the pools): their tokens,
padding rules, receptive-field step, formula, period and checks. Not a kind: the kind
modules ``conv`` and ``pool`` build on it."""

from __future__ import annotations


from .. import receptive
from ..arithmetic import AxisStep, ceil_div, effective_kernel, same_padding, windowed_output_size
from ..diagnostics import Code, Diagnostic, dropped_text
from ..layers import Convention, Layer, PaddingRule
from .base import Op


def broadcast(values: list, dims: int) -> tuple:
    return tuple(values) * dims if len(values) == 1 else tuple(values)


def padding_fields(get, dims: int, default) -> dict:
    padding = get("p", default)
    if isinstance(padding, PaddingRule):
        return {"padding_rule": padding}
    return {"padding": broadcast(padding, dims)}


def padding_term(step: AxisStep) -> str:
    before, after = step.padding
    return f"2·{before}" if before == after else f"{before} + {after}"


def kernel_term(step: AxisStep) -> str:
    if step.dilation and step.dilation > 1:
        return f"({step.dilation}·({step.kernel} − 1) + 1)"
    return str(step.effective_kernel)


def rule_padding(layer: Layer, axis: int):
    """The (before, after) padding the layer writes or its rule fixes (pvalid, pfull) on
    ``axis``; None for psame, whose padding each kind resolves from the input."""
    rule = layer.padding_rule
    if rule is None:
        return layer.padding[axis] if layer.padding else (0, 0)
    if rule is PaddingRule.VALID:
        return (0, 0)
    if rule is PaddingRule.FULL:
        full = layer.dilation[axis] * (layer.kernel[axis] - 1)
        return (full, full)
    return None


class Window(Op):
    """floor((I + padding − kₑ) / s) + 1, with kₑ = d·(k − 1) + 1."""

    is_windowed = True
    is_spatial = True
    keeps_shape = False
    shows_padding = True
    slides = True
    required = ("k",)
    bare = "k"
    default_stride_is_kernel = False  # pools: a stride of the kernel unless given

    def build(self, get, dims: int) -> dict:
        kernel = broadcast(get("k"), dims)
        stride = get("s")
        fields = {"kernel": kernel,
                  "stride": tuple(int(v) for v in broadcast(stride, dims)) if stride else (
                      kernel if self.default_stride_is_kernel else (1,) * dims),
                  "dilation": broadcast(get("d", [1]), dims)}
        fields.update(padding_fields(get, dims, [(0, 0)]))
        return fields

    def same_dilation(self, layer: Layer, convention: Convention) -> int | None:
        """The dilation a SAME padding is sized by, where it is not the layer's own."""
        return None

    def resolve_padding(self, layer: Layer, axis: int, in_size: int, convention: Convention):
        fixed = rule_padding(layer, axis)
        if fixed is not None:
            return fixed
        special = self.same_dilation(layer, convention)
        dilation = layer.dilation[axis] if special is None else special
        return same_padding(in_size, layer.kernel[axis], layer.stride[axis], dilation, convention)

    def rounds_toward_zero(self, convention: Convention) -> bool:
        """ONNX Runtime divides a pool's span toward zero: a window overhanging by less than s runs."""
        return False

    def dilated_pool(self, layer: Layer) -> bool:
        """A dilated pool: ONNX Runtime sizes its SAME padding by the undilated kernel, so the
        output is ⌈I/s⌉ − ⌈(kₑ − k)/s⌉, not ⌈I/s⌉ (its windows may then overhang)."""
        return False

    def axis_step(self, layer: Layer, axis: int, in_size: int, convention: Convention, target=None) -> AxisStep:
        k, s, d = layer.kernel[axis], layer.stride[axis], layer.dilation[axis]
        padding = self.resolve_padding(layer, axis, in_size, convention)
        ceil = layer.ceil and convention.honours_ceil
        out, dropped = windowed_output_size(in_size, k, s, padding, d, ceil)
        span = in_size + padding[0] + padding[1] - effective_kernel(k, d)
        if self.rounds_toward_zero(convention) and not ceil and span < 0:
            out = 1 - (-span) // s
        same_ceil = (layer.padding_rule is PaddingRule.SAME and convention.same_like_tf
                     and not self.dilated_pool(layer))
        return AxisStep(in_size, out, padding, k, effective_kernel(k, d), s, d, ceil=ceil,
                        ceil_dropped=dropped, same_ceil=same_ceil)

    def field(self, layer, current, step, axis, in_size, last_spatial):
        return receptive.through_window(current, step.kernel, step.stride, step.padding[0], step.dilation)

    def too_small(self, step: AxisStep, axis: str):
        pb, pa = step.padding
        return Diagnostic(Code.KERNEL_TOO_LARGE, (axis,), {
            "in_size": step.in_size, "pb": pb, "pa": pa, "padded": step.in_size + pb + pa, "ke": step.effective_kernel})

    def axis_findings(self, layer: Layer, step: AxisStep, axis: str, convention: Convention) -> list:
        found = self.stride_gap(step, axis, "input positions", "are never read")
        ke, stride = step.effective_kernel, step.stride
        pb, pa = step.padding
        if max(pb, pa) >= ke:
            found.append(Diagnostic(Code.PADDING_ONLY_OUTPUTS, (axis,), {"padding": max(pb, pa), "ke": ke}))
        if step.ceil_dropped:
            found.append(Diagnostic(Code.CEIL_WINDOW_DROPPED, (axis,), {
                "window_start": step.out_size * stride, "in_size": step.in_size, "pb": pb, "limit": step.in_size + pb}))
        rem = step.remainder
        if not step.ceil and rem:
            numbers = {"in_size": step.in_size, "pb": pb, "pa": pa, "ke": ke, "stride": stride, "rem": rem}
            real = rem - pa  # the skipped tail, less the padding in it
            if real > 0:
                found.append(Diagnostic(Code.FLOOR_ROUNDING, (axis,), {**numbers, "dropped": dropped_text(real)}))
            else:
                found.append(Diagnostic(Code.PADDING_TRIMMED, (axis,), numbers))
        return found

    @staticmethod
    def stride_gap(step: AxisStep, axis: str, what: str, verb: str) -> list:
        ke, stride = step.effective_kernel, step.stride
        if ke < stride:
            return [Diagnostic(Code.STRIDE_GAP, (axis,), {"ke": ke, "stride": stride, "gap": stride - ke,
                                                         "what": what, "verb": verb})]
        return []

    def formula(self, layer: Layer, axis: int, before, convention: Convention):
        from ..formula import Step, div, lin

        k, s, d = layer.kernel[axis], layer.stride[axis], layer.dilation[axis]
        ke = effective_kernel(k, d)
        rule = layer.padding_rule
        if rule is PaddingRule.SAME and convention.same_like_tf:
            shrink = ceil_div(ke - k, s) if convention is Convention.ONNX and self.dilated_pool(layer) else 0
            return Step(lin(1, div(lin(1, before, s - 1), s), -shrink), True)  # ceil(I / s), less ONNX's overhang
        if rule is PaddingRule.SAME:  # torch: stride 1 and total padding d·(k−1) keep the size
            return Step(before, True)
        pb, pa = self.resolve_padding(layer, axis, 0, convention)  # without "same", the size plays no part
        if layer.ceil and convention.honours_ceil:
            # ceil((I + P − kₑ)/s) + 1; PyTorch drops the last window when it starts past the input.
            may_drop = s - 1 >= ke - pa
            return Step(div(lin(1, before, pb + pa - ke + 2 * s - 1), s), not may_drop)
        return Step(div(lin(1, before, pb + pa - ke + s), s), True)

    def formula_text(self, layer: Layer, axis: int, convention: Convention) -> str:
        k, s, d = layer.kernel[axis], layer.stride[axis], layer.dilation[axis]
        ke = effective_kernel(k, d)
        if layer.padding_rule is PaddingRule.SAME:
            if convention is Convention.ONNX and self.dilated_pool(layer):
                return f"ceil({{x}}/{s}) − {ceil_div(ke - k, s)}"
            return f"ceil({{x}}/{s})" if convention.same_like_tf else "{x}"
        pb, pa = self.resolve_padding(layer, axis, 0, convention)
        rounding = "ceil" if layer.ceil and convention.honours_ceil else "floor"
        return f"{rounding}(({{x}} + {pb + pa} − {ke})/{s}) + 1"

    def period(self, layer: Layer, axis: int) -> int:
        return layer.stride[axis]

    def estimate(self, layer: Layer, axis: int, needed_out: int) -> int:
        # floor((I + P − kₑ)/s) + 1 ≥ n from I = (n − 1)·s + kₑ − P
        padding = sum(layer.padding[axis]) if layer.padding else 0
        return (needed_out - 1) * layer.stride[axis] + layer.dilation[axis] * (layer.kernel[axis] - 1) + 1 - padding

    def shrink(self, layer: Layer) -> int:
        return max([1, *layer.stride])  # a stride below 1 is an error of its own

    def explain_step(self, step: AxisStep) -> str:
        if step.same_ceil:
            return f"ceil({step.in_size} / {step.stride}) = {step.out_size}  (padding {step.padding[0]}:{step.padding[1]})"
        rounding = "ceil" if step.ceil else "floor"
        text = f"{rounding}(({step.in_size} − {kernel_term(step)} + {padding_term(step)}) / {step.stride}) + 1"
        if step.ceil_dropped:
            return f"{text} − 1 = {step.out_size}  (the last window would start in the right padding)"
        return f"{text} = {step.out_size}"

    def sources(self, layer: Layer, step: AxisStep, o: int, in_size: int) -> list[int]:
        """The positions of the input that output position ``o`` reads (for the field picture)."""
        before, d = step.padding[0], step.dilation
        start = o * step.stride - before  # tap j reads start + j·d: only the taps that land in the input
        first, last = max(0, -(start // d)), min(step.kernel - 1, (in_size - 1 - start) // d)
        return [start + j * d for j in range(first, last + 1)]

    def picture_extent(self, layer: Layer, step: AxisStep, in_size: int) -> tuple[int, int]:
        """How many cells ``picture_cells`` draws on one axis, and the stride of its windows over them."""
        before, after = step.padding
        return before + in_size + after, step.stride

    def picture_cells(self, layer: Layer, step: AxisStep, in_size: int):
        """The cells a layer picture draws on one axis, and the stride of its windows over them."""
        before, after = step.padding
        return ["pad"] * before + ["real"] * in_size + ["pad"] * after, step.stride
