"""Attention blocks in an ONNX file, read back as the rows they stand for.

torch's exporter (``torch.onnx.export(..., dynamo=False)``) writes one module as dozens of
nodes: nn.MultiheadAttention as reshapes, transposes, matmuls and a softmax; Swin's window
attention with its pad, roll and mask; MaxViT's partitions. Each node is named after the
module it came from (``/features/features.1/features.1.0/attn/MatMul``), so a module is the
nodes under one name: the reader finds the module around each Softmax (and around Swin's
patch merging, four strided slices concatenated), checks that it reads one tensor and gives
one, and writes it as the row convshape has for it (``attn``, ``wattn``, ``battn``/``gattn``
with their residual MLP, ``patchmerge``), its sizes read from the weights and from the
shapes ONNX's shape inference gives at the file's input size.
"""

from __future__ import annotations

from typing import NamedTuple

from .result import ImportFailure

SHAPE_OPS = {"Shape", "Size"}  # they read a tensor, and give no tensor of the network (the graph reader's too)
INT_MAX = 2 ** 63 - 1


class Block(NamedTuple):
    scope: str  # the module's node names' prefix
    entry: str  # the tensor it reads
    exit: str  # the tensor it gives
    members: frozenset  # indices of its nodes
    rows: tuple[str, ...]  # '@name' lines among them
    layout: str  # of its output: 'tokens', 'last' (channels-last map) or 'map'
    what: str  # what it is, for the rows' comments


class BlockNode:
    """A block as one node of the graph, as the reader's loop keeps it."""

    def __init__(self, block: Block):
        self.name, self.op_type = block.scope, block.what
        self.output, self.input = [block.exit], [block.entry]


def _scope(node) -> str | None:
    return node.name.rsplit("/", 1)[0] if node.name.startswith("/") and "/" in node.name[1:] else None


def _under(node, scope: str) -> bool:
    return node.name.startswith(scope + "/")


def find(graph, entry: str) -> dict[int, Block]:
    """The blocks of the graph, by the index of each node they hold."""
    nodes = graph.nodes
    data, producer = {entry}, {}
    for index, node in enumerate(nodes):
        if node.op_type not in SHAPE_OPS and any(t in data for t in node.input):
            data.update(t for t in node.output if t)
            for t in node.output:
                producer[t] = index
    is_data = [any(t in data for t in node.output if t) and node.op_type not in SHAPE_OPS for node in nodes]
    scopes = []
    for index, node in enumerate(nodes):
        if not is_data[index]:
            continue
        if node.op_type == "Softmax" and _scope(node) and _scores(graph, nodes, index, producer, data):
            scopes.append(_attention_scope(nodes, is_data, _scope(node)))
        elif node.op_type == "Concat" and _scope(node) and _merges_four_slices(graph, node, producer, nodes):
            scopes.append(_scope(node))
    readers: dict[str, set] = {}
    for i, node in enumerate(nodes):
        for t in node.input if is_data[i] else ():  # a Shape of a tensor reads no data
            readers.setdefault(t, set()).add(i)
    blocks: dict[int, Block] = {}
    for number, scope in enumerate(dict.fromkeys(scopes), 1):
        block = _block(graph, nodes, is_data, producer, readers, data, scope, number)
        for index in block.members:
            blocks[index] = block
    return blocks


def _scores(graph, nodes, index: int, producer: dict, data: set) -> bool:
    """A softmax over attention scores: a product of two tensors, neither a weight (QKᵀ), before it,
    through the scale, the bias and the mask; not a classifier's softmax over its logits."""
    todo, seen = [index], set()
    while todo and len(seen) < 16:
        node = nodes[todo.pop()]
        seen.add(id(node))
        if node.op_type in ("MatMul", "Einsum") and any(t in data for t in node.input) and \
                not any(graph.is_constant(t) for t in node.input):  # not a weight: queries by keys
            return True
        if node.op_type in ("MatMul", "Einsum", "Gemm", "Conv"):
            continue
        todo.extend(producer[t] for t in node.input if t in data and t in producer)
    return False


def _attention_scope(nodes, is_data, scope: str) -> str:
    """MaxViT's partition layer holds its attention: the layer is the block when it has a
    ``partition_op``; otherwise the module around the softmax is."""
    parts = scope.split("/")
    for depth in range(len(parts) - 1, 0, -1):
        outer = "/".join(parts[:depth])
        if any(flag and _under(node, outer + "/partition_op") for node, flag in zip(nodes, is_data)):
            return outer
    return scope


def _merges_four_slices(graph, node, producer, nodes) -> bool:
    """Swin's patch merging: x[..., 0::2, 0::2, :] and three more, concatenated on the channels."""
    if len(node.input) != 4 or graph.attributes(node).get("axis") not in (-1, 3):
        return False
    for tensor in node.input:
        source = nodes[producer[tensor]] if tensor in producer else None
        if source is None or source.op_type != "Slice" or len(source.input) < 5:
            return False
        if graph.integers(source.input[4]) != [2]:
            return False
    return True


