"""A plan as a PyTorch module: ``nn.Sequential`` for a single path, an ``nn.Module`` whose
``forward`` wires the branches and merges otherwise. One top-level module per row, so
``model[i]`` (or ``model.l7``) is row i+1 (row 7) of the stack."""

from __future__ import annotations

from ..layers import Kind, PaddingRule
from . import ExportError, Plan, RowPlan, docstring_text, full_padding, number_text, per_axis, variable_names

_ACTIVATIONS = {Kind.RELU: "nn.ReLU()", Kind.RELU6: "nn.ReLU6()", Kind.GELU: "nn.GELU()", Kind.SILU: "nn.SiLU()",
                Kind.SIGMOID: "nn.Sigmoid()", Kind.TANH: "nn.Tanh()", Kind.HARDSWISH: "nn.Hardswish()",
                Kind.LRELU: "nn.LeakyReLU()", Kind.DROPOUT: "nn.Dropout()"}

_LAYER_NORM = '''

class ChannelLayerNorm(nn.LayerNorm):
    """LayerNorm over the channels of an N×C×... tensor, as torchvision's ConvNeXt LayerNorm2d."""

    def forward(self, x):
        return super().forward(x.movedim(1, -1)).movedim(-1, 1)
'''

_LAYER_SCALE = '''

class LayerScale(nn.Module):
    """A learned scale per channel, as ConvNeXt's layer_scale."""

    def __init__(self, channels, spatial_axes):
        super().__init__()
        self.scale = nn.Parameter(torch.full((channels, *[1] * spatial_axes), 1e-6))

    def forward(self, x):
        return x * self.scale
'''

_CROP = '''

def crop_to_smallest(*tensors):
    """Centre-crop every tensor to the smallest spatial size, as torchvision's center_crop."""
    target = [min(t.shape[axis] for t in tensors) for axis in range(2, tensors[0].dim())]
    cropped = []
    for t in tensors:
        for axis, want in enumerate(target, start=2):
            excess = t.shape[axis] - want
            t = t.narrow(axis, int(round(excess / 2.0)), want)
        cropped.append(t)
    return cropped
'''

_PAD = '''

def pad_to_largest(*tensors):
    """Zero-pad every tensor to the largest spatial size, the smaller half before."""
    target = [max(t.shape[axis] for t in tensors) for axis in range(2, tensors[0].dim())]
    padded = []
    for t in tensors:
        pads = []
        for axis in reversed(range(2, t.dim())):
            missing = target[axis - 2] - t.shape[axis]
            pads += [missing // 2, missing - missing // 2]
        padded.append(F.pad(t, pads))
    return padded
'''


def _pad_args(pairs) -> str:
    """torch's pad order: the last axis first, before then after."""
    return "(" + ", ".join(f"{before}, {after}" for before, after in reversed(pairs)) + ")"


def _window_padding(row: RowPlan):
    """The padding argument and the pairs to pad apart (asymmetric padding), for a windowed layer."""
    layer = row.layer
    if layer.padding_rule is PaddingRule.SAME:
        return "'same'", None
    if layer.padding_rule is PaddingRule.FULL:
        return per_axis(full_padding(layer)), None
    pairs = layer.padding or ((0, 0),) * layer.dims
    if layer.padding_rule is PaddingRule.VALID or all(p == (0, 0) for p in pairs):
        return None, None
    if all(before == after for before, after in pairs):
        return per_axis(tuple(before for before, _ in pairs)), None
    return None, pairs


def _conv(row: RowPlan, lazy_notes: list) -> str:
    layer, dims = row.layer, row.layer.dims
    transposed = layer.kind is Kind.CONVT
    name = ("ConvTranspose" if transposed else "Conv") + f"{dims}d"
    groups = row.in_channels if layer.depthwise else layer.groups
    if layer.depthwise and row.in_channels is None:
        raise ExportError("dw needs the input channels: give -c", row.index, layer)
    out = layer.channels if layer.channels is not None else row.out_channels
    if out is None:
        raise ExportError("its channels are those of its input, which are unknown: give -c", row.index, layer)
    args = [str(out)]
    if row.in_channels is None:
        name = "Lazy" + name
        lazy_notes.append((row.index, f"nn.{name}"))
    else:
        args.insert(0, str(row.in_channels))
    args.append(f"kernel_size={per_axis(layer.kernel)}")
    if any(s != 1 for s in layer.stride):
        args.append(f"stride={per_axis(layer.stride)}")
    padding, apart = _window_padding(row)
    if padding is not None:
        args.append(f"padding={padding}")
    if transposed and layer.output_padding and any(layer.output_padding):
        args.append(f"output_padding={per_axis(layer.output_padding)}")
    if groups != 1:
        args.append(f"groups={groups}")
    if layer.dilation and any(d != 1 for d in layer.dilation):
        args.append(f"dilation={per_axis(layer.dilation)}")
    if not layer.bias:
        args.append("bias=False")
    module = f"nn.{name}({', '.join(args)})"
    if apart is None:
        return module
    if transposed:  # padding crops a transposed conv's output: crop it afterwards, unevenly
        crop = tuple((-before, -after) for before, after in apart)
        return f"nn.Sequential({module}, nn.ZeroPad{dims}d({_pad_args(crop)}))"
    return f"nn.Sequential(nn.ZeroPad{dims}d({_pad_args(apart)}), {module})"


