"""`convshape import`, and `-f` of model files: print(model), Keras JSON and ONNX.

The golden files in tests/golden/models were written by the frameworks
(tests/golden/import_golden.py), with the shapes each module, layer or node gives.
Import then calc reproduces them: the stack's comments name the source of every row.
"""

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import have, onnx_file
from convshape.cli import app

runner = CliRunner()
GOLDEN = Path(__file__).parent / "golden"
CASES = json.loads((GOLDEN / "import_cases.json").read_text())["cases"]
needs_onnx = pytest.mark.skipif(not have("onnx"), reason="onnx is not installed (pip install 'convshape[onnx]')")
# torchvision networks whose forward convshape's reader knows; the others are read as sequences.
WIRED = ["resnet18", "resnet50", "vgg16", "alexnet", "mobilenet_v2", "efficientnet_b0", "convnext_tiny", "densenet121"]


def invoke(*args, stdin=None):
    return runner.invoke(app, list(args), input=stdin)


def _rows_with_sources(stack: str) -> list[str | None]:
    """Per row of an imported stack, the source its comment names (None for a row with none)."""
    sources = []
    for line in stack.splitlines():
        text, _, comment = line.partition("#")
        words = text.split()
        if not words or words[0].startswith("@") or words[0] == "from":
            continue
        sources.append(comment.split(":")[0].strip() or None)
    return sources


def _shape(row: dict) -> list:
    return [row["features"]] if row["out_size"] is None else [row["out_channels"], *row["out_size"]]


def _imported(path: Path, *options):
    stack = invoke("import", str(path))
    assert stack.exit_code == 0, stack.stderr
    calc = invoke("calc", "-f", str(path), "--format", "json", *options)
    return stack, calc


# ----------------------------------------------------------------------------- print(model)

@pytest.mark.parametrize("name", WIRED)
def test_print_model_of_a_torchvision_network_gives_torch_s_shapes_and_parameters(name):
    case = CASES["torch"][name]
    stack, calc = _imported(GOLDEN / case["file"], "-i", "224", "-c", "3")
    assert calc.exit_code == 0, calc.stderr
    assert "does not show how forward wires" not in stack.stderr
    rows = json.loads(calc.stdout)["layers"]
    sources = _rows_with_sources(stack.stdout)
    assert len(sources) == len(rows)
    calls = {path: list(shapes) for path, shapes in case["shapes"].items()}
    compared = 0
    for row, source in zip(rows, sources):
        if source in calls and row["kind"] not in ("add", "mul", "layerscale"):
            expected = calls[source].pop(0)
            if ".block." in source and expected != _shape(row):  # ConvNeXt's block runs channels last
                expected = [expected[-1], *expected[:-1]]
            assert _shape(row) == expected, (name, row["index"], source)
            compared += 1
    # Every call of every leaf module is a row, but those with no layer: StochasticDepth (the identity at
    # inference, skipped with a note) and ConvNeXt's Permutes around its channels-last block.
    leftover = [path for path, shapes in calls.items()
                if shapes and not re.search(r"stochastic_depth$|^features\.\d+\.\d+\.block\.[16]$", path)]
    assert leftover == [] and compared > 20
    assert _shape(rows[-1]) == case["output"]
    assert json.loads(calc.stdout)["totals"]["params"] == case["params"]


@pytest.mark.parametrize("name, module", [("googlenet", "the model (GoogLeNet), conv1 (BasicConv2d)")])
@pytest.mark.parametrize("command", [["import"], ["calc", "-i", "224", "-c", "3", "--strict", "-f"]])
def test_a_network_whose_forward_the_reader_does_not_know_is_refused_never_guessed(name, module, command):
    """Inception blocks concatenate branches the repr does not show: read as a sequence,
    every number after the first would be wrong."""
    result = invoke(*command, str(GOLDEN / CASES["torch"][name]["file"]))
    assert (result.exit_code, result.stdout) == (1, "")
    assert f"print(model) does not show how forward wires {module}" in result.stderr
    assert "and convshape does not guess" in result.stderr
    assert "The exact routes: the live model (convshape import MODULE:ATTR, with torch installed) or an ONNX file" \
        in result.stderr


