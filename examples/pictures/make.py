"""The README's pictures, made by convshape itself: `python examples/pictures/make.py`.

tests/test_draw.py fails when a committed picture differs from what this makes now.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
EXAMPLES = "examples"

PICTURES = [
    ("seed-6x6-k3-s1.svg", ["-i", "6", "conv k3 s1"]),
    ("seed-6x6-k3-s2.svg", ["-i", "6", "conv k3 s2"]),
    ("seed-7x7-k3-s2.svg", ["-i", "7", "conv k3 s2"]),
    ("convt-k3-s2.svg", ["-i", "3", "convt k3 s2"]),
    ("conv-k3-d2.svg", ["-i", "7", "conv k3 d2"]),
    ("unet.svg", ["-f", f"{EXAMPLES}/unet.stack", "-i", "572", "-c", "1", "--title", "the U-Net (examples/unet.stack) on 1×572×572"]),
    ("resnet18.svg", ["-f", f"{EXAMPLES}/resnet18.stack", "-i", "224", "-c", "3", "--title", "ResNet-18 (examples/resnet18.stack) on 3×224×224"]),
    ("googlenet.svg", ["-f", f"{EXAMPLES}/googlenet.stack", "-i", "224", "-c", "3", "--title", "GoogLeNet (examples/googlenet.stack) on 3×224×224"]),
    ("field-residual.svg", ["-i", "12", "@a conv k3 p1, conv k3 p1 @b from a conv k1 add b", "--unit", "5,5"]),
]


def make(args: list[str]) -> str:
    """The SVG convshape draws for ``args``, run from the repository's root."""
    import os

    from typer.testing import CliRunner

    sys.path.insert(0, str(ROOT))
    from convshape.cli import app

    here = os.getcwd()
    os.chdir(ROOT)
    try:
        result = CliRunner().invoke(app, ["draw", *args, "-o", "-"])
    finally:
        os.chdir(here)
    if result.exit_code not in (0, 1):
        raise SystemExit(f"convshape draw {' '.join(args)} failed: {result.output}")
    return result.stdout


def main() -> None:
    for name, args in PICTURES:
        (HERE / name).write_text(make(args))
        print(f"wrote examples/pictures/{name}", file=sys.stderr)


if __name__ == "__main__":
    main()
