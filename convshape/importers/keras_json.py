"""A Keras model's ``to_json()`` to a stack: the whole functional graph (or a Sequential),
channels last, meant for ``--convention tf``.

Each layer becomes one or more rows; a layer whose output is read elsewhere than by the
next row gets a name (the Keras layer's own, where the grammar can take it), so residual
adds, concats and gates come through as merges.
"""

from __future__ import annotations

import json
import re

from ..framework import ACTIVATIONS
from .result import Imported, ImportFailure, located

# Layers that keep the shape and that convshape counts no parameters for: skipped, named in a note.
SKIPPED = {"Rescaling", "Softmax", "ActivityRegularization", "GaussianNoise", "GaussianDropout",
           "Identity", "Lambda", "Permute"}
_NAME_OK = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _axes(value, dims: int) -> list:
    if isinstance(value, int):
        return [value] * dims
    return list(value)


def _per_axis(values) -> str:
    values = [str(v) for v in values]
    return values[0] if len(set(values)) == 1 else "x".join(values)


def _history(argument) -> list[tuple[str, tuple | None]]:
    """The (layer name, shape) of each tensor an inbound node's arguments name (Keras 3 and 2)."""
    found = []
    if isinstance(argument, dict):
        if argument.get("class_name") == "__keras_tensor__":
            config = argument["config"]
            found.append((config["keras_history"][0], tuple(config.get("shape") or ()) or None))
        return found
    if isinstance(argument, list):
        if len(argument) >= 3 and isinstance(argument[0], str) and isinstance(argument[1], int):
            return [(argument[0], None)]  # Keras 2: [name, node, tensor, kwargs]
        for item in argument:
            found += _history(item)
    return found


def _inputs(layer: dict) -> list[tuple[str, tuple | None]]:
    nodes = layer.get("inbound_nodes") or []
    if len(nodes) > 1:
        raise ImportFailure(f"layer {layer.get('name')!r} is called {len(nodes)} times: convshape reads a layer"
                            " used once")
    if not nodes:
        return []
    node = nodes[0]
    return _history(node.get("args", node) if isinstance(node, dict) else node)


class _Reader:
    def __init__(self, layers: list[dict]):
        self.layers = layers
        self.lines: list[str] = []
        self.rows = 0
        self.notes: list[str] = []
        self.skipped: dict[str, list[str]] = {}
        self.alias: dict[str, str] = {}  # a skipped layer's name -> the tensor it passes on
        self.names: dict[str, str] = {}  # Keras layer -> the stack name bound to its output
        self.current: str | None = None  # the Keras layer whose output is the current tensor
        self.used: set[str] = set()
        self.sequences: set[str] = set()  # Keras layers whose output is a sequence of tokens (N, C)
        self.in_sequence = False  # the layer being read reads one

    def source(self, name: str) -> str:
        while name in self.alias:
            name = self.alias[name]
        return name

    def name_of(self, layer: str) -> str:
        from ..grammar import KEYWORDS, parse_kind

        if layer in self.names:
            return self.names[layer]
        name = re.sub(r"\W", "_", layer)
        if not _NAME_OK.fullmatch(name) or parse_kind(name) is not None or name in KEYWORDS:
            name = f"n_{name}"
        while name in self.used:
            name += "_"
        self.used.add(name)
        self.names[layer] = name
        return name

    def row(self, text: str, comment: str) -> None:
        self.rows += 1
        self.lines.append(f"{text:<36}# {comment}")


_MERGES = ("Add", "Multiply", "Concatenate", "Subtract", "Average", "Maximum", "Minimum")
# Operations keras.ops writes for Python arithmetic on tensors (x + 3.0, x * (1 / 6)): with a
# number, they keep the shape.
_ARITHMETIC = ("Add", "Multiply", "Subtract", "Divide", "TrueDivide")
_INLINED = "__inlined__"  # a nested model's input and output, passed through to what they stand for
# Layers of Keras' applications that are merges by another name: InceptionResNetV2's x + scale·y.
_SCALED_ADD = ("CustomScaleLayer",)


