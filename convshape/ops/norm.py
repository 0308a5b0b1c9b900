"""Normalizations and the layer scale: ``bn``, ``ln``, ``gn g32``, ``in`` and ``layerscale``.
They keep the shape; they differ in their parameters, buffers, checks and code."""

from __future__ import annotations

from math import prod

from ..diagnostics import Code, Diagnostic
from ..layers import Convention
from .base import Op, give

_LAYER_NORM = '''

class ChannelLayerNorm(nn.LayerNorm):
    """LayerNorm over the channels of an N×C×... tensor, as torchvision's ConvNeXt LayerNorm2d."""

    def forward(self, x):
        return super().forward(x.movedim(1, -1)).movedim(-1, 1)
'''

_LAYER_SCALE = '''

class LayerScale(nn.Module):
    """A learned scale per channel, as ConvNeXt's layer_scale."""

    def __init__(self, channels, spatial_axes):
        super().__init__()
        self.scale = nn.Parameter(torch.full((channels, *[1] * spatial_axes), 1e-6))

    def forward(self, x):
        return x * self.scale
'''


class Norm(Op):
    """A weight and a bias per channel (affine), no buffers."""

    lazy_torch: str | None = None  # the module torch sizes at its first call, where it has one
    takes = ("in", "x")  # in64: the channels the model gives it

    def weights(self, layer, in_channels, out_channels, convention):
        if in_channels is None:
            return None
        return 2 * in_channels, 0

    def cost_lines(self, row, cost, torch_profile, times, convention):
        if not (cost.params or cost.buffers):
            return ["keeps the shape; no parameters"]
        text = f"params 2·{row.in_channels} = {cost.params:,}, a scale and a shift per channel"
        if cost.buffers:
            counter = " + 1" if self.batch_counters(convention) else ""
            text += f"; buffers 2·{row.in_channels}{counter} = {cost.buffers:,}"
        return [text]

    def torch_module(self, row, w):
        dims = 1 if row.flat_in else row.layer.dims
        if row.in_channels is None and self.lazy_torch is not None:
            return w.lazy(row, f"nn.{self.lazy_torch}{dims}d") + "()"
        if row.in_channels is None:
            raise w.error(f"its channels are unknown: {give(row)}", row)
        return self.torch_text(row, dims, w)


class BatchNorm(Norm):
    lazy_torch = "LazyBatchNorm"
    word = "bn"
    help = "batch normalization"
    takes = ("noscale", "nocenter", "in", "x")

    def batch_counters(self, convention):
        """torch's BatchNorm also counts the batches it has seen (``num_batches_tracked``, one
        int64 whatever the dtype); Keras keeps the two statistics only."""
        return 1 if convention is Convention.TORCH else 0

    def weights(self, layer, in_channels, out_channels, convention):
        if in_channels is None:
            return None
        return (layer.has_scale + layer.has_center) * in_channels, 2 * in_channels + self.batch_counters(convention)

    def cost_lines(self, row, cost, torch_profile, times, convention):
        layer = row.layer
        if layer.has_scale and layer.has_center:
            return super().cost_lines(row, cost, torch_profile, times, convention)
        which = "a scale" if layer.has_scale else "a shift" if layer.has_center else "no scale and no shift"
        counter = " + 1" if self.batch_counters(convention) else ""
        per = " per channel" if layer.has_scale or layer.has_center else ""
        return [f"params {cost.params:,}, {which}{per}; buffers 2·{row.in_channels}{counter} = {cost.buffers:,}"]

    def torch_text(self, row, dims, w):
        layer = row.layer
        if not layer.has_scale and not layer.has_center:
            return f"nn.BatchNorm{dims}d({row.in_channels}, affine=False)"
        if not (layer.has_scale and layer.has_center):
            raise w.error("torch's BatchNorm has both a scale and a shift or neither (affine=False): "
                          f"{'noscale' if layer.has_center else 'nocenter'} alone has no torch module", row)
        return f"nn.BatchNorm{dims}d({row.in_channels})"

    def keras_layers(self, row, w):
        off = [f"{word}=False" for word, kept in (("center", row.layer.has_center), ("scale", row.layer.has_scale))
               if not kept]
        return [f"layers.BatchNormalization({', '.join(off)})"]


class LayerNorm(Norm):
    word = "ln"
    help = "layer normalization over channels, as ConvNeXt's"

    def torch_text(self, row, dims, w):
        if row.flat_in:
            return f"nn.LayerNorm({row.in_channels})"
        w.helper(_LAYER_NORM)
        return f"ChannelLayerNorm({row.in_channels})"

    def keras_layers(self, row, w):
        return ["layers.LayerNormalization()"]


