"""What a new user broke (issue 21): each test failed before its fix."""

import json

import pytest
from typer.testing import CliRunner

from conftest import ROOT, have, onnx_file
from convshape.cli import app

runner = CliRunner()


def invoke(*args, input=None):
    return runner.invoke(app, list(args), input=input)


# ----------------------------------------------------------------------------- more than three axes

@pytest.mark.parametrize("size, hint", [
    ("1x3x224x224", "'1x3x224x224' has 4 sizes: give 1 to 3 spatial sizes (L, H×W or D×H×W), without the batch or "
                    "the channels; for N×C×H×W = 1×3×224×224, give -i 224x224 -c 3"),
    ("2x3x16x112x112", "for N×C×D×H×W = 2×3×16×112×112, give -i 16x112x112 -c 3"),
    ("8x8x8x8x8x8", "'8x8x8x8x8x8' has 6 sizes: give 1 to 3 spatial sizes (L, H×W or D×H×W), without the batch or "
                    "the channels\n"),
])
@pytest.mark.parametrize("command", [["calc", "-q"], ["export", "--to", "torch"], ["draw"]])
def test_more_than_three_sizes_are_refused_with_the_hint(command, size, hint):
    result = invoke(*command, "-i", size, "conv", "k3", "p1")
    assert result.exit_code == 2
    assert hint in result.stderr + "\n"
    assert "Conv4d" not in result.stdout


def test_three_sizes_are_still_a_volume():
    result = invoke("calc", "-q", "-i", "8x8x8", "conv", "k3")
    assert result.exit_code == 0 and result.stdout == "6x6x6\n"


@pytest.mark.parametrize("stack, token", [("conv k3x3x3x3", "'k3x3x3x3' has 4 values"),
                                          ("conv k3, maxpool k2x2x2x2x2", "'k2x2x2x2x2' has 5 values")])
def test_a_layer_token_with_more_than_three_axes_is_refused(stack, token):
    result = invoke("calc", "-q", stack)
    assert result.exit_code == 2
    assert f"{token}: a layer has 1 to 3 spatial axes" in result.stderr


# ----------------------------------------------------------------------------- several outputs

BRANCHES = "conv k3 p1 c4 @x, conv k3 s2 p1 c8 @y, from x conv k1 c2"


def test_calc_lists_every_output_under_the_table_and_in_json():
    table = invoke("calc", "-i", "8", "-c", "3", "--no-color", BRANCHES)
    assert "outputs (2): y (row 2) 8 × 4 × 4, row 3 2 × 8 × 8" in table.stdout
    assert "\noutput:" not in table.stdout
    data = json.loads(invoke("calc", "-i", "8", "-c", "3", "--format", "json", BRANCHES).stdout)
    assert data["outputs"] == [{"row": 2, "names": ["y"], "size": [4, 4], "channels": 8, "features": 128, "tokens": None},
                               {"row": 3, "names": [], "size": [8, 8], "channels": 2, "features": 128, "tokens": None}]
    chain = json.loads(invoke("calc", "-i", "8", "-c", "3", "--format", "json", "conv k3 @a, conv k3").stdout)
    assert [output["row"] for output in chain["outputs"]] == [2]  # the row after reads a


def test_export_returns_every_output_in_row_order():
    fpn = invoke("export", "--to", "torch", "-i", "224", "-c", "3", "-f", str(ROOT / "examples" / "fpn-resnet50.stack"))
    assert "        return p4, p3, p2, p6\n" in fpn.stdout
    torch = invoke("export", "--to", "torch", "-i", "8", "-c", "3", BRANCHES)
    assert "        return y, t3\n" in torch.stdout
    assert "print([tuple(output.shape) for output in model(torch.zeros(1, 3, 8, 8))])" in torch.stdout
    keras = invoke("export", "--to", "keras", "-i", "8", "-c", "3", BRANCHES)
    assert "model = keras.Model(inputs, [y, t3])\n" in keras.stdout


@pytest.mark.skipif(not have("torch"), reason="torch is not installed")
def test_the_exported_fpn_returns_torch_s_four_levels():
    import torch

    code = invoke("export", "--to", "torch", "-i", "64", "-c", "3", "-f",
                  str(ROOT / "examples" / "fpn-resnet50.stack")).stdout
    namespace = {"__name__": "exported"}
    exec(compile(code, "exported.py", "exec"), namespace)
    with torch.no_grad():
        shapes = [list(output.shape[1:]) for output in namespace["model"].eval()(torch.zeros(1, 3, 64, 64))]
    data = json.loads(invoke("calc", "-i", "64", "-c", "3", "--format", "json", "-f",
                             str(ROOT / "examples" / "fpn-resnet50.stack")).stdout)
    assert shapes == [[output["channels"], *output["size"]] for output in data["outputs"]]


# ----------------------------------------------------------------------------- draw says why, and never exit 70

def test_draw_of_an_invalid_stack_says_what_calc_says(tmp_path):
    result = invoke("draw", "-i", "8", "-o", str(tmp_path / "net.svg"), "conv k9, conv k3")
    assert result.exit_code == 1
    assert result.stderr == ("convshape: invalid: layer 1 (conv k9) cannot run: on H and W: the padded input "
                             "(8 + 0 + 0 = 8) is smaller than the kernel 9\n")
    assert (tmp_path / "net.svg").exists()  # the picture marks the row


@pytest.mark.skipif(not have("cairosvg"), reason="cairosvg is not installed")
def test_a_png_too_large_for_cairo_is_refused_with_the_svg_to_write(tmp_path):
    target = tmp_path / "long.png"
    result = invoke("draw", "-i", "64", "-c", "3", "-o", str(target), "conv k3 p1 x1000")
    assert result.exit_code == 1
    assert "px, and a PNG renderer (cairo) takes at most 32,767 px a side: write an SVG" in result.stderr
    assert f"(-o {tmp_path / 'long'}.svg)" in result.stderr and not target.exists()
    small = invoke("draw", "-i", "64", "-c", "3", "-o", str(target), "conv k3 p1 c8, relu, conv k3 p1 c8")
    assert small.exit_code == 0 and target.read_bytes().startswith(b"\x89PNG")


def test_convshape_alone_lists_every_command(run):
    result = run()
    assert result.returncode == 2
    assert "Commands: calc, fit, solve, export, import, draw, schema, completions.\n" in result.stderr


# ----------------------------------------------------------------------------- found by fuzzing

