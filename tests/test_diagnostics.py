"""Every diagnostic code, triggered the way a person would trip over it."""

import pytest

from convshape import calc
from convshape.diagnostics import Code, Level, level_of


def codes(result, index=-1):
    row = result.rows[index]
    return {
        "error": row.error.code.value if row.error else None,
        "warnings": [d.code.value for d in row.warnings],
        "notes": [d.code.value for d in row.notes],
    }


@pytest.mark.parametrize(
    "stack, size, kwargs, level, code, words",
    [
        ("conv k3 s2", 6, {}, "warnings", "floor_rounding", ["input pixel is never read", "(6 + 0 + 0 − 3) mod 2 = 1"]),
        ("conv k1 s3", 9, {}, "warnings", "stride_gap", ["kernel 1 is smaller than stride 3", "2 of every 3"]),
        ("convt k1 s2", 4, {}, "warnings", "stride_gap", ["output positions"]),
        ("conv k3 p3", 8, {}, "warnings", "padding_only_outputs", ["padding 3", "kernel 3"]),
        ("maxpool k2 s2 p1 ceil", 5, {"dims": 1}, "warnings", "ceil_window_dropped", ["window at 6", "5 + 1 = 6"]),
        ("conv k3 s2 p1", 224, {}, "notes", "padding_trimmed", ["(224 + 1 + 1 − 3) mod 2 = 1"]),
        ("conv k5 p2 x3", 12, {}, "notes", "field_exceeds_input", ["(13)", "(12)"]),
        ("up s1.1", 10, {}, "notes", "inexact_scale", ["1.1", "floating point"]),
        ("conv k9", 5, {}, "error", "kernel_too_large", ["5 + 0 + 0 = 5", "kernel 9"]),
        ("convt k2 p3", 2, {}, "error", "output_too_small", ["-3"]),
        ("conv k0", 5, {}, "error", "kernel_below_1", ["kernel 0"]),
        ("conv k3 s0", 5, {}, "error", "stride_below_1", ["stride 0"]),
        ("conv k3 d0", 5, {}, "error", "dilation_below_1", ["dilation 0"]),
        ("conv k3 g0", 5, {"channels": 4}, "error", "groups_below_1", ["groups 0"]),
        ("conv k3 c0", 5, {}, "error", "channels_below_1", ["channels 0"]),
        ("up s0", 5, {}, "error", "scale_not_positive", ["scale factor 0"]),
        ("conv k3 p-1", 5, {}, "error", "negative_padding", ["padding -1"]),
        ("convt k3 s2 op-1", 5, {}, "error", "negative_output_padding", ["output padding -1"]),
        ("conv k-3", 5, {}, "error", "kernel_below_1", ["kernel -3"]),
        ("conv k3 s-1", 5, {}, "error", "stride_below_1", ["stride -1"]),
        ("up s-1.5", 5, {}, "error", "scale_not_positive", ["scale factor -1.5"]),
        ("conv k3 c-5", 5, {}, "error", "channels_below_1", ["channels -5"]),
        ("maxpool k3 p2", 9, {}, "error", "pool_padding_too_large", ["padding 2", "at most 1"]),
        ("maxpool k3 p0:1", 9, {}, "error", "asymmetric_pool_padding", ["0:1", "pad layer"]),
        ("conv k3 s2 psame", 9, {}, "error", "same_with_stride", ["stride 2"]),
        ("maxpool k3 psame", 9, {}, "error", "same_unsupported", ["MaxPool"]),
        ("convt k3 s2 op2", 5, {}, "error", "output_padding_too_large", ["output padding 2", "stride 2"]),
        ("conv k3 c8 g3", 9, {"channels": 6}, "error", "groups_mismatch", ["groups 3", "output channels (8)"]),
        ("conv k3 g4", 9, {"channels": 6}, "error", "groups_mismatch", ["input channels (6)"]),
        ("gn g4", 9, {"channels": 6}, "error", "groups_mismatch", ["groups 4 do not divide the input channels (6)"]),
        ("conv k3 dw c9", 9, {"channels": 6}, "error", "depthwise_channels",
         ["output channels (9) must be a multiple of its input channels (6)"]),
        ("conv k9, in", 9, {"channels": 6}, "error", "norm_single_value",
         ["the map is 1×1", "Expected more than 1 spatial element when training"]),
        ("gap, gn g2", 9, {"channels": 2}, "error", "norm_single_value",
         ["each of its 2 groups is 1 channel of a 1×1 map", "Expected more than 1 value per channel when training"]),
        ("flatten, conv k3", 9, {"channels": 3}, "error", "spatial_after_flatten", ["flatten at layer 1"]),
        ("gap, linear c10", 9, {"channels": 3}, "error", "linear_needs_flat", ["3×1×1", "mat1 and mat2 shapes cannot be multiplied"]),
        ("maxpool k2 ceil", 9, {"convention": "tf"}, "error", "ceil_unsupported", ["Keras"]),
        ("conv k3 s2 d2", 9, {"convention": "tf"}, "error", "stride_with_dilation", ["Keras"]),
        ("up s1.5", 9, {"convention": "tf"}, "error", "fractional_scale", ["1.5"]),
        ("avgpool k5 p2", "4x4x4", {}, "error", "input_smaller_than_kernel", ["AvgPool3d", "(4)", "(5)"]),
        ("gap, conv k1", 9, {"convention": "tf", "channels": 3}, "error", "spatial_after_flatten", ["gap at layer 1"]),
        # merges and the layers of whole networks
        ("@a conv k2 p1:0 add a", 9, {}, "warnings", "merge_misaligned",
         ["on H and W", "the input and row 1", "differ by 0.5 input pixels (the input: 0, row 1: -0.5)"]),
        ("@a conv k3 s2 p1 @b maxpool k2 up s2 add b", 8, {}, "warnings", "merge_misaligned",
         ["row 1 and row 3"]),
        ("conv k3 s2 @a conv k3 add a crop", 12, {}, "notes", "merge_cropped",
         ["row 1 is centre-cropped from 5×5 to 3×3 (1:1 on H, 1:1 on W"]),
        ("conv k3 s2 @a conv k3 add a pad", 12, {}, "notes", "merge_padded",
         ["row 2 is zero-padded from 3×3 to 5×5 (1:1 on H, 1:1 on W"]),
        ("@x gap mul x", 9, {"channels": 8}, "notes", "broadcast", ["on H and W: row 1 of size 1"]),
        ("conv k3 @a conv k3 add a", 9, {"channels": 4}, "error", "merge_size_mismatch",
         ["row 1 gives 7×7, row 2 gives 5×5", "The size of tensor a (7) must match the size of tensor b (5) "
          "at non-singleton dimension 3", "add crop or pad"]),
        ("conv k3 c8 @a conv k1 c16 add a", 9, {}, "error", "merge_channel_mismatch",
         ["row 1 has 8, row 2 has 16"]),
        ("conv k1 @a conv k1 from a conv k3 p1", 9, {"_row": 2}, "notes", "unused", ["never reaches the output"]),
        ("adaptiveavgpool o0x7", 9, {}, "error", "output_size_below_1", ["on H: output size 0"]),
        ("conv k3 c8 in4", 9, {"channels": 3}, "error", "declared_channels",
         ["the model gives this layer 4 input channels (in4), but the rows before it make 3"]),
        ("flatten, linear c10 in48", 5, {"channels": 3}, "error", "declared_channels",
         ["the model gives this layer 48 input features (in48), but the rows before it make 75"]),
        ("adaptivemaxpool o7", 9, {"convention": "tf"}, "error", "adaptive_unsupported", ["Keras"]),
        ("up o64", 9, {"convention": "tf"}, "error", "resize_unsupported", ["up s2"]),
        ("conv k3 d2 psame", 9, {"convention": "onnx"}, "error", "onnx_same_dilation", ["ONNX Runtime", "SAME_UPPER"]),
        ("convt k3 s2 op2", 9, {"convention": "onnx"}, "error", "onnx_output_padding", ["output padding 2", "stride 2"]),
        # (⌈14/3⌉ − 1)·3 + 1 − 14 = −1; with kernel 2 it is 0, which runs
        ("maxpool k1 s3 psame", 14, {"convention": "onnx", "dims": 1}, "error", "onnx_negative_same_padding",
         ["(⌈14/3⌉ − 1)·3 + 1 − 14 = -1"]),
    ],
)
def test_each_code(stack, size, kwargs, level, code, words):
    row_index = kwargs.pop("_row", 0)
    result = calc(stack, size, **kwargs)
    found = codes(result, row_index - 1)
    assert code == found[level] if level == "error" else code in found[level]
    row = result.rows[row_index - 1]
    diagnostic = row.error if level == "error" else next(d for d in getattr(row, level) if d.code.value == code)
    for word in words:
        assert word in diagnostic.message
    assert diagnostic.level.value == {"error": "error", "warnings": "warning", "notes": "note"}[level]


