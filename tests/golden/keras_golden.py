"""Golden cases from Keras 3 itself (``--convention tf``).

Draws random stacks of conv, transposed conv, pools, upsampling, zero padding, global
pooling, flatten and dense layers with ``pvalid``/``psame``, strides 1 to 4, odd and
even kernels; writes each as convshape text and builds it as Keras layers from the same
drawn parameters (never from convshape's code); records each layer's output shape or
the first failing layer and Keras' message, and each layer's ``count_params()`` and
trainable weights. Norms, activations, dropout and ``nobias`` are drawn by a second
generator seeded from each case's layers, so the layers drawn first stay what they were.

Regenerate (needs keras and torch; `pip install torch==2.13.0 keras`):
    KERAS_BACKEND=torch python tests/golden/keras_golden.py   # writes tests/golden/keras_cases.json
"""

from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
GOLDEN = HERE / "keras_cases.json"
SEED = 3
COUNT = 600

SPATIAL_KINDS = ["conv", "conv", "conv", "convt", "maxpool", "avgpool", "up", "pad"]
KEEPING = ["bn", "bn", "relu", "ln", "gn", "in", "gelu", "silu", "sigmoid", "tanh", "hardswish", "lrelu", "relu6",
           "dropout"]
FLAT_KEEPING = ["bn", "relu", "ln", "gn", "gelu", "dropout"]  # instance norm needs a map
TAILS = [[], [], ["flatten"], ["flatten", "linear"], ["gap"], ["gap", "linear"], ["linear"], ["gap", "conv"]]


def _axis(rng: random.Random, dims: int, low: int, high: int) -> list[int]:
    if dims > 1 and rng.random() < 0.2:
        return [rng.randint(low, high) for _ in range(dims)]
    return [rng.randint(low, high)] * dims


def _fmt(values: list[int]) -> str:
    return str(values[0]) if len(set(values)) == 1 else "x".join(map(str, values))


def draw_layer(rng: random.Random, dims: int, kind: str | None = None) -> dict:
    kind = kind or rng.choice(SPATIAL_KINDS)
    layer: dict = {"kind": kind}
    if kind in ("conv", "convt", "maxpool", "avgpool"):
        layer["k"] = _axis(rng, dims, 1, 6)
        layer["s"] = _axis(rng, dims, 1, 4) if rng.random() < 0.7 else None
        layer["p"] = rng.choice(["valid", "same", None])
    if kind in ("conv", "convt"):
        layer["c"] = rng.choice([None, 4, 8])
        if rng.random() < 0.2:
            layer["d"] = [2] * dims
            if rng.random() < 0.7:
                layer["s"] = None  # Keras refuses strides > 1 with dilation > 1; keep a few of those
    if kind == "convt" and rng.random() < 0.2 and layer["p"] is not None:
        stride = layer["s"] or [1] * dims
        layer["op"] = [rng.randint(0, s - 1) for s in stride]
    if kind == "up":
        layer["s"] = [rng.choice([2, 2, 3])] * dims
    if kind == "pad":
        layer["p"] = [(rng.randint(0, 2), rng.randint(0, 2)) for _ in range(dims)]
    if kind == "linear":
        layer["c"] = rng.choice([10, 32])
    return layer


def layer_text(layer: dict) -> str:
    parts = [layer["kind"]]
    if layer.get("k"):
        parts.append("k" + _fmt(layer["k"]))
    if layer.get("s"):
        parts.append("s" + _fmt(layer["s"]))
    p = layer.get("p")
    if isinstance(p, str):
        parts.append("p" + p)
    elif isinstance(p, list):
        parts.append("p" + "x".join(f"{b}:{a}" for b, a in p))
    if layer.get("d"):
        parts.append("d" + _fmt(layer["d"]))
    if layer.get("c"):
        parts.append(f"c{layer['c']}")
    if layer.get("op") is not None:
        parts.append("op" + _fmt(layer["op"]))
    if layer.get("g"):
        parts.append(f"g{layer['g']}")
    if layer.get("bias") is False:
        parts.append("nobias")
    return " ".join(parts)


def with_costs_drawn(layers: list[dict]) -> list[dict]:
    """The layers with biases dropped and shape-keeping layers added, from a generator seeded
    by the layers themselves."""
    extra = random.Random(json.dumps(layers, sort_keys=True))
    out, flat = [], False
    for layer in layers:
        flat = flat or layer["kind"] in ("flatten", "linear", "gap")  # Keras' global pooling flattens
        if layer["kind"] in ("conv", "convt", "linear"):
            layer["bias"] = extra.random() < 0.6
        out.append(layer)
        if extra.random() < 0.35:
            kind = extra.choice(FLAT_KEEPING if flat else KEEPING)
            out.append({"kind": kind, **({"g": extra.choice([1, 2, 4])} if kind == "gn" else {})})
    return out


def draw_case(rng: random.Random) -> dict:
    dims = rng.choice([1, 2, 2, 3])
    low, high = {1: (6, 60), 2: (5, 40), 3: (4, 12)}[dims]
    size = _axis(rng, dims, low, high)
    layers = [draw_layer(rng, dims) for _ in range(rng.randint(1, 5))]
    layers += [draw_layer(rng, dims, kind) for kind in rng.choice(TAILS)]
    layers = with_costs_drawn(layers)
    return {
        "stack": ", ".join(layer_text(layer) for layer in layers),
        "input": "x".join(map(str, size)),
        "dims": dims,
        "channels": rng.choice([1, 3, 4]),
        "layers": layers,
    }


