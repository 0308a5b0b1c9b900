"""Behaviours a user sees that a one-line change in the code would alter, each pinned at the
level of the CLI or the JSON, with the boundary (`==`) cases. Where a number is not obvious
from the README's formulas, the comment says where it was checked."""

import json
import re
import subprocess
import sys

import pytest


def layers(run, *args):
    result = run("calc", "--format", "json", *args)
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)["layers"]


def codes(found):
    return [item["code"] for item in found]


def test_psame_under_torch_is_a_floor_formula_and_under_tf_a_ceiling(run):
    torch = run("calc", "-i", "7", "conv", "k3", "psame", "--explain").stdout
    assert "floor((7 − 3 + 2·1) / 1) + 1 = 7" in torch and "ceil(" not in torch
    tf = run("calc", "--convention", "tf", "-i", "7", "conv", "k3", "s2", "psame", "--explain").stdout
    assert "ceil(7 / 2) = 4  (padding 1:1)" in tf


def test_keras_transposed_same_pads_after(run):
    """Keras 3 (Conv1DTranspose k3 s2 'same', all-one weights, gradients): output 1 sees input 0
    alone and output 2 inputs 0 and 1, so output 0's window is centred half a pixel before input 0."""
    row = layers(run, "--convention", "tf", "-i", "5", "convt", "k3", "s2", "psame")[0]
    assert row["padding"] == [[0, 1], [0, 1]] and row["out_size"] == [10, 10]
    assert row["rf"] == {"size": [2, 2], "jump": [0.5, 0.5], "start": [-0.5, -0.5], "min_size": [2, 2]}


@pytest.mark.parametrize("padding, warnings, notes", [
    ("p1:0", ["floor_rounding"], []),  # [pad, x0..x5]: windows at 0, 2, 4 never reach x5
    ("p0:1", [], ["padding_trimmed"]),  # [x0..x5, pad]: only the pad is skipped (rem − p_after == 0)
])
def test_floor_rounding_counts_the_padding_after_not_before(run, padding, warnings, notes):
    row = layers(run, "-i", "6", "conv", "k2", "s2", padding)[0]
    assert (codes(row["warnings"]), codes(row["notes"])) == (warnings, notes)


def test_a_scale_with_an_exact_binary_form_is_not_inexact(run):
    assert codes(layers(run, "-i", "10", "up", "s1.5")[0]["notes"]) == []
    assert codes(layers(run, "-i", "10", "up", "s1.1")[0]["notes"]) == ["inexact_scale"]


def test_axes_that_fail_with_different_numbers_get_their_own_warning(run):
    row = layers(run, "-i", "6x8", "conv", "k3", "s2")[0]
    assert [w["message"] for w in row["warnings"]] == [
        "on H: the last input pixel is never read ((6 + 0 + 0 − 3) mod 2 = 1)",
        "on W: the last input pixel is never read ((8 + 0 + 0 − 3) mod 2 = 1)",
    ]
    assert [w["message"] for w in layers(run, "-i", "7x9", "conv", "k3", "s2")[0]["warnings"]] == []


def test_a_size_with_a_comma(run):
    assert run("calc", "-i", "224,224", "-q", "conv", "k3").stdout == "222x222\n"


def test_the_field_exceeds_the_input_only_once_it_is_larger(run):
    rows = layers(run, "-i", "7", "conv", "k3", "p1", "x4")
    assert [row["rf"]["size"][0] for row in rows] == [3, 5, 7, 9]
    assert [codes(row["notes"]) for row in rows] == [[], [], [], ["field_exceeds_input"]]  # 7 == 7 is not larger
    assert rows[3]["notes"][0]["message"] == "on H and W: the receptive field (9) is now larger than the input (7)"


def test_a_long_period_is_tracked_up_to_4096_outputs(run):
    """up s0.75 makes the field's period 3^n outputs: 3^7 = 2187 is tracked, 3^8 = 6561 is not."""
    rows = layers(run, "-i", "100000", "--dims", "1", "up", "s0.75", "x8")
    assert rows[6]["rf"] is not None and rows[7]["rf"] is None
    assert [codes(row["notes"]) for row in rows] == [[]] * 7 + [["field_not_tracked"]]
    assert rows[7]["notes"][0]["message"].endswith("(its period exceeds 4096 outputs)")


def test_pad_rows_show_their_padding(run):
    assert layers(run, "-i", "7", "--dims", "1", "pad", "p1:2")[0]["padding"] == [[1, 2]]