def test_solve_with_a_huge_fixed_stride_answers_at_once():
    result = invoke("solve", "-i", "8", "-o", "224", "-q", "convt", "s999999999999999999x3")
    assert result.exit_code == 1
    assert "no convt takes 8 to 224 on H; nearest reachable outputs: 6999999999999999982" in result.stderr


def test_solve_still_finds_a_transposed_conv_s_output_padding():
    result = invoke("solve", "-i", "8", "-o", "17", "-q", "convt", "k2", "s2", "d1")  # (8 − 1)·2 + 2 + op
    assert result.exit_code == 0 and result.stdout == "k2 s2 op1\n"


@pytest.mark.parametrize("args, status, said", [
    (["-i", "32", "-o", "224", "-q", "maxpool", "k2147483648", "d3"], 1,
     "no maxpool takes 32 to 224 on L; nearest reachable outputs: nothing"),  # 3·(2³¹ − 1) + 1 needs more padding
    (["-i", "1", "-o", "1", "-q", "avgpool", "k2147483648", "ceil"], 1,
     "no avgpool takes 1 to 1 on L; nearest reachable outputs: 2"),
    (["-i", "64", "-o", "8", "-q", "conv", "k1000000000000000", "s2"], 0, ""),  # p = (7·2 + 10¹⁵ − 1 − 64) / 2
])
def test_solve_with_a_huge_fixed_kernel_answers_at_once(args, status, said):
    """It tried every padding from 0 to 2k: billions of them."""
    result = invoke("solve", *args)
    assert result.exit_code == status, result.output
    assert said in result.stderr
    if status == 0:
        assert result.stdout == "k1000000000000000 s2 p499999999999975\n"


@pytest.mark.parametrize("out, answer", [
    ("16", "k10000 s2 p4999"),  # (8 − 1)·2 − 2·4999 + 10000 = 16
    ("17", "k10000 s2 p9998 d2"),  # (8 − 1)·2 − 2·9998 + 2·9999 + 1 = 17
    ("3", "k10000 s2 p5006 op1"),  # (8 − 1)·2 − 2·5006 + 10000 + 1 = 3
])
def test_solve_finds_a_huge_transposed_kernel_s_padding_without_trying_every_one(out, answer):
    """20,001 total paddings: past 4096 only those near the target are tried (the answers are
    those of trying all of them)."""
    result = invoke("solve", "-i", "8", "-o", out, "-q", "convt", "k10000", "s2")
    assert result.exit_code == 0, result.output
    assert result.stdout == answer + "\n"


@pytest.mark.parametrize("stack, message", [
    ("expect o5 maxpool k0", "layer 2: on H and W: kernel 0 is below 1"),
    ("expect o5 conv k3 s0", "layer 2: on H and W: stride 0 is below 1"),
    ("expect o0", "layer 1: on H and W: output size 0 is below 1"),
])
def test_a_stack_with_a_fixed_size_and_a_bad_parameter_is_refused_without_an_input_size(stack, message):
    """calc without -i and fit answer such a stack by trying sizes, and divided by a kernel of 0."""
    for command in (["calc", "-q"], ["fit"]):
        result = invoke(*command, stack)
        assert "internal error" not in result.output
        assert message in result.output
    assert invoke("calc", "-q", stack).exit_code == 1


@pytest.mark.parametrize("command", [["calc", "-q"], ["fit"], ["export", "--to", "torch", "-c", "3"],
                                     ["export", "--to", "keras", "-c", "3"]])
def test_a_bad_parameter_before_a_sequence_of_tokens_is_refused_without_an_input_size(command):
    """Found by bench/fuzz.py: the formulas stop at the tokens, and the pool before them divided by its stride of 0."""
    result = invoke(*command, "conv k3 c8, maxpool k2 s0, tokens")
    assert result.exit_code == 1
    assert "internal error" not in result.output
    assert "layer 2" in result.output and "on H and W: stride 0 is below 1" in result.output
    later = invoke(*command, "conv k3 c8, tokens, maxpool k2 s0")  # after it: the sequence is what stops them
    assert later.exit_code == 1 and "internal error" not in later.output


@pytest.mark.parametrize("command, message", [
    (["calc", "-i", "8", "-c", "4", "-q"], "convshape: layer 1 (gattn k0 h2): on H and W: kernel 0 is below 1\n"),
    (["calc", "-c", "4", "-q"], "convshape: layer 1: on H and W: kernel 0 is below 1\n"),
])
def test_a_grid_attention_with_a_grid_of_0_is_refused_by_its_parameter(command, message):
    """Found by bench/fuzz.py: the structure check (is the map as big as the grid?) ran before
    the parameters and divided by the grid of 0."""
    result = invoke(*command, "gattn k0 h2")
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", message)


@pytest.mark.parametrize("repeat, answer", [(9, "1\n"), (10, None)])
def test_a_rule_of_too_many_residue_classes_is_refused_at_once(repeat, answer):
    """Each conv k7 s7 p3 lets 4 of its 7 inputs' residues through (floor rounding skips only
    padding): 4^9 = 262,144 classes are listed, 4^10 = 1,048,576 are more than the 300,000
    fit lists (that took seconds, and minutes for a few more layers)."""
    result = invoke("fit", "--dims", "1", "-q", f"conv k7 s7 p3 x{repeat}")
    if answer is not None:
        assert (result.exit_code, result.stdout) == (0, answer)
    else:
        assert (result.exit_code, result.stdout) == (1, "")
        assert result.stderr == ("convshape: 'conv k7 s7 p3': the sizes that are clean on L from it on fall in more "
                                 "than 300,000 classes modulo 282,475,249, more than fit and the formulas list: "
                                 "check a size with calc -i\n")


@pytest.mark.parametrize("stack", ["gattn k9 h9, maxpool k0", "@a, gattn k9 h9, from a maxpool k0 x3, @a, @a, @b"])
def test_a_bad_parameter_past_a_row_the_size_probe_stops_at_is_refused(stack):
    """Found by bench/fuzz.py: without channels the grid attention stops fit's probe at a huge
    size, and the pool's kernel of 0 after it went unchecked into the minimum's search."""
    for command in (["calc", "-q"], ["fit"]):
        result = invoke(*command, "--convention", "tf", stack)
        assert result.exit_code == 1
        assert "internal error" not in result.output and "on H and W: kernel 0 is below 1" in result.output


