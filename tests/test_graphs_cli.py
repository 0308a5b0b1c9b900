"""Whole networks on the command line: names, from, merges, repeats and blocks, as the
README shows them; every rule checked by what a user sees (output and exit status)."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convshape.cli import app

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def invoke(*args):
    return runner.invoke(app, list(args))


def test_a_residual_block_on_one_shell_line():
    result = invoke("calc", "-i", "56", "-c", "64", "conv", "k3", "p1", "@x", "conv", "k3", "p1", "conv", "k3", "p1",
                    "add", "x")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert any("│ 1 │ conv k3 p1  @x " in line for line in lines)
    assert any("│ 4 │ add x  ← 1, 3 " in line and "64×56×56 │ 64×56×56 │  7 │    1 │     0 │" in line for line in lines)
    assert "output: 64 × 56 × 56" in result.stdout


def test_json_rows_say_what_they_read_and_bind():
    result = invoke("calc", "-i", "56", "-c", "64", "--format", "json",
                    "@inp conv k3 p1 @x conv k3 s2 p1 from inp conv k1 s2 add x crop")
    data = json.loads(result.stdout)
    assert data["input"]["names"] == ["inp"]
    rows = data["layers"]
    assert [(r["index"], r["kind"], r["inputs"], r["names"], r["mode"]) for r in rows] == [
        (1, "conv", [0], ["x"], None), (2, "conv", [1], [], None), (3, "conv", [0], [], None),
        (4, "add", [1, 3], [], "crop")]
    assert rows[3]["out_size"] == [28, 28]
    assert rows[3]["notes"][0]["message"] == "row 1 is centre-cropped from 56×56 to 28×28 (14:14 on H, 14:14 on W, before:after)"
    # A 3x3 path (jump 1) cropped against a stride-2 shortcut (jump 2): fields that do not line up.
    assert rows[3]["warnings"][0]["message"] == ("on H and W: the receptive fields of row 1 and row 3 do not line up: "
                                                 "their jumps differ (row 1: 1, row 3: 2)")
    assert rows[3]["rf"] is None and rows[3]["notes"][1]["code"] == "field_not_tracked"


def test_a_mismatched_merge_names_both_inputs_and_quotes_pytorch():
    result = invoke("calc", "-i", "57", "-c", "64", "@x conv k3 s2 p1 c128 convt k2 s2 c64 add x")
    assert result.exit_code == 1
    assert ("3: error merge_size_mismatch: on H and W: add cannot join its inputs: the input gives 57×57, "
            "row 2 gives 58×58; PyTorch: 'The size of tensor a (57) must match the size of tensor b (58) at "
            "non-singleton dimension 3'; add crop or pad to the add") in result.stdout


def test_an_output_padding_that_fixes_a_merge_is_suggested():
    result = invoke("calc", "-i", "15", "-c", "8", "conv k3 p1 @s maxpool k2 conv k3 p1 convt k2 s2 cat s")
    assert result.exit_code == 1
    assert "row 1 gives 15×15, row 4 gives 14×14" in result.stdout
    assert "add crop or pad to the cat, or op1 on the convt at row 4" in result.stdout
    fixed = invoke("calc", "-i", "15", "-c", "8", "-q", "conv k3 p1 @s maxpool k2 conv k3 p1 convt k2 s2 op1 cat s")
    assert (fixed.exit_code, fixed.stdout) == (0, "16x15x15\n")


@pytest.mark.parametrize("stack, message", [
    ("conv k3 @x add y", "unknown name 'y' (names bound before it: x); bind one with @y"),
    ("conv k3 @skip add skp", "unknown name 'skp'; bind one with @skp (did you mean 'skip'?)"),
    ("add x conv k3 @x", "'x' is used before it is bound: a name reads the latest @x before it"),
    ("conv k3 @x add", "add needs the names of the tensors it adds to the current one, such as 'add x'"),
    ("conv k3 @x from x", "'from x' is not followed by a layer that reads it"),
    ("conv k3 @conv", "'conv' is a layer kind (convolution), not a name"),
    ("conv k3 @1x", "'1x' is not a name"),
    ("conv k3 @x cat x crop pad", "cat takes one of crop and pad, once"),
    ("up s2 o7", "up takes one of a scale (s2), an output size (o64) and 'like NAME'"),
    ("adaptiveavgpool", "adaptiveavgpool needs its output size, such as o7 or o7x5"),
    ("repeat 2 conv k3", "'repeat' has no 'end'"),
    ("conv k3 end", "'end' closes nothing"),
])
def test_graph_mistakes_are_parse_errors(stack, message):
    result = invoke("calc", "-i", "32", stack)
    assert result.exit_code == 2
    assert message in result.stderr


def test_a_repeated_group_rebinds_its_names_each_time():
    result = invoke("calc", "-i", "8", "--format", "json", "repeat 3 @x conv k3 p1 conv k3 p1 add x end")
    rows = json.loads(result.stdout)["layers"]
    assert [r["inputs"] for r in rows if r["kind"] == "add"] == [[0, 2], [3, 5], [6, 8]]


def test_a_block_defined_in_a_file_is_used_on_the_command_line(tmp_path):
    library = tmp_path / "blocks.stack"
    library.write_text("block down width\n  conv k3 s2 p1 c$width @d\nend\n")
    result = invoke("calc", "-i", "64", "-c", "3", "-q", "-f", str(library), "down", "16", "down", "32")
    assert (result.exit_code, result.stdout) == (0, "32x16x16\n")
    wrong = invoke("calc", "-i", "64", "-f", str(library), "down", "x")
    assert wrong.exit_code == 2
    assert f"{library}:2:17: unknown token 'cx'" in wrong.stderr


def test_adaptive_pools_and_resizes():
    assert invoke("calc", "-i", "13x9", "-c", "8", "-q", "adaptiveavgpool o7x5").stdout == "8x7x5\n"
    assert invoke("calc", "-i", "13", "-c", "8", "-q", "up o64").stdout == "8x64x64\n"
    assert invoke("calc", "-i", "64", "-c", "8", "-q", "@a conv k3 s2 p1 up like a add a").stdout == "8x64x64\n"
    tf = invoke("calc", "-i", "13", "--convention", "tf", "adaptivemaxpool o7")
    assert tf.exit_code == 1 and "adaptive_unsupported" in tf.stdout


def test_unet_skip_connections_which_sizes_fit():
    unet = "@a conv k3 p1 c8 @s1 maxpool k2 conv k3 p1 @s2 maxpool k2 conv k3 p1 up cat s2 conv k3 p1 up cat s1"
    fails = invoke("calc", "-i", "573", "-c", "3", unet)
    assert fails.exit_code == 1 and "merge_size_mismatch" in fails.stdout
    assert "add crop or pad to the cat; the whole stack fits at 572 or 576 (fit)" in fails.stdout
    rectangle = invoke("calc", "-i", "573x570", "-c", "3", unet)
    assert "the whole stack fits at H 572 or 576, W 568 or 572 (fit)" in rectangle.stdout
    near = invoke("fit", "-c", "3", "--near", "573", "-q", unet)
    assert (near.exit_code, near.stdout) == (0, "572 576\n")


def test_unused_rows_are_noted():
    result = invoke("calc", "-i", "9", "conv k1 @a conv k1 from a conv k3 p1")
    assert "2: note unused: this row's result never reaches the output" in result.stdout


def test_fit_aligned_also_needs_the_fields_into_each_merge_to_line_up():
    shifted = "@a conv k2 p1:0 add a"  # sizes agree everywhere; centres differ by half a pixel
    assert invoke("fit", "-q", shifted).stdout == "1\n"
    aligned = invoke("fit", "-q", "--aligned", shifted)
    assert (aligned.exit_code, aligned.stdout) == (1, "-\n")
    centred = invoke("fit", "-q", "--aligned", "@a conv k3 p1 add a")
    assert (centred.exit_code, centred.stdout) == (0, "1\n")


def test_resnet50_is_clean_only_at_sizes_of_1_to_4_mod_32():
    # Its stride-2 1x1 projection shortcuts never read the last row at an even size: 224 is not clean.
    result = invoke("fit", "-c", "3", "--format", "json", "-f", str(EXAMPLES / "resnet50.stack"))
    rule = json.loads(result.stdout)["rules"][0]
    assert (rule["rule"], rule["minimum_valid"], rule["valid_rule"]) == ("H ≡ 1, 2, 3, 4 (mod 32), H ≥ 1", 1, "every H ≥ 1")


def test_without_an_input_size_each_merge_says_where_it_fits():
    unet = "@a conv k3 p1 c8 @s1 maxpool k2 conv k3 p1 @s2 maxpool k2 conv k3 p1 up cat s2 conv k3 p1 up cat s1"
    data = json.loads(invoke("calc", "-c", "3", "--dims", "1", "--format", "json", unet).stdout)
    # cat s2 joins ⌊L/2⌋ (the skip) and 2·⌊L/4⌋: equal where ⌊L/2⌋ is even, L ≡ 0 or 1 (mod 4)
    assert [(r["spec"], r["fits"]) for r in data["layers"] if r["kind"] == "cat"] == [
        ("cat s2", "L ≡ 0, 1 (mod 4), L ≥ 4"), ("cat s1", "L ≡ 0 (mod 4), L ≥ 4")]
    assert [r["fits"] for r in data["layers"] if r["kind"] != "cat"] == [None] * 8
    padded = json.loads(invoke("calc", "--dims", "1", "--format", "json", unet.replace("cat s2", "cat s2 pad")).stdout)
    assert next(r for r in padded["layers"] if r["spec"] == "cat s2 pad")["fits"] is None  # pad makes it fit


def test_explain_covers_merges_adaptive_pools_and_resizes():
    result = invoke("calc", "-i", "64", "-c", "3", "--explain",
                    "@a conv k3 p1 @b maxpool k2 up like b add a, adaptiveavgpool o3, up o5")
    assert result.exit_code == 0, result.stdout
    for line in ["resized from 32 to 64", "elementwise: 64×64, 3 channels",
                 "3 windows over 64: window i from floor(i·64/3) to ceil((i+1)·64/3)", "resized from 3 to 5"]:
        assert line in result.stdout
    formulas = invoke("calc", "-c", "3", "--explain", "@a conv k3 s2 p1 up add a")
    assert formulas.exit_code == 0 and "= 2·⌊(H + 1)/2⌋ = " not in formulas.stdout


def test_a_crop_that_always_crops_leaves_no_clean_size_even_where_broadcasting_would_fit():
    # After adaptiveavgpool o3 every size is fixed: t is 3 wide, u is 1; add's crop cuts t to 1 at every input.
    stack = "adaptiveavgpool o3 @t conv k3 @u from t add u crop"
    assert (invoke("fit", "-q", "--dims", "1", stack).stdout, invoke("fit", "-q", "--dims", "1", stack).exit_code) == ("-\n", 1)
    assert "merge_cropped" in invoke("calc", "-i", "9", "--dims", "1", stack).stdout
