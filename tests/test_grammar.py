"""The layer grammar: what parses, what it means, and how bad text is reported."""

import re
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convshape.grammar import ParseError, parse_size, parse_stack, tokenize
from convshape.layers import PaddingRule, layer_label
from convshape.kinds import Kind


def texts(stack):
    return [layer.text for layer in stack.layers]


def test_three_spellings_of_one_stack_are_the_same():
    a = parse_stack("conv k7 s2 p3 c64 maxpool k3 s2 p1 conv k3 p1 c64 x2")
    b = parse_stack("conv k7 s2 p3 c64, maxpool k3 s2 p1 ; conv k3 p1 c64 x2")
    c = parse_stack("conv k7 s2 p3 c64  # stem\nmaxpool k3 s2 p1\r\n\nconv k3 p1 c64 x2\n")
    strip = lambda s: [(l.kind, l.kernel, l.stride, l.padding, l.channels) for l in s.layers]
    assert strip(a) == strip(b) == strip(c)
    assert len(a.layers) == 4


def test_repeat_expands_into_separate_layers():
    assert texts(parse_stack("conv k3 p1 x3")) == ["conv k3 p1"] * 3
    stack = parse_stack("conv k3 p1 x3, pool k2 x2")
    assert [layer_label(layer, index) for index, layer in enumerate(stack.layers, 1)] == [
        "conv k3 p1 (1/3)", "conv k3 p1 (2/3)", "conv k3 p1 (3/3)", "pool k2 (1/2)", "pool k2 (2/2)"]


@pytest.mark.parametrize(
    "word, kind",
    [("deconv", Kind.CONVT), ("convtranspose", Kind.CONVT), ("pool", Kind.MAXPOOL), ("upsample", Kind.UP),
     ("fc", Kind.LINEAR), ("Conv2d", Kind.CONV), ("MAXPOOL", Kind.MAXPOOL)],
)
def test_aliases(word, kind):
    extra = " k3" if kind in (Kind.CONV, Kind.CONVT, Kind.MAXPOOL) else (" c10" if kind is Kind.LINEAR else "")
    assert parse_stack(word + extra).layers[0].kind is kind


def test_defaults():
    conv, pool, up = parse_stack("conv k3, maxpool k2, up").layers
    assert conv.stride == (1, 1) and conv.padding == ((0, 0), (0, 0)) and conv.dilation == (1, 1)
    assert pool.stride == (2, 2)  # a pool's stride defaults to its kernel
    assert up.scale == (Fraction(2), Fraction(2))


def test_per_axis_values_and_asymmetric_padding():
    layer = parse_stack("conv k3x5 s2x1 p0:1x1:2 d2").layers[0]
    assert layer.kernel == (3, 5) and layer.stride == (2, 1)
    assert layer.padding == ((0, 1), (1, 2)) and layer.dilation == (2, 2)


def test_padding_rules_and_fractional_scale():
    assert parse_stack("conv k3 psame").layers[0].padding_rule is PaddingRule.SAME
    assert parse_stack("up s1.5").layers[0].scale == (Fraction(3, 2),) * 2


@pytest.mark.parametrize(
    "text, input_dims, dims, expected",
    [
        ("conv k3", 1, None, 2),  # default
        ("conv k3", 1, 1, 1),  # --dims 1
        ("conv k3", 3, None, 3),  # from the input
        ("conv1d k3", 1, None, 1),  # from the kind's name
        ("conv k3x3x3", 1, None, 3),  # from a per-axis value
        ("maxpool3d k2, conv k3", 1, None, 3),
    ],
)
def test_number_of_axes(text, input_dims, dims, expected):
    assert parse_stack(text, input_dims=input_dims, dims=dims).dims == expected


