"""The docstring examples in the package run as written."""

import doctest
import importlib

import pytest

MODULES = [
    "convshape",
    "convshape.arithmetic",
    "convshape.calc",
    "convshape.diagnostics",
    "convshape.explain",
    "convshape.fit",
    "convshape.solve",
    "convshape.symbolic",
    "convshape.completion",
    "convshape.grammar",
    "convshape.layers",
    "convshape.named",
    "convshape.receptive",
    "convshape.render.common",
    "convshape.schemas",
    "convshape.framework",
    "convshape.export",
    "convshape.importers",
    "convshape.importers.torch_repr",
    "convshape.draw.layer",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    failures, attempted = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert attempted > 0, f"{name} has no examples"
    assert failures == 0
