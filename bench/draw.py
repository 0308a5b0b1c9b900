"""How long ResNet-50's network diagram takes to draw, against calc on the same stack.

    .venv/bin/python bench/draw.py          # 15 runs of each, interleaved; medians and minimums

The issue asks for "well under a second"; the ratio to `calc -q` says what drawing adds
on a machine whose absolute timings are noisy.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STACK = ROOT / "examples" / "resnet50.stack"
CONVSHAPE = [sys.executable, "-m", "convshape"]


def main(runs: int = 15) -> None:
    with tempfile.TemporaryDirectory() as folder:
        variants = {
            "calc -q": [*CONVSHAPE, "calc", "-i", "224", "-c", "3", "-f", str(STACK), "-q"],
            "draw svg": [*CONVSHAPE, "draw", "-i", "224", "-c", "3", "-f", str(STACK), "-o", f"{folder}/r50.svg"],
        }
        try:
            import cairosvg  # noqa: F401

            variants["draw png"] = [*CONVSHAPE, "draw", "-i", "224", "-c", "3", "-f", str(STACK), "-o",
                                    f"{folder}/r50.png"]
        except (ImportError, OSError):
            print("(no cairosvg: PNG not measured)")
        times: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(runs):
            for name, command in variants.items():
                start = time.perf_counter()
                subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
                times[name].append(time.perf_counter() - start)
    base = statistics.median(times["calc -q"])
    for name, found in times.items():
        median = statistics.median(found)
        print(f"{name:9} min {min(found) * 1000:7.1f} ms   median {median * 1000:7.1f} ms   "
              f"{median / base:5.2f} × calc -q")


if __name__ == "__main__":
    main()
