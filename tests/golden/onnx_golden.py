"""Golden cases for ``--convention onnx``, from ONNX Runtime.

Draws random chains of ONNX operators (Conv, ConvTranspose, MaxPool, AveragePool, Pad,
Resize, GlobalAveragePool) with explicit pads per side, auto_pad SAME_UPPER and VALID,
ceil_mode, dilations and output padding; writes each as convshape text *and* builds it
as an ONNX graph from the same drawn numbers (never from convshape's code); runs it in
ONNX Runtime and records each node's output shape, or the first node that fails and the
runtime's message. (onnx's own reference evaluator was tried first: it mis-sizes pools
with uneven pads and fails on auto_pad pools, so the runtime people deploy on is the truth.)

Regenerate (needs onnx and onnxruntime; `pip install onnx onnxruntime`):
    python tests/golden/onnx_golden.py            # writes tests/golden/onnx_cases.json
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
GOLDEN = HERE / "onnx_cases.json"
SEED = 20261130
COUNT = 500
KINDS = ["conv", "conv", "conv", "convt", "maxpool", "maxpool", "avgpool", "pad", "up"]


def _values(rng: random.Random, dims: int, low: int, high: int) -> list[int]:
    first = rng.randint(low, high)
    return [first if rng.random() < 0.75 else rng.randint(low, high) for _ in range(dims)]


def _text(prefix: str, values: list) -> str:
    return prefix + ("x".join(map(str, values)) if len(set(values)) > 1 else str(values[0]))


def draw_layer(rng: random.Random, dims: int, channels: int) -> dict:
    kind = rng.choice(KINDS)
    layer: dict = {"kind": kind}
    if kind in ("conv", "convt", "maxpool", "avgpool"):
        layer["k"] = _values(rng, dims, 1, 5)
        layer["s"] = _values(rng, dims, 1, 3)
        layer["d"] = _values(rng, dims, 1, 2) if kind in ("conv", "convt", "maxpool") and rng.random() < 0.3 \
            else [1] * dims
        mode = rng.choice(["pads", "pads", "pads", "same", "valid"] if kind != "convt" else ["pads", "pads", "same"])
        if mode == "pads":
            limit = [max(k - 1, 0) for k in layer["k"]] if kind != "conv" else [3] * dims
            layer["pads"] = [[rng.randint(0, lim), rng.randint(0, lim)] for lim in limit]
        layer["auto_pad"] = {"pads": "NOTSET", "same": "SAME_UPPER", "valid": "VALID"}[mode]
        if kind in ("maxpool", "avgpool") and mode == "pads" and rng.random() < 0.4:
            layer["ceil"] = True
        if kind == "convt" and mode == "pads" and rng.random() < 0.4:
            layer["op"] = [rng.randint(0, max(s, d) - 1) for s, d in zip(layer["s"], layer["d"])]
        if kind in ("conv", "convt"):
            layer["c"] = rng.randint(1, 4)
    elif kind == "pad":
        layer["pads"] = [[rng.randint(0, 3), rng.randint(0, 3)] for _ in range(dims)]
    else:
        layer["scale"] = [rng.choice([1, 2, 2, 3, 1.5, 0.5])] * dims
    return layer


def layer_text(layer: dict) -> str:
    kind = layer["kind"]
    if kind == "pad":
        return "pad p" + "x".join(f"{b}:{a}" for b, a in layer["pads"])
    if kind == "up":
        return "up s" + "x".join(str(v) for v in layer["scale"])
    if kind == "gap":
        return "gap"
    words = [kind, _text("k", layer["k"]), _text("s", layer["s"])]
    if any(d != 1 for d in layer["d"]):
        words.append(_text("d", layer["d"]))
    if layer["auto_pad"] == "SAME_UPPER":
        words.append("psame")
    elif layer["auto_pad"] == "VALID":
        words.append("pvalid")
    else:
        words.append("p" + "x".join(f"{b}:{a}" for b, a in layer["pads"]))
    if layer.get("op"):
        words.append(_text("op", layer["op"]))
    if layer.get("ceil"):
        words.append("ceil")
    if "c" in layer:
        words.append(f"c{layer['c']}")
    return " ".join(words)


def draw_case(rng: random.Random) -> dict:
    dims = rng.choice([1, 2, 2, 2])
    size = _values(rng, dims, 4, 24)
    channels = rng.randint(1, 3)
    layers = [draw_layer(rng, dims, channels) for _ in range(rng.randint(1, 5))]
    if rng.random() < 0.2:
        layers.append({"kind": "gap"})
    return {"stack": ", ".join(layer_text(layer) for layer in layers), "input": "x".join(map(str, size)),
            "dims": dims, "channels": channels, "layers": layers}


def _node(layer: dict, index: int, source: str, channels: int, dims: int, helper, numpy, initializers: list):
    """The ONNX node(s) of one drawn layer; returns (nodes, output name, output channels)."""
    from onnx import TensorProto

    out = f"y{index}"
    kind = layer["kind"]
    if kind == "gap":
        return [helper.make_node("GlobalAveragePool", [source], [out])], out, channels
    if kind == "pad":
        pads = [0, 0] + [b for b, _ in layer["pads"]] + [0, 0] + [a for _, a in layer["pads"]]
        name = f"pads{index}"
        initializers.append(helper.make_tensor(name, TensorProto.INT64, [len(pads)], pads))
        return [helper.make_node("Pad", [source, name], [out], mode="constant")], out, channels
    if kind == "up":
        name = f"scales{index}"
        initializers.append(helper.make_tensor(name, TensorProto.FLOAT, [2 + dims], [1.0, 1.0, *layer["scale"]]))
        return [helper.make_node("Resize", [source, "", name], [out], mode="nearest")], out, channels
    attributes = {"kernel_shape": layer["k"], "strides": layer["s"]}
    if layer["auto_pad"] == "NOTSET":
        attributes["pads"] = [b for b, _ in layer["pads"]] + [a for _, a in layer["pads"]]
    else:
        attributes["auto_pad"] = layer["auto_pad"]
    if kind in ("conv", "convt", "maxpool") and any(d != 1 for d in layer["d"]):
        attributes["dilations"] = layer["d"]
    if kind in ("maxpool", "avgpool"):
        if layer.get("ceil"):
            attributes["ceil_mode"] = 1
        op = "MaxPool" if kind == "maxpool" else "AveragePool"
        return [helper.make_node(op, [source], [out], **attributes)], out, channels
    weight = f"w{index}"
    shape = [channels, layer["c"]] if kind == "convt" else [layer["c"], channels]
    shape += layer["k"]
    initializers.append(helper.make_tensor(weight, TensorProto.FLOAT, shape, numpy.ones(shape).flatten().tolist()))
    if layer.get("op"):
        attributes["output_padding"] = layer["op"]
    op = "ConvTranspose" if kind == "convt" else "Conv"
    return [helper.make_node(op, [source, weight], [out], **attributes)], out, layer["c"]


def run_onnx(case: dict) -> dict:
    """Each node's output shape (channels, spatial...), or the first node that fails."""
    import numpy
    from onnx import TensorProto, helper
    import onnxruntime

    dims = case["dims"]
    size = [int(v) for v in case["input"].split("x")]
    x = numpy.random.default_rng(0).random((1, case["channels"], *size), dtype=numpy.float32)
    shapes: list = []
    source, channels = "x", case["channels"]
    nodes, initializers, outputs = [], [], []
    for index, layer in enumerate(case["layers"], start=1):
        new, source, channels = _node(layer, index, source, channels, dims, helper, numpy, initializers)
        nodes += new
        outputs.append(source)
    for count in range(1, len(outputs) + 1):  # one graph per prefix: the first failing node is known exactly
        graph = helper.make_graph(nodes[:count], "case",
                                  [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, case["channels"], *size])],
                                  [helper.make_tensor_value_info(outputs[count - 1], TensorProto.FLOAT, None)],
                                  initializer=[i for i in initializers if _used(i.name, nodes[:count])])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
        model.ir_version = 9
        try:
            session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
            result = session.run(None, {"x": x})[0]
        except Exception as exc:  # the evaluator's refusal is the golden answer
            return {"shapes": shapes, "error": {"layer": count, "message": str(exc).splitlines()[0][:200]}}
        if min(result.shape) <= 0:
            return {"shapes": shapes, "error": {"layer": count, "message": f"output shape {list(result.shape)}"}}
        shapes.append(list(result.shape[1:]))
    return {"shapes": shapes, "error": None}


def _used(name: str, nodes: list) -> bool:
    return any(name in node.input for node in nodes)


def generate(count: int = COUNT, seed: int = SEED) -> list[dict]:
    from drawing import collect

    return collect(draw_case, run_onnx, lambda case, result: False, count, seed, "layers")


def main() -> None:
    import onnx
    import onnxruntime
    from drawing import write

    onnxruntime.set_default_logger_severity(4)
    write(GOLDEN, "tests/golden/onnx_golden.py", {"onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__},
          SEED, generate())


if __name__ == "__main__":
    main()
