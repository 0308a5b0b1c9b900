"""What every golden generator does alike: draw cases until enough of them are kept, and
write them with the versions of the frameworks that ran them."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path


def collect(draw_case, run, refused, count: int, seed: int, program: str) -> list[dict]:
    """``count`` cases: each drawn, run by the framework, kept unless ``refused`` (a case
    convshape refuses on purpose), with its drawn ``program`` dropped once it has run."""
    rng = random.Random(seed)
    cases: list[dict] = []
    while len(cases) < count:
        case = draw_case(rng)
        result = run(case)
        if refused(case, result):
            continue
        case.update(result)
        del case[program]
        cases.append(case)
    return cases


def write(path: Path, generator: str, versions: dict, seed: int, cases: list[dict]) -> None:
    payload = {"generator": generator, **versions, "seed": seed, "cases": cases}
    path.write_text(json.dumps(payload, indent=None, separators=(",", ":")) + "\n")
    valid = sum(1 for case in cases if case["error"] is None)
    print(f"wrote {len(cases)} cases ({valid} valid) to {path}", file=sys.stderr)
