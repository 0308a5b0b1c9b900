import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Keras 3 runs on torch here (the test extra installs both); set before any test imports it.
os.environ.setdefault("KERAS_BACKEND", "torch")


def _cap_memory(gigabytes: int = 16) -> None:
    """A runaway allocation (the fuzz tests draw stacks at random) fails as a MemoryError in
    the test that made it, instead of the machine's OOM killer ending the whole run."""
    try:
        import resource
    except ImportError:  # not on this platform
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        resource.setrlimit(resource.RLIMIT_AS, (gigabytes << 30, hard))


_cap_memory()


def _temporary_home() -> None:
    """Every test, and every shell or convshape it starts, sees a HOME of its own: nothing a
    test does (fish makes folders at its first start) reaches the user's home."""
    import atexit
    import tempfile

    home = tempfile.mkdtemp(prefix="convshape-test-home-")
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    os.environ["HOME"] = home
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        os.environ.pop(name, None)


_temporary_home()


def convshape_command() -> list[str]:
    """The installed console script, or `python -m convshape` beside this interpreter."""
    script = Path(sys.executable).parent / "convshape"
    return [str(script)] if script.exists() else [sys.executable, "-m", "convshape"]


@pytest.fixture
def run():
    """Run convshape as a real subprocess (stdout is a pipe), returning the CompletedProcess."""

    def _run(*args: str, stdin: str | None = None, env: dict | None = None):
        base = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR")}
        environment = {**base, **(env or {})}
        return subprocess.run(
            convshape_command() + list(args), input=stdin, capture_output=True, text=True, env=environment, timeout=60
        )

    return _run


@pytest.fixture
def shell_env() -> dict:
    """PATH with the directory of this interpreter's convshape first, for shell pipelines."""
    bin_dir = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}


def have(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def onnx_file(tmp_path, node, initializer=(), shape=(1, 3, 8, 8)) -> str:
    """A one-node ONNX model of an input of ``shape``, written by onnx's own helpers."""
    from onnx import TensorProto, helper, save

    graph = helper.make_graph([node], "one", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializer=list(initializer))
    path = tmp_path / "one.onnx"
    save(helper.make_model(graph), str(path))
    return str(path)


__all__ = ["shutil", "have", "ROOT", "onnx_file"]