def test_the_fuzzer_s_slow_tf_pool_graph_is_refused_at_once():
    result = invoke("calc", "--convention", "tf", "maxpool k210 p210x1x10 x50, @a, @a")
    assert result.exit_code == 1
    assert result.stderr.startswith("convshape: 'maxpool k210 p210x1x10': the sizes that are clean on H from it on "
                                    "fall in more than 300,000 classes modulo ")


@pytest.mark.parametrize("command", [["export", "--to", "torch", "-c", "3"], ["export", "--to", "keras", "-c", "3"],
                                     ["fit"], ["calc"], ["calc", "-i", "8", "-q"]])
def test_a_chain_of_1200_merges_does_not_recurse(tmp_path, command):
    stack = tmp_path / "deep.stack"
    stack.write_text("@a conv k3 p1 " + "add a " * 1200 + "\n")
    result = invoke(*command, "-f", str(stack))
    assert result.exit_code == 0, result.output
    assert "internal error" not in result.stderr


@pytest.mark.parametrize("stack, sizes", [
    ("@y conv k3, ln, up like y, linear c10", "3×H×W"),  # y is the input: up like y gives its size back
    ("conv k3 s2 @a, conv k3, from a linear c3", "3×⌊(H − 1)/2⌋×⌊(W − 1)/2⌋"),  # a's size, not the chain's
])
def test_linear_on_a_map_names_the_size_of_the_row_it_reads(stack, sizes):
    result = invoke("fit", "-c", "3", stack)
    assert result.exit_code == 1
    assert f"linear needs flat input but gets {sizes}: PyTorch fails" in result.stdout


# ----------------------------------------------------------------------------- one-line changes that used to survive

def test_torch_export_names_torch_s_classes_and_keeps_a_transposed_conv_s_crop():
    code = invoke("export", "--to", "torch", "-i", "8", "-c", "3", "avgpool k2, convt k3 s2 p1:0 c4").stdout
    assert "    nn.AvgPool2d(2),  # 1: avgpool k2 -> 3×4×4\n" in code
    assert ("    nn.Sequential(nn.ConvTranspose2d(3, 4, kernel_size=3, stride=2), nn.ZeroPad2d((-1, 0, -1, 0))),"
            "  # 2: convt k3 s2 p1:0 c4 -> 4×8×8\n") in code  # (8 − 1)·2 + 3 − 1 = 16, not 17


def test_keras_export_names_keras_layers_and_activations():
    code = invoke("export", "--to", "keras", "-i", "8", "-c", "3", "pad p1, hardswish, avgpool k2").stdout
    assert "t1 = layers.ZeroPadding2D(((1, 1), (1, 1)))(inputs)  # 1: pad p1 -> 3×10×10\n" in code
    assert "t2 = layers.Activation('hard_swish')(t1)  # 2: hardswish -> 3×10×10\n" in code
    assert "t3 = layers.AveragePooling2D(2)(t2)  # 3: avgpool k2 -> 3×5×5\n" in code


def test_an_onnx_merge_error_quotes_no_framework():
    """Which message a runtime gives depends on the runtime: only torch and Keras are quoted."""
    onnx = invoke("calc", "--convention", "onnx", "-i", "8", "-c", "3", "--no-color", "@a conv k3, add a")
    assert "row 1 gives 6×6; add crop or pad to the add" in onnx.stdout
    torch = invoke("calc", "-i", "8", "-c", "3", "--no-color", "@a conv k3, add a")
    assert "row 1 gives 6×6; PyTorch: 'The size of tensor a (8) must match the size of tensor b (6) at " \
           "non-singleton dimension 3'; add crop" in torch.stdout


@pytest.mark.skipif(not have("onnx"), reason="onnx is not installed")
@pytest.mark.parametrize("op, word", [("InstanceNormalization", "in"), ("BatchNormalization", "bn")])
def test_onnx_norms_import_as_their_own_kind(tmp_path, op, word):
    import numpy
    from onnx import helper, numpy_helper

    weights = [numpy_helper.from_array(numpy.ones(3, dtype="float32"), name) for name in ("scale", "bias", "mean", "var")]
    inputs = ["x", "scale", "bias"] + (["mean", "var"] if op == "BatchNormalization" else [])
    result = invoke("import", onnx_file(tmp_path, helper.make_node(op, inputs, ["y"], name="norm"), weights))
    assert result.exit_code == 0, result.output
    assert f"{word:<36}# norm: {op}" in result.stdout


def test_every_block_of_a_network_diagram_has_its_layer_and_shape():
    import re

    svg = invoke("draw", "-i", "32", "-c", "3", "-o", "-", "conv k3 s2 p1 c8, maxpool k2, gap, flatten, linear c10").stdout
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    for layer, shape in [("input", "3×32×32"), ("conv k3 s2 p1 c8", "8×16×16"), ("maxpool k2", "8×8×8"),
                         ("gap", "8×1×1"), ("flatten", "8"), ("linear c10", "10")]:
        assert texts[texts.index(layer) + 1] == shape


# ----------------------------------------------------------------------------- ceil mode is not padding

def test_ceil_mode_s_overhang_has_its_own_cells_colour_and_word():
    import re

    svg = invoke("draw", "-i", "6", "-o", "-", "maxpool k3 s2 ceil").stdout
    assert len(re.findall(r'class="cell ceil"', svg)) == 13  # one column and one row past the 6×6 input
    assert 'class="cell pad' not in svg
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert "kernel 3×3, stride 2×2, padding 0×0, ceil mode" in texts
    assert texts.index("padding") + 1 == texts.index("ceil mode's overhang")
    assert 'fill="#fff4d6"' in svg
    terminal = invoke("draw", "-i", "6", "--no-color", "maxpool k3 s2 ceil").stdout.splitlines()
    assert terminal[0] == "maxpool k3 s2 ceil: input (padding ·, ceil mode's overhang ^) → output"
    assert terminal[1] == "■ ■ ■ ■ ■ ■ ^    ■ ■ ■ " and terminal[7] == "^ ^ ^ ^ ^ ^ ^    "
    padded = invoke("draw", "-i", "6", "--no-color", "maxpool k3 s2 p1 ceil").stdout.splitlines()
    assert padded[1] == "· · · · · · · · ^    ■ ■ ■ ■ "  # the padding, then the overhang past it


# ----------------------------------------------------------------------------- receptive-field pictures stay bounded