def test_pasting_print_model_into_import_gives_a_stack_calc_accepts():
    text = (GOLDEN / CASES["torch"]["vgg16"]["file"]).read_text()
    imported = invoke("import", "-", stdin=text)
    assert imported.exit_code == 0
    assert imported.stdout.splitlines()[:3] == [
        "# the model's input: calc -c 3",
        "# imported from print(model): VGG",
        "conv k3 p1 c64 in3                  # features.0: Conv2d",
    ]
    assert "classifier.0 (Linear) follows spatial layers: a flatten is put before it" in imported.stderr
    calc = invoke("calc", "-i", "224", "-c", "3", "-f", "-", "-q", stdin=imported.stdout)
    assert calc.exit_code == 0 and calc.stdout == "1000\n"


def test_a_flatten_the_model_has_is_the_only_one_and_the_linear_after_it_gets_no_note():
    text = ("Sequential(\n  (0): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1))\n  (1): Flatten(start_dim=1, end_dim=-1)\n"
            "  (2): Linear(in_features=288, out_features=10, bias=True)\n)\n")
    result = invoke("import", "-", stdin=text)
    assert result.exit_code == 0, result.output
    rows = [line.split("#")[0].strip() for line in result.stdout.splitlines() if not line.startswith("#")]
    assert rows == ["conv k3 c8 in3", "flatten", "linear c10 in288"]
    assert "flatten is put before it" not in result.stderr


def test_unknown_modules_are_skipped_when_they_keep_the_shape_and_stop_the_import_otherwise():
    keeps = "Net(\n  (a): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1))\n  (b): Mish()\n  (c): Softmax(dim=1)\n)\n"
    result = invoke("import", "-", stdin=keeps.replace("Net(", "Sequential(", 1))
    assert result.exit_code == 0
    assert "Mish keeps the shape and has no parameters: skipped (b)" in result.stderr
    result = invoke("import", "-", stdin=keeps)  # a model of the user's own: its forward is not shown
    assert result.exit_code == 1 and "does not show how forward wires the model (Net)" in result.stderr
    changes = "Net(\n  (a): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1))\n  (b): Unfold(kernel_size=2, dilation=1, padding=0, stride=1)\n)\n"
    result = invoke("import", "-", stdin=changes)
    assert result.exit_code == 1 and result.stdout == ""
    assert "cannot go on past b (Unfold(kernel_size=2, dilation=1, padding=0, stride=1)): convshape has no layer for it" \
        in result.stderr


@pytest.mark.parametrize("text, message", [
    ("ResNet(\n  (conv1): Conv2d(3, 64, kernel_size=(7, 7))\n", "the text ends inside ResNet"),
    ("Net(\n  (a): Conv2d(3, 8, kernel_size=(3, 3))\n  conv1 Conv2d\n)\n",
     "line 3: 'conv1 Conv2d' is not a '(name): Module(...)' line"),
    ("conv k3 s2\n", "is neither a print(model) text, a Keras model's JSON nor an ONNX file"),
    ("", "is empty"),
    ('{"class_name": "Functional", "config": {"layers": 3}}', "Functional's config has no list of layers"),
])
def test_what_is_not_a_model_gets_a_clear_error(text, message):
    result = invoke("import", "-", stdin=text)
    assert result.exit_code in (1, 2)
    assert message in result.stderr
    assert "Traceback" not in result.output


# ----------------------------------------------------------------------------- Keras JSON