@pytest.mark.parametrize(
    "text, message, suggestion, column",
    [
        ("conv kk3", "unknown token 'kk3'", "k3", 6),
        ("covn k3", "unknown token 'covn'", "conv", 1),
        ("conv k3 s2 pp1", "unknown token 'pp1'", "p1", 12),
        ("k3 conv", "expected a layer kind, got 'k3'", None, 1),
        ("conv s2", "conv needs a kernel size, such as k3 or k3x5", None, 1),
        ("linear", "linear needs its number of output features, such as c10", None, 1),
        ("pad", "pad needs a padding, such as p1 or p0:1", None, 1),
        ("conv k3 op1", "conv does not take 'op1'", None, 9),
        ("avgpool k2 d2", "avgpool does not take 'd2'", None, 12),
        ("conv k3 s1.5", "conv takes a whole-number stride", None, 9),
        ("conv k3 k5", "kernel given twice", None, 9),
        ("conv k3 x0", "a layer repeats at least once", None, 9),
        ("conv k3x3, conv2d k3x3x3", "'k3x3x3' has 3 spatial axes, but 'k3x3' has 2", None, 19),
        ("conv1d k3x3", "'k3x3' has 2 spatial axes, but 'conv1d' has 1", None, 8),
        ("conv k3, s2", "expected a layer kind, got 's2'", None, 10),
        ("conv k3 p1:", "unknown token 'p1:'", "p1", 9),
        ("conv k3 s2x", "unknown token 's2x'", "s2", 9),
        ("pad psame", "pad does not take 'psame'", None, 5),
        ("convt k3 pfull", "convt does not take 'pfull'", None, 10),
        ("conv k3 x1000001", "the stack would have 1,000,001 layers; convshape takes at most 1,000,000", None, 9),
        ("conv k3 x999999\nconv k3 x2", "the stack would have 1,000,001 layers", None, 9),
        ("conv k\uff13", "unknown token 'k\uff13'", "k3", 6),  # a fullwidth 3
        ("conv k3 s\u0662x\u0661", "unknown token 's\u0662x\u0661'", "s2x1", 9),  # Arabic-Indic 2 and 1
    ],
)
def test_parse_errors_name_the_token_and_its_place(text, message, suggestion, column):
    with pytest.raises(ParseError) as caught:
        parse_stack(text)
    error = caught.value
    assert message in error.message
    assert error.suggestion == suggestion
    assert error.column == column


def test_parse_error_renders_a_caret_under_the_token_in_files():
    with pytest.raises(ParseError) as caught:
        parse_stack("conv k7 s2\n# a comment\nconv kk3 s2\n", "resnet.stack")
    assert caught.value.render() == (
        "resnet.stack:3:6: unknown token 'kk3' (did you mean 'k3'?)\n"
        "  conv kk3 s2\n"
        "       ^^^"
    )


def test_a_utf8_bom_and_windows_line_endings_are_accepted():
    assert len(parse_stack("\ufeffconv k3\r\nconv k3\r\n").layers) == 2


def test_empty_stack_is_an_error():
    with pytest.raises(ParseError, match="empty"):
        parse_stack("  # nothing here\n")


def test_input_disagreeing_with_stack_is_an_error():
    with pytest.raises(ParseError, match="'k3x3' has 2 spatial axes, but the input has 3"):
        parse_stack("conv k3x3", input_dims=3)


@pytest.mark.parametrize("text, expected", [("224", (224,)), ("224x224", (224, 224)), ("16x112x112", (16, 112, 112)), ("7X9", (7, 9))])
def test_sizes(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "abc", "224x", "0", "3x0", "-5", "2.5"])
def test_bad_sizes(text):
    with pytest.raises(ParseError) as caught:
        parse_size(text)
    assert caught.value.render().startswith(f"--input: '{text}' is not a size")


def test_tokens_know_where_they_came_from():
    tokens = [t for t in tokenize("conv k3\n  pool") if t]
    assert [(t.text, t.line, t.column) for t in tokens] == [("conv", 1, 1), ("k3", 1, 6), ("pool", 2, 3)]


ALPHABET = "convtkspdgxlfaupeimr0123456789:.,;# \n\t-x"


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=40) | st.text(max_size=20))
def test_any_text_parses_or_raises_parse_error(text):
    try:
        parse_stack(text)
    except ParseError as error:
        assert error.render()  # it can always be shown


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["conv", "convt", "maxpool", "avgpool"]),
            st.integers(1, 9),
            st.integers(1, 4),
            st.integers(0, 3),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_written_layers_round_trip(layers):
    text = ", ".join(f"{kind} k{k} s{s} p{p}" for kind, k, s, p in layers)
    parsed = parse_stack(text)
    assert [(l.kind.value, l.kernel[0], l.stride[0], l.padding[0][0]) for l in parsed.layers] == list(layers)


