"""`fit` over graphs agrees with brute force through `calc`, on random graphs drawn the way
the torch golden file draws them (residual blocks, projections, concats, SE gates, U-Net
paths with crop and pad, FPN up + add, adaptive pools, resizes)."""

import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "golden"))

import graph_golden  # noqa: E402  (drawing only: torch is not needed for it)

from convshape.calc import run  # noqa: E402
from convshape.diagnostics import Code  # noqa: E402
from convshape.fit import analyse  # noqa: E402
from convshape.grammar import parse_stack  # noqa: E402

LIMIT = 150
NOT_CLEAN = {Code.FLOOR_ROUNDING, Code.MERGE_CROPPED, Code.MERGE_PADDED}


def brute(stack, channels, convention="torch"):
    valid, clean = [], []
    for size in range(1, LIMIT + 1):
        result = run(stack, (size,), channels, convention)
        if result.valid:
            valid.append(size)
            codes = {d.code for row in result.rows for d in row.warnings + row.notes}
            if not codes & NOT_CLEAN:
                clean.append(size)
    return valid, clean


def fit_problems(case, convention="torch"):
    """How fit's answer for a one-axis case differs from trying every size through calc."""
    stack = parse_stack(case["stack"], dims=1)
    fit = analyse(stack, convention, case["channels"])
    valid, clean = brute(stack, case["channels"], convention)
    if fit.error is not None:
        return [f"{case['stack']}: fit says {fit.error[1].message}, but {valid[:5]} run"] if valid else []
    rule = fit.rules[0]
    low = max(rule.minimum_valid, rule.periodic_from)
    said_valid = sorted(set(rule.small_valid) | {s for s in range(low, LIMIT + 1)
                                                 if s % rule.valid_modulus in rule.valid_residues})
    said_clean = list(rule.clean_sizes(1, LIMIT))
    if said_clean != clean or said_valid != valid or (valid and rule.minimum_valid != valid[0]):
        return [f"{case['stack']}: fit {rule.describe()} | {rule.describe_valid()}; "
                f"brute clean {clean[:8]}, valid {valid[:8]}"]
    return []


def one_axis_graphs(seed, count):
    rng = random.Random(seed)
    while count:
        case = graph_golden.draw_case(rng)
        if case["dims"] == 1:
            count -= 1
            yield case


@pytest.mark.parametrize("seed", [1, 2, 3, 6, 7])
def test_fit_over_graphs_agrees_with_brute_force(seed):
    problems = []
    for case in one_axis_graphs(seed, 60):
        problems += fit_problems(case)
    assert problems == []


def test_a_padded_unet_with_four_poolings_fits_multiples_of_16():
    unet = ("@a conv k3 p1 c64 conv k3 p1 @s1 maxpool k2 conv k3 p1 c128 @s2 maxpool k2 conv k3 p1 c256 @s3 "
            "maxpool k2 conv k3 p1 c512 @s4 maxpool k2 conv k3 p1 c1024 "
            "up cat s4 pad conv k3 p1 c512 up cat s3 pad conv k3 p1 c256 up cat s2 pad conv k3 p1 c128 "
            "up cat s1 pad conv k3 p1 c64 conv k1 c2")
    fit = analyse(parse_stack(unet, dims=1), channels=3)
    assert fit.rules[0].describe() == "L ≡ 0 (mod 16), L ≥ 16"
    assert fit.rules[0].describe_valid() == "every L ≥ 16"  # pad makes every size from 16 run


@pytest.mark.parametrize("seed", [4, 5])
def test_formulas_through_merges_agree_with_calc_where_the_merges_fit(seed):
    from convshape.symbolic import evaluate, symbolic_calc

    problems, compared = [], 0
    for case in one_axis_graphs(seed, 50):
        stack = parse_stack(case["stack"], dims=1)
        result = symbolic_calc(stack, channels=case["channels"])
        if not result.valid:
            continue
        rule = result.fit.rules[0]
        for size in rule.clean_sizes(rule.periodic_from, 80):  # below it, broadcasting may decide
            rows = run(stack, (size,), case["channels"]).rows
            for symbolic_row, row in zip(result.rows, rows):
                if symbolic_row.steps is None or row.out_size is None or not symbolic_row.exact:
                    continue
                compared += 1
                if evaluate(symbolic_row.steps[0].expr, size) != row.out_size[0]:
                    problems.append(f"{case['stack']} @ {size}: row {row.index} formula "
                                    f"{evaluate(symbolic_row.steps[0].expr, size)}, calc {row.out_size[0]}")
    assert problems == []
    assert compared > 500


def test_fit_over_graphs_agrees_with_brute_force_under_tf():
    import keras_graph_golden  # drawing only: Keras is not needed for it

    rng, problems, count = random.Random(1), [], 0
    while count < 60:
        case = keras_graph_golden.draw_case(rng)
        if case["dims"] == 1:
            count += 1
            problems += fit_problems(case, "tf")
    assert problems == []
