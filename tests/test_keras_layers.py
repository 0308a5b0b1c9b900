"""The layers Keras' applications need that convshape writes as it reads them: a
BatchNormalization without its scale or shift (bn noscale, bn nocenter), Keras' own
Normalization (normalize), and cropping (a negative pad)."""

import json

import pytest
from typer.testing import CliRunner

from conftest import have
from convshape.cli import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, list(args))


def totals(stack, convention="torch", channels="4"):
    result = invoke("calc", "-i", "8", "-c", channels, "--convention", convention, "--format", "json", stack)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["totals"]


@pytest.mark.parametrize("stack, params, torch_buffers, tf_buffers", [
    ("bn", 8, 9, 8), ("bn noscale", 4, 9, 8), ("bn nocenter", 4, 9, 8), ("bn noscale nocenter", 0, 9, 8),
    ("normalize", 0, 8, 9),  # a mean and a variance per channel; Keras also keeps the count it adapted on
])
def test_what_each_norm_holds(stack, params, torch_buffers, tf_buffers):
    assert (totals(stack)["params"], totals(stack)["buffers"]) == (params, torch_buffers)
    assert (totals(stack, "tf")["params"], totals(stack, "tf")["buffers"]) == (params, tf_buffers)


def test_noscale_belongs_to_bn():
    result = invoke("calc", "-i", "8", "ln noscale")
    assert result.exit_code == 2
    assert "ln does not take 'noscale'" in result.stderr


@pytest.mark.parametrize("stack, code", [
    ("bn noscale nocenter", "nn.BatchNorm2d(4, affine=False)"), ("bn", "nn.BatchNorm2d(4)")])
def test_torch_export_of_a_bn_with_both_or_neither(stack, code):
    result = invoke("export", "--to", "torch", "-i", "8", "-c", "4", stack)
    assert result.exit_code == 0 and code in result.stdout


def test_torch_has_no_bn_with_a_scale_alone():
    result = invoke("export", "--to", "torch", "-i", "8", "-c", "4", "bn noscale")
    assert result.exit_code == 1
    assert ("torch's BatchNorm has both a scale and a shift or neither (affine=False): noscale alone has no torch "
            "module") in result.stderr


@pytest.mark.skipif(not (have("keras") and have("torch")), reason="keras (on torch) is not installed")
def test_the_exported_keras_layers_hold_what_calc_counts():
    code = invoke("export", "--to", "keras", "-i", "8", "-c", "4", "bn noscale, bn nocenter, normalize, "
                  "pad p-1:0x-2:-1, conv k1 c4").stdout
    assert "layers.BatchNormalization(scale=False)" in code and "layers.BatchNormalization(center=False)" in code
    assert "layers.Cropping2D(((1, 0), (2, 1)))" in code
    namespace = {"__name__": "exported"}
    exec(compile(code, "exported.py", "exec"), namespace)
    model = namespace["model"]
    found = totals("bn noscale, bn nocenter, normalize, pad p-1:0x-2:-1, conv k1 c4", "tf")
    trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
    assert (found["params"], found["buffers"]) == (trainable, model.count_params() - trainable)
    assert tuple(model.output.shape[1:]) == (7, 5, 4)


@pytest.mark.parametrize("pad, size", [("p-1:0", "7x7"), ("p-1", "6x6"), ("p-1:0x-2:-1", "7x5"), ("p-3:-4", "1x1"),
                                       ("p-1:2", "9x9")])
def test_a_negative_pad_crops_as_torch_does(run, pad, size):
    done = run("calc", "-i", "8", "-q", f"pad {pad}")
    assert (done.returncode, done.stdout) == (0, size + "\n")
    if have("torch"):
        import torch

        pairs = [tuple(int(v) for v in part.split(":")) if ":" in part else (int(part),) * 2
                 for part in pad[1:].split("x")]
        pairs = pairs * 2 if len(pairs) == 1 else pairs
        (hb, ha), (wb, wa) = pairs
        shape = torch.nn.ZeroPad2d((wb, wa, hb, ha))(torch.zeros(1, 1, 8, 8)).shape
        assert "x".join(map(str, shape[2:])) == size


def test_a_crop_to_nothing_is_an_error(run):
    done = run("calc", "-i", "8", "-q", "pad p-4")
    assert done.returncode == 1
    assert "on H and W: the output size would be 0, below 1" in done.stderr


def test_a_conv_s_negative_padding_is_still_refused(run):
    done = run("calc", "-i", "8", "-q", "conv k3 p-1")
    assert done.returncode == 1
    assert "padding -1 is negative" in done.stderr
