"""What every kind answers: the ``Op`` a kind module subclasses, with the behaviour of a
layer that keeps its input's shape and has no parameters (an activation, say).

Each method is one question an engine asks about a layer: its size on one axis, its
receptive-field step, its formula, its period for ``fit``, its checks, its costs, its
explanation and its code. The engines ask ``layer.kind.op``; they never list kinds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from ..arithmetic import AxisStep
from ..layers import Convention, Layer

if TYPE_CHECKING:
    from ..receptive import AxisField


def give(row) -> str:
    """What the user gives for an exported row's width to be known: the input channels,
    and after a flatten the input size too (the features there are C·H·W); or, in a forced
    export, why no option would (an earlier layer that does not run)."""
    if row.unknown:
        return row.unknown
    return "give -c and -i (after a flatten the features depend on the input size)" if row.flat_in else "give -c"


class TokenError(Exception):
    """A layer's tokens that do not go together: the message, and the token to point at."""

    def __init__(self, message: str, token):
        super().__init__(message)
        self.token = token


class Op:
    """One layer kind. Class attributes are its words and tokens (read by the grammar and
    the completions); methods are its numbers. The defaults keep the shape."""

    word: ClassVar[str]
    help: ClassVar[str]
    takes: ClassVar[tuple[str, ...]] = ("x",)  # the parameter-token prefixes it accepts (p covers psame/pvalid/pfull)
    required: ClassVar[tuple[str, ...]] = ()  # the ones it cannot do without, and
    needs: ClassVar[str] = ""  # how its error says so
    bare: ClassVar[str | None] = None  # the prefix a bare number after it most likely means (conv 3x3 is k3x3)
    refused_rules: ClassVar[tuple[str, ...]] = ()  # padding rules it cannot take at all
    torch_refused: ClassVar[tuple[str, ...]] = ()  # completion words only Keras takes
    token_help: ClassVar[tuple[tuple[str, str], ...]] = ()  # a prefix's meaning for this kind, where it differs
    after: ClassVar[tuple[tuple[str, str], ...]] = ()  # words that are no parameter tokens (crop, like)
    verb: ClassVar[str] = ""  # a merge: what it does with the tensors it names

    is_pool: ClassVar[bool] = False
    is_windowed: ClassVar[bool] = False  # output is floor((I + padding − effective kernel) / stride) + 1
    is_spatial: ClassVar[bool] = False  # needs spatial axes in its input
    is_adaptive: ClassVar[bool] = False  # its output size is given (o7), its windows follow from the input's
    is_merge: ClassVar[bool] = False  # reads several tensors: the named ones and the current one
    keeps_shape: ClassVar[bool] = True  # its output has its input's shape: norms, activations, dropout
    flattens: ClassVar[bool] = False  # its output is flat features
    shows_padding: ClassVar[bool] = False  # the table's padding column
    slides: ClassVar[bool] = False  # a window that a picture can draw sliding (conv, convt, pools)
    fractional_scale: ClassVar[bool] = False  # its s may be a decimal (up s1.5)
    crops: ClassVar[bool] = False  # a negative padding crops (pad: F.pad, Keras' Cropping2D), not an error
    whole: ClassVar[bool] = False  # its field is the whole map (gap, linear)
    reads_flat: ClassVar[bool] = False  # it takes flat features (linear)
    joins_channels: ClassVar[bool] = False  # a merge that concatenates channels (cat)
    has_groups: ClassVar[bool] = False  # takes g, which must divide its channels
    sets_channels: ClassVar[bool] = False  # its c sets its output channels (conv, convt)
    solvable: ClassVar[bool] = False  # convshape solve finds its parameters
    max_dilation: ClassVar[int | None] = None  # solve's bound on its dilation (None: solve's own)
    regroups_channels: ClassVar[bool] = False  # its output channels at one position read different pixels
    reads_channel_groups: ClassVar[bool] = False  # puts different input channels at different pixels
    refuses_some_sizes: ClassVar[bool] = False  # inputs above its least that fail (only multiples of s run)
    makes_tokens: ClassVar[bool] = False  # it makes a map a sequence of tokens (tokens)
    reads_tokens: ClassVar[bool] = False  # it needs a sequence of tokens (cls, posembed, attn, token)
    mixes_tokens: ClassVar[bool] = False  # each token reads every other (attn): its field is the whole map
    attends: ClassVar[bool] = False  # attention within windows: a position's field is its window's (merges
    # after it do not say that fields fail to line up: they are off the position by design)
    torch_name: ClassVar[str] = ""
    transposed: ClassVar[bool] = False  # a transposed conv: its kernel spreads each input over the output
    torch_classes: ClassVar[tuple[str, ...]] = ()  # the nn modules the print(model) reader reads as this kind
    onnx_ops: ClassVar[tuple[str, ...]] = ()  # the ONNX op types the ONNX reader reads as this kind

    # -- words ---------------------------------------------------------------------------
    def build(self, get, dims: int) -> dict:
        """The kind's own Layer fields from its tokens (``get(prefix, default)``)."""
        return {}

    def finish(self, fields: dict, tokens: dict, like) -> None:
        """Checks across its tokens (``tokens``: prefix to the token written), once built."""

    def stride_values(self, layer: Layer):
        """What the table's stride column shows."""
        return layer.stride

    def sized(self, layer: Layer) -> bool:
        """Its output size is given, not computed from the input's (o7, up like x)."""
        return False

    # -- sizes ---------------------------------------------------------------------------
    def resolve_padding(self, layer: Layer, axis: int, in_size: int, convention: Convention):
        """The (before, after) padding on ``axis``, with psame/pvalid/pfull resolved."""
        return layer.padding[axis] if layer.padding else (0, 0)

    def axis_step(self, layer: Layer, axis: int, in_size: int, convention: Convention, target=None) -> AxisStep:
        raise ValueError(f"{layer.kind.value} has no spatial axes")

    def out_channels(self, layer: Layer, in_channels: int | None, in_size) -> int | None:
        return in_channels

    def out_tokens(self, layer: Layer, tokens: int | None, size) -> int | None:
        """The tokens of its output, given its input's (None: not a sequence). Token-wise
        kinds (ln, linear, activations) keep the sequence; flatten ends it."""
        return None if self.flattens else tokens

    def fixed_size(self, layer: Layer) -> tuple[int, ...] | None:
        """The one input size it takes per axis (a check of the input, a layer built for one
        map), or None: fit then answers with the few input sizes that give it."""
        return None

    def token_error(self, layer: Layer, tokens: int, width: int | None):
        """A finding about the sequence it gets (``tokens`` of width ``width``), or None."""
        return None

    def drops_axes(self, layer: Layer, convention: Convention) -> bool:
        """Whether it removes the spatial axes as a pool does (gap under tf); flatten is ``flattens``."""
        return False

    # -- receptive field -----------------------------------------------------------------
    def field(self, layer: Layer, current: AxisField, step: AxisStep | None, axis: int, in_size, last_spatial):
        """The field after the layer on one axis (None: no longer tracked)."""
        return current

    def mixes_channels(self, layer: Layer) -> bool:
        """Each output channel reads every input channel (a conv without groups, linear): after
        it, every channel at a position reads the same pixels again."""
        return False

    def growth(self, layer: Layer, step: AxisStep, axis: int) -> int:
        """The period by which a field stopped being tracked grew here, for its note."""
        return 1

    # -- checks (diagnostics as data) ----------------------------------------------------
    def structure_error(self, layer: Layer, size, channels, flattened, convention: Convention):
        return None

    def convention_error(self, layer: Layer, convention: Convention, axes):
        return None

    def refused_size(self, layer: Layer, step: AxisStep, axis: str, convention: Convention):
        """A framework's refusal of an input size that still gives an output (avg_pool3d's)."""
        return None

    def too_small(self, step: AxisStep, axis: str):
        from ..diagnostics import Code, Diagnostic

        return Diagnostic(Code.OUTPUT_TOO_SMALL, (axis,), {"out_size": step.out_size})

    def axis_findings(self, layer: Layer, step: AxisStep, axis: str, convention: Convention) -> list:
        return []

    # -- formulas and fit ----------------------------------------------------------------
    def formula(self, layer: Layer, axis: int, before, convention: Convention):
        """The output size as an expression of the input's (see ``formula``), and whether exact."""
        from ..formula import Step

        return Step(before, True)

    def formula_text(self, layer: Layer, axis: int, convention: Convention) -> str:
        """The formula with ``{x}`` for the input, as --explain shows it."""
        return "1"

    def constant_output(self, layer: Layer, axis: int) -> int | None:
        """The output size whatever the input (gap, o7), or None."""
        return None

    def period(self, layer: Layer, axis: int) -> int:
        """How much the input must grow to move the output by a whole step."""
        return 1

    def offset_only(self, layer: Layer) -> bool:
        """With period 1: the output is the input plus a constant (a pad, a stride-1 window)."""
        return True

    def estimate(self, layer: Layer, axis: int, needed_out: int) -> int:
        """Roughly the input that gives ``needed_out``: where a search starts."""
        return needed_out

    def shrink(self, layer: Layer) -> int:
        """By how much it divides a size at most (strides, scales below 1)."""
        return 1

    def least_input(self, layer: Layer, convention: Convention) -> int:
        """The smallest size per axis its input may have."""
        return 1

    # -- explanation ---------------------------------------------------------------------
    def explain_step(self, step: AxisStep) -> str:
        return ""

    def explain_row(self, row) -> list[str] | None:
        """Lines for a row whose axes do not explain it (flatten, linear, merges), or None."""
        return None

    # -- pictures -------------------------------------------------------------------------
    def sources(self, layer: Layer, step, o: int, in_size: int) -> list[int]:
        """The positions on one axis of its input that output position ``o`` reads."""
        return [o]

    def picture_extent(self, layer: Layer, step, in_size: int) -> tuple[int, int]:
        """How many cells ``picture_cells`` draws on one axis and the stride of its windows, before
        any is made: a picture past the readable width is refused without building it."""
        return 0, 1

    def picture_cells(self, layer: Layer, step, in_size: int):
        """The cells a layer picture draws on one axis and the stride of its windows (slides only)."""
        return None

    # -- costs ---------------------------------------------------------------------------
    def weights(self, layer: Layer, in_channels: int | None, out_channels: int | None, convention: Convention):
        """(params, buffers), or None where they need channels nobody gave."""
        return 0, 0

    def macs(self, row, params: int, torchinfo: bool, batch: int) -> int:
        return batch * params if torchinfo else 0

    def formula_macs(self, layer: Layer, in_channels, out_channels, out, source, Formula):  # noqa: N803
        """MACs without an input size, as a formula (``counts.Formula``) of the output's elements
        ``out`` or the input's ``source``; None where no formula says them."""
        return 0

    def batch_counters(self, convention: Convention) -> int:
        """Buffers counted per batch seen, not per channel (torch's BatchNorm has one)."""
        return 0

    def cost_lines(self, row, cost, torch_profile: bool, times: str, convention: Convention) -> list[str]:
        if cost.params or cost.buffers:
            return [f"params {cost.params:,}"]
        return ["keeps the shape; no parameters"] if self.keeps_shape else []

    # -- import --------------------------------------------------------------------------
    def from_torch(self, name: str, args: list, kwargs: dict) -> str | None:
        """The layer's text for torch's module ``name`` (one of ``torch_classes``) built with these
        arguments, or None where they make something convshape has no layer for."""
        return None

    def from_onnx(self, op_type: str, attributes: dict) -> str | None:
        """The layer's text for an ONNX node (one of ``onnx_ops``) with these attributes, or None."""
        return None

    # -- code ----------------------------------------------------------------------------
    def torch_module(self, row, w):
        """The torch module's constructor text for export's row ``row`` (``w``: the writer's
        helpers), or None where torch has none for it."""
        return None

    def keras_layers(self, row, w):
        """The Keras layers' constructor texts, applied in order, or None where Keras has none."""
        return None
