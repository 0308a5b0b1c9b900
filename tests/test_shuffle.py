"""Pixel shuffle and unshuffle, against torch: the golden cases of
tests/golden/shuffle_golden.py (shapes, torch's refusals, parameters, FLOPs, receptive
fields and print(model)), and what a user reads at the command line."""

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import have, onnx_file
from convshape.cli import app

GOLDEN = Path(__file__).parent / "golden"
sys.path.insert(0, str(GOLDEN))

from compare import all_field_mismatches, all_mismatches  # noqa: E402

CASES = json.loads((GOLDEN / "shuffle_cases.json").read_text())["cases"]
runner = CliRunner()


def invoke(*args, input=None):
    return runner.invoke(app, list(args), input=input)


def test_the_golden_cases_cover_both_kinds_and_torch_s_refusals():
    assert len(CASES) >= 300 and sum(case["error"] is None for case in CASES) >= 80
    messages = " ".join(case["error"]["message"] for case in CASES if case["error"])
    for message in ("pixel_shuffle expects its input's 'channel' dimension", "expects height to be divisible",
                    "expects width to be divisible"):
        assert message in messages
    valid = " ".join(case["stack"] for case in CASES if case["error"] is None)
    for factor in (2, 3, 4):
        assert f"pixelshuffle s{factor}" in valid and f"pixelunshuffle s{factor}" in valid


def test_every_golden_case_has_torch_s_shapes_refusals_parameters_and_flops():
    assert all_mismatches(CASES) == []


def test_every_golden_case_has_torch_s_receptive_fields():
    problems, exact = all_field_mismatches(CASES)
    assert problems == [] and exact >= 300


@pytest.mark.parametrize("case", [case for case in CASES if case.get("repr")][:40], ids=lambda case: case["stack"])
def test_print_model_imports_to_the_stack_torch_ran(case):
    imported = invoke("import", "-", input=case["repr"])
    assert imported.exit_code == 0, imported.output
    result = invoke("calc", "-i", case["input"], "-c", str(case["channels"]), "--format", "json", "-f", "-",
                    input=imported.stdout)
    assert result.exit_code == 0, result.output
    rows = [row for row in json.loads(result.stdout)["layers"]]
    assert [[row["out_channels"], *row["out_size"]] for row in rows] == case["shapes"]


# ----------------------------------------------------------------------------- at the command line

def test_unshuffle_then_shuffle_moves_space_into_channels_and_back():
    result = invoke("calc", "-i", "8", "-c", "16", "--format", "json", "pixelunshuffle s2, pixelshuffle s4")
    assert result.exit_code == 0
    rows = json.loads(result.stdout)["layers"]
    assert [(row["out_channels"], row["out_size"]) for row in rows] == [(64, [4, 4]), (4, [16, 16])]


@pytest.mark.parametrize("stack, code, message", [
    ("pixelshuffle s2", "shuffle_channels", "6 channels are not a multiple of 2² = 4"),
    ("pixelshuffle s3", "shuffle_channels", "6 channels are not a multiple of 3² = 9"),
    ("pixelunshuffle s3", "unshuffle_size", "on W: 10 is not a multiple of the factor 3: PyTorch fails with "
                                            "'pixel_unshuffle expects width to be divisible by downscale_factor'"),
    ("pixelunshuffle s4", "unshuffle_size", "on H and W: 10 is not a multiple of the factor 4"),
])
def test_what_torch_refuses_is_an_error_naming_the_numbers(stack, code, message):
    size = {"pixelunshuffle s3": "12x10", "pixelunshuffle s4": "10"}.get(stack, "12")
    result = invoke("calc", "-i", size, "-c", "6", "--no-color", stack)
    assert result.exit_code == 1
    assert f"error {code}: {message}" in result.stdout


@pytest.mark.parametrize("stack, size", [("pixelshuffle s2", "12"), ("pixelunshuffle s2", "12"),
                                          ("pixelunshuffle s3", "12x9")])
def test_at_the_boundary_it_runs(stack, size):
    """Channels s²·C, and sizes s·n: exactly what torch takes."""
    result = invoke("calc", "-i", size, "-c", "36", "-q", stack)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("stack", ["pixelshuffle s0", "pixelunshuffle s0", "pixelshuffle s-2"])
def test_a_factor_below_1_is_an_error_not_a_crash(stack):
    result = invoke("calc", "-i", "8", "-c", "16", "--no-color", stack)
    assert result.exit_code == 1
    assert "error stride_below_1: on H and W: stride" in result.stdout and "is below 1" in result.stdout


