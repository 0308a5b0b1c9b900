"""What a network costs, as a user sees it: the params and MACs columns, the totals under
the table, JSON and CSV, and the options that change them. The numbers here are worked out
by hand from the frameworks' rules; tests/golden checks the same rules against torch,
torchinfo and Keras on thousands of stacks and the whole example networks."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convshape.cli import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SMALL = ["conv", "k3", "p1", "c16", "bn", "relu", "gap", "flatten", "linear", "c10"]


def invoke(*args):
    return runner.invoke(app, list(args))


def data(*args):
    result = invoke(*args, "--format", "json")
    assert result.exit_code in (0, 1), result.stdout
    return json.loads(result.stdout)


def test_each_row_has_its_params_and_macs_and_the_totals_follow():
    # conv: 3·16·9 weights + 16 biases = 448; MACs 32·32 positions · 9 · 3 · 16 = 442,368.
    # bn: 16 scales and 16 shifts; its running mean and variance and the batch counter are buffers.
    # linear: 16·10 + 10 = 170 params, 160 MACs (FlopCounterMode counts no bias).
    result = invoke("calc", "-i", "32", "-c", "3", *SMALL)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert "┃ params ┃  MACs ┃" in lines[1]
    assert "│    448 │ 442 K │" in lines[3] and "│     32 │     0 │" in lines[4] and "│      0 │     0 │" in lines[5]
    assert "│    170 │   160 │" in lines[8]
    assert lines[-3:] == [
        "params: 650, and 33 in buffers",
        "MACs: 442,528 (443 K): torch's FlopCounterMode count, halved; batch 1",
        "memory, float32, batch 1: params 2.60 kB, outputs 197 kB, inference peak 131 kB",
    ]


def test_json_counts_are_exact_integers():
    got = data("calc", "-i", "32", "-c", "3", *SMALL)
    rows = got["layers"]
    assert [(r["kind"], r["params"], r["buffers"], r["macs"]) for r in rows] == [
        ("conv", 448, 0, 442368), ("bn", 32, 33, 0), ("relu", 0, 0, 0), ("gap", 0, 0, 0), ("flatten", 0, 0, 0),
        ("linear", 170, 0, 160)]
    # Outputs in float32: 16·32·32·4 bytes for the conv, bn and relu; 16·4 after gap and flatten; 10·4.
    assert [r["output_bytes"] for r in rows] == [65536, 65536, 65536, 64, 64, 40]
    assert got["counting"] == {"macs": "torch", "batch": 1, "dtype": "float32"}
    assert got["totals"] == {"params": 650, "buffers": 33, "macs": 442528, "bytes": {
        "params": 2600, "buffers": 33 * 4 - 4 + 8, "input": 3 * 32 * 32 * 4, "outputs": 3 * 65536 + 64 + 64 + 40,
        # The most alive at once: the bn's input and output (the image is freed after the conv).
        "inference_peak": 2 * 65536,
        # torchinfo: the input, the parameters, and twice the outputs of rows with parameters.
        "torchinfo_total": 12288 + 2600 + 2 * (65536 + 65536 + 40)}}


def test_batch_and_dtype_scale_macs_and_memory():
    got = data("calc", "-i", "32", "-c", "3", *SMALL, "--batch", "64", "--dtype", "bfloat16")
    totals = got["totals"]
    assert totals["macs"] == 64 * 442528 and totals["params"] == 650  # parameters do not grow with the batch
    assert totals["bytes"]["outputs"] == 64 * 2 * (3 * 16384 + 16 + 16 + 10)
    assert totals["bytes"]["params"] == 2 * 650
    assert data("calc", "-i", "32", "-c", "3", *SMALL, "--dtype", "int8")["totals"]["bytes"]["params"] == 650
    assert data("calc", "-i", "32", "-c", "3", *SMALL, "--dtype", "float16")["totals"]["bytes"]["input"] == 2 * 3072


def test_torchinfo_counts_the_bias_and_a_transposed_conv_over_its_outputs():
    # convt k2 s2 from 64 to 32 channels on 8x8: 64·32·4 + 32 = 8,224 params.
    # torch: 8·8 input positions · 4 · 64 · 32 = 524,288; torchinfo: 8,224 · 16·16 outputs = 2,105,344.
    stack = ["convt", "k2", "s2", "c32"]
    assert data("calc", "-i", "8", "-c", "64", *stack)["totals"]["macs"] == 524288
    assert data("calc", "-i", "8", "-c", "64", *stack, "--macs", "torchinfo")["totals"]["macs"] == 2105344
    # A norm is counted once per image by torchinfo: its parameters.
    rows = data("calc", "-i", "32", "-c", "3", *SMALL, "--macs", "torchinfo")["layers"]
    assert [r["macs"] for r in rows] == [448 * 1024, 32, 0, 0, 0, 170]


def test_torchinfo_counts_no_mult_adds_for_a_layer_scale():
    # ConvNeXt's layer scale is a parameter of its block, not a module: torchinfo's leaves never see it.
    rows = data("calc", "-i", "8", "-c", "4", "layerscale", "ln", "--macs", "torchinfo")["layers"]
    assert [(r["params"], r["macs"]) for r in rows] == [(4, 0), (8, 8)]


@pytest.mark.parametrize("value, text", [
    (999, "999"), (1000, "1.00 K"), (1005, "1.00 K"), (1015, "1.02 K"),  # half to even, at the half
    (9995, "10.0 K"), (99_949, "99.9 K"), (999_499, "999 K"), (999_500, "1.00 M"), (25_557_032, "25.6 M"),
])
def test_readable_counts_keep_three_digits(value, text):
    from convshape.render.common import readable

    assert readable(value) == text and readable(value, "B") == text.replace(" K", " k") + ("B" if value >= 1000 else " B")


def test_fit_keeps_instance_norm_off_a_single_pixel():
    assert invoke("fit", "--dims", "1", "-c", "2", "-q", "conv", "k3", "in").stdout == "4\n"  # 2 pixels after k3
    assert invoke("fit", "--dims", "1", "-c", "2", "-q", "conv", "k3", "in", "--convention", "tf").stdout == "3\n"


def test_flops_are_twice_the_macs():
    result = invoke("calc", "-i", "32", "-c", "3", *SMALL, "--flops")
    assert "┃ FLOPs ┃" in result.stdout.splitlines()[1]
    assert "FLOPs: 885,056 (885 K): torch's FlopCounterMode count; batch 1" in result.stdout
    info = invoke("calc", "-i", "32", "-c", "3", *SMALL, "--flops", "--macs", "torchinfo").stdout
    assert f"FLOPs: {2 * (448 * 1024 + 32 + 170):,} (918 K): torchinfo's mult-adds, doubled; batch 1" in info
    got = data("calc", "-i", "32", "-c", "3", *SMALL, "--flops")
    assert got["layers"][0]["flops"] == 2 * 442368 and got["totals"]["flops"] == 2 * 442528
    assert "flops" not in data("calc", "-i", "32", "-c", "3", *SMALL)["layers"][0]


def test_a_skip_connection_stays_in_memory_until_its_merge():
    # 1x8x8 in (256 B); conv to 4x8x8 (1,024 B), kept for the cat; pool 4x4x4 (256 B); up (1,024 B);
    # cat 8x8x8 (2,048 B). At the cat: the skip, the upsampled map and the cat's output.
    skip = data("calc", "-i", "8", "-c", "1", "conv", "k3", "p1", "c4", "@s", "maxpool", "k2", "up", "cat", "s")
    assert skip["totals"]["bytes"]["inference_peak"] == 1024 + 1024 + 2048
    # The same layers with no skip: at most a row's input and output are alive.
    chain = data("calc", "-i", "8", "-c", "1", "conv", "k3", "p1", "c4", "maxpool", "k2", "up", "conv", "k1", "c8")
    assert chain["totals"]["bytes"]["inference_peak"] == 1024 + 2048


def test_outputs_no_row_reads_stay_to_the_end():
    # @a (4x8x8, 1,024 B) is an output nothing reads: still alive when row 3 (1x8x8, 256 B) runs
    # on row 2's output (8x8x8, 2,048 B). Unbound, it would be freed after row 2.
    stack = ["conv", "k3", "p1", "c4", "@a", "conv", "k3", "p1", "c8", "conv", "k1", "c1"]
    assert data("calc", "-i", "8", "-c", "1", *stack)["totals"]["bytes"]["inference_peak"] == 1024 + 2048 + 256
    chain = [word for word in stack if word != "@a"]
    assert data("calc", "-i", "8", "-c", "1", *chain)["totals"]["bytes"]["inference_peak"] == 1024 + 2048


def test_without_channels_the_counts_are_unknown_and_the_table_leaves_them_out():
    got = data("calc", "-i", "32", *SMALL)
    assert got["layers"][0]["params"] is None and got["layers"][2]["params"] == 0
    assert got["totals"] is None
    table = invoke("calc", "-i", "32", *SMALL).stdout
    assert "params" not in table and "MACs" not in table
    asked = invoke("calc", "-i", "32", *SMALL, "--columns", "layer,out,params").stdout
    assert "params, MACs and memory need the input channels: give them with -c (as -c 3 for RGB)" in asked
    assert "params: " not in asked


def test_an_invalid_stack_has_no_totals():
    got = data("calc", "-i", "4", "-c", "3", "conv", "k3", "c8", "conv", "k5", "linear", "c10")
    assert got["totals"] is None and got["layers"][0]["params"] == 3 * 8 * 9 + 8 and got["layers"][1]["params"] is None
    assert "params:" not in invoke("calc", "-i", "4", "-c", "3", "conv", "k3", "c8", "conv", "k5").stdout


def test_columns_and_compact_choose_what_the_table_shows():
    result = invoke("calc", "-i", "32", "-c", "3", *SMALL, "--columns", "layer,out,params,memory")
    header = result.stdout.splitlines()[1]
    assert [cell.strip() for cell in header.split("┃")[1:-1]] == ["layer", "out", "params", "out mem"]
    assert "│ conv k3 p1 c16 │    16×32×32 │    448 │ 65.5 kB │" in result.stdout
    compact = invoke("calc", "-i", "32", "-c", "3", *SMALL, "--compact").stdout
    assert "│ bn " not in compact and "│ relu " not in compact and "│ 1 │ conv k3 p1 c16 " in compact
    assert "params: 650, and 33 in buffers" in compact  # hidden rows still count


def test_csv_ends_with_the_counts():
    lines = invoke("calc", "-i", "32", "-c", "3", *SMALL, "--format", "csv").stdout.splitlines()
    assert lines[0].endswith(",rf_min_size,params,buffers,macs,output_bytes")
    assert lines[1].endswith(",448,0,442368,65536") and lines[2].endswith(",32,33,0,65536")


@pytest.mark.parametrize("stack, params", [
    ("conv k3 c64 nobias", 3 * 64 * 9),
    ("conv k3 dw", 3 * 9 + 3),  # groups = 3 input channels: one 3x3 filter each
    ("conv k3 dw c6 nobias", 6 * 9),  # a depth multiplier of 2
    ("conv k3 g3 c6", 6 * 9 + 6),
    ("convt k4 s2 p1 c8 nobias", 3 * 8 * 16),
    ("flatten, linear c10 nobias", 3 * 64 * 10),
    ("ln", 6), ("gn g3", 6), ("in", 0), ("layerscale", 3), ("relu, gelu, silu, dropout", 0),
])
def test_params_of_each_kind(stack, params):
    got = data("calc", "-i", "8", "-c", "3", *stack.split())
    assert got["totals"]["params"] == params


def test_under_tf_batchnorm_keeps_two_statistics_and_no_counter():
    torch_bn = data("calc", "-i", "8", "-c", "4", "bn")["totals"]
    tf_bn = data("calc", "-i", "8", "-c", "4", "bn", "--convention", "tf")["totals"]
    assert (torch_bn["params"], torch_bn["buffers"]) == (8, 9) and (tf_bn["params"], tf_bn["buffers"]) == (8, 8)
    assert torch_bn["bytes"]["buffers"] == 8 * 4 + 8 and tf_bn["bytes"]["buffers"] == 8 * 4


@pytest.mark.parametrize("stack, channels, code", [
    ("gap gn g2", 4, None),  # two values per group: torch runs it
    ("gap gn g2", 2, "norm_single_value"),
    ("conv k7 in", 3, None),  # a 2x2 map
    ("conv k8 in", 3, "norm_single_value"),
    ("conv k3 dw c12", 6, None),
    ("conv k3 dw c9", 6, "depthwise_channels"),
    ("gn g4", 6, "groups_mismatch"),
    ("flatten in", 3, "spatial_after_flatten"),
])
def test_what_torch_refuses_of_norms_and_depthwise_convs(stack, channels, code):
    result = invoke("calc", "-i", "8", "-c", str(channels), *stack.split(), "-q")
    assert result.exit_code == (0 if code is None else 1)
    got = data("calc", "-i", "8", "-c", str(channels), *stack.split())
    errors = [row["error"]["code"] for row in got["layers"] if row["error"]]
    assert errors == ([] if code is None else [code])


def test_keras_has_no_single_value_check():
    assert invoke("calc", "-i", "8", "-c", "2", "gap", "gn", "g2", "--convention", "tf", "-q").exit_code == 0


@pytest.mark.parametrize("words, message", [
    ("conv k3 dw g2", "dw sets the groups to the input channels: give dw or g, not both"),
    ("maxpool k2 nobias", "maxpool does not take 'nobias' (no bias is for conv, convt, linear, attn, wattn)"),
    ("bn k3", "bn does not take 'k3'"),
    ("gn", "gn needs its number of groups, such as g32"),
    ("@in conv k3", "'in' is a layer kind (instance normalization"),
])
def test_wrong_tokens_are_parse_errors(words, message):
    result = invoke("calc", "-i", "8", *words.split())
    assert result.exit_code == 2 and message in result.stderr


def test_resnet50_at_224_as_torch_counts_it():
    # torchvision's resnet50: sum(p.numel()) = 25,557,032; FlopCounterMode: 8,178,368,512 FLOPs.
    result = invoke("calc", "-i", "224", "-c", "3", "-f", str(EXAMPLES / "resnet50.stack"), "--batch", "64",
                    "--dtype", "bfloat16")
    assert "params: 25,557,032 (25.6 M), and 53,173 in buffers" in result.stdout
    assert f"MACs: {64 * 8178368512 // 2:,} (262 G): torch's FlopCounterMode count, halved; batch 64" in result.stdout


def _evaluate(formula, sizes):
    """A formula as convshape writes it (⌊(H − 1)/2⌋·W + 10), at given sizes."""
    python = formula.replace("⌊", "(").replace("⌋", ")").replace("/", "//").replace("−", "-").replace("·", "*")
    return eval(python, {}, dict(sizes))  # noqa: S307  (our own formula text, in a test)


def test_counts_without_an_input_size_agree_with_calc_at_every_size():
    import random
    import sys

    sys.path.insert(0, str(ROOT / "tests" / "golden"))
    import torch_golden  # drawing only

    from convshape.calc import run
    from convshape.counts import count, symbolic_costs
    from convshape.grammar import parse_stack
    from convshape.symbolic import symbolic_calc

    rng, compared, formulas = random.Random(12), 0, 0
    for _ in range(300):
        case = torch_golden.draw_case(rng)
        if case["dims"] == 3:
            continue
        stack = parse_stack(case["stack"], dims=case["dims"])
        symbolic = symbolic_calc(stack, channels=case["channels"])
        if not symbolic.valid:
            continue
        costs = symbolic_costs(symbolic)
        names = symbolic.axes
        for size in range(max(rule.minimum_valid for rule in symbolic.fit.rules), 40, 3):
            result = run(stack, (size,) * case["dims"], case["channels"])
            if not result.valid:
                continue
            for row, cost, (params, macs) in zip(result.rows, count(result).rows, costs):
                for ours, theirs in ((params, cost.params), (macs, cost.macs)):
                    if ours is None:
                        continue
                    formulas += isinstance(ours, str)
                    value = _evaluate(ours, {name: size for name in names}) if isinstance(ours, str) else ours
                    assert value == theirs, (case["stack"], size, row.index, ours)
                    compared += 1
    assert compared > 2000 and formulas > 500


def test_without_an_input_size_params_are_numbers_and_macs_formulas():
    # conv: 3·8·9 + 8 = 224 params; MACs 9·3·8 = 216 per output position.
    # convt k2 s2 to 4: 8·4·4 + 4 = 132 params; MACs over its input positions, 4·4·8 = 128 each.
    result = invoke("calc", "-c", "3", "conv", "k3", "s2", "c8", "convt", "k2", "s2", "c4", "flatten", "linear", "c10")
    lines = result.stdout.splitlines()
    assert "┃ params " in lines[1] and "┃ MACs " in lines[1]
    assert "│ 224 " in lines[3] and "│ 216·⌊(H − 1)/2⌋·⌊(W − 1)/2⌋ │" in lines[3]
    assert "│ 132 " in lines[4] and "│ 128·⌊(H − 1)/2⌋·⌊(W − 1)/2⌋ │" in lines[4]
    # The linear layer reads 4·2⌊(H − 1)/2⌋·2⌊(W − 1)/2⌋ features: its weights depend on the size.
    assert "│ 160·⌊(H − 1)/2⌋·⌊(W − 1)/2⌋ + 10 │ 160·⌊(H − 1)/2⌋·⌊(W − 1)/2⌋ │" in lines[6]
    assert "params: " not in result.stdout  # no total: it depends on the size
    got = data("calc", "-c", "3", "conv", "k3", "s2", "c8", "gap", "flatten", "linear", "c10")
    assert [(r["params"], r["macs"]) for r in got["layers"]] == [(224, "216·⌊(H − 1)/2⌋·⌊(W − 1)/2⌋"), (0, 0), (0, 0),
                                                                  (90, 80)]
    fixed = invoke("calc", "-c", "3", "conv", "k3", "s2", "c8", "gap", "flatten", "linear", "c10").stdout
    assert "params: 314, whatever the input size" in fixed
    assert "params" not in invoke("calc", "conv", "k3", "s2", "c8").stdout  # no channels, no counts


@pytest.mark.parametrize("channels, classes, line", [
    ("110", "c9", "params: 999"),  # 110·9 + 9
    ("99", "c10", "params: 1,000 (1.00 K)"),  # 99·10 + 10: from 1,000 on, in units too
])
def test_totals_give_units_from_a_thousand(channels, classes, line):
    out = invoke("calc", "-i", "1", "-c", channels, "flatten", "linear", classes).stdout
    assert line + "\n" in out


def test_explain_writes_each_count_out():
    out = invoke("calc", "-i", "8", "-c", "3", "conv", "k3", "c6", "dw", "bn", "relu", "convt", "k2", "s2", "c2", "nobias",
                 "flatten", "linear", "c10", "layerscale", "--explain", "--batch", "2").stdout
    for line in [
        "params 6·1·3·3 + 6 = 60",  # depthwise: one input channel per group
        "MACs 6·6 positions · 3·3 · 1 · 6 · batch 2 = 3,888",
        "params 2·6 = 12, a scale and a shift per channel; buffers 2·6 + 1 = 13",
        "keeps the shape; no parameters",
        "params 6·2·2·2 = 48",  # nobias
        "MACs 6·6 input positions · 2·2 · 2 · 6 · batch 2 = 3,456",  # a transposed conv: over its input
        "params 288·10 + 10 = 2,890",
        "MACs 288·10 · batch 2 = 5,760",
        "params 10, one per channel",
    ]:
        assert f"│ {line} " in out, line
