"""Golden cases from PyTorch for the channel split and shuffle (``x.chunk(g, dim=1)[i]``,
``nn.ChannelShuffle(g)``), among the convs and pools of the chain generator.

Each case is drawn as convshape text and as torch modules from the same drawn numbers,
run by torch: each layer's output shape (or the failing layer and torch's message), its
parameters and FlopCounterMode's count, and the receptive fields of a few central units
from gradients.

Regenerate (needs torch; `pip install torch==2.13.0`):
    python tests/golden/channels_golden.py            # writes tests/golden/channels_cases.json
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

import torch_golden  # noqa: E402  (the chain generator: its layers, modules and gradients)

GOLDEN = HERE / "channels_cases.json"
SEED = 20261205
COUNT = 400


def draw_case(rng: random.Random) -> dict:
    size = rng.randint(2, 24)
    size = [size, size] if rng.random() < 0.7 else [size, rng.randint(2, 24)]
    layers = []
    for _ in range(rng.randint(1, 5)):
        roll = rng.random()
        if roll < 0.3:
            chunks = rng.choice([0, 1, 2, 2, 2, 3, 4, 5])
            layers.append({"kind": "chunk", "g": chunks, "i": rng.choice([0, 0, 1, 1, 2, 3, -1, -2]), "repeat": 1})
        elif roll < 0.55:
            layers.append({"kind": "channelshuffle", "g": rng.choice([0, 1, 2, 2, 2, 3, 4]), "repeat": 1})
        else:
            layer = torch_golden.draw_layer(rng, 2, rng.random() < 0.1, rng.choice(["conv", "conv", "maxpool"]))
            if layer["kind"] == "conv" and rng.random() < 0.7:
                layer["c"] = rng.choice([2, 3, 4, 6, 8, 9, 12, 16])
            layers.append(layer)
    layers = torch_golden.with_costs_drawn(layers)
    return {
        "stack": ", ".join(_text(layer) for layer in layers),
        "input": "x".join(map(str, size)),
        "dims": 2,
        "channels": rng.choice([1, 2, 3, 4, 6, 8, 12]),
        "layers": layers,
    }


def _text(layer: dict) -> str:
    if layer["kind"] == "chunk":
        return f"chunk g{layer['g']} i{layer['i']}"
    if layer["kind"] == "channelshuffle":
        return f"channelshuffle g{layer['g']}"
    return torch_golden.layer_text(layer)


def _module(layer: dict, in_shape: tuple, dims: int, for_field: bool):
    from torch import nn

    class Chunk(nn.Module):
        def __init__(self, chunks, index):
            super().__init__()
            self.chunks, self.index = chunks, index

        def forward(self, x):
            try:
                return x.chunk(self.chunks, dim=1)[self.index]
            except IndexError as error:  # the chain generator records RuntimeErrors: the same text
                raise RuntimeError(str(error)) from None

    if layer["kind"] == "chunk":
        return [Chunk(layer["g"], layer["i"])]
    if layer["kind"] == "channelshuffle":
        return [nn.ChannelShuffle(layer["g"])]
    return _chain_module(layer, in_shape, dims, for_field)


_chain_module = torch_golden._module
torch_golden._module = _module  # the chain generator's runs and gradients build these too


def generate(count: int = COUNT, seed: int = SEED) -> list[dict]:
    from drawing import collect

    return collect(draw_case, torch_golden.run_torch, lambda case, result: False, count, seed, "layers")


def main() -> None:
    import torch
    from drawing import write

    write(GOLDEN, "tests/golden/channels_golden.py", {"torch": torch.__version__}, SEED, generate())


if __name__ == "__main__":
    main()
