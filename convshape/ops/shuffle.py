"""Pixel shuffle: ``pixelshuffle s2`` moves channels into space (C·s² × H × W becomes
C × H·s × W·s, torch's ``nn.PixelShuffle``, Keras' ``ops.depth_to_space``, ONNX's
DepthToSpace), and ``pixelunshuffle s2`` moves space into channels (C × H × W becomes
C·s² × H/s × W/s, ``nn.PixelUnshuffle``, ``ops.space_to_depth``, SpaceToDepth).

Nothing is rounded: torch refuses channels that s² does not divide, and (unshuffling) a
height or width that s does not divide. Both work on two spatial axes, H and W.
"""

from __future__ import annotations

from .. import receptive
from ..arithmetic import AxisStep
from ..diagnostics import Diagnostic, KindCode, Level
from .base import Op, TokenError
from .window import broadcast

SHUFFLE_AXES = KindCode(
    "shuffle_axes", Level.ERROR,
    "{kind} rearranges two spatial axes (H and W), not {dims}: PyTorch's {module} reads a tensor as N×C×H×W")
SHUFFLE_CHANNELS = KindCode(
    "shuffle_channels", Level.ERROR,
    "{channels} channels are not a multiple of {factor}² = {square}: PyTorch fails with "
    "'pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of upscale_factor'")
UNSHUFFLE_SIZE = KindCode(
    "unshuffle_size", Level.ERROR,
    "{where}{in_size} is not a multiple of the factor {factor}: PyTorch fails with "
    "'pixel_unshuffle expects {which} to be divisible by downscale_factor'", about_size=True)


class _Shuffle(Op):
    takes = ("s", "x")
    required = ("s",)
    needs = "its factor, such as s2"
    bare = "s"
    is_spatial = True
    keeps_shape = False
    module = ""  # torch's class
    keras_op = ""  # keras.ops' function
    torch_argument = ""  # the factor's name in torch's constructor
    token_help = (("s", "factor: s2 (one for H and W)"),)

    def build(self, get, dims):
        return {"stride": broadcast(get("s", [2]), dims)}

    def finish(self, fields, tokens, like):
        if len(set(fields["stride"])) > 1:
            raise TokenError(f"{self.word} takes one factor for H and W, as torch's {self.module} does: s2, "
                             f"not {tokens['s'].text}", tokens["s"])

    def structure_error(self, layer, size, channels, flattened, convention):
        if layer.dims != 2:
            return Diagnostic(SHUFFLE_AXES, (), {"kind": self.word, "dims": layer.dims, "module": self.module})
        return None

    def offset_only(self, layer):
        return False

    def growth(self, layer, step, axis):
        return layer.stride[axis]

    def torch_module(self, row, w):
        return f"nn.{self.module}({row.layer.stride[0]})"

    def keras_layers(self, row, w):
        return [f"layers.Lambda(lambda t: keras.ops.{self.keras_op}(t, {row.layer.stride[0]}))"]

    def from_torch(self, name, args, kwargs):
        factor = args[0] if args else kwargs.get(self.torch_argument)
        return f"{self.word} s{factor}" if isinstance(factor, int) else None

    def from_onnx(self, op_type, attributes):
        factor = attributes.get("blocksize")
        return f"{self.word} s{factor}" if isinstance(factor, int) else None


