"""`in64`: the input channels (a linear's in_features) a model gives a layer. The importers
write it wherever the model fixes it, and calc checks it on every row, so a stack that is
not the model's wiring, or an input size the model's weights do not allow, is an error at
that row, whichever way the stack arrives: never a changed parameter count."""

import json

import pytest

from conftest import have

VGG = "tests/golden/models/vgg16.txt"
ALEXNET_ONNX = "tests/golden/models/alexnet.onnx"
# A model whose classifier is sized for 8x8 inputs: Linear(4 * 4 * 4, 10) after a flatten.
FIXED = """Sequential(
  (0): Conv2d(3, 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
  (1): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
  (2): Flatten(start_dim=1, end_dim=-1)
  (3): Linear(in_features=64, out_features=10, bias=True)
)
"""


@pytest.mark.parametrize("stack, channels, status", [
    ("conv k3 c8 in3", "3", 0),  # equal: runs
    ("conv k3 c8 in3", "4", 1),
    ("conv k3 c8 in2", "3", 1),
    ("conv k3 c8 in3", None, 0),  # channels unknown: nothing to check
    ("conv k3 c8, bn in8, gn g2 in8, ln in8, conv k1 c4 in8", "3", 0),
    ("conv k3 c8, bn in7", "3", 1),
    ("flatten, linear c10 in27", "3", 0),  # 3·3·3 = 27 features: equal
    ("flatten, linear c10 in28", "3", 1),
])
def test_a_declared_count_is_checked_at_its_row(run, stack, channels, status):
    args = ["calc", "-i", "3", "-q", stack] + (["-c", channels] if channels else [])
    done = run(*args)
    assert done.returncode == status, done.stderr
    if status:
        assert "declared_channels" not in done.stderr  # -q says why in words
        assert "the model gives this layer" in done.stderr


def test_the_error_is_in_json_with_its_code(run):
    done = run("calc", "-i", "5", "-c", "3", "--format", "json", "flatten, linear c10 in48")
    assert done.returncode == 1
    row = json.loads(done.stdout)["layers"][1]
    assert row["error"] == {"code": "declared_channels", "axes": [], "message": (
        "the model gives this layer 48 input features (in48), but the rows before it make 75: the model fails "
        "here, or those rows are not its own")}


def test_in_is_refused_where_a_layer_has_no_input_channels_to_declare(run):
    done = run("calc", "-i", "8", "relu in3")
    assert done.returncode == 2
    assert "relu does not take 'in3' (the declared input channels is for conv," in done.stderr


def test_print_model_import_carries_the_channels_and_calc_checks_them_at_other_sizes(run):
    imported = run("import", "-", stdin=FIXED)
    assert imported.returncode == 0
    assert "linear c10 in64                     # 3: Linear" in imported.stdout
    assert run("calc", "-i", "8", "-c", "3", "-f", "-", "-q", stdin=imported.stdout).stdout == "10\n"
    done = run("calc", "-i", "10", "-c", "3", "-f", "-", "--strict", "--format", "json", stdin=imported.stdout)
    assert done.returncode == 1
    layers = json.loads(done.stdout)["layers"]
    assert [row["index"] for row in layers if row["error"]] == [4]
    assert "64 input features (in64), but the rows before it make 100" in layers[3]["error"]["message"]


def test_vgg_print_model_gives_the_same_classifier_at_97_thanks_to_its_adaptive_pool(run):
    done = run("calc", "-i", "97", "-c", "3", "-f", VGG, "-q")
    assert (done.returncode, done.stdout) == (0, "1000\n")


@pytest.mark.skipif(not have("onnx"), reason="onnx is not installed (pip install 'convshape[onnx]')")
def test_an_onnx_weight_fixes_the_input_of_its_layer_whatever_the_size(run):
    """torch bakes AlexNet's AdaptiveAvgPool2d((6, 6)) into a fixed AveragePool at 224; at 97
    the first Gemm's 4096×9216 weight no longer fits: an error there, not 27.5 M parameters."""
    done = run("calc", "-i", "97", "-f", ALEXNET_ONNX, "-q")
    assert done.returncode == 1
    assert done.stdout == ""
    assert ("layer 16 (linear c4096 in9216): the model gives this layer 9216 input features (in9216), but the rows"
            " before it make 1024") in done.stderr
    assert ("convshape: note: the ONNX file was exported at 224x224; at -i 97 its graph can differ from the module"
            " it came from (an adaptive pool is written as a fixed AveragePool)") in done.stderr
    same = run("calc", "-i", "224", "-f", ALEXNET_ONNX, "-q")
    assert (same.returncode, same.stdout, same.stderr) == (0, "1000\n", "")


@pytest.mark.skipif(not have("onnx"), reason="onnx is not installed (pip install 'convshape[onnx]')")
@pytest.mark.parametrize("size, noted", [("8", False), ("8x8", False), ("8x9", True), ("9", True)])
def test_the_note_on_another_size_compares_sizes_not_text(run, tmp_path, size, noted):
    from onnx import helper

    from conftest import onnx_file

    path = onnx_file(tmp_path, helper.make_node("Relu", ["x"], ["y"], name="r"))  # exported at 8x8
    done = run("calc", "-i", size, "-f", path, "-q")
    assert done.returncode == 0
    assert ("the ONNX file was exported at 8x8" in done.stderr) == noted


def test_a_square_size_given_once_on_a_non_square_export_is_another_size(run, tmp_path):
    if not have("onnx"):
        pytest.skip("onnx is not installed")
    from onnx import helper

    from conftest import onnx_file

    path = onnx_file(tmp_path, helper.make_node("Relu", ["x"], ["y"], name="r"), shape=(1, 3, 8, 9))
    done = run("calc", "-i", "8", "-f", path, "-q")  # 8x8, not the file's 8x9
    assert "the ONNX file was exported at 8x9; at -i 8" in done.stderr
