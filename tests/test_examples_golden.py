"""The whole networks in examples/ agree with torch and torchvision at 224, 225, 299, 32, 17
and 480x640, row by row, failures included (tests/golden/examples_golden.py records them)."""

import json
import sys
from pathlib import Path

import pytest

from conftest import have

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "golden"))

from compare import example_mismatches  # noqa: E402
from examples_golden import EXAMPLES, SIZES  # noqa: E402

CASES = json.loads((ROOT / "tests" / "golden" / "examples_cases.json").read_text())["cases"]


def test_every_example_is_recorded_at_every_size():
    assert {(c["example"], c["input"]) for c in CASES} == {(name, size) for name in EXAMPLES for size in SIZES}
    assert {p.name for p in (ROOT / "examples").glob("*.stack")} >= {file for file, _, _ in EXAMPLES.values()}
    assert sum(c["error"] is not None for c in CASES) >= 5  # where torch fails, convshape must fail there too


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_the_example_agrees_with_torch_at_every_size(name):
    file, channels, kinds = EXAMPLES[name]
    text = (ROOT / "examples" / file).read_text()
    problems = []
    for case in (c for c in CASES if c["example"] == name):
        problems += [f"{case['input']}: {p}" for p in example_mismatches(case, text, channels, kinds)]
    assert problems == []


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_examples_stay_short(name):
    lines = [line for line in (ROOT / "examples" / EXAMPLES[name][0]).read_text().splitlines()
             if line.split("#")[0].strip()]
    assert len(lines) <= 25


@pytest.mark.torch
@pytest.mark.skipif(not (have("torch") and have("torchvision")), reason="torch and torchvision are not installed")
def test_live_resnet18_and_the_padded_unet_at_a_new_size():
    import examples_golden

    examples_golden._install_torchvision_stub_ops()
    problems = []
    for name in ("resnet18", "unet-padded"):
        file, channels, kinds = EXAMPLES[name]
        case = examples_golden.run(name, "97x131")
        problems += example_mismatches(case, (ROOT / "examples" / file).read_text(), channels, kinds)
    assert problems == []
