"""Stack text to layers: the tokenizer, the parser and ``ParseError``.

A stack is a sequence of layers; a layer is a kind keyword followed by parameter
tokens (``conv k3 s2 p1 c64 x2``). Commas, semicolons and newlines end a layer, but
are optional since every kind keyword starts a new one. ``#`` starts a comment.
"""

# Annotations evaluated, not strings: see the note in layers.py (a NamedTuple's string fields cost start-up).
import re
from functools import lru_cache
from typing import NamedTuple

from .arithmetic import exact_ratio
from .kinds import KIND_WORDS, Kind
from .ops.base import TokenError
from .layers import Layer, MergeMode, PaddingRule, layer_label

ARGS_SOURCE = "<command line>"

# Words of the graph: `@name` binds, `from name` reads, merges take names and a modifier.
MODIFIERS = ("crop", "pad")
FROM, LIKE = "from", "like"
REPEAT, BLOCK, END = "repeat", "block", "end"
KEYWORDS = (*MODIFIERS, FROM, LIKE, REPEAT, BLOCK, END)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# One line per token prefix: what it means, for messages and completions.
TOKEN_HELP: dict[str, str] = {
    "k": "kernel size: k3, k3x5",
    "s": "stride (scale factor for up): s2, s2x1, s1.5",
    "p": "padding: p1, p1x2, p0:1, psame, pvalid, pfull",
    "d": "dilation: d2",
    "c": "output channels (features for linear): c64",
    "g": "groups: g32",
    "op": "output padding (convt): op1",
    "ceil": "ceil mode (pools)",
    "nobias": "no bias (conv, convt, linear)",
    "dw": "depthwise: groups = input channels (conv, convt)",
    "keep": "gap: keep the 1×1 map under tf too (Keras' keepdims=True)",
    "noscale": "bn without its scale (Keras' scale=False)",
    "nocenter": "bn without its shift (Keras' center=False)",
    "v2": "wattn, patchmerge: Swin V2's variant",
    "o": "output size (adaptive pools, up): o7, o7x5",
    "x": "repeat the layer: x3",
    "in": "the input channels the model gives the layer (in_features for linear), checked: in64",
    "i": "chunk: the part, token: the token, from 0: i0",
    "h": "attn: heads: h12",
    "n": "posembed: the tokens it holds: n197",
}

# Values are read with their sign: a kernel of -3 is text the grammar reads and the
# framework refuses (an error diagnostic, exit 1), as a kernel of 0 is.
MAX_DIGITS = 18  # every value fits PyTorch's int64; more digits is a typo, not a size


def _digits(text: str) -> bool:
    """``[0-9]+``: ASCII digits only, since a fullwidth ３ reads as 3 but is two cells wide."""
    return text.isascii() and text.isdigit()


def _integer(text: str) -> bool:
    """``-?[0-9]+``"""
    return _digits(text[1:] if text[:1] == "-" else text)


def _decimal_text(text: str) -> bool:
    """``-?[0-9]+(.[0-9]+)?``"""
    whole, dot, decimals = text.partition(".")
    return _integer(whole) and (not dot or _digits(decimals))


def _padding_text(text: str) -> bool:
    """``-?[0-9]+(:-?[0-9]+)?``: one amount for both sides, or before:after."""
    before, colon, after = text.partition(":")
    return _integer(before) and (not colon or _integer(after))


def _per_axis(one):
    """Values of ``one``'s form, one per axis, joined by ``x`` (``3x5``)."""
    return lambda text: all(one(part) for part in text.split("x"))


PADDING_RULES = ("same", "valid", "full")
# The value each prefix takes. Read by hand, not by one regular expression of them all: its
# compilation cost every start more than half a millisecond.
TOKEN_VALUES = {
    "k": _per_axis(_integer),
    "s": _per_axis(_decimal_text),
    "p": _per_axis(_padding_text),
    "d": _per_axis(_integer),
    "op": _per_axis(_integer),
    "c": _integer,
    "g": _integer,
    "o": _per_axis(_integer),
    "x": _integer,
    "in": _integer,
    "i": _integer,
    "h": _integer,
    "n": _integer,
}
_WORD = re.compile(r"[^\s,;#]+|[,;]")


class Token(NamedTuple):
    """A piece of stack text that knows where it came from (1-based line and column, and
    the text it is in where that is not the one being read: a block's body from a file)."""

    text: str
    line: int
    column: int
    source: object = None


class ParseError(Exception):
    """Text that is not a stack: carries where, what, and the nearest valid token."""

    def __init__(
        self,
        message: str,
        *,
        source: str = ARGS_SOURCE,
        line: int = 1,
        column: int = 1,
        length: int = 1,
        line_text: str = "",
        suggestion: str | None = None,
    ) -> None:
        self.message = message
        self.source = source
        self.line = line
        self.column = column
        self.length = max(length, 1)
        self.line_text = line_text
        self.suggestion = suggestion
        super().__init__(self.headline())

    def headline(self) -> str:
        hint = f" (did you mean '{self.suggestion}'?)" if self.suggestion else ""
        if self.source.startswith("--") or self.source == "input_size":  # an option's value, not stack text
            return f"{self.source}: {self.message}{hint}"
        return f"{self.source}:{self.line}:{self.column}: {self.message}{hint}"

    def render(self) -> str:
        """The headline, then the offending line with carets under the token; control
        characters (a NUL in a file) are shown escaped, never sent to the terminal.

        >>> print(ParseError("unknown token 'kk3'", column=6, length=3, line_text="conv kk3").render())
        <command line>:1:6: unknown token 'kk3'
          conv kk3
               ^^^
        """
        if not self.line_text or len(self.line_text) > 300:  # a line that long would bury the message
            return visible(self.headline())
        prefix = visible(self.line_text[: self.column - 1])
        token = visible(self.line_text[self.column - 1: self.column - 1 + self.length])
        indent = "".join("\t" if ch == "\t" else " " for ch in prefix)
        return f"{visible(self.headline())}\n  {visible(self.line_text)}\n  {indent}{'^' * max(len(token), 1)}"