def test_a_thousand_layer_field_is_drawn_at_once_with_a_short_count(tmp_path):
    import re
    import time

    target = tmp_path / "field.svg"
    started = time.perf_counter()
    result = invoke("draw", "-i", "64", "--unit", "5,5", "-o", str(target), "conv k3 p1 x1000")
    assert result.exit_code == 0, result.output
    assert time.perf_counter() - started < 30  # a minute before; a second now (a bound, not a benchmark)
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", target.read_text())
    assert texts[1] == "4096 input pixels reached, the most-reached one 3.18×10^949 ways"


def test_one_path_and_many_paths_reach_the_same_pixels_the_same_number_of_ways():
    """The per-axis walk (one path) against the position-by-position one (any graph)."""
    from collections import Counter
    from itertools import product

    from convshape import calc
    from convshape.draw import field

    for stack in ["conv k3 s2 p1, conv k3 d2 p2", "convt k3 s2 p1, maxpool k2", "up s2, conv k3, pad p1:0",
                  "conv k2 s3, up s1.5", "conv k3 @s, cat s, conv k3 s2", "conv k3 @s, add s crop, up s2"]:
        result = calc(stack, "16x13")
        last = result.rows[-1]
        for unit in product(range(last.out_size[0]), range(last.out_size[1])):
            assert +field._back(result, {len(result.rows): Counter({unit: 1})}) == \
                +field._back_by_axis(result, len(result.rows), unit), (stack, unit)


def test_a_field_picture_is_wide_enough_for_its_title(tmp_path):
    import re

    target = tmp_path / "field.svg"
    invoke("draw", "-i", "16", "--unit", "3,3", "-o", str(target), "conv k3 s2 p1, conv k3 d2 p2")
    svg = target.read_text()
    width = float(re.search(r'<svg[^>]* width="([\d.]+)"', svg).group(1))
    title = re.findall(r"<text[^>]*>([^<]*)</text>", svg)[0]
    assert title == "the receptive field of unit (3, 3) of row 2: conv k3 d2 p2"
    assert width >= 20 + 9.5 * len(title)


def test_unit_picks_the_last_map_before_a_global_pool():
    result = invoke("draw", "-i", "32", "-c", "3", "--unit", "0,0", "--no-color", "-f",
                    str(ROOT / "examples" / "resnet18.stack"))
    assert result.stdout.startswith("unit (0, 0) of row 66 (relu): ")


@pytest.mark.parametrize("command", [["calc", "-q"], ["calc", "-c", "3"], ["fit"], ["export", "--to", "torch", "-c", "3"]])
@pytest.mark.parametrize("stack, period", [("avgpool k999999999999999999x7", "999,999,999,999,999,999"),
                                           ("@a up s2, pixelunshuffle s2147483648, up like a", "2,147,483,648")])
def test_a_period_too_long_to_read_is_a_clear_error(command, stack, period):
    """fit reads one period of each layer input by input: a stride of 2^31 would take hours."""
    result = invoke(*command, stack)
    assert result.exit_code == 1
    assert f"repeats its sizes only every {period} inputs, more than the 16,384 that fit and the formulas read: " \
           "give an input size (-i)" in result.stderr


def test_a_period_at_the_limit_is_still_read():
    result = invoke("fit", "-q", "avgpool k16384")
    assert result.exit_code == 0 and result.stdout == "16384\n"


@pytest.mark.parametrize("args", [["calc", "-q"], ["calc", "-q", "-i", "8"], ["export", "--to", "torch", "-i", "8", "-c", "2"]])
def test_a_repeated_up_like_reads_its_target_every_time(args):
    result = invoke(*args, "@b conv k3 s2 c2, up like b x2, conv k1")
    assert result.exit_code == 0, result.output
    assert result.stdout in ("2xHxW\n", "2x8x8\n") or "t3 = F.interpolate(t2, size=b.shape[2:])  # 3: up like b" in result.stdout


def test_rows_after_a_merge_that_never_fits_are_not_computed():
    result = invoke("calc", "-c", "16", "--no-color",
                    "@b gap, adaptivemaxpool o2147483648, maxpool k4 s1 p2 d5, add b b, from b conv k4")
    assert result.exit_code == 1
    assert "│ 4 │ add b b" in result.stdout and result.stdout.count("not computed") == 2


# ----------------------------------------------------------------------------- smaller things

def test_help_names_files_that_exist_and_every_command_s_exit_statuses():
    assert "-f examples/vgg16.stack" in invoke("calc", "--help").stdout
    assert (ROOT / "examples" / "vgg16.stack").exists()
    for command in ("calc", "fit", "solve", "export", "import", "draw"):
        assert "Exit status: 0" in invoke(command, "--help").stdout, command
    assert "No colours or styles in the terminal" in invoke("draw", "--help").stdout


def test_one_window_position_is_singular():
    assert "\n1 window position (-o picture.svg" in invoke("draw", "-i", "3", "--no-color", "conv k3").stdout
    assert "\n4 window positions (" in invoke("draw", "-i", "4", "--no-color", "conv k3").stdout


@pytest.mark.parametrize("option", [["--unit", "9,9"], ["--unit", "1,1,1"], ["--frame", "99"], ["--layer", "5"]])
def test_a_position_the_picture_does_not_have_is_a_usage_error(option):
    result = invoke("draw", "-i", "8", "--no-color", *option, "conv k3")
    assert result.exit_code == 2 and result.stderr.startswith(f"convshape: {option[0]} ")


# ----------------------------------------------------------------------------- a picture without animation

@pytest.mark.skipif(not have("cairosvg"), reason="cairosvg is not installed")
@pytest.mark.parametrize("stack, taps, gaps", [
    ("conv k3 s2", [(0, 0), (1, 0), (2, 2)], [(0, 3), (3, 3), (6, 6)]),
    ("conv k3 d2", [(0, 0), (2, 2), (4, 4)], [(1, 0), (1, 1), (3, 4)]),  # spaced taps
])
def test_a_png_of_one_layer_shows_its_first_window(tmp_path, stack, taps, gaps):
    """PNG renderers ignore SVG animation: the first frame is drawn without it. The taps of a
    dilated conv are spaced."""
    import re

    from PIL import Image

    svg = invoke("draw", "-i", "7", "-o", "-", stack).stdout
    assert '<g class="frame" id="frame1" visibility="visible">' in svg
    assert '<g class="frame" id="frame2" visibility="hidden">' in svg
    grid = [(float(x), float(y)) for x, y in re.findall(r'<rect class="cell real[^"]*" x="([\d.]+)" y="([\d.]+)"', svg)]
    left, top = min(x for x, _ in grid), min(y for _, y in grid)
    size = sorted({x for x, _ in grid})[1] - left
    target = tmp_path / "layer.png"
    assert invoke("draw", "-i", "7", "-o", str(target), stack).exit_code == 0
    image = Image.open(target).convert("RGB")

    def blue(row, column):
        red, green, blue_ = image.getpixel((int(left + (column + 0.5) * size), int(top + (row + 0.5) * size)))
        return blue_ > red + 40

    assert all(blue(row, column) for row, column in taps)
    assert not any(blue(row, column) for row, column in gaps)


