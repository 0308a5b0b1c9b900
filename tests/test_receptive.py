"""Receptive fields: the recurrence for conv chains, and the periodic tables beyond it."""

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convshape import calc
from convshape.receptive import AxisField, _gather, through_transposed, through_upsample, through_window


def field(stack, size=224):
    row = calc(stack, size).rows[-1]
    return row.field.size[0], row.field.jump[0], row.field.start[0]


@pytest.mark.parametrize(
    "stack, expected",
    [
        ("conv k3", (3, 1, 1)),
        ("conv k3 p1", (3, 1, 0)),
        ("conv k7 s2 p3, maxpool k3 s2 p1", (11, 4, 0)),  # the ResNet stem
        ("conv k3 p1 x2, maxpool k2", (6, 2, Fraction(1, 2))),  # VGG block 1
        ("conv k3 d2", (5, 1, 2)),
        ("conv k2 s2, conv k2 s2, conv k2 s2", (8, 8, Fraction(7, 2))),
        ("pad p2, conv k3", (3, 1, -1)),
    ],
)
def test_recurrence(stack, expected):
    assert field(stack) == expected


def test_vgg16_features_field_is_212():
    block = lambda n, c: f"conv k3 p1 c{c} x{n}, maxpool k2"
    stack = ", ".join([block(2, 64), block(2, 128), block(3, 256), block(3, 512), block(3, 512)])
    size, jump, _ = field(stack)
    assert (size, jump) == (212, 32)


def test_transposed_conv_fields_alternate_and_size_is_the_largest():
    # k3 s2: output o receives input i where o = 2i + t, t in 0..2: even outputs two inputs,
    # odd outputs one (output 0's second input is i = -1, before the border).
    f = through_transposed(AxisField.identity(), kernel=3, stride=2, padding_before=0)
    assert [f.bounds(o) for o in range(4)] == [(-1, 0), (0, 0), (0, 1), (1, 1)]
    assert f.size == 2 and f.jump == Fraction(1, 2)


def test_upsample_then_conv():
    f = through_window(through_upsample(AxisField.identity(), Fraction(2)), kernel=2, stride=1, padding_before=0)
    assert [f.bounds(o) for o in range(3)] == [(0, 0), (0, 1), (1, 1)]
    assert f.size == 2


def test_a_stride_larger_than_the_kernel_leaves_outputs_with_no_field():
    f = through_transposed(AxisField.identity(), kernel=1, stride=2, padding_before=0)
    assert f.bounds(1) == (None, None)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 7), st.integers(1, 3), st.integers(0, 3), st.integers(1, 2)), min_size=1, max_size=8))
def test_tables_agree_with_the_closed_form_recurrence(layers):
    """For integral chains: j' = j·s, r' = r + (kₑ − 1)·j, start' = start + ((kₑ − 1)/2 − p)·j."""
    f = AxisField.identity()
    r, j, start = 1, 1, Fraction(0)
    for k, s, p, d in layers:
        ke = d * (k - 1) + 1
        r, start, j = r + (ke - 1) * j, start + (Fraction(ke - 1, 2) - p) * j, j * s
        f = through_window(f, k, s, p, d)
    assert (f.size, f.jump, f.start) == (r, j, start)


# --- windows over huge inputs: sources as ranges -----------------------------------


def _every_tap_window(field, kernel, stride, padding_before, dilation):
    """The reference: gather every tap of every output, one by one."""
    return [_gather(field, [o * stride - padding_before + t * dilation for t in range(kernel)])
            for o in range(4 * field.jump_den)]


def _every_tap_transposed(field, kernel, stride, padding_before, dilation, outputs):
    pairs = []
    for o in range(outputs):
        found = [(o + padding_before - t * dilation) // stride for t in range(kernel)
                 if (o + padding_before - t * dilation) % stride == 0]
        pairs.append(_gather(field, found))
    return pairs


fields = st.lists(st.tuples(st.sampled_from(["up", "convt"]), st.integers(1, 5), st.integers(1, 3), st.integers(0, 2)),
                  min_size=1, max_size=3)