class Stack(NamedTuple):
    """Parsed layers (repeats expanded) and the number of spatial axes they agree on."""

    layers: tuple[Layer, ...]
    dims: int
    axes_from: str = "input"  # what set the number of axes: input, --dims, default, or a layer's token
    layers_claim: bool = False  # some layer says how many axes it has (conv3d, k3x3x3)
    # The graph: the rows a row reads (0 is the input), for each row that does not read just
    # the row before it; and the names bound after each row. A chain has neither.
    reads: dict[int, tuple[int, ...]] = {}
    binds: dict[int, tuple[str, ...]] = {}

    def inputs(self, index: int) -> tuple[int, ...]:
        """The rows row ``index`` reads, in order (a merge's named inputs, then the current one)."""
        return self.reads.get(index) or (index - 1,)

    @property
    def output_rows(self) -> tuple[int, ...]:
        """The rows whose results leave the network: see ``output_rows``."""
        return output_rows(len(self.layers), self.reads, self.binds)


def output_rows(count: int, reads: dict, binds: dict) -> tuple[int, ...]:
    """The rows whose results leave the network, in order: each row bound to a name that no
    row reads (an FPN's levels), and the last row.

    >>> output_rows(4, {3: (1,)}, {1: ("a",), 2: ("b",)})
    (2, 4)
    """
    read = {source for index in range(1, count + 1) for source in (reads.get(index) or (index - 1,))}
    return tuple(sorted({row for row in binds if 0 < row < count and row not in read} | ({count} if count else set())))


def visible(text: str) -> str:
    r"""Text with control characters (but tabs) escaped, for a terminal.

    >>> print(visible("k3\x00x"))
    k3\x00x
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch == "\t" else repr(ch)[1:-1] for ch in text)


def quoted(text: str, limit: int = 24) -> str:
    """A token for a message: shortened when it is long (a 5,000-digit number).

    >>> quoted("k" + "9" * 30)
    "'k999999999999999999999…' (31 characters)"
    """
    if len(text) <= limit:
        return f"'{text}'"
    return f"'{text[:limit - 2]}…' ({len(text)} characters)"


def _levenshtein(a: str, b: str) -> int:
    """Edits between two words, a swap of neighbours counting as one (``covn``: conv is 1)."""
    rows = [list(range(len(b) + 1))]
    for i, ca in enumerate(a, 1):
        row = [i]
        for j, cb in enumerate(b, 1):
            cost = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, rows[-2][j - 2] + 1)
            row.append(cost)
        rows.append(row)
    return rows[-1][-1]


def nearest(word: str, candidates: list[str], max_distance: int = 2) -> str | None:
    """The closest candidate within ``max_distance`` edits, ties broken alphabetically.

    >>> nearest("covn", ["conv", "convt", "pad"])
    'conv'
    """
    scored = sorted((_levenshtein(word, c), c) for c in set(candidates))
    if scored and scored[0][0] <= max_distance and scored[0][0] < len(word):
        return scored[0][1]
    return None


class _Source:
    """The text being parsed, for building errors that point into it."""

    def __init__(self, text: str, name: str) -> None:
        self.name = name
        self.lines = text.split("\n")

    def error(self, message: str, token: Token, suggestion: str | None = None) -> ParseError:
        if token.source is not None and token.source is not self:
            return token.source.error(message, token, suggestion)
        line_text = self.lines[token.line - 1] if token.line <= len(self.lines) else ""
        return ParseError(
            message,
            source=self.name,
            line=token.line,
            column=token.column,
            length=len(token.text),
            line_text=line_text.rstrip("\r"),
            suggestion=suggestion,
        )


SEPARATOR = None  # a layer boundary in the token stream


def tokenize(text: str) -> list[Token | None]:
    """Split stack text into tokens, with ``None`` where a layer must end.

    >>> [t.text if t else ',' for t in tokenize("conv k3, pool  # stem")]
    ['conv', 'k3', ',', 'pool', ',']
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    tokens: list[Token | None] = []
    for line_number, line in enumerate(text.split("\n"), 1):
        line = line.rstrip("\r")
        code = line.split("#", 1)[0]
        for match in _WORD.finditer(code):
            word = match.group()
            if word in (",", ";"):
                tokens.append(SEPARATOR)
            else:
                tokens.append(Token(word, line_number, match.start() + 1))
        tokens.append(SEPARATOR)
    return tokens


