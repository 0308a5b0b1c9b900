"""A model's own check of its input size: ``expect o224`` is torchvision's ViT refusing any
image but the one its position embedding was learned for (``torch._assert(h ==
self.image_size, ...)``), before it computes anything. The shape is kept; a size other than
the expected one is an error at that row, with torchvision's words."""

from __future__ import annotations

from ..diagnostics import Code, Diagnostic, KindCode, Level
from .base import Op

SIZE_EXPECTED = KindCode(
    "size_expected", Level.ERROR,
    "the model takes only {expected}, and gets {got}{framework}", True)
_NAMES = {"H": "height", "W": "width"}


class Expect(Op):
    word = "expect"
    help = "the input size the model checks"
    takes = ("o", "x")
    required = ("o",)
    needs = "the size it takes, such as o224 (o224x224)"
    bare = "o"
    token_help = (("o", "the size it takes: o224, o224x192"),)

    def structure_error(self, layer, size, channels, flattened, convention):
        if size is None:
            return Diagnostic(Code.SPATIAL_AFTER_FLATTEN, (), {"kind": self.word, "reason": flattened})
        if tuple(size) == tuple(layer.out):
            return None
        from ..layers import axis_names

        axes = axis_names(len(size))
        framework = ""
        wrong = next(axis for axis in range(len(size)) if size[axis] != layer.out[axis])
        if axes[wrong] in _NAMES:  # torchvision's ViT asserts the height, then the width
            framework = (f": torchvision's ViT fails with 'Wrong image {_NAMES[axes[wrong]]}! Expected "
                         f"{layer.out[wrong]} but got {size[wrong]}!'")
        return Diagnostic(SIZE_EXPECTED, (), {"expected": "×".join(map(str, layer.out)),
                                              "got": "×".join(map(str, size)), "framework": framework})

    def fixed_size(self, layer):
        return layer.out

    def cost_lines(self, row, cost, torch_profile, times, convention):
        return [f"checks the input is {'×'.join(map(str, row.layer.out))}; no parameters"]

    def torch_module(self, row, w):
        return "nn.Identity()"

    def keras_layers(self, row, w):
        return []


OPS = (Expect(),)
