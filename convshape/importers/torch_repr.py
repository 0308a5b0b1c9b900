"""PyTorch's ``print(model)`` text to a stack.

A repr lists modules, not how ``forward`` wires them. The reader knows the containers that
run their children in order (``Sequential``, torchvision's sequential models) and the
torchvision blocks whose wiring it knows (ResNet's BasicBlock and Bottleneck, the
squeeze-and-excitation gate, MobileNetV2's InvertedResidual, EfficientNet's MBConv,
ConvNeXt's CNBlock), which become the graph their ``forward`` makes. Any other module with
children stops the import, naming the exact routes (the live model, ONNX): reading it as a
sequence would be a guess, and a guessed number shown as if it were right is worse than none.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from ..framework import equivalent
from .result import Imported, ImportFailure, located

_ROOT = re.compile(r"^([A-Za-z_][\w.]*)\($")
_CHILD = re.compile(r"^\(([\w.-]+)\): (?:(\d+) x )?([A-Za-z_][\w.]*)\((.*)$")
_BARE = re.compile(r"=([A-Za-z_]\w*)(?=[,)]|$)")

# Modules that keep the shape and have no parameters convshape would count: skipped, named in a note.
SHAPE_KEEPING = {"Identity", "StochasticDepth", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "Softmax",
                 "Softmax2d", "LogSoftmax", "ELU", "CELU", "SELU", "Mish", "Hardsigmoid", "Hardtanh", "Softplus",
                 "Softsign", "LocalResponseNorm", "QuantStub", "DeQuantStub"}  # the stubs: with quantize=False
# Modules whose children run in the order printed.
CONTAINERS = {"Sequential", "ModuleList", "Conv2dNormActivation", "Conv3dNormActivation", "Conv1dNormActivation",
              "_Transition",  # DenseNet's transition is an nn.Sequential
              "SimpleStemIN", "AnyStage", "BottleneckTransform"}  # RegNet's, nn.Sequential too
# torchvision models whose forward runs their children in the order printed (with the flatten before a Linear).
SEQUENTIAL_MODELS = {"ResNet", "VGG", "AlexNet", "EfficientNet", "ConvNeXt", "MobileNetV3", "RegNet"}


class Node(NamedTuple):
    name: str
    cls: str
    args: str | None  # a leaf's arguments; None for a module with children
    children: tuple
    repeat: int = 1


def looks_like_repr(text: str) -> bool:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return bool(lines) and bool(_ROOT.match(lines[0])) and any(_CHILD.match(line) for line in lines[1:3])


def parse_tree(text: str) -> Node:
    """The module tree of a ``print(model)`` text."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    match = _ROOT.match(lines[0]) if lines else None
    if match is None:
        raise ImportFailure("a print(model) text starts with the model's class and '(', such as 'ResNet('")
    stack = [(Node("", match.group(1), None, ()), [])]
    closed = False
    for number, line in enumerate(lines[1:], start=2):
        if closed:
            raise ImportFailure(f"line {number}: text after the model's closing ')': paste one print(model)")
        if line == ")":
            node, children = stack.pop()
            if not stack:
                root, closed = node._replace(children=tuple(children)), True
                continue
            stack[-1][1].append(node._replace(children=tuple(children)))
            continue
        child = _CHILD.match(line)
        if child is None:
            raise ImportFailure(f"line {number}: {line[:60]!r} is not a '(name): Module(...)' line of print(model)")
        name, repeat, cls, rest = child.groups()
        node = Node(name, cls, None, (), int(repeat or 1))
        if rest == "":
            stack.append((node, []))
        elif not rest.endswith(")"):
            raise ImportFailure(f"line {number}: the arguments of {cls} do not close on their line")
        else:
            stack[-1][1].append(node._replace(args=rest[:-1]))
    if not closed:
        raise ImportFailure(f"the text ends inside {stack[-1][0].cls}: paste the whole print(model)")
    return root


