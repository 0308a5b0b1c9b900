"""Pictures: what one layer does on its input, what a network looks like, and what a unit sees.

The modules here compute the pictures as plain data (``layer``, ``field``, ``network``) and
write them as SVG text (``svg``) or, for small cases, as Rich text for the terminal
(``terminal``). SVG is written by hand, with no library; PNG goes through cairosvg, the
extra ``convshape[draw]``, imported only when a PNG is asked for.
"""

from __future__ import annotations


class DrawError(Exception):
    """A picture that cannot be drawn: too large, or a layer with no window to show."""


# The colours every picture shares, so that a reader (and a test) knows what each means.
REAL = "#ffffff"  # an input pixel that is read
PADDING = "#d9d9d9"  # padding, drawn apart from the real pixels
ZERO = "#efefef"  # the zeros a transposed convolution inserts between input pixels
CEIL = "#fff4d6"  # past the padding, where only ceil mode's last window reaches (nothing is there)
UNREAD = "#f28c28"  # the warning colour: pixels never read, outputs that see only padding
OUTPUT = "#cfe0fc"  # an output that sees real pixels
WINDOW = "#2f6fd6"  # the window at the current output
FIELD = "#2f6fd6"  # input pixels a unit reaches
ERROR = "#d62f2f"
PATHS = ["#2f6fd6", "#2ca02c", "#9467bd", "#d62f8f", "#17becf", "#8c564b"]
