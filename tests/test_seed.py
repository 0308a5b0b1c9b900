"""The seed article's formula and worked examples (../shared/seed/strided-convolutions.txt)."""

import pytest

from convshape import calc
from convshape.explain import explain_row


@pytest.mark.parametrize(
    "stack, size, expected",
    [
        ("conv k3 s1", "6x6", (4, 4)),  # "Stride = 1: The output will be 4x4."
        ("conv k3 s2", "6x6", (2, 2)),  # "Stride = 2: The output will be 2x2."
        ("conv k3 s2 p0", "7x7", (3, 3)),  # the worked example: floor((7 - 3 + 2*0)/2) + 1 = 3
    ],
)
def test_seed_examples(stack, size, expected):
    assert calc(stack, size).output.size == expected


def test_seed_tensorflow_example_under_tf_convention():
    # Conv2D(filters=1, kernel_size=3, strides=2, padding='valid') on 7x7x1 gives (1, 3, 3, 1).
    result = calc("conv k3 s2 pvalid c1", "7x7", channels=1, convention="tf")
    assert (result.output.channels, *result.output.size) == (1, 3, 3)


def test_seed_formula_is_explained_with_its_numbers():
    row = calc("conv k3 s2 p0", "7x7").rows[0]
    assert explain_row(row) == ["floor((7 − 3 + 2·0) / 2) + 1 = 3"]


def test_seed_stride_two_on_six_drops_a_pixel_and_says_so():
    row = calc("conv k3 s2", "6x6").rows[0]
    assert [w.code.value for w in row.warnings] == ["floor_rounding"]
    assert "(6 + 0 + 0 − 3) mod 2 = 1" in row.warnings[0].message