@pytest.mark.parametrize("name", sorted(CASES["keras"]))
def test_keras_json_gives_keras_shapes_and_weights(name):
    case = CASES["keras"][name]
    stack, calc = _imported(GOLDEN / case["file"])
    assert calc.exit_code == 0, calc.stderr
    result = json.loads(calc.stdout)
    assert result["convention"] == "tf"  # Keras' semantics, without --convention
    assert result["input"]["size"] == [int(v) for v in case["input"].split("x")]
    rows = result["layers"]
    last_row = {}
    for row, source in zip(rows, _rows_with_sources(stack.stdout)):
        last_row[source] = row
    for layer, row in last_row.items():
        shape = case["shapes"][layer]
        expected = shape if len(shape) == 1 else [shape[-1], *shape[:-1]]
        if len(shape) == 1 and row["out_size"] and set(row["out_size"]) == {1}:  # the SE gate keeps a 1×1 map
            expected = [shape[0], *row["out_size"]]
        assert _shape(row) == expected, (name, layer)
    assert len(last_row) >= 0.8 * len(case["shapes"])
    # InceptionV3's BatchNormalization(scale=False) is bn noscale; EfficientNet's Normalization, normalize
    assert ("bn noscale" in stack.stdout) == (name == "InceptionV3")
    assert result["totals"]["params"] == case["trainable"]
    assert result["totals"]["params"] + result["totals"]["buffers"] == case["params"]


# ----------------------------------------------------------------------------- ONNX

@needs_onnx
@pytest.mark.parametrize("name", sorted(CASES["onnx"]))
def test_onnx_files_give_the_shapes_of_onnx_shape_inference(name):
    case = CASES["onnx"][name]
    stack, calc = _imported(GOLDEN / case["file"])
    assert calc.exit_code == 0, calc.stderr
    result = json.loads(calc.stdout)
    assert result["convention"] == "onnx" and result["input"]["size"] == [224, 224]
    compared = 0
    for row, source in zip(result["layers"], _rows_with_sources(stack.stdout)):
        if source in case["shapes"]:
            expected = case["shapes"][source]
            if re.search(r"/(LayerNormalization|MatMul|Gelu)$", source):  # ConvNeXt's channels-last stretches
                expected = [expected[-1], *expected[:-1]]
            assert _shape(row) == expected, (name, row["index"], source)
            compared += 1
    assert compared >= 0.5 * len(result["layers"])
    assert result["totals"]["params"] + result["totals"]["buffers"] == case["params"]


_onnx_file = onnx_file


@needs_onnx
@pytest.mark.parametrize("node, message", [
    (("LpPool", {"kernel_shape": [2, 2]}), "cannot go on past node lp (LpPool): convshape has no layer for it"),
    (("Transpose", {"perm": [0, 1, 3, 2]}), "cannot go on past node lp (Transpose [0, 1, 3, 2])"),
])
def test_an_onnx_node_convshape_has_no_layer_for_stops_the_import_by_name(tmp_path, node, message):
    from onnx import helper

    op, attributes = node
    path = _onnx_file(tmp_path, helper.make_node(op, ["x"], ["y"], name="lp", **attributes))
    result = invoke("calc", "-f", path)
    assert result.exit_code == 1
    assert message in result.stderr


@needs_onnx
def test_convnext_s_channels_last_blocks_come_through_as_convshape_s_layers():
    """Transpose to N×H×W×C, LayerNormalization, MatMul over the channels, Transpose back:
    ln and 1×1 convs, as examples/convnext-tiny.stack writes them."""
    stack = invoke("import", str(GOLDEN / CASES["onnx"]["convnext_tiny"]["file"]))
    rows = [line.split("#")[0].split() for line in stack.stdout.splitlines() if line and not line.startswith("#")]
    words = [row[0] for row in rows if row]
    assert words[:11] == ["conv", "ln", "@v1", "conv", "ln", "conv", "gelu", "conv", "layerscale", "add", "@v2"]
    assert "Transpose ×46" in stack.stderr


@needs_onnx
def test_the_input_size_comes_from_the_file_and_i_overrides_it():
    path = str(GOLDEN / CASES["onnx"]["resnet18"]["file"])
    assert invoke("calc", "-f", path, "-q").stdout == "1000\n"
    table = invoke("calc", "-f", path, "--columns", "index,out")
    assert "512×7×7" in table.stdout
    bigger = invoke("calc", "-f", path, "-i", "448", "--format", "json")
    assert json.loads(bigger.stdout)["input"]["size"] == [448, 448]
    assert "512×14×14" in invoke("calc", "-f", path, "-i", "448", "--columns", "index,out").stdout