# ----------------------------------------------------------------------------- one width rule in the terminal

@pytest.mark.parametrize("args, fits", [
    (["-i", "28", "conv k3 s2"], False),  # 28·2 + 3 + 13·2 = 85 characters
    (["-i", "40", "--unit", "3,3", "conv k3"], False),  # 80
    (["-i", "12", "conv k3 s2"], True),  # 24 + 3 + 10 = 37
    (["-i", "30", "--unit", "3,3", "conv k3"], True),  # 60: exactly the terminal
    (["-i", "31", "--unit", "3,3", "conv k3"], False),  # 62
    (["-i", "3x16", "conv k3"], False),  # 62, on the first grid line alone: the one output row
    (["-i", "3x15", "conv k3"], True),  # 58
])
def test_a_terminal_picture_fits_the_terminal_or_is_refused(monkeypatch, args, fits):
    monkeypatch.setenv("COLUMNS", "60")
    monkeypatch.setattr("convshape.commands.common._stdout_is_terminal", lambda: True)
    result = invoke("draw", "--no-color", *args)
    if fits:
        assert result.exit_code == 0 and max(len(line) for line in result.stdout.splitlines()[1:-1]) <= 60
    else:
        assert result.exit_code == 1
        assert "characters wide and the terminal 60: write a picture with -o (or widen the terminal)" in result.stderr


def test_a_layer_picture_of_three_axes_is_refused_naming_them():
    result = invoke("draw", "-i", "8x8x8", "conv k3")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == "convshape: a layer picture is drawn on 1 or 2 axes, not 3\n"


def test_a_terminal_picture_s_text_lines_are_not_broken_by_the_picture_s_width_rule(monkeypatch):
    """Only the grid must fit: the caption longer than the terminal stays one line, for the
    terminal to wrap as it wraps any long line, rather than being cut into words by Rich."""
    monkeypatch.setenv("COLUMNS", "30")
    monkeypatch.setattr("convshape.commands.common._stdout_is_terminal", lambda: True)
    result = invoke("draw", "--no-color", "-i", "6", "conv k3 s2")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "conv k3 s2: input (padding ·) → output"
    assert lines[-1] == "4 window positions; ! 11 input pixels never read (-o picture.svg animates the window)"
    assert max(len(line) for line in lines[1:-1]) <= 30


# ----------------------------------------------------------------------------- PyTorch's spellings

@pytest.mark.parametrize("stack, hint", [
    ("conv k3 padding=same", "unknown token 'padding=same' (did you mean 'psame'?)"),
    ("conv k3 stride=2", "unknown token 'stride=2' (did you mean 's2'?)"),
    ("conv k3 bias=False", "unknown token 'bias=False' (did you mean 'nobias'?)"),
    ("maxpool k3 ceil_mode=True", "unknown token 'ceil_mode=True' (did you mean 'ceil'?)"),
    ("up s2 bilinear", "up is nearest-neighbour, and 'bilinear' gives the same sizes: drop it"),
    ("conv 64 3", "unknown token '64' (did you mean 'c64'?)"),  # Keras' Conv2D(64, 3)
    ("conv 11", "unknown token '11' (did you mean 'k11'?)"),  # a kernel size, at the edge
    ("conv 12", "unknown token '12' (did you mean 'c12'?)"),
])
def test_framework_spellings_get_the_token_that_says_the_same(stack, hint):
    result = invoke("calc", "-q", "-i", "8", stack)
    assert result.exit_code == 2 and hint in result.stderr


@pytest.mark.parametrize("word", ["BatchNorm2d", "batchnorm1d", "InstanceNorm2d", "Dropout2d"])
def test_norms_and_dropout_take_pytorch_s_names_as_conv2d_does(word):
    result = invoke("calc", "-q", "-i", "8", "-c", "4", f"conv k3, {word}")
    assert result.exit_code == 0 and result.stdout == "4x6x6\n"


def test_a_block_takes_a_repeat_as_a_layer_does(tmp_path):
    stack = tmp_path / "b.stack"
    stack.write_text("block basic c\n  conv k3 s2 p1 c$c\nend\nbasic 64 x2\n")
    result = invoke("calc", "-q", "-i", "8", "-f", str(stack))
    assert result.exit_code == 0 and result.stdout == "64x2x2\n"  # 8 → 4 → 2: twice
    stack.write_text("block basic c\n  conv k3 p1 c$c\nend\nbasic 64 x0\n")
    refused = invoke("calc", "-q", "-i", "8", "-f", str(stack))
    assert refused.exit_code == 2 and "'x0' writes the block no times: give x1 or more" in refused.stderr


# ----------------------------------------------------------------------------- without -i, no fixed field that moves

SAME_BRANCHES = "@x0 conv k3 s2 psame @a from x0 conv k3 s2 p1 add a"


def test_a_merged_field_that_depends_on_the_size_is_not_shown_as_fixed():
    at = {size: json.loads(invoke("calc", "--convention", "tf", "-c", "1", "-i", size, "--format", "json",
                                  SAME_BRANCHES).stdout)["layers"][2]["rf"]["size"] for size in ("8", "9")}
    assert at == {"8": [4, 4], "9": [3, 3]}  # so no one number is right without -i
    table = invoke("calc", "--convention", "tf", "-c", "1", "--no-color", SAME_BRANCHES).stdout
    assert "│ 3 │ add a            │ 1 × ⌊(H + 1)/2⌋ × ⌊(W + 1)/2⌋ │    │      │       │" in table
    assert "note: the receptive field of row 3 depends on the input size (where its inputs' fields start): " \
           "-i gives it" in table
    data = json.loads(invoke("calc", "--convention", "tf", "-c", "1", "--format", "json", SAME_BRANCHES).stdout)
    assert data["layers"][2]["rf"] is None