def _keras_layer(layer: dict, dims: int):
    import keras

    nd = f"{dims}D"
    kind = layer["kind"]
    padding = layer.get("p") if isinstance(layer.get("p"), str) else "valid"
    if kind == "conv":
        return getattr(keras.layers, "Conv" + nd)(
            layer.get("c") or CHANNELS[0], tuple(layer["k"]), strides=tuple(layer["s"] or [1] * dims),
            padding=padding, dilation_rate=tuple(layer.get("d") or [1] * dims), use_bias=layer.get("bias", True),
        )
    if kind == "convt":
        op = tuple(layer["op"]) if layer.get("op") is not None else None
        return getattr(keras.layers, "Conv" + nd + "Transpose")(
            layer.get("c") or CHANNELS[0], tuple(layer["k"]), strides=tuple(layer["s"] or [1] * dims),
            padding=padding, output_padding=op, dilation_rate=tuple(layer.get("d") or [1] * dims),
            use_bias=layer.get("bias", True),
        )
    if kind in ("maxpool", "avgpool"):
        name = ("MaxPooling" if kind == "maxpool" else "AveragePooling") + nd
        return getattr(keras.layers, name)(tuple(layer["k"]), strides=tuple(layer["s"]) if layer["s"] else None, padding=padding)
    if kind == "up":
        size = layer["s"][0] if dims == 1 else tuple(layer["s"])
        return getattr(keras.layers, "UpSampling" + nd)(size)
    if kind == "pad":
        pads = tuple(tuple(pair) for pair in layer["p"])
        return getattr(keras.layers, "ZeroPadding" + nd)(pads[0] if dims == 1 else pads)
    if kind == "gap":
        return getattr(keras.layers, "GlobalAveragePooling" + nd)()
    if kind == "flatten":
        return keras.layers.Flatten()
    if kind == "linear":
        return keras.layers.Dense(layer["c"], use_bias=layer.get("bias", True))
    if kind == "bn":
        return keras.layers.BatchNormalization()
    if kind == "ln":
        return keras.layers.LayerNormalization()
    if kind == "gn":
        return keras.layers.GroupNormalization(groups=layer["g"])
    if kind == "in":  # one group per channel, without the affine scale and shift, as PyTorch's default
        return keras.layers.GroupNormalization(groups=-1, center=False, scale=False)
    if kind == "dropout":
        return keras.layers.Dropout(0.5)
    names = {"relu": "relu", "gelu": "gelu", "silu": "silu", "sigmoid": "sigmoid", "tanh": "tanh",
             "hardswish": "hard_swish", "lrelu": "leaky_relu", "relu6": "relu6"}
    return keras.layers.Activation(names[kind])


CHANNELS = [1]  # the current channel count, for layers that keep it


def run_keras(case: dict) -> dict:
    import numpy as np

    dims = case["dims"]
    size = [int(v) for v in case["input"].split("x")]
    size = size * dims if len(size) == 1 else size
    x = np.ones((1, *size, case["channels"]), dtype="float32")
    shapes, error, params, trainable = [], None, [], []
    for index, layer in enumerate(case["layers"], 1):
        CHANNELS[0] = x.shape[-1]
        try:
            built = _keras_layer(layer, dims)
            x = built(x)
            if any(n == 0 for n in x.shape):
                raise ValueError(f"empty output {tuple(x.shape)}")
        except Exception as exc:  # Keras raises ValueError, TypeError and backend errors alike
            lines = [line for line in str(exc).splitlines() if line.strip() and "Exception encountered" not in line]
            error = {"layer": index, "message": (lines[0] if lines else repr(exc)).strip()[:200]}
            break
        shape = list(x.shape[1:])
        # convshape lists channels first: (C, *spatial), or (features,) when flat.
        shapes.append(shape if len(shape) == 1 else [shape[-1], *shape[:-1]])
        params.append(built.count_params())
        trainable.append(sum(int(np.prod(w.shape)) for w in built.trainable_weights))
    return {"shapes": shapes, "error": error, "params": params, "trainable": trainable}


def _refused_on_purpose(case: dict, result: dict) -> bool:
    """Cases left out, each for a stated reason:
    - Keras' Dense accepts unflattened input (it acts on the last axis); convshape refuses it.
    - On the torch backend, AveragePooling3D inherits torch's avg_pool3d check that the
      unpadded input is at least the kernel; TensorFlow itself has no such limit, and
      ``--convention tf`` follows TensorFlow.
    """
    error = result["error"]
    if error and "smaller than kernel size" in error["message"]:
        return True
    for index, layer in enumerate(case["layers"][: len(result["shapes"])]):
        incoming = result["shapes"][index - 1] if index else [case["channels"], 0]
        if layer["kind"] == "linear" and len(incoming) > 1:
            return True
    return False


def generate(count: int = COUNT, seed: int = SEED) -> list[dict]:
    from drawing import collect

    return collect(draw_case, run_keras, _refused_on_purpose, count, seed, "layers")


def main() -> None:
    import keras
    from drawing import write

    write(GOLDEN, "tests/golden/keras_golden.py", {"keras": keras.__version__}, SEED, generate())


if __name__ == "__main__":
    main()
