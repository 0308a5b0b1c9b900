"""The channel split (``chunk g2 i0``) and the channel shuffle (``channelshuffle g2``),
ShuffleNet's two moves, against torch: the golden cases of tests/golden/channels_golden.py
(shapes, torch's refusals, parameters, FLOPs, receptive fields), and what a user reads."""

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import have
from convshape.cli import app

GOLDEN = Path(__file__).parent / "golden"
sys.path.insert(0, str(GOLDEN))

from compare import all_field_mismatches, all_mismatches  # noqa: E402

CASES = json.loads((GOLDEN / "channels_cases.json").read_text())["cases"]
runner = CliRunner()
# A ShuffleNet V2 unit of stride 1 (torchvision's InvertedResidual): half the channels pass, half run the branch.
UNIT = ("@x chunk g2 i0 @kept from x chunk g2 i1, conv k1 c58 nobias, bn, relu, conv k3 p1 dw nobias, bn, "
        "conv k1 c58 nobias, bn, relu, cat kept, channelshuffle g2")


def invoke(*args, input=None):
    return runner.invoke(app, list(args), input=input)


def test_the_golden_cases_cover_both_kinds_and_torch_s_refusals():
    assert len(CASES) >= 300 and sum(case["error"] is None for case in CASES) >= 80
    messages = " ".join(case["error"]["message"] for case in CASES if case["error"])
    for message in ("tuple index out of range", "chunk expects `chunks` to be greater than 0",
                    "Number of channels must be divisible by groups", "Number of groups to divide channels in must"):
        assert message in messages
    valid = " ".join(case["stack"] for case in CASES if case["error"] is None)
    for text in ("chunk g3 i-1", "chunk g2 i1", "channelshuffle g3", "channelshuffle g2"):
        assert text in valid


def test_every_golden_case_has_torch_s_shapes_refusals_parameters_and_flops():
    assert all_mismatches(CASES) == []


def test_every_golden_case_has_torch_s_receptive_fields():
    problems, exact = all_field_mismatches(CASES)
    assert problems == [] and exact >= 200


@pytest.mark.parametrize("stack, channels, message", [
    ("chunk g4 i3", 6, "6 channels in 4 chunks of at most 2 make 3 parts: there is no part 3 (PyTorch fails with "
                       "'tuple index out of range')"),
    ("chunk g2 i-3", 5, "5 channels in 2 chunks of at most 3 make 2 parts: there is no part -3"),
    ("chunk g0 i0", 5, "chunk into 0 parts: PyTorch fails with 'chunk expects `chunks` to be greater than 0, got: 0'"),
    ("channelshuffle g2", 5, "5 channels are not a multiple of 2 groups: PyTorch fails with 'Number of channels must"
                             " be divisible by groups. Got 5 channels and 2 groups.'"),
    ("channelshuffle g0", 4, "0 groups: PyTorch fails with 'Number of groups to divide channels in must be positive."
                             " Value of groups:0'"),
    ("flatten, channelshuffle g2", 4, "channelshuffle needs spatial axes, but flatten at layer 1 removed them"),
])
def test_what_torch_refuses_is_an_error_naming_the_numbers(run, stack, channels, message):
    done = run("calc", "-i", "8", "-c", str(channels), "-q", stack)
    assert done.returncode == 1
    assert message in done.stderr


@pytest.mark.parametrize("stack, channels, out", [
    ("chunk g4 i2", 6, "2x8x8"),  # the last of the 3 parts there are
    ("chunk g2 i-1", 5, "2x8x8"), ("chunk g2 i-2", 5, "3x8x8"), ("chunk g2 i1", 5, "2x8x8"),
    ("chunk g1 i0", 5, "5x8x8"), ("chunk g7 i6", 7, "1x8x8"),
    ("channelshuffle g2", 4, "4x8x8"), ("channelshuffle g4", 4, "4x8x8"), ("channelshuffle g1", 3, "3x8x8"),
])
def test_at_the_boundary_it_runs(run, stack, channels, out):
    done = run("calc", "-i", "8", "-c", str(channels), "-q", stack)
    assert (done.returncode, done.stdout) == (0, out + "\n")


def test_a_shufflenet_unit_keeps_its_shape_and_counts_its_branch_alone():
    result = invoke("calc", "-i", "28", "-c", "116", "--format", "json", UNIT)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["output"] == {"channels": 116, "size": [28, 28], "features": None} or \
        payload["output"]["channels"] == 116
    # torchvision's InvertedResidual(116, 116, 1): branch2's parameters, 7,598 (58·58 + 116 + 58·9 + 116 + 58·58 + 116)
    assert payload["totals"]["params"] == 58 * 58 + 116 + 58 * 9 + 116 + 58 * 58 + 116


