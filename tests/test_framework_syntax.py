"""Framework syntax typed as a stack is a parse error that gives the convshape layer to
write instead; that layer gives exactly the shapes PyTorch and Keras give for the call
(tests/golden/framework_cases.json, recorded by running them)."""

import json
import re
from pathlib import Path

import pytest
from conftest import have

from convshape import calc
from convshape.counts import count
from convshape.grammar import ParseError, parse_stack

GOLDEN = json.loads((Path(__file__).parent / "golden" / "framework_cases.json").read_text())
OFFERED = re.compile(r"as a convshape layer it is '([^']+)'")


def offered(call: str) -> str | None:
    with pytest.raises(ParseError) as caught:
        parse_stack(call)
    found = OFFERED.search(caught.value.message)
    return found.group(1) if found else None


@pytest.mark.parametrize("case", GOLDEN["cases"], ids=lambda case: f"{case['call']} @ {case['input']}")
def test_the_layer_offered_gives_the_frameworks_shapes(case):
    layer = offered(case["call"])
    assert layer is not None, case["call"]
    channels, *size = case["input"]
    stack = layer if size else f"flatten, {layer}"  # a flat input: the channels, flattened from 1 pixel
    result = calc(stack, "x".join(map(str, size or [1])), channels=channels,
                  convention="tf" if case["framework"] == "keras" else "torch")
    if "error" in case:
        assert not result.valid, (layer, case["error"])
        return
    assert result.valid, (layer, result.error_row.error.message)
    output = result.output
    shape = [output.channels, *output.size] if output.size is not None else [output.features]
    assert shape == case["output"], layer
    totals = count(result).totals
    if case["framework"] == "keras":  # count_params() counts BatchNorm's moving statistics
        assert (totals.params + totals.buffers, totals.params) == (case["params"], case["trainable"]), layer
    else:
        assert totals.params == case["params"], layer


IMPORT = "; 'convshape import' reads whole models (print(model), Keras JSON, ONNX)"


@pytest.mark.parametrize("typed, status, message", [
    ("Conv2d(3, 64, kernel_size=3, stride=2, padding=1)", 2,
     "'Conv2d(3, 64, kernel_size=3, stride=2, padding=1)' is PyTorch syntax; as a convshape layer it is 'conv k3 s2 p1 c64'" + IMPORT),
    ("Conv2D(64, 3, strides=2, padding='same')", 2,
     "'Conv2D(64, 3, strides=2, padding='same')' is Keras syntax; as a convshape layer it is 'conv k3 s2 psame c64' "
     "(with --convention tf, for Keras' semantics)" + IMPORT),
    ("MaxPool2d(2)", 2, "'MaxPool2d(2)' is PyTorch syntax; as a convshape layer it is 'maxpool k2'" + IMPORT),
    ("conv k3 nn.Softmax(dim=1)", 2,
     "'nn.Softmax(dim=1)' is not a layer convshape knows: write layers as convshape does, such as 'conv k3 s2 p1 c64'"),
    ("conv k3 nn.BatchNorm2d(64)", 2, "'nn.BatchNorm2d(64)' is PyTorch syntax; as a convshape layer it is 'bn'" + IMPORT),
    ("nn.Conv2d(3, 64, 7, 2, 3, bias=False)", 2,
     "'nn.Conv2d(3, 64, 7, 2, 3, bias=False)' is PyTorch syntax; as a convshape layer it is 'conv k7 s2 p3 c64 nobias'" + IMPORT),
    ("nn.AdaptiveAvgPool2d(7)", 2,
     "'nn.AdaptiveAvgPool2d(7)' is PyTorch syntax; as a convshape layer it is 'adaptiveavgpool o7'" + IMPORT),
])
def test_what_a_new_user_typed(run, typed, status, message):
    result = run("calc", "-i", "224", typed)
    assert result.returncode == status and result.stdout == ""
    column = typed.index(typed.split()[-1]) + 1 if typed.startswith("conv") else 1
    assert result.stderr.splitlines()[0] == f"convshape: <command line>:1:{column}: {message}"


def test_a_call_in_a_file_is_found_on_its_line(run):
    result = run("calc", "-i", "8", "-f", "-", stdin="conv k3\n  nn.Conv2d(3, 8, 3)\n")
    assert result.returncode == 2
    assert result.stderr == ("convshape: <stdin>:2:3: 'nn.Conv2d(3, 8, 3)' is PyTorch syntax; as a convshape layer it is "
                             f"'conv k3 c8'{IMPORT}\n    nn.Conv2d(3, 8, 3)\n    ^^^^^^^^^^^^^^^^^^\n")


@pytest.mark.torch
@pytest.mark.keras
@pytest.mark.skipif(not (have("torch") and have("keras")), reason="torch and keras are not installed")
def test_the_golden_file_is_what_the_frameworks_say_today():
    import os
    import sys

    os.environ.setdefault("KERAS_BACKEND", "torch")
    sys.path.insert(0, str(Path(__file__).parent / "golden"))
    import framework_golden

    assert framework_golden.generate() == GOLDEN["cases"]
