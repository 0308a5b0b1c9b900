"""A plan as Keras 3 functional-API code, channels last, under the tf convention's semantics.

Each row is one layer call (a padding Keras' layers cannot take becomes a ZeroPadding or
Cropping layer before or after it). What Keras cannot express at all (ceil mode, adaptive
pooling, a fractional upsampling factor, ...) stops the export with the row and the
construct named.
"""

from __future__ import annotations

from ..layers import Kind, PaddingRule
from . import ExportError, Plan, RowPlan, docstring_text, full_padding, variable_names

_ACTIVATIONS = {Kind.RELU: "relu", Kind.RELU6: "relu6", Kind.GELU: "gelu", Kind.SILU: "silu", Kind.SIGMOID: "sigmoid",
                Kind.TANH: "tanh", Kind.HARDSWISH: "hard_swish"}


_PLAIN = {Kind.FLATTEN: "layers.Flatten()", Kind.BN: "layers.BatchNormalization()",
          Kind.LN: "layers.LayerNormalization()", Kind.LRELU: "layers.LeakyReLU(negative_slope=0.01)",  # torch's slope
          Kind.IN: "layers.GroupNormalization(groups=-1, center=False, scale=False)",
          Kind.DROPOUT: "layers.Dropout(0.5)"}


def _pairs_arg(pairs, dims: int) -> str:
    """Keras' per-axis (before, after) padding or cropping argument."""
    if dims == 1:
        return f"({pairs[0][0]}, {pairs[0][1]})"
    return "(" + ", ".join(f"({before}, {after})" for before, after in pairs) + ")"


def _tuple(values) -> str:
    return str(values[0]) if len(set(values)) == 1 else "(" + ", ".join(map(str, values)) + ")"


def _refuse(row: RowPlan, what: str):
    raise ExportError(f"Keras has no equivalent of {what}", row.index, row.layer)


def _window(row: RowPlan):
    """The padding word for a Keras window layer, and the pairs to zero-pad before it."""
    layer = row.layer
    if layer.padding_rule is PaddingRule.SAME:
        return "same", None
    if layer.padding_rule is PaddingRule.FULL:
        return "valid", tuple((p, p) for p in full_padding(layer))
    pairs = layer.padding
    if layer.padding_rule is PaddingRule.VALID or not pairs or all(p == (0, 0) for p in pairs):
        return "valid", None
    return "valid", pairs


def _calls(row: RowPlan) -> list[str]:
    """The layer constructors row ``row`` applies, in order."""
    layer = row.layer
    kind, dims = layer.kind, layer.dims
    nd = f"{dims}D"
    if kind in (Kind.CONV, Kind.CONVT):
        padding, apart = _window(row)
        transposed = kind is Kind.CONVT
        groups = row.in_channels if layer.depthwise else layer.groups
        if groups is None:
            raise ExportError("dw needs the input channels: give -c", row.index, layer)
        if transposed and groups != 1:
            _refuse(row, "a grouped transposed convolution (Conv2DTranspose takes no groups)")
        out = layer.channels if layer.channels is not None else row.out_channels
        args = [str(out), _tuple(layer.kernel)]
        if any(s != 1 for s in layer.stride):
            args.append(f"strides={_tuple(layer.stride)}")
        if padding != "valid":
            args.append(f"padding='{padding}'")
        if transposed and layer.output_padding is not None:
            args.append(f"output_padding={_tuple(layer.output_padding)}")
        if layer.dilation and any(d != 1 for d in layer.dilation):
            args.append(f"dilation_rate={_tuple(layer.dilation)}")
        if groups != 1:
            args.append(f"groups={groups}")
        if not layer.bias:
            args.append("use_bias=False")
        call = f"layers.Conv{nd}{'Transpose' if transposed else ''}({', '.join(args)})"
        if apart is None:
            return [call]
        if transposed:  # padding crops a transposed conv's output
            return [call, f"layers.Cropping{nd}({_pairs_arg(apart, dims)})"]
        return [f"layers.ZeroPadding{nd}({_pairs_arg(apart, dims)})", call]
    if kind.is_pool:
        if layer.ceil:
            _refuse(row, "ceil mode (Keras pools round down, or pad with padding='same')")
        if layer.dilation and any(d != 1 for d in layer.dilation):
            _refuse(row, "a dilated pool")
        padding, apart = _window(row)
        name = "MaxPooling" if kind is Kind.MAXPOOL else "AveragePooling"
        args = [_tuple(layer.kernel)]
        if layer.stride != layer.kernel:
            args.append(f"strides={_tuple(layer.stride)}")
        if padding != "valid":
            args.append(f"padding='{padding}'")
        call = f"layers.{name}{nd}({', '.join(args)})"
        return [call] if apart is None else [f"layers.ZeroPadding{nd}({_pairs_arg(apart, dims)})", call]
    if kind is Kind.UP:
        if layer.like is not None:
            _refuse(row, "`up like` (a resize to another tensor's size)")
        if layer.out is not None:
            if dims != 2:
                _refuse(row, f"a resize to a size on {dims} axes (Resizing is for images)")
            return [f"layers.Resizing({layer.out[0]}, {layer.out[1]}, interpolation='nearest')"]
        if any(s.denominator != 1 for s in layer.scale):
            _refuse(row, f"a fractional upsampling factor ({layer.text})")
        return [f"layers.UpSampling{nd}({_tuple(tuple(int(s) for s in layer.scale))})"]
    if kind is Kind.PAD:
        pairs = layer.padding
        if all(b >= 0 and a >= 0 for b, a in pairs):
            return [f"layers.ZeroPadding{nd}({_pairs_arg(pairs, dims)})"]
        if all(b <= 0 and a <= 0 for b, a in pairs):
            return [f"layers.Cropping{nd}({_pairs_arg(tuple((-b, -a) for b, a in pairs), dims)})"]
        _refuse(row, "a padding that pads one side and crops another")
    if kind is Kind.GAP:
        return [f"layers.GlobalAveragePooling{nd}({'keepdims=True' if layer.keep else ''})"]
    if kind.is_adaptive:
        _refuse(row, "adaptive pooling")
    if kind in _PLAIN:
        return [_PLAIN[kind]]
    if kind is Kind.LINEAR:
        return [f"layers.Dense({layer.channels}{'' if layer.bias else ', use_bias=False'})"]
    if kind is Kind.GN:
        return [f"layers.GroupNormalization(groups={layer.groups})"]
    if kind is Kind.LAYERSCALE:
        _refuse(row, "ConvNeXt's layer scale (no built-in layer)")
    if kind in _ACTIVATIONS:
        return [f"layers.Activation('{_ACTIVATIONS[kind]}')"]
    raise ExportError(f"Keras export has no layer for {kind.value}", row.index, layer)


