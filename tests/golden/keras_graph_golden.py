"""Golden cases for merges under ``--convention tf``, from Keras 3 itself.

Draws random graphs (residual blocks with ``Add``, projection shortcuts, Inception-like
and U-Net-like ``Concatenate``s, ``Multiply`` by a same-shaped branch) mixed with the v1
Keras layers of keras_golden.py, writes each as convshape text and runs it in Keras
from the same drawn program (never from convshape's code) as a functional model,
recording every row's shape or the first failing row and Keras' message.

Regenerate (needs keras and torch; `pip install torch==2.13.0 keras`):
    KERAS_BACKEND=torch python tests/golden/keras_graph_golden.py   # writes keras_graph_cases.json
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

import keras_golden as kg  # noqa: E402  (the v1 generator: its layers and their Keras builds)

GOLDEN = HERE / "keras_graph_cases.json"
SEED = 30
COUNT = 400
BLOCKS = ["layer", "layer", "residual", "projection", "inception", "unet", "gate"]


def _conv(dims: int, k: int, s: int | None = None, p: str = "same", c: int | None = None) -> dict:
    return {"kind": "conv", "k": [k] * dims, "s": [s] * dims if s else None, "p": p, "c": c}


def draw_block(rng: random.Random, block: str, dims: int, fresh) -> list[dict]:
    if block == "layer":
        return [{"op": "layer", "layer": kg.draw_layer(rng, dims)}]
    a, b = fresh(), fresh()
    if block == "residual":
        padding = rng.choice(["same", "same", "valid"])
        return [{"op": "bind", "name": a}, {"op": "layer", "layer": _conv(dims, 3)},
                {"op": "layer", "layer": _conv(dims, 3, p=padding)}, {"op": "merge", "kind": "add", "names": [a]}]
    if block == "projection":
        c = rng.choice([4, 8])
        main_padding, stride = rng.choice(["same", "valid"]), rng.choice([2, 2, 3])
        return [{"op": "bind", "name": a}, {"op": "layer", "layer": _conv(dims, 3, stride, main_padding, c)},
                {"op": "bind", "name": b}, {"op": "from", "name": a},
                {"op": "layer", "layer": _conv(dims, 1, stride, rng.choice(["same", "valid"]), c)},
                {"op": "merge", "kind": "add", "names": [b]}]
    if block == "inception":
        return [{"op": "bind", "name": a}, {"op": "layer", "layer": _conv(dims, 1, c=4)}, {"op": "bind", "name": b},
                {"op": "from", "name": a}, {"op": "layer", "layer": _conv(dims, 3, p=rng.choice(["same", "valid"]), c=4)},
                {"op": "merge", "kind": "cat", "names": [b]}]
    if block == "unet":
        pool = {"kind": "maxpool", "k": [2] * dims, "s": None, "p": rng.choice(["valid", "same"])}
        up = {"kind": "up", "s": [2] * dims}
        return [{"op": "bind", "name": a}, {"op": "layer", "layer": pool}, {"op": "layer", "layer": _conv(dims, 3)},
                {"op": "layer", "layer": up}, {"op": "merge", "kind": "cat", "names": [a]}]
    if block == "gate":  # Multiply by a branch of the same shape (an attention-like gate)
        return [{"op": "bind", "name": a}, {"op": "layer", "layer": _conv(dims, 1, p=rng.choice(["same", "valid"]))},
                {"op": "merge", "kind": "mul", "names": [a]}]
    raise ValueError(block)


def op_text(op: dict) -> str:
    if op["op"] == "layer":
        return kg.layer_text(op["layer"])
    if op["op"] == "bind":
        return "@" + op["name"]
    if op["op"] == "from":
        return "from " + op["name"]
    return " ".join([op["kind"], *op["names"]])


def draw_case(rng: random.Random) -> dict:
    dims = rng.choice([1, 2, 2, 3])
    low, high = {1: (6, 60), 2: (5, 40), 3: (4, 14)}[dims]
    size = kg._axis(rng, dims, low, high)
    count = [0]

    def fresh() -> str:
        count[0] += 1
        return f"n{count[0]}"

    ops: list[dict] = []
    for _ in range(rng.randint(1, 4)):
        ops += draw_block(rng, rng.choice(BLOCKS), dims, fresh)
    ops += [{"op": "layer", "layer": kg.draw_layer(rng, dims, kind)} for kind in rng.choice([[], [], ["gap"], ["flatten", "linear"]])]
    return {"stack": " ".join(op_text(op) for op in ops), "input": "x".join(map(str, size)), "dims": dims,
            "channels": rng.choice([1, 3, 4]), "ops": ops}


def run_keras(case: dict) -> dict:
    import keras

    dims = case["dims"]
    size = [int(v) for v in case["input"].split("x")]
    size = size * dims if len(size) == 1 else size
    # A functional model, as people build one: symbolic tensors with a batch of None, so that
    # Keras' messages are the ones they see.
    x = keras.Input(shape=(*size, case["channels"]))
    env: dict = {}
    shapes, error = [], None
    for op in case["ops"]:
        if op["op"] == "bind":
            env[op["name"]] = x
            continue
        if op["op"] == "from":
            x = env[op["name"]]
            continue
        try:
            if op["op"] == "merge":
                layer = {"add": keras.layers.Add, "mul": keras.layers.Multiply, "cat": keras.layers.Concatenate}[op["kind"]]()
                x = layer([env[name] for name in op["names"]] + [x])
            else:
                kg.CHANNELS[0] = x.shape[-1]
                x = kg._keras_layer(op["layer"], dims)(x)
            if any(n == 0 for n in x.shape):
                raise ValueError(f"empty output {tuple(x.shape)}")
        except Exception as exc:  # Keras raises ValueError, TypeError and backend errors alike
            lines = [line for line in str(exc).splitlines() if line.strip() and "Exception encountered" not in line]
            error = {"layer": len(shapes) + 1, "message": (lines[0] if lines else repr(exc)).strip()[:300]}
            break
        shape = list(x.shape[1:])
        shapes.append(shape if len(shape) == 1 else [shape[-1], *shape[:-1]])
    return {"shapes": shapes, "error": error}


def _refused_on_purpose(case: dict, result: dict) -> bool:
    """As keras_golden.py: Dense on an unflattened map, and torch's avg_pool3d size check."""
    error = result["error"]
    if error and "smaller than kernel size" in error["message"]:
        return True
    rows = [op for op in case["ops"] if op["op"] not in ("bind", "from")]
    for index, op in enumerate(rows[: len(result["shapes"])]):
        incoming = result["shapes"][index - 1] if index else [case["channels"], 0]
        if op["op"] == "layer" and op["layer"]["kind"] == "linear" and len(incoming) > 1:
            return True
    return False


def generate(count: int = COUNT, seed: int = SEED) -> list[dict]:
    from drawing import collect

    return collect(draw_case, run_keras, _refused_on_purpose, count, seed, "ops")


def main() -> None:
    import keras
    from drawing import write

    write(GOLDEN, "tests/golden/keras_graph_golden.py", {"keras": keras.__version__}, SEED, generate())


if __name__ == "__main__":
    main()
