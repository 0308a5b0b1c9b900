"""fit, solve and calc without an input size, against brute force through calc itself."""

import random

import pytest

from convshape.calc import run
from convshape.diagnostics import Code
from convshape.fit import analyse
from convshape.grammar import parse_stack
from convshape.layers import Convention
from convshape.kinds import Kind
from convshape.solve import Fixed, solve_axis
from convshape.symbolic import evaluate, formulas, symbolic_calc, text


def random_layer(rng: random.Random) -> str:
    kind = rng.choice(["conv", "conv", "conv", "maxpool", "avgpool", "convt", "up", "pad", "gap"])
    if kind in ("conv", "maxpool", "avgpool"):
        k, s = rng.randint(1, 5), rng.randint(1, 4)
        padding = rng.choice([f"p{rng.randint(0, k // 2)}", f"p{rng.randint(0, k // 2)}", "psame" if s == 1 else "p0",
                              "pvalid"]) if kind == "conv" else f"p{rng.randint(0, k // 2)}"
        extra = rng.choice(["", "", " ceil"]) if kind != "conv" else rng.choice(["", "", " d2", f" p{rng.randint(0, 2)}:{rng.randint(0, 2)}"])
        if extra.startswith(" p"):
            padding, extra = extra.strip(), ""
        return f"{kind} k{k} s{s} {padding}{extra}"
    if kind == "convt":
        return f"convt k{rng.randint(1, 4)} s{rng.randint(1, 3)} " + rng.choice(["p0", "p1", "psame", "pvalid", "p1 op1"])
    if kind == "up":
        return "up s" + rng.choice(["2", "3", "1.5", "0.5", "2.5"])
    if kind == "gap":
        return "gap"
    return f"pad p{rng.randint(0, 2)}:{rng.randint(0, 2)}"


def random_stack(rng: random.Random) -> str:
    return ", ".join(random_layer(rng) for _ in range(rng.randint(1, 5)))


def clean(stack, size, convention) -> bool:
    result = run(stack, (size,), None, convention)
    return result.valid and not any(w.code is Code.FLOOR_ROUNDING for row in result.rows for w in row.warnings)


@pytest.mark.parametrize("seed", range(4))
def test_fit_agrees_with_brute_force(seed):
    """Every size 1..160 of 60 random stacks: the rule says clean exactly where calc does."""
    rng = random.Random(seed)
    checked = 0
    for _ in range(60):
        convention = rng.choice([Convention.TORCH, Convention.TF])
        stack = parse_stack(random_stack(rng), dims=1)
        brute = [size for size in range(1, 161) if clean(stack, size, convention)]
        fit = analyse(stack, convention)
        mine = [] if fit.error else list(fit.rules[0].clean_sizes(1, 160))
        assert mine == brute, (", ".join(l.text for l in stack.layers), convention, fit)
        if not fit.error:
            assert fit.rules[0].count(1, 160) == len(brute)
        checked += 160
    assert checked == 9600


