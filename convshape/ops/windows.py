"""Swin's two rows on a map: attention within windows, and patch merging.

``wattn k7 h3 s3`` is torchvision's ShiftedWindowAttention over a C×H×W map (Swin keeps it
channels last; the shape is the same): the map is padded at the bottom and right up to a
multiple of the window k, rolled by the shift s (none where the window covers the padded
map: torchvision then drops the shift), cut into k×k windows, and each window's k² positions
attend to each other, heads h; the padding is cut off again, so the shape is kept. Its
parameters are the qkv and output projections (4·C² + 4·C) and a relative position bias
table of (2k − 1)² entries per head; its buffer is the position index (k⁴). ``v2`` is
Swin V2's (ShiftedWindowAttentionV2): cosine attention with a learned logit scale per
head, and the bias made by a small MLP (2 → 512 → h) from a (2k − 1)² × 2 table of
coordinates. FlopCounterMode counts, on the padded map of P positions, the projections
(4·P·C²) and the two products within the windows (2·P·k²·C), and for v2 the MLP over its
table ((2k − 1)²·(2·512 + 512·h)).

``patchmerge`` is torchvision's PatchMerging: an odd height or width is padded by one, the
2×2 neighbours are put side by side (4C channels at ⌈H/2⌉×⌈W/2⌉), normalized (LayerNorm(4C))
and projected to 2C without bias; ``patchmerge v2`` projects first and normalizes 2C.

Each output of a window attention reads its window: on each axis, output o reads inputs
k·⌊(o − s)/k⌋ + s to that + k − 1 (the roll puts windows s later), positions past the
map being padding as a conv's are; the field repeats every k outputs.
"""

from __future__ import annotations

from .. import receptive
from ..arithmetic import AxisStep
from ..diagnostics import Code, Diagnostic, KindCode, Level
from .base import Op, give

HEADS_SPLIT = KindCode(
    "heads_split", Level.ERROR,
    "{channels} channels are not a multiple of {heads} heads: torchvision's window attention cannot split them "
    "(its reshape to C // heads per head fails)")
TWO_AXES = KindCode("window_axes", Level.ERROR, "{kind} works on two spatial axes (H and W), not {dims}")
WINDOW_PADDING = KindCode(
    "window_padding", Level.NOTE,
    "{where}{size} is padded to {padded} for windows of {window} (torchvision pads the bottom and right, then cuts the "
    "padding off: the shape is kept)")
MERGE_PADDING = KindCode(
    "merge_padding", Level.NOTE, "{where}the odd {size} is padded to {padded} before its 2×2 neighbours are merged")
CPB_HIDDEN = 512  # Swin V2's continuous position bias MLP: 2 → 512 → heads

# Export writes torchvision's own modules, channels last inside, channels first outside.
_WINDOW_ATTENTION = '''

class WindowAttention(nn.Module):
    """Swin's attention within (shifted) windows on an N×C×H×W map: torchvision's module."""

    def __init__(self, width, window, shift, heads, v2=False, bias=True):
        super().__init__()
        from torchvision.models import swin_transformer as swin

        kind = swin.ShiftedWindowAttentionV2 if v2 else swin.ShiftedWindowAttention
        self.attention = kind(width, list(window), list(shift), heads, qkv_bias=bias, proj_bias=bias)

    def forward(self, x):
        return self.attention(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
'''
_PATCH_MERGE = '''

class PatchMerge(nn.Module):
    """Swin's patch merging on an N×C×H×W map: torchvision's module."""

    def __init__(self, width, v2=False):
        super().__init__()
        from torchvision.models import swin_transformer as swin

        self.merge = (swin.PatchMergingV2 if v2 else swin.PatchMerging)(width)

    def forward(self, x):
        return self.merge(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
'''


def _heads_on_a_map(word: str, layer, size, channels, flattened):
    """What attention over a map needs first: a map, of two axes, its channels split by the heads."""
    if size is None:
        return Diagnostic(Code.SPATIAL_AFTER_FLATTEN, (), {"kind": word, "reason": flattened})
    if len(size) != 2:
        return Diagnostic(TWO_AXES, (), {"kind": word, "dims": len(size)})
    if layer.groups < 1 or channels is not None and channels % layer.groups:
        return Diagnostic(HEADS_SPLIT, (), {"channels": channels, "heads": layer.groups})
    return None