def test_without_the_onnx_package_the_error_says_what_to_install(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_onnx(name, *args, **kwargs):
        if name == "onnx" or name.startswith("onnx."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnx)
    result = invoke("import", str(GOLDEN / CASES["onnx"]["resnet18"]["file"]))
    assert result.exit_code == 1
    assert "reading ONNX files needs the onnx package: pip install 'convshape[onnx]'" in result.stderr


def test_a_crop_after_a_transposed_conv_is_its_uneven_padding():
    text = ("Sequential(\n  (0): Sequential(\n    (0): ConvTranspose2d(3, 8, kernel_size=(3, 3), stride=(2, 2), "
            "padding=(1, 1))\n    (1): ZeroPad2d((0, -1, 0, -1))\n  )\n)\n")
    stack = invoke("import", "-", stdin=text)
    assert stack.exit_code == 0
    assert stack.stdout.splitlines()[2].startswith("convt k3 s2 p1:2 c8 ")  # 1 each side, and 1 more cropped after
    assert "0.1: its crop" in stack.stdout
    assert invoke("calc", "-i", "5", "-c", "3", "-f", "-", "-q", stdin=text).stdout == "8x8x8\n"  # (5−1)·2 − 3 + 3


def test_avgpool_s_repr_hides_ceil_mode_and_the_import_says_so():
    text = "Sequential(\n  (0): AvgPool2d(kernel_size=2, stride=2, padding=0)\n)\n"
    result = invoke("import", "-", stdin=text)
    assert "0 (AvgPool2d): PyTorch's repr of AvgPool does not show ceil_mode; read as floor" in result.stderr


@pytest.mark.parametrize("center, scale, row, params", [
    (False, False, "bn noscale nocenter", 0), (True, False, "bn noscale", 4), (False, True, "bn nocenter", 4),
    (True, True, "bn", 8)])
def test_a_keras_batchnorm_without_center_or_scale_counts_only_what_it_has(center, scale, row, params):
    """Keras' BatchNormalization(center=False, scale=False) has neither beta nor gamma."""
    tensor = {"class_name": "__keras_tensor__", "config": {"shape": [None, 8, 8, 4], "keras_history": ["x", 0, 0]}}
    model = {"class_name": "Functional", "config": {"name": "m", "layers": [
        {"class_name": "InputLayer", "name": "x", "config": {"batch_shape": [None, 8, 8, 4], "name": "x"},
         "inbound_nodes": []},
        {"class_name": "BatchNormalization", "name": "bn", "config": {"name": "bn", "center": center, "scale": scale},
         "inbound_nodes": [{"args": [tensor], "kwargs": {}}]},
    ]}}
    imported = invoke("import", "-", stdin=json.dumps(model))
    assert f"{row:<36}# bn: BatchNormalization" in imported.stdout
    result = invoke("calc", "-f", "-", "--format", "json", stdin=json.dumps(model))
    assert result.exit_code == 0
    assert json.loads(result.stdout)["totals"]["params"] == params
    assert json.loads(result.stdout)["totals"]["buffers"] == 8  # the moving mean and variance, under tf


def test_a_keras_sequential_reads_each_layer_s_input_shape_from_its_build_config():
    model = {"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 8, 8, 4], "name": "x"}},
        {"class_name": "DepthwiseConv2D", "config": {"name": "dw", "kernel_size": [3, 3], "depth_multiplier": 2,
                                                     "padding": "valid"},
         "build_config": {"input_shape": [None, 8, 8, 4]}},
    ]}}
    imported = invoke("import", "-", stdin=json.dumps(model))
    assert imported.exit_code == 0, imported.stderr
    assert "conv k3 dw c8" in imported.stdout  # 4 input channels × depth multiplier 2
    assert invoke("calc", "-f", "-", "-q", stdin=json.dumps(model)).stdout == "8x6x6\n"


@needs_onnx
@pytest.mark.parametrize("keepdims, axes, expected", [
    (1, [2, 3], "gap"), (0, [2, 3], "gap\nflatten"), (0, [-1, -2], "gap\nflatten")])
