"""`convshape export`: a checked stack as PyTorch or Keras code.

The CLI tests pin what a user reads. The round trips (where torch or Keras is installed)
execute the exported code for every valid case of the golden files, which torch and Keras
themselves recorded, and compare each row's shape, parameters and receptive field.
"""

import json
import re
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import ROOT, have
from convshape.cli import app

runner = CliRunner()
GOLDEN = Path(__file__).parent / "golden"


def invoke(*args):
    return runner.invoke(app, ["export", *args])


# ----------------------------------------------------------------------------- what a user reads


def test_a_chain_is_an_nn_sequential_with_the_channels_written_in():
    result = invoke("--to", "torch", "-i", "224", "-c", "3", "conv k7 s2 p3 c64 nobias, bn, relu, maxpool k3 s2 p1,"
                    " gap, flatten, linear c1000")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "model = nn.Sequential(" in lines
    assert "    nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False),  # 1: conv k7 s2 p3 c64 nobias" \
           " -> 64×112×112" in lines
    assert "    nn.BatchNorm2d(64),  # 2: bn -> 64×112×112" in lines
    assert "    nn.MaxPool2d(3, stride=2, padding=1),  # 4: maxpool k3 s2 p1 -> 64×56×56" in lines
    assert "    nn.AdaptiveAvgPool2d(1),  # 5: gap -> 64×1×1" in lines
    assert "    nn.Linear(64, 1000),  # 7: linear c1000 -> 1000" in lines
    assert "        print(tuple(model(torch.zeros(1, 3, 224, 224)).shape))" in lines
    compile(result.stdout, "exported.py", "exec")


def test_a_graph_is_a_module_whose_forward_wires_the_merges():
    result = invoke("--to", "torch", "-i", "56", "-c", "64",
                    "@x conv k3 p1 c64 nobias, bn, relu, conv k3 p1 c64 nobias, bn, add x, relu")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "class Net(nn.Module):" in text
    assert "    def forward(self, x):" in text
    assert "        t6 = x + t5  # 6: add x -> 64×56×56" in text
    assert "        return t7" in text
    assert "model = Net()" in text


def test_crop_merges_get_a_helper_and_uneven_padding_an_explicit_pad():
    result = invoke("--to", "torch", "-i", "16", "-c", "1", "@a conv k3 p0:1 c4, cat a crop")
    assert result.exit_code == 0, result.output
    assert "nn.Sequential(nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(1, 4, kernel_size=3))" in result.stdout
    assert "def crop_to_smallest(*tensors):" in result.stdout
    assert "t2 = crop_to_smallest(a, t1)" in result.stdout
    assert "t2 = torch.cat([t2[0], t2[1]], dim=1)  # 2: cat a crop -> 5×15×15" in result.stdout


def test_without_an_input_size_the_comments_are_formulas_and_unknown_channels_lazy():
    result = invoke("--to", "torch", "conv k3 s2 c8, relu")
    assert result.exit_code == 0, result.output
    assert "nn.LazyConv2d(8, kernel_size=3, stride=2),  # 1: conv k3 s2 c8 -> 8 × ⌊(H − 1)/2⌋ × ⌊(W − 1)/2⌋" \
        in result.stdout
    assert "row 1: nn.LazyConv2d will take its input size from the first forward: give -c" in result.stderr


def test_an_invalid_stack_is_refused_unless_forced():
    result = invoke("--to", "torch", "-i", "4", "-c", "3", "conv k5 c8")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "layer 1 (conv k5 c8): " in result.stderr
    assert "nothing written (--force writes it anyway)" in result.stderr
    forced = invoke("--to", "torch", "-i", "4", "-c", "3", "--force", "conv k5 c8")
    assert forced.exit_code == 0
    assert "nn.Conv2d(3, 8, kernel_size=5)" in forced.stdout