def padded(size: int, window: int) -> int:
    """The size torchvision pads a map to: the next multiple of the window.

    >>> padded(56, 7), padded(24, 7), padded(7, 7)
    (56, 28, 7)
    """
    return size + (window - size % window) % window


def shift_of(layer, axis: int, size: int) -> int:
    """The shift on ``axis`` at this size: none where the window covers the padded map."""
    shift = layer.shift[axis] if layer.shift else 0
    return 0 if layer.kernel[axis] >= padded(size, layer.kernel[axis]) else shift


class WindowAttention(Op):
    word = "wattn"
    help = "attention in (shifted) windows, Swin's"
    takes = ("k", "h", "s", "nobias", "v2", "in", "x")
    required = ("k", "h")
    needs = "its window and heads, such as k7 h3 (and s3 for the shifted windows)"
    token_help = (("k", "the window: k7"), ("h", "heads, which divide the channels: h3"),
                  ("s", "the shift of the shifted windows: s3 (default none)"))
    is_spatial = True
    keeps_shape = False  # a row of its own, with its costs: the shape is kept all the same
    attends = True

    def build(self, get, dims):
        kernel = get("k")
        shift = get("s")
        kernel = tuple(kernel) * (dims if len(kernel) == 1 else 1)
        shift = tuple(int(v) for v in shift) * (dims if len(shift) == 1 else 1) if shift else (0,) * dims
        return {"kernel": kernel, "shift": shift, "groups": get("h")}

    def finish(self, fields, tokens, like):
        from .base import TokenError

        if any(s < 0 for s in fields["shift"]) or any(s >= k for s, k in zip(fields["shift"], fields["kernel"])
                                                      if k >= 1):
            raise TokenError("a window's shift is from 0 to the window less one (Swin's is half of it: k7 s3)",
                             tokens["s"])

    def stride_values(self, layer):
        return layer.shift

    def structure_error(self, layer, size, channels, flattened, convention):
        return _heads_on_a_map(self.word, layer, size, channels, flattened)

    def axis_step(self, layer, axis, in_size, convention, target=None):
        """The windows as a step: non-overlapping (stride = window), tiling the map from
        (w − shift) mod w positions before it (the roll), and torchvision's padding after."""
        window = layer.kernel[axis]
        before = (window - shift_of(layer, axis, in_size)) % window
        return AxisStep(in_size, in_size, (before, padded(in_size, window) - in_size), kernel=window,
                        effective_kernel=window, stride=window)

    def axis_findings(self, layer, step, axis, convention):
        if not step.padding[1]:
            return []
        return [Diagnostic(WINDOW_PADDING, (axis,), {"size": step.in_size, "padded": step.in_size + step.padding[1],
                                                    "window": step.kernel})]

    def field(self, layer, current, step, axis, in_size, last_spatial):
        return receptive.through_windows(current, step.kernel, (step.kernel - step.padding[0]) % step.kernel)

    def sources(self, layer, step, o, in_size):
        start = step.kernel * ((o + step.padding[0]) // step.kernel) - step.padding[0]
        return [i for i in range(start, start + step.kernel) if 0 <= i < in_size]

    def weights(self, layer, in_channels, out_channels, convention):
        if in_channels is None:
            return None
        c, h = in_channels, layer.groups
        table = (2 * layer.kernel[0] - 1) * (2 * layer.kernel[1] - 1)
        projections = 4 * c * c + (4 * c if layer.bias else 0)
        index = (layer.kernel[0] * layer.kernel[1]) ** 2
        if not layer.v2:  # V1: a learned bias table per head
            return projections + table * h, index
        return projections + h + 2 * CPB_HIDDEN + CPB_HIDDEN + CPB_HIDDEN * h, index + 2 * table

    def macs(self, row, params, torchinfo, batch):
        layer = row.layer
        c = row.in_channels
        positions = padded(row.in_size[0], layer.kernel[0]) * padded(row.in_size[1], layer.kernel[1])
        window = layer.kernel[0] * layer.kernel[1]
        total = positions * (4 * c * c + 2 * window * c)
        if layer.v2:  # V2: the position bias MLP over its table
            table = (2 * layer.kernel[0] - 1) * (2 * layer.kernel[1] - 1)
            total += table * (2 * CPB_HIDDEN + CPB_HIDDEN * layer.groups)
        return batch * total

    def formula_macs(self, layer, in_channels, out_channels, out, source, Formula):  # noqa: N803
        return None  # over the map padded to whole windows: a ceiling no product of factors writes

    def cost_lines(self, row, cost, torch_profile, times, convention):
        layer, c = row.layer, row.in_channels
        k = "×".join(map(str, layer.kernel))
        lines = [f"{layer.groups} heads in {k} windows: params {cost.params:,} (projections 4·{c}²"
                 f"{' + 4·' + str(c) if layer.bias else ''}, position bias"
                 f"{' MLP' if layer.v2 else ' table'})"]
        if torch_profile:
            sizes = "×".join(str(padded(s, w)) for s, w in zip(row.in_size, layer.kernel))
            lines.append(f"MACs on the padded {sizes}: 4·{c}² + 2·{k}·{c} per position{times} = {cost.macs:,}")
        return lines

    def torch_module(self, row, w):
        layer = row.layer
        if row.in_channels is None:
            raise w.error(f"its channels are unknown: {give(row)}", row)
        w.helper(_WINDOW_ATTENTION)
        extra = (", v2=True" if layer.v2 else "") + ("" if layer.bias else ", bias=False")
        return f"WindowAttention({row.in_channels}, {layer.kernel}, {layer.shift}, {layer.groups}{extra})"

    def explain_row(self, row):
        layer = row.layer
        sizes = [padded(s, w) for s, w in zip(row.in_size, layer.kernel)]
        shifts = [shift_of(layer, axis, s) for axis, s in enumerate(row.in_size)]
        padding = "" if list(row.in_size) == sizes else f", padded to {'×'.join(map(str, sizes))}"
        shifted = f", shifted by {'×'.join(map(str, shifts))}" if any(shifts) else ""
        return [f"{'×'.join(map(str, row.in_size))}{padding}{shifted}: "
                f"{(sizes[0] // layer.kernel[0]) * (sizes[1] // layer.kernel[1])} windows of "
                f"{'×'.join(map(str, layer.kernel))}; the shape kept"]


class PatchMerge(Op):
    word = "patchmerge"
    help = "Swin's patch merging: 2×2 to 2C"
    takes = ("v2", "in", "x")
    is_spatial = True
    keeps_shape = False

    def build(self, get, dims):
        return {"kernel": (2,) * dims, "stride": (2,) * dims}

    def structure_error(self, layer, size, channels, flattened, convention):
        if size is not None and len(size) != 2:
            return Diagnostic(TWO_AXES, (), {"kind": self.word, "dims": len(size)})
        return None

    def out_channels(self, layer, in_channels, in_size):
        return None if in_channels is None else 2 * in_channels

    def mixes_channels(self, layer):
        return True

    def axis_step(self, layer, axis, in_size, convention, target=None):
        return AxisStep(in_size, (in_size + 1) // 2, (0, in_size % 2), kernel=2, effective_kernel=2, stride=2)

    def axis_findings(self, layer, step, axis, convention):
        if not step.padding[1]:
            return []
        return [Diagnostic(MERGE_PADDING, (axis,), {"size": step.in_size, "padded": step.in_size + 1})]

    def field(self, layer, current, step, axis, in_size, last_spatial):
        return receptive.through_window(current, kernel=2, stride=2, padding_before=0)

    def formula(self, layer, axis, before, convention):
        from ..formula import Step, div, lin

        return Step(div(lin(1, before, 1), 2), True)

    def formula_text(self, layer, axis, convention):
        return "⌈{x}/2⌉"

    def period(self, layer, axis):
        return 2

    def offset_only(self, layer):
        return False

    def estimate(self, layer, axis, needed_out):
        return 2 * needed_out

    def shrink(self, layer):
        return 2

    def explain_step(self, step):
        odd = " (the odd one padded)" if step.in_size % 2 else ""
        return f"⌈{step.in_size}/2⌉ = {step.out_size}{odd}"

    def sources(self, layer, step, o, in_size):
        return [i for i in (2 * o, 2 * o + 1) if i < in_size]

    def weights(self, layer, in_channels, out_channels, convention):
        if in_channels is None:
            return None
        c = in_channels
        return 8 * c * c + (2 * 2 * c if layer.v2 else 2 * 4 * c), 0

    def macs(self, row, params, torchinfo, batch):
        return batch * row.out_size[0] * row.out_size[1] * 4 * row.in_channels * 2 * row.in_channels

    def formula_macs(self, layer, in_channels, out_channels, out, source, Formula):  # noqa: N803
        if in_channels is None or out is None:
            return None
        return Formula(4 * in_channels, ()).times(out).value()  # out holds 2C per position: 4C·2C each

    def torch_module(self, row, w):
        if row.in_channels is None:
            raise w.error(f"its channels are unknown: {give(row)}", row)
        w.helper(_PATCH_MERGE)
        return f"PatchMerge({row.in_channels}{', v2=True' if row.layer.v2 else ''})"

    def cost_lines(self, row, cost, torch_profile, times, convention):
        c = row.in_channels
        norm = f"LayerNorm({2 * c}) 2·{2 * c}" if row.layer.v2 else f"LayerNorm({4 * c}) 2·{4 * c}"
        lines = [f"params {4 * c}·{2 * c} + {norm} = {cost.params:,}"]
        if torch_profile:
            positions = "·".join(map(str, row.out_size))
            lines.append(f"MACs {positions} positions · {4 * c}·{2 * c}{times} = {cost.macs:,}")
        return lines


PARTITION_SHAPE = KindCode(
    "partition_shape", Level.ERROR,
    "{what}: PyTorch fails with 'shape '[1, {shape}]' is invalid for input of size {elements}'", True)


GRID_TOO_BIG = KindCode(
    "grid_too_big", Level.ERROR,
    "{size} is smaller than a {grid} grid: torchvision's partition divides by 0 ('integer division or modulo by "
    "zero')", True)


GRID_SEQUENCE = KindCode(
    "grid_sequence", Level.ERROR,
    "{size} in a grid of {grid} makes sequences of {tokens} positions, and its position bias is for {positions}: "
    "PyTorch fails with 'The size of tensor a ({tokens}) must match the size of tensor b ({positions}) at "
    "non-singleton dimension 4'", True)


PARTITION_AXIS = KindCode(
    "partition_shape", Level.ERROR, "{where}{kind} does not take {size}: it takes {why}", True)
BUILT_GRID = KindCode(
    "built_grid", Level.ERROR,
    "built for {built}, whose side {partition} does not divide: torchvision fails with 'Grid size must be divisible "
    "by partition size. Got grid size of ({sides}) and partition size of {partition}'")


_PARTITION_ATTENTION = '''

class PartitionAttention(nn.Module):
    """MaxViT's attention within blocks or over a grid on an N×C×H×W map: torchvision's modules."""

    def __init__(self, width, heads, partition, grid=False):
        super().__init__()
        from torchvision.models import maxvit

        self.partition, self.grid = partition, grid
        self.attention = maxvit.RelativePositionalMultiHeadAttention(width, width // heads, partition * partition)
        self.split, self.join = maxvit.WindowPartition(), maxvit.WindowDepartition()

    def forward(self, x):
        h, w = x.shape[-2:]
        p = h // self.partition if self.grid else self.partition
        y = self.split(x, p)
        y = self.attention(y.swapaxes(-2, -3) if self.grid else y)
        return self.join(y.swapaxes(-2, -3) if self.grid else y, p, h // p, w // p)
'''


class PartitionAttention(Op):
    """MaxViT's attention within a partition of the map (RelativePositionalMultiHeadAttention
    between torchvision's WindowPartition and WindowDepartition): ``battn k7`` attends
    within k×k blocks, ``gattn k7`` within a k×k grid of positions spaced H/k apart. The map
    is not padded: k must divide it, or the partition's reshape fails. With ``o56`` it is
    torchvision's layer built for a 56×56 grid, whose partition and departition are sized
    for that grid: another map fails in one of their reshapes."""

    takes = ("k", "h", "o", "in", "x")
    required = ("k", "h")
    needs = "its partition and heads, such as k7 h2 (and o56 for the grid torchvision built it for)"
    token_help = (("k", "the partition: k7"), ("h", "heads, which divide the channels: h2"),
                  ("o", "the map torchvision's layer is built for: o56"))
    is_spatial = True
    keeps_shape = False
    attends = True
    refuses_some_sizes = True  # only multiples of its partition run
    grid = False

    def build(self, get, dims):
        kernel = get("k")
        return {"kernel": tuple(kernel) * (dims if len(kernel) == 1 else 1), "groups": get("h")}

    def spacing(self, layer, axis: int, size: int) -> int:
        """How many positions a reshape sets side by side on this axis (torchvision's P)."""
        if not self.grid:
            return layer.kernel[axis]
        built = layer.out[axis] if layer.out else size
        return built // layer.kernel[axis]  # 0 where the map is smaller than the grid

    def structure_error(self, layer, size, channels, flattened, convention):
        found = _heads_on_a_map(self.word, layer, size, channels, flattened)
        if found is not None:
            return found
        if layer.out:  # torchvision asserts its own grid first, whatever the input
            built = [self.spacing(layer, axis, o) for axis, o in enumerate(layer.out)]
            if not all(built) or any(o % b for o, b in zip(layer.out, built)):
                return Diagnostic(BUILT_GRID, (), {"built": "×".join(map(str, layer.out)), "partition": built[0],
                                                   "sides": ", ".join(map(str, layer.out))})
        c = "C" if channels is None else channels
        elements = "C·" + "·".join(map(str, size)) if channels is None else f"{channels * size[0] * size[1]}"
        spacing = [self.spacing(layer, axis, s) for axis, s in enumerate(size)]
        if not all(spacing):
            return Diagnostic(GRID_TOO_BIG, (), {"size": "×".join(map(str, size)),
                                                 "grid": "×".join(map(str, layer.kernel))})
        if any(s % p for s, p in zip(size, spacing)):
            shape = ", ".join(map(str, [c, size[0] // spacing[0], spacing[0], size[1] // spacing[1], spacing[1]]))
            what = (f"{'×'.join(map(str, size))} is not a whole number of {'×'.join(map(str, spacing))} "
                    f"{'grid cells' if self.grid else 'blocks'}")
            return Diagnostic(PARTITION_SHAPE, (), {"what": what, "shape": shape, "elements": elements})
        if self.grid and any(s // p != k for s, p, k in zip(size, spacing, layer.kernel)):
            tokens = (size[0] // spacing[0]) * (size[1] // spacing[1])
            return Diagnostic(GRID_SEQUENCE, (), {"tokens": tokens, "positions": layer.kernel[0] * layer.kernel[1],
                                                  "size": "×".join(map(str, size)),
                                                  "grid": "×".join(map(str, layer.kernel))})
        if layer.out and tuple(size) != tuple(layer.out):
            parts = [o // p for o, p in zip(layer.out, spacing)]
            shape = ", ".join(map(str, [*parts, *spacing, c]))
            what = f"the layer is built for {'×'.join(map(str, layer.out))} and gets {'×'.join(map(str, size))}"
            return Diagnostic(PARTITION_SHAPE, (), {"what": what, "shape": shape, "elements": elements})
        return None

    def fixed_size(self, layer):
        return layer.out

    def period(self, layer, axis):
        return max(layer.kernel[axis], 1)  # only multiples of the partition run

    def refused_size(self, layer, step, axis, convention):
        """On one axis, for fit: a size the partition does not take. calc meets the same sizes
        first in ``structure_error``, which says which reshape fails, with every axis and the
        channels; here one axis is known, and this says what it lacks."""
        index = ("H", "W").index(axis) if axis in ("H", "W") else 0
        size, k = step.in_size, layer.kernel[index]
        spacing = self.spacing(layer, index, size)
        if not spacing or size % spacing:
            why = f"a multiple of {spacing or k}"
        elif self.grid and size // spacing != k:
            why = f"{k} grid cells of {spacing}"
        elif layer.out is not None and size != layer.out[index]:
            why = f"the {layer.out[index]} it is built for"
        else:
            return None
        return Diagnostic(PARTITION_AXIS, (axis,), {"size": size, "kind": self.word, "why": why})

    def axis_step(self, layer, axis, in_size, convention, target=None):
        spacing = max(self.spacing(layer, axis, in_size), 1)
        if self.grid:  # k positions spaced by P = H/k: a window of k taps dilated by P, one per residue
            return AxisStep(in_size, in_size, (0, 0), kernel=layer.kernel[axis], stride=1, dilation=spacing,
                            effective_kernel=spacing * (layer.kernel[axis] - 1) + 1)
        return AxisStep(in_size, in_size, (0, 0), kernel=spacing, effective_kernel=spacing, stride=spacing)

    def field(self, layer, current, step, axis, in_size, last_spatial):
        if self.grid:
            return receptive.through_grid(current, step.dilation, step.in_size)
        return receptive.through_windows(current, step.kernel, 0)

    def sources(self, layer, step, o, in_size):
        if self.grid:
            return list(range(o % step.dilation, in_size, step.dilation))
        start = step.kernel * (o // step.kernel)
        return [i for i in range(start, start + step.kernel) if i < in_size]

    def weights(self, layer, in_channels, out_channels, convention):
        if in_channels is None:
            return None
        c, h, k = in_channels, layer.groups, layer.kernel[0]
        return 4 * c * c + 4 * c + (2 * k - 1) * (2 * layer.kernel[1] - 1) * h, (k * layer.kernel[1]) ** 2

    def macs(self, row, params, torchinfo, batch):
        c, k = row.in_channels, row.layer.kernel
        return batch * row.in_size[0] * row.in_size[1] * (4 * c * c + 2 * k[0] * k[1] * c)

    def formula_macs(self, layer, in_channels, out_channels, out, source, Formula):  # noqa: N803
        if in_channels is None or out is None:
            return None
        return Formula(4 * in_channels + 2 * layer.kernel[0] * layer.kernel[1], ()).times(out).value()

    def cost_lines(self, row, cost, torch_profile, times, convention):
        layer, c = row.layer, row.in_channels
        k = "×".join(map(str, layer.kernel))
        lines = [f"{layer.groups} heads in {k} {'grid' if self.grid else 'blocks'}: params {cost.params:,} "
                 f"(projections 4·{c}² + 4·{c}, position bias table)"]
        if torch_profile:
            lines.append(f"MACs {'·'.join(map(str, row.in_size))} positions · (4·{c}² + 2·{k}·{c}){times} = "
                         f"{cost.macs:,}")
        return lines

    def torch_module(self, row, w):
        if row.in_channels is None:
            raise w.error(f"its channels are unknown: {give(row)}", row)
        w.helper(_PARTITION_ATTENTION)
        grid = ", grid=True" if self.grid else ""
        return f"PartitionAttention({row.in_channels}, {row.layer.groups}, {row.layer.kernel[0]}{grid})"

    def explain_row(self, row):
        spacing = [self.spacing(row.layer, axis, s) for axis, s in enumerate(row.in_size)]
        k = "×".join(map(str, row.layer.kernel))
        if self.grid:
            return [f"{'×'.join(map(str, row.in_size))}: each position attends to the {k} positions "
                    f"{'×'.join(map(str, spacing))} apart from it; the shape kept"]
        return [f"{'×'.join(map(str, row.in_size))}: {(row.in_size[0] // spacing[0]) * (row.in_size[1] // spacing[1])} "
                f"blocks of {k}; the shape kept"]


class BlockAttention(PartitionAttention):
    word = "battn"
    help = "attention within k×k blocks, MaxViT's"


class GridAttention(PartitionAttention):
    word = "gattn"
    help = "attention over a k×k grid, MaxViT's"
    grid = True


OPS = (WindowAttention(), PatchMerge(), BlockAttention(), GridAttention())