def _chain(layers: list[dict]) -> list[dict]:
    """A Sequential's layers, each reading the one before (they name no tensors)."""
    previous = None
    chained = []
    for layer in layers:
        layer = {**layer, "name": layer.get("name") or layer["config"]["name"]}
        layer["inbound_nodes"] = [] if previous is None and layer["class_name"] == "InputLayer" else (
            [[[previous, 0, 0, {}]]] if previous else [])
        chained.append(layer)
        previous = layer["name"]
    return chained


def _passing(name: str, source: str) -> dict:
    return {"class_name": _INLINED, "name": name, "config": {"name": name}, "inbound_nodes": [[[source, 0, 0, {}]]]}


def _inline(layers: list[dict], depth: int = 0) -> list[dict]:
    """The layers with every model nested in the model written out in its place (ConvNeXt's
    stem): the nested model's input reads what the outer model gives it, and its name stands
    for its output."""
    if depth > 20:
        raise ImportFailure("models nested more than 20 deep")
    out = []
    for layer in layers:
        if layer["class_name"] not in ("Functional", "Sequential", "Model"):
            out.append(layer)
            continue
        name, config = layer["name"], layer.get("config", {})
        inner = config.get("layers")
        if not isinstance(inner, list):
            raise ImportFailure(f"layer {name!r} is a model whose layers the file does not list")
        sequential = layer["class_name"] == "Sequential"
        if sequential:
            inner = _chain(inner)
            if inner and inner[0]["class_name"] != "InputLayer":  # a Sequential without an InputLayer
                inner[0]["inbound_nodes"] = [[[f"{name}__input", 0, 0, {}]]]
                inner.insert(0, {"class_name": "InputLayer", "name": f"{name}__input", "config": {}})
        inner = _inline(inner, depth + 1)
        sources = _inputs(layer)
        entries = [item for item in inner if item["class_name"] == "InputLayer"]
        if len(entries) != len(sources):
            raise ImportFailure(f"layer {name!r} is a model of {len(entries)} inputs called on {len(sources)}")
        for entry, (source, _) in zip(entries, sources):
            out.append(_passing(entry["name"], source))
        out += [item for item in inner if item["class_name"] != "InputLayer"]
        ends = [item[0] for item in config.get("output_layers") or []] or [inner[-1]["name"]]
        if len(ends) != 1:
            raise ImportFailure(f"layer {name!r} is a model of {len(ends)} outputs: convshape reads nested models"
                                " with one")
        out.append(_passing(name, ends[0]))
    return out


def _with_a_number(layer: dict) -> bool:
    """``x + 3.0``, ``x * (1 / 6)``: keras.ops' arithmetic of one tensor and a number."""
    return layer["class_name"] in _ARITHMETIC and len(_inputs(layer)) == 1 and (
        layer.get("module", "").startswith("keras.src.ops") or layer["class_name"] in ("Divide", "TrueDivide"))


def _needs_name(reader: _Reader, kept: list[dict]) -> set[str]:
    """The layers whose output something other than the next kept layer reads."""
    order = {layer["name"]: position for position, layer in enumerate(kept)}
    readers: dict[str, list[int]] = {}
    for position, layer in enumerate(kept):
        for name, _ in _inputs(layer):
            readers.setdefault(reader.source(name), []).append(position)
    return {name for name, positions in readers.items()
            if len(positions) > 1 or positions[0] != order.get(name, -1) + 1
            or reader.source(_inputs(kept[positions[0]])[-1][0]) != name}


def _conv_tokens(config: dict, dims: int, kind: str = "conv") -> list[str]:
    tokens = [f"{kind}{'' if dims == 2 else f'{dims}d'}", f"k{_per_axis(_axes(config['kernel_size'], dims))}"]
    strides = _axes(config.get("strides", 1), dims)
    if any(s != 1 for s in strides):
        tokens.append(f"s{_per_axis(strides)}")
    padding = config.get("padding", "valid")
    if padding == "causal":
        raise ImportFailure(f"layer {config['name']!r}: causal padding has no convshape equivalent")
    if padding == "same":
        tokens.append("psame")
    dilation = _axes(config.get("dilation_rate", 1), dims)
    if any(d != 1 for d in dilation):
        tokens.append(f"d{_per_axis(dilation)}")
    return tokens