def test_a_forced_export_says_which_layer_leaves_the_rows_after_it_unknown():
    """-c and -i given, a layer that cannot run: "give -c" would be no help."""
    stop = "layer 1 (conv k5 c8) cannot run at this input size, and no row from it on is computed"
    torch = invoke("--to", "torch", "-i", "4", "-c", "3", "--force", "conv k5 c8, bn, linear c10")
    assert torch.exit_code == 0
    assert f"row 2: nn.LazyBatchNorm2d will take its input size from the first forward: {stop}\n" in torch.stderr
    assert f"row 3: nn.LazyLinear will take its input size from the first forward: {stop}\n" in torch.stderr
    keras = invoke("--to", "keras", "-i", "4", "-c", "3", "--force", "conv k5 c8, tokens")
    assert (keras.exit_code, keras.stdout) == (1, "")
    assert keras.stderr == f"convshape: cannot export to keras: row 2 (tokens): its channels are unknown: {stop}\n"
    # without -i: a layer that fails at every size; the rows after it are not taken for flat
    formulas = invoke("--to", "torch", "-c", "3", "--force", "conv k3 c8, gap, conv k3 c4, bn")
    assert "nn.Conv2d(8, 4, kernel_size=3),  # 3: conv k3 c4 -> ?" in formulas.stdout
    assert "nn.LazyBatchNorm2d(),  # 4: bn -> ?" in formulas.stdout
    assert ("row 4: nn.LazyBatchNorm2d will take its input size from the first forward: layer 3 (conv k3 c4) "
            "cannot run at any input size, and no row from it on is computed\n") in formulas.stderr


def test_a_forced_export_of_tokens_without_an_input_size():
    """No rule says which sizes a sequence runs at: the self-test runs at 32 × 32, and a width
    past the tokens asks for -i, not for the -c that was given."""
    tokens = invoke("--to", "torch", "-c", "3", "--force", "conv k16 s16 c64, tokens")
    assert tokens.exit_code == 0
    assert "print(tuple(model(torch.zeros(1, 3, 32, 32)).shape))" in tokens.stdout
    keras = invoke("--to", "keras", "-c", "3", "--force", "conv k16 s16 c64, tokens, attn h4")
    assert keras.stderr == ("convshape: cannot export to keras: row 2 (tokens): its channels are unknown: without -i, "
                            "no row from layer 2 (tokens) on is computed (a sequence of tokens): give -i\n")
    width = invoke("--to", "torch", "-c", "3", "--force", "conv k16 s16 c64, tokens, ln")
    assert width.stderr.endswith("row 3 (ln): its channels are unknown: without -i, no row from layer 2 (tokens) on "
                                 "is computed (a sequence of tokens): give -i\n")
    plain = invoke("--to", "torch", "conv k3 c8, flatten, linear c10")
    assert ("row 3: nn.LazyLinear will take its input size from the first forward: give -c and -i (after a flatten "
            "the features depend on the input size) to write it\n") in plain.stderr
    assert "row 1: nn.LazyConv2d will take its input size from the first forward: give -c to write it\n" in plain.stderr


def test_a_stack_that_only_warns_is_written_and_the_warning_shown():
    result = invoke("--to", "torch", "-i", "7", "-c", "1", "conv k2 s2 c4")
    assert result.exit_code == 0
    assert "nn.Conv2d(1, 4, kernel_size=2, stride=2)" in result.stdout
    assert "warning: layer 1 (conv k2 s2 c4): " in result.stderr


@pytest.mark.parametrize("stack, construct", [
    ("maxpool k3 s2 ceil", "ceil mode"),
    ("adaptiveavgpool o7", "adaptive pooling"),
    ("up s1.5", "fractional upsampling"),
    ("conv k3 c8, layerscale", "layer scale"),
])
def test_what_keras_cannot_express_stops_the_export_with_the_row_named(stack, construct):
    result = invoke("--to", "keras", "-i", "32", "-c", "3", "--force", stack)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "cannot export to keras: row " in result.stderr
    assert construct in result.stderr


def test_keras_code_is_the_functional_api_channels_last():
    result = invoke("--to", "keras", "-i", "32", "-c", "3", "conv k3 s2 psame c16 nobias, bn, relu @a,"
                    " conv k3 p0:1 c16 dw, add a crop, gap, flatten, linear c10")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "inputs = keras.Input(shape=(32, 32, 3))" in text
    assert "t1 = layers.Conv2D(16, 3, strides=2, padding='same', use_bias=False)(inputs)" in text
    assert "t4 = layers.Conv2D(16, 3, groups=16)(layers.ZeroPadding2D(((0, 1), (0, 1)))(a))" in text
    assert "t5_0 = layers.Cropping2D(((0, 1), (0, 1)))(a)" in text
    assert "t5 = layers.Add()([t5_0, t4])  # 5: add a crop -> 16×15×15" in text
    assert "model = keras.Model(inputs, t8)" in text