def _pool(row: RowPlan) -> str:
    layer, dims = row.layer, row.layer.dims
    name = ("MaxPool" if layer.kind is Kind.MAXPOOL else "AvgPool") + f"{dims}d"
    args = [per_axis(layer.kernel)]
    if layer.stride != layer.kernel:
        args.append(f"stride={per_axis(layer.stride)}")
    padding, apart = _window_padding(row)
    if apart is not None:  # calc refuses uneven pool padding under torch; --force writes it as a pad
        fill = "float('-inf')" if layer.kind is Kind.MAXPOOL else "0.0"
        prefix = f"nn.ConstantPad{dims}d({_pad_args(apart)}, {fill}), "
    else:
        prefix = ""
    if padding is not None:
        args.append(f"padding={padding}")
    if layer.kind is Kind.MAXPOOL and layer.dilation and any(d != 1 for d in layer.dilation):
        args.append(f"dilation={per_axis(layer.dilation)}")
    if layer.ceil:
        args.append("ceil_mode=True")
    module = f"nn.{name}({', '.join(args)})"
    return f"nn.Sequential({prefix}{module})" if prefix else module


def _norm(row: RowPlan, lazy_notes: list, helpers: set) -> str:
    layer, channels = row.layer, row.in_channels
    dims = 1 if row.flat_in else layer.dims
    if channels is None and layer.kind in (Kind.BN, Kind.IN):
        name = ("LazyBatchNorm" if layer.kind is Kind.BN else "LazyInstanceNorm") + f"{dims}d"
        lazy_notes.append((row.index, f"nn.{name}"))
        return f"nn.{name}()"
    if channels is None:
        raise ExportError("its channels are unknown: give -c", row.index, layer)
    if layer.kind is Kind.BN:
        return f"nn.BatchNorm{dims}d({channels})"
    if layer.kind is Kind.IN:
        return f"nn.InstanceNorm{dims}d({channels})"
    if layer.kind is Kind.GN:
        return f"nn.GroupNorm({layer.groups}, {channels})"
    if layer.kind is Kind.LN:
        if row.flat_in:
            return f"nn.LayerNorm({channels})"
        helpers.add(_LAYER_NORM)
        return f"ChannelLayerNorm({channels})"
    helpers.add(_LAYER_SCALE)
    return f"LayerScale({channels}, {0 if row.flat_in else layer.dims})"


def module_text(row: RowPlan, lazy_notes: list, helpers: set) -> str:
    """The module that computes row ``row`` (not for merges, which ``forward`` writes)."""
    layer = row.layer
    kind, dims = layer.kind, layer.dims
    if kind in (Kind.CONV, Kind.CONVT):
        return _conv(row, lazy_notes)
    if kind.is_pool:
        return _pool(row)
    if kind in _ACTIVATIONS:
        return _ACTIVATIONS[kind]
    if kind.keeps_shape:
        return _norm(row, lazy_notes, helpers)
    if kind is Kind.UP:
        if layer.like is not None:
            raise AssertionError("forward writes `up like`")
        if layer.out is not None:
            return f"nn.Upsample(size={per_axis(layer.out)})"
        return f"nn.Upsample(scale_factor={per_axis(layer.scale, number_text)})"
    if kind is Kind.PAD:
        return f"nn.ZeroPad{dims}d({_pad_args(layer.padding)})"
    if kind is Kind.GAP:
        return f"nn.AdaptiveAvgPool{dims}d(1)"
    if kind.is_adaptive:
        name = "AdaptiveAvgPool" if kind is Kind.ADAPTIVEAVGPOOL else "AdaptiveMaxPool"
        return f"nn.{name}{dims}d({per_axis(layer.out)})"
    if kind is Kind.FLATTEN:
        return "nn.Flatten()"
    if kind is Kind.LINEAR:
        bias = "" if layer.bias else ", bias=False"
        if row.in_channels is None:
            lazy_notes.append((row.index, "nn.LazyLinear"))
            return f"nn.LazyLinear({layer.channels}{bias})"
        return f"nn.Linear({row.in_channels}, {layer.channels}{bias})"
    raise ExportError(f"PyTorch export has no module for {kind.value}", row.index, layer)