def test_onnx_reduce_mean_over_the_spatial_axes_is_gap(tmp_path, keepdims, axes, expected):
    from onnx import helper

    path = onnx_file(tmp_path, helper.make_node("ReduceMean", ["x"], ["y"], name="m", axes=axes, keepdims=keepdims))
    result = invoke("import", path)
    assert result.exit_code == 0, result.stderr
    rows = [line.split("#")[0].strip() for line in result.stdout.splitlines() if not line.startswith("#")]
    assert "\n".join(rows) == expected


@needs_onnx
def test_onnx_reduce_mean_over_the_channels_is_refused(tmp_path):
    from onnx import helper

    path = onnx_file(tmp_path, helper.make_node("ReduceMean", ["x"], ["y"], name="m", axes=[1], keepdims=1))
    result = invoke("import", path)
    assert result.exit_code == 1
    assert "node m: a ReduceMean over axes [1] has no convshape layer (over every spatial axis it is gap)" \
        in result.stderr


@needs_onnx
@pytest.mark.torch
@pytest.mark.skipif(not (have("torch") and have("torchvision")), reason="torch and torchvision are not installed")
def test_mnasnet_exported_by_torch_gives_flop_counter_macs_and_output(tmp_path):
    """MNASNet's head is x.mean([2, 3]), which torch exports as ReduceMean."""
    import sys

    import torch
    from torch.utils.flop_counter import FlopCounterMode

    sys.path.insert(0, str(GOLDEN))
    import graph_golden

    graph_golden._install_torchvision_stub_ops()
    import torchvision

    model = torchvision.models.mnasnet0_5().eval()
    path = tmp_path / "mnasnet.onnx"
    torch.onnx.export(model, torch.zeros(1, 3, 224, 224), str(path), dynamo=False)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        out = model(torch.zeros(1, 3, 224, 224))
    result = invoke("calc", "-f", str(path), "--format", "json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["totals"]["macs"] == counter.get_total_flops() // 2
    assert _shape(payload["layers"][-1]) == list(out.shape[1:])


def test_a_module_with_parameters_convshape_has_no_row_for_is_refused_not_skipped():
    """PReLU keeps the shape but holds a learned slope: skipping it would undercount."""
    text = "Sequential(\n  (0): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1))\n  (1): PReLU(num_parameters=1)\n)\n"
    result = invoke("import", "-", stdin=text)
    assert result.exit_code == 1 and result.stdout == ""
    assert "cannot go on past 1 (PReLU(num_parameters=1)): convshape has no layer for it" in result.stderr
    stubs = "Sequential(\n  (0): QuantStub()\n  (1): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1))\n  (2): DeQuantStub()\n)\n"
    result = invoke("import", "-", stdin=stubs)
    assert result.exit_code == 0
    assert "QuantStub keeps the shape and has no parameters: skipped (0)" in result.stderr


@needs_onnx
def test_an_onnx_file_on_stdin_is_read_as_one():
    """torch's files open with no zero byte in their first 64 (ir_version, 'pytorch', its version):
    read from a pipe, with no name to go by, the file is still told from stack text."""
    data = (GOLDEN / "models" / "alexnet.onnx").read_bytes()
    assert b"\x00" not in data[:64]
    result = invoke("calc", "-f", "-", "-i", "224", "-q", stdin=data)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "1000"


@needs_onnx
@pytest.mark.parametrize("node", [("LRN", {"size": 3}), ("Softmax", {"axis": 1}), ("Erf", {})])
def test_onnx_nodes_that_keep_the_shape_pass_it_on_and_the_import_says_which(tmp_path, node):
    """AlexNet-era LRN, a softmax over the channels, Erf, before a conv: no row of their own."""
    import numpy
    from onnx import TensorProto, helper, numpy_helper, save

    op, attributes = node
    nodes = [helper.make_node(op, ["x"], ["t"], name="kept", **attributes),
             helper.make_node("Conv", ["t", "w"], ["y"], name="conv", kernel_shape=[3, 3])]
    weight = numpy_helper.from_array(numpy.zeros((4, 3, 3, 3), dtype="float32"), "w")
    graph = helper.make_graph(nodes, "two", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializer=[weight])
    path = tmp_path / "two.onnx"
    save(helper.make_model(graph), str(path))
    result = invoke("calc", "-f", str(path), "-q")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "4x6x6"
    assert f"passed through, as they keep the shape: {op}" in " ".join(result.stderr.split())


@needs_onnx
@pytest.mark.parametrize("op", ["Mul", "Div"])
def test_a_sequence_scaled_by_a_constant_keeps_its_tokens(tmp_path, op):
    """Patches of 4 (a conv), flattened and transposed to 4 tokens of width 4, then scaled."""
    import numpy
    from onnx import TensorProto, helper, numpy_helper, save

    nodes = [helper.make_node("Conv", ["x", "w"], ["m"], name="patch", kernel_shape=[4, 4], strides=[4, 4]),
             helper.make_node("Reshape", ["m", "flat"], ["f"], name="flatten"),
             helper.make_node("Transpose", ["f"], ["t"], name="tokens", perm=[0, 2, 1]),
             helper.make_node(op, ["t", "half"], ["y"], name="scale")]
    constants = [numpy_helper.from_array(numpy.zeros((4, 3, 4, 4), dtype="float32"), "w"),
                 numpy_helper.from_array(numpy.array([1, 4, 4], dtype="int64"), "flat"),
                 numpy_helper.from_array(numpy.array(0.5, dtype="float32"), "half")]
    graph = helper.make_graph(nodes, "scaled", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializer=constants)
    path = tmp_path / "scaled.onnx"
    save(helper.make_model(graph), str(path))
    result = invoke("calc", "-f", str(path), "-q")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "4x4"


def _saved(tmp_path, name, nodes, constants, shape=(1, 3, 8, 8)) -> str:
    """An ONNX file (opset 13) of ``nodes`` from an input x of ``shape`` to an output y."""
    from onnx import TensorProto, helper, save

    graph = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializer=constants)
    path = tmp_path / f"{name}.onnx"
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    return str(path)


