"""A live PyTorch model to a stack: ``convshape import MODULE:ATTR``.

The model is built with its parameters and buffers on torch's meta device (shapes, no
memory, no arithmetic), its ``forward`` is captured by ``torch.fx`` (a graph of module
calls and functions that holds for every input size), and each node becomes rows. The
rows are then checked against torch itself: the graph is run on a meta tensor of the
capture size, and every node's shape, and every module's parameter count, must equal
what calc gives for its rows. Anything else stops the import, named: never a guess.

Importing MODULE runs the user's Python, as ``python -c 'import MODULE'`` would; after
that only the graph is read. torch is needed (``pip install 'convshape[torch]'``); nothing
else in convshape imports this module.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import re
import sys
import warnings
from typing import Any, NamedTuple

from ..framework import equivalent
from .result import Imported, ImportFailure, located

SPEC = re.compile(r"^(?P<module>[^:]+):(?P<attr>[A-Za-z_][\w.]*)$")
DEFAULT_SIZE = 224

# Modules that keep the shape and have no row (no parameters, no MACs that torch counts).
KEEPING = {"Identity", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "StochasticDepth",
           "Hardsigmoid", "QuantStub", "DeQuantStub", "Softmax", "Softmax2d", "LogSoftmax", "ELU", "CELU", "SELU",
           "Mish", "Softplus", "Softsign", "Hardtanh"}
KEEPING_FUNCTIONS = {"dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "stochastic_depth",
                     "contiguous", "clone", "detach", "hardsigmoid", "softmax", "log_softmax", "elu", "mish"}
ACTIVATIONS = {"relu": "relu", "relu_": "relu", "relu6": "relu6", "silu": "silu", "silu_": "silu", "gelu": "gelu",
               "sigmoid": "sigmoid", "sigmoid_": "sigmoid", "tanh": "tanh", "hardswish": "hardswish",
               "leaky_relu": "lrelu"}
# torchvision's modules that are one row each, kept whole by the tracer.
LEAVES = {"LayerNorm2d", "StochasticDepth", "FrozenBatchNorm2d", "ShiftedWindowAttention", "ShiftedWindowAttentionV2",
          "PatchMerging", "PatchMergingV2", "PartitionAttentionLayer"}
TO_CHANNELS_LAST, TO_CHANNELS_FIRST = (0, 2, 3, 1), (0, 3, 1, 2)


class TorchFails(ImportFailure):
    """torch itself refuses the model at the capture size: the message names the node."""


def torch_or_fail():
    try:
        with warnings.catch_warnings():  # torch's own (NumPy missing, say): not the user's business here
            warnings.simplefilter("ignore")
            import torch
            import torch.fx  # noqa: F401
    except ImportError:
        raise ImportFailure("importing a live PyTorch model needs torch: pip install 'convshape[torch]'") from None
    return torch


# ---------------------------------------------------------------------------------------------
# MODULE:ATTR to a module on the meta device


def looks_like_spec(text: str) -> bool:
    """``package.module:Attr`` or ``file.py:Attr``, where no file of that name exists."""
    return bool(SPEC.match(text)) and not os.path.exists(text)


def resolve(spec: str):
    """The object ``MODULE:ATTR`` names: a dotted module, or a ``.py`` file, then an attribute path."""
    match = SPEC.match(spec)
    if match is None:
        raise ImportFailure(f"{spec!r} is not MODULE:ATTR (torchvision.models:resnet18, nets.py:UNet)")
    where, attr = match.group("module"), match.group("attr")
    if where.endswith(".py"):
        if not os.path.isfile(where):
            raise ImportFailure(f"{where}: no such file")
        name = "_convshape_user_" + re.sub(r"\W", "_", os.path.splitext(os.path.basename(where))[0])
        spec_ = importlib.util.spec_from_file_location(name, where)
        module = importlib.util.module_from_spec(spec_)
        sys.modules[name] = module
        folder = os.path.dirname(os.path.abspath(where))
        sys.path.insert(0, folder)  # the file's own imports of its neighbours
        try:
            _run_user(lambda: spec_.loader.exec_module(module), f"running {where}")
        finally:
            sys.path.remove(folder)
    else:
        if "" not in sys.path and os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())  # as `python -c` finds the current folder's modules
        try:
            module = importlib.import_module(where)
        except ModuleNotFoundError as exc:
            if exc.name and where.startswith(exc.name):
                raise ImportFailure(f"no module named {where!r} (from the current folder or the installed packages)"
                                    ) from None
            raise ImportFailure(f"importing {where}: {type(exc).__name__}: {exc}") from None
        except Exception as exc:  # the user's own code failed
            raise ImportFailure(f"importing {where}: {type(exc).__name__}: {exc}") from None
    found = module
    for part in attr.split("."):
        if not hasattr(found, part):
            raise ImportFailure(f"{where} has no attribute {attr!r}")
        found = getattr(found, part)
    return found


def _run_user(call, what: str):
    try:
        return call()
    except ImportFailure:
        raise
    except Exception as exc:
        raise ImportFailure(f"{what}: {type(exc).__name__}: {exc}") from None


@contextlib.contextmanager
def meta_parameters(torch):
    """Every parameter and buffer a module registers moves to the meta device as it is
    registered, so that the initialisers after it do no arithmetic (the builder's own tensor
    arithmetic, as RegNet's widths, still runs on the CPU)."""
    module = torch.nn.Module
    register_parameter, register_buffer = module.register_parameter, module.register_buffer

    def parameter(self, name, param):
        if param is not None and param.device.type != "meta":
            param = torch.nn.Parameter(param.to("meta"), requires_grad=param.requires_grad)
        register_parameter(self, name, param)

    def buffer(self, name, tensor, persistent=True):
        register_buffer(self, name, None if tensor is None else tensor.to("meta"), persistent)

    module.register_parameter, module.register_buffer = parameter, buffer
    try:
        yield
    finally:
        module.register_parameter, module.register_buffer = register_parameter, register_buffer


def build(found, spec: str, torch):
    """An ``nn.Module`` on the meta device, in eval mode, from a class, a factory or an instance."""
    if isinstance(found, torch.nn.Module):
        return _run_user(lambda: found.to("meta"), f"moving {spec} to the meta device").eval()
    if not callable(found):
        raise ImportFailure(f"{spec} is a {type(found).__name__}, not an nn.Module, a class or a factory")
    kwargs = _no_weights(found)
    with meta_parameters(torch):
        made = _run_user(lambda: found(**kwargs), f"building {spec}()")
    if not isinstance(made, torch.nn.Module):
        raise ImportFailure(f"{spec}() gives a {type(made).__name__}, not an nn.Module")
    return made.to("meta").eval()


def _no_weights(factory) -> dict:
    """``weights=None`` and ``weights_backbone=None`` for a factory that takes them (torchvision's
    segmentation and detection models default to downloading a backbone's weights): shapes need none."""
    import inspect

    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return {}
    return {name: None for name in ("weights", "weights_backbone")
            if name in parameters and parameters[name].default is not inspect.Parameter.empty}


# ---------------------------------------------------------------------------------------------
# Capture


def capture(model, torch):
    """``forward`` as an fx graph, each node knowing the module whose forward made it."""
    import torch.fx

    class Tracer(torch.fx.Tracer):
        def __init__(self):
            super().__init__()
            self.record_stack_traces = True
            self.inside: list[str] = []

        def is_leaf_module(self, m, qualname):
            return type(m).__name__ in LEAVES or super().is_leaf_module(m, qualname)

        def call_module(self, m, forward, args, kwargs):
            self.inside.append(self.path_of_module(m))
            try:
                return super().call_module(m, forward, args, kwargs)
            finally:
                self.inside.pop()

        def create_node(self, *args, **kwargs):
            node = super().create_node(*args, **kwargs)
            node.meta["convshape_in"] = self.inside[-1] if self.inside else ""
            return node

    tracer = Tracer()
    try:
        graph = tracer.trace(model)
    except Exception as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ImportFailure(f"torch.fx cannot capture {type(model).__name__}.forward: {message}") from None
    return torch.fx.GraphModule(model, graph)


def shapes(graph_module, size: tuple[int, ...], channels: int, torch) -> dict:
    """Every tensor node's shape, from running the graph on a meta input."""
    import torch.fx

    found: dict = {}
    failed: list = []
    values: dict = {}  # node name -> the number it computed (a size torch._assert's message names)

    class Shapes(torch.fx.Interpreter):
        def run_node(self, node):
            try:
                value = super().run_node(node)
            except Exception as exc:
                failed.append((node, exc))
                raise
            if isinstance(value, int):
                values[node.name] = value
            if isinstance(value, torch.Tensor):
                found[node] = tuple(value.shape)
            return value

    try:
        Shapes(graph_module).run(torch.empty((1, channels, *size), device="meta"))
    except Exception:
        if not failed:
            raise
        node, exc = failed[0]
        # A message fx wrote while tracing names a size by its node (Proxy(getitem_2)): the number it was
        text = re.sub(r"Proxy\((\w+)\)", lambda m: str(values.get(m.group(1), m.group(0))), str(exc).strip())
        message = text.splitlines()[0] if text else type(exc).__name__
        raise TorchFails(f"torch fails at {_where(node)} on a 1×{channels}×{'×'.join(map(str, size))} input:"
                         f" {message}") from None
    return found


def _where(node) -> str:
    """Where a node sits: its module, and the user's line where one is recorded."""
    name = node.target if node.op == "call_module" else _op_name(node)
    inside = node.meta.get("convshape_in", "")
    text = f"{name} in {inside}" if inside and node.op != "call_module" else str(name)
    trace = node.meta.get("stack_trace") or ""
    lines = [(path, line) for path, line in re.findall(r'File "([^"]+)", line (\d+)', trace)
             if not re.search(r"[/\\](torch|convshape)[/\\]", path)]
    if lines:
        path, line = lines[-1]
        text += f" ({os.path.basename(path)}:{line})"
    return text


def _op_name(node) -> str:
    return node.target if node.op == "call_method" else getattr(node.target, "__name__", str(node.target))


# ---------------------------------------------------------------------------------------------
# Nodes to rows


class _Entry(NamedTuple):
    lines: tuple[str, ...]  # `from`, then the rows
    rows: int  # how many of the lines are rows
    layout: str  # "nchw", "nhwc" (channels last, between permutes) or "flat"


class _Writer:
    def __init__(self, model, graph_module, found_shapes):
        self.model = model
        self.gm = graph_module
        self.shapes = found_shapes
        self.alias: dict = {}  # node -> the node whose tensor it is
        self.entries: dict = {}  # node -> _Entry
        self.layout: dict = {}
        self.names: dict = {}  # node -> its name, for the nodes read by name
        self.current = None
        self.skipped: dict[str, list[str]] = {}
        self.used_modules: list[str] = []
        self.used_attrs: list[str] = []
        self.frozen: list[str] = []  # FrozenBatchNorm2d modules
        self.grouped: dict = {}  # node -> (the N×C×H×W tensor, groups, transposed): a channel shuffle under way
        self.sequence: dict = {}  # node -> the N×C×H×W tensor it holds as N×C×(H·W), before its transpose
        self.expanded: dict = {}  # node -> the parameter it expands over the batch (ViT's class token)
        self.expected: dict = {}  # spatial axis -> the size forward asserts the input has (ViT's image_size)
        self.unread: list[str] = []  # torch._assert calls that are no size check of the input (no row)

    # the tensors

    def tensor(self, node):
        while node in self.alias:
            node = self.alias[node]
        return node

    def name(self, node) -> str:
        node = self.tensor(node)
        if node not in self.names:
            self.names[node] = "input" if node.op == "placeholder" else f"t{len(self.names) + 1}"
        return self.names[node]

    def reading(self, node) -> list[str]:
        """The `from` that makes ``node``'s tensor the current one, if it is not."""
        node = self.tensor(node)
        return [] if node is self.current else [f"from {self.name(node)}"]

    def emit(self, node, rows: list[tuple[str, str]], layout: str, before: list[str]) -> None:
        """``node``'s rows, after ``before`` (the `from` that makes its input current, if any)."""
        lines = list(before)
        for text, comment in rows:
            lines.append(f"{text:<36}# {comment}")
        self.entries[node] = _Entry(tuple(lines), len(rows), layout)
        self.layout[node] = layout
        self.current = node

    def keep(self, node, source, why: str | None = None) -> None:
        self.alias[node] = source
        if why:
            self.skipped.setdefault(why, []).append(node.target if node.op == "call_module" else _where(node))

    # the nodes

    def walk(self, nodes) -> None:
        for node in nodes:
            if node.op == "placeholder":
                self.layout[node] = "nchw"
                self.current = node
            elif node.op == "call_module" and type(self.gm.get_submodule(node.target)).__name__ == \
                    "MultiheadAttention":
                self.attention(node)  # its output is a pair (the tensor, the weights): no shape of its own
            elif node.op == "call_function" and getattr(node.target, "__name__", "") == "_assert":
                self.assertion(node)
            elif node.op == "get_attr" or node not in self.shapes:
                continue  # a parameter read by a later node, or a size computation
            elif node.op == "call_module":
                self.module(node)
            elif node.op in ("call_function", "call_method"):
                self.function(node)

    def input_of(self, node):
        first = node.args[0] if node.args else next(iter(node.kwargs.values()), None)
        if first is None or self.tensor(first) not in self.layout:
            raise ImportFailure(f"{_where(node)}: its input is not a tensor convshape follows")
        return first

    def single(self, node, rows, layout=None):
        if self.layout.get(self.tensor(self.input_of(node))) == "grouped":
            raise ImportFailure(f"{_where(node)}: channels regrouped by a view, other than a channel shuffle, have no"
                                " row")
        if node.op == "call_module":  # the channels the module is built for: calc checks them at every size
            takes = _takes(self.gm.get_submodule(node.target))
            if takes is not None:
                rows = [(f"{rows[0][0]} in{takes}", rows[0][1]), *rows[1:]]
        source = self.input_of(node)
        self.emit(node, rows, layout or self.layout[self.tensor(source)], self.reading(source))

    def module(self, node) -> None:
        module = self.gm.get_submodule(node.target)
        cls = type(module).__name__
        path = node.target
        comment = f"{path}: {cls}"
        source = self.input_of(node)
        layout = self.layout[self.tensor(source)]
        self.used_modules.append(path)
        if cls in KEEPING:
            self.keep(node, source, cls)
            return
        if cls == "Flatten":
            self.flatten(node, source, comment)
            return
        if cls in ("LayerNorm2d",):
            self.single(node, [("ln", comment)])
            return
        if cls == "FrozenBatchNorm2d":  # the detection backbones': no parameters, four buffers per channel
            self.frozen.append(path)
            self.single(node, [(f"bn noscale nocenter in{module.weight.shape[0]}", comment)])
            return
        if cls in ("ShiftedWindowAttention", "ShiftedWindowAttentionV2", "PatchMerging", "PatchMergingV2"):
            self.swin(node, module, cls, layout, comment)
            return
        if cls == "PartitionAttentionLayer":
            self.partition(node, module, layout, comment)
            return
        if cls == "LayerNorm":
            if layout == "nchw":
                raise ImportFailure(f"{_where(node)}: a LayerNorm over the last spatial axis has no row")
            self.single(node, [("ln", comment + (" (over channels, between permutes)" if layout == "nhwc" else ""))])
            return
        if cls == "Linear" and layout == "nhwc":
            bias = "" if module.bias is not None else " nobias"
            self.single(node, [(f"conv k1 c{module.out_features}{bias}", f"{comment} (over channels: a 1×1 conv)")])
            return
        if cls == "Linear" and layout == "nchw":
            raise ImportFailure(f"{_where(node)}: a Linear over the last spatial axis has no row: flatten first")
        if cls.startswith(("Upsample", "UpsamplingNearest")):
            from .torch_repr import _upsample

            self.single(node, [(_upsample(module.extra_repr(), path), comment)])
            return
        text = equivalent(cls, module.extra_repr())
        if text is None:
            raise ImportFailure(f"cannot go on past {path} ({cls}({module.extra_repr()})): convshape has no row for"
                                " it")
        if cls.startswith("AvgPool") and getattr(module, "ceil_mode", False) and " ceil" not in text:
            text += " ceil"
        self.single(node, [(text, comment)])

    def assertion(self, node) -> None:
        """``torch._assert(h == 224, ...)`` on the input's size before any row: once every spatial
        axis has one, the row ``expect o224`` (the input, checked), which the rows after read."""
        found = _asserted_size(node)
        placeholder = next((n for n in self.gm.graph.nodes if n.op == "placeholder"), None)
        if found is None or found[0] is not placeholder or self.entries:
            if _reads_a_size(node.args[0] if node.args else None):  # a rank check holds for every stack
                self.unread.append(_where(node))
            return
        rank = len(self.shapes[placeholder])
        self.expected[found[1] % rank] = found[2]
        axes = range(2, rank)
        if all(axis in self.expected for axis in axes):
            self.shapes[node] = self.shapes[placeholder]
            self.layout[node] = "nchw"
            self.alias[placeholder] = node
            self.emit(node, [(f"expect o{'x'.join(str(self.expected[a]) for a in axes)}",
                              f"forward: _assert ({type(self.model).__name__}.forward: the input's size)")], "nchw", [])

    def attention(self, node) -> None:
        """nn.MultiheadAttention(x, x, x) with batch_first: self-attention over a sequence."""
        module = self.gm.get_submodule(node.target)
        comment = f"{node.target}: MultiheadAttention"
        args = list(node.args) + [node.kwargs.get(k) for k in ("query", "key", "value") if k in node.kwargs]
        inputs = [self.tensor(a) for a in args[:3] if hasattr(a, "op")]
        if len(inputs) != 3 or len(set(inputs)) != 1:
            raise ImportFailure(f"{_where(node)}: attention whose query, key and value are not one tensor (cross-"
                                "attention) has no row")
        source = inputs[0]
        if self.layout.get(source) != "tokens":
            raise ImportFailure(f"{_where(node)}: attention over a tensor that is no sequence of tokens has no row")
        if not module.batch_first:
            raise ImportFailure(f"{_where(node)}: nn.MultiheadAttention without batch_first reads (sequence, batch,"
                                " width): no row")
        if module.bias_k is not None or not module._qkv_same_embed_dim:
            raise ImportFailure(f"{_where(node)}: attention with add_bias_kv or its own kdim/vdim has no row")
        bias = "" if module.in_proj_bias is not None else " nobias"
        self.shapes[node] = self.shapes[source]  # its first output is its input's shape
        self.used_modules.append(node.target)
        self.emit(node, [(f"attn h{module.num_heads}{bias}", comment)], "tokens", self.reading(source))

    def tokens(self, node, source, comment) -> None:
        """N×C×(H·W) transposed to N×(H·W)×C: the map as a sequence of tokens (ViT's patches)."""
        self.emit(node, [("tokens", comment)], "tokens", self.reading(source))

    def swin(self, node, module, cls, layout, comment) -> None:
        """torchvision's Swin modules, on a channels-last map: window attention, patch merging."""
        if layout != "nhwc":
            raise ImportFailure(f"{_where(node)}: {cls} reads a channels-last map (N×H×W×C); this one is not")
        v2 = " v2" if cls.endswith("V2") else ""
        if cls.startswith("PatchMerging"):
            self.single(node, [(f"patchmerge{v2}", comment)])
            return
        window, shift = list(module.window_size), list(module.shift_size)
        if module.qkv.bias is None or module.proj.bias is None:
            if (module.qkv.bias is None) != (module.proj.bias is None):
                raise ImportFailure(f"{_where(node)}: a window attention with a bias on one projection only has no row")
        bias = " nobias" if module.qkv.bias is None else ""
        text = f"wattn k{'x'.join(map(str, dict.fromkeys(window)))} h{module.num_heads}"
        if any(shift):
            text += f" s{'x'.join(map(str, dict.fromkeys(shift)))}"
        self.single(node, [(text + v2 + bias, comment)])

    def partition(self, node, module, layout, comment) -> None:
        """MaxViT's PartitionAttentionLayer, one module of eight rows: a pre-norm residual of
        attention within its blocks or grid, and a pre-norm residual MLP (Linear over channels)."""
        if layout != "nchw":
            raise ImportFailure(f"{_where(node)}: PartitionAttentionLayer reads an N×C×H×W map; this one is not")
        attention = module.attn_layer[1]
        norm, expand, activation, reduce = (module.mlp_layer[i] for i in range(4))
        act = ACTIVATIONS.get(type(activation).__name__.lower())
        if act is None or type(norm).__name__ != "LayerNorm" or type(module.attn_layer[0]).__name__ != "LayerNorm":
            raise ImportFailure(f"{_where(node)}: a PartitionAttentionLayer with other norms or activation "
                                f"({type(activation).__name__}) has no rows")
        kind = "battn" if module.partition_type == "window" else "gattn"
        grid = "x".join(map(str, dict.fromkeys(module.grid_size)))
        c = expand.in_features
        before, after = f"a{len(self.entries)}", f"b{len(self.entries)}"  # names of its own, for its two residuals
        lines = list(self.reading(self.input_of(node))) + [f"@{before}"]
        rows = [(f"ln in{c}", f"{comment}: attn_layer.0"),
                (f"{kind} k{attention.size} h{attention.n_heads} o{grid}", f"{comment}: attn_layer.1 ({kind[0]}"
                 f"{'lock' if kind == 'battn' else 'rid'} partition)"),
                (f"add {before}", f"{comment}: the residual"), None,
                (f"ln in{c}", f"{comment}: mlp_layer.0"),
                (f"conv k1 c{expand.out_features} in{c}", f"{comment}: mlp_layer.1 (a Linear over channels)"),
                (act, f"{comment}: mlp_layer.2"),
                (f"conv k1 c{reduce.out_features} in{reduce.in_features}", f"{comment}: mlp_layer.3"),
                (f"add {after}", f"{comment}: the residual")]
        for row in rows:
            lines.append(f"@{after}" if row is None else f"{row[0]:<36}# {row[1]}")
        self.used_modules.append(node.target)
        self.entries[node] = _Entry(tuple(lines), 8, "nchw")
        self.layout[node] = "nchw"
        self.current = node

    def held_as_sequence(self, node, source) -> bool:
        """``node`` is the N×C×H×W ``source`` as N×C×(H·W) (x.flatten(2), a reshape): no row yet, a
        transpose makes it tokens."""
        source = self.tensor(source)
        before, after = self.shapes[source], self.shapes[node]
        if self.layout[source] != "nchw" or len(after) != 3 or after[:2] != before[:2] or len(before) <= 3:
            return False
        self.sequence[node] = source
        self.layout[node] = "sequence"
        return True

    def flatten(self, node, source, comment) -> None:
        shape = self.shapes[node]
        if self.held_as_sequence(node, source):
            return
        if len(shape) != 2:
            raise ImportFailure(f"{_where(node)}: a flatten to {list(shape)} has no row (flatten(x, 1) does)")
        if self.layout[self.tensor(source)] == "flat":
            self.keep(node, source)
            return
        self.single(node, [("flatten", comment)], "flat")

    def function(self, node) -> None:
        name = _op_name(node)
        inside = node.meta.get("convshape_in", "")
        owner = type(self.model.get_submodule(inside)).__name__ if inside else type(self.model).__name__
        comment = f"{inside or 'forward'}: {name} ({owner}.forward)"
        tensors = [a for a in _flat(node.args) + _flat(list(node.kwargs.values())) if self._is_tensor(a)]
        if name == "expand" and node.args and hasattr(node.args[0], "op") and node.args[0].op == "get_attr":
            self.expanded[node] = node.args[0]  # a parameter over the batch: cat puts it before a sequence
            return
        if name == "getitem" and node.args and self.tensor(node.args[0]) in self.entries and \
                self.layout.get(self.tensor(node.args[0])) == "tokens" and node.args[1] == 0 and \
                node.args[0].op == "call_module":
            self.keep(node, node.args[0])  # attention's output, not its weights
            return
        if name == "getitem" and self.token(node, comment):
            return
        if name in KEEPING_FUNCTIONS or name in ("to", "float", "type_as") and tensors:
            self.keep(node, tensors[0], name if name in ("hardsigmoid", "softmax", "log_softmax") else None)
            return
        if name in ACTIVATIONS:
            self.single(node, [(ACTIVATIONS[name], comment)])
            return
        if name in ("hardtanh", "hardtanh_"):
            args = node.normalized_arguments(self.gm, normalize_to_only_use_kwargs=True)
            kwargs = args.kwargs if args else {}
            if (kwargs.get("min_val", -1.0), kwargs.get("max_val", 1.0)) == (0.0, 6.0):
                self.single(node, [("relu6", comment)])
            else:
                self.keep(node, tensors[0], "hardtanh")
            return
        if name in ("add", "iadd", "add_", "mul", "imul", "mul_", "sub", "truediv", "div"):
            self.arithmetic(node, name, tensors, comment)
            return
        if name in ("cat", "concat", "concatenate"):
            self.cat(node, comment)
            return
        if name == "flatten":
            self.flatten(node, self.input_of(node), comment)
            return
        if name in ("view", "reshape"):
            self.reshape(node, comment)
            return
        if name in ("squeeze", "squeeze_"):
            self.squeeze(node, comment)
            return
        if name in ("permute", "transpose", "swapaxes"):
            self.permute(node, comment)
            return
        if name in ("adaptive_avg_pool2d", "adaptive_max_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool3d",
                    "avg_pool2d", "max_pool2d", "avg_pool1d", "max_pool1d", "avg_pool3d", "max_pool3d"):
            self.pool(node, name, comment)
            return
        if name == "mean":
            self.mean(node, comment)
            return
        if name == "interpolate":
            self.interpolate(node, comment)
            return
        if name in ("layer_norm",) and self.layout.get(self.tensor(self.input_of(node))) == "nhwc":
            self.single(node, [("ln", comment + " (over channels, between permutes)")])
            return
        if name == "getitem" and self.chunk(node, comment):
            return
        if name == "getitem" and tensors and len(self.shapes[node]) == len(self.shapes.get(self.tensor(tensors[0]), ())):
            raise ImportFailure(f"{_where(node)}: indexing a tensor has no row")
        raise ImportFailure(f"{_where(node)}: {name} has no row in convshape, so the shapes after it cannot be "
                            "followed exactly")

    def _is_tensor(self, value) -> bool:
        return hasattr(value, "op") and (self.tensor(value) in self.layout or value.op == "get_attr")

    def arithmetic(self, node, name, tensors, comment) -> None:
        followed = [t for t in tensors if self.tensor(t) in self.layout]
        attrs = [t for t in tensors if t.op == "get_attr"]
        base = {"iadd": "add", "imul": "mul", "truediv": "div"}.get(name, name.rstrip("_"))
        if len(followed) == 1 and not attrs:
            self.keep(node, followed[0])  # a tensor and a number: the shape is kept, nothing torch counts
            return
        if len(followed) == 1 and attrs and base == "add" and self.layout[self.tensor(followed[0])] == "tokens":
            self.positions(node, followed[0], attrs[0], comment)
            return
        if len(followed) == 1 and attrs and base == "mul":
            self.attribute(node, followed[0], attrs[0], comment)
            return
        if len(followed) == 2 and base in ("add", "mul", "sub", "div") and not attrs:
            a, b = (self.tensor(t) for t in followed)
            if b is self.current:
                a, b = b, a
            before = self.reading(a)
            other = self.name(b)
            merge = {"sub": "add", "div": "mul"}.get(base, base)  # the same shapes, broadcast alike, no MACs
            if merge != base:
                comment += f": x {'−' if base == 'sub' else '/'} y, read as {merge} (the same shapes)"
            self.emit(node, [(f"{merge} {other}", comment)], self.layout[a], before)
            return
        raise ImportFailure(f"{_where(node)}: {name} of {len(followed)} tensors"
                            f"{' and a parameter' if attrs else ''} has no row")

    def positions(self, node, source, attr, comment) -> None:
        """A sequence plus a learned 1×N×C parameter: a position embedding."""
        parameter = _parameter(self.gm, attr)
        want = self.shapes[node]
        if parameter is None or tuple(parameter.shape) != (1, *want[1:]):
            raise ImportFailure(f"{_where(node)}: a sum with {attr.target} of shape "
                                f"{list(parameter.shape) if parameter is not None else '?'} has no row")
        self.used_attrs.append(attr.target)
        self.emit(node, [(f"posembed n{want[1]}", f"{comment}: {attr.target}")], "tokens", self.reading(source))

    def token(self, node, comment) -> bool:
        """``x[:, i]`` of a sequence: one token, as features (ViT's class token)."""
        base, index = node.args[0], node.args[1] if len(node.args) > 1 else None
        if self.tensor(base) not in self.layout or self.layout[self.tensor(base)] != "tokens":
            return False
        if not (isinstance(index, tuple) and len(index) == 2 and index[0] == slice(None) and isinstance(index[1], int)):
            raise ImportFailure(f"{_where(node)}: indexing a sequence other than x[:, i] has no row")
        self.emit(node, [(f"token i{index[1]}", comment.replace("getitem", "x[:, i]"))], "flat",
                  self.reading(base))
        return True

    def attribute(self, node, source, attr, comment) -> None:
        """x × a learned per-channel parameter: ConvNeXt's layer scale."""
        parameter = _parameter(self.gm, attr)
        shape = self.shapes[node]
        layout = self.layout[self.tensor(source)]
        channels = shape[1] if layout != "nhwc" else shape[-1]
        if parameter is None or parameter.numel() != channels or not _per_channel(tuple(parameter.shape), layout):
            raise ImportFailure(f"{_where(node)}: a product with {attr.target} of shape "
                                f"{list(parameter.shape) if parameter is not None else '?'} has no row")
        self.used_attrs.append(attr.target)
        self.emit(node, [("layerscale", f"{comment}: {attr.target}")], layout, self.reading(source))

    def cat(self, node, comment) -> None:
        parts = node.args[0] if node.args else node.kwargs.get("tensors")
        dim = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim", 0)
        if len(parts) == 2 and parts[0] in self.expanded and self.layout.get(self.tensor(parts[1])) == "tokens":
            attr = self.expanded[parts[0]]
            parameter = _parameter(self.gm, attr)
            if dim in (1, -2) and parameter is not None and tuple(parameter.shape)[:2] == (1, 1):
                self.used_attrs.append(attr.target)
                self.emit(node, [("cls", f"{comment}: {attr.target} before the sequence")], "tokens",
                          self.reading(parts[1]))
                return
        parts = [self.tensor(p) for p in parts]
        rank = len(self.shapes[node])
        if not all(p in self.layout for p in parts) or dim % rank != 1 or self.layout[parts[0]] != "nchw":
            raise ImportFailure(f"{_where(node)}: a cat on dim {dim} has no row (on the channels, dim 1, it is cat)")
        if len(parts) == 1:
            self.keep(node, parts[0])
            return
        last = parts[-1]
        before = self.reading(last)
        names = " ".join(self.name(p) for p in parts[:-1])
        self.emit(node, [(f"cat {names}", comment)], "nchw", before)

    def chunk(self, node, comment) -> bool:
        """``x.chunk(g, dim=1)[i]``: one part of the channels (ShuffleNet's split)."""
        base, index = node.args[0], node.args[1] if len(node.args) > 1 else None
        if not hasattr(base, "op") or _op_name(base) != "chunk" or not isinstance(index, int):
            return False
        source = base.args[0]
        chunks = base.args[1] if len(base.args) > 1 else base.kwargs.get("chunks")
        dim = base.args[2] if len(base.args) > 2 else base.kwargs.get("dim", 0)
        if self.tensor(source) not in self.layout or self.layout[self.tensor(source)] != "nchw":
            return False
        rank = len(self.shapes[self.tensor(source)])
        if not isinstance(chunks, int) or not isinstance(dim, int) or dim % rank != 1:
            raise ImportFailure(f"{_where(base)}: a chunk on dim {dim} has no row (on the channels, dim 1, it is chunk)")
        self.emit(node, [(f"chunk g{chunks} i{index}", comment.replace("getitem", "chunk"))], "nchw",
                  self.reading(source))
        return True

    def squeeze(self, node, comment) -> None:
        """x.squeeze(-1) after a global pool: size-1 spatial axes dropped; down to N×C it is a flatten.
        A tensor between (N×C×1 of a 2-D map) has no row: only a flatten may read it (checked)."""
        source = self.tensor(self.input_of(node))
        before, after = self.shapes[source], self.shapes[node]
        dropped = len(before) - len(after)
        if before == after:
            self.keep(node, source)
        elif (self.layout[source] == "nchw" and after[:2] == before[:2] and dropped > 0
              and all(size == 1 for size in before[2:])):
            if len(after) == 2:
                self.flatten(node, source, comment)
            else:
                self.keep(node, source)  # what reads it is checked against torch's shape
        else:
            raise ImportFailure(f"{_where(node)}: a squeeze of {list(before)} to {list(after)} has no row")

    def reshape(self, node, comment) -> None:
        source = self.tensor(self.input_of(node))
        before, after = self.shapes[source], self.shapes[node]
        if source in self.grouped and self.grouped[source][2] and after == self.shapes[self.grouped[source][0]]:
            start, groups, _ = self.grouped[source]  # view, transpose(1, 2), view back: nn.ChannelShuffle
            self.emit(node, [(f"channelshuffle g{groups}", f"{comment}: a channel shuffle (view, transpose, view)")],
                      "nchw", self.reading(start))
            return
        if (self.layout[source] == "nchw" and len(after) == len(before) + 1 and after[0] == before[0]
                and after[1] * after[2] == before[1] and after[3:] == before[2:]):
            self.grouped[node] = (source, after[1], False)  # channels in groups: a channel shuffle may follow
            self.layout[node] = "grouped"
            return
        if before == after:
            self.keep(node, source)
        elif len(after) == 2 and after[0] == before[0]:
            self.flatten(node, source, comment)
        elif not self.held_as_sequence(node, source):
            raise ImportFailure(f"{_where(node)}: a reshape of {list(before)} to {list(after)} has no row")

    def permute(self, node, comment) -> None:
        source = self.tensor(self.input_of(node))
        if source in self.grouped and _op_name(node) in ("transpose", "swapaxes") and not self.grouped[source][2]:
            rank = len(self.shapes[source])
            if sorted(a % rank for a in node.args[1:3] if isinstance(a, int)) == [1, 2]:
                start, groups, _ = self.grouped[source]
                self.grouped[node] = (start, groups, True)
                self.layout[node] = "grouped"
                return
        dims = tuple(a for a in node.args[1:]) if _op_name(node) == "permute" else None
        if dims and len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        if dims is None and "dims" in node.kwargs:
            dims = tuple(node.kwargs["dims"])
        layout = self.layout[source]
        if layout == "sequence":
            rank = len(self.shapes[source])
            swapped = dims == (0, 2, 1) or dims is None and sorted(
                a % rank for a in node.args[1:3] if isinstance(a, int)) == [1, 2]
            if swapped:
                self.tokens(node, self.sequence[source], comment)
                return
        if dims == TO_CHANNELS_LAST and layout == "nchw":
            self._relabel(node, source, "nhwc")
            return
        if dims == TO_CHANNELS_FIRST and layout == "nhwc":
            self._relabel(node, source, "nchw")
            return
        raise ImportFailure(f"{_where(node)}: a {_op_name(node)} to {list(self.shapes[node])} has no row")

    def _relabel(self, node, source, layout) -> None:
        """A permute between channels first and last: no row; the rows after it read the same tensor."""
        self.alias[node] = source
        self.layout[source] = layout  # the tensor is read in its new layout from here on
        if self.tensor(source) is not self.current and source.op != "placeholder":
            raise ImportFailure(f"{_where(node)}: a permute of a tensor read elsewhere has no row")

    def pool(self, node, name, comment) -> None:
        args = node.normalized_arguments(self.gm, normalize_to_only_use_kwargs=True)
        if args is None:
            raise ImportFailure(f"{_where(node)}: cannot read {name}'s arguments")
        kwargs = {k: v for k, v in args.kwargs.items() if k != "input"}
        if any(hasattr(v, "op") for v in kwargs.values()):
            raise ImportFailure(f"{_where(node)}: {name}'s arguments are computed in forward: no fixed row")
        axes = name[-2]
        cls = {"adaptive_avg_pool": "AdaptiveAvgPool", "adaptive_max_pool": "AdaptiveMaxPool",
               "avg_pool": "AvgPool", "max_pool": "MaxPool"}[name[:-2]] + f"{axes}d"
        text = equivalent(cls, ", ".join(f"{k}={v!r}" for k, v in kwargs.items() if v is not None))
        if text is None:
            raise ImportFailure(f"{_where(node)}: {name}({kwargs}) has no row")
        self.single(node, [(text, comment)])

    def mean(self, node, comment) -> None:
        """x.mean([2, 3]): a global average pool, then a flatten unless keepdim."""
        source = self.tensor(self.input_of(node))
        args = node.normalized_arguments(self.gm, normalize_to_only_use_kwargs=True)
        kwargs = args.kwargs if args else dict(zip(("input", "dim", "keepdim"), node.args), **node.kwargs)
        dims = kwargs.get("dim")
        dims = (dims,) if isinstance(dims, int) else tuple(dims or ())
        rank = len(self.shapes[source])
        if self.layout[source] != "nchw" or sorted(d % rank for d in dims) != list(range(2, rank)):
            raise ImportFailure(f"{_where(node)}: a mean over dims {list(dims)} has no row (over every spatial axis"
                                " it is gap)")
        rows = [("gap", comment)] + ([] if kwargs.get("keepdim") else [("flatten", f"{comment}: the axes go")])
        self.single(node, rows, "nchw" if kwargs.get("keepdim") else "flat")

    def interpolate(self, node, comment) -> None:
        args = node.normalized_arguments(self.gm, normalize_to_only_use_kwargs=True)
        kwargs = args.kwargs if args else dict(node.kwargs)
        size, scale = kwargs.get("size"), kwargs.get("scale_factor")
        mode = kwargs.get("mode", "nearest")
        note = "" if mode == "nearest" else f" ({mode}: the same shape as nearest)"
        like = _shape_of(size)
        if like is not None:
            self.single(node, [(f"up like {self.name(like)}", comment + note)])
        elif isinstance(scale, (int, float)) and size is None:
            self.single(node, [(f"up s{int(scale) if float(scale).is_integer() else scale}", comment + note)])
        elif isinstance(size, (int, tuple, list)) and not any(hasattr(v, "op") for v in _flat([size])):
            values = [size] if isinstance(size, int) else list(size)
            self.single(node, [("up o" + "x".join(map(str, values)), comment + note)])
        else:
            raise ImportFailure(f"{_where(node)}: an interpolate to a size computed in forward has no row")


def _reads_a_size(value, depth: int = 0) -> bool:
    """Whether a traced value reads a tensor's size: ``x.shape[i]`` or ``x.size(i)``."""
    if not hasattr(value, "op") or depth > 6:
        return False
    if value.op == "call_function" and value.target is getattr and value.args[1:2] == ("shape",) or \
            value.op == "call_method" and value.target == "size":
        return True
    return any(_reads_a_size(arg, depth + 1) for arg in value.args)


def _asserted_size(node):
    """(tensor, axis, size) of ``torch._assert(x.shape[axis] == size, ...)``, or None."""
    condition = node.args[0] if node.args else None
    if not hasattr(condition, "op") or getattr(condition.target, "__name__", "") != "eq":
        return None
    size, value = condition.args
    if not isinstance(value, int) or not hasattr(size, "op") or _op_name(size) != "getitem":
        return None
    shape, axis = size.args
    if not isinstance(axis, int) or not hasattr(shape, "op") or not (
            shape.op == "call_function" and shape.target is getattr and shape.args[1] == "shape"):
        return None
    return shape.args[0], axis, value


def _takes(module) -> int | None:
    """The input channels (a Linear's in_features) a module is built for, where it has them."""
    for attribute in ("in_channels", "in_features", "num_features", "num_channels"):
        value = getattr(module, attribute, None)
        if isinstance(value, int):
            return value
    shape = getattr(module, "normalized_shape", None)
    return shape[0] if isinstance(shape, tuple) and len(shape) == 1 else None


def _flat(values) -> list:
    out = []
    for value in values:
        if isinstance(value, (list, tuple)):
            out.extend(_flat(value))
        else:
            out.append(value)
    return out


def _parameter(gm, attr):
    """The parameter a get_attr node reads, or None where it reads something else (a buffer)."""
    try:
        return gm.get_parameter(attr.target)
    except AttributeError:
        return None


def _per_channel(shape: tuple[int, ...], layout: str) -> bool:
    sizes = [s for s in shape if s != 1]
    if len(sizes) > 1:
        return False
    return layout == "nhwc" or len(shape) >= 3 or len(shape) == 1 and layout == "flat"


def _shape_of(size):
    """The tensor whose spatial size ``size`` is (``x.shape[-2:]``, ``x.size()[2:]``), if it is one."""
    if not hasattr(size, "op") or _op_name(size) != "getitem":
        return None
    shape, index = size.args
    if not isinstance(index, slice) or index.step is not None or index.stop is not None or index.start not in (-2, 2):
        return None
    if shape.op == "call_function" and shape.target is getattr and shape.args[1] == "shape":
        return shape.args[0]
    if shape.op == "call_method" and shape.target == "size" and len(shape.args) == 1:
        return shape.args[0]
    return None


# ---------------------------------------------------------------------------------------------
# The stack, checked against torch


class Capture(NamedTuple):
    imported: Imported
    module: Any  # the model on the meta device
    size: tuple[int, ...]
    channels: int
    result: Any  # calc's Result of the stack at ``size``: every row checked against torch


def _outputs(graph) -> list:
    output = next(n for n in graph.nodes if n.op == "output")
    value = output.args[0]
    if isinstance(value, dict):
        value = [value["out"]] if "out" in value else list(value.values())
    return [v for v in _flat([value]) if hasattr(v, "op")]


def _needed(graph, outputs) -> set:
    """The nodes the outputs depend on (Inception's unused branches are left out)."""
    seen, todo = set(), list(outputs)
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        todo.extend(node.all_input_nodes)
    return seen


def read_module(spec: str, size: tuple[int, ...] | None = None, channels: int | None = None) -> Capture:
    """``MODULE:ATTR`` as a stack, checked at ``size`` (default 224×224)."""
    torch = torch_or_fail()
    with warnings.catch_warnings():  # the frameworks' warnings while building and tracing (GoogLeNet's init)
        warnings.simplefilter("ignore")
        model = build(resolve(spec), spec, torch)
        try:
            return from_module(model, size, channels, spec)
        except TorchFails as exc:
            if size is None:
                raise TorchFails(f"{exc} (give -i the size the model takes)") from None
            raise


def from_module(model, size: tuple[int, ...] | None = None, channels: int | None = None,
                name: str | None = None) -> Capture:
    torch = torch_or_fail()
    if not isinstance(model, torch.nn.Module):
        raise ImportFailure(f"a {type(model).__name__} is not an nn.Module")
    if any(p.device.type != "meta" for p in list(model.parameters()) + list(model.buffers())):
        model = model.to("meta")
    model = model.eval()
    first = next((m for m in model.modules() if isinstance(m, torch.nn.modules.conv._ConvNd)), None)
    dims = len(first.kernel_size) if first is not None else 2
    size = tuple(size or (DEFAULT_SIZE,))
    if len(size) == 1:
        size = size * dims
    if len(size) != dims:
        raise ImportFailure(f"the model's first conv ({type(first).__name__}) has {dims} spatial axes, the size "
                            f"{'x'.join(map(str, size))} {len(size)}")
    if channels is None:
        if first is None:
            raise ImportFailure("the model has no conv to take the input channels from: give -c")
        channels = first.in_channels
    gm = capture(model, torch)
    found = shapes(gm, size, channels, torch)
    outputs = _outputs(gm.graph)
    needed = _needed(gm.graph, outputs)
    writer = _Writer(model, gm, found)
    writer.walk([n for n in gm.graph.nodes  # and the checks forward makes before it computes (ViT's size)
                 if n in needed or n.op == "call_function" and getattr(n.target, "__name__", "") == "_assert"])
    ends = [writer.tensor(o) for o in outputs]
    if any(end not in writer.entries for end in ends):
        raise ImportFailure("the model's output is its input: no rows")
    if ends[-1] is not writer.current:
        raise ImportFailure(f"the last output ({_where(ends[-1])}) is not the last row forward computes: "
                            "convshape cannot write that order")
    for end in ends[:-1]:  # the other outputs are bound, so that calc lists them (those nothing else reads)
        writer.name(end)
    label = name or type(model).__name__
    lines = [f"# imported from the live module: {label} (torch.fx, checked at {'x'.join(map(str, size))})"]
    if "input" in writer.names.values():
        lines.append("@input")
    rows_of: dict = {}
    row = 0
    for node in gm.graph.nodes:
        entry = writer.entries.get(node)
        if entry is None:
            continue
        lines.extend(entry.lines)
        row += entry.rows
        rows_of[node] = row
        if node in writer.names:
            lines.append(f"@{writer.names[node]}")
    stack = "\n".join(lines) + "\n"
    notes = []
    for cls, paths in writer.skipped.items():
        notes.append(f"{cls} keeps the shape and has no row: skipped ({located(paths)})")
    if writer.unread:
        notes.append(f"torch._assert other than the input's x.shape[i] == n before any layer has no row "
                     f"({located(writer.unread)}): it held at {'x'.join(map(str, size))}; at another size the model "
                     "may fail there, and calc would not say so")
    if writer.frozen:
        notes.append(f"FrozenBatchNorm2d ({located(writer.frozen)}) holds its scale and "
                     "shift as buffers: its rows (bn noscale nocenter) count its parameters (none) exactly, and 2·C + 1 "
                     "buffers where it holds 4·C")
    found, result = _check(stack, rows_of, writer, gm, model, size, channels, ends)
    imported = Imported(stack, "live module", size, channels, (), tuple(notes + found), len(size), None)
    return Capture(imported, model, size, channels, result)


def _check(stack, rows_of, writer, gm, model, size, channels, ends):
    """Every node's shape and every module's parameters, as calc gives them, against torch's:
    the notes on what calc does not show, and calc's result."""
    from ..calc import run
    from ..counts import count
    from ..grammar import parse_stack
    from ..layers import Convention

    result = run(parse_stack(stack, "<live module>", input_dims=len(size)), size, channels, Convention.TORCH)
    for node, row in rows_of.items():
        got = result.rows[row - 1]
        want = writer.shapes[node]
        if not got.computed:
            raise ImportFailure(f"calc stops at row {row} ({got.layer.text}) where torch runs {_where(node)}:"
                                f" {result.error_row.error.message if result.error_row else ''}")
        ours = _shape(got, writer.entries[node].layout)
        if ours != want[1:]:
            raise ImportFailure(f"row {row} ({got.layer.text}) gives {'×'.join(map(str, ours))} where torch's "
                                f"{_where(node)} gives {'×'.join(map(str, want[1:]))}: not imported, rather than "
                                "wrong")
    costs = count(result)
    for node, row in rows_of.items():
        if node.op != "call_module":
            continue
        module = gm.get_submodule(node.target)
        want = sum(p.numel() for p in module.parameters())
        got = sum(costs.rows[r].params or 0 for r in range(row - writer.entries[node].rows, row))
        if got != want:
            raise ImportFailure(f"row {row} ({result.rows[row - 1].layer.text}) counts {got} parameters where "
                                f"{node.target} ({type(module).__name__}) holds {want}")
    notes = []
    listed = set(result.output_rows)
    unlisted = [_where(end) for end in ends if rows_of[end] not in listed]
    if unlisted:
        notes.append(f"forward returns {len(ends)} tensors; calc lists as outputs the rows no other row reads, so not "
                     f"{', '.join(unlisted)}")
    used = {id(p) for path in writer.used_modules for p in gm.get_submodule(path).parameters()}
    used |= {id(gm.get_parameter(a)) for a in writer.used_attrs}
    unused = [(n, p) for n, p in model.named_parameters() if id(p) not in used]
    if unused:
        owners = sorted({n.rsplit(".", 1)[0] for n, _ in unused})
        total = sum(p.numel() for _, p in unused)
        notes.append(f"{total:,} parameters the model holds are not used by forward in eval mode, and not counted: "
                     f"{', '.join(owners[:4])}{' ...' if len(owners) > 4 else ''}")
    return notes, result


def _shape(row, layout) -> tuple[int, ...]:
    if row.tokens is not None:
        return row.tokens, row.out_channels
    if row.out_size is None:
        return (row.features,) if row.features is not None else (row.out_channels,)
    if layout == "nhwc":
        return (*row.out_size, row.out_channels)
    return (row.out_channels, *row.out_size)