class _Writer:
    """Stack lines, with each layer's source module, the channels the model gives it and the
    state of the tensor (spatial or flat) the next layer receives."""

    def __init__(self):
        self.lines: list[str] = []
        self.rows = 0
        self.spatial = True
        self.names = 0
        self.declared = False  # a layer has said the channels it takes
        self.input_channels: int | None = None
        self.notes: list[str] = []
        self.sequenced: list[str] = []  # modules with children read as a sequence
        self.dims: int | None = None
        self.skipped: dict[str, list[str]] = {}  # modules that keep the shape, by class
        self.keeping_since: int | None = None  # the line of the shape-keeping rows ending the stack

    def fresh(self, prefix: str) -> str:
        self.names += 1
        return f"{prefix}{self.names}"

    def layer(self, text: str, comment: str, takes: int | None = None) -> None:
        from ..grammar import parse_kind

        found = parse_kind(text.split()[0])
        keeps = found is not None and found[0].keeps_shape
        if keeps and self.keeping_since is None:
            self.keeping_since = len(self.lines)
        elif not keeps:
            self.keeping_since = None
        self.rows += 1
        if takes is not None:  # the channels the model gives it: calc checks them (declared_channels)
            text += f" in{takes}"
        self.lines.append(f"{text:<36}# {comment}")
        if takes is not None:
            if self.rows == 1 or self.input_channels is None and not self.declared:
                self.input_channels = takes
            self.declared = True

    def crop_transposed(self, pad: str, path: str) -> bool:
        """A pad that only crops, right after a transposed conv, is that conv's uneven padding
        (nn.Sequential(ConvTranspose2d, ZeroPad2d((-1, 0, -1, 0))), as convshape exports it)."""
        if not self.lines or not self.lines[-1].startswith("convt"):
            return False
        crops = [tuple(-int(v) for v in part.split(":")) if ":" in part else (-int(part), -int(part))
                 for part in pad.split()[1][1:].split("x")]
        if any(before < 0 or after < 0 for before, after in crops):
            return False
        text, _, comment = self.lines[-1].partition("#")
        words = text.split()
        given = next((w for w in words[1:] if re.fullmatch(r"p\d+(x\d+)*", w)), None)
        dims = len(crops) if len(crops) > 1 else 1
        base = [int(v) for v in given[1:].split("x")] if given else [0]
        base = base * len(crops) if len(base) == 1 else base
        crops = crops * len(base) if len(crops) == 1 else crops
        pairs = [(b + cb, b + ca) for b, (cb, ca) in zip(base, crops)]
        parts = [str(b) if b == a else f"{b}:{a}" for b, a in pairs]
        token = "p" + (parts[0] if len(set(parts)) == 1 and dims else "x".join(parts))
        words = [w for w in words if w != given]
        at = 1 + sum(1 for w in words[1:] if re.fullmatch(r"[ks][\d.x]+", w))  # after the kernel and stride
        words.insert(at, token)
        self.lines[-1] = f"{' '.join(words):<36}#{comment} + {path}: its crop"
        return True

    def word(self, text: str) -> None:
        self.lines.append(text)
        self.keeping_since = None

    def flatten_before_keeping(self, comment: str) -> None:
        """A flatten where forward applies it: before the dropout and the like that follow the
        last spatial layer (torchvision's classifiers start with Dropout)."""
        if self.keeping_since is None:
            self.layer("flatten", comment)
            return
        self.lines.insert(self.keeping_since, f"{'flatten':<36}# {comment}")
        self.rows += 1
        self.keeping_since = None


def _arguments(args: str) -> str:
    """The repr's bare words as strings (``padding=same``), for Python's literal reader."""
    return _BARE.sub(lambda m: m.group(0) if m.group(1) in ("True", "False", "None") else f"='{m.group(1)}'", args)


def _first_int(args: str) -> int | None:
    match = re.match(r"\s*(\d+)", args)
    return int(match.group(1)) if match else None


