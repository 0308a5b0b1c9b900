"""A vision transformer's rows: a map made a sequence of tokens, a class token, a learned
position embedding, multi-head self-attention, and one token taken out for the head.

``tokens`` is ``x.flatten(2).transpose(1, 2)``: a C×H×W map becomes H·W tokens of width C,
row-major, as torchvision's ViT and Keras' ``Reshape((-1, C))`` order them. After it the
tensor is a sequence: spatial kinds refuse it, and the token-wise kinds (``ln``, ``linear``,
activations, dropout, ``add``) act on each token's width and keep the sequence. A token's
receptive field is its patch's until a row mixes tokens (``attn``), after which every
token sees the whole map. The counts are the modules': ``nn.MultiheadAttention(C, h)``
holds 4·C² + 4·C parameters, and FlopCounterMode counts its three input projections and
its output projection (4·N·C² MACs) and scaled dot-product attention's two products
(2·N²·C: QKᵀ and its product with V, over all heads).
"""

from __future__ import annotations

from .. import receptive
from ..diagnostics import KindCode, Level
from .base import Op, give

NEEDS_TOKENS = KindCode(
    "needs_tokens", Level.ERROR,
    "{kind} works on a sequence of tokens, but {what}: make the map a sequence with 'tokens' first")
HEADS_DIVIDE = KindCode(
    "heads_divide", Level.ERROR,
    "{width} is not a multiple of {heads} heads: PyTorch fails with 'embed_dim must be divisible by num_heads'")
POSITIONS = KindCode(
    "positions", Level.ERROR,
    "the position embedding holds {positions} tokens and the sequence has {tokens}: PyTorch fails with 'The size "
    "of tensor a ({tokens}) must match the size of tensor b ({positions}) at non-singleton dimension 1'", True)
UNANSWERED = KindCode(
    "sequence_needs_size", Level.ERROR,
    "fit and calc without -i do not follow a sequence of tokens yet (its length is a product over the axes, and a "
    "position embedding fixes it): give -i")
TOKEN_INDEX = KindCode(
    "token_index", Level.ERROR,
    "the sequence has {tokens} tokens: there is no token {index} (PyTorch fails with 'index {index} is out of "
    "bounds for dimension 1 with size {tokens}')", True)

_TOKENS = '''

class Tokens(nn.Module):
    """A map to a sequence: N×C×H×W to N×(H·W)×C, as a vision transformer's patches."""

    def forward(self, x):
        return x.flatten(2).transpose(1, 2)
'''
_CLASS_TOKEN = '''

class ClassToken(nn.Module):
    """A learned token put before the sequence, as ViT's class token."""

    def __init__(self, width):
        super().__init__()
        self.token = nn.Parameter(torch.zeros(1, 1, width))

    def forward(self, x):
        return torch.cat([self.token.expand(x.shape[0], -1, -1), x], dim=1)
'''
_POSITIONS = '''

class PositionEmbedding(nn.Module):
    """A learned embedding added to each position of a sequence of a fixed length."""

    def __init__(self, tokens, width):
        super().__init__()
        self.embedding = nn.Parameter(torch.zeros(1, tokens, width))

    def forward(self, x):
        return x + self.embedding
'''
_ATTENTION = '''

class SelfAttention(nn.Module):
    """Multi-head self-attention over a sequence, as ViT's encoder block."""

    def __init__(self, width, heads, bias=True):
        super().__init__()
        self.attention = nn.MultiheadAttention(width, heads, bias=bias, batch_first=True)

    def forward(self, x):
        return self.attention(x, x, x, need_weights=False)[0]
'''


class TokenOp(Op):
    """A kind that reads a sequence of tokens (the engines check that it gets one)."""

    keeps_shape = False
    reads_tokens = True


class Tokens(Op):
    word = "tokens"
    help = "a map as a sequence of tokens"
    keeps_shape = False
    makes_tokens = True

    def out_tokens(self, layer, tokens, size):
        return None if size is None else _product(size)

    def explain_row(self, row):
        if row.in_size is None:
            return None
        return [f"{' · '.join(map(str, row.in_size))} = {row.tokens} tokens of width {row.out_channels}"]

    def cost_lines(self, row, cost, torch_profile, times, convention):
        return [f"{'×'.join(map(str, row.in_size))} positions as {row.tokens} tokens; no parameters"]

    def torch_module(self, row, w):
        w.helper(_TOKENS)
        return "Tokens()"

    def keras_layers(self, row, w):
        if row.out_channels is None:
            raise w.error(f"its channels are unknown: {give(row)}", row)
        return [f"layers.Reshape((-1, {row.out_channels}))"]


class ClassToken(TokenOp):
    word = "cls"
    help = "a class token before the sequence"

    def out_tokens(self, layer, tokens, size):
        return None if tokens is None else tokens + 1

    def weights(self, layer, in_channels, out_channels, convention):
        return None if in_channels is None else (in_channels, 0)

    def cost_lines(self, row, cost, torch_profile, times, convention):
        return [f"one token of width {row.in_channels}: params {cost.params:,}"]

    def torch_module(self, row, w):
        if row.in_channels is None:
            raise w.error(f"its width is unknown: {give(row)}", row)
        w.helper(_CLASS_TOKEN)
        return f"ClassToken({row.in_channels})"