@pytest.mark.parametrize("args, message", [
    (["--to", "keras", "--convention", "torch", "-c", "3", "conv k3"], "--convention torch cannot be exported"),
    (["--to", "keras", "conv k3 c8"], "give -c"),
    (["--to", "onnx", "conv k3"], "'onnx' is not one of"),
    (["-c", "3", "conv k3"], "--to is required"),
    (["--to", "keras", "-c", "3", "@a conv k3 c3, add a crop"], "give -i"),
])
def test_wrong_export_requests_are_named(args, message):
    result = invoke(*args)
    assert result.exit_code in (1, 2)
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_export_writes_to_a_file_with_o(tmp_path):
    target = tmp_path / "model.py"
    result = invoke("--to", "torch", "-i", "8", "-c", "1", "-o", str(target), "conv k3 c2")
    assert result.exit_code == 0 and result.stdout == ""
    assert "nn.Conv2d(1, 2, kernel_size=3)" in target.read_text()
    missing = invoke("--to", "torch", "-c", "1", "-o", str(tmp_path / "no" / "such.py"), "conv k3 c2")
    assert missing.exit_code == 1
    assert "cannot write" in missing.stderr


# ----------------------------------------------------------------------------- round trips through torch

def _cases(name: str):
    return [case for case in json.loads((GOLDEN / name).read_text())["cases"] if case["error"] is None]


def _exported(case: dict, to: str = "torch") -> str:
    result = invoke("--to", to, "-i", case["input"], "-c", str(case["channels"]), "--dims", str(case["dims"]),
                    case["stack"])
    assert result.exit_code == 0, (case["stack"], result.stderr)
    return result.stdout


_ROW = re.compile(r"^\s+(\w+) = .*  # (\d+): ")


def _torch_rows(code: str, size: list[int], channels: int, for_field: bool = False):
    """Run the exported module on ones; per row, its output tensor (and the input, for fields)."""
    import torch

    namespace: dict = {"__name__": "exported"}
    exec(compile(code, "exported.py", "exec"), namespace)
    model = namespace["model"].double()
    if for_field:
        _for_field(model, namespace)
    model.eval()
    x = torch.ones(1, channels, *size, dtype=torch.float64, requires_grad=for_field)
    outputs = {}
    if isinstance(model, torch.nn.Sequential):
        for position, module in enumerate(model):
            module.register_forward_hook(lambda m, i, o, row=position + 1: outputs.__setitem__(row, o))
        model(x)
    else:  # the forward's local variables, named on the lines of the code a user reads
        rows = {int(m.group(2)): m.group(1) for m in map(_ROW.match, code.split("    def forward(self")[-1].splitlines())
                if m}
        seen = {}

        def profile(frame, event, arg):
            if event == "return" and frame.f_code.co_name == "forward" and frame.f_locals.get("self") is model:
                seen.update(frame.f_locals)

        sys.setprofile(profile)
        try:
            model(x)
        finally:
            sys.setprofile(None)
        outputs = {row: seen[name] for row, name in rows.items()}
    return x, outputs


KEEPING = re.compile(r"(BatchNorm|InstanceNorm)[123]d|\w*LayerNorm|GroupNorm|LayerScale|ReLU6?|GELU|SiLU|Sigmoid|Tanh"
                     r"|Hardswish|LeakyReLU|Dropout")


def _for_field(model, namespace) -> None:
    """All-one weights, and what spreads a gradient over the whole window in place of what does not."""
    import torch
    from torch import nn

    with torch.no_grad():
        for parameter in model.parameters():
            parameter.fill_(1.0)
    for name, module in list(model.named_modules()):
        replacement = None
        if isinstance(module, (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)):
            dims = int(type(module).__name__[-2])
            replacement = getattr(nn, f"AvgPool{dims}d")(module.kernel_size, module.stride, module.padding,
                                                         module.ceil_mode)
        elif isinstance(module, (nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d)):
            replacement = getattr(nn, type(module).__name__.replace("Max", "Avg"))(module.output_size)
        elif KEEPING.fullmatch(type(module).__name__):  # as the golden: fields leave norms and activations out
            replacement = nn.Identity()
        if replacement is not None:
            parent, _, attribute = name.rpartition(".")
            setattr(model.get_submodule(parent) if parent else model, attribute, replacement.double())


def _size(case: dict) -> list[int]:
    size = [int(v) for v in case["input"].split("x")]
    return size * case["dims"] if len(size) == 1 else size


def _params(module) -> int:
    return sum(p.numel() for p in module.parameters())