def test_every_code_is_exercised_above():
    exercised = {case[4] for case in test_each_code.pytestmark[0].args[1]}
    assert exercised | {"field_not_tracked"} == {code.value for code in Code}


def test_field_not_tracked_past_a_huge_period():
    result = calc("up s1.5 x12", 4, dims=1)
    notes = [d.code.value for row in result.rows for d in row.notes]
    assert "field_not_tracked" in notes
    assert result.rows[-1].field is None and result.valid


def test_floor_rounding_counts_only_real_pixels_and_padding_trimmed_is_not_a_warning():
    # k3 s2 p1 on 7: (7 + 2 - 3) mod 2 = 0, exact. On 8: rem 1, only the right padding skipped.
    assert codes(calc("conv k3 s2 p1", 7)) == {"error": None, "warnings": [], "notes": []}
    assert codes(calc("conv k3 s2 p1", 8))["warnings"] == []
    # k2 s3 p0 on 10: (10 - 2) mod 3 = 2 real pixels dropped.
    row = calc("conv k2 s3", 10, dims=1).rows[0]
    assert [w.code.value for w in row.warnings] == ["stride_gap", "floor_rounding"]
    assert "the last 2 input pixels are never read" in row.warnings[1].message


def test_diagnostics_on_several_axes_are_merged_when_their_numbers_agree():
    row = calc("conv k3 s2", "6x6").rows[0]
    assert len(row.warnings) == 1 and row.warnings[0].axes == ("H", "W")
    row = calc("conv k3 s2", "6x7").rows[0]
    assert [w.axes for w in row.warnings] == [("H",)]


