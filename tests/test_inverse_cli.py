"""fit, solve and calc without -i from the command line, as the README shows them."""

import json
import re

import pytest
from typer.testing import CliRunner

from convshape.cli import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, list(args))


def test_solve_quiet_prints_the_first_solutions_tokens():
    result = invoke("solve", "-i", "224", "-o", "112", "conv", "k3", "-q")
    assert (result.exit_code, result.stdout) == (0, "k3 s2 p1\n")


def test_solve_defaults_to_conv_and_keeps_channels():
    result = invoke("solve", "-i", "32", "-o", "16", "c64", "-q")
    assert result.stdout == "k3 s2 p1 c64\n"


def test_solve_per_axis():
    result = invoke("solve", "-i", "7x9", "-o", "4x5", "maxpool", "-q")
    assert result.stdout == "k3x5 s2x1 p1x0\n"


def test_solve_json():
    data = json.loads(invoke("solve", "-i", "56", "-o", "112", "convt", "--format", "json").stdout)
    assert data["solved"] is True and data["axes"][0]["solutions"][0]["tokens"] == "k2 s2"


def test_solve_without_a_solution_exits_1_and_names_the_nearest():
    result = invoke("solve", "-i", "10", "-o", "100", "conv")
    assert result.exit_code == 1 and "nearest reachable outputs: 22" in result.stdout
    quiet = invoke("solve", "-i", "10", "-o", "100", "-q")
    assert quiet.exit_code == 1 and quiet.stdout == "" and quiet.stderr == "convshape: no conv takes 10 to 100 on L; nearest reachable outputs: 22\n"


@pytest.mark.parametrize("args, message", [
    (["solve", "-i", "10", "-o", "5", "gap"], "solve takes conv, convt, maxpool or avgpool"),
    (["solve", "-i", "10x10", "-o", "5x5x5"], "disagree on the number of axes"),
    (["solve", "-i", "10", "-o", "5", "conv", "kk3"], "did you mean 'k3'"),
    (["fit", "conv", "k3", "--range", "9:1"], "--range: 9 is after 1"),
    (["fit", "conv", "k3", "--range", "abc"], "is not a range"),
])
def test_usage_errors(args, message):
    result = invoke(*args)
    assert result.exit_code == 2 and message in result.stderr


def test_fit_answers_the_unet_question():
    result = invoke("fit", "-f", "examples/unet-encoder.stack", "--near", "570", "-q")
    assert (result.exit_code, result.stdout) == (0, "556 572\n")
    table = invoke("fit", "-f", "examples/unet-encoder.stack", "--near", "572")
    assert "H ≡ 12 (mod 16), H ≥ 140" in table.stdout and "572 / 572" in table.stdout


def test_fit_range_streams_every_clean_size():
    result = invoke("fit", "conv", "k3", "s2", "x3", "--range", "1:60", "-q")
    assert result.stdout.split() == ["15", "23", "31", "39", "47", "55"]


def test_fit_json_has_the_rule_as_data():
    data = json.loads(invoke("fit", "conv k3 s2 x3", "--range", "1:1000000000", "--format", "json").stdout)
    rule = data["rules"][0]
    assert (rule["modulus"], rule["residues"], rule["minimum_valid"]) == (8, [7], 15)
    assert rule["range"]["count"] == (999_999_999 - 15) // 8 + 1  # 15, 23, ..., 999999999 and rule["range"]["first"][:2] == [15, 23]


def test_fit_on_a_stack_no_size_can_run():
    result = invoke("fit", "conv", "k3", "d0")
    assert result.exit_code == 1 and "no input size works: layer 1" in result.stdout


def test_calc_without_input_gives_formulas():
    result = invoke("calc", "-q", "conv", "k3", "s2", "p1", "x5", "c64", "flatten")
    assert result.stdout == "64·⌊(H + 31)/32⌋·⌊(W + 31)/32⌋\n"
    data = json.loads(invoke("calc", "--format", "json", "conv k3 s2 p1 x5").stdout)
    last = data["layers"][-1]["out_size"][0]
    assert last["formula"] == "⌊(H + 31)/32⌋" and last["coefficients"] == {"mul": 1, "a": 1, "b": 31, "den": 32, "add": 0}
    assert data["fit"]["rules"][0]["minimum_valid"] == 1


def test_explain_works_for_all_three():
    assert "floor((224 − 3 + 2·1) / 2) + 1 = 112" in invoke("solve", "-i", "224", "-o", "112", "k3", "--explain").stdout
    assert "layer 1 ← conv k3 s2 (1/3): H ≡ 7 (mod 8), H ≥ 15" in invoke("fit", "conv k3 s2 x3", "--explain").stdout
    assert "floor((⌊(H − 1)/2⌋ + 0 − 3)/2) + 1 = ⌊(H − 3)/4⌋" in invoke("calc", "conv k3 s2 x2", "--explain").stdout


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

