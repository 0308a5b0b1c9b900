"""convshape writes its JSON itself (see convshape/render/json.py): the text must be what
the standard json module writes, for any value the renderer can meet."""

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convshape import calc
from convshape.render.json import as_dict, dumps, render

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@given(values)
@settings(max_examples=400, deadline=None)
def test_dumps_writes_what_json_dumps_writes(value):
    assert dumps(value) == json.dumps(value, ensure_ascii=False)


@pytest.mark.parametrize("text", ['conv "k3"', "back\\slash", "tab\tnew\nline\r", "\x00\x1f\x7f", "é×⌊→", "\u2028"])
def test_strings_that_need_escapes(text):
    assert dumps(text) == json.dumps(text, ensure_ascii=False)
    assert json.loads(dumps(text)) == text


@pytest.mark.parametrize("value", [float("nan"), float("inf"), object(), {1, 2}])
def test_values_without_a_json_form_are_refused(value):
    with pytest.raises((TypeError, ValueError)):
        dumps(value)


STACKS = sorted(Path(__file__).parent.parent.joinpath("examples").glob("*.stack"))


@pytest.mark.parametrize("path", STACKS, ids=lambda p: p.stem)
def test_a_whole_result_reads_back_as_the_same_object(path):
    result = calc(path.read_text(), 572 if "unet" in path.stem else 224, channels=3 if "dcgan" not in path.stem else None)
    text = render(result)
    assert json.loads(text) == as_dict(result)
    assert "".join(text.split()) == "".join(json.dumps(as_dict(result), ensure_ascii=False).split())