@pytest.mark.parametrize("stack, status, stderr", [
    # suggestions only where they parse, and of the sort typed
    ("conv 3x3", 2, "convshape: <command line>:1:6: unknown token '3x3' (did you mean 'k3x3'?)"),
    ("up 2", 2, "convshape: <command line>:1:4: unknown token '2' (did you mean 's2'?)"),
    ("conv k3.5", 2, "convshape: <command line>:1:6: conv takes whole numbers for its kernel, not 'k3.5'"),
    ("conv k3 p1.5", 2, "convshape: <command line>:1:9: conv takes whole numbers for its padding, not 'p1.5'"),
    ("dwconv k3", 2, "convshape: <command line>:1:1: unknown token 'dwconv' (did you mean 'conv'?)"),
    ("conv k3 dwconv", 2, "convshape: <command line>:1:9: unknown token 'dwconv' (did you mean 'conv'?)"),
    ("concat", 2, "convshape: <command line>:1:1: cat needs the names of the tensors it joins to the current one, such as 'cat x' (bind a name with @x)"),
    ("conv k3 concatenate", 2, "convshape: <command line>:1:9: unknown token 'concatenate' (did you mean 'concat'?)"),
    ("conv kk3", 2, "convshape: <command line>:1:6: unknown token 'kk3' (did you mean 'k3'?)"),
    # one rule for signs: what the grammar reads and the framework refuses is exit 1
    ("conv k-3", 1, "convshape: layer 1 (conv k-3): on H and W: kernel -3 is below 1"),
    ("conv k3 s-1", 1, "convshape: layer 1 (conv k3 s-1): on H and W: stride -1 is below 1"),
    ("conv k3 p-1", 1, "convshape: layer 1 (conv k3 p-1): on H and W: padding -1 is negative"),
    ("conv k0", 1, "convshape: layer 1 (conv k0): on H and W: kernel 0 is below 1"),
    ("conv k3 x-1", 2, "convshape: <command line>:1:9: a layer repeats at least once, not 'x-1'"),
    ("conv k3 x0", 2, "convshape: <command line>:1:9: a layer repeats at least once, not 'x0'"),
])
def test_mistakes_get_the_right_status_and_a_suggestion_that_parses(run, stack, status, stderr):
    result = run("calc", "-i", "8", "-q", *stack.split())
    assert (result.returncode, result.stderr.splitlines()[0]) == (status, stderr)


def test_numbers_longer_than_18_digits_are_a_clear_error(run):
    huge = "9" * 5000
    for args, expected in [
        (["calc", "-i", huge, "conv", "k3"], "convshape: --input: '9999999999999999999999…' (5000 characters) is not a size: "
                                             "a number of 5,000 digits (at most 18)\n"),
        (["calc", "-i", "8", f"conv k{huge}"], "convshape: <command line>:1:6: 'k999999999999999999999…' (5001 characters) "
                                               "has a number of 5,000 digits; values have at most 18\n"),
        (["calc", "-i", "8", f"conv k3 c{huge}"], "convshape: <command line>:1:9: 'c999999999999999999999…' (5001 characters) "
                                                  "has a number of 5,000 digits; values have at most 18\n"),
        (["solve", "-i", huge, "-o", "3"], "convshape: --input: '9999999999999999999999…' (5000 characters) is not a size: "
                                           "a number of 5,000 digits (at most 18)\n"),
    ]:
        result = run(*args)
        assert (result.returncode, result.stderr) == (2, expected)
    assert run("calc", "-i", "9" * 18, "-q", "conv", "k3").stdout == f"{10**18 - 3}x{10**18 - 3}\n"
    assert run("calc", "-i", "9" * 19, "-q", "conv", "k3").returncode == 2