def _field(chain):
    field = AxisField.identity()
    for kind, kernel, stride, padding in chain:
        field = (through_upsample(field, Fraction(stride + 1, 1 + (kernel % 2))) if kind == "up"
                 else through_transposed(field, kernel, stride, padding % kernel))
    return field


@settings(max_examples=200, deadline=None)
@given(fields, st.integers(1, 60), st.integers(1, 4), st.integers(0, 5), st.integers(1, 3))
def test_a_window_reads_the_same_pixels_as_tap_by_tap(chain, kernel, stride, padding, dilation):
    field = _field(chain)
    if field is None or any(lo is None for lo in field.lo):
        return
    new = through_window(field, kernel, stride, padding, dilation)
    if new is None:
        return
    expected = _every_tap_window(field, kernel, stride, padding, dilation)
    assert [new.bounds(o) for o in range(len(expected))] == expected


@settings(max_examples=200, deadline=None)
@given(fields, st.integers(1, 60), st.integers(1, 4), st.integers(0, 5), st.integers(1, 3))
def test_a_transposed_window_reads_the_same_pixels_as_tap_by_tap(chain, kernel, stride, padding, dilation):
    field = _field(chain)
    if field is None:
        return
    new = through_transposed(field, kernel, stride, padding % kernel, dilation)
    if new is None:
        return
    expected = _every_tap_transposed(field, kernel, stride, padding % kernel, dilation, 4 * new.jump_den)
    assert [new.bounds(o) for o in range(len(expected))] == expected


@pytest.mark.parametrize("command", [
    ["calc", "up, gap"],  # without -i: the stack runs on a huge input
    ["calc", "up s1.5, conv k3, gap, flatten, linear c10"],
    ["fit", "up, conv k3 s2, gap"],
    ["calc", "-i", "100000000", "up, gap", "-q"],
    ["calc", "-i", "64", "convt k100000000 s3 d2", "-q"],
])
def test_global_pooling_after_an_upsample_takes_little_memory(command):
    """A global pool's window is the whole input; after `up` (a fractional jump) its taps
    were once listed one by one, and the huge input of fit and formulas filled memory."""
    import resource
    import subprocess
    import sys

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (1 << 31, 1 << 31))

    result = subprocess.run([sys.executable, "-m", "convshape", *command], capture_output=True, text=True,
                            preexec_fn=limit, timeout=60)
    assert result.returncode in (0, 1), result.stderr
    assert "internal error" not in result.stderr


def test_a_wide_window_s_first_and_last_pixel_equal_the_pixel_by_pixel_walk():
    """A global pool after fractional jumps reads its window's extremes from per-period tables
    (calc -i 5 "up s4 x6, gap" took 9 s); they equal the walk over every input of the window."""
    import random
    from fractions import Fraction

    from convshape.receptive import AxisField, _gather, through_transposed, through_upsample, through_window

    rng = random.Random(20261204)
    fields = []
    for _ in range(60):
        field = AxisField.identity()
        for _ in range(rng.randint(1, 4)):
            step = rng.choice(["up", "convt", "conv"])
            if step == "up":
                field = through_upsample(field, Fraction(rng.choice([2, 3, 4, 3]), rng.choice([1, 1, 2])))
            elif step == "convt":
                field = through_transposed(field, rng.randint(1, 5), rng.randint(1, 4), rng.randint(0, 2),
                                           rng.randint(1, 2))
            else:
                field = through_window(field, rng.randint(1, 4), rng.randint(1, 3), rng.randint(0, 2))
            if field is None:
                break
        if field is not None and field.jump_den > 1:
            fields.append(field)
    assert len(fields) >= 30
    compared = 0
    for field in fields:
        for _ in range(20):
            start = rng.randint(-3 * field.jump_den, 3 * field.jump_den)
            stop = start + rng.randint(2 * field.jump_den + 1, 7 * field.jump_den)
            bounds = [field.bounds(i) for i in range(start, stop)]
            lows = [lo for lo, _ in bounds if lo is not None]
            walked = (min(lows), max(hi for _, hi in bounds if hi is not None)) if lows else (None, None)
            assert _gather(field, range(start, stop)) == walked
            compared += 1
    assert compared >= 600