def _depthwise(config: dict, in_shape, name: str) -> list[str]:
    """``dw``, and the output channels where a depth multiplier makes them more than the input's."""
    multiplier = config.get("depth_multiplier", 1)
    if multiplier == 1:
        return ["dw"]
    if not in_shape or in_shape[-1] is None:
        raise ImportFailure(f"layer {name!r}: a depth multiplier of {multiplier} needs the input channels")
    return ["dw", f"c{in_shape[-1] * multiplier}"]


def _layer_rows(reader: _Reader, layer: dict, shapes: list) -> None:
    cls, config, name = layer["class_name"], layer.get("config", {}), layer["name"]
    dims_match = re.search(r"([123])D", cls)
    dims = int(dims_match.group(1)) if dims_match else 2
    comment = f"{name}: {cls}"
    in_shape = shapes[0] if shapes and shapes[0] else None
    if in_shape is None:  # a Sequential's layers name no tensors; each has the shape it was built for
        in_shape = tuple(layer.get("build_config", {}).get("input_shape") or ()) or None
    if config.get("data_format") == "channels_first":
        raise ImportFailure(f"layer {name!r} is channels_first: convshape reads channels-last Keras models")
    bias = [] if config.get("use_bias", True) else ["nobias"]
    if re.fullmatch(r"Conv[123]D", cls):
        groups = config.get("groups", 1)
        tokens = _conv_tokens(config, dims) + ([f"g{groups}"] if groups != 1 else []) + [f"c{config['filters']}"]
        reader.row(" ".join(tokens + bias), comment)
    elif re.fullmatch(r"Conv[123]DTranspose", cls):
        tokens = _conv_tokens(config, dims, "convt")
        if config.get("output_padding") is not None:
            tokens.append(f"op{_per_axis(_axes(config['output_padding'], dims))}")
        reader.row(" ".join(tokens + [f"c{config['filters']}"] + bias), comment)
    elif re.fullmatch(r"DepthwiseConv[12]D", cls):
        reader.row(" ".join(_conv_tokens(config, dims) + _depthwise(config, in_shape, name) + bias), comment)
    elif re.fullmatch(r"SeparableConv[12]D", cls):
        reader.row(" ".join(_conv_tokens(config, dims) + _depthwise(config, in_shape, name) + ["nobias"]),
                   f"{name}: depthwise part")
        reader.row(" ".join([f"conv{'' if dims == 2 else f'{dims}d'}", "k1", f"c{config['filters']}"] + bias),
                   f"{name}: pointwise part")
    elif re.fullmatch(r"(Max|Average)Pooling[123]D", cls):
        size = _axes(config.get("pool_size", 2), dims)
        strides = _axes(config.get("strides") or size, dims)
        tokens = ["maxpool" if cls.startswith("Max") else "avgpool", f"k{_per_axis(size)}"]
        if strides != size:
            tokens.append(f"s{_per_axis(strides)}")
        if config.get("padding") == "same":
            tokens.append("psame")
        reader.row(" ".join(tokens), comment)
    elif re.fullmatch(r"Global(Average|Max)Pooling[123]D", cls):
        keep = config.get("keepdims") or _reshaped_to_map(reader, layer)
        how = "" if "Average" in cls else " (the same shape as gap)"
        reader.row("gap keep" if keep else "gap", f"{name}: {cls}{how}" + (", then Reshape to 1×1×C" * bool(
            keep and not config.get("keepdims"))))
    elif re.fullmatch(r"ZeroPadding[123]D", cls) or re.fullmatch(r"Cropping[123]D", cls):
        value = config.get("padding" if cls.startswith("Zero") else "cropping", 1)
        pairs = _pairs(value, dims)
        sign = 1 if cls.startswith("Zero") else -1
        reader.row("pad p" + "x".join(f"{sign * b}:{sign * a}" if b != a else str(sign * b) for b, a in pairs),
                   comment)
    elif re.fullmatch(r"UpSampling[123]D", cls):
        reader.row(f"up s{_per_axis(_axes(config.get('size', 2), dims))}", comment)
    elif cls == "Resizing":
        reader.row(f"up o{_per_axis([config['height'], config['width']])}", comment)
    elif cls == "Flatten":
        reader.row("flatten", comment)
    elif cls == "Dense" and reader.in_sequence:  # over the width of each token
        reader.row(" ".join([f"linear c{config['units']}"] + bias), f"{comment} (over each token's width)")
    elif cls == "MultiHeadAttention":
        _attention(reader, config, in_shape, name, comment)
    elif cls == "Reshape" and _to_tokens(config, in_shape):
        reader.row("tokens", f"{comment}: the map as a sequence of tokens")
    elif cls == "Dense" and in_shape is not None and len(in_shape) > 2:  # over the channels at each position
        kind = "conv" if len(in_shape) == 4 else f"conv{len(in_shape) - 2}d"
        reader.row(" ".join([f"{kind} k1 c{config['units']}"] + bias), f"{comment} (over the channels: a 1×1 conv)")
    elif cls == "Dense":
        reader.row(" ".join([f"linear c{config['units']}"] + bias), comment)
    elif cls == "BatchNormalization":
        reader.row(" ".join(["bn"] + [f"no{word}" for word in ("scale", "center") if not config.get(word, True)]),
                   comment)
    elif cls == "LayerNormalization":
        reader.row("ln", comment)
    elif cls == "Normalization" and config.get("mean") is not None:  # constants in the config: no weights
        reader.skipped.setdefault("Normalization with its mean and variance given", []).append(name)
        return
    elif cls == "Normalization" and config.get("axis") in (-1, [-1], [len(in_shape or ()) - 1]):
        reader.row("normalize", f"{comment}: its own mean and variance per channel")
    elif cls == "LayerScale":  # ConvNeXt's (keras.src.applications.convnext): a learned scale per channel
        reader.row("layerscale", comment)
    elif cls == "GroupNormalization":
        reader.row(f"gn g{config.get('groups', 32)}", comment)
    elif cls in ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D"):
        reader.row("dropout", comment)
    elif cls == "ReLU":
        reader.row("relu6" if config.get("max_value") == 6 else "relu", comment)
    elif cls == "LeakyReLU":
        reader.row("lrelu", comment)
    elif cls == "Activation":
        _activation(reader, config.get("activation"), comment, name)
    elif cls == "Reshape" and _is_gap_reshape(reader, layer):
        return  # the pool before it kept the 1×1 map
    elif cls == "Reshape" and len(config.get("target_shape") or ()) == 1:
        reader.row("flatten", f"{comment} to {config['target_shape'][0]} features")
    elif cls in SKIPPED:
        reader.skipped.setdefault(cls, []).append(name)
        return
    else:
        raise ImportFailure(f"cannot go on past layer {name!r} ({cls}): convshape has no layer for it")
    activation = config.get("activation")
    if cls != "Activation" and activation not in (None, "linear"):
        _activation(reader, activation, f"{name}: its activation", name)


