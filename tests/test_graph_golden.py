"""Whole networks against PyTorch itself: random graphs recorded by tests/golden/graph_golden.py.

Each case is a graph drawn at random (residual blocks, projections, Inception-like
concats, SE gates, U-Net paths with cat, crop and pad, FPN up + add, adaptive pools,
resizes) mixed with v1 layers, run in torch from the drawn program, never from
convshape's code.
"""

import json
import sys
from pathlib import Path

import pytest

from conftest import have
from convshape import calc

GOLDEN = Path(__file__).parent / "golden"
sys.path.insert(0, str(GOLDEN))

from compare import field_mismatches, mismatches  # noqa: E402

CASES = json.loads((GOLDEN / "graph_cases.json").read_text())["cases"]
MERGE_ERRORS = ("Sizes of tensors must match", "The size of tensor a")


def test_the_golden_file_is_large_and_covers_every_construct():
    assert len(CASES) >= 1000
    assert {c["dims"] for c in CASES} == {1, 2, 3}
    text = " ".join(c["stack"] for c in CASES)
    for word in ["@t", "from ", "add ", "mul ", "cat ", " crop", " pad", "adaptiveavgpool o", "adaptivemaxpool o",
                 "up o", "up like ", "convt ", "flatten", "linear"]:
        assert word in text, word
    errors = [c["error"]["message"] for c in CASES if c["error"]]
    assert sum(m.startswith(MERGE_ERRORS[0]) for m in errors) >= 50  # cat
    assert sum(m.startswith(MERGE_ERRORS[1]) for m in errors) >= 50  # add and mul
    assert sum(c["error"] is None for c in CASES) >= 600


@pytest.mark.parametrize("chunk", range(10))
def test_every_row_agrees_with_torch(chunk):
    problems = []
    for case in CASES[chunk::10]:
        problems += [f"{case['stack']} @ {case['input']}: {p}" for p in mismatches(case, "torch")]
    assert problems == []


def test_a_failing_merge_quotes_torchs_own_message():
    quoted = 0
    for case in CASES:
        error = case["error"]
        if error is None or not error["message"].startswith(MERGE_ERRORS):
            continue
        result = calc(case["stack"], case["input"], channels=case["channels"], dims=case["dims"])
        assert error["message"] in result.error_row.error.message, case["stack"]
        quoted += 1
    assert quoted >= 200


def test_receptive_fields_through_merges_agree_with_torchs_gradients():
    problems, exact = [], 0
    for case in CASES:
        found, exact_count, _ = field_mismatches(case)
        problems += [f"{case['stack']} @ {case['input']}: {p}" for p in found]
        exact += exact_count
    assert problems == []
    assert exact > 15000


@pytest.mark.torch
@pytest.mark.skipif(not have("torch") or not have("torchvision"),
                    reason="torch and torchvision are not installed (see tests/golden/graph_golden.py)")
def test_live_graphs_against_torch():
    import graph_golden

    problems = []
    for case in graph_golden.generate(count=150, seed=5):
        problems += mismatches(case, "torch") + field_mismatches(case)[0]
    assert problems == []


KERAS_CASES = json.loads((GOLDEN / "keras_graph_cases.json").read_text())["cases"]
KERAS_MERGE_ERRORS = ("A `Concatenate` layer requires", "Inputs have incompatible shapes")


def test_keras_merges_agree_under_tf_and_quote_keras():
    assert len(KERAS_CASES) >= 400
    text = " ".join(c["stack"] for c in KERAS_CASES)
    for word in ["add ", "cat ", "mul ", "from ", "psame", "pvalid"]:
        assert word in text, word
    problems, quoted = [], 0
    for case in KERAS_CASES:
        problems += [f"{case['stack']} @ {case['input']}: {p}" for p in mismatches(case, "tf")]
        error = case["error"]
        if error and error["message"].startswith(KERAS_MERGE_ERRORS):
            result = calc(case["stack"], case["input"], channels=case["channels"], dims=case["dims"], convention="tf")
            if error["message"] not in result.error_row.error.message:
                problems.append(f"{case['stack']}: Keras says {error['message']!r}")
            quoted += 1
    assert problems == []
    assert quoted >= 150


@pytest.mark.keras
@pytest.mark.skipif(not (have("keras") and have("torch")), reason="keras (and torch) are not installed")
def test_live_keras_merges():
    import keras_graph_golden

    problems = []
    for case in keras_graph_golden.generate(count=60, seed=8):
        problems += mismatches(case, "tf")
    assert problems == []
