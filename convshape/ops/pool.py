"""Pooling windows: ``maxpool`` and ``avgpool`` (nn.MaxPoolNd / nn.AvgPoolNd, Keras'
MaxPoolingND / AveragePoolingND), with ceil mode where the convention has it."""

from __future__ import annotations

from ..arithmetic import ceil_div
from ..diagnostics import Code, Diagnostic
from ..layers import Convention, PaddingRule
from .window import Window


class Pool(Window):
    is_pool = True
    default_stride_is_kernel = True
    needs = "a kernel size, such as k2 or k3"
    torch_refused = ("psame",)
    solvable = True
    torch_name: str
    keras_name: str

    def dilated_pool(self, layer):
        return layer.dilation is not None and max(layer.dilation) > 1

    def same_dilation(self, layer, convention):
        return 1 if convention is Convention.ONNX else None  # ONNX Runtime pads by the undilated kernel

    def rounds_toward_zero(self, convention):
        return convention is Convention.ONNX

    def convention_error(self, layer, convention, axes):
        if convention is Convention.TF:
            return Diagnostic(Code.CEIL_UNSUPPORTED) if layer.ceil else None
        if convention is not Convention.TORCH:
            return None
        if layer.padding_rule is PaddingRule.SAME:
            return Diagnostic(Code.SAME_UNSUPPORTED, (), {"kind": self.torch_name})
        for axis, (before, after) in zip(axes, layer.padding or ()):
            if before != after:
                return Diagnostic(Code.ASYMMETRIC_POOL_PADDING, (axis,), {"pb": before, "pa": after})
        for index, (axis, kernel, dilation) in enumerate(zip(axes, layer.kernel, layer.dilation)):
            if layer.padding_rule is PaddingRule.FULL:
                padding = dilation * (kernel - 1)
            else:
                padding = layer.padding[index][0] if layer.padding else 0
            # PyTorch checks half the effective kernel, then (for every pool) half the kernel itself.
            limit = min(kernel, dilation * (kernel - 1) + 1) // 2
            if padding > limit:
                return Diagnostic(Code.POOL_PADDING_TOO_LARGE, (axis,), {"padding": padding, "kernel": kernel, "limit": limit})
        return None

    def torch_module(self, row, w):
        layer, dims = row.layer, row.layer.dims
        args = [w.per_axis(layer.kernel)]
        if layer.stride != layer.kernel:
            args.append(f"stride={w.per_axis(layer.stride)}")
        padding, apart = w.window_padding(row)
        prefix = ""
        if apart is not None:  # calc refuses uneven pool padding under torch; --force writes it as a pad
            prefix = f"nn.ConstantPad{dims}d({w.pad_args(apart)}, {self.fill}), "
        if padding is not None:
            args.append(f"padding={padding}")
        if self.dilated_pool(layer):
            args.append(f"dilation={w.per_axis(layer.dilation)}")
        if layer.ceil:
            args.append("ceil_mode=True")
        module = f"nn.{self.torch_name}{dims}d({', '.join(args)})"
        return f"nn.Sequential({prefix}{module})" if prefix else module

    def keras_layers(self, row, w):
        layer, nd = row.layer, f"{row.layer.dims}D"
        if layer.ceil:
            w.refuse(row, "ceil mode (Keras pools round down, or pad with padding='same')")
        if layer.dilation and any(d != 1 for d in layer.dilation):
            w.refuse(row, "a dilated pool")
        padding, apart = w.window(row)
        args = [w.tuple(layer.kernel)]
        if layer.stride != layer.kernel:
            args.append(f"strides={w.tuple(layer.stride)}")
        if padding != "valid":
            args.append(f"padding='{padding}'")
        call = f"layers.{self.keras_name}{nd}({', '.join(args)})"
        return [call] if apart is None else [f"layers.ZeroPadding{nd}({w.pairs_arg(apart, layer.dims)})", call]


class MaxPool(Pool):
    word = "maxpool"
    help = "max pooling"
    takes = ("k", "s", "p", "d", "ceil", "x")
    torch_name = "MaxPool"
    keras_name = "MaxPooling"
    fill = "float('-inf')"

    def refused_size(self, layer, step, axis, convention):
        if convention is Convention.ONNX and layer.padding_rule is PaddingRule.SAME and max(layer.dilation) == 1:
            total = (ceil_div(step.in_size, step.stride) - 1) * step.stride + step.kernel - step.in_size
            if total < 0:
                return Diagnostic(Code.ONNX_NEGATIVE_SAME_PADDING, (axis,), {
                    "in_size": step.in_size, "stride": step.stride, "kernel": step.kernel, "total": total})
        return None


class AvgPool(Pool):
    word = "avgpool"
    help = "average pooling"
    takes = ("k", "s", "p", "ceil", "x")
    torch_name = "AvgPool"
    keras_name = "AveragePooling"
    fill = "0.0"
    max_dilation = 1  # solve: average pools take no dilation

    def refused_size(self, layer, step, axis, convention):
        if convention is Convention.TORCH and layer.dims == 3 and step.in_size < step.kernel:
            # avg_pool3d checks the unpadded input against the kernel, unlike every other pool.
            return Diagnostic(Code.INPUT_SMALLER_THAN_KERNEL, (axis,), {"in_size": step.in_size, "kernel": step.kernel})
        return None


OPS = (MaxPool(), AvgPool())
