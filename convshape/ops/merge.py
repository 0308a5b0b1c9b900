"""Merges: ``add``, ``mul`` and ``cat`` of named tensors with the current one. What they do
to sizes (crop, pad, broadcast, the checks and the union of fields) is ``convshape.merge``;
this module is their words and their code."""

from __future__ import annotations

from .base import Op

_AFTER = (("crop", "centre-crop larger inputs to the smallest"), ("pad", "zero-pad smaller inputs to the largest"))


class Merge(Op):
    after = _AFTER
    takes = ()
    is_merge = True
    keeps_shape = False
    torch_operator: str = ""
    keras_name: str

    def explain_row(self, row):
        what = "channels joined" if self.joins_channels else "elementwise"
        return [f"{what}: {'×'.join(map(str, row.out_size)) if row.out_size else 'flat'}, {row.out_channels} channels"]

    def torch_expression(self, tensors: list[str]) -> str:
        return f" {self.torch_operator} ".join(tensors)

    def keras_merge(self) -> str:
        return f"layers.{self.keras_name}()"


class Add(Merge):
    word = "add"
    help = "add named tensors to the current one"
    verb = "adds to the current one"
    torch_operator = "+"
    keras_name = "Add"


class Mul(Merge):
    word = "mul"
    help = "multiply named tensors with the current one"
    verb = "multiplies with the current one"
    torch_operator = "*"
    keras_name = "Multiply"


class Cat(Merge):
    word = "cat"
    help = "concatenate named tensors and the current one on channels"
    verb = "joins to the current one"
    joins_channels = True
    keras_name = "Concatenate"

    def torch_expression(self, tensors):
        return f"torch.cat([{', '.join(tensors)}], dim=1)"


OPS = (Add(), Mul(), Cat())