def test_a_branch_with_explicit_padding_keeps_its_start_beside_one_with_same():
    table = invoke("calc", "--convention", "tf", "-c", "1", "--no-color", SAME_BRANCHES).stdout
    assert "│ 2 │ conv k3 s2 p1    │ 1 × ⌊(H + 1)/2⌋ × ⌊(W + 1)/2⌋ │ 3  │ 2    │ 0     │" in table
    assert "│ 1 │ conv k3 s2 psame │ 1 × ⌊(H + 1)/2⌋ × ⌊(W + 1)/2⌋ │ 3  │ 2    │       │" in table


# ----------------------------------------------------------------------------- fit --aligned under tf's psame

@pytest.mark.parametrize("stack", [SAME_BRANCHES, "@x0 conv k3 s2 psame, conv k3 s2 psame @a from x0 conv k5 s4 p2 add a",
                                   "@x0 conv k3 s3 psame @a from x0 conv k3 s3 p1 add a"])
def test_fit_aligned_keeps_exactly_the_sizes_calc_finds_aligned(stack):
    from convshape.fit import aligned, analyse
    from convshape.grammar import parse_stack

    parsed = parse_stack(stack, dims=1)
    rule = aligned(analyse(parsed, "tf", 1), parsed, "tf", 1).rules[0]
    said = [n for n in range(1, 80) if n in rule.small or (n >= rule._low and n % rule.modulus in rule.residues)]
    found = []
    for n in range(1, 80):
        result = json.loads(invoke("calc", "--convention", "tf", "-c", "1", "--dims", "1", "-i", str(n), "--format",
                                   "json", stack).stdout)
        codes = {w["code"] for row in result["layers"] for w in row["warnings"]}
        if result["valid"] and not codes & {"merge_misaligned", "floor_rounding"}:
            found.append(n)
    assert said == found and found


def test_fit_aligned_near_224_says_odd_sizes_only():
    result = invoke("fit", "--aligned", "--convention", "tf", "-c", "1", "--near", "224", "--no-color", SAME_BRANCHES)
    assert "│ H    │ H ≡ 1 (mod 2), H ≥ 1 │ 1              │ 1              │ 223 / 225 │" in result.stdout


def test_a_diagram_s_default_title_is_what_was_drawn_not_where(run, tmp_path):
    import re

    target = tmp_path / "net.svg"
    result = run("draw", "-i", "32", "-c", "3", "-o", str(target), "conv k3 s2, relu, conv k3")
    assert result.returncode == 0, result.stderr
    title = re.findall(r"<text[^>]*>([^<]*)</text>", target.read_text())[0]
    assert title == "convshape draw -i 32 -c 3 conv k3 s2, relu, conv k3"


def test_a_diagram_dashes_exactly_the_arrows_of_rows_that_read_a_name():
    """README: 'a row that reads another than the one before gets a dashed arrow'."""
    import re

    svg = invoke("draw", "-i", "32", "-c", "8", "-o", "-",
                 "@a conv k3 p1 c8, relu, conv k3 p1 c8, add a, conv k3 s2 p1 @b, from a conv k1 s2, add b").stdout
    arrows = [(kind, "stroke-dasharray" in rest)
              for kind, rest in re.findall(r'<(?:line|path) class="(arrow(?: skip)?)"([^>]*)>', svg)]
    # input→conv, conv→conv, a→add (named), conv→add, add→conv s2, a→conv k1 (from), b→add (named), conv k1→add
    assert [kind for kind, _ in arrows] == ["arrow", "arrow", "arrow skip", "arrow", "arrow", "arrow skip",
                                            "arrow skip", "arrow"]
    assert all(dashed == (kind == "arrow skip") for kind, dashed in arrows)


def test_fit_aligned_finds_the_first_clean_size_of_its_own_period():
    """Every L is clean, the aligned ones are L ≡ 0 (mod 3): the first is 3, searched for within
    the new period (it was searched within the old one, 1, and not found)."""
    stack = "pad p1:0, @x0 conv k3 s3 psame @a from x0 conv k5 s3 p2 add a"
    result = invoke("fit", "--aligned", "--convention", "tf", "-c", "1", "--dims", "1", "--no-color", stack)
    assert "│ L    │ L ≡ 0 (mod 3), L ≥ 1 │ 1              │ 3              │" in result.stdout
    at_3 = json.loads(invoke("calc", "--convention", "tf", "-c", "1", "--dims", "1", "-i", "3", "--format", "json",
                             stack).stdout)
    assert at_3["valid"] and not any(row["warnings"] for row in at_3["layers"])


def test_a_block_repeated_past_the_word_limit_is_refused_before_it_is_written_out(tmp_path):
    stack = tmp_path / "big.stack"
    stack.write_text("block b\n  " + "relu " * 20 + "\nend\nb x999999\n")  # 999,999 · 21 + 1 words
    result = invoke("calc", "-q", "-i", "8", "-f", str(stack))
    assert result.exit_code == 2
    assert "the stack writes out more than 20,000,000 words: too large a stack" in result.stderr


def test_a_field_through_a_kernel_of_2_31_is_drawn_at_once():
    result = invoke("draw", "-i", "1", "--unit", "0,0", "--no-color", "convt k2147483648 x2")
    assert result.exit_code == 0 and result.stdout.startswith("unit (0, 0) of row 2 (convt k2147483648 (2/2)): 1 input")


