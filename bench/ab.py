"""Interleaved A/B of convshape's start-up against an earlier revision, on a noisy machine.

    .venv/bin/python bench/ab.py 694cb6c            # start-up on the main path, 60 runs each
    .venv/bin/python bench/ab.py 694cb6c --layers   # and 100,000-layer JSON stacks, 3 runs each
    .venv/bin/python bench/ab.py 694cb6c --stack examples/resnet50.stack   # the whole network

The revision is checked out in a temporary git worktree, and each variant (the revision,
this checkout, and `import typer` as a baseline) runs in turn inside one loop, with the
same interpreter and packages, so that the machine's slow phases fall on all of them
alike: bench/run.py's ratios move more between runs than a small change does.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STACK = ROOT / "bench" / "resnet50-main-path.stack"


def command(root: Path, args: list[str]) -> list[str]:
    """convshape from ``root``'s sources (ahead of the installed one) with ``args``."""
    code = (f"import sys; sys.path.insert(0, {str(root)!r}); sys.argv = ['convshape', *{args!r}]; "
            "from convshape.cli import main; main()")
    return [sys.executable, "-c", code]


def interleaved(variants: dict[str, list[str]], runs: int, warmup: int = 3) -> dict[str, list[float]]:
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    times: dict[str, list[float]] = {name: [] for name in variants}
    for turn in range(warmup + runs):
        for name, argv in variants.items():
            start = time.perf_counter()
            subprocess.run(argv, stdout=subprocess.DEVNULL, env=environment, check=False)
            if turn >= warmup:
                times[name].append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("revision", help="the git revision to compare with, such as a commit or a tag")
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--layers", action="store_true", help="also 100,000-layer JSON stacks, 3 runs each")
    parser.add_argument("--stack", type=Path, default=STACK,
                        help="the stack file timed (default: the ResNet-50 main path; examples/resnet50.stack "
                             "is the whole network)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        before = Path(scratch) / "before"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(before), options.revision],
                       check=True)
        try:
            main_path = ["calc", "-i", "224", "-c", "3", "-f", str(options.stack.resolve())]
            variants = {"import typer": [sys.executable, "-c", "import typer"]}
            for name, root in (("before", before), ("now", ROOT)):
                for label, extra in (("json", ["--format", "json"]), ("-q", ["-q"]), ("table", [])):
                    variants[f"{name} {label}"] = command(root, main_path + extra)
            for name, values in interleaved(variants, options.runs).items():
                print(f"{name:14} min {min(values) * 1000:7.1f} ms   median {statistics.median(values) * 1000:7.1f} ms")
            if options.layers:
                for stack in ("conv k3 s2 p1 c64 x100000", "maxpool k3 s2 p1 x100000"):
                    variants = {name: command(root, ["calc", "-i", "224", "-c", "3", stack, "--format", "json"])
                                for name, root in (("before", before), ("now", ROOT))}
                    for name, values in interleaved(variants, 3, warmup=0).items():
                        print(f"{stack}, {name}: " + " / ".join(f"{v:.2f} s" for v in sorted(values)))
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(before)], check=False)


if __name__ == "__main__":
    main()
