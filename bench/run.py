"""convshape's speed targets, measured side by side with their baselines in one run.

    python bench/run.py            # all targets, a Markdown table on stdout
    python bench/run.py --quick    # fewer runs, for a first look

Start-up is compared as a ratio of medians against `python -c "import typer"` (and,
for the table, Typer plus Rich printing a two-column table), measured in the same run,
interleaved, since absolute times drift on shared machines. With `hyperfine` installed
(`apt-get install hyperfine`) it does the start-up timing; otherwise this script runs
each command repeatedly itself, after warm-up runs. Where torch is installed it also
times the torch way: import torch, build the nn.Sequential, push a tensor on the meta
device and read the shapes. Exit status 1 when a target is missed.

Every command runs with Python's bytecode cache allowed, as on a user's machine: with
PYTHONDONTWRITEBYTECODE set (some build machines set it) an editable install would
compile convshape from source on every start, while typer and rich, compiled by pip at
install, would not; the warm-up runs fill the cache.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESNET = Path(__file__).resolve().parent / "resnet50-main-path.stack"  # the workload the targets were set on
WHOLE_RESNET = ROOT / "examples" / "resnet50.stack"  # with its shortcuts: blocks, names and merges
TORCH_WAY = Path(__file__).resolve().parent / "torch_way.py"

TABLE_BASELINE = (
    "import typer, rich.console, rich.table\n"
    "t = rich.table.Table('layer', 'out')\n"
    "t.add_row('conv k3', '64x112x112')\n"
    "rich.console.Console().print(t)\n"
)


# The same app as the console script, without main()'s ending (the collector frozen, the
# exit without Python's teardown): to show what that is worth (an information row, not a target).
NO_FREEZE = "import gc; from convshape.cli import app; gc.disable(); app(prog_name='convshape')"


def convshape() -> list[str]:
    script = Path(sys.executable).parent / "convshape"
    if script.exists():
        return [str(script)]
    found = shutil.which("convshape")
    return [found] if found else [sys.executable, "-m", "convshape"]


def _once(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def own_timing(commands: dict[str, list[str]], runs: int, warmup: int) -> dict[str, list[float]]:
    """Each command `runs` times, interleaved round by round so drift hits all alike."""
    for argv in commands.values():
        for _ in range(warmup):
            _once(argv)
    times: dict[str, list[float]] = {name: [] for name in commands}
    names = list(commands)
    for round_number in range(runs):
        order = names[round_number % len(names):] + names[: round_number % len(names)]
        for name in order:
            times[name].append(_once(commands[name]))
    return times


def hyperfine_timing(commands: dict[str, list[str]], runs: int, warmup: int) -> dict[str, list[float]]:
    """hyperfine runs one command's series after another; a few short rounds interleave them."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    with tempfile.TemporaryDirectory() as tmp:
        export = Path(tmp) / "out.json"
        rounds = max(2, runs // 4)
        for _ in range(rounds):
            argv = ["hyperfine", "-N", "--style", "none", "--runs", str(max(2, runs // rounds)),
                    "--warmup", str(warmup), "--export-json", str(export)]
            for name, command in commands.items():
                argv += ["--command-name", name, shlex.join(command)]
            subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for result in json.loads(export.read_text())["results"]:
                times[result["command"]] += result["times"]
    return times


def peak(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MB) of one run, measured from a fresh parent."""
    probe = (
        "import resource, subprocess, sys, time\n"
        "start = time.perf_counter()\n"
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)\n"
        "print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True, check=True).stdout
    seconds, kilobytes = out.split()
    return float(seconds), int(kilobytes) / 1024


def describe(times: list[float]) -> str:
    return f"{min(times) * 1000:.0f} / {statistics.median(times) * 1000:.0f} / {max(times) * 1000:.0f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs and no 100,000-layer stack")
    parser.add_argument("--runs", type=int, default=None, help="runs per start-up command (default 40, quick 10)")
    parser.add_argument("--no-hyperfine", action="store_true", help="use this script's own timing")
    args = parser.parse_args()
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # see the module's docstring
    runs = args.runs or (10 if args.quick else 40)
    use_hyperfine = shutil.which("hyperfine") is not None and not args.no_hyperfine
    timing = hyperfine_timing if use_hyperfine else own_timing
    tool = convshape()
    calc = [*tool, "calc", "-i", "224", "-c", "3", "-f", str(RESNET)]
    python = sys.executable

    rows: list[tuple[str, str, str, str, str, bool]] = []
    ok_all = True

    def record(target: str, measured: str, baseline: str, ratio: float | None, limit: float | None, ok: bool) -> None:
        nonlocal ok_all
        ok_all &= ok
        rows.append((target, measured, baseline, "" if ratio is None else f"{ratio:.2f}",
                     "" if limit is None else f"≤ {limit:g}", ok))

    # 1. start-up against Python plus Typer
    no_freeze = Path(tempfile.mkdtemp()) / "no_freeze.py"  # a file: `-c` would import convshape from the cwd
    no_freeze.write_text(NO_FREEZE)
    commands = {
        "import typer": [python, "-c", "import typer"],
        "typer + rich table": [python, "-c", TABLE_BASELINE],
        "json": [*calc, "--format", "json"],
        "quiet": [*calc, "-q"],
        "table": calc,
        "json, app() alone": [python, str(no_freeze), *calc[len(tool):], "--format", "json"],
        "whole json": [*tool, "calc", "-i", "224", "-c", "3", "-f", str(WHOLE_RESNET), "--format", "json"],
        "whole quiet": [*tool, "calc", "-i", "224", "-c", "3", "-f", str(WHOLE_RESNET), "-q"],
        "whole table": [*tool, "calc", "-i", "224", "-c", "3", "-f", str(WHOLE_RESNET)],
    }
    times = timing(commands, runs, warmup=3)
    shutil.rmtree(no_freeze.parent)
    median = {name: statistics.median(value) for name, value in times.items()}
    for name, baseline in [("json", "import typer"), ("quiet", "import typer"), ("table", "typer + rich table")]:
        ratio = median[name] / median[baseline]
        record(f"ResNet-50 main path, {name}: start-up", describe(times[name]),
               f"{baseline}: {describe(times[baseline])}", ratio, 1.2, ratio <= 1.2)

    from convshape.grammar import parse_stack

    whole = parse_stack(WHOLE_RESNET.read_text())
    merges = sum(layer.kind.is_merge for layer in whole.layers)
    for name, baseline, limit in [("whole json", "import typer", 1.2), ("whole quiet", "import typer", 1.2),
                                  ("whole table", "typer + rich table", 1.3)]:  # issue 21's targets
        ratio = median[name] / median[baseline]
        record(f"the whole ResNet-50 with its norms and activations ({len(whole.layers)} rows, "
               f"{merges} merges), {name.split()[1]}: start-up", describe(times[name]),
               f"{baseline}: {describe(times[baseline])}", ratio, limit, ratio <= limit)
    ratio = median["json, app() alone"] / median["import typer"]
    record("(information) json through app(), without main()'s ending (frozen collector, exit without teardown)", describe(times["json, app() alone"]),
           f"import typer: {describe(times['import typer'])}", ratio, None, True)

    # 2. linear scaling in the number of layers (json), whatever the strides: a stride-2 or
    #    pooling chain doubles the receptive field's numbers every layer
    kinds = {"stride 1": "conv k3 p1 c64", "stride 2": "conv k3 s2 p1 c64", "pooling": "maxpool k3 s2 p1"}
    with tempfile.TemporaryDirectory() as tmp:
        sizes = [1000, 10000] + ([] if args.quick else [100000, 1000000])
        base_seconds, base_megabytes = peak([*tool, "calc", "-i", "224", "-c", "3", "--format", "json", "conv k3"])
        for label, layer in kinds.items():
            stacks = {}
            for n in [1, *sizes]:
                path = Path(tmp) / f"{label}-{n}.stack"
                path.write_text(f"{layer}\n" * n)
                stacks[n] = path

            def json_run(n: int) -> list[str]:
                return [*tool, "calc", "-i", "224", "-c", "3", "-f", str(stacks[n]), "--format", "json"]

            per_layer, memory = {}, {}
            for n in sizes:
                seconds, megabytes = peak(json_run(n))
                # Time beyond start-up: medians of runs interleaved with one-layer runs, so that a
                # slow moment of the machine hits both alike (one run is enough from 100,000 layers).
                repeats = max(1, 20_000 // n)
                stack_times, base_times = [seconds], [_once(json_run(1))]
                for _ in range(repeats - 1):
                    stack_times.append(_once(json_run(n)))
                    base_times.append(_once(json_run(1)))
                per_layer[n] = (statistics.median(stack_times) - statistics.median(base_times)) / n
                memory[n] = max(megabytes - base_megabytes, 0) * 1024 / n
                fast = n < 10000 or per_layer[n] < 50e-6  # under 50 µs a layer (issue 21), where start-up is noise
                record(f"{n:,} layers of {layer}, json" + ("" if n < 10000 else ": under 50 µs a layer"),
                       f"{seconds:.2f} s, {megabytes:.0f} MB peak",
                       f"{per_layer[n] * 1e6:.1f} µs and {memory[n]:.2f} KB per layer beyond start-up",
                       None, None, fast)
                if n == 100000:
                    record(f"100,000 layers of {layer} within 10 s and 500 MB", f"{seconds:.2f} s, {megabytes:.0f} MB",
                           "", None, None, seconds <= 10 and megabytes <= 500)
            spread = max(per_layer.values()) / min(per_layer.values())
            record(f"{label}: time per layer flat (largest / smallest)",
                   " vs ".join(f"{v * 1e6:.1f}" for v in per_layer.values()) + " µs", "", spread, 2, spread <= 2)
            big = [n for n in sizes if n >= 10000]  # below, the start-up's own memory dominates
            spread = max(memory[n] for n in big) / max(min(memory[n] for n in big), 1e-9)
            record(f"{label}: memory per layer flat ({', '.join(f'{n:,}' for n in big)} layers)",
                   " vs ".join(f"{memory[n]:.2f}" for n in big) + " KB", "", spread, 2, spread <= 2)
        table_stack = Path(tmp) / "table.stack"
        table_stack.write_text("conv k3 p1 c64\n" * 1000)
        seconds, _ = peak([*tool, "calc", "-i", "224", "-c", "3", "-f", str(table_stack)])
        record("1,000-layer table (usable)", f"{seconds:.2f} s", "", None, 2, seconds <= 2)

    # 3. the torch way, where torch is installed
    try:
        import importlib.util

        has_torch = importlib.util.find_spec("torch") is not None
    except ValueError:
        has_torch = False
    if has_torch:
        torch_times = own_timing({"torch": [python, str(TORCH_WAY), str(RESNET)]}, max(3, runs // 8), warmup=1)["torch"]
        ratio = statistics.median(torch_times) / median["json"]
        record("the torch way (ResNet-50, meta device)", describe(torch_times), f"convshape json: {describe(times['json'])}",
               ratio, None, True)
    else:
        rows.append(("the torch way", "not measured: torch is not installed (pip install torch==2.13.0)", "", "", "", True))

    # 4. fit over a billion sizes on a 50-layer stack (product of strides 1024): closed form
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fifty.stack"
        path.write_text("conv k3 p1 c64\n" * 40 + "maxpool k2\n" * 5 + "conv k3 s2\n" * 5)
        fit_times = own_timing({"fit": [*tool, "fit", "-f", str(path), "--range", "1:1000000000", "--format", "json"]},
                               5, warmup=1)["fit"]
        seconds = statistics.median(fit_times)
        record("fit over 1:1000000000, 50 layers", describe(fit_times), "", None, 1, seconds < 1)

    # 5. 10,000 layers of any kind in under a second, for fit and for calc without -i: a chain
    #    of stride-2 windows needs inputs of 2^10000, and its modulus is as long
    for command in (["fit"], ["calc"]):
        for layer in ("maxpool k2", "conv k2 s2", "conv k3 s2 p1", "avgpool k3 s3", "convt k4 s2 p1", "up s0.5"):
            argv = [*tool, *command, f"{layer} x10000", "-q"]
            seconds = statistics.median(own_timing({"run": argv}, 3, warmup=1)["run"])
            record(f"{command[0]} {layer} x10000 -q", f"{seconds:.2f} s", "", None, 1, seconds < 1)

    print(f"convshape benchmarks: {'hyperfine' if use_hyperfine else 'own timing'}, {runs} runs per start-up command; "
          f"min / median / max; Python {sys.version.split()[0]}, {os.cpu_count()} cores\n")
    print("| target | measured | baseline | ratio | limit | met |")
    print("|---|---|---|---|---|---|")
    for target, measured, baseline, ratio, limit, ok in rows:
        print(f"| {target} | {measured} | {baseline} | {ratio} | {limit} | {'yes' if ok else '**no**'} |")
    return 0 if ok_all else 1


if __name__ == "__main__":
    sys.exit(main())