def _clip_file(tmp_path, low, high):
    """A conv, then Clip(low, high) with its bounds as constant inputs (opset 11 and later)."""
    import numpy
    from onnx import helper, numpy_helper

    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv", kernel_shape=[3, 3]),
             helper.make_node("Clip", ["c", "low", "high"], ["y"], name="clip")]
    constants = [numpy_helper.from_array(numpy.zeros((4, 3, 3, 3), dtype="float32"), "w"),
                 numpy_helper.from_array(numpy.array(low, dtype="float32"), "low"),
                 numpy_helper.from_array(numpy.array(high, dtype="float32"), "high")]
    return _saved(tmp_path, "clip", nodes, constants)


@needs_onnx
@pytest.mark.parametrize("low, high, relu6", [(0, 6, True), (0, 1, False), (-1, 6, False), (0, 7, False)])
def test_an_onnx_clip_is_relu6_only_between_0_and_6(tmp_path, low, high, relu6):
    """ReLU6 exports as Clip(0, 6); Hardtanh and other bounds keep the shape and pass through."""
    result = invoke("import", _clip_file(tmp_path, low, high))
    assert result.exit_code == 0, result.output
    rows = [line.split("#")[0].strip() for line in result.stdout.splitlines() if not line.startswith("#")]
    assert rows == ["conv k3 s1 c4 nobias in3"] + (["relu6"] if relu6 else [])
    assert relu6 or "passed through, as they keep the shape: Clip" in " ".join(result.stderr.split())


@needs_onnx
def test_an_onnx_matmul_of_two_computed_tensors_is_refused_by_name(tmp_path):
    from onnx import helper

    nodes = [helper.make_node("Transpose", ["x"], ["t"], name="swap", perm=[0, 2, 1]),
             helper.make_node("MatMul", ["x", "t"], ["y"], name="gram")]
    result = invoke("calc", "-f", _saved(tmp_path, "gram", nodes, [], shape=(1, 4, 6)))
    assert result.exit_code == 1, result.output
    assert "no convshape layer" in result.stderr and "gram" in result.stderr and "internal error" not in result.stderr


