"""Output sizes, the way a person would check them by hand with the documented formulas."""

from fractions import Fraction

import pytest

from convshape import calc
from convshape.arithmetic import same_padding, transposed_output_size, upsampled_size, windowed_output_size
from convshape.layers import Convention


@pytest.mark.parametrize(
    "stack, size, expected",
    [
        ("conv k3 s2", 7, (3, 3)),
        ("conv k3 s2 p1", 224, (112, 112)),
        ("conv k7 s2 p3", 224, (112, 112)),
        ("conv k3 d2", 10, (6, 6)),  # effective kernel 5
        ("conv k3 pfull", 10, (12, 12)),
        ("conv k4 psame", 10, (10, 10)),
        ("conv k3 p0:1", 5, (4, 4)),
        ("conv k3x1 p1x0", "5x5", (5, 5)),
        ("maxpool k2", 7, (3, 3)),
        ("maxpool k2 ceil", 7, (4, 4)),
        ("maxpool k3 s2 p1", 112, (56, 56)),
        ("avgpool k3 s2", 8, (3, 3)),
        ("convt k4 s2 p1", 4, (8, 8)),
        ("convt k3 s2 p1 op1", 4, (8, 8)),
        ("convt k2 s2", 7, (14, 14)),
        ("up s2", 7, (14, 14)),
        ("up s1.5", 7, (10, 10)),
        ("up s0.5", 7, (3, 3)),
        ("pad p1:2", 5, (8, 8)),
        ("gap", "7x9", (1, 1)),
    ],
)
def test_output_sizes(stack, size, expected):
    assert calc(stack, size).output.size == expected


def test_ceil_mode_drops_a_window_that_would_start_in_the_right_padding():
    # PyTorch: MaxPool1d(2, stride=2, padding=1, ceil_mode=True) on length 5 gives 3, not 4.
    assert windowed_output_size(5, 2, 2, (1, 1), ceil=True) == (3, True)


@pytest.mark.parametrize(
    "size, kernel, stride, expected",
    [(7, 3, 1, (1, 1)), (7, 4, 1, (1, 2)), (7, 3, 2, (1, 1)), (8, 3, 2, (0, 1)), (224, 7, 2, (2, 3)), (5, 1, 2, (0, 0))],
)
def test_tf_same_padding(size, kernel, stride, expected):
    assert same_padding(size, kernel, stride, 1, Convention.TF) == expected


@pytest.mark.parametrize("size, stride", [(7, 1), (7, 2), (8, 2), (224, 4), (5, 3)])
def test_tf_same_output_is_ceil_of_input_over_stride(size, stride):
    result = calc(f"conv k3 s{stride} psame", size, convention="tf")
    assert result.output.size[0] == -(-size // stride)


def test_torch_same_pads_the_extra_pixel_after():
    row = calc("conv k4 psame", 10).rows[0]
    assert row.padding == ((1, 2), (1, 2))


def test_transposed_and_upsampled_sizes():
    assert transposed_output_size(7, 3, 2, (1, 1), 1, 1) == 14
    assert upsampled_size(5, Fraction(5, 2)) == 12


def test_channels_flatten_and_linear():
    result = calc("conv k3 p1 c64, maxpool k2, flatten, linear c10", "32x32", channels=3)
    conv, pool, flatten, linear = result.rows
    assert (conv.in_channels, conv.out_channels) == (3, 64)
    assert flatten.features == 64 * 16 * 16
    assert (linear.in_channels, linear.out_channels, linear.features) == (16384, 10, 10)
    assert result.output.size is None and result.output.features == 10


def test_unknown_channels_stay_unknown_until_set():
    result = calc("conv k3, conv k3 c8", 10)
    assert [row.out_channels for row in result.rows] == [None, 8]


def test_gap_under_tf_removes_the_spatial_axes():
    result = calc("conv k3 c32, gap, linear c10", 10, channels=3, convention="tf")
    assert result.valid and result.rows[1].out_size is None and result.rows[1].features == 32


def test_arithmetic_is_exact_for_huge_sizes():
    """The core is exact at any size (the command line and calc() take at most 18 digits)."""
    from convshape.calc import run
    from convshape.grammar import parse_stack

    huge = 10**30 + 7
    assert run(parse_stack("conv k3 s2", dims=1), (huge,)).output.size == ((huge - 3) // 2 + 1,)


def test_a_long_stack_is_computed_layer_by_layer():
    result = calc("conv k3 p1 c64 x500", 32, channels=3)
    assert len(result.rows) == 500 and result.output.size == (32, 32)
    assert result.rows[-1].field.size == (1001, 1001)