@lru_cache(maxsize=256)
def parse_kind(word: str) -> tuple[Kind, int | None] | None:
    """A kind keyword and the axes its name carries (``conv2d`` -> conv, 2), or None.

    >>> parse_kind("MaxPool3d")
    (<Kind.MAXPOOL: 'maxpool'>, 3)
    """
    word = word.lower()
    if word in KIND_WORDS:
        return KIND_WORDS[word], None
    name, axes, d = word[:-2], word[-2:-1], word[-1:]  # conv2d, maxpool3d
    if d == "d" and axes in ("1", "2", "3") and name in KIND_WORDS:
        kind = KIND_WORDS[name]
        if kind.is_spatial:
            return kind, int(axes)
        if kind.keeps_shape:  # BatchNorm2d, Dropout2d: the same layer; BatchNorm1d also follows a Linear
            return kind, None
    return None


def _kind_candidates() -> list[str]:
    return list(KIND_WORDS)


def _token_candidates(kind: Kind, word: str) -> list[str]:
    """Valid tokens for ``kind`` built from the digits in ``word``, for suggestions."""
    return [c for c in _token_shapes(kind, word) if c != word and _classify(c) is not None]


def _token_shapes(kind: Kind, word: str) -> list[str]:
    tail = re.sub(r"^[a-z]*", "", word)
    candidates = [re.sub(r"[^0-9a-z]+$|x$", "", word)]  # a stray separator at the end: 'p1:', 's2x'

    for prefix in kind.op.takes:
        if prefix in FLAGS:
            candidates.append(prefix)
        elif prefix == "p":
            candidates += ["p" + rule for rule in PADDING_RULES] + ([f"p{tail}"] if tail else [])
        elif tail:
            candidates.append(prefix + tail)
    return candidates


def _split_values(body: str) -> list[str]:
    return body.split("x")


class _RawLayer:
    """A layer while it is being read: its tokens so far."""

    __slots__ = ("kind", "kind_token", "dims_from_name", "text", "values", "src", "operands", "mode", "like")

    def __init__(self, kind: Kind, kind_token: Token, dims_from_name: int | None, text: str, values: dict,
                 src: _Source) -> None:
        self.kind = kind
        self.kind_token = kind_token
        self.dims_from_name = dims_from_name
        self.text = text
        self.values: dict[str, tuple[Token, object]] = values
        self.src = src
        self.operands: list[Token] | None = None  # merges: the names read besides the current tensor
        self.mode: MergeMode | None = None
        self.like: Token | None = None  # `up like NAME`


class _Mark:
    """``@name`` (what = "bind") or ``from name`` (what = "from"), where it was written."""

    __slots__ = ("what", "name", "token", "src")

    def __init__(self, what: str, name: str, token: Token, src: _Source) -> None:
        self.what, self.name, self.token, self.src = what, name, token, src


FLAGS = ("ceil", "nobias", "dw", "keep", "noscale", "nocenter", "v2")  # tokens that are words alone, without a value


@lru_cache(maxsize=4096)
def _classify(word: str) -> tuple[str, str] | None:
    """(prefix, value text) of a parameter token, or None: ``k3x5`` -> ('k', '3x5').

    >>> _classify("K3x5"), _classify("psame"), _classify("nobias"), _classify("k3y")
    (('k', '3x5'), ('p', 'same'), ('nobias', ''), None)
    """
    word = word.lower()
    if word in FLAGS:
        return word, ""
    split = 0
    while split < len(word) and "a" <= word[split] <= "z":
        split += 1
    prefix, value = word[:split], word[split:]
    if prefix[:1] == "p" and not value and prefix[1:] in PADDING_RULES:
        return "p", prefix[1:]
    takes = TOKEN_VALUES.get(prefix)
    return (prefix, value) if takes is not None and takes(value) else None


def _decimal(text: str):
    """``2`` -> 2, ``1.5`` -> Fraction(3, 2): decimal text, exactly."""
    whole, _, decimals = text.partition(".")
    return exact_ratio(int(whole + decimals), 10 ** len(decimals))


def _parse_param(prefix: str, body: str, kind: Kind, token: Token, src: _Source) -> object:
    if prefix in ("k", "d", "op", "o"):
        return [int(v) for v in _split_values(body)]
    if prefix == "s":
        values = [_decimal(v) for v in _split_values(body)]
        if not kind.op.fractional_scale and any(v.denominator != 1 for v in values):
            raise src.error(f"{kind.value} takes a whole-number stride, not '{token.text}'", token)
        return values
    if prefix == "p":
        if body in ("same", "valid", "full"):
            return PaddingRule(body)
        pairs = []
        for part in _split_values(body):
            before, _, after = part.partition(":")
            pairs.append((int(before), int(after if after else before)))
        return pairs
    if prefix in ("c", "g", "in", "i", "h", "n"):
        return int(body)
    if prefix == "x":
        count = int(body)
        if count < 1:
            raise src.error(f"a layer repeats at least once, not '{token.text}'", token)
        return count
    return True  # a flag: ceil, nobias, dw


_WHAT = {
    "k": "kernel",
    "s": "stride",
    "p": "padding",
    "d": "dilation",
    "op": "output padding",
    "c": "channels",
    "g": "groups",
    "o": "output size",
    "x": "repeat count",
    "in": "the declared input channels",
    "i": "the part or token",
    "h": "heads",
    "n": "tokens",
    "ceil": "ceil mode",
    "nobias": "no bias",
    "dw": "depthwise",
    "keep": "keep the map",
    "noscale": "no scale",
    "nocenter": "no shift",
    "v2": "Swin V2's variant",
}


def _refuse(kind: Kind, prefix: str, token: Token, src: _Source) -> ParseError:
    users = [k.value for k in Kind if prefix in k.op.takes]
    return src.error(
        f"{kind.value} does not take '{token.text}' ({_WHAT[prefix]} is for {', '.join(users)})", token
    )