def _to_tokens(config: dict, in_shape) -> bool:
    """A Reshape of an N×H×W×C map to N×(H·W)×C: the map as a sequence of tokens (a ViT's patches)."""
    target = list(config.get("target_shape") or [])
    if in_shape is None or len(in_shape) < 4 or len(target) != 2 or target[1] != in_shape[-1]:
        return False
    positions = 1
    for size in in_shape[1:-1]:
        positions = None if size is None or positions is None else positions * size
    return target[0] == -1 or target[0] == positions


def _attention(reader: _Reader, config: dict, in_shape, name: str, comment: str) -> None:
    """Keras' MultiHeadAttention called on one sequence as query and value: self-attention. Its
    counts are nn.MultiheadAttention's where each head is C/h wide and the output is C."""
    heads, key = config.get("num_heads"), config.get("key_dim")
    width = in_shape[-1] if in_shape else None
    value = config.get("value_dim") or key
    if not reader.in_sequence or width is None or heads is None or key is None:
        raise ImportFailure(f"layer {name!r} (MultiHeadAttention): convshape reads self-attention over a sequence "
                            "of tokens of known width")
    if key * heads != width or value != key or config.get("output_shape") not in (None, width, [width]) or \
            config.get("attention_axes") not in (None, [1], (1,)):
        raise ImportFailure(f"layer {name!r} (MultiHeadAttention): heads of {key} (values {value}) on a width of "
                            f"{width} have no row: attn's heads split the width ({heads} × {width // heads})")
    bias = "" if config.get("use_bias", True) else " nobias"
    reader.row(f"attn h{heads}{bias}", comment)


