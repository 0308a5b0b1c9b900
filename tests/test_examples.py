"""The stacks in examples/ against the sizes their papers and torchvision give."""

from pathlib import Path

import pytest

from convshape import calc

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


class Shaping:
    """A result's rows that change the shape (norms and activations keep it)."""

    def __init__(self, result):
        self.rows = [row for row in result.rows if not row.layer.kind.keeps_shape]
        self.output = result.output


def shapes(name, size, channels):
    result = calc((EXAMPLES / name).read_text(), size, channels=channels)
    assert result.valid
    result = Shaping(result)
    return result, [(row.out_channels, *(row.out_size or ())) for row in result.rows]


def test_vgg16_whole():
    # torchvision: vgg16().features ends at 512x7x7; AdaptiveAvgPool2d((7, 7)); Linear(512 * 7 * 7, 4096) ... 1000.
    result, out = shapes("vgg16.stack", 224, 3)
    pools = [shape for row, shape in zip(result.rows, out) if row.layer.kind.value == "maxpool"]
    assert pools == [(64, 112, 112), (128, 56, 56), (256, 28, 28), (512, 14, 14), (512, 7, 7)]
    flatten = next(row for row in result.rows if row.layer.kind.value == "flatten")
    assert flatten.features == 25088
    assert [row.out_channels for row in result.rows[-3:]] == [4096, 4096, 1000]
    assert len(result.rows) == 13 + 5 + 1 + 1 + 3  # convs, pools, adaptive pool, flatten, classifier
    whole = calc((EXAMPLES / "vgg16.stack").read_text(), 224, channels=3).rows
    assert [row.layer.kind.value for row in whole[-7:]] == ["linear", "relu", "dropout", "linear", "relu", "dropout",
                                                           "linear"]  # torchvision's classifier


def test_resnet50_whole():
    # He et al. 2016, Table 1, with torchvision's resnet50: conv1 112x112, conv2_x 56x56 ... conv5_x 7x7, fc 1000.
    result, out = shapes("resnet50.stack", 224, 3)
    assert out[0] == (64, 112, 112) and out[1] == (64, 56, 56)
    adds = [shape for row, shape in zip(result.rows, out) if row.layer.kind.value == "add"]
    assert len(adds) == 3 + 4 + 6 + 3
    assert [adds[i] for i in (2, 6, 12, 15)] == [(256, 56, 56), (512, 28, 28), (1024, 14, 14), (2048, 7, 7)]
    assert result.rows[-1].in_channels == 2048  # torchvision: fc = Linear(2048, 1000)
    assert result.output.features == 1000
    assert sum(row.layer.kind.value == "conv" for row in result.rows) == 49 + 4  # and four projection shortcuts


def test_alexnet_whole():
    # torchvision alexnet(): features, AdaptiveAvgPool2d((6, 6)), Linear(256 * 6 * 6, 4096) ... 1000.
    result, out = shapes("alexnet.stack", 224, 3)
    assert out[:9] == [(64, 55, 55), (64, 27, 27), (192, 27, 27), (192, 13, 13), (384, 13, 13), (256, 13, 13),
                       (256, 13, 13), (256, 6, 6), (256, 6, 6)]
    assert result.rows[9].features == 9216
    assert [row.out_channels for row in result.rows[-3:]] == [4096, 4096, 1000]


def test_the_original_unet_takes_572_to_388():
    # Ronneberger et al. 2015, Fig. 1: 572x572 in, 388x388 out, 2 classes.
    result, out = shapes("unet.stack", 572, 1)
    assert out[-1] == (2, 388, 388)
    crops = [row for row in result.rows if row.layer.kind.value == "cat"]
    assert [row.out_size for row in crops] == [(56, 56), (104, 104), (200, 200), (392, 392)]
    assert [row.out_channels for row in crops] == [1024, 512, 256, 128]


def test_dcgan_generator():
    # Radford et al. 2016, Fig. 1: 100-d z projected to 4x4x1024 ... 64x64x3; the PyTorch tutorial uses ngf=64.
    _, out = shapes("dcgan-generator.stack", 1, 100)
    assert out == [(512, 4, 4), (256, 8, 8), (128, 16, 16), (64, 32, 32), (3, 64, 64)]


def test_unet_encoder():
    # Ronneberger et al. 2015, Fig. 1: 572 -> 570 -> 568, 284 -> 282 -> 280, 140 -> 138 -> 136, 68 -> 66 -> 64, 32 -> 30 -> 28.
    _, out = shapes("unet-encoder.stack", 572, 1)
    assert [shape[1] for shape in out] == [570, 568, 284, 282, 280, 140, 138, 136, 68, 66, 64, 32, 30, 28]
    assert out[-1] == (1024, 28, 28)


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.stack")))
def test_every_example_runs_from_the_command_line(name, run):
    size, channels = ("1", "100") if name.startswith("dcgan") else ("572", "1") if name.startswith("unet") else ("224", "3")
    result = run("calc", "-i", size, "-c", channels, "-f", str(EXAMPLES / name), "-q")
    assert result.returncode == 0 and result.stdout.strip() and result.stderr == ""
