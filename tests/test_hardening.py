"""What a new user broke (issue 21): each test failed before its fix."""

import pytest
from typer.testing import CliRunner

from convshape.cli import app

runner = CliRunner()


def invoke(*args, input=None):
    return runner.invoke(app, list(args), input=input)


# ----------------------------------------------------------------------------- more than three axes

@pytest.mark.parametrize("size, hint", [
    ("1x3x224x224", "'1x3x224x224' has 4 sizes: give 1 to 3 spatial sizes (L, H×W or D×H×W), without the batch or "
                    "the channels; for N×C×H×W = 1×3×224×224, give -i 224x224 -c 3"),
    ("2x3x16x112x112", "for N×C×D×H×W = 2×3×16×112×112, give -i 16x112x112 -c 3"),
    ("8x8x8x8x8x8", "'8x8x8x8x8x8' has 6 sizes: give 1 to 3 spatial sizes (L, H×W or D×H×W), without the batch or "
                    "the channels\n"),
])
@pytest.mark.parametrize("command", [["calc", "-q"], ["export", "--to", "torch"], ["draw"]])
def test_more_than_three_sizes_are_refused_with_the_hint(command, size, hint):
    result = invoke(*command, "-i", size, "conv", "k3", "p1")
    assert result.exit_code == 2
    assert hint in result.stderr + "\n"
    assert "Conv4d" not in result.stdout


def test_three_sizes_are_still_a_volume():
    result = invoke("calc", "-q", "-i", "8x8x8", "conv", "k3")
    assert result.exit_code == 0 and result.stdout == "6x6x6\n"


@pytest.mark.parametrize("stack, token", [("conv k3x3x3x3", "'k3x3x3x3' has 4 values"),
                                          ("conv k3, maxpool k2x2x2x2x2", "'k2x2x2x2x2' has 5 values")])
def test_a_layer_token_with_more_than_three_axes_is_refused(stack, token):
    result = invoke("calc", "-q", stack)
    assert result.exit_code == 2
    assert f"{token}: a layer has 1 to 3 spatial axes" in result.stderr