def _activation(reader: _Reader, activation, comment: str, name: str) -> None:
    if isinstance(activation, dict):
        activation = activation.get("config", {}).get("name") or activation.get("class_name")
    if activation in ("linear", None):
        return
    if activation == "softmax":
        reader.skipped.setdefault("softmax", []).append(name)
        return
    kind = ACTIVATIONS.get(activation)
    if kind is None:
        reader.skipped.setdefault(f"activation {activation!r}", []).append(name)
        return
    reader.row(kind, comment)


def _pairs(value, dims: int) -> list[tuple[int, int]]:
    if isinstance(value, int):
        return [(value, value)] * dims
    if dims == 1 and len(value) == 2 and all(isinstance(v, int) for v in value):
        return [tuple(value)]
    return [(v, v) if isinstance(v, int) else tuple(v) for v in value]


def _readers_of(reader: _Reader, name: str) -> list[dict]:
    return [layer for layer in reader.layers if any(n == name for n, _ in _inputs(layer))]


def _reshaped_to_map(reader: _Reader, layer: dict) -> bool:
    """A global pool whose only reader reshapes it to 1×…×1×C (EfficientNet's squeeze-and-excitation)."""
    readers = _readers_of(reader, layer["name"])
    return len(readers) == 1 and _is_gap_reshape(reader, readers[0])


def _is_gap_reshape(reader: _Reader, layer: dict) -> bool:
    if layer["class_name"] != "Reshape":
        return False
    target = list(layer.get("config", {}).get("target_shape") or [])
    sources = _inputs(layer)
    if not target or len(sources) != 1 or not all(v == 1 for v in target[:-1]):
        return False
    source = next((other for other in reader.layers if other["name"] == sources[0][0]), None)
    return source is not None and source["class_name"].startswith("Global")


def _passes(reader: _Reader, layer: dict) -> bool:
    """A layer with no row that passes its one input on."""
    return (layer["class_name"] in SKIPPED or layer["class_name"] == _INLINED or _with_a_number(layer)
            or layer["class_name"] == "Normalization" and layer.get("config", {}).get("mean") is not None
            or layer["class_name"] == "Reshape" and _is_gap_reshape(reader, layer))


def _in_order(layers: list[dict], kept: list[dict]) -> list[dict]:
    """Every layer but the input, in order, with the kept ones as reordered."""
    by_name = {layer["name"]: layer for layer in kept}
    return [by_name.get(layer["name"], layer) for layer in layers if layer["class_name"] != "InputLayer"]


