"""A grammar-aware fuzzer: stacks drawn from the words every kind takes (the registry's),
graph words, repeats, big numbers, and the options of every command. Shared by
tests/test_fuzz.py (a bounded budget) and bench/fuzz.py (a long run)."""

from __future__ import annotations

import signal
from contextlib import contextmanager

from hypothesis import strategies as st

from convshape.kinds import Kind

NAMES = ["a", "b", "x"]
NUMBERS = st.one_of(st.integers(1, 4), st.integers(1, 4), st.integers(0, 9), st.integers(10, 300),
                    st.sampled_from([2 ** 31, 10 ** 15]))


@st.composite
def value(draw, fractional: bool = False) -> str:
    axes = draw(st.integers(1, 3))
    numbers = [str(draw(NUMBERS)) for _ in range(axes if draw(st.booleans()) else 1)]
    if fractional and draw(st.booleans()):
        numbers = [draw(st.sampled_from(["1.5", "0.5", "2.5", "0.25"]))]
    return "x".join(numbers)


@st.composite
def layer(draw, names=NAMES) -> str:
    kind = draw(st.sampled_from(list(Kind)))
    op = kind.op
    words = [kind.value]
    names = list(names) or NAMES
    if op.is_merge:
        words += draw(st.lists(st.sampled_from(names), min_size=1, max_size=2))
        words += draw(st.sampled_from([[], [], ["crop"], ["pad"]]))
        return " ".join(words)
    for prefix in op.takes:
        if prefix == "x" or not (prefix in op.required or draw(st.booleans())):
            continue
        if prefix == "p" and draw(st.booleans()):
            words.append(draw(st.sampled_from(["psame", "pvalid", "pfull", "p1:0", "p-1"])))
        elif prefix in ("nobias", "dw", "ceil", "keep"):
            words.append(prefix)
        else:
            words.append(prefix + draw(value(fractional=prefix == "s" and op.fractional_scale)))
    if "like" in dict(op.after) and draw(st.integers(0, 4)) == 0:
        words += ["like", draw(st.sampled_from(names))]
    if draw(st.integers(0, 6)) == 0:
        words.append(f"x{draw(st.sampled_from([2, 3, 50]))}")
    return " ".join(words)


@st.composite
def stack(draw) -> str:
    """Mostly names that are bound before they are read; sometimes not."""
    items, bound = [], set()
    if draw(st.booleans()):
        items.append("@a")
        bound.add("a")
    for _ in range(draw(st.integers(1, 7))):
        choice = draw(st.integers(0, 9))
        known = sorted(bound) if bound and draw(st.integers(0, 9)) else NAMES
        if choice == 0:
            name = draw(st.sampled_from(NAMES))
            items.append(f"@{name}")
            bound.add(name)
        elif choice == 1:
            items.append(f"from {draw(st.sampled_from(known))} {draw(layer(known))}")
        elif choice == 2:
            name = draw(st.sampled_from(NAMES))
            body = " ".join(draw(st.lists(layer(sorted(bound | {name})), min_size=1, max_size=3)))
            items.append(f"repeat {draw(st.sampled_from([1, 2, 3]))} @{name} {body} end")
            bound.add(name)
        else:
            items.append(draw(layer(known)))
    return ", ".join(items)


SIZES = st.sampled_from(["1", "7", "8", "32", "224", "5x9", "8x8x8", "64", "3x224x224", "1000000"])


@st.composite
def command(draw) -> list[str]:
    text = draw(stack())
    size = ["-i", draw(SIZES)] if draw(st.booleans()) else []
    channels = ["-c", str(draw(st.sampled_from([1, 3, 4, 16])))] if draw(st.booleans()) else []
    convention = ["--convention", draw(st.sampled_from(["tf", "onnx"]))] if draw(st.integers(0, 3)) == 0 else []
    which = draw(st.sampled_from(["calc", "calc-json", "calc-q", "fit", "export-torch", "export-keras", "draw",
                                  "draw-unit", "solve"]))
    if which == "calc":
        return ["calc", *size, *channels, *convention, text]
    if which == "calc-json":
        return ["calc", "--format", "json", *size, *channels, *convention, text]
    if which == "calc-q":
        return ["calc", "-q", *size, *channels, *convention, text]
    if which == "fit":
        return ["fit", *channels, *convention, text]
    if which.startswith("export"):
        return ["export", "--to", which.split("-")[1], *size, *channels, text]
    if which == "draw":
        return ["draw", "-i", draw(SIZES), *channels, "-o", "-", text]
    if which == "draw-unit":
        return ["draw", "-i", draw(SIZES), "--unit", draw(st.sampled_from(["0,0", "1,1", "3"])), "--no-color", text]
    tokens = draw(layer()).split()
    return ["solve", "-i", draw(SIZES), "-o", draw(SIZES), "-q", *tokens]


class Hang(Exception):
    pass


@contextmanager
def time_limit(seconds: int):
    """A hang fails as Hang (SIGALRM; where there is none, no limit)."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def stop(signum, frame):
        raise Hang(f"ran past {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
