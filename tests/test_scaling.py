"""The work per layer is constant: counted in function calls, not timed (timings are noisy)."""

import sys

import pytest

from convshape.grammar import parse_stack
from convshape.calc import run
from convshape.render.json import chunks


def calls(layers: int, stack: str) -> int:
    text = "\n".join([stack] * layers)
    count = 0

    def profiler(frame, event, arg):
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(profiler)
    try:
        result = run(parse_stack(text, input_dims=1), (224,), 3)
        for _ in chunks(result):
            pass
    finally:
        sys.setprofile(None)
    return count


@pytest.mark.parametrize(
    "stack",
    ["conv k3 p1 c64", "conv k3 s1 p1 c8, maxpool k3 s1 p1, pad p1, conv k3 c8", "up, convt k3 s2 p1 op1 c4, conv k4 s2 p1, conv k4 s2 p1",
     "conv k3 s2 p1 c8", "maxpool k3 s2 p1"],
)
def test_calls_grow_linearly_with_the_number_of_layers(stack):
    """The 200 layers after the first 200 cost what the 200 after the first 2,000 do (a
    strided stack's first 60 cost more: its field is tracked until it passes 10^18 pixels)."""
    early = calls(400, stack) - calls(200, stack)
    late = calls(2200, stack) - calls(2000, stack)
    assert 0.97 <= late / early <= 1.03, (early, late)


def test_a_100000_layer_stack_is_computed():
    result = run(parse_stack("conv k3 p1 c64\n" * 100_000), (32, 32), 3)
    assert len(result.rows) == 100_000 and result.output.size == (32, 32)


def test_a_deep_strided_stack_keeps_its_numbers_small(run):
    """conv k3 s2 p1 from the identity: rf 2^(n+1) − 1 and jump 2^n after n layers, start 0.
    Layer 59 is the first whose field spans more than 10^18 pixels: from there it is null,
    said once, and no number in the output grows with the depth."""
    import json

    result = run("calc", "-i", "224", "--format", "json", "conv k3 s2 p1 c8 x3000")
    assert result.returncode == 0
    layers = json.loads(result.stdout)["layers"]
    assert layers[57]["rf"] == {"size": [2**59 - 1] * 2, "jump": [2**58] * 2, "start": [0, 0], "min_size": [2**59 - 1] * 2}
    assert layers[58]["rf"] is None
    untracked = [row["index"] for row in layers for note in row["notes"] if note["code"] == "field_not_tracked"]
    assert untracked == [59]
    assert "more than 10^18 pixels" in layers[58]["notes"][-1]["message"]
    assert max(len(line) for line in result.stdout.splitlines()) < 2000