MAX_TOKENS = 20_000_000  # repeats and blocks written out; past it the stack is a typo, not a network
MAX_NESTING = 50
_GROUPING = (REPEAT, BLOCK, END)


def _closing(tokens: list[Token | None], start: int, opener: Token, src: _Source) -> int:
    """The position of the ``end`` that closes the repeat or block opened before ``start``."""
    depth = 1
    for position in range(start, len(tokens)):
        token = tokens[position]
        word = token.text.lower() if token is not None else ""
        if word in (REPEAT, BLOCK):
            depth += 1
        elif word == END:
            depth -= 1
            if depth == 0:
                return position
    example = "repeat 3 conv k3 p1 end" if opener.text.lower() == REPEAT else "block down c, conv k3 s2 p1 c$c, end"
    raise src.error(f"'{opener.text}' has no 'end': close it with end, such as '{example}'", opener)


def _words_until_separator(tokens: list[Token | None], start: int) -> list[Token]:
    words = []
    for token in tokens[start:]:
        if token is SEPARATOR:
            break
        words.append(token)
    return words


def _expand(tokens: list[Token | None], src: _Source, blocks: dict, depth: int = 0) -> list[Token | None]:
    """Write out ``repeat N ... end`` groups and uses of blocks (``block NAME PARAM... ; body ; end``
    defines one; ``NAME value...`` uses it, each ``$PARAM`` in the body standing for its value).

    >>> [t.text if t else ',' for t in _expand(tokenize("repeat 2 conv k3 end"), _Source("", ""), {}) if t]
    ['conv', 'k3', 'conv', 'k3']
    """
    if depth > MAX_NESTING:
        first = next(token for token in tokens if token is not None)
        raise src.error(f"blocks and repeats nest more than {MAX_NESTING} deep here: does a block use itself?", first)
    if not any(token is not None and (token.text.lower() in _GROUPING or token.text in blocks) for token in tokens):
        return tokens  # nothing to write out (most stacks): no copy
    out: list[Token | None] = []
    position = 0
    while position < len(tokens):
        token = tokens[position]
        position += 1
        if token is SEPARATOR:
            out.append(token)
            continue
        word = token.text.lower()
        if word == BLOCK:
            header = _words_until_separator(tokens, position)
            if not header:
                raise src.error("'block' needs a name and its parameters, such as 'block down width stride'", token)
            for name in header:
                _name_token(name, name.text, src, "a block")
            close = _closing(tokens, position + len(header), token, src)
            body = [t._replace(source=src) if t is not None and t.source is None else t
                    for t in tokens[position + len(header): close]]  # errors in it point into this text
            blocks[header[0].text] = (header[1:], body)
            position = close + 1
            out.append(SEPARATOR)
            continue
        if word == REPEAT:
            count_token = tokens[position] if position < len(tokens) else None
            if count_token is None or not count_token.text.isdecimal() or not count_token.text.isascii():
                raise src.error("'repeat' needs a count after it, such as 'repeat 3 conv k3 p1 end'", token)
            if len(count_token.text) > MAX_DIGITS or int(count_token.text) < 1:
                raise src.error(f"a group repeats at least once and at most 10^{MAX_DIGITS}, not {quoted(count_token.text)}",
                                count_token)
            close = _closing(tokens, position + 1, token, src)
            body = _expand(tokens[position + 1: close], src, blocks, depth + 1)
            count = int(count_token.text)
            if count * (len(body) + 1) + len(out) > MAX_TOKENS:
                raise src.error(f"'repeat {count}' writes out more than {MAX_TOKENS:,} words: too large a stack", token)
            for _ in range(count):
                out.append(SEPARATOR)
                out += body
            out.append(SEPARATOR)
            position = close + 1
            continue
        if word == END:
            raise src.error("'end' closes nothing: it ends a 'repeat N' group or a 'block'", token)
        if token.text in blocks:
            params, body = blocks[token.text]
            args = _words_until_separator(tokens, position)[: len(params)]
            if len(args) < len(params):
                wanted = " ".join(p.text for p in params)
                raise src.error(f"block '{token.text}' takes {len(params)} value{'s' if len(params) != 1 else ''} "
                                f"({wanted}), given {len(args)}", token)
            position += len(params)
            after = _words_until_separator(tokens, position)[:1]
            times = 1
            if after and re.fullmatch(r"x\d{1,6}", after[0].text):  # basic 64 x2: the block twice, as conv k3 x2
                times, position = int(after[0].text[1:]), position + 1
                if times < 1:
                    raise src.error(f"'{after[0].text}' writes the block no times: give x1 or more", after[0])
            values = sorted(zip((p.text for p in params), (a.text for a in args)), key=lambda pair: -len(pair[0]))
            substituted = []
            for item in body:
                if item is not None and "$" in item.text:
                    text = item.text
                    for name, value in values:
                        text = text.replace("$" + name, value)
                    item = item._replace(text=text)
                substituted.append(item)
            expanded = _expand(substituted, src, blocks, depth + 1)
            if len(out) + times * (len(expanded) + 1) + 1 > MAX_TOKENS:  # before writing it out, not after
                raise src.error(f"the stack writes out more than {MAX_TOKENS:,} words: too large a stack", token)
            for _ in range(times):
                out.append(SEPARATOR)
                out += expanded
            out.append(SEPARATOR)
            continue
        out.append(token)
    return out


