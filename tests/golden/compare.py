"""Compare convshape with a golden case recorded from a framework. Shared by the tests."""

from __future__ import annotations

from convshape import calc


def expected_rows(case: dict) -> int:
    return len(case["shapes"])


def mismatches(case: dict, convention: str = "torch") -> list[str]:
    """Every way convshape's result differs from what the framework gave, as readable lines."""
    result = calc(case["stack"], case["input"], channels=case["channels"], convention=convention, dims=case["dims"])
    problems = []
    error = case["error"]
    error_row = result.error_row
    if error is None and error_row is not None:
        problems.append(f"convshape refuses layer {error_row.index} ({error_row.error.code.value}) but it ran")
    if error is not None and (error_row is None or error_row.index != error["layer"]):
        got = "no error" if error_row is None else f"an error at layer {error_row.index}"
        problems.append(f"framework failed at layer {error['layer']} ({error['message']}), convshape gives {got}")
    for row, shape in zip(result.rows, case["shapes"]):
        if not row.computed:
            break
        if len(shape) == 1:
            got = [row.features]
        else:
            got = [row.out_channels, *row.out_size] if row.out_size is not None else [row.features]
        if got != shape:
            problems.append(f"layer {row.index} ({row.layer.text}): framework {shape}, convshape {got}")
    return problems + cost_mismatches(case, result)


def cost_mismatches(case: dict, result) -> list[str]:
    """Per computed row: parameters against torch's numel (or Keras' count_params, with its
    trainable weights apart), and MACs against FlopCounterMode's count, halved."""
    from convshape.counts import count

    if "params" not in case:
        return []
    costs = count(result)
    problems = []
    for index, params in enumerate(case["params"]):
        row, cost = result.rows[index], costs.rows[index]
        if not row.computed:
            break
        ours = {"params": cost.params}
        if "trainable" in case:  # Keras: count_params() counts the moving statistics too
            ours = {"params": None if cost.params is None else cost.params + cost.buffers, "trainable": cost.params}
        if "flops" in case:
            ours["flops"] = None if cost.macs is None else 2 * cost.macs
        theirs = {key: case[key][index] for key in ours}
        if ours != theirs:
            problems.append(f"layer {row.index} ({row.layer.text}): framework {theirs}, convshape {ours}")
    return problems


def field_mismatches(case: dict) -> tuple[list[str], int, int]:
    """Receptive-field differences, and how many units were compared exactly and loosely.

    The framework's gradient shows the field clipped to the input; where convshape's
    (unclipped) field lies wholly inside the input the two must be equal, elsewhere the
    observed pixels must lie within it. A unit that reads padding only shows nothing in
    torch and is passed over.

    Where an earlier layer shortened a map against its geometry (a transposed conv
    crops its padding; floor(I·s) drops the end of an upsampled map), padding that
    follows lies over real input pixels that no path reaches: the field (a geometric
    span, padding included) may then name pixels the gradient cannot see, so on that
    axis only containment is checked.
    """
    result = calc(case["stack"], case["input"], channels=case["channels"], dims=case["dims"])
    problems: list[str] = []
    exact = loose = 0
    sizes = result.input_size
    shortened = [False] * result.dims
    for row, units in zip(result.rows, case.get("fields", [])):
        for axis, step in enumerate(row.steps):
            if _shortens(row.layer.kind.value, step):
                shortened[axis] = True
        if row.layer.mode is not None:
            # A crop cuts a map short; a pad puts zeros where one input has no pixels, so a unit
            # there sees only the others: the field (the geometric union) may name more than
            # the gradient shows. Both are checked for containment from here on.
            shortened = [True] * result.dims
        if units is None or not row.computed or row.field is None:
            continue
        for per_axis in units:
            bounds = [_bounds(row, axis, unit) for axis, (unit, _, _) in enumerate(per_axis)]
            if per_axis[0][1] is None:
                # The unit reads padding only; its (unclipped) field is not observable.
                continue
            for axis, ((unit, first, last), (lo, hi)) in enumerate(zip(per_axis, bounds)):
                if lo is None:
                    problems.append(f"layer {row.index} axis {axis} unit {unit}: torch {first}..{last}, convshape none")
                elif lo >= 0 and hi <= sizes[axis] - 1 and not shortened[axis]:
                    exact += 1
                    if (lo, hi) != (first, last):
                        problems.append(
                            f"layer {row.index} ({row.layer.text}) axis {axis} unit {unit}: "
                            f"torch {first}..{last}, convshape {lo}..{hi}"
                        )
                else:
                    loose += 1
                    if first < lo or last > hi:
                        problems.append(f"layer {row.index} axis {axis} unit {unit}: torch {first}..{last} outside convshape {lo}..{hi}")
    return problems, exact, loose