def test_explain_and_the_cost_say_which_channels():
    explained = invoke("calc", "-i", "4", "-c", "5", "--explain", "--no-color", "chunk g2 i1")
    assert "chunk 2: 3 + 2 channels; part 1 has 2" in explained.stdout


@pytest.mark.skipif(not have("torch"), reason="torch is not installed")
def test_the_exported_torch_unit_runs_with_the_shapes_calc_gives():
    import torch

    code = invoke("export", "--to", "torch", "-i", "28", "-c", "116", UNIT).stdout
    namespace = {"__name__": "exported"}
    exec(compile(code, "exported.py", "exec"), namespace)
    model = namespace["model"].eval()
    assert tuple(model(torch.zeros(1, 116, 28, 28)).shape) == (1, 116, 28, 28)
    assert sum(p.numel() for p in model.parameters()) == 58 * 58 + 116 + 58 * 9 + 116 + 58 * 58 + 116


@pytest.mark.skipif(not have("keras") or not have("torch"), reason="keras (on torch) is not installed")
def test_the_exported_keras_shuffle_and_chunk_move_the_same_channels_as_torch(monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    import numpy as np
    import torch

    code = invoke("export", "--to", "keras", "-i", "2x3", "-c", "6", "@x chunk g4 i-1, channelshuffle g1 @a, "
                  "from x channelshuffle g3").stdout
    namespace = {"__name__": "exported"}
    exec(compile(code, "exported.py", "exec"), namespace)
    x = np.arange(6 * 6, dtype="float32").reshape(1, 2, 3, 6)  # N×H×W×C
    outputs = namespace["model"](x)
    t = torch.from_numpy(x).permute(0, 3, 1, 2)
    chunked = torch.nn.ChannelShuffle(1)(t.chunk(4, dim=1)[-1])
    shuffled = torch.nn.ChannelShuffle(3)(t)
    got = [np.asarray(o.detach().cpu() if hasattr(o, "detach") else o) for o in outputs]
    assert np.array_equal(got[0], chunked.permute(0, 2, 3, 1).numpy())
    assert np.array_equal(got[1], shuffled.permute(0, 2, 3, 1).numpy())


def test_print_model_reads_torch_s_channel_shuffle_module():
    text = "Sequential(\n  (0): Conv2d(3, 8, kernel_size=(1, 1), stride=(1, 1))\n  (1): ChannelShuffle(groups=2)\n)\n"
    imported = invoke("import", "-", input=text)
    assert imported.exit_code == 0, imported.output
    assert "channelshuffle g2                   # 1: ChannelShuffle" in imported.stdout


def _split_model(tmp_path, sizes):
    from onnx import TensorProto, helper, save

    split = helper.make_tensor("sizes", TensorProto.INT64, [len(sizes)], sizes)
    nodes = [helper.make_node("Split", ["x", "sizes"], [f"p{i}" for i in range(len(sizes))], name="split", axis=1),
             helper.make_node("Concat", [f"p{i}" for i in reversed(range(len(sizes)))], ["y"], name="cat", axis=1)]
    graph = helper.make_graph(nodes, "split", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 6, 4, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializer=[split])
    path = tmp_path / "split.onnx"
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    return str(path)


@pytest.mark.skipif(not have("onnx"), reason="onnx is not installed")
def test_an_onnx_split_on_the_channels_is_its_chunks(tmp_path):
    imported = invoke("import", _split_model(tmp_path, [3, 3]))
    assert imported.exit_code == 0, imported.output
    rows = [line.split("#")[0].strip() for line in imported.stdout.splitlines() if not line.startswith("#")]
    # Concat(p1, p0): the second part first, as cat names its inputs before the current one
    assert rows == ["@v1", "chunk g2 i0", "@v2", "from v1", "chunk g2 i1", "@v3", "from v2", "cat v3"]
    assert invoke("calc", "-f", _split_model(tmp_path, [2, 2, 2]), "-q").stdout == "6x4x4\n"


@pytest.mark.skipif(not have("onnx"), reason="onnx is not installed")
def test_an_onnx_split_that_is_no_chunk_is_refused_naming_the_channels(tmp_path):
    imported = invoke("import", _split_model(tmp_path, [2, 4]))
    assert imported.exit_code == 1
    assert "node split: channels 2 to 6 of 6 are no part of x.chunk(g): convshape has no layer for them" in \
        imported.stderr