def test_control_characters_are_shown_escaped(run, tmp_path):
    path = tmp_path / "nul.stack"
    path.write_bytes(b"conv k3 \x00x\n")
    result = run("calc", "-i", "8", "-f", str(path))
    assert result.returncode == 2 and "\x00" not in result.stderr
    assert result.stderr == f"convshape: {path}:1:9: unknown token '\\x00x'\n  conv k3 \\x00x\n          ^^^^^\n"


def test_solve_refuses_fixed_tokens_no_framework_takes(run):
    for token, message in [("s0", "stride 0 is below 1"), ("k-3", "kernel -3 is below 1"), ("p-1", "padding -1 is negative")]:
        result = run("solve", "-i", "5", "-o", "3", "conv", token)
        assert (result.returncode, result.stderr) == (1, f"convshape: conv {token}: {message}\n")


def test_the_python_api_checks_sizes_as_the_command_line_does():
    from convshape import calc

    for size, message in [(0, "'0' is not a size: every axis needs at least 1 pixel"),
                          ("0", "'0' is not a size: every axis needs at least 1 pixel"),
                          (-5, "'-5' is not a size: give whole numbers joined by 'x', such as 224 or 224x224"),
                          ((7, 0), "'7x0' is not a size: every axis needs at least 1 pixel")]:
        with pytest.raises(ParseError) as caught:
            calc("conv k3", size)
        assert str(caught.value) == f"input_size: {message}"
    with pytest.raises(ParseError) as caught:
        calc("conv kk3", 7)
    assert str(caught.value) == "<stack>:1:6: unknown token 'kk3' (did you mean 'k3'?)"
    assert calc("conv k3", (7, 9)).output.size == (5, 7) == calc("conv k3", "7x9").output.size


# The parameter tokens' forms, as one regular expression: the specification the grammar's
# hand-written reader (compiled at no start-up cost) must agree with on every word.
_NAT, _DEC, _PAD = r"-?\d+", r"-?\d+(?:\.\d+)?", r"-?\d+(?::-?\d+)?"
_FORMS = {"k": rf"{_NAT}(?:x{_NAT})*", "s": rf"{_DEC}(?:x{_DEC})*", "p": rf"{_PAD}(?:x{_PAD})*|same|valid|full",
          "d": rf"{_NAT}(?:x{_NAT})*", "op": rf"{_NAT}(?:x{_NAT})*", "c": _NAT, "g": _NAT,
          "o": rf"{_NAT}(?:x{_NAT})*", "x": _NAT, "in": _NAT, "i": _NAT, "h": _NAT, "n": _NAT}
_FLAG_WORDS = ("ceil", "nobias", "dw", "keep", "noscale", "nocenter", "v2")
_SPEC = re.compile("|".join([f"{prefix}(?P<{prefix}>{value})" for prefix, value in _FORMS.items()]
                            + [f"(?P<{flag}>{flag})" for flag in _FLAG_WORDS]), re.ASCII)


def _by_spec(word: str):
    match = _SPEC.fullmatch(word.lower())
    if match is None:
        return None
    return match.lastgroup, "" if match.lastgroup in _FLAG_WORDS else match.group(match.lastgroup)


_TOKEN_PIECES = st.sampled_from(["k", "s", "p", "d", "op", "o", "c", "g", "x", "in", "i", "h", "n", "K", "P", "X",
                                 "same", "valid", "full", "ceil", "dw", "v2", "nobias", "keep", "0", "3", "12", "-",
                                 ".", ":", "x", "5", "e", "３", "³", "\u212a", " ", ""])


@settings(max_examples=3000, deadline=None)
@given(st.lists(_TOKEN_PIECES, max_size=7).map("".join))
def test_parameter_words_are_read_as_their_specification_says(word):
    from convshape.grammar import _classify

    assert _classify(word) == _by_spec(word)


@pytest.mark.parametrize("word", ["k3", "k-3x5", "s1.5x2", "s1.", "p1:2x0", "p1:", "psame", "pSame", "op1", "in64",
                                  "i0", "x10", "k３", "k³", "\u212a3", "dw", "ceil", "keep", "kx3", "o", "", "s-0.5",
                                  "p-1:-2", "pvalidx", "h2", "n4", "g2", "c64"])
def test_parameter_words_at_their_edges(word):
    from convshape.grammar import _classify

    assert _classify(word) == _by_spec(word)