def _leaf(writer: _Writer, node: Node, path: str) -> None:
    cls, args = node.cls, _arguments(node.args or "")
    comment = f"{path}: {cls}"
    dims = re.search(r"([123])d$", cls)
    if dims and writer.dims is None and cls.startswith(("Conv", "MaxPool", "AvgPool", "BatchNorm")):
        writer.dims = int(dims.group(1))
    if cls in SHAPE_KEEPING or cls in CONTAINERS and not args.strip():  # Sequential(): the identity
        writer.skipped.setdefault(cls, []).append(path)
        return
    if cls == "Flatten":
        writer.layer("flatten", comment)
        writer.spatial = False
        return
    if cls in ("Linear", "LazyLinear") and writer.spatial:
        writer.flatten_before_keeping(f"forward: the flatten before {path} ({cls})")
        writer.notes.append(f"{path} (Linear) follows spatial layers: a flatten is put before it, as forward does")
        writer.spatial = False
    if cls in ("LayerNorm2d", "ChannelLayerNorm"):  # torchvision's ConvNeXt, and convshape's own export
        writer.layer("ln", comment, _tuple_first(args))
        return
    if cls == "LayerScale":  # convshape's own export of a layer scale
        writer.layer("layerscale", comment)
        return
    if cls == "LayerNorm" and not writer.spatial:
        writer.layer("ln", comment, _tuple_first(args))
        return
    if cls.startswith(("AdaptiveAvgPool", "AdaptiveMaxPool")):
        size = _output_size(args)
        if size is None:
            raise ImportFailure(f"{path}: cannot read {cls}'s output size from {node.args!r}")
        if cls.startswith("AdaptiveAvgPool") and set(size.split("x")) == {"1"}:
            writer.layer("gap", comment)
        else:
            kind = "adaptiveavgpool" if cls.startswith("AdaptiveAvg") else "adaptivemaxpool"
            writer.layer(f"{kind} o{size}", comment)
        return
    if re.fullmatch(r"(Zero|Constant)Pad[123]d", cls):
        text = _pad(args, path, cls)
        if not writer.crop_transposed(text, path):
            writer.layer(text, comment)
        return
    if cls.startswith("AvgPool") and "ceil_mode" not in args:
        writer.notes.append(f"{path} ({cls}): PyTorch's repr of AvgPool does not show ceil_mode; read as floor")
    if cls in ("Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"):
        writer.layer(_upsample(args, path), comment)
        return
    text = equivalent(cls, args)
    if text is None:
        raise ImportFailure(f"cannot go on past {path} ({cls}({node.args})): convshape has no layer for it, "
                            "and it may change the shape")
    takes = _first_int(args) if cls.startswith(("Conv", "ConvTranspose", "BatchNorm", "InstanceNorm")) else None
    if cls == "Linear":
        found = re.search(r"in_features=(\d+)", args)
        takes = int(found.group(1)) if found else _first_int(args)
    if cls == "GroupNorm":
        found = re.search(r"num_channels=(\d+)", args) or re.match(r"\s*\d+\s*,\s*(\d+)", args)
        takes = int(found.group(1)) if found else None
    writer.layer(text, comment, takes)


def _tuple_first(args: str) -> int | None:
    match = re.match(r"\s*\(?\s*(\d+)", args)
    return int(match.group(1)) if match else None


def _output_size(args: str) -> str | None:
    match = re.search(r"(?:output_size=)?\(?([\d, ]+)\)?", args)
    if not match:
        return None
    values = [v.strip() for v in match.group(1).split(",") if v.strip()]
    if not values or not all(v.isdigit() for v in values):
        return None
    return values[0] if len(set(values)) == 1 else "x".join(values)


def _pad(args: str, path: str, cls: str) -> str:
    match = re.search(r"\(([-\d, ]+)\)", args) or re.search(r"padding=(-?\d+)", args) or re.match(r"\s*(-?\d+)", args)
    if match is None:
        raise ImportFailure(f"{path}: cannot read {cls}'s padding from {args!r}")
    values = [int(v) for v in match.group(1).split(",") if v.strip()]
    axes = int(cls[-2])
    if len(values) == 1:
        values = values * (2 * axes)
    pairs = [(values[i], values[i + 1]) for i in range(0, len(values), 2)][::-1]  # torch: last axis first
    return "pad p" + "x".join(f"{b}:{a}" if b != a else str(b) for b, a in pairs)


def _upsample(args: str, path: str) -> str:
    scale = re.search(r"scale_factor=\(?([\d.]+)", args)
    size = re.search(r"size=\(?([\d, ]+)\)?", args)
    if scale:
        value = float(scale.group(1))
        return f"up s{int(value) if value.is_integer() else scale.group(1)}"
    if size:
        values = [v.strip() for v in size.group(1).split(",") if v.strip()]
        return "up o" + (values[0] if len(set(values)) == 1 else "x".join(values))
    raise ImportFailure(f"{path}: cannot read Upsample's scale or size from {args!r}")


