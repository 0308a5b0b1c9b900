"""The public entry point: ``calc(stack text, input size)`` parses, runs and, where merges
do not line up, says which sizes fit (``from convshape import calc``)."""

from __future__ import annotations

from .calc import Result, run
from .diagnostics import Code
from .grammar import parse_size, parse_stack
from .layers import Convention

def with_fit_hint(result: Result, stack) -> Result:
    """The result, its merge_size_mismatch saying which sizes fit (``fit.with_fit_hint``);
    ``fit`` is imported only when a merge does not line up."""
    row = result.error_row
    if row is None or row.error.code is not Code.MERGE_SIZE_MISMATCH:
        return result
    from .fit import with_fit_hint as hinted

    return hinted(result, stack)


API_SOURCE = "<stack>"  # what a ParseError from calc()'s text names as its source


def calc(
    stack: str,
    input_size: str | int | tuple[int, ...],
    channels: int | None = None,
    convention: str | Convention = "torch",
    dims: int | None = None,
) -> Result:
    """Parse ``stack`` and run it over ``input_size``.

    >>> calc("conv k3 s2", 7).output.size
    (3, 3)
    >>> calc("conv k3 p1 c64, maxpool k2, flatten", "32x32", channels=3).output.features
    16384
    >>> calc("conv k3", 0)
    Traceback (most recent call last):
    convshape.grammar.ParseError: input_size: '0' is not a size: every axis needs at least 1 pixel
    """
    if not isinstance(input_size, str):  # numbers get the checks that text gets
        input_size = "x".join(map(str, (input_size,) if isinstance(input_size, int) else input_size))
    input_size = parse_size(input_size, "input_size")
    parsed = parse_stack(stack, API_SOURCE, input_dims=len(input_size), dims=dims)
    return with_fit_hint(run(parsed, input_size, channels, Convention(convention)), parsed)


def from_torch(module, input_size: str | int | tuple[int, ...] = 224, channels: int | None = None) -> Result:
    """A live PyTorch ``nn.Module`` (or a ``"MODULE:ATTR"`` text), captured as ``convshape import``
    does and run over ``input_size``: what ``calc`` returns for the stack it stands for.
    torch is imported here only; ``ImportFailure`` says what cannot be followed exactly."""
    from .importers.torch_module import from_module, read_module

    if not isinstance(input_size, str):
        input_size = "x".join(map(str, (input_size,) if isinstance(input_size, int) else input_size))
    size = parse_size(input_size, "input_size")
    capture = read_module(module, size, channels) if isinstance(module, str) else from_module(module, size, channels)
    return capture.result