GRAPH_CASES = _cases("graph_cases.json")
CHAIN_CASES = _cases("torch_cases.json")
needs_torch = pytest.mark.skipif(not have("torch"), reason="torch is not installed")


@needs_torch
@pytest.mark.parametrize("name, chunk", [(name, chunk) for name in ("graph_cases.json", "torch_cases.json")
                                         for chunk in range(4)])
def test_exported_torch_code_has_torch_s_own_shapes_and_parameters(name, chunk):
    import torch

    cases = _cases(name)[chunk::4]
    assert len(cases) > 100
    for case in cases:
        code = _exported(case)
        with torch.no_grad():
            _, outputs = _torch_rows(code, _size(case), case["channels"])
        shapes = [list(outputs[row].shape[1:]) for row in sorted(outputs)]
        assert shapes == case["shapes"], case["stack"]
        if "params" in case and "class Net" not in code:
            namespace: dict = {"__name__": "exported"}
            exec(compile(code, "exported.py", "exec"), namespace)
            assert [_params(module) for module in namespace["model"]] == case["params"], case["stack"]


@needs_torch
@pytest.mark.parametrize("chunk", range(4))
def test_exported_graphs_count_torch_s_parameters(chunk):
    for case in GRAPH_CASES[chunk::4]:
        code = _exported(case)
        namespace: dict = {"__name__": "exported"}
        exec(compile(code, "exported.py", "exec"), namespace)
        model = namespace["model"]
        total = _params(model)
        assert total == sum(case["params"]), case["stack"]


@needs_torch
@pytest.mark.parametrize("chunk", range(2))
def test_exported_graphs_have_torch_s_receptive_fields(chunk):
    """With all-one weights, the input pixels a unit's gradient reaches: the golden's measure."""
    checked = 0
    for case in GRAPH_CASES[chunk::6]:
        if " d" in case["stack"] and "maxpool" in case["stack"]:
            continue  # a dilated max pool has no average-pool twin
        code = _exported(case)
        x, outputs = _torch_rows(code, _size(case), case["channels"], for_field=True)
        for row, expected in enumerate(case["fields"], start=1):
            y = outputs[row]
            if expected is None or y.dim() != 2 + case["dims"]:
                continue
            for units in expected:
                x.grad = None
                unit = [u for u, _, _ in units]
                y[(0, slice(None), *unit)].sum().backward(retain_graph=True)
                grad = x.grad[0].abs().sum(0)
                for axis, (_, first, last) in enumerate(units):
                    other = tuple(a for a in range(case["dims"]) if a != axis)
                    line = grad.sum(other) if other else grad
                    nonzero = (line > 0).nonzero().flatten().tolist()
                    assert ([nonzero[0], nonzero[-1]] if nonzero else [None, None]) == [first, last], \
                        (case["stack"], row, unit)
                checked += 1
    assert checked > 100


EXAMPLES = {"resnet18": ("224", 3), "resnet50": ("224", 3), "unet": ("572", 1), "unet-padded": ("256", 1),
            "googlenet": ("224", 3), "densenet121": ("224", 3), "mobilenetv2": ("224", 3),
            "efficientnet-b0": ("224", 3), "convnext-tiny": ("224", 3), "vgg16": ("224", 3), "alexnet": ("224", 3),
            "shufflenet-v2": ("224", 3)}


@needs_torch
@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_example_exports_to_a_module_with_the_shapes_and_parameters_convshape_printed(name):
    import torch

    size, channels = EXAMPLES[name]
    path = str(ROOT / "examples" / f"{name}.stack")
    code = invoke("--to", "torch", "-i", size, "-c", str(channels), "-f", path)
    assert code.exit_code == 0, code.stderr
    calc = runner.invoke(app, ["calc", "-i", size, "-c", str(channels), "-f", path, "--format", "json"])
    rows = json.loads(calc.stdout)["layers"]
    with torch.no_grad():
        _, outputs = _torch_rows(code.stdout, [int(size)] * 2, channels)
    for row in rows:
        shape = list(outputs[row["index"]].shape[1:])
        expected = [row["features"]] if row["out_size"] is None else [row["out_channels"], *row["out_size"]]
        assert shape == expected, (name, row["index"], row["spec"])
    namespace: dict = {"__name__": "exported"}
    exec(compile(code.stdout, "exported.py", "exec"), namespace)
    assert _params(namespace["model"]) == json.loads(calc.stdout)["totals"]["params"]


