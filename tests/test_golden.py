"""convshape against the frameworks themselves: golden files recorded from PyTorch and Keras.

The files are written by tests/golden/torch_golden.py and keras_golden.py, which build
each stack in the framework from the drawn parameters (not from convshape) and record
what it gives. The tests marked ``torch``/``keras`` re-run that comparison live on new
random stacks where the framework is installed.
"""

import json
import sys
from pathlib import Path

import pytest

from conftest import have

GOLDEN = Path(__file__).parent / "golden"
sys.path.insert(0, str(GOLDEN))

from compare import field_mismatches, mismatches  # noqa: E402


def load(name):
    return json.loads((GOLDEN / name).read_text())["cases"]


TORCH_CASES = load("torch_cases.json")
KERAS_CASES = load("keras_cases.json")


def test_golden_files_are_large_and_varied():
    assert len(TORCH_CASES) >= 1000
    assert {c["dims"] for c in TORCH_CASES} == {1, 2, 3}
    assert {c["error"] is None for c in TORCH_CASES} == {True, False}
    text = " ".join(c["stack"] for c in TORCH_CASES)
    for token in ["conv ", "convt ", "maxpool ", "avgpool ", "up", "pad ", "gap", "flatten", "linear", " d2", " g2", ":", "ceil", " op1"]:
        assert token in text, token
    for token in [" bn", " ln", " gn g", " in", "layerscale", " relu", "relu6", "gelu", "silu", "sigmoid", "tanh",
                  "hardswish", "lrelu", "dropout", " nobias", " dw"]:
        assert token in text, token
    messages = " ".join(c["error"]["message"] for c in TORCH_CASES if c["error"])
    assert "must be divisible by num_groups" in messages and "Expected more than 1 spatial element" in messages
    # Costs are compared on every computed row: many of them count something.
    assert sum(1 for c in TORCH_CASES for p in c["params"] if p) > 1000
    assert sum(1 for c in TORCH_CASES for f in c["flops"] if f) > 1000
    assert {c["error"] is None for c in KERAS_CASES} == {True, False}
    keras_text = " ".join(c["stack"] for c in KERAS_CASES)
    for token in ["psame", "pvalid", " s4", " k2", " k3", " k4"]:
        assert token in keras_text, token
    for token in [" bn", " ln", " gn g", " in", " relu", " nobias"]:
        assert token in keras_text, token
    # Keras' count_params() counts BatchNorm's moving statistics; its trainable weights do not.
    assert sum(1 for c in KERAS_CASES for p, t in zip(c["params"], c["trainable"]) if p != t) > 50


@pytest.mark.parametrize("chunk", range(10))
def test_torch_sizes_and_validity_agree(chunk):
    problems = []
    for case in TORCH_CASES[chunk::10]:
        problems += [f"{case['stack']} @ {case['input']}: {p}" for p in mismatches(case, "torch")]
    assert problems == []


@pytest.mark.parametrize("chunk", range(5))
def test_keras_sizes_and_validity_agree(chunk):
    problems = []
    for case in KERAS_CASES[chunk::5]:
        problems += [f"{case['stack']} @ {case['input']}: {p}" for p in mismatches(case, "tf")]
    assert problems == []


def test_torch_receptive_fields_agree():
    problems, exact = [], 0
    for case in TORCH_CASES:
        found, exact_count, _ = field_mismatches(case)
        problems += [f"{case['stack']} @ {case['input']}: {p}" for p in found]
        exact += exact_count
    assert problems == []
    assert exact > 5000  # most units are compared exactly, not only for containment


@pytest.mark.torch
@pytest.mark.skipif(not have("torch"), reason="torch is not installed (pip install torch==2.13.0)")
def test_live_against_torch():
    import torch_golden

    cases = torch_golden.generate(count=150, seed=7)
    problems = []
    for case in cases:
        problems += mismatches(case, "torch") + field_mismatches(case)[0]
    assert problems == []


@pytest.mark.keras
@pytest.mark.skipif(not (have("keras") and have("torch")), reason="keras (and torch) are not installed")
def test_live_against_keras():
    import keras_golden

    cases = keras_golden.generate(count=60, seed=11)
    problems = []
    for case in cases:
        problems += mismatches(case, "tf")
    assert problems == []


ONNX_CASES = json.loads((GOLDEN / "onnx_cases.json").read_text())["cases"]


def test_the_onnx_golden_file_covers_what_onnx_runtime_does_apart():
    """Recorded by tests/golden/onnx_golden.py from ONNX Runtime: pads per side, SAME_UPPER,
    ceil mode, and the runtime's own refusals."""
    assert len(ONNX_CASES) >= 500
    text = " ".join(c["stack"] for c in ONNX_CASES)
    for token in ["psame", "pvalid", " ceil", " d2", " op1", "convt ", "maxpool ", "avgpool ", "pad p", "up s1.5",
                  "gap"]:
        assert token in text, token
    assert any(":" in c["stack"] for c in ONNX_CASES)  # uneven padding, which PyTorch's modules refuse
    messages = " ".join(c["error"]["message"] for c in ONNX_CASES if c["error"])
    assert "padding values must be non-negative" in messages
    assert "Dilation not supported" in messages
    assert sum(c["error"] is None for c in ONNX_CASES) >= 400


@pytest.mark.parametrize("chunk", range(2))
def test_onnx_sizes_and_validity_agree(chunk):
    problems = []
    for case in ONNX_CASES[chunk::2]:
        problems += [f"{case['stack']} @ {case['input']}: {p}" for p in mismatches(case, "onnx")]
    assert problems == []