def _block(graph, nodes, is_data, producer, readers, data, scope: str, number: int) -> Block:
    inside = {i for i, node in enumerate(nodes) if is_data[i] and _under(node, scope)}
    outputs = {t for i in inside for t in nodes[i].output if t}
    finals = {o.name for o in graph.graph_outputs}
    exits = [t for t in outputs if t in data and (readers.get(t, set()) - inside or t in finals)]
    entries = [t for i in inside for t in nodes[i].input if t in data and t not in outputs]
    if len(exits) != 1 or len(set(entries)) != 1:
        raise ImportFailure(f"node {scope}: an attention module reading {len(set(entries))} tensors and giving "
                            f"{len(exits)} has no convshape row")
    entry, exit_ = entries[0], exits[0]
    members, todo = set(), [producer[exit_]]  # every node between the two, named under the scope or not
    while todo:
        index = todo.pop()
        if index in members:
            continue
        members.add(index)
        for t in nodes[index].input:
            if t in data and t != entry:
                if t not in producer:
                    raise ImportFailure(f"node {scope}: the module reads the model's input past its own input")
                todo.append(producer[t])
    ordered = [nodes[i] for i in sorted(members)]
    rows, layout, what = _rows(graph, ordered, entry, scope, data, number)
    return Block(scope, entry, exit_, frozenset(members), tuple(rows), layout, what)


def _heads_and_length(graph, ordered, where: str) -> tuple[int, int]:
    """The heads and the sequence length of an attention: from the softmax's input (N·heads×L×L,
    or …×heads×L×L), or else from a relative position bias of 1×heads×L×L the file holds."""
    softmax = [n for n in ordered if n.op_type == "Softmax"]
    if len(softmax) != 1:
        raise ImportFailure(f"node {where}: a module with {len(softmax)} softmaxes has no convshape row")
    shape = graph.shapes.get(softmax[0].input[0]) or []
    heads = shape[-3] if len(shape) >= 3 else None
    if heads is not None and len(shape) == 3:  # (N·heads, L, L)
        heads = heads // graph.batch if graph.batch else None
    length = shape[-1] if shape else None
    for node in ordered:
        if length is not None and heads is not None:
            break
        bias = next((graph.weight_dims(t) for t in node.input if graph.is_constant(t)), None) \
            if node.op_type == "Add" else None
        if bias and len(bias) == 4 and bias[0] == 1 and bias[2] == bias[3] > 1:
            heads, length = heads or bias[1], length or bias[2]
    if heads is None or length is None:
        raise ImportFailure(f"node {where}: the attention's heads or length are not in the file (ONNX's shape "
                            "inference does not give them)")
    return heads, length


def _weights(graph, ordered, data) -> list[tuple[object, list[int], bool]]:
    """The projections in order: (node, [in, out], has a bias)."""
    found = []
    consumers: dict[str, list] = {}
    for node in ordered:
        for t in node.input:
            consumers.setdefault(t, []).append(node)
    for node in ordered:
        if node.op_type not in ("MatMul", "Gemm") or not graph.is_constant(node.input[1]):
            continue
        dims = graph.weight_dims(node.input[1])
        if dims is None or len(dims) != 2:
            continue
        if node.op_type == "Gemm":
            attrs = graph.attributes(node)
            dims = [dims[1], dims[0]] if attrs.get("transB") else dims
            bias = len(node.input) > 2 and bool(node.input[2])
        else:  # an Add of a tensor the input does not reach: a constant, or Swin V2's bias with k's part zeroed
            bias = any(c.op_type == "Add" and any(t not in data for t in c.input)
                       for c in consumers.get(node.output[0], []))
        found.append((node, dims, bias))
    return found


def _rows(graph, ordered, entry: str, scope: str, data, number: int):
    ops = {n.op_type for n in ordered}
    in_shape = graph.shapes.get(entry) or []
    projections = _weights(graph, ordered, data)
    if "Softmax" not in ops:  # patch merging
        return _merging(graph, ordered, in_shape, projections, scope)
    heads, length = _heads_and_length(graph, ordered, scope)
    if any(_under(n, scope + "/partition_op") for n in ordered):
        return _partition(graph, ordered, in_shape, projections, heads, length, scope, number)
    if len(projections) != 2 or projections[0][1][1] != 3 * projections[0][1][0] or \
            projections[1][1] != [projections[0][1][0]] * 2:
        raise ImportFailure(f"node {scope}: an attention whose projections are not one of C to 3C (queries, keys and"
                            " values of one tensor) and one of C to C has no convshape row: cross-attention has none")
    width = projections[0][1][0]
    bias = "" if projections[0][2] and projections[1][2] else " nobias"
    if projections[0][2] != projections[1][2]:
        raise ImportFailure(f"node {scope}: an attention with a bias on one projection only has no convshape row")
    if len(in_shape) == 3:
        return [f"attn h{heads}{bias} in{width}"], "tokens", "MultiheadAttention"
    if len(in_shape) != 4:
        raise ImportFailure(f"node {scope}: an attention over a tensor of rank {len(in_shape)} has no convshape row")
    return _window_attention(graph, ordered, in_shape, heads, length, bias, scope)


