"""Channel split and channel shuffle, ShuffleNet's two moves: ``chunk g2 i0`` is
``x.chunk(2, dim=1)[0]`` (one part of the channels; a ShuffleNet unit keeps part 0 and
runs part 1 through its branch), and ``channelshuffle g2`` is ``nn.ChannelShuffle(2)``
(the channels read in g groups and interleaved). Both keep every position's pixels: the
spatial size and the receptive field pass through, only the channels change.

torch.chunk's parts hold ceil(C/g) channels each, the last one what is left, so that
there may be fewer than g parts (6 channels in 4 chunks are 2, 2, 2); an index names a
part as Python does, from the end when negative.
"""

from __future__ import annotations

from ..diagnostics import Code, Diagnostic, KindCode, Level
from .base import Op, give

CHUNKS_BELOW_1 = KindCode(
    "chunks_below_1", Level.ERROR,
    "chunk into {chunks} parts: PyTorch fails with 'chunk expects `chunks` to be greater than 0, got: {chunks}'")
CHUNK_INDEX = KindCode(
    "chunk_index", Level.ERROR,
    "{channels} channels in {chunks} chunks of at most {size} make {parts} part{s}: there is no part {index} "
    "(PyTorch fails with 'tuple index out of range')")
SHUFFLE_GROUPS = KindCode(
    "shuffle_groups", Level.ERROR,
    "{channels} channels are not a multiple of {groups} groups: PyTorch fails with 'Number of channels must be "
    "divisible by groups. Got {channels} channels and {groups} groups.'")
SHUFFLE_GROUPS_BELOW_1 = KindCode(
    "shuffle_groups_below_1", Level.ERROR,
    "{groups} groups: PyTorch fails with 'Number of groups to divide channels in must be positive. Value of "
    "groups:{groups}'")

_CHUNK = '''

class Chunk(nn.Module):
    """One part of the channels, x.chunk(chunks, dim=1)[index], as ShuffleNet's channel split."""

    def __init__(self, chunks, index):
        super().__init__()
        self.chunks, self.index = chunks, index

    def forward(self, x):
        return x.chunk(self.chunks, dim=1)[self.index]
'''


def parts(channels: int, chunks: int) -> tuple[int, ...]:
    """The channels of each part of torch.chunk.

    >>> parts(116, 2), parts(5, 2), parts(6, 4)
    ((58, 58), (3, 2), (2, 2, 2))
    """
    size = -(-channels // chunks)
    return tuple(min(size, channels - start) for start in range(0, channels, size))


class Chunk(Op):
    word = "chunk"
    help = "a part of the channels: x.chunk(g, dim=1)[i]"
    takes = ("g", "i", "x")
    required = ("g", "i")
    needs = "the number of parts and the part, such as g2 i0 (x.chunk(2, dim=1)[0])"
    token_help = (("g", "the number of chunks: g2"), ("i", "the part, from 0 (negative: from the end): i0"))

    def build(self, get, dims):
        return {"groups": get("g", 2), "part": get("i", 0)}

    def structure_error(self, layer, size, channels, flattened, convention):
        if layer.groups < 1:
            return Diagnostic(CHUNKS_BELOW_1, (), {"chunks": layer.groups})
        if channels is None:
            return None
        found = parts(channels, layer.groups)
        if not -len(found) <= layer.part < len(found):
            return Diagnostic(CHUNK_INDEX, (), {"channels": channels, "chunks": layer.groups, "parts": len(found),
                                                "s": "" if len(found) == 1 else "s", "index": layer.part,
                                                "size": found[0]})
        return None

    def out_channels(self, layer, in_channels, in_size):
        if in_channels is None or layer.groups < 1:
            return None
        found = parts(in_channels, layer.groups)
        return found[layer.part] if -len(found) <= layer.part < len(found) else None

    def cost_lines(self, row, cost, torch_profile, times, convention):
        return [f"part {row.layer.part} of {row.layer.groups}: {row.out_channels} of {row.in_channels} channels;"
                " no parameters"]

    def explain_row(self, row):
        if row.in_channels is None:
            return None
        return [f"chunk {row.layer.groups}: {' + '.join(map(str, parts(row.in_channels, row.layer.groups)))} "
                f"channels; part {row.layer.part} has {row.out_channels}"]

    def torch_module(self, row, w):
        w.helper(_CHUNK)
        return f"Chunk({row.layer.groups}, {row.layer.part})"

    def keras_layers(self, row, w):
        if row.in_channels is None:
            raise w.error(f"its channels are unknown: {give(row)}", row)
        found = parts(row.in_channels, row.layer.groups)
        index = row.layer.part % len(found)
        start = sum(found[:index])
        return [f"layers.Lambda(lambda t: t[..., {start}:{start + found[index]}])"]


class ChannelShuffle(Op):
    word = "channelshuffle"
    help = "channel shuffle in g groups, as ShuffleNet's"
    takes = ("g", "in", "x")
    required = ("g",)
    needs = "its groups, such as g2"
    bare = "g"
    torch_classes = ("ChannelShuffle",)
    token_help = (("g", "groups: g2"),)

    def build(self, get, dims):
        return {"groups": get("g", 2)}

    def structure_error(self, layer, size, channels, flattened, convention):
        if size is None:  # torch: 'channel_shuffle expects input with > 2 dims'
            return Diagnostic(Code.SPATIAL_AFTER_FLATTEN, (), {"kind": self.word, "reason": flattened})
        if layer.groups < 1:
            return Diagnostic(SHUFFLE_GROUPS_BELOW_1, (), {"groups": layer.groups})
        if channels is not None and channels % layer.groups:
            return Diagnostic(SHUFFLE_GROUPS, (), {"channels": channels, "groups": layer.groups})
        return None

    def cost_lines(self, row, cost, torch_profile, times, convention):
        return [f"{row.in_channels} channels in {row.layer.groups} groups, interleaved; no parameters"]

    def torch_module(self, row, w):
        return f"nn.ChannelShuffle({row.layer.groups})"

    def keras_layers(self, row, w):
        g = row.layer.groups
        return [f"layers.Lambda(lambda t: keras.ops.reshape(keras.ops.swapaxes(keras.ops.reshape("
                f"t, (-1, *t.shape[1:-1], {g}, t.shape[-1] // {g})), -1, -2), (-1, *t.shape[1:])))"]

    def from_torch(self, name, args, kwargs):
        groups = args[0] if args else kwargs.get("groups")
        return f"channelshuffle g{groups}" if isinstance(groups, int) else None


OPS = (Chunk(), ChannelShuffle())
