"""The README's table of real models by route: every torchvision image classification model
and every Keras application, through each way convshape reads a model, against the
framework itself in the same run.

    python bench/models_table.py > models.md          # needs torch, torchvision, onnx, keras
    python bench/models_table.py --no-onnx            # without the ONNX column (exports take minutes)
    python bench/models_table.py --onnx-limit 0 --only vgg16,regnet_y_128gf   # those, all routes, any size

Routes and what "exact" means there:
- print(model): `convshape import` of the text, then calc at 224 (299 for Inception v3):
  torch's parameter count (numel), FlopCounterMode's MACs / 2 and the output shape;
- live: `convshape import torchvision.models:NAME`, the same three numbers;
- ONNX: torch.onnx.export (dynamo=False) at that size, then calc: FlopCounterMode's MACs
  and the output (the export folds BatchNorm into the conv before it, so parameters differ);
- Keras JSON: to_json() of the application built with weights=None: trainable parameters,
  the other weights as buffers, and the output shape.
A model is "exact" when all its numbers agree, "refused" with convshape's own reason, and
"WRONG" otherwise: a wrong number is the worst bug convshape can have, so the script exits 1.
"""

from __future__ import annotations

import io
import json
import math
import os
import sys
import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "golden"))
os.environ.setdefault("KERAS_BACKEND", "torch")
warnings.filterwarnings("ignore")

TRANSFORMERS = ("vit_", "swin_", "maxvit_")
ONNX_LIMIT = 100_000_000  # parameters: larger exports take minutes and gigabytes, and are not run


def _reason(exc: Exception) -> str:
    text = str(exc).splitlines()[0]
    return text if len(text) < 110 else text[:107] + "..."


def _calc(stack: str, size: int, channels: int, convention: str = "torch"):
    from convshape import calc
    from convshape.counts import count

    result = calc(stack, size, channels, convention)
    if not result.valid:
        return None, f"calc: row {result.error_row.index}: {_reason(Exception(result.error_row.error.message))}"
    out = result.output
    shape = (out.features,) if out.size is None else (out.channels, *out.size)
    totals = count(result).totals
    return (totals.params, totals.buffers, totals.macs, shape), None


def _torch_numbers(model, size: int):
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        out = model(torch.empty((1, 3, size, size), device="meta"))
    return sum(p.numel() for p in model.parameters()), counter.get_total_flops() // 2, tuple(out.shape[1:])


def torchvision_rows(onnx: bool, limit: int = ONNX_LIMIT, only: set | None = None):
    import graph_golden

    graph_golden._install_torchvision_stub_ops()
    import torch
    import torchvision.models as models

    from convshape.importers import ImportFailure, read
    from convshape.importers.torch_module import meta_parameters, read_module

    for name in models.list_models(module=models):
        if only is not None and name not in only:
            continue
        size = 299 if name == "inception_v3" else 224
        cells = {}
        try:
            capture = read_module(f"torchvision.models:{name}", (size, size))
            model = capture.module
        except ImportFailure as exc:
            cells["live"] = f"refused: {_reason(exc)}"
            with meta_parameters(torch):
                model = models.get_model(name).eval()
            capture = None
        params, macs, shape = _torch_numbers(model, size)
        aux = sum(p.numel() for a in ("aux1", "aux2", "AuxLogits") if hasattr(model, a)
                  for p in getattr(model, a).parameters())
        if capture is not None:
            found, problem = _calc(capture.imported.stack, size, 3)
            cells["live"] = problem or ("exact" if (found[0], found[2], found[3]) == (params - aux, macs, shape)
                                        else f"WRONG: {found} against {(params - aux, macs, shape)}")
            if aux and cells["live"] == "exact":
                cells["live"] = f"exact (the {aux:,} parameters of the auxiliary classifiers eval never runs apart)"
        try:
            imported = read(str(model).encode(), "print(model)")
            found, problem = _calc(imported.stack, size, 3)
            cells["print(model)"] = problem or ("exact" if (found[0], found[2], found[3]) == (params, macs, shape)
                                                else f"WRONG: {found} against {(params, macs, shape)}")
        except ImportFailure as exc:
            cells["print(model)"] = f"refused: {_reason(exc)}"
        if not onnx:
            cells["ONNX"] = "not run"
        elif limit and params > limit:
            cells["ONNX"] = f"not run ({params / 1e6:.0f} M parameters)"
        else:
            cells["ONNX"] = _onnx_cell(name, size, macs, shape, read, ImportFailure)
        yield name, cells


def _onnx_cell(name, size, macs, shape, read, ImportFailure) -> str:
    import torch
    import torchvision.models as models

    model = models.get_model(name).eval()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.onnx"
        try:
            torch.onnx.export(model, torch.zeros(1, 3, size, size), str(path), dynamo=False)
        except Exception as exc:  # torch's exporter itself
            return f"torch cannot export it: {_reason(exc)}"
        try:
            imported = read(path.read_bytes(), str(path))
        except ImportFailure as exc:
            return f"refused: {_reason(exc)}"
        found, problem = _calc(imported.stack, size, 3, "onnx")
    return problem or ("exact" if (found[2], found[3]) == (macs, shape) else f"WRONG: {found} against {(macs, shape)}")


def keras_rows():
    import keras

    from convshape.importers import ImportFailure, read

    for name in sorted(n for n in dir(keras.applications) if n[0].isupper()):
        try:
            model = getattr(keras.applications, name)(weights=None)
        except Exception as exc:
            yield name, {"Keras JSON": f"Keras does not build it on torch: {_reason(exc)}"}
            continue
        trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
        want = (trainable, model.count_params() - trainable, tuple(model.output.shape[1:]))
        try:
            imported = read(model.to_json().encode(), "model.json")
        except ImportFailure as exc:
            yield name, {"Keras JSON": f"refused: {_reason(exc)}"}
            continue
        size = imported.input_size or (224, 224)
        found, problem = _calc(imported.stack, size, imported.input_channels, "tf")
        cell = problem or ("exact" if (found[0], found[1], found[3]) == want else f"WRONG: {found} against {want}")
        yield name, {"Keras JSON": cell}


def main() -> int:
    onnx = "--no-onnx" not in sys.argv
    limit = int(sys.argv[sys.argv.index("--onnx-limit") + 1]) if "--onnx-limit" in sys.argv else ONNX_LIMIT
    only = set(sys.argv[sys.argv.index("--only") + 1].split(",")) if "--only" in sys.argv else None
    out = io.StringIO()
    wrong = 0
    out.write("| torchvision model | live (`import MODULE:ATTR`) | `print(model)` | ONNX (torch's export) |\n")
    out.write("|---|---|---|---|\n")
    for name, cells in torchvision_rows(onnx, limit, only):
        if name.startswith(TRANSFORMERS):
            cells = {k: (v if v.startswith("exact") else "transformer: " + v) for k, v in cells.items()}
        wrong += sum("WRONG" in v for v in cells.values())
        out.write(f"| {name} | {cells['live']} | {cells['print(model)']} | {cells['ONNX']} |\n")
        print(name, json.dumps(cells), file=sys.stderr, flush=True)
    out.write("\n| Keras application | Keras JSON |\n|---|---|\n")
    for name, cells in ([] if only is not None else keras_rows()):
        wrong += sum("WRONG" in v for v in cells.values())
        out.write(f"| {name} | {cells['Keras JSON']} |\n")
        print(name, json.dumps(cells), file=sys.stderr, flush=True)
    sys.stdout.write(out.getvalue())
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
