"""Named strings (convshape/named.py): the kinds, codes, levels and conventions behave as the
str Enums they replace did, for every reader of their values."""

from __future__ import annotations

import copy
import json
import pickle

import pytest

from convshape.diagnostics import Code, Diagnostic, Level
from convshape.kinds import Kind
from convshape.layers import Convention


def test_a_member_is_its_value_as_a_string_and_prints_as_an_enum_member():
    assert Kind.CONV == "conv" and isinstance(Kind.CONV, str) and Kind.CONV.value == "conv"
    assert Kind.CONV.name == "CONV" and str(Kind.CONV) == "Kind.CONV" and f"{Code.UNUSED}" == "Code.UNUSED"
    assert format(Level.NOTE, ">12") == "  Level.NOTE" and repr(Convention.TF) == "<Convention.TF: 'tf'>"
    assert json.dumps({"kind": Kind.CONV}) == '{"kind": "conv"}'


def test_lookups_give_the_member_itself_and_refuse_other_values():
    assert Convention("tf") is Convention.TF and Convention(Convention.TF) is Convention.TF
    assert Kind["MAXPOOL"] is Kind.MAXPOOL and Kind("in") is Kind.IN
    for bad in ("TF", "keras", None, ["tf"]):
        with pytest.raises(ValueError, match="is not a valid Convention"):
            Convention(bad)
    with pytest.raises(KeyError):
        Kind["conv"]


def test_members_iterate_in_order_and_keep_their_identity_through_copy_and_pickle():
    assert list(Level) == [Level.ERROR, Level.WARNING, Level.NOTE] and len(Convention) == 3
    assert [kind.value for kind in Kind][:3] == ["conv", "convt", "maxpool"]
    diagnostic = Diagnostic(Code.STRIDE_GAP, ("H",), {"ke": 1, "stride": 2, "gap": 1, "what": "pixels", "verb": "is"})
    for again in (copy.copy(diagnostic), copy.deepcopy(diagnostic), pickle.loads(pickle.dumps(diagnostic))):
        assert again.code is Code.STRIDE_GAP and again.level is Level.WARNING
    assert pickle.loads(pickle.dumps(Kind.WATTN)) is Kind.WATTN and copy.deepcopy(Kind.GAP) is Kind.GAP