@needs_onnx
@pytest.mark.parametrize("op", ["Conv", "ConvTranspose", "MaxPool", "AveragePool", "Pad", "Resize",
                                "GlobalAveragePool", "Flatten", "Gemm"])
def test_an_onnx_map_op_after_a_transpose_to_channels_last_is_refused_by_name(tmp_path, op):
    """After Transpose [0, 2, 3, 1] the last axis is the channels: these ops would read W as
    channels (ConvNeXt's LayerNormalization and MatMul are read: tests/test_onnx_models.py)."""
    import numpy
    from onnx import helper, numpy_helper

    def zeros(name, shape, dtype="float32"):
        return numpy_helper.from_array(numpy.zeros(shape, dtype=dtype), name)

    inputs, attributes, constants = {
        "Conv": (["t", "v"], {"kernel_shape": [1, 1]}, [zeros("v", (4, 4, 1, 1))]),
        "ConvTranspose": (["t", "v"], {"kernel_shape": [1, 1]}, [zeros("v", (4, 4, 1, 1))]),
        "MaxPool": (["t"], {"kernel_shape": [2, 2]}, []),
        "AveragePool": (["t"], {"kernel_shape": [2, 2]}, []),
        "Pad": (["t", "pads"], {}, [zeros("pads", 8, "int64")]),
        "Resize": (["t", "", "scales"], {}, [numpy_helper.from_array(numpy.ones(4, dtype="float32"), "scales")]),
        "GlobalAveragePool": (["t"], {}, []),
        "Flatten": (["t"], {}, []),
        "Gemm": (["t", "v"], {}, [zeros("v", (4, 4))]),
    }[op]
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv", kernel_shape=[3, 3]),
             helper.make_node("Transpose", ["c"], ["t"], name="tolast", perm=[0, 2, 3, 1]),
             helper.make_node(op, inputs, ["y"], name="late", **attributes)]
    path = _saved(tmp_path, "last", nodes, [zeros("w", (4, 3, 3, 3)), *constants])
    result = invoke("import", path)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"convshape: {path}: node late: {op} on a channels-last tensor has no convshape layer\n"


@needs_onnx
@pytest.mark.parametrize("start, end, row", [(-3, 6, "chunk g2 i1"), (0, -3, "chunk g2 i0"), (3, 2**63 - 1, "chunk g2 i1"),
                                             (-4, -2, "chunk g3 i1"), (-99, 2, "chunk g3 i0")])
def test_an_onnx_slice_of_the_channels_counts_negative_bounds_from_the_end(tmp_path, start, end, row):
    """x[:, -3:] exports as Slice(-3, INT64_MAX): bounds count from the end and are clamped, as numpy's."""
    import numpy
    from onnx import helper, numpy_helper

    def ints(name, value):
        return numpy_helper.from_array(numpy.array([value], dtype="int64"), name)

    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv", kernel_shape=[3, 3]),
             helper.make_node("Slice", ["c", "starts", "ends", "axes"], ["y"], name="part")]
    constants = [numpy_helper.from_array(numpy.zeros((6, 3, 3, 3), dtype="float32"), "w"), ints("starts", start),
                 ints("ends", end), ints("axes", 1)]
    result = invoke("import", _saved(tmp_path, "slice", nodes, constants))
    assert result.exit_code == 0, result.output
    rows = [line.split("#")[0].strip() for line in result.stdout.splitlines() if not line.startswith("#")]
    assert rows == ["conv k3 s1 c6 nobias in3", row]


@needs_onnx
@pytest.mark.parametrize("op", ["Add", "Mul", "Concat"])
def test_an_onnx_merge_of_a_channels_last_and_a_channels_first_tensor_is_refused(tmp_path, op):
    """x.permute(0, 2, 3, 1) + x runs only where H, W and C agree (6 × 6 × 6 here): no stack says that."""
    import numpy
    from onnx import helper, numpy_helper

    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv", kernel_shape=[3, 3]),
             helper.make_node("Transpose", ["c"], ["t"], name="tolast", perm=[0, 2, 3, 1]),
             helper.make_node(op, ["t", "c"], ["y"], name="mixed", **({"axis": 1} if op == "Concat" else {}))]
    path = _saved(tmp_path, "mixed", nodes, [numpy_helper.from_array(numpy.zeros((6, 3, 3, 3), dtype="float32"), "w")])
    result = invoke("import", path)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (f"convshape: {path}: node mixed: {op} of a channels-last tensor and a channels-first one "
                             "has no convshape row\n")