def _bounds(row, axis: int, unit: int):
    return row.axis_fields[axis].bounds(unit)


def _shortens(kind: str, step) -> bool:
    if kind == "convt":
        return sum(step.padding) > 0
    if kind == "up" and step.scale is None:  # resized to a size: pixels are dropped unless it is a multiple
        return step.out_size % step.in_size != 0
    if kind == "up":
        return (step.in_size * step.scale).denominator != 1
    return False


_KIND = {"adaptiveavgpool": "adaptive", "adaptivemaxpool": "adaptive"}


def example_mismatches(case: dict, stack_text: str, channels: int, kinds: str) -> list[str]:
    """How an example in examples/ differs from the network torch ran: the shape of every
    row torch runs as a module (in order), where it fails, and an FPN's outputs."""
    result = calc(stack_text, case["input"], channels=channels)
    taken = set(kinds.split())
    every = result.rows[:-1] if "-last" in taken else result.rows  # -last: its row is an output, not a module
    rows = [row for row in every if _KIND.get(row.layer.kind.value, row.layer.kind.value) in taken]
    ours = [[_KIND.get(row.layer.kind.value, row.layer.kind.value),
             [row.tokens, row.out_channels] if row.tokens is not None else [row.out_channels, *(row.out_size or ())]]
            for row in rows if row.computed]
    calls = [call for call in case["calls"] if call[0] in taken]  # the kinds this example compares
    problems = []
    for index, (mine, theirs) in enumerate(zip(ours, calls)):
        if mine != theirs:
            problems.append(f"module {index + 1}: torch {theirs}, convshape {mine}")
            break
    if case["error"] is None and not result.valid:
        row = result.error_row
        problems.append(f"torch runs it, convshape stops at row {row.index} ({row.error.code.value})")
    if case["error"] is not None:
        if result.valid:
            problems.append(f"torch fails ({case['error']}), convshape runs it")
        elif len(ours) != len(calls):
            problems.append(f"torch fails after {len(calls)} modules ({case['error']}), "
                            f"convshape after {len(ours)} ({result.error_row.error.code.value})")
    elif len(ours) != len(calls):
        problems.append(f"torch ran {len(calls)} modules, convshape has {len(ours)} such rows")
    if case.get("outputs") and result.valid:
        named = {name: row for row, names in result.binds.items() for name in names}
        levels = [named[name] for name in ("p2", "p3", "p4", "p5")] + [len(result.rows)]
        got = [[result.rows[i - 1].out_channels, *result.rows[i - 1].out_size] for i in levels]
        if got != list(case["outputs"].values()):
            problems.append(f"outputs: torch {list(case['outputs'].values())}, convshape {got}")
    return problems


def all_mismatches(cases: list[dict]) -> list[str]:
    """Every golden case's shapes, refusals, parameters and FLOPs against convshape's, named."""
    return [f"{case['stack']} on {case['input']}: {problem}" for case in cases for problem in mismatches(case)]


def all_field_mismatches(cases: list[dict]) -> tuple[list[str], int]:
    """Every golden case's receptive fields against convshape's, named; and how many were exact."""
    problems, exact = [], 0
    for case in cases:
        found, compared, _ = field_mismatches(case)
        problems += [f"{case['stack']} on {case['input']}: {problem}" for problem in found]
        exact += compared
    return problems, exact