def _name_token(token: Token, name: str, src: _Source, what: str) -> None:
    """Refuse a name that is not one: a letter or _, then letters, digits or _, and no keyword."""
    if not _NAME.fullmatch(name):
        raise src.error(f"{quoted(name or token.text)} is not a name: {what} takes a letter or _, "
                        "then letters, digits or _ (such as @x or @skip1)", token)
    kind = parse_kind(name)
    if kind is not None:
        raise src.error(f"{quoted(name)} is a layer kind ({kind[0].op.help}), not a name: pick another, "
                        f"such as '{name}1'", token)
    if name.lower() in KEYWORDS:
        raise src.error(f"{quoted(name)} is a keyword of stacks, not a name: pick another, such as '{name}1'", token)


def _next_word(tokens: list[Token | None], position: int) -> Token | None:
    return tokens[position] if position < len(tokens) else None


def _group(tokens: list[Token | None], src: _Source) -> list[_RawLayer | _Mark]:
    items: list[_RawLayer | _Mark] = []
    current: _RawLayer | None = None
    position = 0
    while position < len(tokens):
        token = tokens[position]
        position += 1
        if token is SEPARATOR:
            current = None
            continue
        word = token.text
        lower = word.lower()
        if word.startswith("@"):
            _name_token(token, word[1:], src, "@")
            items.append(_Mark("bind", word[1:], token, src))
            current = None
            continue
        if lower in (FROM, LIKE):
            name = _next_word(tokens, position)
            if name is None:
                example = "from x" if lower == FROM else "up like x"
                raise src.error(f"'{word}' needs the name of a tensor after it, such as '{example}'", token)
            _name_token(name, name.text, src, f"'{lower}'")
            position += 1
            if lower == FROM:
                items.append(_Mark("from", name.text, name, src))
                current = None
            elif current is not None and "like" in dict(current.kind.op.after) and current.like is None:
                current.like = name
                current.text += f" like {name.text}"
            else:
                raise src.error("'like' belongs to up: 'up like x' resizes to the size of x", token)
            continue
        if current is not None and current.kind.is_merge:
            following = _next_word(tokens, position)
            is_pad_layer = lower == "pad" and following is not None and (_classify(following.text) or ("",))[0] == "p"
            if lower in MODIFIERS and not is_pad_layer:
                if current.mode is not None:
                    raise src.error(f"{current.kind.value} takes one of crop and pad, once", token)
                current.mode = MergeMode(lower)
                current.text += " " + word
                continue
            if parse_kind(word) is None:
                if not _NAME.fullmatch(word):
                    raise src.error(f"{current.kind.value} reads tensors by the names bound with @name: "
                                    f"{quoted(word)} is not a name", token)
                current.operands = (current.operands or []) + [token]
                current.text += " " + word
                continue
        kind_info = parse_kind(word)
        if kind_info is not None:
            kind, dims = kind_info
            current = _RawLayer(kind, token, dims, word, {}, src)
            items.append(current)
            continue
        classified = _classify(word)
        if current is None:
            hint = nearest_kind(lower)
            what = "expected a layer kind" if classified else "unknown token"
            text = quoted(word)
            raise src.error(f"{what}, got {text}" if classified else f"{what} {text}", token, hint)
        if classified is None:
            raise _unknown_token(token, current.kind, src)
        longest = _longest_number(word) if len(word) > MAX_DIGITS else 0
        if longest > MAX_DIGITS:
            raise src.error(f"{quoted(word)} has a number of {longest:,} digits; values have at most {MAX_DIGITS}",
                            token)
        prefix, body = classified
        if prefix not in current.kind.op.takes:
            raise _refuse(current.kind, prefix, token, src)
        if prefix == "p" and body in current.kind.op.refused_rules:
            raise src.error(f"{current.kind.value} does not take '{word}'", token)
        if prefix in current.values:
            raise src.error(f"{_WHAT[prefix]} given twice in one layer", token)
        current.values[prefix] = (token, _parse_param(prefix, body, current.kind, token, src))
        if prefix != "x":  # a repeat is said on each row: conv k3 (2/3)
            current.text += " " + word
    return items


def _longest_number(text: str) -> int:
    """The length of the longest run of digits in ``text``.

    >>> _longest_number("p12:3456x7")
    4
    """
    longest = run = 0
    for char in text:
        run = run + 1 if char.isdigit() else 0
        longest = max(longest, run)
    return longest