# ----------------------------------------------------------------------------- round trips through Keras

needs_keras = pytest.mark.skipif(not (have("keras") and have("torch")), reason="keras (on torch) is not installed")


def _keras_shapes(code: str) -> dict:
    """Each row's Keras tensor shape, channels first, read from the variables the code names."""
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    namespace: dict = {"__name__": "exported"}
    exec(compile(code, "exported.py", "exec"), namespace)
    rows = {int(m.group(2)): m.group(1) for m in map(re.compile(r"^(\w+) = .*  # (\d+): ").match, code.splitlines())
            if m}
    shapes = {}
    for row, name in rows.items():
        shape = list(namespace[name].shape[1:])
        shapes[row] = shape if len(shape) == 1 else [shape[-1], *shape[:-1]]
    return shapes


@needs_keras
def test_a_crop_merge_reading_the_first_row_crops_that_row_s_output_in_keras():
    """Row 1 gives 10×10, row 2 8×8: the merge crops row 1's output (not the 12×12 input) by one a side."""
    stack = "conv k3 c4 @a, conv k3 c4, add a crop, cat a crop"
    result = invoke("--to", "keras", "-i", "12", "-c", "3", stack)
    assert result.exit_code == 0, result.output
    assert "layers.Cropping2D(((1, 1), (1, 1)))(a)" in result.stdout
    shapes = _keras_shapes(result.stdout)
    want = CliRunner().invoke(app, ["calc", "-i", "12", "-c", "3", "--format", "json", stack])
    rows = json.loads(want.stdout)["layers"]
    assert [shapes[row["index"]] for row in rows] == [[row["out_channels"], *row["out_size"]] for row in rows]


@needs_keras
@pytest.mark.parametrize("stack, printed", [
    ("conv k3 s2 c8, relu", "(1, 6, 6, 8)"),
    ("conv k3 c4 @a, conv k3 c4 @b, from a conv k1 c2", "[(1, 9, 9, 4), (1, 11, 11, 2)]"),
])
def test_the_exported_keras_file_run_as_a_script_prints_the_output_shapes(tmp_path, stack, printed):
    """`python model.py` builds the model and pushes zeros through it: Keras' own shapes, channels last."""
    import os
    import subprocess

    target = tmp_path / "model.py"
    result = invoke("--to", "keras", "-i", "13", "-c", "3", "-o", str(target), stack)
    assert result.exit_code == 0, result.output
    run = subprocess.run([sys.executable, str(target)], capture_output=True, text=True, cwd=tmp_path,
                         env={**os.environ, "KERAS_BACKEND": "torch", "HOME": str(tmp_path)})
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == printed


@needs_keras
@pytest.mark.parametrize("name", ["keras_cases.json", "keras_graph_cases.json"])
def test_exported_keras_code_has_keras_own_shapes(name):
    cases = _cases(name)
    checked = 0
    for case in cases:
        result = invoke("--to", "keras", "-i", case["input"], "-c", str(case["channels"]), "--dims",
                        str(case["dims"]), case["stack"])
        if result.exit_code == 1 and "cannot export to keras" in result.stderr:
            continue  # a construct Keras has no layer for (the golden wrote it by hand)
        assert result.exit_code == 0, (case["stack"], result.stderr)
        shapes = _keras_shapes(result.stdout)
        assert [shapes[row] for row in sorted(shapes)] == case["shapes"], case["stack"]
        checked += 1
    assert checked > 150


@needs_torch
def test_the_unet_exported_without_options_runs_with_the_shapes_convshape_gives():
    """The issue's own command: no -i (formulas in the comments) and no -c (the first conv is
    lazy); the module's self-test runs it at the smallest clean size."""
    import torch

    path = str(ROOT / "examples" / "unet.stack")
    code = invoke("--to", "torch", "-f", path)
    assert code.exit_code == 0 and "nn.LazyConv2d(64, kernel_size=3)" in code.stdout
    size = int(re.search(r"torch\.zeros\(1, 3, (\d+), \1\)", code.stdout).group(1))
    namespace: dict = {"__name__": "exported"}
    exec(compile(code.stdout, "exported.py", "exec"), namespace)
    with torch.no_grad():
        shape = list(namespace["model"](torch.zeros(1, 1, size, size)).shape[1:])
    calc = runner.invoke(app, ["calc", "-i", str(size), "-c", "1", "-f", path, "-q"])
    assert "x".join(map(str, shape)) == calc.stdout.strip()


