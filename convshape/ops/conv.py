"""Convolutions: ``conv`` and its transpose ``convt`` (nn.ConvNd / nn.ConvTransposeNd,
Keras' ConvND / ConvNDTranspose)."""

from __future__ import annotations

from math import prod

from .. import receptive
from ..arithmetic import AxisStep, effective_kernel, transposed_output_size
from ..diagnostics import Code, Diagnostic
from ..layers import Convention, Layer, PaddingRule
from .base import Op
from .window import Window, broadcast, padding_fields, rule_padding

_TOKENS = ("k", "s", "p", "d", "c", "g", "dw", "nobias", "in", "x")


def groups_of(layer: Layer, in_channels: int | None) -> int | None:
    """A conv's groups: ``dw`` makes them the input channels."""
    return in_channels if layer.depthwise else layer.groups


class _Convolution:
    """What conv and convt share: channels, groups, bias, and their costs and code."""

    has_groups = True
    sets_channels = True
    transposed = False

    def out_channels(self, layer, in_channels, in_size):
        return layer.channels if layer.channels is not None else in_channels

    def mixes_channels(self, layer):
        return layer.groups == 1 and not layer.depthwise

    def weights(self, layer, in_channels, out_channels, convention):
        if in_channels is None or out_channels is None:
            return None
        bias = out_channels if layer.bias else 0
        return in_channels * out_channels // groups_of(layer, in_channels) * prod(layer.kernel) + bias, 0

    def positions(self, row):
        """Where a whole kernel is applied: each output position (each input one, transposed)."""
        return row.in_size if self.transposed else row.out_size

    def macs(self, row, params, torchinfo, batch):
        if torchinfo:
            return batch * params * prod(row.out_size)
        groups = groups_of(row.layer, row.in_channels)
        return batch * prod(self.positions(row)) * prod(row.layer.kernel) * row.in_channels * row.out_channels // groups

    def formula_macs(self, layer, in_channels, out_channels, out, source, Formula):  # noqa: N803
        """MACs as a formula (``counts.Formula``): kernel × C_in/g per output position, or
        kernel × C_out/g per input position for a transposed conv."""
        groups = groups_of(layer, in_channels)
        if self.transposed:
            return Formula(prod(layer.kernel) * out_channels // groups, ()).times(source).value()
        return None if out is None else Formula(prod(layer.kernel) * in_channels // groups, ()).times(out).value()

    def cost_lines(self, row, cost, torch_profile, times, convention):
        layer = row.layer
        groups = groups_of(layer, row.in_channels)
        per_group = (row.out_channels if self.transposed else row.in_channels) // groups
        other = row.in_channels if self.transposed else row.out_channels
        kernel = "·".join(map(str, layer.kernel))
        bias = f" + {row.out_channels}" if layer.bias else ""
        lines = [f"params {other}·{per_group}·{kernel}{bias} = {cost.params:,}"]
        if torch_profile:
            where = "input positions" if self.transposed else "positions"
            lines.append(f"MACs {'·'.join(map(str, self.positions(row)))} {where} · {kernel} · {per_group} · {other}{times} = "
                         f"{cost.macs:,}")
        return lines

    def tf_error(self, layer):
        if max(layer.stride) > 1 and max(layer.dilation) > 1:
            return Diagnostic(Code.STRIDE_WITH_DILATION, (), {"stride": max(layer.stride), "dilation": max(layer.dilation)})
        return None

    def torch_module(self, row, w):
        layer, dims = row.layer, row.layer.dims
        name = ("ConvTranspose" if self.transposed else "Conv") + f"{dims}d"
        groups = row.in_channels if layer.depthwise else layer.groups
        if layer.depthwise and row.in_channels is None:
            raise w.error("dw needs the input channels: give -c", row)
        out = layer.channels if layer.channels is not None else row.out_channels
        if out is None:
            raise w.error("its channels are those of its input, which are unknown: give -c", row)
        args = [str(out)]
        if row.in_channels is None:
            name = "Lazy" + name
            w.lazy(row, f"nn.{name}")
        else:
            args.insert(0, str(row.in_channels))
        args.append(f"kernel_size={w.per_axis(layer.kernel)}")
        if any(s != 1 for s in layer.stride):
            args.append(f"stride={w.per_axis(layer.stride)}")
        padding, apart = w.window_padding(row)
        if padding is not None:
            args.append(f"padding={padding}")
        if self.transposed and layer.output_padding and any(layer.output_padding):
            args.append(f"output_padding={w.per_axis(layer.output_padding)}")
        if groups != 1:
            args.append(f"groups={groups}")
        if layer.dilation and any(d != 1 for d in layer.dilation):
            args.append(f"dilation={w.per_axis(layer.dilation)}")
        if not layer.bias:
            args.append("bias=False")
        module = f"nn.{name}({', '.join(args)})"
        if apart is None:
            return module
        if self.transposed:  # padding crops a transposed conv's output: crop it afterwards, unevenly
            crop = tuple((-before, -after) for before, after in apart)
            return f"nn.Sequential({module}, nn.ZeroPad{dims}d({w.pad_args(crop)}))"
        return f"nn.Sequential(nn.ZeroPad{dims}d({w.pad_args(apart)}), {module})"

    def keras_layers(self, row, w):
        layer, dims = row.layer, row.layer.dims
        nd = f"{dims}D"
        padding, apart = w.window(row)
        groups = row.in_channels if layer.depthwise else layer.groups
        if groups is None:
            raise w.error("dw needs the input channels: give -c", row)
        if self.transposed and groups != 1:
            w.refuse(row, "a grouped transposed convolution (Conv2DTranspose takes no groups)")
        out = layer.channels if layer.channels is not None else row.out_channels
        args = [str(out), w.tuple(layer.kernel)]
        if any(s != 1 for s in layer.stride):
            args.append(f"strides={w.tuple(layer.stride)}")
        if padding != "valid":
            args.append(f"padding='{padding}'")
        if self.transposed and layer.output_padding is not None:
            args.append(f"output_padding={w.tuple(layer.output_padding)}")
        if layer.dilation and any(d != 1 for d in layer.dilation):
            args.append(f"dilation_rate={w.tuple(layer.dilation)}")
        if groups != 1:
            args.append(f"groups={groups}")
        if not layer.bias:
            args.append("use_bias=False")
        call = f"layers.Conv{nd}{'Transpose' if self.transposed else ''}({', '.join(args)})"
        if apart is None:
            return [call]
        if self.transposed:  # padding crops a transposed conv's output
            return [call, f"layers.Cropping{nd}({w.pairs_arg(apart, dims)})"]
        return [f"layers.ZeroPadding{nd}({w.pairs_arg(apart, dims)})", call]


class Conv(_Convolution, Window):
    word = "conv"
    help = "convolution"
    takes = _TOKENS
    needs = "a kernel size, such as k3 or k3x5"
    solvable = True

    def build(self, get, dims):
        return {**super().build(get, dims), "channels": get("c"), "groups": get("g", 1)}

    def convention_error(self, layer, convention, axes):
        if convention is Convention.TORCH:
            if layer.padding_rule is PaddingRule.SAME and any(s > 1 for s in layer.stride):
                return Diagnostic(Code.SAME_WITH_STRIDE, (), {"stride": max(layer.stride)})
            return None
        if convention is Convention.ONNX:  # ONNX Runtime refuses a dilated SAME conv
            if layer.padding_rule is PaddingRule.SAME and max(layer.dilation) > 1:
                return Diagnostic(Code.ONNX_SAME_DILATION)
            return None
        return self.tf_error(layer)


class ConvT(_Convolution, Op):
    """(I − 1)·s − p_before − p_after + d·(k − 1) + op + 1; Keras' own rule under tf."""

    word = "convt"
    help = "transposed convolution"
    takes = ("k", "s", "p", "d", "c", "g", "dw", "op", "nobias", "in", "x")
    required = ("k",)
    needs = "a kernel size, such as k4 or k3x5"
    bare = "k"
    refused_rules = ("full",)
    torch_refused = ("psame",)
    is_spatial = True
    keeps_shape = False
    shows_padding = True
    slides = True
    solvable = True
    transposed = True
    torch_name = "ConvTranspose"

    def build(self, get, dims):
        fields = {"kernel": broadcast(get("k"), dims), "dilation": broadcast(get("d", [1]), dims)}
        stride = get("s")
        fields["stride"] = tuple(int(v) for v in broadcast(stride, dims)) if stride else (1,) * dims
        if get("op") is not None:
            fields["output_padding"] = broadcast(get("op"), dims)
        # Without padding it is "valid": Keras' own formula then applies under tf.
        fields.update(padding_fields(get, dims, PaddingRule.VALID))
        return {**fields, "channels": get("c"), "groups": get("g", 1)}

    @staticmethod
    def keras_rule(layer: Layer, convention: Convention) -> bool:
        """Sized by Keras' padding rule alone: psame and pvalid without output padding."""
        return convention is Convention.TF and layer.output_padding is None and layer.padding_rule is not None

    def resolve_padding(self, layer, axis, in_size, convention):
        fixed = rule_padding(layer, axis)
        if fixed is not None:
            return fixed
        kernel, dilation = layer.kernel[axis], layer.dilation[axis]
        if convention is Convention.ONNX:
            # ONNX Runtime's SAME_UPPER: out = I·s where the kernel reaches; the padding never below 0.
            op = layer.output_padding[axis] if layer.output_padding else 0
            total = max(effective_kernel(kernel, dilation) + op - layer.stride[axis], 0)
            return (total // 2, total - total // 2)
        # Keras' transposed "same": pad kₑ // 2 on each side (used only with output padding).
        half = effective_kernel(kernel, dilation) // 2
        return (half, half)

    def axis_step(self, layer, axis, in_size, convention, target=None):
        k, s, d = layer.kernel[axis], layer.stride[axis], layer.dilation[axis]
        op = layer.output_padding[axis] if layer.output_padding else 0
        padding = self.resolve_padding(layer, axis, in_size, convention)
        k_eff = effective_kernel(k, d)
        if self.keras_rule(layer, convention):
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

    def field(self, layer, current, step, axis, in_size, last_spatial):
        return receptive.through_transposed(current, step.kernel, step.stride, step.padding[0], step.dilation)

    def growth(self, layer, step, axis):
        return step.stride

    def convention_error(self, layer, convention, axes):
        if convention is Convention.TORCH:
            if layer.padding_rule is PaddingRule.SAME:
                return Diagnostic(Code.SAME_UNSUPPORTED, (), {"kind": self.torch_name})
            for axis, op, s, d in zip(axes, layer.output_padding or (), layer.stride, layer.dilation):
                if op >= s and op >= d:
                    return Diagnostic(Code.OUTPUT_PADDING_TOO_LARGE, (axis,), {"output_padding": op, "stride": s, "dilation": d})
            return None
        if convention is Convention.ONNX:
            if layer.output_padding is not None:
                bad = [(op, s) for op, s in zip(layer.output_padding, layer.stride) if op >= s]
                if bad:
                    return Diagnostic(Code.ONNX_OUTPUT_PADDING, (), {"op": bad[0][0], "stride": bad[0][1]})
            return None
        return self.tf_error(layer)

    def axis_findings(self, layer, step, axis, convention):
        return Window.stride_gap(step, axis, "output positions", "receive no input")

    def formula(self, layer, axis, before, convention):
        from ..formula import Step, lin

        k, s, d = layer.kernel[axis], layer.stride[axis], layer.dilation[axis]
        ke = effective_kernel(k, d)
        op = layer.output_padding[axis] if layer.output_padding else 0
        if self.keras_rule(layer, convention):
            extra = 0 if layer.padding_rule is PaddingRule.SAME else max(ke - s, 0)
            return Step(lin(s, before, extra), True)
        pb, pa = self.resolve_padding(layer, axis, 0, convention)
        return Step(lin(s, before, -s - pb - pa + d * (k - 1) + op + 1), True)

    def formula_text(self, layer, axis, convention):
        k, s, d = layer.kernel[axis], layer.stride[axis], layer.dilation[axis]
        op = layer.output_padding[axis] if layer.output_padding else 0
        if self.keras_rule(layer, convention):
            extra = 0 if layer.padding_rule is PaddingRule.SAME else max(effective_kernel(k, d) - s, 0)
            return f"{{x}}·{s} + {extra}"
        pb, pa = self.resolve_padding(layer, axis, 0, convention)
        return f"({{x}} − 1)·{s} − {pb + pa} + {d}·({k} − 1) + {op} + 1"

    def offset_only(self, layer):
        return False

    def estimate(self, layer, axis, needed_out):
        return needed_out // layer.stride[axis]

    def explain_step(self, step):
        from .window import padding_term

        return (f"({step.in_size} − 1)·{step.stride} − {padding_term(step)} + {step.dilation}·({step.kernel} − 1)"
                f" + {step.output_padding} + 1 = {step.out_size}")

    def sources(self, layer, step, o, in_size):
        # Input i reaches output o through tap j where o + p = i·s + j·d: walk the shorter of the
        # taps and the inputs that can meet there (a kernel of 2^31 over a few pixels is a few
        # pixels' work), in the taps' order.
        total, s, d, k = o + step.padding[0], step.stride, step.dilation, step.kernel
        taps = max(0, -(((in_size - 1) * s - total) // d)), min(k - 1, total // d)  # 0 ≤ i < in_size
        inputs = max(0, -(((k - 1) * d - total) // s)), min(in_size - 1, total // s)  # 0 ≤ j < k
        if taps[1] - taps[0] <= inputs[1] - inputs[0]:
            return [(total - j * d) // s for j in range(taps[0], taps[1] + 1) if (total - j * d) % s == 0]
        return [i for i in range(inputs[1], inputs[0] - 1, -1) if (total - i * s) % d == 0]

    def _spread(self, step, in_size):
        """The picture's padding before and after the spread-out input, and that input's length."""
        ke = effective_kernel(step.kernel, step.dilation)
        before, after = step.padding
        return ke - 1 - before, ke - 1 - after + step.output_padding, (in_size - 1) * step.stride + 1

    def picture_extent(self, layer, step, in_size):
        pad_before, pad_after, spread = self._spread(step, in_size)
        kept = max(spread - max(-pad_before, 0) - max(-pad_after, 0), 0)
        return max(pad_before, 0) + kept + max(pad_after, 0), 1

    def picture_cells(self, layer, step, in_size):
        # The stride-1 conv over the input spread out by s − 1 zeros, padded by kₑ − 1 − p (conv_arithmetic).
        pad_before, pad_after, spread = self._spread(step, in_size)
        spaced = ["real" if i % step.stride == 0 else "zero" for i in range(spread)]
        cells = ["pad"] * max(pad_before, 0) + spaced[max(-pad_before, 0): len(spaced) - max(-pad_after, 0)] \
            + ["pad"] * max(pad_after, 0)
        return cells, 1


OPS = (Conv(), ConvT())