@needs_onnx
def test_an_onnx_resize_to_constant_sizes_is_up_to_that_size_without_a_note(tmp_path):
    """F.interpolate(x, size=(16, 12)) exports as Resize with constant sizes: the row says them,
    and no note says the size was read from the file's shapes (that is for computed sizes)."""
    import numpy
    from onnx import helper, numpy_helper

    nodes = [helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], name="resize", mode="nearest")]
    sizes = numpy_helper.from_array(numpy.array([1, 3, 16, 12], dtype="int64"), "sizes")
    result = invoke("import", _saved(tmp_path, "resize", nodes, [sizes]))
    assert result.exit_code == 0, result.output
    rows = [line.split("#")[0].strip() for line in result.stdout.splitlines() if not line.startswith("#")]
    assert (rows, result.stderr) == (["up o16x12"], "")


@needs_onnx
@pytest.mark.parametrize("scales, row", [([1, 1, 2, 2], "up s2"), ([1, 1, 1.5, 2], "up s1.5x2")])
def test_an_onnx_resize_by_constant_scales_is_up_by_them_without_a_note(tmp_path, scales, row):
    import numpy
    from onnx import helper, numpy_helper

    nodes = [helper.make_node("Resize", ["x", "", "scales"], ["y"], name="resize", mode="nearest")]
    constant = numpy_helper.from_array(numpy.array(scales, dtype="float32"), "scales")
    result = invoke("import", _saved(tmp_path, "resize", nodes, [constant]))
    assert result.exit_code == 0, result.output
    rows = [line.split("#")[0].strip() for line in result.stdout.splitlines() if not line.startswith("#")]
    assert (rows, result.stderr) == ([row], "")


def _tokens_then_concat_file(tmp_path, constant_shape, before=True):
    """Patches of 4 as 4 tokens of width 4, then a Concat with a constant along the tokens."""
    import numpy
    from onnx import helper, numpy_helper

    pair = ["token", "t"] if before else ["t", "token"]
    nodes = [helper.make_node("Conv", ["x", "w"], ["m"], name="patch", kernel_shape=[4, 4], strides=[4, 4]),
             helper.make_node("Reshape", ["m", "flat"], ["f"], name="flatten"),
             helper.make_node("Transpose", ["f"], ["t"], name="tokens", perm=[0, 2, 1]),
             helper.make_node("Concat", pair, ["y"], name="join", axis=1)]
    constants = [numpy_helper.from_array(numpy.zeros((4, 3, 4, 4), dtype="float32"), "w"),
                 numpy_helper.from_array(numpy.array([1, 4, 4], dtype="int64"), "flat"),
                 numpy_helper.from_array(numpy.zeros(constant_shape, dtype="float32"), "token")]
    return _saved(tmp_path, "cls", nodes, constants)


@needs_onnx
def test_an_onnx_class_token_before_the_sequence_is_cls(tmp_path):
    result = invoke("calc", "-f", _tokens_then_concat_file(tmp_path, (1, 1, 4)), "-q")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "5x4"  # 4 tokens and the class token, of width 4


@needs_onnx
@pytest.mark.parametrize("shape, before", [((1, 2, 4), True), ((1, 1, 4), False)])
def test_an_onnx_concat_onto_a_sequence_other_than_one_class_token_before_it_is_refused(tmp_path, shape, before):
    result = invoke("calc", "-f", _tokens_then_concat_file(tmp_path, shape, before))
    assert result.exit_code == 1, result.output
    assert ("node join: a Concat onto a sequence, other than one class token before it, has no convshape "
            "layer") in " ".join(result.stderr.split())