def test_layers_after_an_error_are_not_computed():
    result = calc("conv k9, conv k3, conv k3", 5)
    assert [row.computed for row in result.rows] == [False, False, False]
    assert result.rows[0].error is not None and result.rows[1].error is None
    assert not result.valid and result.output is None


def test_levels():
    assert level_of(Code.FLOOR_ROUNDING) is Level.WARNING
    assert level_of(Code.PADDING_TRIMMED) is Level.NOTE
    assert level_of(Code.KERNEL_TOO_LARGE) is Level.ERROR


def test_a_size_error_names_every_axis_that_fails_alike():
    from convshape import calc

    both = calc("conv k3", 1).error_row.error
    assert both.axes == ("H", "W") and both.message.startswith("on H and W: the padded input (1 + 0 + 0 = 1)")
    one = calc("conv k3", "1x5").error_row.error
    assert one.axes == ("H",) and one.message.startswith("on H: ")


def test_onnx_runtime_runs_a_same_maxpool_whose_padding_is_exactly_zero():
    # (⌈14/3⌉ − 1)·3 + 2 − 14 = 0: the boundary of onnx_negative_same_padding.
    assert calc("maxpool k2 s3 psame", 14, convention="onnx", dims=1).valid
    assert not calc("maxpool k1 s3 psame", 14, convention="onnx", dims=1).valid
    assert calc("maxpool k1 s3 psame", 13, convention="onnx", dims=1).valid  # (5 − 1)·3 + 1 − 13 = 0


def test_a_transposed_conv_s_stride_is_what_outgrows_the_period():
    # 64·64 = 4096 outputs per period is still tracked; the third stride 64 takes it past.
    result = calc("convt k2 s64 x3", 8, dims=1)
    assert [[d.message for d in row.notes] for row in result.rows] == [[], [], [
        "the receptive field is not tracked past this layer (its period exceeds 4096 outputs)"]]