WORDS = st.sampled_from(["conv", "convt", "maxpool", "k3", "k0", "s2", "s0", "p1", "psame", "d2", "op1", "ceil", "up",
                         "s1.5", "gap", "flatten", "linear", "c10", "x3", "pad", "p-1", "kk3", "-i", "7", "0", "-o",
                         "3x3", "--near", "5", "--range", "1:50", "--convention", "tf", "-q", "--format", "json",
                         "--explain", ""])


@settings(max_examples=120, deadline=None)
@given(st.sampled_from(["fit", "solve", "calc"]), st.lists(WORDS, max_size=9))
def test_no_input_to_the_new_commands_produces_a_traceback(command, words):
    result = invoke(command, *words)
    assert result.exit_code in (0, 1, 2), (command, words, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), (command, words, repr(result.exception))


@pytest.mark.parametrize("command", [["calc"], ["calc", "--format", "json"], ["fit"], ["fit", "--format", "json"]])
@pytest.mark.parametrize("stack, shape", [
    ("conv k3, linear c4", "?×(H − 2)×(W − 2)"),
    ("conv k3 s2 p1 c8, maxpool k2, linear c4", "8×⌊(H + 1)/4⌋×⌊(W + 1)/4⌋"),
    ("conv k3 c8, gap, linear c4", "8×1×1"),
    ("conv1d k5 c2, linear c4", "2×(L − 4)"),
])
def test_errors_found_without_a_size_name_formulas_not_the_probe_size(command, stack, shape):
    """convshape finds errors that no size avoids by running the stack on a huge input;
    that input's numbers must never reach the user."""
    output = invoke(*command, stack).stdout
    assert f"linear needs flat input but gets {shape}:" in output
    assert not re.search(r"\d{10}", output)


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(["fit", "calc"]), st.lists(WORDS.filter(lambda w: not w.startswith("-") and not w.isdigit()), min_size=1, max_size=9))
def test_the_probe_size_never_shows(command, words):
    output = invoke(command, *words).stdout
    assert not re.search(r"\d{10}", output), (command, words)


@pytest.mark.parametrize("stack", ["maxpool k0", "conv k3 s0", "conv k3, avgpool k2 s0, conv k3", "up s0", "conv k3 d0"])
def test_formulas_stop_at_a_layer_that_cannot_run(stack):
    """A stride of 0 (a pool's stride is its kernel) has no formula: it used to divide by zero."""
    result = invoke("calc", stack)
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "invalid at any size" in result.stdout


@pytest.mark.parametrize("stack, layer", [("maxpool k7, gap, up s0.5", 3), ("conv k3, gap, conv k3", 3),
                                          ("conv k3, gap, conv k1, maxpool k2", 4)])
def test_after_a_global_pool_a_size_error_is_an_error_at_every_size(stack, layer):
    """Sizes are 1 after gap whatever the input: fit and the formulas must say the stack
    never runs (they said 'valid for input ≥ 7'), as calc finds at every size."""
    from convshape import calc

    assert not any(calc(stack, size).valid for size in range(1, 60))
    assert calc(stack, 59).error_row.index == layer
    fit = invoke("fit", stack, "-q")
    assert fit.exit_code == 1 and f"no input size works: layer {layer}:" in fit.output
    formulas = invoke("calc", stack)
    assert formulas.exit_code == 1 and f"invalid at any size: layer {layer}:" in formulas.stdout
    assert invoke("calc", stack, "-q").exit_code == 1


@pytest.mark.parametrize("stack, quiet", [("pad p1", "(H + 2)x(W + 2)"), ("conv k3 c8", "8x(H − 2)x(W − 2)"),
                                          ("conv k3 s2 p1 x5", "⌊(H + 31)/32⌋x⌊(W + 31)/32⌋")])
def test_quiet_formulas_bracket_sums(stack, quiet):
    assert invoke("calc", stack, "-q").stdout == quiet + "\n"


def test_a_deep_strided_stack_gets_formulas_for_every_layer_and_its_errors_found():
    """The probe input is scaled to the strides: seventy stride-2 layers used to exhaust a
    fixed 2^62 halfway down, and leave the rest 'not computed'."""
    table = invoke("calc", "conv k3 s2 x70").stdout
    assert "not computed" not in table and f"valid for input ≥ {2 ** 71 - 1}" in table
    after_gap = invoke("fit", "conv k3 s2 x70, gap, up s0.5", "-q")
    assert after_gap.exit_code == 1 and "no input size works: layer 72:" in after_gap.output