class PositionEmbedding(TokenOp):
    word = "posembed"
    help = "a learned position embedding, added"
    takes = ("n", "in", "x")
    required = ("n",)
    needs = "the number of tokens it is learned for, such as n197 (ViT-B/16 at 224: 14·14 + 1)"
    bare = "n"
    token_help = (("n", "the tokens it holds: n197"),)

    def build(self, get, dims):
        return {"positions": get("n")}

    def token_error(self, layer, tokens, width):
        from ..diagnostics import Diagnostic

        if tokens != layer.positions:
            return Diagnostic(POSITIONS, (), {"positions": layer.positions, "tokens": tokens})
        return None

    def weights(self, layer, in_channels, out_channels, convention):
        return None if in_channels is None else (layer.positions * in_channels, 0)

    def cost_lines(self, row, cost, torch_profile, times, convention):
        return [f"params {row.layer.positions}·{row.in_channels} = {cost.params:,}"]

    def torch_module(self, row, w):
        if row.in_channels is None:
            raise w.error(f"its width is unknown: {give(row)}", row)
        w.helper(_POSITIONS)
        return f"PositionEmbedding({row.layer.positions}, {row.in_channels})"


class Attention(TokenOp):
    word = "attn"
    help = "multi-head self-attention"
    takes = ("h", "nobias", "in", "x")
    required = ("h",)
    needs = "its number of heads, such as h12"
    bare = "h"
    token_help = (("h", "heads, which divide the width: h12"),)
    mixes_tokens = True

    def build(self, get, dims):
        return {"groups": get("h")}

    def mixes_channels(self, layer):
        return True

    def token_error(self, layer, tokens, width):
        from ..diagnostics import Diagnostic

        if width is not None and (layer.groups < 1 or width % layer.groups):
            return Diagnostic(HEADS_DIVIDE, (), {"width": width, "heads": layer.groups})
        return None

    def field(self, layer, current, step, axis, in_size, last_spatial):
        return receptive.through_all(current, last_spatial[axis])  # every token reads every other

    def weights(self, layer, in_channels, out_channels, convention):
        if in_channels is None:
            return None
        return 4 * in_channels * in_channels + (4 * in_channels if layer.bias else 0), 0

    def macs(self, row, params, torchinfo, batch):
        n, c = row.tokens, row.in_channels
        return batch * (4 * n * c * c + 2 * n * n * c)

    def cost_lines(self, row, cost, torch_profile, times, convention):
        n, c, h = row.tokens, row.in_channels, row.layer.groups
        bias = f" + 4·{c}" if row.layer.bias else ""
        lines = [f"{h} heads of width {c // h}: params 4·{c}²{bias} = {cost.params:,}"]
        if torch_profile:
            lines.append(f"MACs 4·{n}·{c}² (projections) + 2·{n}²·{c} (QKᵀ, ·V){times} = {cost.macs:,}")
        return lines

    def explain_row(self, row):
        if row.in_channels is None:
            return None
        return [f"{row.tokens} tokens of width {row.in_channels} in {row.layer.groups} heads of "
                f"{row.in_channels // row.layer.groups}: the sequence kept, each token reading every other"]

    def torch_module(self, row, w):
        if row.in_channels is None:
            raise w.error(f"its width is unknown: {give(row)}", row)
        w.helper(_ATTENTION)
        bias = "" if row.layer.bias else ", bias=False"
        return f"SelfAttention({row.in_channels}, {row.layer.groups}{bias})"

    def keras_layers(self, row, w):
        c, h = row.in_channels, row.layer.groups
        if c is None:
            raise w.error(f"its width is unknown: {give(row)}", row)
        bias = "" if row.layer.bias else ", use_bias=False"
        # Self-attention is the layer called on its input twice (query, value): a function, not a layer
        return [f"(lambda t, attention=layers.MultiHeadAttention({h}, {c // h}{bias}): attention(t, t))"]


class Token(TokenOp):
    word = "token"
    help = "one token as features: x[:, i]"
    takes = ("i", "x")
    required = ("i",)
    needs = "which token, such as i0 (ViT's class token)"
    token_help = (("i", "the token, from 0 (negative: from the end): i0"),)
    flattens_tokens = True

    def build(self, get, dims):
        return {"part": get("i", 0)}

    def token_error(self, layer, tokens, width):
        from ..diagnostics import Diagnostic

        if not -tokens <= layer.part < tokens:
            return Diagnostic(TOKEN_INDEX, (), {"tokens": tokens, "index": layer.part})
        return None

    def out_tokens(self, layer, tokens, size):
        return None

    def cost_lines(self, row, cost, torch_profile, times, convention):
        return [f"token {row.layer.part} of {row.in_tokens}: {row.out_channels} features; no parameters"]

    def torch_module(self, row, w):
        w.helper('''

class Token(nn.Module):
    """One token of a sequence, as features: x[:, index]."""

    def __init__(self, index):
        super().__init__()
        self.index = index

    def forward(self, x):
        return x[:, self.index]
''')
        return f"Token({row.layer.part})"

    def keras_layers(self, row, w):
        return [f"layers.Lambda(lambda t: t[:, {row.layer.part}])"]


def _product(size) -> int:
    total = 1
    for value in size:
        total *= value
    return total


OPS = (Tokens(), ClassToken(), PositionEmbedding(), Attention(), Token())