def test_a_linear_layer_sees_what_the_global_pool_saw(run):
    """conv k3 on 7 leaves 5×5 outputs, each seeing 3×3: the pool over them sees all 7×7."""
    rows = layers(run, "-i", "7", "-c", "2", "conv", "k3", "gap", "flatten", "linear", "c4")
    assert [row["rf"] for row in rows[1:]] == [{"size": [7, 7], "jump": [5, 5], "start": [3, 3], "min_size": [7, 7]}] * 3
    # straight after flatten, each feature is one position of the 5×5 map; the linear layer sees them all
    rows = layers(run, "-i", "7", "-c", "2", "conv", "k3", "flatten", "linear", "c4")
    assert [row["rf"]["size"] for row in rows] == [[3, 3], [3, 3], [7, 7]]


def test_ceil_is_null_where_a_layer_has_no_ceil_mode(run):
    rows = layers(run, "-i", "9", "conv", "k3", "maxpool", "k2", "maxpool", "k2", "ceil")
    assert [row["ceil"] for row in rows] == [None, False, True]


def test_csv_writes_padding_before_then_after(run):
    lines = run("calc", "-i", "6", "--format", "csv", "conv", "k2", "s2", "p0:1").stdout.splitlines()
    assert lines[1].split(",")[lines[0].split(",").index("padding")] == "0:1x0:1"


def test_solve_puts_the_plain_answer_first(run):
    assert run("solve", "-i", "3", "-o", "1", "-q").stdout == "k3 s1\n"
    table = run("solve", "-i", "224", "-o", "112").stdout
    assert len(re.findall(r"^│ +\d+ ", table, re.M)) == 10  # --limit's default
    assert re.search(r"^\d+ more: --limit \d+ shows them all$", table, re.M)


def test_solve_shows_identical_axes_once(run):
    for size in (["-i", "7", "-o", "3"], ["-i", "7x7", "-o", "3x3"]):
        table = run("solve", *size).stdout
        assert table.count("conv: 7 → 3") == 1 and "on H" not in table
    assert run("solve", "-i", "7x9", "-o", "3x4").stdout.count("conv: ") == 2


def test_formulas_bracket_only_sums(run):
    assert run("calc", "conv", "k2", "s2", "-q").stdout == "⌊H/2⌋x⌊W/2⌋\n"
    assert run("calc", "conv", "k3", "s2", "p1", "-q").stdout == "⌊(H + 1)/2⌋x⌊(W + 1)/2⌋\n"


def test_formulas_never_show_the_probe_size(run):
    data = json.loads(run("calc", "conv", "k3", "c8", "gap", "--format", "json").stdout)
    # start: the centre of pixels 0..2, the same at every size under torch
    assert [row["rf"] for row in data["layers"]] == [{"size": [3, 3], "jump": [1, 1], "start": [1, 1]}, None]
    assert run("calc", "conv", "k3", "c8", "gap", "flatten", "-q").stdout == "8\n"


def test_formulas_keep_a_fractional_jump(run):
    data = json.loads(run("calc", "up", "conv", "k3", "--format", "json").stdout)
    # up: output 0 copies input 0; conv k3 then reads up's outputs 0..2, inputs 0, 0 and 1
    assert [row["rf"] for row in data["layers"]] == [{"size": [1, 1], "jump": [0.5, 0.5], "start": [0, 0]},
                                                      {"size": [2, 2], "jump": [0.5, 0.5], "start": [0.5, 0.5]}]


def test_formulas_show_no_start_where_the_input_size_moves_it(run):
    data = json.loads(run("calc", "--convention", "tf", "conv k3 s2 psame, conv k3 psame", "--format", "json").stdout)
    assert [row["rf"]["start"] for row in data["layers"]] == [None, None]  # tf pads by the size's residue
    data = json.loads(run("calc", "--convention", "tf", "conv k3 psame, conv k3 s2", "--format", "json").stdout)
    assert [row["rf"]["start"] for row in data["layers"]] == [[0, 0], [1, 1]]  # psame at stride 1 pads 1:1


def test_fit_quiet_prints_one_size_when_the_axes_agree(run):
    assert run("fit", "conv", "k3", "s2", "x3", "-q").stdout == "15\n"
    assert run("fit", "conv", "k3", "s2", "x3", "--range", "15:15", "-q").stdout == "15\n"  # A == B is a range