def read_keras(text: str) -> Imported:
    """The stack of a Keras model's JSON."""
    try:
        model = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFailure(f"not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}") from None
    if not isinstance(model, dict) or "config" not in model:
        raise ImportFailure("a Keras model's JSON has 'class_name' and 'config' at its top")
    cls = model.get("class_name")
    config = model["config"]
    layers = config.get("layers") if isinstance(config, dict) else None
    if not isinstance(layers, list):
        raise ImportFailure(f"{cls}'s config has no list of layers")
    sequential = cls == "Sequential"
    if sequential:  # chain them: each layer reads the one before
        layers = _chain(layers)
    inputs = [layer for layer in layers if layer["class_name"] == "InputLayer"]
    if len(inputs) > 1:
        raise ImportFailure(f"the model has {len(inputs)} inputs: convshape reads models with one")
    nested = [layer["name"] for layer in layers if layer["class_name"] in ("Functional", "Sequential", "Model")]
    layers = _inline(layers)
    input_size = channels = None
    dims = None
    if inputs:
        shape = inputs[0]["config"].get("batch_shape") or inputs[0]["config"].get("batch_input_shape")
        if shape:
            spatial, channels = shape[1:-1], shape[-1]
            dims = len(spatial)
            input_size = tuple(spatial) if spatial and None not in spatial else None
    elif sequential and config.get("build_input_shape"):
        shape = config["build_input_shape"]
        spatial, channels = shape[1:-1], shape[-1]
        input_size = tuple(spatial) if spatial and None not in spatial else None
    reader = _Reader(layers)
    kept = []
    for layer in layers:  # a layer that keeps the shape passes its input on
        if _passes(reader, layer):
            sources = _inputs(layer)
            if len(sources) == 1:
                reader.alias[layer["name"]] = sources[0][0]
        else:
            kept.append(layer)
    for index, layer in enumerate(kept):  # an add or mul reads on from the layer before it
        before = kept[index - 1]["name"] if index else (inputs[0]["name"] if inputs else None)
        sources = _inputs(layer)
        if layer["class_name"] in ("Add", "Multiply") and before in [reader.source(n) for n, _ in sources]:
            ordered = [s for s in sources if reader.source(s[0]) != before] + \
                [s for s in sources if reader.source(s[0]) == before]
            kept[index] = layer = {**layer, "inbound_nodes": [[[name, 0, 0, {}] for name, _ in ordered]]}
    named = _needs_name(reader, kept)
    input_name = inputs[0]["name"] if inputs else None
    if input_name in named:
        reader.lines.append(f"@{reader.name_of(input_name)}")
    reader.current = input_name
    for layer in [*(layer for layer in layers if layer["class_name"] == "InputLayer"), *_in_order(layers, kept)]:
        if layer["class_name"] == "InputLayer":
            continue
        sources = [(reader.source(name), shape) for name, shape in _inputs(layer)]
        if _passes(reader, layer):
            if layer["class_name"] == _INLINED:
                continue
            if _with_a_number(layer):
                reader.skipped.setdefault(f"{layer['class_name']} with a number", []).append(layer["name"])
                continue
            _layer_rows(reader, layer, [shape for _, shape in sources])
            continue
        merge = {"Add": "add", "Multiply": "mul", "Concatenate": "cat", **{c: "add" for c in _SCALED_ADD}}.get(
            layer["class_name"])
        if merge is not None:
            if merge == "cat" and layer["config"].get("axis", -1) not in (-1, len(sources[0][1] or (0,) * 4) - 1):
                raise ImportFailure(f"layer {layer['name']!r} concatenates on axis {layer['config']['axis']},"
                                    " not the channels")
            names = [name for name, _ in sources]
            if names[-1] != reader.current:
                reader.lines.append(f"from {reader.name_of(names[-1])}")
            reader.row(" ".join([merge] + [reader.name_of(name) for name in names[:-1]]),
                       f"{layer['name']}: {layer['class_name']}")
            if any(name in reader.sequences for name in names):
                reader.sequences.add(layer["name"])
        elif layer["class_name"] == "MultiHeadAttention":
            names = {name for name, _ in sources}
            if len(names) != 1:
                raise ImportFailure(f"layer {layer['name']!r} (MultiHeadAttention) attends across {len(names)} "
                                    "tensors: convshape reads self-attention (query and value the same)")
            if sources[0][0] != reader.current:
                reader.lines.append(f"from {reader.name_of(sources[0][0])}")
            reader.in_sequence = sources[0][0] in reader.sequences
            _layer_rows(reader, layer, [sources[0][1]])
            reader.sequences.add(layer["name"])
        elif layer["class_name"] in ("Subtract", "Average", "Maximum", "Minimum", "Dot"):
            raise ImportFailure(f"cannot go on past layer {layer['name']!r} ({layer['class_name']}): convshape's"
                                " merges are add, mul and cat")
        else:
            if len(sources) != 1:
                raise ImportFailure(f"layer {layer['name']!r} ({layer['class_name']}) reads {len(sources)} tensors")
            if sources[0][0] != reader.current:
                reader.lines.append(f"from {reader.name_of(sources[0][0])}")
            reader.in_sequence = sources[0][0] in reader.sequences
            _layer_rows(reader, layer, [shape for _, shape in sources])
            if reader.lines and reader.lines[-1].startswith("tokens ") or reader.in_sequence and \
                    layer["class_name"] != "Flatten":
                reader.sequences.add(layer["name"])
        reader.current = layer["name"]
        if layer["name"] in named:
            reader.lines.append(f"@{reader.name_of(layer['name'])}")
    for cls_name, names in reader.skipped.items():
        reader.notes.append(f"{cls_name} keeps the shape: skipped ({located(names)})")
    if nested:
        reader.notes.append(f"the model nested in it ({', '.join(nested)}) is written out in its place")
    if reader.rows == 0:
        raise ImportFailure(f"{cls} has no layer convshape has a kind for")
    header = f"# imported from Keras JSON: {cls} {config.get('name', '')}".rstrip()
    return Imported("\n".join([header, *reader.lines]) + "\n", "Keras JSON", input_size, channels, (),
                    tuple(reader.notes), dims, "tf")
