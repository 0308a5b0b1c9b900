"""convshape: exact output sizes, channels and receptive fields of CNN layer stacks.

>>> from convshape import calc
>>> calc("conv k3 s2", 7).output.size
(3, 3)
"""

from .api import calc, from_torch
from .calc import Result, Row, run
from .grammar import ParseError, parse_stack

__version__ = "0.1.0"
__all__ = ["calc", "from_torch", "run", "parse_stack", "ParseError", "Result", "Row", "__version__"]
