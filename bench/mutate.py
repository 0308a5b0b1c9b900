"""Mutation sampling: how many one-line changes to the code do the tests catch?

    .venv/bin/python bench/mutate.py                       # 15 mutants in each of export/, importers/, draw/
    .venv/bin/python bench/mutate.py --per-area 40 --seed 7
    .venv/bin/python bench/mutate.py --area draw --list    # the candidates, without running anything

Each mutant is one change on one line of code (not a comment or a docstring): a comparison
turned (== and !=, < and <=, > and >=), + and - swapped, `and` and `or` swapped, True and
False swapped, an integer one more, or a string literal's first letter changed (a class name
the writers write, a word of a message). It is made in a copy of the checkout, and the tests
of its area run there (`-x`: the first failure kills it) with the copy first on the path.
Tests that start the installed `convshape` script run the unchanged code, so a score here
is a floor. Prints each survivor and the score per area; exit 0.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AREAS = {
    "export": ["tests/test_export.py", "tests/test_keras_layers.py", "tests/test_transformers.py",
               "tests/test_every_kind.py"],
    "importers": ["tests/test_import.py", "tests/test_declared.py", "tests/test_keras_layers.py",
                  "tests/test_onnx_models.py", "tests/test_onnx_transformers.py", "tests/test_transformers.py",
                  "tests/test_live_import.py", "tests/test_keras_models.py"],
    "draw": ["tests/test_draw.py", "tests/test_hardening.py"],
}
SWAPS = [(" == ", " != "), (" != ", " == "), (" <= ", " < "), (" < ", " <= "), (" >= ", " > "), (" > ", " >= "),
         (" + ", " - "), (" - ", " + "), (" and ", " or "), (" or ", " and "), ("True", "False"), ("False", "True")]
STRING = re.compile(r"""(?<![\w'"])(["'])([A-Za-z])""")
NUMBER = re.compile(r"(?<![\w.])(\d+)(?![\w.])")


def _code_lines(path: Path) -> list[tuple[int, str]]:
    """(number, text) of the lines that are code: no comment lines, no docstrings."""
    lines, inside, found = path.read_text().split("\n"), None, []
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if inside:
            if inside in stripped:
                inside = None
            continue
        for quote in ('"""', "'''"):
            if stripped.startswith(quote) or stripped.startswith(("r" + quote, "f" + quote)):
                if stripped.count(quote) == 1:
                    inside = quote
                break
        else:
            if stripped and not stripped.startswith("#") and not stripped.startswith(("import ", "from ")):
                found.append((number, line))
    return found


def candidates(area: str) -> list[tuple[str, int, str, str]]:
    """(file, line number, old line, new line) for every mutation of the area's code."""
    found = []
    for path in sorted((ROOT / "convshape" / area).glob("*.py")):
        relative = str(path.relative_to(ROOT))
        for number, line in _code_lines(path):
            code = line.split("  #")[0]
            for old, new in SWAPS:
                if old in code:
                    found.append((relative, number, line, line.replace(old, new, 1)))
            match = NUMBER.search(code)
            if match and not code.lstrip().startswith(("def ", "class ")):
                found.append((relative, number, line,
                              line[:match.start()] + str(int(match.group(1)) + 1) + line[match.end():]))
            match = STRING.search(code)
            if match:
                letter = match.group(2)
                other = "Q" if letter.isupper() else "q"
                if letter.lower() == "q":
                    other = "Z" if letter.isupper() else "z"
                found.append((relative, number, line, line[:match.start(2)] + other + line[match.end(2):]))
    return found


def run(area: str, mutants, copy: Path, timeout: int) -> list[tuple]:
    survivors = []
    for index, (relative, number, old, new) in enumerate(mutants, 1):
        target = copy / relative
        original = target.read_text()
        lines = original.split("\n")
        lines[number - 1] = new
        target.write_text("\n".join(lines))
        started = time.time()
        try:
            done = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                                   *AREAS[area]], cwd=copy, capture_output=True, text=True, timeout=timeout,
                                  env={**os.environ, "PYTHONPATH": str(copy)})
            killed = done.returncode != 0
            how = "killed" if killed else "SURVIVED"
        except subprocess.TimeoutExpired:
            killed, how = True, "killed (timeout)"
        finally:
            target.write_text(original)
        print(f"{area} {index}/{len(mutants)} {how} in {time.time() - started:.0f} s: {relative}:{number}: "
              f"{old.strip()}  ->  {new.strip()}", flush=True)
        if not killed:
            survivors.append((relative, number, old.strip(), new.strip()))
    return survivors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--per-area", type=int, default=15)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--area", choices=list(AREAS), action="append")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--timeout", type=int, default=900)
    args = parser.parse_args()
    areas = args.area or list(AREAS)
    rng = random.Random(args.seed)
    chosen = {area: rng.sample(candidates(area), min(args.per_area, len(candidates(area)))) for area in areas}
    if args.list:
        for area, mutants in chosen.items():
            print(f"{area}: {len(candidates(area))} candidates")
            for relative, number, _old, new in mutants:
                print(f"  {relative}:{number}: {new.strip()}")
        return
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "convshape-mutant"
        shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".venv", ".git", "__pycache__", "build", "*.egg-info"))
        scores = {}
        for area in areas:
            survivors = run(area, chosen[area], copy, args.timeout)
            scores[area] = (len(chosen[area]) - len(survivors), len(chosen[area]), survivors)
    print()
    for area, (killed, total, survivors) in scores.items():
        print(f"{area}: {killed} of {total} killed ({100 * killed // max(total, 1)}%)")
        for relative, number, old, new in survivors:
            print(f"  survived: {relative}:{number}: {old}  ->  {new}")


if __name__ == "__main__":
    main()