@pytest.mark.parametrize("seed", range(4))
def test_one_period_decides_a_layer_as_every_input_does(seed):
    """_backward reads one period of a layer's inputs and solves for the rest; the
    reference tries every input of the modulus."""
    from convshape.fit import FAR, _Allowed, _backward, _enumerated, _period, _shortest

    rng = random.Random(500 + seed)
    checked = 0
    for _ in range(300):
        convention = rng.choice([Convention.TORCH, Convention.TF])
        layer = parse_stack(random_layer(rng), dims=1).layers[0]
        if layer.kind in (Kind.GAP, Kind.PAD):
            continue
        outputs = rng.choice([1, 2, 3, 4, 6, 8, 9, 12, 16])
        residues = frozenset(r for r in range(outputs) if rng.random() < 0.4)
        allowed = _Allowed(outputs, residues, rng.randint(0, 20))
        period = _period(layer, 0)
        modulus = outputs * period
        base = -(-FAR // modulus) * modulus
        mine = _backward(layer, 0, allowed, convention, "L", FAR)
        reference = _enumerated(layer, 0, allowed, convention, "L", base, modulus)
        if period == 1 and layer.kind not in (Kind.CONVT, Kind.UP):
            continue  # the shift-only branch, checked through fit's brute force above
        assert _shortest(mine) == _shortest(reference), (layer.text, convention, allowed)
        checked += 1
    assert checked > 150


def test_fit_of_a_deep_strided_stack_is_instant():
    """The moduli multiply (2^70 here); the work must not."""
    fit = analyse(parse_stack("conv k3 s2 x70", dims=1))
    assert fit.rules[0].describe() == f"L ≡ {2 ** 70 - 1} (mod {2 ** 70}), L ≥ {2 ** 71 - 1}"
    assert fit.rules[0].smallest_clean == 2 ** 71 - 1
    stack = parse_stack("conv k3 s2 x70", dims=1)
    assert clean(stack, 2 ** 71 - 1, Convention.TORCH) and clean(stack, 3 * 2 ** 70 - 1, Convention.TORCH)
    assert not clean(stack, 2 ** 71 + 1, Convention.TORCH) and not clean(stack, 2 ** 71 - 3, Convention.TORCH)
    deeper = analyse(parse_stack("conv k3 s2 x250", dims=1))  # past 2^200, where the search once gave up
    assert deeper.valid and deeper.rules[0].minimum_valid == 2 ** 251 - 1


@pytest.mark.parametrize("text", [
    "maxpool k3 s1 p0, gap, conv k1 s4 p1:2",  # floor rounding after gap: at every size
    "conv k4 s2 pvalid, gap, conv k2 s3 p2:0",
    "gap, up s2, gap, gap, conv k1 s1 p2:2, maxpool k1 s2 p0, avgpool k1 s4 p0",
    "conv k3 s2, gap, conv k1",  # clean after gap: the layers before decide
])
def test_fit_after_a_global_pool_agrees_with_brute_force(text):
    stack = parse_stack(text, dims=1)
    brute = [size for size in range(1, 241) if clean(stack, size, Convention.TORCH)]
    fit = analyse(stack, Convention.TORCH)
    assert list(fit.rules[0].clean_sizes(1, 240)) == brute


@pytest.mark.parametrize("seed", range(3))
def test_fit_minimum_valid_is_the_first_valid_size(seed):
    rng = random.Random(100 + seed)
    for _ in range(60):
        stack = parse_stack(random_stack(rng), dims=1)
        fit = analyse(stack)
        valid = [size for size in range(1, 200) if run(stack, (size,)).valid]
        if fit.error is None and valid:
            assert fit.rules[0].minimum_valid == valid[0]
            assert all(size in valid for size in range(valid[0], 200))


def test_fit_near_and_range_for_the_unet_question():
    fit = analyse(parse_stack(open("examples/unet-encoder.stack").read()))
    rule = fit.rules[0]
    assert rule.describe() == "H ≡ 12 (mod 16), H ≥ 140"
    assert rule.nearest(572) == (572, 572) and rule.nearest(570) == (556, 572)
    assert list(rule.clean_sizes(500, 600)) == [508, 524, 540, 556, 572, 588]


def test_fit_over_a_billion_sizes_is_closed_form():
    stack = parse_stack(", ".join(["conv k3 p1 c64"] * 40 + ["maxpool k2"] * 5 + ["conv k3 s2 p1"] * 5))
    rule = analyse(stack).rules[0]
    assert rule.describe() == "H ≡ 0 (mod 32), H ≥ 32"
    assert rule.count(1, 1_000_000_000) == 31_250_000


SOLVE_CASES = [(kind, i, o) for kind in (Kind.CONV, Kind.CONVT, Kind.MAXPOOL, Kind.AVGPOOL) for i, o in
               [(224, 112), (7, 3), (32, 64), (10, 10), (56, 28), (9, 4), (5, 11)]]


@pytest.mark.parametrize("kind, in_size, out_size", SOLVE_CASES)
@pytest.mark.parametrize("convention", [Convention.TORCH, Convention.TF])
def test_solve_matches_brute_force_for_a_fixed_kernel(kind, in_size, out_size, convention):
    """With k3 held, every stride, dilation and padding in bounds, run through calc one by one."""
    answer = solve_axis(kind, in_size, out_size, Fixed(kernel=3), convention)
    found = {s.tokens(kind) for s in answer.solutions}
    brute = set()
    for s in range(1, 9):
        for d in ([1] if kind is Kind.AVGPOOL else range(1, 5)):
            ops = [None] + list(range(1, max(s, d))) if kind is Kind.CONVT else [None]
            ceils = [False, True] if kind in (Kind.MAXPOOL, Kind.AVGPOOL) and convention is Convention.TORCH else [False]
            for op in ops:
                for ceil in ceils:
                    paddings = [f"p{t // 2}:{t - t // 2}" for t in range(0, 7)] + ["psame"]
                    for padding in paddings:
                        words = [kind.value, "k3", f"s{s}", padding, f"d{d}" if d > 1 else "", f"op{op}" if op else "", "ceil" if ceil else ""]
                        result = run(parse_stack(" ".join(w for w in words if w), dims=1), (in_size,), None, convention)
                        if result.valid and result.output.size == (out_size,):
                            brute.add(solution_tokens(result.rows[0], padding, s, d, op, ceil))
    assert found == brute


def solution_tokens(row, padding, s, d, op, ceil):
    parts = ["k3", f"s{s}"]
    if padding == "psame":
        parts.append("psame")
    else:
        before, after = row.padding[0]
        if (before, after) != (0, 0):
            parts.append(f"p{before}" if before == after else f"p{before}:{after}")
    parts += [f"d{d}"] if d > 1 else []
    parts += [f"op{op}"] if op else []
    parts += ["ceil"] if ceil else []
    return " ".join(parts)


def test_solve_orders_clean_and_usual_first():
    answer = solve_axis(Kind.CONV, 224, 112, Fixed(), Convention.TORCH)
    assert [s.tokens(Kind.CONV) for s in answer.solutions[:3]] == ["k3 s2 p1", "k5 s2 p2", "k7 s2 p3"]
    convt = solve_axis(Kind.CONVT, 56, 112, Fixed(), Convention.TORCH)
    assert [s.tokens(Kind.CONVT) for s in convt.solutions[:2]] == ["k2 s2", "k4 s2 p1"]
    tf = solve_axis(Kind.CONV, 224, 112, Fixed(kernel=3, rule=None), Convention.TF)
    assert "k3 s2 psame" in [s.tokens(Kind.CONV) for s in tf.solutions]


def test_solve_without_a_solution_names_the_nearest_reachable_outputs():
    answer = solve_axis(Kind.CONV, 10, 100, Fixed(), Convention.TORCH)
    assert answer.solutions == () and answer.nearest == (22, None)


@pytest.mark.parametrize("seed", range(4))
def test_formulas_agree_with_calc(seed):
    rng = random.Random(1000 + seed)
    checked = 0
    for _ in range(150):
        convention = rng.choice([Convention.TORCH, Convention.TF])
        stack = parse_stack(random_stack(rng), dims=1)
        steps = formulas(list(stack.layers), 1, convention)
        for size in (rng.randint(1, 400) for _ in range(8)):
            exact = True
            for row, step in zip(run(stack, (size,), None, convention).rows, steps):
                if not row.computed or step is None or row.out_size is None:  # no spatial axes (TF's gap flattens)
                    break
                exact = exact and step[0].exact
                if exact:
                    assert evaluate(step[0].expr, size) == row.out_size[0], (stack, size, row.index, text(step[0].expr))
                    checked += 1
    assert checked > 2000


def test_consecutive_floor_divisions_collapse():
    result = symbolic_calc(parse_stack("conv k3 s2 p1 x5"))
    assert result.output_texts() == ["⌊(H + 31)/32⌋", "⌊(W + 31)/32⌋"]
    unet = symbolic_calc(parse_stack(open("examples/unet-encoder.stack").read()))
    assert unet.output_texts()[0] == "⌊(H − 124)/16⌋"
    assert unet.fit.rules[0].minimum_valid == 140
