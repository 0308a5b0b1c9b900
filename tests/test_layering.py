"""The core knows nothing of the terminal; the machine formats never load Rich."""

import subprocess
import sys

import pytest

CORE = ["convshape", "convshape.grammar", "convshape.layers", "convshape.arithmetic", "convshape.receptive",
        "convshape.diagnostics", "convshape.calc", "convshape.counts", "convshape.explain", "convshape.fit", "convshape.solve",
        "convshape.symbolic", "convshape.completion", "convshape.render.json", "convshape.render.csv",
        "convshape.render.answers", "convshape.schemas", "convshape.framework", "convshape.export",
        "convshape.export.pytorch", "convshape.export.keras", "convshape.importers", "convshape.importers.torch_repr",
        "convshape.importers.keras_json", "convshape.importers.onnx_graph", "convshape.importers.onnx_blocks", "convshape.draw", "convshape.draw.layer",
        "convshape.draw.svg", "convshape.draw.network", "convshape.draw.field"]
EXTRAS = ("onnx", "cairosvg", "torch", "keras")


def loaded_modules(code: str) -> set:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"],
                         capture_output=True, text=True, check=True).stdout
    return set(out.split())


def modules_after_calc(*args: str) -> set:
    """The modules loaded once `convshape calc ARGS` has run in a fresh interpreter."""
    return loaded_modules(
        "import sys\nfrom convshape.cli import app\n"
        f"sys.argv = ['convshape', 'calc', *{list(args)!r}]\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\n"
    )


@pytest.mark.parametrize("module", CORE)
def test_core_imports_neither_typer_nor_rich(module):
    modules = loaded_modules(f"import {module}; {module}")
    assert not {m for m in modules if m.split(".")[0] in ("typer", "rich", "click", *EXTRAS)}


@pytest.mark.parametrize("command", [["calc", "-i", "224", "conv", "k3", "-q"],
                                     ["export", "--to", "torch", "-i", "8", "-c", "3", "conv", "k3"],
                                     ["draw", "-i", "7", "conv", "k3", "s2", "-o", "-"]])
def test_the_extras_load_only_when_asked_for(command):
    """onnx only for an ONNX file, cairosvg only for a PNG: the start-up and the core never load them."""
    modules = loaded_modules(
        "import contextlib, io, sys\nfrom convshape.cli import app\n"
        f"sys.argv = ['convshape', *{command!r}]\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"  # the code it writes names torch: not a module
        "    try:\n        app()\n    except SystemExit:\n        pass\n"
    )
    assert "convshape.cli" in modules
    assert not {m for m in modules if m.split(".")[0] in EXTRAS}


@pytest.mark.parametrize("args", [["--format", "json"], ["-q"], ["--format", "csv"]])
def test_machine_formats_never_import_rich(args):
    modules = modules_after_calc("-i", "224", "conv", "k3", "s2", *args)
    assert "typer" in modules  # the check can fail: the CLI really ran
    assert not {m for m in modules if m.split(".")[0] == "rich"}


@pytest.mark.parametrize("args", [["--format", "json"], ["-q"]])
def test_whole_number_runs_never_load_fractions(args):
    """fractions builds its classes and compiles a regular expression at import: a cost on
    every start that only a fractional scale (`up s1.5`) needs."""
    modules = modules_after_calc("-i", "224", "conv", "k3", "s2", *args)
    assert "convshape.calc" in modules
    assert "fractions" not in modules
    fractional = modules_after_calc("-i", "224", "up", "s1.5", *args)
    assert "fractions" in fractional  # the check can fail


def test_quiet_runs_never_count():
    assert "convshape.counts" not in modules_after_calc("-i", "224", "-c", "3", "conv", "k3", "s2", "-q")
    assert "convshape.counts" in modules_after_calc("-i", "224", "-c", "3", "conv", "k3", "s2", "--format", "json")


def test_the_table_does_import_rich():
    assert "rich.table" in modules_after_calc("-i", "9", "conv", "k3")


def test_a_chain_never_imports_the_merge_module():
    import subprocess
    import sys

    code = ("import sys; from convshape import calc; calc('conv k3 p1 c8 x3, maxpool k2', 32, channels=3); "
            "print('convshape.merge' in sys.modules); calc('@a conv k3 p1 add a', 8); print('convshape.merge' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out == "False\nTrue\n"


def test_a_png_does_load_cairosvg(tmp_path):
    """The other side of the check above: it can fail."""
    pytest.importorskip("cairosvg")
    target = str(tmp_path / "conv.png")
    modules = loaded_modules(
        "import sys\nfrom convshape.cli import app\n"
        f"sys.argv = ['convshape', 'draw', '-i', '7', 'conv', 'k3', '-o', {target!r}]\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\n"
    )
    assert "cairosvg" in modules