def _leaves(node: Node):
    if node.args is not None:
        yield node
    for child in node.children:
        yield from _leaves(child)


def _strides_one(node: Node) -> bool:
    strides = [re.search(r"stride=\(?([\d, ]+)", leaf.args or "") for leaf in _leaves(node)]
    return all(int(v) == 1 for match in strides if match for v in match.group(1).split(",") if v.strip())


def _convs(node: Node) -> list[tuple[int, int]]:
    found = []
    for leaf in _leaves(node):
        if leaf.cls.startswith("Conv"):
            match = re.match(r"\s*(\d+),\s*(\d+)", leaf.args or "")
            if match:
                found.append((int(match.group(1)), int(match.group(2))))
    return found


def _child(node: Node, name: str) -> Node | None:
    return next((child for child in node.children if child.name == name), None)


def _residual(writer: _Writer, node: Node, path: str, body, shortcut: Node | None, after: list[Node]) -> None:
    """``body`` on the input, ``shortcut`` (or the input itself) beside it, added, then ``after``."""
    start = writer.fresh("x")
    writer.word(f"@{start}")
    body()
    if shortcut is None:
        writer.layer(f"add {start}", f"{path}: + the input ({node.cls}.forward)")
    else:
        main = writer.fresh("m")
        writer.word(f"@{main}")
        writer.word(f"from {start}")
        _walk(writer, shortcut, f"{path}.{shortcut.name}")
        writer.layer(f"add {main}", f"{path}: + {shortcut.name} ({node.cls}.forward)")
    for module in after:
        _walk(writer, module, f"{path}.{module.name}")