def _comment(row: RowPlan) -> str:
    return f"  # {row.index}: {row.layer.text} -> {row.shape}"


def _merge_lines(row: RowPlan, target: str, names: dict, helpers: set) -> list[str]:
    """The lines of ``forward`` that compute a merge into ``target``."""
    tensors = [names[source] for source in row.inputs]
    lines = []
    if row.layer.mode is not None:
        helper = "crop_to_smallest" if row.layer.mode.value == "crop" else "pad_to_largest"
        helpers.add(_CROP if row.layer.mode.value == "crop" else _PAD)
        lines.append(f"{target} = {helper}({', '.join(tensors)})")
        tensors = [f"{target}[{position}]" for position in range(len(tensors))]
    if row.layer.kind is Kind.CAT:
        lines.append(f"{target} = torch.cat([{', '.join(tensors)}], dim=1)")
    else:
        lines.append(f"{target} = " + (" + " if row.layer.kind is Kind.ADD else " * ").join(tensors))
    lines[-1] += _comment(row)
    return [f"        {line}" for line in lines]


def write(plan: Plan, class_name: str = "Net") -> tuple[str, list[str]]:
    """The module's text, and notes for the user (layers left for torch to size)."""
    lazy_notes: list = []
    helpers: set = set()
    if plan.is_chain:
        lines = ["model = nn.Sequential("]
        for row in plan.rows:
            lines.append(f"    {module_text(row, lazy_notes, helpers)},{_comment(row)}")
        lines.append(")")
        body = "\n".join(lines)
        model_line = ""
    else:
        names = variable_names(plan)
        init, forward = [], []
        for row in plan.rows:
            layer = row.layer
            target = names[row.index]
            if layer.kind.is_merge:
                forward += _merge_lines(row, target, names, helpers)
            elif layer.kind is Kind.UP and layer.like is not None:
                source, like = names[row.inputs[0]], names[row.inputs[-1]]  # up like reads (current, like)
                forward.append(f"        {target} = F.interpolate({source}, size={like}.shape[2:]){_comment(row)}")
            else:
                init.append(f"        self.l{row.index} = {module_text(row, lazy_notes, helpers)}{_comment(row)}")
                forward.append(f"        {target} = self.l{row.index}({names[row.inputs[-1]]}){_comment(row)}")
        forward.append(f"        return {names[plan.output_row]}")
        body = "\n".join([
            f"class {class_name}(nn.Module):",
            "    def __init__(self):",
            "        super().__init__()",
            *(init or ["        pass"]),
            "",
            f"    def forward(self, {names[0]}):",
            *forward,
        ])
        model_line = f"\n\n\nmodel = {class_name}()"
    notes = [f"row {index}: {module} will take its input size from the first forward: give -c (and -i) to write it"
             for index, module in lazy_notes]
    return _module(plan, body + model_line, helpers, "F." in body or _PAD in helpers), notes


def _module(plan: Plan, body: str, helpers: set, uses_functional: bool) -> str:
    channels = plan.input_channels if plan.input_channels is not None else 3
    size = plan.input_size or plan.sample_size
    shape = ", ".join(map(str, (1, channels, *size)))
    given = " × ".join(map(str, plan.input_size)) if plan.input_size else "any size that runs"
    header = [
        f'"""Generated by convshape: {docstring_text(plan.command)}',
        "",
        f"Input: N × {plan.input_channels if plan.input_channels is not None else 'C'} × {given}.",
        "Each row's comment is the shape convshape computed for it.",
        '"""',
        "",
        "import torch",
        "from torch import nn",
    ]
    if uses_functional:
        header.append("from torch.nn import functional as F")
    helper_text = "".join("\n\n\n" + helper.strip("\n") for helper in sorted(helpers))
    main = [
        "",
        "",
        'if __name__ == "__main__":',
        "    model.eval()",
        "    with torch.no_grad():",
        f"        print(tuple(model(torch.zeros({shape})).shape))",
    ]
    return "\n".join(header) + helper_text + "\n\n\n" + body + "\n" + "\n".join(main) + "\n"