class GroupNorm(Norm):
    word = "gn"
    help = "group normalization"
    takes = ("g", "in", "x")
    required = ("g",)
    needs = "its number of groups, such as g32"
    bare = "g"
    token_help = (("g", "groups, which divide the channels: g32"),)
    has_groups = True

    def build(self, get, dims):
        return {"groups": get("g", 1)}

    def structure_error(self, layer, size, channels, flattened, convention):
        if convention is Convention.TORCH and channels is not None and layer.groups >= 1 and not channels % layer.groups:
            # Each group's statistics are over its channels and positions: one value has none
            # (Keras computes a zero variance there; torch refuses).
            per_group = channels // layer.groups
            if per_group * prod(size or ()) == 1:
                where = "a flat tensor" if size is None else "a " + "×".join(map(str, size)) + " map"
                return Diagnostic(Code.NORM_SINGLE_VALUE, (), {
                    "what": "group norm", "per": "group",
                    "holds": f"each of its {layer.groups} groups is 1 channel of {where}",
                    "torch": "Expected more than 1 value per channel when training"})
        return None

    def torch_text(self, row, dims, w):
        return f"nn.GroupNorm({row.layer.groups}, {row.in_channels})"

    def keras_layers(self, row, w):
        return [f"layers.GroupNormalization(groups={row.layer.groups})"]


class InstanceNorm(Norm):
    lazy_torch = "LazyInstanceNorm"
    word = "in"
    help = "instance normalization without affine parameters, PyTorch's default"

    def weights(self, layer, in_channels, out_channels, convention):
        return 0, 0

    def structure_error(self, layer, size, channels, flattened, convention):
        if size is None:
            return Diagnostic(Code.SPATIAL_AFTER_FLATTEN, (), {"kind": "in (instance norm)", "reason": flattened})
        if prod(size) == 1 and convention is Convention.TORCH:
            return Diagnostic(Code.NORM_SINGLE_VALUE, (), {
                "what": "instance norm", "per": "channel", "holds": f"the map is {'×'.join(map(str, size))}",
                "torch": "Expected more than 1 spatial element when training"})
        return None

    def least_input(self, layer, convention):
        return 2 if convention is Convention.TORCH else 1

    def torch_text(self, row, dims, w):
        return f"nn.InstanceNorm{dims}d({row.in_channels})"

    def keras_layers(self, row, w):
        return ["layers.GroupNormalization(groups=-1, center=False, scale=False)"]


_NORMALIZE = '''

class Normalize(nn.Module):
    """A fixed mean and variance per channel, subtracted and divided (Keras' Normalization)."""

    def __init__(self, channels, spatial_axes):
        super().__init__()
        shape = (channels, *[1] * spatial_axes)
        self.register_buffer("mean", torch.zeros(shape))
        self.register_buffer("variance", torch.ones(shape))

    def forward(self, x):
        return (x - self.mean) / self.variance.sqrt().clamp(min=1e-7)
'''


class Normalize(Norm):
    """Keras' ``Normalization`` whose statistics are its own (adapted, or loaded with the
    weights): a mean and a variance per channel, and under tf the count of samples it
    adapted on. No parameters; those are buffers."""

    word = "normalize"
    help = "a fixed mean and variance per channel (Keras' Normalization)"
    takes = ("in", "x")

    def weights(self, layer, in_channels, out_channels, convention):
        if in_channels is None:
            return None
        return 0, 2 * in_channels + (1 if convention is Convention.TF else 0)

    def cost_lines(self, row, cost, torch_profile, times, convention):
        count = " + 1 (the count Keras adapts with)" if convention is Convention.TF else ""
        return [f"no parameters; buffers 2·{row.in_channels}{count} = {cost.buffers:,}, a mean and a variance per "
                "channel"]

    def torch_text(self, row, dims, w):
        w.helper(_NORMALIZE)
        return f"Normalize({row.in_channels}, {0 if row.flat_in else row.layer.dims})"

    def keras_layers(self, row, w):
        return ["layers.Normalization(axis=-1)"]


class LayerScale(Norm):
    word = "layerscale"
    help = "a learned scale per channel, ConvNeXt's layer scale"

    def weights(self, layer, in_channels, out_channels, convention):
        return None if in_channels is None else (in_channels, 0)

    def macs(self, row, params, torchinfo, batch):
        return 0  # a parameter of its block, not a module of its own: torchinfo counts none

    def cost_lines(self, row, cost, torch_profile, times, convention):
        if not cost.params:
            return ["keeps the shape; no parameters"]
        return [f"params {cost.params:,}, one per channel"]

    def torch_text(self, row, dims, w):
        w.helper(_LAYER_SCALE)
        return f"LayerScale({row.in_channels}, {0 if row.flat_in else row.layer.dims})"

    def keras_layers(self, row, w):
        w.refuse(row, "ConvNeXt's layer scale (no built-in layer)")


OPS = (BatchNorm(), LayerNorm(), GroupNorm(), InstanceNorm(), LayerScale(), Normalize())