def _unknown_token(token: Token, kind: Kind, src: _Source) -> ParseError:
    """The error for a word that is no token of ``kind``, with a suggestion only where one
    parses, of the same sort as what was typed."""
    word = token.text.lower()
    text = quoted(token.text)
    digits = "".join(str(int(c)) if c.isdecimal() else c for c in word)  # k３, k٣: digits are 0-9
    if digits != word and _classify(digits):
        return src.error(f"unknown token {text}", token, digits)
    framework = _framework_spelling(word, kind)
    if framework is not None:
        return src.error(f"unknown token {text}", token, framework)
    if kind.value == "up" and word.removeprefix("mode=").strip("'\"") in UPSAMPLING_MODES:
        return src.error(f"up is nearest-neighbour, and {text} gives the same sizes: drop it", token)
    letters = re.match(r"[a-z]*", word).group()
    value = word[len(letters):]
    if not letters and value.isdigit() and int(value) > 11 and kind.op.sets_channels:  # conv 64 3: Conv2D(64, 3)
        return src.error(f"unknown token {text}", token, f"c{value}")
    bare = kind.op.bare  # a bare number after a kind most likely means this token
    if not letters and bare and _classify(bare + value):
        return src.error(f"unknown token {text}", token, bare + value)
    if letters in _WHAT and letters != "s" and re.fullmatch(r"-?\d+(\.\d+)?(x-?\d+(\.\d+)?)*", value) and "." in value:
        return src.error(f"{kind.value} takes whole numbers for its {_WHAT[letters]}, not {text}", token)
    candidates = _token_candidates(kind, word)
    same = [c for c in candidates if letters in _WHAT and _classify(c) and _classify(c)[0] == letters]
    kinds = [] if re.search(r"\d", word) else _kind_candidates()
    if not same and not re.search(r"\d", word):
        hint = nearest_kind(word) or nearest(word, candidates)
    else:
        hint = nearest(word, same or candidates + kinds)
    return src.error(f"unknown token {text}", token, hint)


UPSAMPLING_MODES = {"nearest", "bilinear", "bicubic", "trilinear", "linear", "area", "nearest-exact"}
# PyTorch's and Keras' argument names, to the token that says the same.
_KEYWORDS = {"kernel_size": "k", "stride": "s", "strides": "s", "padding": "p", "dilation": "d", "dilation_rate": "d",
             "groups": "g", "out_channels": "c", "filters": "c", "out_features": "c", "units": "c",
             "output_padding": "op", "scale_factor": "s", "size": "o", "output_size": "o", "pool_size": "k",
             "upscale_factor": "s", "downscale_factor": "s", "num_groups": "g"}


def _framework_spelling(word: str, kind: Kind) -> str | None:
    """The token for ``stride=2``, ``padding='same'``, ``bias=False``, ``ceil_mode=True``.

    >>> _framework_spelling("padding=same", Kind.CONV), _framework_spelling("stride=(2,2)", Kind.CONV)
    ('psame', 's2')
    """
    name, equals, value = word.partition("=")
    if not equals:
        return None
    value = value.strip("'\"()[] ").replace(" ", "")
    if name in ("bias", "use_bias") and value == "false":
        return "nobias"
    if name == "ceil_mode" and value == "true":
        return "ceil"
    prefix = _KEYWORDS.get(name)
    if prefix is None or not value:
        return None
    parts = [part for part in value.split(",") if part]
    token = prefix + (parts[0] if len(set(parts)) == 1 else "x".join(parts)) if parts else None
    return token if token is not None and _classify(token) else None


def nearest_kind(word: str) -> str | None:
    """The kind a mistyped word most likely means: one it contains (``dwconv``: conv), or
    one a few edits away for its length (``flaten``: flatten; ``softmax`` is none).

    >>> nearest_kind("dwconv"), nearest_kind("maxpol"), nearest_kind("softmax")
    ('conv', 'maxpool', None)
    """
    inside = [candidate for candidate in _kind_candidates() if len(candidate) >= 3 and candidate in word]
    if inside:
        return max(inside, key=len)
    hint = nearest(word, _kind_candidates())
    return hint if hint is not None and 3 * _levenshtein(word, hint) < len(word) else None


def _resolve_dims(raw: list[_RawLayer], input_dims: int | None,
                  dims_option: int | None) -> tuple[int, str, bool]:
    """The one number of spatial axes every source agrees on (the first disagreement is an
    error), what set it, and whether a layer claims it too."""
    dims = dims_option
    origin = "--dims" if dims_option else None
    claimed, where = False, ""
    if input_dims is not None and input_dims > 1:
        if dims is not None and dims != input_dims:
            raise ParseError(
                f"the input has {input_dims} axes but --dims says {dims}", source="--input", line_text=""
            )
        dims, origin = input_dims, "the input"
    for layer in raw:
        claims: list[tuple[int, Token, str]] = []
        if layer.dims_from_name:
            claims.append((layer.dims_from_name, layer.kind_token, f"'{layer.kind_token.text}'"))
        for prefix, (token, value) in layer.values.items():
            if isinstance(value, list) and len(value) > 1:
                claims.append((len(value), token, f"'{token.text}'"))
        claimed = claimed or bool(claims)
        for count, token, name in claims:
            if count > 3:  # no framework has a layer over more (there is no nn.Conv4d)
                raise layer.src.error(f"{name} has {count} values: a layer has 1 to 3 spatial axes", token)
            if dims is None:
                dims, origin, where = count, name, f"{name} in '{layer.text}'"
            elif count != dims:
                raise layer.src.error(f"{name} has {count} spatial axes, but {origin} has {dims}", token)
    if input_dims is not None and input_dims > 1 and dims != input_dims:
        raise ParseError(f"the stack has {dims} axes but the input has {input_dims}", source="--input")
    if not dims:
        return 2, "default", claimed
    return dims, where if origin.startswith("'") else origin, claimed


def _broadcast(values: list, dims: int) -> tuple:
    return tuple(values) * dims if len(values) == 1 else tuple(values)