def test_a_squeeze_and_excitation_gate_exports_to_keras_with_keepdims():
    result = invoke("--to", "keras", "-i", "8", "-c", "4", "@x gap keep, conv k1 c2, relu, conv k1 c4, sigmoid, mul x")
    assert result.exit_code == 0, result.stderr
    assert "t1 = layers.GlobalAveragePooling2D(keepdims=True)(inputs)" in result.stdout
    assert "# 6: mul x -> 4×8×8" in result.stdout
    if have("keras") and have("torch"):
        shapes = _keras_shapes(result.stdout)
        assert shapes[1] == [4, 1, 1] and shapes[6] == [4, 8, 8]


@needs_torch
@pytest.mark.parametrize("chunk", range(2))
def test_print_of_an_exported_model_imports_back_to_torch_s_shapes_and_parameters(chunk):
    """Stack → export → torch module → print(model) → import → calc: the chains of the torch
    golden, closing the loop through both directions. AvgPool's repr does not show ceil_mode
    (torch's extra_repr leaves it out): those cases are read as floor, and a note says so."""
    checked = 0
    for case in CHAIN_CASES[chunk::2]:
        namespace: dict = {"__name__": "exported"}
        exec(compile(_exported(case), "exported.py", "exec"), namespace)
        text = str(namespace["model"])
        result = runner.invoke(app, ["calc", "-i", case["input"], "-c", str(case["channels"]), "--dims",
                                     str(case["dims"]), "-f", "-", "--format", "json"], input=text)
        if "avgpool" in case["stack"] and " ceil" in case["stack"]:
            assert "does not show ceil_mode; read as floor" in result.stderr
            continue
        assert result.exit_code == 0, (case["stack"], result.stderr)
        data = json.loads(result.stdout)
        last = data["layers"][-1]
        shape = [last["features"]] if last["out_size"] is None else [last["out_channels"], *last["out_size"]]
        assert shape == case["shapes"][-1], case["stack"]
        assert data["totals"]["params"] == _params(namespace["model"]), case["stack"]
        checked += 1
    assert checked > 200


def test_norms_without_channels_are_lazy_where_torch_has_a_lazy_module_and_refused_elsewhere():
    result = runner.invoke(app, ["export", "--to", "torch", "-i", "8", "bn, in, flatten, bn"])
    assert result.exit_code == 0, result.output
    assert [line.strip() for line in result.stdout.splitlines() if line.strip().startswith("nn.Lazy")] == [
        "nn.LazyBatchNorm2d(),  # 1: bn -> ?×8×8", "nn.LazyInstanceNorm2d(),  # 2: in -> ?×8×8",
        "nn.LazyBatchNorm1d(),  # 4: bn -> ?"]
    assert "row 2: nn.LazyInstanceNorm2d will take its input size from the first forward: give -c" in result.stderr
    refused = runner.invoke(app, ["export", "--to", "torch", "-i", "8", "gn g2"])
    assert refused.exit_code != 0 and "row 1 (gn g2): its channels are unknown: give -c" in refused.stderr


def test_a_norm_after_a_flatten_without_the_input_size_asks_for_it_not_for_the_channels_given():
    """-c is there; the features after the flatten are C·H·W, so it is -i that is missing."""
    refused = runner.invoke(app, ["export", "--to", "torch", "-c", "3", "conv k3 c8, flatten, ln"])
    assert refused.exit_code == 1
    assert refused.stderr == ("convshape: cannot export to torch: row 3 (ln): its channels are unknown: give -c and -i "
                              "(after a flatten the features depend on the input size)\n")
    done = runner.invoke(app, ["export", "--to", "torch", "-c", "3", "-i", "6", "conv k3 c8, flatten, ln"])
    assert done.exit_code == 0, done.output
    assert "nn.LayerNorm(128),  # 3: ln -> 128" in done.stdout  # 8·4·4
    sized = runner.invoke(app, ["export", "--to", "torch", "-i", "6", "conv k3 c8, flatten, gn g2"])
    assert sized.exit_code == 0 and "nn.GroupNorm(2, 128),  # 3: gn g2 -> 128" in sized.stdout  # c8 fixes them
    assert "row 1 (gn g2): its channels are unknown: give -c\n" in runner.invoke(
        app, ["export", "--to", "torch", "-i", "8", "gn g2"]).stderr
