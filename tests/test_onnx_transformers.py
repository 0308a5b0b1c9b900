"""Vision transformers through ONNX: torch exports torchvision's ViT, Swin and MaxViT here
(dynamo=False, H and W left open), and `convshape calc -f model.onnx` gives FlopCounterMode's
MACs and torch's output at 224, and at 256 and 97 what ONNX Runtime gives for that file: its
output, or a failure at the row made from the node ONNX Runtime fails at."""

import json
import re
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import have
from convshape.cli import app

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.torch,
              pytest.mark.skipif(not all(have(m) for m in ("torch", "torchvision", "onnx", "onnxruntime")),
                                 reason="torch, torchvision, onnx and onnxruntime are not installed")]


def invoke(*args):
    return CliRunner().invoke(app, list(args))


def _torchvision():
    sys.path.insert(0, str(ROOT / "tests" / "golden"))
    import graph_golden

    graph_golden._install_torchvision_stub_ops()
    import torchvision.models

    return torchvision.models


def _export(model, path: Path, size: int = 224) -> None:
    import torch

    torch.onnx.export(model, torch.zeros(1, 3, size, size), str(path), dynamo=False, input_names=["x"],
                      dynamic_axes={"x": {2: "h", 3: "w"}})


def _meta(model, size: int):
    """FlopCounterMode's MACs and the output shape, on the meta device (as the live import's tests)."""
    import copy

    import torch
    from torch.utils.flop_counter import FlopCounterMode

    meta = copy.deepcopy(model).to("meta")
    with FlopCounterMode(display=False) as counter:
        out = meta(torch.empty((1, 3, size, size), device="meta"))
    return counter.get_total_flops() // 2, tuple(out.shape[1:])


def _rows_of(stack: str) -> list[str]:
    """The stack's rows, numbered as calc numbers its layers."""
    return [line for line in stack.splitlines() if line.strip() and not line.startswith(("#", "@", "from "))]


EXPORTS: dict = {}


def _exported(tmp_path_factory, name: str):
    """torchvision's model and torch's export of it, once for this module's tests."""
    if name not in EXPORTS:
        model = getattr(_torchvision(), name)().eval()
        path = tmp_path_factory.mktemp(name) / f"{name}.onnx"
        _export(model, path)
        EXPORTS[name] = model, path
    return EXPORTS[name]


# vit_b_32, vit_l_16 and swin_s too in `python bench/models_table.py --onnx-limit 0` (exports of 0.3 to 1.2 GB)
@pytest.mark.parametrize("name", ["vit_b_16", "swin_t", "swin_v2_t", "maxvit_t"])
def test_torch_s_export_reads_with_flop_counter_macs_and_onnx_runtime_s_outcome(tmp_path_factory, name):
    import numpy as np
    import onnxruntime

    model, path = _exported(tmp_path_factory, name)
    macs, shape = _meta(model, 224)
    result = invoke("calc", "-f", str(path), "-i", "224", "--format", "json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["totals"]["macs"] == macs
    assert (found["output"]["features"],) == shape
    if not any("BatchNorm" in type(m).__name__ for m in model.modules()):  # the export folds BN into the conv
        assert found["totals"]["params"] == sum(p.numel() for p in model.parameters())
    stack = invoke("import", str(path)).stdout
    session = onnxruntime.InferenceSession(str(path))
    for size in (256, 97):
        other = invoke("calc", "-i", str(size), "-c", "3", "--convention", "onnx", "-q", stack)
        try:
            want = session.run(None, {"x": np.zeros((1, 3, size, size), dtype="float32")})[0].shape
        except Exception as exc:  # ONNX Runtime's failure names its node
            node = re.search(r"node\. Name:'([^']+)'", str(exc)).group(1)
            assert other.exit_code == 1, (size, other.output)
            layer = int(re.search(r"layer (\d+)", other.stderr).group(1))
            source = _rows_of(stack)[layer - 1].split("# ")[1].split(":")[0]  # a node, or a block's module
            assert node == source or node.startswith(source + "/"), (size, node, other.stderr)
            continue
        assert other.exit_code == 0, (size, other.output)
        assert other.stdout.strip() == "x".join(map(str, want[1:]))


def test_vit_s_rows_are_its_patches_class_token_positions_attention_and_token(tmp_path_factory):
    stack = invoke("import", str(_exported(tmp_path_factory, "vit_b_16")[1])).stdout
    rows = [row.split("#")[0].split() for row in _rows_of(stack)]
    assert rows[:5] == [["conv", "k16", "s16", "c768", "in3"], ["tokens"], ["cls"], ["posembed", "n197"], ["ln"]]
    assert ["attn", "h12", "in768"] in rows and rows[-2:] == [["token", "i0"], ["linear", "c1000", "in768"]]
    assert sum(row[0] == "attn" for row in rows) == 12


def test_a_swin_exported_at_its_size_says_where_the_file_has_no_shift(tmp_path):
    """At 224 the last stage's map is 7×7, one window: torchvision drops the shift there, and
    the file, traced at that size, has no roll. The rows have none, and the notes say so."""
    import torch

    model = _torchvision().swin_t().eval()
    path = tmp_path / "swin.onnx"
    torch.onnx.export(model, torch.zeros(1, 3, 224, 224), str(path), dynamo=False)
    result = invoke("import", str(path))
    assert result.exit_code == 0, result.output
    said = " ".join(result.stderr.split())
    assert ("2 of them, /features/features.7/features.7.0/attn first: a window covers the whole map at the file's "
            "size, so the export has no shift there") in said
    rows = [row.split("#")[0].split() for row in _rows_of(result.stdout)]
    windows = [row for row in rows if row[0] == "wattn"]
    assert windows[:2] == [["wattn", "k7", "h3"], ["wattn", "k7", "h3", "s3"]]
    assert windows[-2:] == [["wattn", "k7", "h24"], ["wattn", "k7", "h24"]]
    assert ["patchmerge"] in rows


def test_a_classifier_s_softmax_is_no_attention(tmp_path):
    import torch

    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.Flatten(), torch.nn.Linear(8 * 6 * 6, 10),
                                torch.nn.Softmax(dim=1)).eval()
    path = tmp_path / "small.onnx"
    torch.onnx.export(model, torch.zeros(1, 3, 8, 8), str(path), dynamo=False)
    result = invoke("calc", "-f", str(path), "-q")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "10"


def test_cross_attention_is_refused_naming_its_module(tmp_path):
    import torch

    class Cross(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 8, 4, 4)
            self.memory = torch.nn.Parameter(torch.zeros(1, 5, 8))
            self.attn = torch.nn.MultiheadAttention(8, 2, batch_first=True)

        def forward(self, x):
            x = self.conv(x).flatten(2).transpose(1, 2)
            return self.attn(x, self.memory, self.memory)[0]

    path = tmp_path / "cross.onnx"
    torch.onnx.export(Cross().eval(), torch.zeros(1, 3, 16, 16), str(path), dynamo=False)
    result = invoke("import", str(path))
    assert result.exit_code == 1
    assert "node /attn:" in result.stderr and "no convshape row" in " ".join(result.stderr.split())
