"""What every reader returns: an ``Imported`` stack, or an ``ImportFailure``."""

from __future__ import annotations

from typing import NamedTuple


def located(places: list[str]) -> str:
    """Where a note's finding is: the one place, or how many and the first.

    >>> located(["fc"]), located(["a.0", "a.1"])
    ('fc', '2 of them, a.0 first')
    """
    return places[0] if len(places) == 1 else f"{len(places)} of them, {places[0]} first"


class ImportFailure(Exception):
    """A file that claims a format and cannot be read as it, or a model that cannot go on."""


class Imported(NamedTuple):
    stack: str
    source: str  # "print(model)", "Keras JSON", "ONNX"
    input_size: tuple[int, ...] | None = None  # fixed in the file
    input_channels: int | None = None
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    dims: int | None = None  # the spatial axes the model's layers name (Conv2d: 2)
    convention: str | None = None  # the semantics the model has: tf for Keras, onnx for ONNX
