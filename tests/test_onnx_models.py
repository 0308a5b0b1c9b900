"""ONNX files torch exports, read back: for torchvision's CNNs of every family, exported
here by torch (with H and W left open), calc gives FlopCounterMode's MACs and the output
at the export size, and at other sizes the output ONNX Runtime computes for that file."""

import sys
from pathlib import Path

import pytest

from conftest import have

pytestmark = [pytest.mark.torch,
              pytest.mark.skipif(not all(have(m) for m in ("torch", "torchvision", "onnx", "onnxruntime")),
                                 reason="torch, torchvision, onnx and onnxruntime are not installed")]

# One or two of each family; ShuffleNet's split and shuffle, MNASNet's mean, ConvNeXt's channels-last blocks.
MODELS = ["resnet18", "resnext50_32x4d", "mobilenet_v2", "mobilenet_v3_small", "squeezenet1_0", "mnasnet0_5",
          "shufflenet_v2_x0_5", "densenet121", "googlenet", "inception_v3", "efficientnet_b0", "regnet_y_400mf",
          "regnet_x_400mf", "convnext_tiny"]


@pytest.mark.parametrize("name", MODELS)
def test_a_torch_export_gives_flop_counter_macs_and_onnx_runtime_s_outputs(tmp_path, name):
    import numpy as np
    import onnxruntime
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    sys.path.insert(0, str(Path(__file__).parent / "golden"))
    import graph_golden

    graph_golden._install_torchvision_stub_ops()
    import torchvision

    from convshape import calc
    from convshape.counts import count
    from convshape.importers import read

    size = 299 if name == "inception_v3" else 224
    model = torchvision.models.get_model(name).eval()
    x = torch.zeros(1, 3, size, size)
    path = tmp_path / f"{name}.onnx"
    torch.onnx.export(model, x, str(path), dynamo=False, input_names=["x"], dynamic_axes={"x": {2: "h", 3: "w"}})
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        out = model(x)
    stack = read(path.read_bytes(), str(path)).stack
    result = calc(stack, size, 3, "onnx")
    assert result.valid
    assert count(result).totals.macs == counter.get_total_flops() // 2
    assert (result.output.features,) == tuple(out.shape[1:])
    session = onnxruntime.InferenceSession(str(path))
    for other in ((97, 97), (320, 480)):
        want = session.run(None, {"x": np.zeros((1, 3, *other), dtype="float32")})[0].shape
        got = calc(stack, other, 3, "onnx")
        assert got.valid and (got.output.features,) == tuple(want[1:]), other