class PixelShuffle(_Shuffle):
    word = "pixelshuffle"
    help = "channels into space: C·s² × H × W to C × H·s × W·s"
    module = "PixelShuffle"
    keras_op = "depth_to_space"
    torch_argument = "upscale_factor"
    torch_classes = ("PixelShuffle",)
    onnx_ops = ("DepthToSpace",)
    reads_channel_groups = True  # output (h·s + i, w·s + j) reads input channel c·s² + i·s + j at (h, w)

    def structure_error(self, layer, size, channels, flattened, convention):
        found = super().structure_error(layer, size, channels, flattened, convention)
        square = layer.stride[0] ** 2  # s0 and below: stride_below_1, from the parameters' check
        if found is None and channels is not None and square >= 1 and channels % square:
            found = Diagnostic(SHUFFLE_CHANNELS, (), {"channels": channels, "factor": layer.stride[0], "square": square})
        return found

    def out_channels(self, layer, in_channels, in_size):
        return None if in_channels is None or layer.stride[0] < 1 else in_channels // layer.stride[0] ** 2

    def axis_step(self, layer, axis, in_size, convention, target=None):
        from fractions import Fraction  # not at start-up: whole-number runs never load fractions

        factor = layer.stride[axis]
        return AxisStep(in_size, in_size * factor, scale=Fraction(factor))

    def field(self, layer, current, step, axis, in_size, last_spatial):
        from fractions import Fraction

        return receptive.through_upsample(current, Fraction(layer.stride[axis]))  # output o reads input o // s

    def formula(self, layer, axis, before, convention):
        from ..formula import Step, lin

        return Step(lin(layer.stride[axis], before), True)

    def formula_text(self, layer, axis, convention):
        return f"{{x}}·{layer.stride[axis]}"

    def estimate(self, layer, axis, needed_out):
        return -(-needed_out // max(layer.stride[axis], 1))

    def explain_step(self, step):
        return f"{step.in_size} · {step.scale} = {step.out_size}"

    def sources(self, layer, step, o, in_size):
        return [o // layer.stride[0]]



class PixelUnshuffle(_Shuffle):
    word = "pixelunshuffle"
    help = "space into channels: C × H × W to C·s² × H/s × W/s"
    module = "PixelUnshuffle"
    keras_op = "space_to_depth"
    torch_argument = "downscale_factor"
    torch_classes = ("PixelUnshuffle",)
    onnx_ops = ("SpaceToDepth",)
    refuses_some_sizes = True  # only multiples of s run
    regroups_channels = True  # channel c·s² + i·s + j at (h, w) reads input pixel (h·s + i, w·s + j) of channel c

    def out_channels(self, layer, in_channels, in_size):
        return None if in_channels is None else in_channels * layer.stride[0] ** 2

    def axis_step(self, layer, axis, in_size, convention, target=None):
        factor = layer.stride[axis]
        return AxisStep(in_size, in_size // factor, kernel=factor, effective_kernel=factor, stride=factor, dilation=1)

    def refused_size(self, layer, step, axis, convention):
        if step.in_size % step.stride:
            which = "width" if axis in ("W", "L") else "height"  # torch names the last axis width
            return Diagnostic(UNSHUFFLE_SIZE, (axis,), {"in_size": step.in_size, "factor": step.stride, "which": which})
        return None

    def field(self, layer, current, step, axis, in_size, last_spatial):
        factor = layer.stride[axis]  # output o reads inputs o·s .. o·s + s − 1: a window of s, stride s
        return receptive.through_window(current, factor, factor, 0)

    def formula(self, layer, axis, before, convention):
        from ..formula import Step, div

        return Step(div(before, layer.stride[axis]), True)

    def formula_text(self, layer, axis, convention):
        return f"{{x}}/{layer.stride[axis]}"

    # fit asks these before it reports a factor below 1 (stride_below_1): 1 stands in for it
    def period(self, layer, axis):
        return max(layer.stride[axis], 1)

    def estimate(self, layer, axis, needed_out):
        return needed_out * max(layer.stride[axis], 1)

    def shrink(self, layer):
        return max(layer.stride[0], 1)

    def least_input(self, layer, convention):
        return max(layer.stride[0], 1)

    def explain_step(self, step):
        return f"{step.in_size} / {step.stride} = {step.out_size}"

    def sources(self, layer, step, o, in_size):
        factor = layer.stride[0]
        return list(range(o * factor, min(o * factor + factor, in_size)))



OPS = (PixelShuffle(), PixelUnshuffle())
