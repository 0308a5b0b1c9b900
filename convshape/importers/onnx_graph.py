"""An ONNX file to a stack: the whole graph, for ``--convention onnx``.

Needs the ``onnx`` package (``pip install 'convshape[onnx]'``) to read the file, and reads
no weights: only the shapes of the initializers and a few small constants (pads, scales,
clip bounds), so a file saved without its external data works as well.

Conv, ConvTranspose, the pools, Pad, Resize, Flatten, Gemm and MatMul become rows;
Add, Mul and Concat of two computed tensors become merges; elementwise operations with a
constant and the ones that keep the shape pass their input on.
"""

from __future__ import annotations

from ..arithmetic import ceil_div
from ..kinds import ONNX_OPS
from .onnx_blocks import SHAPE_OPS, BlockNode, find as find_blocks
from .result import Imported, ImportFailure, located

# Operations that keep the shape and that convshape counts no parameters for: passed through.
PASS_THROUGH = {"Identity", "Dropout", "Softmax", "LogSoftmax", "Erf", "Cast", "Elu", "Selu", "Softplus", "Softsign",
                "HardSigmoid", "Neg", "Abs", "Sqrt", "Exp", "Log", "Reciprocal", "Pow", "Mish", "Celu", "PRelu",
                "LRN", "Not"}
ACTIVATIONS = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "LeakyRelu": "lrelu", "HardSwish": "hardswish",
               "Gelu": "gelu"}
ELEMENTWISE = {"Add": "add", "Mul": "mul", "Sub": "add", "Div": "mul", "Sum": "add", "Max": "add", "Min": "add"}


def _load(data: bytes):
    try:
        import onnx
    except ImportError:
        raise ImportFailure("reading ONNX files needs the onnx package: pip install 'convshape[onnx]'") from None
    try:
        model = onnx.load_from_string(data)
    except Exception as exc:  # the protobuf reader's own error
        raise ImportFailure(f"not an ONNX model ({type(exc).__name__}: {str(exc)[:80]})") from None
    if not model.graph.node:
        raise ImportFailure("the ONNX model has no nodes")
    for options in ({"data_prop": True}, {}):  # data_prop follows the shapes torch computes (attention)
        try:
            return onnx, onnx.shape_inference.infer_shapes(model, **options)
        except Exception:  # shapes help (SAME_LOWER, Reshape); without them the reader still goes on
            continue
    return onnx, model


def _dims(value_type) -> list[int | None] | None:
    tensor = value_type.tensor_type
    if not tensor.HasField("shape"):
        return None
    return [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None for d in tensor.shape.dim]


def _axes_text(prefix: str, values: list[int]) -> str:
    return prefix + (str(values[0]) if len(set(values)) == 1 else "x".join(map(str, values)))


def _pads_text(pairs: list[tuple[int, int]]) -> str:
    parts = [str(b) if b == a else f"{b}:{a}" for b, a in pairs]
    if all(part == "0" for part in parts):
        return ""
    return "p" + (parts[0] if len(set(parts)) == 1 else "x".join(parts))