def _merge_lines(row: RowPlan, target: str, names: dict) -> list[str]:
    tensors = [names[source] for source in row.inputs]
    lines = []
    layer = row.layer
    if layer.mode is not None:
        if any(size is None for size in row.in_sizes) or not row.in_sizes:
            raise ExportError(f"{layer.mode.value} needs the input size to write Keras' cropping: give -i",
                              row.index, layer)
        from ..merge import offsets

        pick = min if layer.mode.value == "crop" else max
        target_size = [pick(size[axis] for size in row.in_sizes) for axis in range(layer.dims)]
        adjusted = []
        for position, (tensor, size) in enumerate(zip(tensors, row.in_sizes)):
            if tuple(size) == tuple(target_size):
                adjusted.append(tensor)
                continue
            pairs = [offsets(layer.mode, have, want) for have, want in zip(size, target_size)]
            name = "Cropping" if layer.mode.value == "crop" else "ZeroPadding"
            lines.append(f"{target}_{position} = layers.{name}{layer.dims}D({_pairs_arg(pairs, layer.dims)})({tensor})")
            adjusted.append(f"{target}_{position}")
        tensors = adjusted
    merge = {Kind.ADD: "layers.Add()", Kind.MUL: "layers.Multiply()", Kind.CAT: "layers.Concatenate()"}[layer.kind]
    lines.append(f"{target} = {merge}([{', '.join(tensors)}])")
    return lines


def write(plan: Plan) -> tuple[str, list[str]]:
    """The module's text, and notes for the user."""
    if plan.input_channels is None:
        raise ExportError("Keras needs the input channels to build the model: give -c")
    names = variable_names(plan)
    names[0] = "inputs"
    lines = []
    for row in plan.rows:
        comment = f"  # {row.index}: {row.layer.text} -> {row.shape}"
        target = names[row.index]
        if row.layer.kind.is_merge:
            merge_lines = _merge_lines(row, target, names)
            lines += merge_lines[:-1] + [merge_lines[-1] + comment]
            continue
        source = names[row.inputs[-1]]
        calls = _calls(row)
        expression = source
        for call in calls:
            expression = f"{call}({expression})"
        lines.append(f"{target} = {expression}{comment}")
    size = plan.input_size or (None,) * plan.dims
    shape = ", ".join(map(str, (*size, plan.input_channels)))
    given = " × ".join(map(str, plan.input_size)) if plan.input_size else "any size that runs"
    sample = ", ".join(map(str, (1, *(plan.input_size or plan.sample_size), plan.input_channels)))
    text = "\n".join([
        f'"""Generated by convshape: {docstring_text(plan.command)}',
        "",
        f"Input: N × {given} × {plan.input_channels} (channels last).",
        "Each row's comment is the shape convshape computed for it, channels first.",
        '"""',
        "",
        "import keras",
        "from keras import layers",
        "",
        f"inputs = keras.Input(shape=({shape}))",
        *lines,
        f"model = keras.Model(inputs, {names[plan.output_row]})",
        "",
        "",
        'if __name__ == "__main__":',
        "    import numpy as np",
        "",
        f"    print(tuple(model(np.zeros(({sample}), dtype='float32')).shape))",
        "",
    ])
    return text, []