def _build(layer: _RawLayer, dims: int) -> Layer:
    src = layer.src
    spec = layer.kind.op
    for required in spec.required:
        if required not in layer.values:
            raise src.error(f"{layer.kind.value} needs {spec.needs}", layer.kind_token)

    def get(prefix: str, default=None):
        return layer.values[prefix][1] if prefix in layer.values else default

    kind = layer.kind
    fields: dict = {"kind": kind, "text": layer.text, "dims": dims, "column": layer.kind_token.column}
    fields.update(kind.op.build(get, dims))
    if "dw" in layer.values and "g" in layer.values:
        raise src.error("dw sets the groups to the input channels: give dw or g, not both", layer.values["g"][0])
    fields["depthwise"] = bool(get("dw", False))
    fields["bias"] = not get("nobias", False)
    fields["ceil"] = bool(get("ceil", False))
    fields["keep"] = bool(get("keep", False))
    fields["has_scale"] = not get("noscale", False)
    fields["has_center"] = not get("nocenter", False)
    fields["declared"] = get("in")
    fields["v2"] = bool(get("v2", False))
    if "o" in layer.values:
        fields["out"] = _broadcast(get("o"), dims)
    try:
        kind.op.finish(fields, {prefix: token for prefix, (token, _) in layer.values.items()}, layer.like)
    except TokenError as error:
        raise src.error(str(error), error.token) from None
    fields["uniform"] = all(len(set(value)) <= 1 for value in fields.values() if isinstance(value, tuple))
    if kind.is_merge:
        if not layer.operands:
            raise src.error(f"{kind.value} needs the names of the tensors it {spec.verb}, such as "
                            f"'{kind.value} x' (bind a name with @x)", layer.kind_token)
        fields["operands"] = tuple(token.text for token in layer.operands)
        fields["mode"] = layer.mode
    if layer.like is not None:
        fields["like"] = layer.like.text
    return Layer(**fields)



MAX_LAYERS = 1_000_000  # about a minute and 2 GB; a count past it is a typo, not a network


def parse_stack(
    text: str,
    source: str = ARGS_SOURCE,
    *,
    input_dims: int | None = None,
    dims: int | None = None,
) -> Stack:
    """Parse stack text into rows, repeats expanded, and the tensors each row reads.

    ``input_dims`` is the number of values in the input size (1 for a scalar, which
    fits any number of axes); ``dims`` is the ``--dims`` option.

    >>> stack = parse_stack("conv k3 s2 p1 x2, maxpool k2")
    >>> [layer_label(layer, index) for index, layer in enumerate(stack.layers, 1)], stack.dims
    (['conv k3 s2 p1 (1/2)', 'conv k3 s2 p1 (2/2)', 'maxpool k2'], 2)
    >>> parse_stack("conv k3 p1 @x conv k3 p1, conv k3 p1, add x").reads
    {4: (1, 3)}
    """
    return parse_pieces([(text, source)], input_dims=input_dims, dims=dims)