class _Graph:
    def __init__(self, onnx, model):
        self.onnx = onnx
        graph = model.graph
        self.initializers = {tensor.name: tensor for tensor in graph.initializer}
        self.constants = {}
        for node in graph.node:
            if node.op_type == "Constant" and node.attribute:
                self.constants[node.output[0]] = node.attribute[0]
        for node in graph.node:  # torch's export shares equal weights through Identity nodes
            if node.op_type == "Identity" and node.input[0] in self.initializers:
                self.initializers[node.output[0]] = self.initializers[node.input[0]]
        self.shapes = {}
        for info in [*graph.input, *graph.value_info, *graph.output]:
            dims = _dims(info.type)
            if dims is not None:
                self.shapes[info.name] = dims
        self.nodes = list(graph.node)
        self.graph_outputs = list(graph.output)
        inputs = [i for i in graph.input if i.name not in self.initializers]
        first = self.shapes.get(inputs[0].name) if inputs else None
        self.batch = first[0] if first else None
        self.producers = {output: node for node in graph.node for output in node.output}

    def integers(self, name: str, depth: int = 0) -> list[int | None] | None:
        """The values of a small integer tensor the file fixes: a constant, or the shape arithmetic
        torch writes for x.chunk and its channel shuffle (Shape, Gather, Add, Div, Mul, Concat) over
        the shapes the file fixes; None for a value that depends on a size the file leaves open."""
        found = self.values(name)
        if found is not None:
            return [int(v) for v in found]
        node = self.producers.get(name)
        if node is None or depth > 20:
            return None
        op = node.op_type
        if op == "Shape":
            shape = self.shapes.get(node.input[0])
            return None if shape is None else list(shape)
        inputs = [self.integers(t, depth + 1) for t in node.input if t]
        if any(v is None for v in inputs):
            return None
        if op in ("Cast", "Identity", "Squeeze", "Unsqueeze") and inputs:
            return inputs[0]
        if op == "Gather" and len(inputs) == 2:
            data, index = inputs
            if None in index or not all(-len(data) <= i < len(data) for i in index):
                return None
            return [data[i] for i in index]
        if op == "Concat":
            return [v for part in inputs for v in part]
        if op in ("Add", "Sub", "Mul", "Div") and len(inputs) == 2:
            a, b = inputs
            if len(a) != len(b) and 1 not in (len(a), len(b)):
                return None
            a, b = (a * len(b) if len(a) == 1 else a), (b * len(a) if len(b) == 1 else b)
            apply = {"Add": lambda x, y: x + y, "Sub": lambda x, y: x - y, "Mul": lambda x, y: x * y,
                     "Div": lambda x, y: int(x / y) if y else None}[op]  # ONNX integer Div truncates
            return [None if x is None or y is None else apply(x, y) for x, y in zip(a, b)]
        return None

    def attributes(self, node) -> dict:
        return {a.name: self.onnx.helper.get_attribute_value(a) for a in node.attribute}

    def is_constant(self, name: str) -> bool:
        return name in self.initializers or name in self.constants

    def values(self, name: str) -> list | None:
        """A small constant's values (pads, scales, bounds), or None when it is not in the file."""
        from onnx import numpy_helper

        try:
            if name in self.initializers:
                return numpy_helper.to_array(self.initializers[name]).flatten().tolist()
            if name in self.constants:
                value = self.onnx.helper.get_attribute_value(self.constants[name])
                if hasattr(value, "dims"):
                    return numpy_helper.to_array(value).flatten().tolist()
                return list(value) if isinstance(value, (list, tuple)) else [value]
        except Exception:  # external data not at hand
            return None
        return None

    def weight_dims(self, name: str) -> list[int] | None:
        if name in self.initializers:
            return list(self.initializers[name].dims)
        return self.shapes.get(name)