@pytest.mark.parametrize("kind", ["conv", "maxpool", "convt"])
def test_the_pixels_an_output_reads_are_those_of_its_taps(kind):
    """Each output's sources, found from the taps and inputs that can meet, against the taps
    walked one by one (o + p = i·s + j·d for a transposed conv, i = o·s − p + j·d otherwise)."""
    import random

    from convshape import calc

    rng = random.Random(21)
    for _ in range(300):
        k, s, d, p, size = rng.randint(1, 30), rng.randint(1, 7), rng.randint(1, 4), rng.randint(0, 4), rng.randint(1, 12)
        p = min(p, (d * (k - 1) + 1) // 2) if kind == "maxpool" else min(p, d * (k - 1)) if kind == "convt" else p
        row = calc(f"{kind} k{k} s{s} p{p} d{d}", str(size), dims=1).rows[0]
        if not row.computed:
            continue
        step = row.steps[0]
        for o in range(row.out_size[0]):
            if kind == "convt":
                taps = [(o + p - j * d) // s for j in range(k) if (o + p - j * d) % s == 0 and 0 <= (o + p - j * d) // s < size]
            else:
                taps = [o * s - p + j * d for j in range(k) if 0 <= o * s - p + j * d < size]
            assert row.layer.kind.op.sources(row.layer, step, o, size) == taps, (kind, k, s, d, p, size, o)


# ----------------------------------------------------------------------------- found by bench/fuzz.py, this stop

@pytest.mark.parametrize("stack, row, shape", [
    ("battn k3 h3, cls", 2, "H×W"),  # the probe's huge size was no multiple of 3: it stopped at battn
    ("battn k3 h300, @x, cls", 2, "H×W"),
    ("gattn k2 h2, cls", 2, "H×W"),
    ("conv k3, cls", 2, "(H − 2)×(W − 2)"),  # it named the probe's size, 18446744073709551614
    ("conv k3 s2, @x, conv k3 p1, cls", 3, "⌊(H − 1)/2⌋×⌊(W − 1)/2⌋"),
])
def test_a_token_layer_on_a_map_is_invalid_at_any_size_without_an_input_size(stack, row, shape):
    """Without -i, a cls on a map fails at every size: calc -q said nothing and exited 70 after
    a block attention (the table called such a stack valid), and the message named a 20-digit map."""
    message = (f"layer {row}: cls works on a sequence of tokens, but it gets a {shape} map: make the map a "
               "sequence with 'tokens' first")
    quiet = invoke("calc", "-q", stack)
    assert quiet.exit_code == 1 and quiet.stderr == f"convshape: {message}\n"
    table = invoke("calc", stack)
    assert table.exit_code == 1 and f"invalid at any size: {message}" in table.stdout
    fitted = invoke("fit", stack)
    assert fitted.exit_code == 1 and f"no input size works: {message}" in fitted.stdout


def test_a_window_attention_gathers_each_window_once(monkeypatch):
    """Found by bench/fuzz.py: 50 window attentions of 64 took seconds without -i. The field of a
    window attention after another has a period of 64 × 64 outputs, and every output of a window
    reads the same 64 inputs: they are gathered once per window (64 a layer), not once per output
    (4,096 a layer). The fields themselves are pinned by the examples' golden files and below."""
    from convshape import calc, receptive

    gathered = []
    original = receptive._gather
    monkeypatch.setattr(receptive, "_gather", lambda field, sources: gathered.append(1) or original(field, sources))
    rows = calc("wattn k64 h9 x10, wattn k64 h9 s32", 128, 18).rows
    assert len(gathered) <= 64 * 11
    assert [(row.field.size, row.field.start) for row in rows[9:]] == [((64, 64), (31.5, 31.5)),
                                                                        ((128, 128), (-0.5, -0.5))]
    quiet = invoke("calc", "-q", "--convention", "tf", "@a, wattn k64 h9 in2147483648 x50, repeat 3 @a in x50 in x2 end")
    assert quiet.exit_code == 0 and quiet.stdout == "HxW\n"


@pytest.mark.parametrize("stack, cells", [
    ("avgpool k1000000000000000 ceil", "1,000,000,000,000,000"),  # ceil mode's one window: a tuple of 10^15 taps
    ("repeat 1 @a avgpool k1000000000000000 ceil end", "1,000,000,000,000,000"),
    ("conv k3 p100000000000", "200,000,000,064"),  # its padding cells, each made before the width was checked
    ("convt k3 s100000000000", "6,300,000,000,005"),  # the input spread out (MemoryError, exit 70)
])
def test_a_layer_picture_wider_than_readable_is_refused_before_it_is_built(stack, cells):
    """Found by bench/fuzz.py: these ran out of memory or for minutes (draw -o - printed nothing
    and exited 0). The width is now worked out before a cell is made."""
    result = invoke("draw", "-i", "64", "-c", "1", "-o", "-", stack)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == (f"convshape: {cells} cells on an axis (padding included): a layer picture is readable "
                             "up to 48; draw it on a smaller input (-i)\n")


def test_a_layer_picture_of_48_cells_is_drawn_and_49_are_refused():
    assert invoke("draw", "-i", "46", "conv", "k3", "p1").exit_code == 0
    assert "see it: convshape draw -i 46x46" in invoke("calc", "-i", "46", "--explain", "conv k3 p1").stdout
    refused = invoke("draw", "-i", "47", "conv", "k3", "p1")
    assert refused.exit_code == 1 and refused.stderr.startswith("convshape: 49 cells on an axis")
    assert "see it" not in invoke("calc", "-i", "47", "--explain", "conv k3 p1").stdout
    assert "see it" not in invoke("calc", "-i", "8", "--explain", "conv k3 p100000000000").stdout


@pytest.mark.parametrize("target", ["keras", "torch"])
def test_an_export_without_input_size_of_a_row_past_the_stop_that_reads_the_input(target):
    """Found by bench/fuzz.py: a linear that reads the input by name, after the layer where the
    formulas stop, looked for the features of a row before the input (AttributeError, exit 70)."""
    result = invoke("export", "--to", target, "@a, linear c255, from a linear c255, linear c10")
    assert result.exit_code == 1
    assert result.stderr.startswith("convshape: layer 1 (linear c255): linear needs flat input but gets ?×H×W")


@pytest.mark.parametrize("stack, row, reads", [
    ("@a, adaptivemaxpool o1000000000000000, hardswish, adaptiveavgpool o2x3, pixelshuffle s6",
     "3 (adaptiveavgpool o2x3)", "500,000,000,000,001"),  # its outputs each listed half of a 10^15 map
    ("up o1000000000000000, avgpool k1000000000000000 s6 pvalid", "2 (avgpool k1000000000000000 s6 pvalid)",
     "1,000,000,000,000,000"),  # minutes
    ("up o65537, adaptiveavgpool o1", "2 (adaptiveavgpool o1)", "65,537"),
    # 196,607 / 3 rounds up to 65,536, but the middle window straddles: [65,535, 131,072) is 65,537
    ("up o196607, adaptiveavgpool o3", "2 (adaptiveavgpool o3)", "65,537"),
])
def test_a_field_is_not_traced_through_an_output_that_reads_too_many_pixels(stack, row, reads):
    """Found by bench/fuzz.py: tracing a unit back through a pool over a huge map listed every
    pixel one output reads (MemoryError, exit 70, or minutes). Up to 65,536 a side are traced
    (a transposed conv's kernel of 2^31 too: its sources are the taps that can meet)."""
    result = invoke("draw", "-i", "8", "--unit", "0,0", "--no-color", stack)
    assert result.exit_code == 1
    assert result.stderr == (f"convshape: row {row} reads up to {reads} pixels of its input per output on an axis: "
                             "a receptive field is traced pixel by pixel through up to 65,536\n")
    traced = invoke("draw", "-i", "8", "--unit", "0,0", "--no-color", "up o65536, adaptiveavgpool o1")
    assert traced.exit_code == 0
    assert traced.stdout.startswith("unit (0, 0) of row 2 (adaptiveavgpool o1): 64 input pixels reached\n")
    single = invoke("draw", "-i", "8", "--unit", "0,0", "--no-color", "conv k1")
    assert single.stdout.startswith("unit (0, 0) of row 1 (conv k1): 1 input pixel reached\n")
    assert "1 input pixel reached<" in invoke("draw", "-i", "8", "--unit", "0,0", "-o", "-", "conv k1").stdout


@pytest.mark.parametrize("stack, message", [
    # A non-square expect was left to the rules of any size: the token layer after it went unchecked
    # (calc -q exited 70), and a conv it starved was called valid.
    ("expect o4x1, attn h2", "layer 2: attn works on a sequence of tokens, but it gets a 4×1 map: make the map a "
                             "sequence with 'tokens' first"),
    ("conv k3, expect o6x5, cls", "layer 3: cls works on a sequence of tokens, but it gets a 6×5 map: make the map "
                                  "a sequence with 'tokens' first"),
    ("expect o4x1, conv k3", "layer 2: on W: the padded input (1 + 0 + 0 = 1) is smaller than the kernel 3"),
    # A square one named the expect row with an output of 0, not the row that fails at its size.
    ("expect o4, attn h2", "layer 2: attn works on a sequence of tokens, but it gets a 4×4 map: make the map a "
                           "sequence with 'tokens' first"),
    ("expect o2, conv k3", "layer 2: on H and W: the padded input (2 + 0 + 0 = 2) is smaller than the kernel 3"),
])
def test_a_stack_that_fails_at_the_only_size_its_expect_takes_says_where(stack, message):
    """Found by bench/fuzz.py ('expect o4x1, sigmoid x3, sigmoid x2, @a, attn h2147483648 nobias x2')."""
    quiet = invoke("calc", "-q", stack)
    assert quiet.exit_code == 1 and quiet.stderr.endswith(f"convshape: {message}\n")
    fitted = invoke("fit", stack)
    assert fitted.exit_code == 1 and f"no input size works: {message}" in fitted.stdout


def test_a_non_square_expect_gives_each_axis_its_one_size():
    result = invoke("fit", "expect o4x1, conv k1")
    assert result.exit_code == 0
    assert "H = 4 only" in result.stdout and "W = 1 only" in result.stdout


def test_a_rule_of_more_residue_classes_than_listed_is_refused_before_they_are_listed():
    """Found by bench/fuzz.py: after a pixel shuffle of 10^15, one residue of the pool's input let
    10^15 of its output's through, listed one by one (no end) before the count was checked."""
    result = invoke("calc", "--convention", "tf",
                    "@a, repeat 1 @b pixelshuffle s10 pixelshuffle s1000000000000000 end, avgpool k10 x50, relu6, @a, @x")
    assert result.exit_code == 1
    assert result.stderr.startswith("convshape: 'pixelshuffle s1000000000000000': the sizes that are clean on H from "
                                    "it on fall in more than 300,000 classes modulo ")


def test_an_expect_no_input_reaches_is_no_list_of_candidates():
    """Found by bench/fuzz.py, on this stop's per-axis candidates: after a pool to 4, an expect of
    10^15 on H has no candidate, and listing the other axes' against none ran out of memory."""
    stack = "@a, normalize in3, patchmerge in4, adaptiveavgpool o4, relu, expect o1000000000000000x4, normalize in4"
    quiet = invoke("calc", "-q", stack)
    assert quiet.exit_code == 1 and quiet.stderr.endswith(
        "convshape: layer 5: the model takes only 1000000000000000×4, and gets 4×4: torchvision's ViT fails with "
        "'Wrong image height! Expected 1000000000000000 but got 4!'\n")
    assert "internal error" not in invoke("fit", "-c", "1", stack).stderr


def test_a_probe_below_a_layer_s_minimum_is_made_again_above_it():
    """Found by bench/fuzz.py: a kernel of 2^31 dilated by 10^15 needs more than the probe's 2^64,
    so the probe stopped there, the token layer after it went unchecked and calc -q exited 70."""
    result = invoke("calc", "-q", "--convention", "onnx", "@a, conv k2147483648 d1000000000000000x1000000000000000x4 "
                    "dw nobias in2147483648, from a posembed n2147483648 in2147483648, @b")
    assert result.exit_code == 1
    assert result.stderr.endswith("convshape: layer 2: posembed works on a sequence of tokens, but it gets a D×H×W "
                                  "map: make the map a sequence with 'tokens' first\n")


@pytest.mark.parametrize("stack, convention, modulus", [
    ("@a, lrelu x3, layerscale, repeat 1 @a bn pixelunshuffle s125 x50 end, from a pad p1 x50, layerscale in1, "
     "channelshuffle g1, @a", "tf", 125 ** 50),
    ("@a, repeat 1 @a avgpool k10 x50 maxpool k1 end, from a avgpool k1 x50, repeat 1 @x avgpool k10 x2 maxpool k1 "
     "end, @a, @a, @a", "torch", 10 ** 50),
])
def test_two_rules_of_long_periods_meet_by_their_residues(stack, convention, modulus):
    """Found by bench/fuzz.py: where two branches' rules met, the sizes of one over the other's
    period were walked one by one (125^50 of them, without end) although the other had a single
    residue: the Chinese remainder theorem over its residues is now taken when it is the shorter."""
    result = invoke("calc", "--convention", convention, stack)
    assert result.exit_code == 0
    for axis in "HW":
        assert f"clean (no floor rounding): {axis} ≡ 0 (mod {modulus}), {axis} ≥ {modulus}" in result.stdout
