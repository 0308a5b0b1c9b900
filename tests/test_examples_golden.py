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
from convshape import calc  # noqa: E402
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


# torchinfo counts an nn.Linear once per image whatever the positions it runs over, and
# ConvNeXt's pointwise layers are nn.Linear over channels (1x1 convs in the example): its
# mult-adds and pass size are torchinfo's undercount, not a convention to reproduce.
# The same holds for ViT's layers over a sequence of tokens, Swin's over channels last and
# MaxViT's over partitions, and torchinfo counts nothing for the attention's own products.
TORCHINFO_DIFFERS = {"convnext-tiny", "vit-b-16", "swin-t", "maxvit-t"}


def _costs(name, size, profile="torch"):
    from convshape.counts import Profile, count

    file, channels, _ = EXAMPLES[name]
    result = calc((ROOT / "examples" / file).read_text(), size, channels=channels)
    return result, count(result, Profile(profile))


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_params_buffers_and_macs_agree_with_torch_at_every_size(name):
    problems = []
    for case in (c for c in CASES if c["example"] == name):
        result, costs = _costs(name, case["input"])
        torch = case["costs"]
        if case["error"] is not None:
            assert not result.valid and costs.totals is None
            continue
        ours = {"params": costs.totals.params, "buffers": costs.totals.buffers, "flops": 2 * costs.totals.macs}
        problems += [f"{case['input']} {key}: {ours[key]} != torch's {torch[key]}" for key in ours if ours[key] != torch[key]]
    assert problems == []


@pytest.mark.parametrize("name", sorted(set(EXAMPLES) - TORCHINFO_DIFFERS))
def test_the_torchinfo_profile_agrees_with_torchinfo(name):
    problems = []
    for case in (c for c in CASES if c["example"] == name and c["error"] is None):
        _, costs = _costs(name, case["input"], "torchinfo")
        totals, torchinfo = costs.totals, case["costs"]
        if totals.macs != torchinfo["torchinfo_macs"]:
            problems.append(f"{case['input']}: mult-adds {totals.macs} != {torchinfo['torchinfo_macs']}")
        # torchinfo's own parts: twice the outputs of layers with parameters, and the parameters.
        if totals.torchinfo_bytes - totals.input_bytes != torchinfo["torchinfo_pass_bytes"] + torchinfo["torchinfo_param_bytes"]:
            problems.append(f"{case['input']}: bytes {totals.torchinfo_bytes - totals.input_bytes}")
    assert problems == []


def test_torchinfo_really_differs_on_convnext():
    case = next(c for c in CASES if c["example"] == "convnext-tiny" and c["input"] == "224")
    _, costs = _costs("convnext-tiny", "224", "torchinfo")
    assert costs.totals.macs > 10 * case["costs"]["torchinfo_macs"]


def test_torchinfo_really_differs_on_vit():
    """torchinfo's 173 M mult-adds for ViT-B/16 against FlopCounterMode's 17.6 G (the README says why)."""
    case = next(c for c in CASES if c["example"] == "vit-b-16" and c["input"] == "224")
    assert case["costs"]["torchinfo_macs"] < case["costs"]["flops"] // 2 // 100