def _block(writer: _Writer, node: Node, path: str) -> bool:
    """The torchvision blocks whose forward is known; False for any other module."""
    named = {child.name: child for child in node.children}

    def run(*names):
        def body():
            for name in names:
                _walk(writer, named[name], f"{path}.{name}")
        return body

    if node.cls == "BasicBlock" and {"conv1", "bn1", "relu", "conv2", "bn2"} <= set(named):
        _residual(writer, node, path, run("conv1", "bn1", "relu", "conv2", "bn2"), named.get("downsample"),
                  [named["relu"]])
        return True
    if node.cls == "Bottleneck" and {"conv1", "bn1", "conv2", "bn2", "conv3", "bn3", "relu"} <= set(named):
        _residual(writer, node, path, run("conv1", "bn1", "relu", "conv2", "bn2", "relu", "conv3", "bn3"),
                  named.get("downsample"), [named["relu"]])
        return True
    if node.cls == "InvertedResidual" and set(named) == {"branch1", "branch2"}:  # ShuffleNet V2's unit
        start = writer.fresh("x")
        writer.word(f"@{start}")
        if named["branch1"].args == "" and not named["branch1"].children:  # stride 1: half passes, half runs
            kept = writer.fresh("k")
            writer.layer("chunk g2 i0", f"{path}: x.chunk(2, dim=1)[0] (InvertedResidual.forward)")
            writer.word(f"@{kept}")
            writer.word(f"from {start}")
            writer.layer("chunk g2 i1", f"{path}: x.chunk(2, dim=1)[1] (InvertedResidual.forward)")
            run("branch2")()
        else:  # stride 2: both branches on the input
            kept = writer.fresh("k")
            run("branch1")()
            writer.word(f"@{kept}")
            writer.word(f"from {start}")
            run("branch2")()
        writer.layer(f"cat {kept}", f"{path}: cat (InvertedResidual.forward)")
        writer.layer("channelshuffle g2", f"{path}: channel_shuffle(out, 2) (InvertedResidual.forward)")
        return True
    if node.cls == "ShuffleNetV2" and set(named) == {"conv1", "maxpool", "stage2", "stage3", "stage4", "conv5", "fc"}:
        for name in ("conv1", "maxpool", "stage2", "stage3", "stage4", "conv5"):
            _walk(writer, named[name], name)
        writer.layer("gap", "ShuffleNetV2.forward: x.mean([2, 3])")
        writer.layer("flatten", "ShuffleNetV2.forward: the mean drops the axes")
        writer.spatial = False
        _walk(writer, named["fc"], "fc")
        return True
    if node.cls == "ResBottleneckBlock" and {"f", "activation"} <= set(named) <= {"proj", "f", "activation"}:
        # RegNet: proj(x) + f(x), or x + f(x), then the activation
        _residual(writer, node, path, run("f"), named.get("proj"), [named["activation"]])
        return True
    if node.cls == "SqueezeExcitation" and {"avgpool", "fc1", "fc2", "activation", "scale_activation"} <= set(named):
        start = writer.fresh("x")
        writer.word(f"@{start}")
        run("avgpool", "fc1", "activation", "fc2", "scale_activation")()
        writer.layer(f"mul {start}", f"{path}: × the input (SqueezeExcitation.forward)")
        return True
    if node.cls == "CNBlock" and "block" in named:  # ConvNeXt: Linear over channels is a 1×1 conv
        start = writer.fresh("x")
        writer.word(f"@{start}")
        for leaf in named["block"].children:
            where = f"{path}.block.{leaf.name}"
            if leaf.cls == "Permute":
                continue
            if leaf.cls in ("Linear", "LayerNorm"):
                found = re.search(r"in_features=(\d+), out_features=(\d+)", leaf.args or "")
                if leaf.cls == "LayerNorm":
                    writer.layer("ln", f"{where}: LayerNorm (over channels, between permutes)", _tuple_first(leaf.args))
                elif found:
                    bias = " nobias" if "bias=False" in leaf.args else ""
                    writer.layer(f"conv k1 c{found.group(2)}{bias}", f"{where}: Linear (over channels: a 1×1 conv)",
                                 int(found.group(1)))
                continue
            _walk(writer, leaf, where)
        writer.layer("layerscale", f"{path}: layer_scale (CNBlock.forward)")
        writer.layer(f"add {start}", f"{path}: + the input (CNBlock.forward)")
        return True
    if node.cls == "MobileNetV2" and {"features", "classifier"} <= set(named):
        _walk(writer, named["features"], "features")
        writer.layer("gap", "MobileNetV2.forward: adaptive_avg_pool2d(x, (1, 1))")
        _walk(writer, named["classifier"], "classifier")
        return True
    if node.cls == "Fire" and {"squeeze", "squeeze_activation", "expand1x1", "expand1x1_activation", "expand3x3",
                               "expand3x3_activation"} == set(named):  # SqueezeNet: two expands, concatenated
        run("squeeze", "squeeze_activation")()
        squeezed, one = writer.fresh("s"), writer.fresh("e")
        writer.word(f"@{squeezed}")
        run("expand1x1", "expand1x1_activation")()
        writer.word(f"@{one}")
        writer.word(f"from {squeezed}")
        run("expand3x3", "expand3x3_activation")()
        writer.layer(f"cat {one}", f"{path}: cat of expand1x1 and expand3x3 (Fire.forward)")
        return True
    if node.cls == "_DenseLayer" and {"norm1", "relu1", "conv1", "norm2", "relu2", "conv2"} == set(named):
        start = writer.fresh("x")  # DenseNet: the layer's new channels joined to all before
        writer.word(f"@{start}")
        run("norm1", "relu1", "conv1", "norm2", "relu2", "conv2")()
        writer.layer(f"cat {start}", f"{path}: the new features after the ones before (_DenseBlock.forward)")
        return True
    if node.cls == "_DenseBlock" and node.children and all(child.cls == "_DenseLayer" for child in node.children):
        for child in node.children:
            _walk(writer, child, f"{path}.{child.name}")
        return True
    if node.cls in ("SqueezeNet", "MNASNet", "DenseNet") and set(named) == {
            "SqueezeNet": {"features", "classifier"}, "MNASNet": {"layers", "classifier"},
            "DenseNet": {"features", "classifier"}}[node.cls]:
        body = "layers" if node.cls == "MNASNet" else "features"
        _walk(writer, named[body], body)
        if node.cls == "DenseNet":
            writer.layer("relu", "DenseNet.forward: F.relu")
        if node.cls != "SqueezeNet":
            writer.layer("gap", f"{node.cls}.forward: " + ("x.mean([2, 3])" if node.cls == "MNASNet"
                                                          else "adaptive_avg_pool2d(x, (1, 1))"))
            writer.layer("flatten", f"{node.cls}.forward: " + ("the mean drops the axes" if node.cls == "MNASNet"
                                                              else "torch.flatten(x, 1)"))
            writer.spatial = False
        _walk(writer, named["classifier"], "classifier")
        if node.cls == "SqueezeNet":
            writer.layer("flatten", "SqueezeNet.forward: torch.flatten(x, 1)")
            writer.spatial = False
        return True
    if node.cls in ("InvertedResidual", "MBConv", "FusedMBConv", "_InvertedResidual"):
        body = _child(node, "conv") or _child(node, "block") or _child(node, "layers")
        convs = _convs(node)
        if body is None:
            return False
        if convs and _strides_one(node) and convs[0][0] == convs[-1][1]:
            _residual(writer, node, path, lambda: _walk(writer, body, f"{path}.{body.name}"), None, [])
        else:
            _walk(writer, body, f"{path}.{body.name}")
        for child in node.children:
            if child is not body:
                _walk(writer, child, f"{path}.{child.name}")
        return True
    return False