def _window_attention(graph, ordered, in_shape, heads, length, bias, where):
    """Swin's: on a channels-last map, padded to whole windows, the roll before the windows."""
    windows = [graph.shapes.get(n.output[0]) for n in ordered if n.op_type == "Reshape"]
    window = next(([s[2], s[4]] for s in windows if s and len(s) == 6 and None not in (s[2], s[4])), None)
    if window is None or window[0] * window[1] != length:
        raise ImportFailure(f"node {where}: a window attention whose windows the file does not fix has no row")
    shift = [0, 0]
    first_matmul = next(i for i, n in enumerate(ordered) if n.op_type == "MatMul")
    for node in ordered[:first_matmul]:  # torch.roll(x, -s): the slices x[s:] and x[:s], concatenated
        if node.op_type != "Slice" or len(node.input) < 4:
            continue
        starts, ends, axes = (graph.integers(node.input[i]) for i in (1, 2, 3))
        if axes in ([1], [2]) and starts and ends and starts[0] > 0 and ends[0] >= INT_MAX:
            shift[axes[0] - 1] = starts[0]
    v2 = " v2" if any(n.op_type == "ReduceL2" for n in ordered) else ""
    text = f"wattn k{'x'.join(map(str, dict.fromkeys(window)))} h{heads}"
    if any(shift):
        text += f" s{'x'.join(map(str, dict.fromkeys(shift)))}"
    return [text + v2 + bias], "last", "window attention"


def _merging(graph, ordered, in_shape, projections, where):
    width = in_shape[-1] if in_shape else None
    if len(projections) != 1 or projections[0][2] or width is None or projections[0][1] != [4 * width, 2 * width]:
        raise ImportFailure(f"node {where}: a patch merging whose linear is not 4C to 2C without bias has no"
                            " convshape row")
    order = [n.op_type for n in ordered if n.op_type in ("MatMul", "LayerNormalization")]
    return [f"patchmerge{' v2' if order[:1] == ['MatMul'] else ''}"], "last", "patch merging"


def _partition(graph, ordered, in_shape, projections, heads, length, scope, number):
    """MaxViT's partition layer: ln, attention in blocks or grid, residual; ln, MLP, residual."""
    side = int(round(length ** 0.5))
    norms = [n for n in ordered if n.op_type == "LayerNormalization"]
    acts = [n.op_type for n in ordered if n.op_type in ("Gelu", "Relu", "Sigmoid", "Tanh")]
    if side * side != length or len(projections) != 4 or len(norms) != 2 or len(acts) != 1 \
            or not all(bias for _, _, bias in projections):
        raise ImportFailure(f"node {scope}: a partition attention other than torchvision MaxViT's (ln, attention, ln,"
                            " linear, activation, linear, two residuals) has no convshape rows")
    c, (_, expand, _), (_, reduce, _) = projections[0][1][0], projections[2], projections[3]
    kind = "gattn" if any(_under(n, scope + "/partition_swap") for n in ordered) else "battn"
    cut = next((s for s in (graph.shapes.get(n.output[0]) for n in ordered if n.op_type == "Reshape")
                if s and len(s) == 6 and None not in (s[3], s[5])), None)  # N×C×(H/p)×p×(W/p)×p
    if cut is None:
        raise ImportFailure(f"node {scope}: a partition attention whose partition the file does not fix has no row")
    if kind == "gattn":  # partitioned into g×g cells of the grid the layer is built for: g·p a side
        grid = "x".join(map(str, dict.fromkeys([cut[3] * side, cut[5] * side])))
    else:
        grid = "x".join(map(str, dict.fromkeys(in_shape[2:]))) if len(in_shape) == 4 and None not in in_shape[2:] \
            else None
    before, after = f"p{number}a", f"p{number}b"  # its two residuals' names
    rows = [f"@{before}", f"ln in{c}", f"{kind} k{side} h{heads}" + (f" o{grid}" if grid else ""), f"add {before}", f"@{after}",
            f"ln in{c}", f"conv k1 c{expand[1]} in{expand[0]}", acts[0].lower(), f"conv k1 c{reduce[1]} in{reduce[0]}",
            f"add {after}"]
    return rows, "map", f"{'grid' if kind == 'gattn' else 'block'} partition attention"
