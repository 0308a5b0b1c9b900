"""The layer model: what a parsed layer says, before any input size is known.

One frozen dataclass serves every kind: the renderers and the JSON output need the
same fields (kernel, stride, padding, ...) for each row, and a field a kind does not
take is simply ``None``. Which tokens a kind accepts is the grammar's business.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from fractions import Fraction


class Kind(str, Enum):
    CONV = "conv"
    CONVT = "convt"
    MAXPOOL = "maxpool"
    AVGPOOL = "avgpool"
    UP = "up"
    PAD = "pad"
    GAP = "gap"
    FLATTEN = "flatten"
    LINEAR = "linear"

    @property
    def is_pool(self) -> bool:
        return self in (Kind.MAXPOOL, Kind.AVGPOOL)

    @property
    def is_windowed(self) -> bool:
        """Kinds whose output is floor((I + padding - effective kernel) / stride) + 1."""
        return self in (Kind.CONV, Kind.MAXPOOL, Kind.AVGPOOL)

    @property
    def is_spatial(self) -> bool:
        """Kinds that need spatial axes in their input."""
        return self not in (Kind.FLATTEN, Kind.LINEAR)


class PaddingRule(str, Enum):
    SAME = "same"
    VALID = "valid"
    FULL = "full"


class Convention(str, Enum):
    TORCH = "torch"
    TF = "tf"


Pair = tuple[int, int]


@dataclass(frozen=True)
class Layer:
    """One layer of a stack, with every per-axis value already broadcast to ``dims`` axes.

    >>> Layer(Kind.CONV, "conv k3 s2", dims=2, kernel=(3, 3), stride=(2, 2)).kind.value
    'conv'
    """

    kind: Kind
    text: str
    dims: int
    kernel: tuple[int, ...] | None = None
    stride: tuple[int, ...] | None = None
    scale: tuple[Fraction, ...] | None = None  # `up` only: the scale factor per axis
    padding: tuple[Pair, ...] | None = None
    padding_rule: PaddingRule | None = None
    dilation: tuple[int, ...] | None = None
    channels: int | None = None
    groups: int = 1
    output_padding: tuple[int, ...] | None = None
    ceil: bool = False
    column: int = 0  # where the layer's text starts in its source, for messages


AXIS_NAMES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


def axis_names(dims: int) -> tuple[str, ...]:
    """Names for the spatial axes, the way the field writes them.

    >>> axis_names(2)
    ('H', 'W')
    """
    return AXIS_NAMES.get(dims, tuple(f"X{i}" for i in range(1, dims + 1)))
