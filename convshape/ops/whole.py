"""Layers over the whole map: ``gap`` (global average pooling), ``flatten`` and ``linear``
(nn.AdaptiveAvgPoolNd(1) / GlobalAveragePoolingND, nn.Flatten, nn.Linear / Dense)."""

from __future__ import annotations

from math import prod

from .. import receptive
from ..arithmetic import AxisStep
from ..layers import Convention
from .base import Op


class Gap(Op):
    word = "gap"
    help = "global average pooling"
    takes = ("keep", "x")
    torch_refused = ("keep",)
    is_spatial = True
    keeps_shape = False
    whole = True

    def axis_step(self, layer, axis, in_size, convention, target=None):
        return AxisStep(in_size, 1, kernel=in_size, effective_kernel=in_size, stride=in_size)

    def drops_axes(self, layer, convention):
        """Keras' GlobalAveragePooling drops them, unless it keeps its 1×1 map (``gap keep``)."""
        return convention is Convention.TF and not layer.keep

    def field(self, layer, current, step, axis, in_size, last_spatial):
        return receptive.through_whole(current, in_size[axis])

    def formula(self, layer, axis, before, convention):
        from ..formula import VAR, Lin, Step

        return Step(Lin(0, VAR, 1), True)

    def constant_output(self, layer, axis):
        return 1

    def explain_step(self, step):
        return f"global pooling over {step.in_size} = 1"

    def sources(self, layer, step, o, in_size):
        return list(range(in_size))

    def torch_module(self, row, w):
        return f"nn.AdaptiveAvgPool{row.layer.dims}d(1)"

    def keras_layers(self, row, w):
        return [f"layers.GlobalAveragePooling{row.layer.dims}D({'keepdims=True' if row.layer.keep else ''})"]


class Flatten(Op):
    word = "flatten"
    help = "flatten to features"
    keeps_shape = False
    flattens = True

    def out_channels(self, layer, in_channels, in_size):
        if in_channels is None:
            return None
        return in_channels * prod(in_size) if in_size is not None else in_channels

    def explain_row(self, row):
        if row.in_size is None:
            return ["already flat"]
        channels = "?" if row.in_channels is None else str(row.in_channels)
        features = "?" if row.features is None else str(row.features)
        return [f"{' · '.join([channels, *map(str, row.in_size)])} = {features} features"]

    def torch_module(self, row, w):
        return "nn.Flatten()"

    def keras_layers(self, row, w):
        return ["layers.Flatten()"]


class Linear(Op):
    word = "linear"
    help = "fully connected layer"
    takes = ("c", "nobias", "in", "x")
    required = ("c",)
    needs = "its number of output features, such as c10"
    bare = "c"
    token_help = (("c", "output features: c10"),)
    keeps_shape = False
    whole = True
    reads_flat = True

    def mixes_channels(self, layer):
        return True

    def build(self, get, dims):
        return {"channels": get("c")}

    def structure_error(self, layer, size, channels, flattened, convention):
        if size is not None:
            from ..diagnostics import linear_needs_flat

            return linear_needs_flat(channels, size)
        return None

    def out_channels(self, layer, in_channels, in_size):
        return layer.channels

    def field(self, layer, current, step, axis, in_size, last_spatial):
        return receptive.through_whole(current, last_spatial[axis])  # every feature of the flattened map

    def weights(self, layer, in_channels, out_channels, convention):
        if in_channels is None or out_channels is None:
            return None
        return in_channels * out_channels + (out_channels if layer.bias else 0), 0

    def macs(self, row, params, torchinfo, batch):
        per_token = batch * params if torchinfo else batch * row.in_channels * row.out_channels
        return per_token * (row.tokens or 1)  # on a sequence: the same product for every token

    def cost_lines(self, row, cost, torch_profile, times, convention):
        bias = f" + {row.out_channels}" if row.layer.bias else ""
        lines = [f"params {row.in_channels}·{row.out_channels}{bias} = {cost.params:,}"]
        if torch_profile:
            lines.append(f"MACs {row.in_channels}·{row.out_channels}{times} = {cost.macs:,}")
        return lines

    def explain_row(self, row):
        incoming = "?" if row.in_channels is None else row.in_channels
        return [f"{incoming} features → {row.out_channels}"]

    def torch_module(self, row, w):
        layer = row.layer
        bias = "" if layer.bias else ", bias=False"
        if row.in_channels is None:
            w.lazy(row, "nn.LazyLinear")
            return f"nn.LazyLinear({layer.channels}{bias})"
        return f"nn.Linear({row.in_channels}, {layer.channels}{bias})"

    def keras_layers(self, row, w):
        return [f"layers.Dense({row.layer.channels}{'' if row.layer.bias else ', use_bias=False'})"]


OPS = (Gap(), Flatten(), Linear())