def test_fit_exits_1_when_no_size_is_clean(run):
    """After a global pool every size is 1: pad p2 makes 5, and k2 s2 then never reads the last pixel."""
    result = run("fit", "gap", "pad", "p2", "conv", "k2", "s2", "-q")
    assert (result.returncode, result.stdout) == (1, "-\n")
    assert run("fit", "conv", "k3", "s2", "-q").returncode == 0


def test_csv_and_tsv_need_an_input_size(run):
    for fmt in ("csv", "tsv"):
        result = run("calc", "--format", fmt, "conv", "k3")
        assert (result.returncode, result.stderr) == (
            2, f"convshape: --format {fmt} needs an input size (-i); without one, use table or json\n")


def test_an_internal_error_exits_70_without_a_traceback():
    code = ("import importlib\n"
            "calc = importlib.import_module('convshape.calc')\n"
            "def broken(*args, **kwargs): raise RuntimeError('boom')\n"
            "calc.run = broken\n"
            "from convshape.cli import main\n"
            "main()\n")
    result = subprocess.run([sys.executable, "-c", code, "calc", "-i", "7", "conv", "k3"], capture_output=True, text=True)
    assert (result.returncode, result.stdout) == (70, "")
    assert result.stderr == "convshape: internal error, please report it: RuntimeError: boom\n"


def test_a_code_said_on_each_axis_with_its_own_numbers_is_listed_once_in_the_table(run):
    """On 32×48 the two axes' numbers differ, so there are two messages; the row names the code once."""
    lines = run("calc", "-i", "32x48", "-c", "3", "conv k3 s2 p1 c16, conv k3 s2, conv k3 s2 p1").stdout.splitlines()
    assert lines[3:6] == [  # H: (32 + 2 − 3) mod 2 = 1, W: (48 + 2 − 3) mod 2 = 1; row 3 is clean on both
        "│ 1 │ conv k3 s2 p1 c16 │  3×32×48 │ 16×16×24 │  3 │    2 │     0 │    448 │  166 K │ padding_trimmed │",
        "│ 2 │ conv k3 s2        │ 16×16×24 │  16×7×11 │  7 │    4 │     2 │ 2.32 K │  177 K │ floor_rounding  │",
        "│ 3 │ conv k3 s2 p1     │  16×7×11 │   16×4×6 │ 15 │    8 │     2 │ 2.32 K │ 55.3 K │                 │"]
    assert lines[6].startswith("└")
    assert [line[:40] for line in lines[7:10]] == ["1: note padding_trimmed: on H: (32 + 1 +",
                                                  "1: note padding_trimmed: on W: (48 + 1 +",
                                                  "2: warning floor_rounding: on H: the las"]


def test_table_colours_say_the_level(run):
    env = {"FORCE_COLOR": "1", "TERM": "xterm-256color"}
    warned = run("calc", "-i", "6", "conv", "k3", "s2", "conv", "k3", "s2", "p1", env=env).stdout
    assert "\x1b[33mfloor_rounding\x1b[0m" in warned  # a warning in yellow
    assert "\x1b[2mnote padding_trimmed\x1b[0m" in warned  # a note dim
    assert "\x1b[1moutput: ? × 1 × 1\x1b[0m" in warned  # a valid result in bold, not red
    failed = run("calc", "-i", "6", "conv", "k9", env=env).stdout
    assert "\x1b[1;31mkernel_too_large\x1b[0m" in failed
    assert "\x1b[1;31minvalid: layer 1 (conv k9) cannot run: kernel_too_large\x1b[0m" in failed


def test_fit_sizes_have_at_most_18_digits_too(run):
    near = run("fit", "conv", "k3", "--near", "9" * 5000)
    assert (near.returncode, near.stderr) == (2, "convshape: --near: a size of 5,000 digits; sizes have at most 18\n")
    wide = run("fit", "conv", "k3", "--range", "1:" + "9" * 19)
    assert (wide.returncode, wide.stderr) == (2, "convshape: --range: sizes have at most 18 digits\n")
    assert run("fit", "conv", "k3", "s2", "--range", "1:" + "9" * 18, "--format", "json").returncode == 0
    for command in (["calc", "-i", "8"], ["fit"]):
        channels = run(*command, "-c", "9" * 5000, "conv", "k3")
        assert (channels.returncode, channels.stderr) == (2, "convshape: --channels: a count of 5,000 digits; values have at most 18\n")
    assert run("calc", "-i", "8", "-c", "9" * 18, "-q", "conv", "k3").stdout == f"{'9' * 18}x6x6\n"
