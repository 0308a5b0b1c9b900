"""The way people find shapes without convshape: build the model in PyTorch and run a
tensor through it. Builds the stack in a file (conv, maxpool, gap, flatten, linear
lines as convshape writes them) as an nn.Sequential, runs a 1x3x224x224 tensor on the
meta device (no real arithmetic) and prints each layer's output shape.

    python bench/torch_way.py examples/resnet50.stack
"""

import re
import sys

import torch
from torch import nn


def build(text: str) -> nn.Sequential:
    layers, channels = [], 3
    for line in text.splitlines():
        for spec in line.split("#", 1)[0].split(","):
            words = spec.split()
            if not words:
                continue
            kind, params = words[0], dict(re.fullmatch(r"([a-z]+)(\d+)", w).groups() for w in words[1:])
            k, s, p = int(params.get("k", 1)), int(params.get("s", 0)), int(params.get("p", 0))
            if kind == "conv":
                out = int(params.get("c", channels))
                layers.append(nn.Conv2d(channels, out, k, s or 1, p))
                channels = out
            elif kind == "maxpool":
                layers.append(nn.MaxPool2d(k, s or k, p))
            elif kind == "gap":
                layers.append(nn.AdaptiveAvgPool2d(1))
            elif kind == "flatten":
                layers.append(nn.Flatten())
            elif kind == "linear":
                layers.append(nn.Linear(channels, int(params["c"])))
    return nn.Sequential(*layers)


def main() -> None:
    with torch.device("meta"):
        model = build(open(sys.argv[1]).read())
        x = torch.empty(1, 3, 224, 224)
        for layer in model:
            x = layer(x)
            print(tuple(x.shape))


if __name__ == "__main__":
    main()
