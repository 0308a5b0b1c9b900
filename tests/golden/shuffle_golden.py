"""Golden cases from PyTorch for pixel shuffle and unshuffle (``nn.PixelShuffle``,
``nn.PixelUnshuffle``), among the convs and pools of the chain generator.

Each case is drawn as convshape text and as torch modules from the same drawn numbers,
run by torch: each layer's output shape (or the failing layer and torch's message), its
parameters and FlopCounterMode's count, the receptive fields of a few central units
from gradients, and ``print(model)`` of the whole stack built as one nn.Sequential, which
the import test reads back.

Regenerate (needs torch; `pip install torch==2.13.0`):
    python tests/golden/shuffle_golden.py            # writes tests/golden/shuffle_cases.json
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

import torch_golden  # noqa: E402  (the chain generator: its layers, modules and gradients)

GOLDEN = HERE / "shuffle_cases.json"
SEED = 20261204
COUNT = 400
SHUFFLES = ("pixelshuffle", "pixelunshuffle")


def draw_case(rng: random.Random) -> dict:
    size = rng.randint(2, 24)
    size = [size, size] if rng.random() < 0.7 else [size, rng.randint(2, 24)]
    layers = []
    for _ in range(rng.randint(1, 5)):
        if rng.random() < 0.5:
            factor = rng.choice([2, 2, 2, 3, 4])
            layers.append({"kind": rng.choice(SHUFFLES), "s": [factor, factor], "repeat": 1})
        else:
            layer = torch_golden.draw_layer(rng, 2, rng.random() < 0.1, rng.choice(["conv", "conv", "maxpool"]))
            if layer["kind"] == "conv" and rng.random() < 0.7:  # channels a shuffle can take, mostly
                layer["c"] = rng.choice([4, 8, 9, 12, 16, 18, 27, 32, 36])
            layers.append(layer)
    layers = torch_golden.with_costs_drawn(layers)
    return {
        "stack": ", ".join(torch_golden.layer_text(layer) for layer in layers),
        "input": "x".join(map(str, size)),
        "dims": 2,
        "channels": rng.choice([1, 2, 3, 4, 8, 9, 12, 16]),
        "layers": layers,
    }


def _module(layer: dict, in_shape: tuple, dims: int, for_field: bool):
    from torch import nn

    if layer["kind"] == "pixelshuffle":
        return [nn.PixelShuffle(layer["s"][0])]
    if layer["kind"] == "pixelunshuffle":
        return [nn.PixelUnshuffle(layer["s"][0])]
    return _chain_module(layer, in_shape, dims, for_field)


_chain_module = torch_golden._module
torch_golden._module = _module  # the chain generator's runs and gradients build shuffles too


def run(case: dict) -> dict:
    import torch
    from torch import nn

    result = torch_golden.run_torch(case)
    if result["error"] is None:  # the whole stack as one model, as its user would print it
        size = [int(v) for v in case["input"].split("x")]
        x = torch.zeros(1, case["channels"], *size)
        modules = []
        for layer in torch_golden._expanded(case):
            steps = _module(layer, tuple(x.shape), 2, False)
            if not all(type(step).__module__.startswith("torch.nn") for step in steps):  # a pad, a layer scale
                modules = None
                break
            for step in steps:
                x = step(x)
            modules += steps
        result["repr"] = None if modules is None else str(nn.Sequential(*modules))
    return result


def generate(count: int = COUNT, seed: int = SEED) -> list[dict]:
    from drawing import collect

    return collect(draw_case, run, lambda case, result: False, count, seed, "layers")


def main() -> None:
    import torch
    from drawing import write

    write(GOLDEN, "tests/golden/shuffle_golden.py", {"torch": torch.__version__}, SEED, generate())


if __name__ == "__main__":
    main()
