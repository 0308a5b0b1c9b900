"""Every registered kind, through every command that takes a stack: the list a new kind
joins by being registered (``convshape/kinds.py``), so that no engine can forget it.

A kind added without an example here fails ``test_every_kind_has_an_example``."""

import json

import pytest
from typer.testing import CliRunner

from convshape.cli import app
from convshape.kinds import Kind

runner = CliRunner()

# One small stack per kind that ends in that kind, valid on an 8×8 input with 4 channels.
EXAMPLES = {
    "conv": "conv k3 c8", "convt": "convt k2 s2 c8", "maxpool": "maxpool k2", "avgpool": "avgpool k2",
    "up": "up s2", "pad": "pad p1", "gap": "gap", "flatten": "flatten", "linear": "flatten, linear c10",
    "adaptiveavgpool": "adaptiveavgpool o2", "adaptivemaxpool": "adaptivemaxpool o2",
    "add": "conv k1 c4 @a conv k1 c4, add a", "mul": "conv k1 c4 @a conv k1 c4, mul a",
    "cat": "conv k1 c4 @a conv k1 c4, cat a", "bn": "bn", "ln": "ln", "gn": "gn g2", "in": "in",
    "layerscale": "layerscale", "relu": "relu", "relu6": "relu6", "gelu": "gelu", "silu": "silu",
    "sigmoid": "sigmoid", "tanh": "tanh", "hardswish": "hardswish", "lrelu": "lrelu", "dropout": "dropout",
    "pixelshuffle": "conv k1 c16, pixelshuffle s2", "pixelunshuffle": "pixelunshuffle s2",
    "chunk": "chunk g2 i1", "channelshuffle": "channelshuffle g2", "normalize": "normalize",
    "tokens": "tokens", "cls": "tokens, cls", "posembed": "tokens, posembed n64", "attn": "tokens, attn h2",
    "token": "tokens, token i0", "expect": "expect o8", "wattn": "wattn k2 h2 s1", "patchmerge": "patchmerge",
    "battn": "battn k2 h2", "gattn": "gattn k2 h2",
}
# fit and calc without -i do not answer past these yet (a sequence's length is a product over
# the axes): they say so, and exit 1 (tests/test_transformers.py).
UNANSWERED = {"tokens", "cls", "posembed", "attn", "token"}


def test_every_kind_has_an_example():
    assert sorted(EXAMPLES) == sorted(kind.value for kind in Kind)


@pytest.mark.parametrize("kind", [kind.value for kind in Kind])
def test_calc_computes_every_kind(kind):
    result = runner.invoke(app, ["calc", "-i", "8", "-c", "4", "--format", "json", EXAMPLES[kind]])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["layers"]
    assert rows[-1]["kind"] == kind and rows[-1]["computed"] is True
    assert rows[-1]["params"] is not None  # counts know its parameters


@pytest.mark.parametrize("kind", [kind.value for kind in Kind])
def test_every_kind_is_explained_and_has_a_formula(kind):
    explained = runner.invoke(app, ["calc", "-i", "8", "-c", "4", "--explain", "--no-color", EXAMPLES[kind]])
    assert explained.exit_code == 0, explained.output
    formula = runner.invoke(app, ["calc", "-c", "4", "--format", "json", EXAMPLES[kind]])
    fit = runner.invoke(app, ["fit", "-c", "4", EXAMPLES[kind]])
    if kind in UNANSWERED:
        assert (formula.exit_code, fit.exit_code) == (1, 1)
        assert "not answered: layer 1: fit and calc without -i do" in fit.output
        return
    assert formula.exit_code == 0, formula.output
    assert fit.exit_code == 0, fit.output


@pytest.mark.parametrize("kind", [kind.value for kind in Kind])
def test_every_kind_exports_to_torch(kind):
    result = runner.invoke(app, ["export", "--to", "torch", "-i", "8", "-c", "4", EXAMPLES[kind]])
    assert result.exit_code == 0, result.output
    assert f"# {EXAMPLES[kind].count(',') + EXAMPLES[kind].count('@') + 1}: " in result.output