def parse_pieces(pieces: list[tuple[str, str]], *, input_dims: int | None = None, dims: int | None = None) -> Stack:
    """One stack from several texts (files and the command line), in order: a name bound in
    one piece may be read in a later one."""
    items: list[_RawLayer | _Mark] = []
    blocks: dict[str, tuple[list[Token], list[Token | None]]] = {}  # defined in one piece, used in later ones
    for text, source in pieces:
        src = _Source(text, source)
        if "(" in text:  # a comment's parenthesis does not load the framework tables
            bare = _without_comments(text)
            if "(" in bare:
                _refuse_framework_syntax(bare, src)
        known = len(blocks)
        grouped = _group(_expand(tokenize(text), src, blocks), src)
        if not any(isinstance(item, _RawLayer) for item in grouped) and len(blocks) == known:
            raise ParseError("the stack is empty: give at least one layer, such as 'conv k3'", source=source)
        items += grouped
    if not any(isinstance(item, _RawLayer) for item in items):
        raise ParseError("the stack is empty: give at least one layer, such as 'conv k3'",
                         source=pieces[-1][1] if pieces else ARGS_SOURCE)
    raw = [item for item in items if isinstance(item, _RawLayer)]
    n, axes_from, layers_claim = _resolve_dims(raw, input_dims, dims)
    names = {item.name for item in items if isinstance(item, _Mark) and item.what == "bind"}
    bound: dict[str, int] = {}  # name -> the row it names now (0: the input)
    binds: dict[int, tuple[str, ...]] = {}
    reads: dict[int, tuple[int, ...]] = {}
    layers: list[Layer] = []
    reading: int | None = None  # `from name`: the row the next layer reads
    built: dict[tuple, Layer] = {}

    def resolve(token: Token, src: _Source) -> int:
        name = token.text
        if name in bound:
            return bound[name]
        if name in names:
            raise src.error(f"'{name}' is used before it is bound: a name reads the latest @{name} before it", token)
        hint = nearest(name, list(bound), max_distance=max(1, len(name) // 3))
        known = f" (names bound before it: {', '.join(sorted(bound))})" if bound and not hint else ""
        raise src.error(f"unknown name '{name}'{known}; bind one with @{name}", token, hint)

    for item in items:
        if isinstance(item, _Mark):
            if item.what == "bind":
                bound[item.name] = len(layers)
                binds[len(layers)] = (*binds.get(len(layers), ()), item.name)
            else:
                reading = resolve(item.token, item.src)
            continue
        # A repeat group, a block or the same line written many times makes the same layer: build
        # it once (the rows share it, as x3's do, and so do the per-layer caches of calc and fit).
        # The text holds every token but the repeat (kind, values, merge names, crop or pad, like).
        key = (item.kind, item.text, item.kind_token.column)
        layer = built.get(key)
        if layer is None:
            layer = built[key] = _build(item, n)
        count = int(item.values["x"][1] if "x" in item.values else 1)
        if len(layers) + count > MAX_LAYERS:
            token = item.values["x"][0] if "x" in item.values else item.kind_token
            raise item.src.error(f"the stack would have {len(layers) + count:,} layers; convshape takes at most {MAX_LAYERS:,}", token)
        index = len(layers) + 1
        current = index - 1 if reading is None else reading
        sources: tuple[int, ...] = (current,)
        if layer.kind.is_merge:
            sources = tuple(resolve(token, item.src) for token in item.operands or ()) + (current,)
        elif item.like is not None:
            sources = (current, resolve(item.like, item.src))
        if sources != (index - 1,):
            reads[index] = sources
        if layer.kind.is_merge or item.like is not None:  # x3: each copy reads the one before, and the names again
            for offset in range(1, count):
                reads[index + offset] = (sources[:-1] + (index + offset - 1,) if layer.kind.is_merge
                                         else (index + offset - 1, sources[1]))
        reading = None
        if count > 1:
            layer = layer._replace(repeat=count, first=index)
        layers.extend([layer] * count)
    if reading is not None:
        last = next(item for item in reversed(items) if isinstance(item, _Mark) and item.what == "from")
        raise last.src.error(f"'from {last.name}' is not followed by a layer that reads it", last.token)
    return Stack(tuple(layers), n, "input" if axes_from == "the input" else axes_from, layers_claim, reads, binds)


def _without_comments(text: str) -> str:
    """The text with each comment blanked out, every other character where it was.

    >>> _without_comments("conv k3  # (3, 3)")
    'conv k3          '
    """
    return "\n".join(line if "#" not in line else line[: line.index("#")] + " " * (len(line) - line.index("#"))
                     for line in text.split("\n"))


def _refuse_framework_syntax(text: str, src: _Source) -> None:
    """A PyTorch or Keras call where layers were expected: an error that gives the layer to write."""
    from .framework import KERAS, find_call, framework_of

    found = find_call(text)
    if found is None:
        return
    offset, call, layer = found
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    token = Token(call.split("\n")[0], line, column)
    name = call.split("(")[0].split(".")[-1]
    framework = framework_of(name)
    if layer is None:
        what = f"{framework} syntax" if framework else "not a layer convshape knows"
        raise src.error(f"{quoted(call, 60)} is {what}: write layers as convshape does, such as 'conv k3 s2 p1 c64'"
                        f"{_IMPORT_HINT if framework else ''}", token)
    tf = " (with --convention tf, for Keras' semantics)" if framework == KERAS else ""
    raise src.error(f"{quoted(call, 60)} is {framework} syntax; as a convshape layer it is '{layer}'{tf}{_IMPORT_HINT}",
                    token)


_IMPORT_HINT = "; 'convshape import' reads whole models (print(model), Keras JSON, ONNX)"


def parse_layer_tokens(text: str, source: str = ARGS_SOURCE) -> tuple[Kind, dict]:
    """One layer's kind and the values of the tokens given, with no defaults filled in.

    >>> kind, values = parse_layer_tokens("conv k3 c64")
    >>> kind.value, values["k"], values["c"]
    ('conv', [3], 64)
    """
    src = _Source(text, source)
    raw = _group(tokenize(text), src)
    if len(raw) != 1 or not isinstance(raw[0], _RawLayer):
        raise ParseError("give one layer: a kind and the tokens to hold fixed, such as 'conv k3'", source=source)
    return raw[0].kind, {prefix: value for prefix, (_token, value) in raw[0].values.items()}


def parse_size(text: str, option: str = "--input") -> tuple[int, ...]:
    """An input size such as ``224``, ``224x224`` or ``16x112x112``.

    >>> parse_size("7x9")
    (7, 9)
    """
    cleaned = text.strip().lower().replace("×", "x").replace(",", "x")
    if not all(part.isascii() and part.isdigit() for part in cleaned.split("x")):
        raise ParseError(
            f"{quoted(text)} is not a size: give whole numbers joined by 'x', such as 224 or 224x224",
            source=option,
        )
    longest = max(len(part) for part in cleaned.split("x"))
    if longest > MAX_DIGITS:
        raise ParseError(f"{quoted(text)} is not a size: a number of {longest:,} digits (at most {MAX_DIGITS})",
                         source=option)
    sizes = tuple(int(v) for v in cleaned.split("x"))
    if any(v < 1 for v in sizes):
        raise ParseError(f"'{text}' is not a size: every axis needs at least 1 pixel", source=option)
    if len(sizes) > 3:
        # N×C×H×W (or N×C×D×H×W), as torch prints a tensor's shape: the batch and the channels go.
        hint = (f"; for N×C×{'×'.join(['D', 'H', 'W'][3 - (len(sizes) - 2):])} = {'×'.join(map(str, sizes))}, give "
                f"-i {'x'.join(map(str, sizes[2:]))} -c {sizes[1]}" if len(sizes) in (4, 5) and option == "--input" else "")
        raise ParseError(f"'{text}' has {len(sizes)} sizes: give 1 to 3 spatial sizes (L, H×W or D×H×W), without "
                         f"the batch or the channels{hint}", source=option)
    return sizes


def with_dims(size: tuple[int, ...], dims: int) -> tuple[int, ...]:
    """Broadcast a scalar input size to ``dims`` axes."""
    return size * dims if len(size) == 1 else size