def _walk(writer: _Writer, node: Node, path: str) -> None:
    for _ in range(node.repeat):
        if node.args is not None:
            _leaf(writer, node, path)
            continue
        if _block(writer, node, path):
            continue
        if node.cls not in CONTAINERS and node.cls not in SEQUENTIAL_MODELS and node.children:
            writer.sequenced.append(f"{path or 'the model'} ({node.cls})")
        for child in node.children:
            _walk(writer, child, f"{path}.{child.name}" if path else child.name)


# Modules whose numbers a repr leaves out: a vision transformer's attention and embeddings.
ATTENTION = {"VisionTransformer", "EncoderBlock", "MultiheadAttention", "SwinTransformer", "SwinTransformerBlock",
             "SwinTransformerBlockV2", "ShiftedWindowAttention", "ShiftedWindowAttentionV2", "PatchMerging",
             "PatchMergingV2", "MaxVit", "PartitionAttentionLayer", "RelativePositionalMultiHeadAttention"}


def _first(node: Node, classes: set) -> str | None:
    """The first module (depth first) of one of ``classes``: its class."""
    if node.cls in classes:
        return node.cls
    return next((found for child in node.children if (found := _first(child, classes)) is not None), None)


def read_repr(text: str) -> Imported:
    """The stack of a ``print(model)`` text.

    >>> read_repr("Sequential(\\n  (0): Conv2d(3, 8, kernel_size=(3, 3), stride=(2, 2))\\n)").stack.splitlines()[1]
    'conv k3 s2 c8 in3                   # 0: Conv2d'
    """
    tree = parse_tree(text)
    attention = _first(tree, ATTENTION)
    if attention is not None:
        raise ImportFailure(
            f"print(model) does not show what a vision transformer's rows need ({attention}: ViT's class token and "
            "position embedding are parameters it leaves out, Swin's windows and shifts and MaxViT's partitions "
            "attributes it does not print). The exact route: the live model (convshape import MODULE:ATTR)")
    writer = _Writer()
    _walk(writer, tree, "")
    if writer.rows == 0:
        raise ImportFailure(f"{tree.cls} has no module convshape has a layer for")
    if writer.sequenced:
        shown = ", ".join(writer.sequenced[:3]) + (f" and {len(writer.sequenced) - 3} more"
                                                    if len(writer.sequenced) > 3 else "")
        raise ImportFailure(
            f"print(model) does not show how forward wires {shown}, and convshape does not guess: a residual add, "
            "a concat or a mean in forward would be missed, and every number after it wrong. The exact routes: "
            "the live model (convshape import MODULE:ATTR, with torch installed) or an ONNX file torch exports "
            "(torch.onnx.export(model, x, 'model.onnx', dynamo=False))")
    for cls, paths in writer.skipped.items():
        writer.notes.append(f"{cls} keeps the shape and has no parameters: skipped ({located(paths)})")
    header = f"# imported from print(model): {tree.cls}"
    stack = "\n".join([header, *writer.lines]) + "\n"
    return Imported(stack, "print(model)", None, writer.input_channels, (), tuple(writer.notes),
                    writer.dims)