def test_one_factor_for_h_and_w_and_two_axes_only():
    per_axis = invoke("calc", "-i", "8", "pixelshuffle s2x3")
    assert per_axis.exit_code == 2
    assert "pixelshuffle takes one factor for H and W, as torch's PixelShuffle does: s2, not s2x3" in per_axis.stderr
    volume = invoke("calc", "-i", "8x8x8", "-c", "8", "--no-color", "pixelunshuffle s2")
    assert volume.exit_code == 1
    assert "pixelunshuffle rearranges two spatial axes (H and W), not 3" in volume.stdout
    missing = invoke("calc", "-i", "8", "pixelshuffle")
    assert missing.exit_code == 2 and "its factor, such as s2" in missing.stderr


def test_without_an_input_size_the_sizes_that_run_are_the_multiples():
    result = invoke("calc", "-c", "4", "--no-color", "conv k3 c16, pixelunshuffle s2")
    assert result.exit_code == 0
    assert "valid: H ≡ 0 (mod 2), H ≥ 4" in result.stdout
    assert "64 × ⌊(H − 2)/2⌋ × ⌊(W − 2)/2⌋" in result.stdout


@pytest.mark.parametrize("stack", ["pixelunshuffle s2", "conv k3 s2, pixelunshuffle s3",
                                   "maxpool k3 s2, pixelunshuffle s2, conv k2", "pad p1:0, pixelunshuffle s4",
                                   "@a pixelunshuffle s2, up s2, add a"])
def test_fit_s_sizes_that_run_are_the_ones_calc_runs(stack):
    from convshape.calc import run
    from convshape.fit import analyse
    from convshape.grammar import parse_stack

    parsed = parse_stack(stack, dims=2)
    rule = analyse(parsed).rules[0]
    runs = [n for n in range(1, 100) if run(parsed, (n, n), None).error_row is None]
    said = [n for n in range(1, 100) if n in rule.small_valid or (
        n >= max(rule.minimum_valid, rule.periodic_from) and n % rule.valid_modulus in rule.valid_residues)]
    assert said == runs and runs


def test_explain_shows_the_multiplication_and_the_division():
    result = invoke("calc", "-i", "8", "-c", "16", "--explain", "--no-color", "pixelunshuffle s2, pixelshuffle s4")
    assert "8 / 2 = 4" in result.stdout and "4 · 4 = 16" in result.stdout


def test_a_framework_call_names_the_layer_to_write():
    result = invoke("calc", "-i", "8", "nn.PixelShuffle(upscale_factor=2)")
    assert result.exit_code == 2
    assert "pixelshuffle s2" in result.stderr


def test_export_writes_torch_s_and_keras_layers():
    torch = invoke("export", "--to", "torch", "-i", "8", "-c", "4", "pixelunshuffle s2, pixelshuffle s2")
    assert "    nn.PixelUnshuffle(2),  # 1: pixelunshuffle s2 -> 16×4×4" in torch.stdout
    assert "    nn.PixelShuffle(2),  # 2: pixelshuffle s2 -> 4×8×8" in torch.stdout
    keras = invoke("export", "--to", "keras", "-i", "8", "-c", "4", "pixelunshuffle s2, pixelshuffle s2")
    assert "layers.Lambda(lambda t: keras.ops.space_to_depth(t, 2))(inputs)  # 1: pixelunshuffle s2 -> 16×4×4" \
        in keras.stdout
    assert "keras.ops.depth_to_space(t, 2))(t1)" in keras.stdout


@pytest.mark.skipif(not have("keras") or not have("torch"), reason="keras (on torch) is not installed")
def test_the_exported_keras_model_has_the_shapes(monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    code = invoke("export", "--to", "keras", "-i", "12x8", "-c", "4", "pixelunshuffle s2, conv k1 c36, "
                  "pixelshuffle s3").stdout
    namespace = {"__name__": "exported"}
    exec(compile(code, "exported.py", "exec"), namespace)
    assert [tuple(layer.output.shape[1:]) for layer in namespace["model"].layers[1:]] == [(6, 4, 16), (6, 4, 36),
                                                                                           (18, 12, 4)]


@pytest.mark.skipif(not have("onnx"), reason="onnx is not installed")
@pytest.mark.parametrize("op, expected", [("DepthToSpace", "pixelshuffle s2"), ("SpaceToDepth", "pixelunshuffle s2")])
def test_onnx_depth_and_space_nodes_import(tmp_path, op, expected):
    from onnx import helper

    path = onnx_file(tmp_path, helper.make_node(op, ["x"], ["y"], name="d", blocksize=2), shape=(1, 4, 8, 8))
    result = invoke("import", path)
    assert result.exit_code == 0, result.output
    assert f"{expected:<36}# d: {op}" in result.stdout


def test_draw_shows_which_input_pixels_a_shuffled_unit_reads():
    result = invoke("draw", "-i", "8", "-c", "4", "--unit", "3,3", "conv k3 c16 p1, pixelunshuffle s2, pixelshuffle s2")
    assert result.exit_code == 0
    assert "16 input pixels reached" in result.stdout
    assert result.stdout.splitlines()[2:6] == ["· █ █ █ █ · · · "] * 4
