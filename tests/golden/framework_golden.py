"""Golden cases for framework syntax typed as a stack (`nn.Conv2d(3, 64, 3, stride=2)`):
each call is evaluated by PyTorch or Keras 3 itself on a few inputs, and its output shape
(or its error) recorded, with its parameters (``sum(p.numel())``; Keras' ``count_params()``
and trainable weights). The tests check that the layer convshape's error message offers
instead gives exactly those shapes. Nothing here reads convshape's code.

Regenerate (needs torch and keras; `pip install torch==2.13.0 keras`):
    KERAS_BACKEND=torch python tests/golden/framework_golden.py   # writes tests/golden/framework_cases.json
"""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

HERE = Path(__file__).parent
GOLDEN = HERE / "framework_cases.json"

TORCH_CALLS = [
    "Conv2d(3, 64, kernel_size=3, stride=2, padding=1)",
    "nn.Conv2d(3, 64, 3)",
    "nn.Conv2d(3, 64, (3, 5), padding=(1, 2))",
    "nn.Conv2d(3, 64, 3, padding='same')",
    "nn.Conv2d(4, 8, 3, stride=2, dilation=2, groups=2, bias=False)",
    "torch.nn.Conv1d(3, 8, 5, dilation=2)",
    "nn.Conv3d(3, 8, kernel_size=3, stride=(1, 2, 2), padding=1)",
    "nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1)",
    "nn.ConvTranspose2d(8, 4, kernel_size=3, stride=2, padding=1, output_padding=1)",
    "MaxPool2d(2)",
    "nn.MaxPool2d(3, stride=2, padding=1)",
    "nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)",
    "nn.MaxPool2d(kernel_size=2, stride=1, dilation=2)",
    "nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True)",
    "nn.AvgPool2d(2)",
    "nn.AdaptiveAvgPool2d((1, 1))",
    "nn.AdaptiveAvgPool2d(1)",
    "nn.Upsample(scale_factor=2)",
    "nn.ZeroPad2d(2)",
    "nn.Conv2d(3, 64, 3, bias=False)",
    "nn.ConvTranspose2d(8, 4, 2, stride=2, bias=False)",
    "nn.Linear(48, 10, bias=False)",
    "nn.BatchNorm2d(64)",
    "nn.BatchNorm1d(16)",
    "nn.GroupNorm(4, 8)",
    "nn.InstanceNorm2d(8)",
    "nn.ReLU(inplace=True)",
    "nn.ReLU6()",
    "nn.GELU()",
    "nn.SiLU()",
    "nn.Hardswish()",
    "nn.LeakyReLU(0.1)",
    "nn.Dropout(0.5)",
]

KERAS_CALLS = [
    "Conv2D(64, 3, strides=2, padding='same')",
    "layers.Conv2D(16, (3, 5))",
    "keras.layers.Conv2D(8, 3, dilation_rate=2, padding='same')",
    "layers.Conv2DTranspose(32, 4, strides=2, padding='same')",
    "layers.Conv2DTranspose(8, 3, strides=2)",
    "layers.MaxPooling2D(pool_size=(2, 2))",
    "layers.MaxPooling2D(3, strides=2, padding='same')",
    "layers.AveragePooling2D(2, padding='same')",
    "layers.GlobalAveragePooling2D()",
    "layers.UpSampling2D(size=2)",
    "layers.ZeroPadding2D(padding=1)",
    "layers.Conv1D(8, 5, strides=2)",
    "layers.Conv2D(8, 3, use_bias=False)",
    "layers.Dense(10, use_bias=False)",
    "layers.BatchNormalization()",
    "layers.LayerNormalization()",
    "layers.GroupNormalization(groups=2)",
    "layers.GroupNormalization()",
    "layers.Activation('gelu')",
    "layers.Activation('hard_swish')",
    "layers.Dropout(0.2)",
]

CHANNELS = {"64": 64, "32": 32, "8": 8, "16": 16, "4": 4}
INPUTS = [17, 32, 7]


def _torch_case(call: str, size: int) -> dict:
    import torch
    from torch import nn

    module = eval(call, {"nn": nn, "torch": torch, **{name: getattr(nn, name) for name in dir(nn) if name[0].isupper()}})
    dims = 1 if "1d" in call else 3 if "3d" in call else 2
    channels = next((getattr(module, name) for name in ("in_channels", "num_features", "num_channels", "in_features")
                     if hasattr(module, name)), 3)
    spatial = [] if isinstance(module, (nn.Linear, nn.BatchNorm1d)) else [size] * dims
    shape = (1, channels, *spatial)
    params = sum(p.numel() for p in module.parameters())
    try:
        out = tuple(module.eval()(torch.zeros(shape)).shape)
        return {"call": call, "framework": "torch", "input": [channels, *spatial], "output": list(out[1:]),
                "params": params}
    except RuntimeError as exc:
        return {"call": call, "framework": "torch", "input": [channels, *spatial], "error": str(exc)[:200]}


def _keras_case(call: str, size: int) -> dict:
    import keras
    import numpy
    from keras import layers

    layer = eval(call, {"keras": keras, "layers": layers, **{name: getattr(layers, name) for name in dir(layers)
                                                              if name[0].isupper()}})
    dims = 1 if "1D" in call else 2
    channels = 4
    shape = (1, *([size] * dims), channels)
    if "Dense" in call:  # a flat input of 4 features
        shape = (1, channels)
    try:
        out = tuple(layer(numpy.zeros(shape, dtype="float32")).shape)
        # channels first, as convshape writes shapes; a flat output is its feature count alone
        output = [out[-1], *out[1:-1]] if len(out) > 2 else [out[-1]]
        trainable = sum(int(numpy.prod(w.shape)) for w in layer.trainable_weights)
        return {"call": call, "framework": "keras", "input": [channels, *shape[1:-1]], "output": output,
                "params": layer.count_params(), "trainable": trainable}
    except Exception as exc:  # noqa: BLE001 - Keras raises several kinds
        return {"call": call, "framework": "keras", "input": [channels, *[size] * dims], "error": str(exc)[:200]}


def generate() -> list[dict]:
    cases = [_torch_case(call, size) for call in TORCH_CALLS for size in INPUTS]
    cases += [_keras_case(call, size) for call in KERAS_CALLS for size in INPUTS]
    return cases


if __name__ == "__main__":
    import keras
    import torch

    GOLDEN.write_text(json.dumps({"torch": torch.__version__, "keras": keras.__version__, "cases": generate()}, indent=1)
                      + "\n")
    print(f"wrote {GOLDEN}")
