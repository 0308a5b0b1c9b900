"""The registry (convshape/kinds.py): every kind's words, and the family module that holds
the rest of its behaviour, imported when a stack first names one of its kinds."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

from convshape.kinds import FAMILIES, KIND_WORDS, Kind

OPS_DIR = Path(__file__).resolve().parent.parent / "convshape" / "ops"


def test_each_family_module_holds_exactly_the_kinds_registered_for_it_in_order():
    for family, words in FAMILIES.items():
        module = importlib.import_module(f"convshape.ops.{family}")
        assert [op.word for op in module.OPS] == list(words), family


def test_every_module_with_kinds_is_registered():
    with_ops = {path.stem for path in OPS_DIR.glob("*.py")
                if "\nOPS = " in path.read_text(encoding="utf-8")}
    assert with_ops == set(FAMILIES)


def test_each_word_names_one_kind_and_each_kind_gets_its_own_op():
    words = [word for kinds in FAMILIES.values() for own, others in kinds.items() for word in (own, *others)]
    assert len(words) == len(set(words)) == len(KIND_WORDS)
    assert [kind.value for kind in Kind] == [own for kinds in FAMILIES.values() for own in kinds]
    for kind in Kind:
        assert kind.op.word == kind.value
        assert kind.is_spatial is kind.op.is_spatial and kind.keeps_shape is kind.op.keeps_shape
    assert KIND_WORDS["fc"] is Kind.LINEAR and KIND_WORDS["concat"] is Kind.CAT and KIND_WORDS["mha"] is Kind.ATTN


def _families_loaded(code: str) -> list[str]:
    """The family modules a fresh process has loaded after running ``code``."""
    report = "\nprint(' '.join(sorted(m.rsplit('.', 1)[1] for m in sys.modules if m.startswith('convshape.ops.'))))"
    result = subprocess.run([sys.executable, "-c", "import sys\n" + code + report], capture_output=True, text=True,
                            check=True)
    return result.stdout.split()


def test_a_stack_loads_only_the_families_it_names():
    assert _families_loaded("import convshape.cli") == ["base"]
    assert _families_loaded("from convshape import calc; calc('conv k3 p1 c8 @x, bn, relu, add x, gap', 8, 3)") == [
        "activation", "base", "conv", "merge", "norm", "whole", "window"]
    # A name is no kind (the aliases are the registry's: no family is loaded to look it up).
    assert _families_loaded("from convshape import calc; calc('@skip1 relu, add skip1', 8, 3)") == [
        "activation", "base", "merge"]
    assert _families_loaded("from convshape import calc; calc('fc c10', 8, 3)") == ["base", "whole"]


def test_what_lists_every_kind_loads_every_family():
    loaded = _families_loaded("from convshape.kinds import TORCH_CLASSES")
    assert set(FAMILIES) <= set(loaded)