def _window(graph: _Graph, node, attrs: dict, dims: int, in_shape, kernel: list[int], notes: list) -> list[str]:
    """The stride, dilation and padding tokens of a conv or pool."""
    strides = list(attrs.get("strides") or [1] * dims)
    dilations = list(attrs.get("dilations") or [1] * dims)
    tokens = [_axes_text("k", kernel), _axes_text("s", strides)]
    if any(d != 1 for d in dilations):
        tokens.append(_axes_text("d", dilations))
    auto = attrs.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto == "SAME_UPPER":
        tokens.append("psame")
    elif auto == "VALID":
        tokens.append("pvalid")
    elif auto == "SAME_LOWER":
        spatial = (in_shape or [])[2:]
        if len(spatial) != dims or None in spatial:
            raise ImportFailure(f"node {node.name or node.op_type}: SAME_LOWER needs the input size, which the file"
                                " does not fix")
        pairs = []
        for size, k, s, d in zip(spatial, kernel, strides, dilations):
            total = max((ceil_div(size, s) - 1) * s + d * (k - 1) + 1 - size, 0)
            pairs.append((total - total // 2, total // 2))  # the odd pixel before
        tokens.append(_pads_text(pairs) or "p0")
        notes.append(f"{node.name or node.op_type}: SAME_LOWER written as its padding at the file's input size")
    else:
        pads = list(attrs.get("pads") or [0] * (2 * dims))
        text = _pads_text(list(zip(pads[:dims], pads[dims:])))
        if text:
            tokens.append(text)
    return tokens


class _Part:
    """One output of a Split (or a Slice) as a node of its own: its name and its one output."""

    def __init__(self, node, output: str):
        self.name, self.op_type, self.output, self.input = node.name, node.op_type, [output], node.input


def _channel_parts(graph: _Graph, node, source: str, outputs: list[str]) -> list[tuple[str | None, int]]:
    """Each output of a Slice or Split on the channels as the chunk it is (x.chunk(2, dim=1)'s
    parts, as torch exports them), or None for an output that is the whole input; with its channels."""
    shape = graph.shapes.get(source)
    where = node.name or node.op_type
    if shape is None or len(shape) < 2 or shape[1] is None:
        raise ImportFailure(f"node {where}: a {node.op_type} of a tensor whose channels the file does not fix")
    channels, rank = shape[1], len(shape)
    if node.op_type == "Split":
        attrs = graph.attributes(node)
        axis = attrs.get("axis", 0)
        sizes = graph.integers(node.input[1]) if len(node.input) > 1 and node.input[1] else attrs.get("split")
        if sizes is not None and None in sizes:
            raise ImportFailure(f"node {where}: a Split whose sizes the file does not fix has no convshape layer")
        if sizes is None:
            count = attrs.get("num_outputs", len(outputs))
            size = -(-channels // count)
            sizes = [min(size, channels - start) for start in range(0, channels, size)]
        starts = [sum(sizes[:i]) for i in range(len(sizes))]
        ranges = list(zip(starts, [s + n for s, n in zip(starts, sizes)]))
    else:
        starts, ends = graph.integers(node.input[1]), graph.integers(node.input[2])
        axes = graph.integers(node.input[3]) if len(node.input) > 3 and node.input[3] else list(range(len(starts or [])))
        steps = graph.integers(node.input[4]) if len(node.input) > 4 and node.input[4] else [1] * len(axes or [])
        if (None in (starts, ends, axes, steps) or None in starts + ends + axes + steps or len(axes) != 1
                or steps != [1]):
            raise ImportFailure(f"node {where}: a Slice whose bounds the file does not fix, or on several axes, has no"
                                " convshape layer")
        axis = axes[0]
        clamp = (lambda v: max(0, min(channels, v + channels if v < 0 else v)))
        ranges = [(clamp(starts[0]), clamp(ends[0]))]
    if axis % rank != 1:
        raise ImportFailure(f"node {where}: a {node.op_type} on axis {axis} has no convshape layer (on the channels,"
                            " axis 1, it is chunk)")
    rows = []
    for start, end in ranges:
        if (start, end) == (0, channels):
            rows.append((None, channels))
            continue
        part = _chunk_of(channels, start, end)
        if part is None:
            raise ImportFailure(f"node {where}: channels {start} to {end} of {channels} are no part of x.chunk(g):"
                                " convshape has no layer for them")
        rows.append((f"chunk g{part[0]} i{part[1]}", end - start))
    return rows


def _chunk_of(channels: int, start: int, end: int) -> tuple[int, int] | None:
    """(g, i) such that channels start..end are x.chunk(g, dim=1)[i], the fewest chunks first."""
    for chunks in range(2, channels + 1):
        size = -(-channels // chunks)
        if start % size == 0 and end == min(start + size, channels):
            return chunks, start // size
    return None


def _learn(graph: _Graph, tensor: str, like: list | None, channels: int | None) -> None:
    """The channels of a tensor that shape inference left open (after a Slice whose bounds it
    could not read), so that the shape arithmetic after it can be followed."""
    shape = list(graph.shapes.get(tensor) or like or [])
    if channels is not None and len(shape) > 1 and shape[1] is None:
        shape[1] = channels
        graph.shapes[tensor] = shape


def _target(graph: _Graph, node) -> list[int | None] | None:
    """A Reshape's output shape: from shape inference, or from the target the file computes."""
    shape = graph.shapes.get(node.output[0])
    if shape is not None and None not in shape:
        return shape
    values = graph.integers(node.input[1]) if len(node.input) > 1 else None
    return values if values is not None and len(values) == len(shape or values) else shape


def _groups(graph: _Graph, node, source: str) -> bool:
    """A Reshape of N×C×H×W to N×g×(C/g)×H×W: a channel shuffle's first step."""
    before, after = graph.shapes.get(source), _target(graph, node)  # shape inference may not know C here
    return (before is not None and after is not None and len(after) == len(before) + 1 and len(before) >= 3
            and isinstance(after[1], int) and after[1] > 0 and (after[2] is None or before[1] in (None, after[1] * after[2]))
            and all(None in (b, a) or a in (b, 0) for b, a in zip([before[0], *before[2:]], [after[0], *after[3:]])))


def _shuffle(graph: _Graph, node, source: str, output: str, grouped: dict):
    """Reshape to N×g×(C/g)×H×W, Transpose [0, 2, 1, ...], Reshape back: torch's channel shuffle."""
    where = node.name or node.op_type
    if source not in grouped:
        grouped[output] = (source, _target(graph, node)[1], False)
        return None
    start, groups, transposed = grouped[source]
    perm = list(graph.attributes(node).get("perm") or [])
    if node.op_type == "Transpose" and not transposed and perm[:3] == [0, 2, 1] and perm[3:] == list(range(3, len(perm))):
        grouped[output] = (start, groups, True)
        return None
    shape, before = _target(graph, node) if node.op_type == "Reshape" else None, graph.shapes.get(start)
    if node.op_type == "Reshape" and transposed and shape and before and len(shape) == len(before):
        channels = before[1] if before[1] is not None else shape[1] if shape[1] not in (None, -1, 0) else None
        if shape[1] not in (None, -1, 0, channels):
            raise ImportFailure(f"node {where}: a Reshape back to {shape[1]} channels from {channels} is no channel "
                                "shuffle")
        _learn(graph, output, before, channels)
        return (node, [start], [f"channelshuffle g{groups}" + (f" in{channels}" if channels else "")])
    raise ImportFailure(f"node {where}: channels regrouped by a Reshape, other than a channel shuffle (Reshape, "
                        "Transpose [0, 2, 1, ...], Reshape back), have no convshape layer")


def _name(kind: str, dims: int) -> str:
    return kind if dims == 2 else f"{kind}{dims}d"


def _rows(graph: _Graph, node, data_inputs: list[str], notes: list, folded: set,
          channels_last: bool = False) -> list[str] | None:
    """The rows of one node with one computed input; None where it passes its input on.
    ``channels_last``: the input was transposed to N×…×C (ConvNeXt's blocks), where a
    LayerNormalization normalises the channels and a MatMul is a 1×1 conv."""
    op, attrs = node.op_type, graph.attributes(node)
    source = data_inputs[0]
    in_shape = graph.shapes.get(source)
    where = node.name or op
    if channels_last:
        if op == "LayerNormalization" and attrs.get("axis", -1) in (-1, len(in_shape or [0, 0, 0, 0]) - 1):
            return ["ln"]
        if op == "MatMul":
            weight = graph.weight_dims(node.input[1])
            if weight is not None and len(weight) == 2:
                dims = len(in_shape) - 2 if in_shape else 2
                bias = "" if node.output[0] in folded else " nobias"
                return [f"{_name('conv', dims)} k1 c{weight[1]}{bias} in{weight[0]}"]
        if op in ("Conv", "ConvTranspose", "MaxPool", "AveragePool", "Pad", "Resize", "GlobalAveragePool",
                  "Flatten", "Gemm"):
            raise ImportFailure(f"node {where}: {op} on a channels-last tensor has no convshape layer")
    if op in ("Conv", "ConvTranspose"):
        weight = graph.weight_dims(node.input[1])
        if weight is None:
            raise ImportFailure(f"node {where}: the weight's shape is not in the file")
        kernel = list(attrs.get("kernel_shape") or weight[2:])
        dims, group = len(kernel), attrs.get("group", 1)
        tokens = [_name("conv" if op == "Conv" else "convt", dims)]
        tokens += _window(graph, node, attrs, dims, in_shape, kernel, notes)
        if op == "ConvTranspose":
            if attrs.get("output_shape"):
                raise ImportFailure(f"node {where}: a ConvTranspose sized by output_shape is not read; export it with"
                                    " pads and output_padding")
            if any(attrs.get("output_padding") or []):
                tokens.append(_axes_text("op", list(attrs["output_padding"])))
            out, takes = weight[1] * group, weight[0]
        else:
            out, takes = weight[0], weight[1] * group
        if group != 1:
            tokens.append(f"g{group}")
        tokens.append(f"c{out}")
        if len(node.input) < 3 or not node.input[2]:
            tokens.append("nobias")
        tokens.append(f"in{takes}")  # the weight fixes it: another input size cannot change it (declared_channels)
        return [" ".join(tokens)]
    if op in ("MaxPool", "AveragePool"):
        kernel = list(attrs["kernel_shape"])
        tokens = ["maxpool" if op == "MaxPool" else "avgpool"]
        tokens = [_name(tokens[0], len(kernel))] + _window(graph, node, attrs, len(kernel), in_shape, kernel, notes)
        if attrs.get("ceil_mode"):
            tokens.append("ceil")
        return [" ".join(tokens)]
    if op in ("GlobalAveragePool", "GlobalMaxPool"):
        return ["gap"]
    if op == "ReduceMean":  # x.mean([2, 3]) as torch exports it: a global average pool
        axes = attrs.get("axes") or (graph.values(node.input[1]) if len(node.input) > 1 and node.input[1] else None)
        rank = len(in_shape) if in_shape else 0
        if axes and rank > 2 and sorted(int(a) % rank for a in axes) == list(range(2, rank)):
            return ["gap"] if attrs.get("keepdims", 1) else ["gap", "flatten"]
        raise ImportFailure(f"node {where}: a ReduceMean over axes {list(axes) if axes else 'not in the file'} has no"
                            " convshape layer (over every spatial axis it is gap)")
    if op == "Flatten":
        if attrs.get("axis", 1) != 1:
            raise ImportFailure(f"node {where}: Flatten on axis {attrs['axis']}, not 1")
        return ["flatten"]
    if op == "Reshape":
        out = graph.shapes.get(node.output[0])
        if out is not None and len(out) == 2:
            return ["flatten"]
        if out is not None and in_shape is not None and out == in_shape:
            return None
        raise ImportFailure(f"node {where}: a Reshape to {out or 'a shape the file does not fix'} has no convshape"
                            " layer")
    if op == "Gemm":
        weight = graph.weight_dims(node.input[1])
        if weight is None:
            raise ImportFailure(f"node {where}: Gemm's weight shape is not in the file")
        out, takes = (weight[0], weight[1]) if attrs.get("transB") else (weight[1], weight[0])
        bias = "" if len(node.input) >= 3 and node.input[2] else " nobias"
        return [f"linear c{out}{bias} in{takes}"]
    if op == "MatMul":
        weight = graph.weight_dims(node.input[1])
        if weight is None or len(weight) != 2:
            raise ImportFailure(f"node {where}: a MatMul with no constant 2-D weight has no convshape layer")
        return [f"linear c{weight[1]}{'' if node.output[0] in folded else ' nobias'} in{weight[0]}"]
    if op in ACTIVATIONS:
        return [ACTIVATIONS[op]]
    if op == "Clip":
        low = graph.values(node.input[1]) if len(node.input) > 1 and node.input[1] else [attrs.get("min")]
        high = graph.values(node.input[2]) if len(node.input) > 2 and node.input[2] else [attrs.get("max")]
        if low and high and low[0] == 0 and high[0] == 6:
            return ["relu6"]
        return None
    if op == "BatchNormalization":
        return ["bn"]
    if op == "InstanceNormalization":
        return ["in"]
    if op == "GroupNormalization":
        return [f"gn g{attrs['num_groups']}"]
    if op == "LayerNormalization":
        if in_shape is not None and len(in_shape) == 2:
            return ["ln"]
        raise ImportFailure(f"node {where}: LayerNormalization over the last axis of a map has no convshape layer")
    if op == "Pad":
        pads = graph.values(node.input[1]) if len(node.input) > 1 and node.input[1] else list(attrs.get("pads") or [])
        if not pads:
            raise ImportFailure(f"node {where}: the pads are not constants in the file")
        rank = len(pads) // 2
        if any(pads[:2]) or any(pads[rank:rank + 2]):
            raise ImportFailure(f"node {where}: a Pad of the batch or channel axis has no convshape layer")
        pairs = list(zip(pads[2:rank], pads[rank + 2:]))
        return [f"pad {_pads_text(pairs) or 'p0'}"]
    if op in ("Resize", "Upsample"):
        names = list(node.input)
        scales = graph.values(names[2]) if op == "Resize" and len(names) > 2 and names[2] else (
            graph.values(names[1]) if op == "Upsample" and len(names) > 1 else attrs.get("scales"))
        sizes = graph.values(names[3]) if op == "Resize" and len(names) > 3 and names[3] else None
        if scales:
            spatial = [_number(v) for v in scales[2:]]
            return [_axes_text("up s", spatial)]
        if sizes:
            return [_axes_text("up o", [int(v) for v in sizes[2:]])]
        out = graph.shapes.get(node.output[0])
        if out and None not in out[2:]:
            notes.append(f"{where}: a Resize to a computed size, written as the size the file gives")
            return [_axes_text("up o", out[2:])]
        raise ImportFailure(f"node {where}: the Resize's scales or sizes are not constants in the file")
    if op in PASS_THROUGH:
        return None
    if op in ONNX_OPS:  # a kind's module reads it
        text = ONNX_OPS[op].from_onnx(op, attrs)
        if text is None:
            raise ImportFailure(f"node {where}: {op} with {attrs} has no convshape layer")
        return [text]
    raise ImportFailure(f"cannot go on past node {where} ({op}): convshape has no layer for it")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _to_sequence(graph: _Graph, node, source: str) -> bool:
    """A Reshape (or Flatten on axis 2) of N×C×H×W to N×C×(H·W): ViT's patches, before the transpose."""
    before, after = graph.shapes.get(source), graph.shapes.get(node.output[0])
    if node.op_type == "Flatten" and graph.attributes(node).get("axis", 1) != 2:
        return False
    return (before is not None and after is not None and len(before) == 4 and len(after) == 3
            and after[1] == before[1] is not None)


def _enter(block, source: str, last: set, sequences: set) -> None:
    """A block reads the layout it is made for: attention a sequence, Swin's a channels-last map."""
    wanted = {"tokens": sequences, "last": last}.get(block.layout)
    if source not in wanted if wanted is not None else (source in sequences or source in last):  # a map: neither
        layout = "a sequence of tokens" if source in sequences else "a channels-last map" if source in last else "a map"
        raise ImportFailure(f"node {block.scope}: a {block.what} reading {layout} has no convshape row")


def _token_row(graph: _Graph, node, raw: list[str], computed: list[str]):
    """A node on a sequence of tokens: (its rows, or None where it passes its input on; whether
    its output is a sequence), or None for a node the general rules read (merges)."""
    op, where = node.op_type, node.name or node.op_type
    attrs = graph.attributes(node)
    constant = next((t for t in node.input if graph.is_constant(t)), None)
    if op == "Concat" and len(computed) == 1 and attrs.get("axis") in (1, -2):
        other = next(t for t in node.input if t not in raw)
        source = graph.producers.get(other)
        if source is not None and source.op_type == "Expand":  # class_token.expand(n, -1, -1)
            other = source.input[0]
        shape = graph.weight_dims(other)
        if not shape or len(shape) != 3 or shape[1] != 1 or node.input[0] not in (other, *(source.output if source else [])):
            raise ImportFailure(f"node {where}: a Concat onto a sequence, other than one class token before it, has "
                                "no convshape layer")
        return ["cls"], True
    if op == "Add" and len(computed) == 1 and constant is not None:
        dims = graph.weight_dims(constant) or []
        if len(dims) == 3 and dims[1] > 1:
            return [f"posembed n{dims[1]}"], True
        return None, True  # a bias
    if op == "Gather" and attrs.get("axis", 0) == 1:
        index = graph.values(node.input[1]) if node.input[1] not in raw else None
        if index is None or len(index) != 1 or graph.weight_dims(node.input[1]) not in ([], None):
            raise ImportFailure(f"node {where}: a Gather of tokens other than one (x[:, 0]) has no convshape layer")
        return [f"token i{int(index[0])}"], False
    if op == "LayerNormalization" and attrs.get("axis", -1) in (-1, 2):
        return ["ln"], True
    if op in ACTIVATIONS:
        return [ACTIVATIONS[op]], True
    if op in PASS_THROUGH:
        return None, True
    if op in ("MatMul", "Gemm") or op in ELEMENTWISE:
        return None  # a linear over the width, a residual, a scale: as on a map
    raise ImportFailure(f"cannot go on past node {where} ({op}): convshape has no layer for it on a sequence of tokens")


def _shifts(row: str) -> bool:
    """Whether a window-attention row the reader wrote shifts its windows, read back by the grammar."""
    from ..grammar import parse_stack

    return any(parse_stack(row).layers[0].shift or ())


def _unshifted(stack: str, size: tuple[int, ...], channels: int | None, scopes: list[str]) -> list[str]:
    """torchvision's Swin drops a block's shift where one window covers the map: the file, traced
    at its size, has no roll there, and the row has none; at a larger input the model would shift."""
    from ..api import calc
    from ..kinds import Kind

    result = calc(stack, size, channels, "onnx")
    rows = [row for row in result.rows if row.layer.kind is Kind.WATTN and not any(row.layer.shift or ())]
    covered = [scope for scope, row in zip(scopes, rows)
               if row.in_size and all(s <= k for s, k in zip(row.in_size, row.layer.kernel))]
    if not covered:
        return []
    return [f"{located(covered)}: a window covers the whole map at the file's size, so the export has no shift "
            "there (torchvision drops it); written without one, these rows would not shift at a larger input as the "
            "model may"]


def read_onnx(data: bytes, name: str = "") -> Imported:
    """The stack of an ONNX model."""
    onnx, model = _load(data)
    graph = _Graph(onnx, model)
    inputs = [i for i in model.graph.input if i.name not in graph.initializers]
    if len(inputs) != 1:
        raise ImportFailure(f"the model has {len(inputs)} inputs: convshape reads models with one")
    entry = inputs[0].name
    shape = graph.shapes.get(entry) or []
    if len(shape) < 3:
        raise ImportFailure(f"the input {entry!r} has shape {shape}: convshape reads N×C×spatial inputs")
    channels, spatial = shape[1], shape[2:]
    input_size = tuple(spatial) if None not in spatial else None
    data_tensors = {entry}
    notes: list[str] = []
    alias: dict[str, str] = {}
    kept = []  # (node, computed inputs)
    readers: dict[str, int] = {}
    for node in graph.nodes:
        for tensor in node.input:
            readers[tensor] = readers.get(tensor, 0) + 1
    # A MatMul whose only reader adds a constant bias: one linear layer with its bias.
    matmuls = {node.output[0] for node in graph.nodes if node.op_type == "MatMul"}
    folded = set()
    for node in graph.nodes:
        if node.op_type == "Add" and sum(1 for t in node.input if graph.is_constant(t)) == 1:
            other = next(t for t in node.input if not graph.is_constant(t))
            if other in matmuls and readers.get(other) == 1:
                folded.add(other)
    passed = []
    last = set()  # tensors in channels-last layout (between ConvNeXt's Transposes, in Swin)
    sequences = set()  # tensors that are sequences of tokens: N×L×C
    flat: set[str] = set()  # N×C×(H·W): a map about to be transposed to tokens
    grouped: dict[str, tuple[str, int, bool]] = {}  # a channel shuffle under way: (its input, groups, transposed)
    blocks = find_blocks(graph, entry) if any(n.op_type == "Softmax" for n in graph.nodes) else {}
    for index, node in enumerate(graph.nodes):
        if index in blocks:
            block = blocks[index]
            if block.exit in node.output:
                _enter(block, alias.get(block.entry, block.entry), last, sequences)
                data_tensors.add(block.exit)
                (last if block.layout == "last" else sequences if block.layout == "tokens" else set()).add(block.exit)
                kept.append((BlockNode(block), [alias.get(block.entry, block.entry)], list(block.rows)))
            continue
        raw = [t for t in node.input if t in data_tensors]
        computed = [alias.get(t, t) for t in raw]
        if not computed or node.op_type in SHAPE_OPS:
            continue  # shape arithmetic, constants
        outputs = [t for t in node.output if t]
        if not outputs:
            continue
        data_tensors.add(outputs[0])
        if any(t in sequences for t in computed):
            row = _token_row(graph, node, raw, computed)
            if row is None:
                sequences.add(outputs[0])
            else:
                if row[0]:
                    kept.append((node, computed, row[0]))
                else:
                    alias[outputs[0]] = computed[0]
                    passed.extend([] if computed[0] in folded else [node.op_type])
                if row[1] and row[0]:
                    sequences.add(outputs[0])
                continue
        if node.op_type in ("Reshape", "Flatten") and _to_sequence(graph, node, raw[0]):
            alias[outputs[0]] = computed[0]
            flat.add(outputs[0])
            passed.append(node.op_type)
            continue
        if node.op_type == "Transpose" and raw[0] in flat:
            if list(graph.attributes(node).get("perm") or []) != [0, 2, 1]:
                raise ImportFailure(f"cannot go on past node {node.name or 'Transpose'}: a flattened map transposed "
                                    "other than to N×(H·W)×C has no convshape layer")
            kept.append((node, computed, ["tokens"]))
            sequences.add(outputs[0])
            continue
        if computed[0] in grouped or node.op_type == "Reshape" and _groups(graph, node, raw[0]):
            kept_row = _shuffle(graph, node, computed[0], outputs[0], grouped)
            if kept_row is not None:
                kept.append(kept_row)
            continue
        if node.op_type in ("Slice", "Split"):
            for output, (row, part) in zip(outputs, _channel_parts(graph, node, raw[0], outputs)):
                data_tensors.add(output)
                _learn(graph, output, graph.shapes.get(raw[0]), part)
                if row is None:
                    alias[output] = computed[0]
                    passed.append(node.op_type)
                else:
                    kept.append((_Part(node, output), computed, [row]))
            continue
        if node.op_type == "Transpose":
            perm = list(graph.attributes(node).get("perm") or [])
            rank = len(perm)
            to_last, to_first = [0, *range(2, rank), 1], [0, rank - 1, *range(1, rank - 1)]
            if rank >= 3 and (perm == to_last and raw[0] not in last or perm == to_first and raw[0] in last):
                alias[outputs[0]] = computed[0]
                if perm == to_last:
                    last.add(outputs[0])
                passed.append("Transpose")
                continue
            raise ImportFailure(f"cannot go on past node {node.name or 'Transpose'} (Transpose {perm}): convshape"
                                " reads a move of the channels to the end and back, not other layouts")
        if any(t in last for t in raw):  # a residual of two channels-last tensors (Swin's) is one too
            if (node.op_type in ELEMENTWISE or node.op_type == "Concat") and not all(t in last for t in raw):
                # a merge of the two layouts: their sizes agree only where H, W and C happen to
                raise ImportFailure(f"node {node.name or node.op_type}: {node.op_type} of a channels-last tensor and a "
                                    "channels-first one has no convshape row")
            last.add(outputs[0])
        if node.op_type == "Concat" and len(computed) == 1:  # a list of one tensor (DenseNet's first layer)
            alias[outputs[0]] = computed[0]
            continue
        if node.op_type in ELEMENTWISE and len(computed) == 1:  # a bias, a scale: or ConvNeXt's layer scale
            constant = next((t for t in node.input if graph.is_constant(t)), None)
            dims = graph.weight_dims(constant) if constant else None
            if node.op_type == "Mul" and dims and len(dims) >= 2 and dims[0] > 1 and all(d == 1 for d in dims[1:]):
                kept.append((node, computed, ["layerscale"]))
                continue
            alias[outputs[0]] = computed[0]
            if computed[0] not in folded:  # a MatMul's bias is part of its linear layer
                passed.append(node.op_type)
            continue
        if node.op_type in ELEMENTWISE or node.op_type == "Concat":
            if node.op_type == "Concat":
                parts = [(graph.shapes.get(t) or [None, None])[1] for t in raw]
                _learn(graph, outputs[0], graph.shapes.get(raw[0]), None if None in parts else sum(parts))
            if node.op_type == "Concat" and node.attribute and graph.attributes(node).get("axis") not in (1, -3):
                raise ImportFailure(f"node {node.name}: Concat on axis {graph.attributes(node).get('axis')}, not 1")
            if node.op_type in ("Sub", "Div", "Max", "Min"):
                notes.append(f"{node.name or node.op_type}: {node.op_type} of two tensors read as"
                             f" {ELEMENTWISE[node.op_type]} (the same shapes)")
            kept.append((node, computed, None))
            continue
        rows = _rows(graph, node, computed, notes, folded, raw[0] in last)
        if rows is None:
            alias[outputs[0]] = computed[0]
            passed.append(node.op_type)
        else:
            kept.append((node, computed, rows))
    if not kept:
        raise ImportFailure("the model has no node convshape has a layer for")
    for index, (node, computed, rows) in enumerate(kept):  # a merge reads on from the tensor before it
        before = kept[index - 1][0].output[0] if index else entry
        if rows is None and node.op_type != "Concat" and before in computed:
            kept[index] = (node, [t for t in computed if t != before] + [before], rows)
    # Names for the tensors something other than the next kept node reads.
    position = {node.output[0]: index for index, (node, _, _) in enumerate(kept)}
    position[entry] = -1
    reads: dict[str, list[int]] = {}
    for index, (node, computed, rows) in enumerate(kept):
        for tensor in computed:
            reads.setdefault(tensor, []).append(index)
    named = {tensor for tensor, at in reads.items()
             if len(at) > 1 or at[0] != position.get(tensor, -9) + 1 or kept[at[0]][1][-1] != tensor}
    names: dict[str, str] = {}

    def name_of(tensor: str) -> str:
        if tensor not in names:
            names[tensor] = f"v{len(names) + 1}"
        return names[tensor]

    lines = [f"# imported from ONNX: {model.graph.name or name}"]
    if entry in named:
        lines.append(f"@{name_of(entry)}")
    current = entry
    for node, computed, rows in kept:
        where = node.name or node.op_type
        if rows is None:  # a merge: the named inputs, then the current one
            if computed[-1] != current:
                lines.append(f"from {name_of(computed[-1])}")
            merge = "cat" if node.op_type == "Concat" else ELEMENTWISE[node.op_type]
            rows = [" ".join([merge] + [name_of(t) for t in computed[:-1]])]
        elif computed[0] != current:
            lines.append(f"from {name_of(computed[0])}")
        for row in rows:
            lines.append(row if row.startswith("@") else f"{row:<36}# {where}: {node.op_type}")
        current = node.output[0]
        if current in named:
            lines.append(f"@{name_of(current)}")
    stack = "\n".join(lines) + "\n"
    shifts = {node.name: _shifts(rows[0]) for node, _, rows in kept if node.op_type == "window attention"}
    unshifted = [name for name, shifted in shifts.items() if not shifted]
    if unshifted and input_size is not None:
        notes.extend(_unshifted(stack, input_size, channels, unshifted))
    elif unshifted and any(shifts.values()):
        notes.append(f"{located(unshifted)}: no shift in the file. torchvision drops a block's shift where one window "
                     "covers the map at the size it was exported at, which this file leaves open: a row among them "
                     "may lack the shift the model has at larger inputs")
    if passed:
        counts = {op: passed.count(op) for op in dict.fromkeys(passed)}
        notes.append("passed through, as they keep the shape: "
                     + ", ".join(f"{op} ×{n}" if n > 1 else op for op, n in counts.items()))
    return Imported(stack, "ONNX", input_size, channels, (), tuple(notes), len(spatial), "onnx")
