"""A long run of the grammar-aware fuzzer of tests/fuzzing.py over every command.

    python bench/fuzz.py 20000      # inputs to try (default 5000)

Prints each input that ends in an internal error, raises, or runs past 20 s (or 2 s, as
slow), and the exit statuses seen per command. Exit status 1 when any input failed.
"""

from __future__ import annotations

import collections
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from hypothesis import HealthCheck, given, settings  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from convshape.cli import app  # noqa: E402
from fuzzing import Hang, command, time_limit  # noqa: E402


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    runner = CliRunner()
    statuses: collections.Counter = collections.Counter()
    failures: list[str] = []

    @settings(max_examples=count, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(command())
    def run(args):
        started = time.perf_counter()
        try:
            with time_limit(20):
                result = runner.invoke(app, args)
        except Hang:
            failures.append(f"hang: {args}")
            return
        took = time.perf_counter() - started
        statuses[(args[0], result.exit_code)] += 1
        if result.exit_code not in (0, 1, 2) or "internal error" in result.output or (
                result.exception is not None and not isinstance(result.exception, SystemExit)):
            failures.append(f"exit {result.exit_code}: {args}: {result.output.strip()[-200:]}")
        elif took > 2:
            failures.append(f"slow ({took:.1f} s): {args}")

    run()
    for (name, status), seen in sorted(statuses.items()):
        print(f"{name:8} exit {status}: {seen}")
    for failure in failures:
        print(failure)
    print(f"{sum(statuses.values())} inputs, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
