"""Golden cases for whole networks, from PyTorch itself.

Draws random graphs (residual blocks with and without projection, Inception-like
concats, squeeze-and-excitation gates, U-Net down and up paths with cat, crop and pad,
FPN-style up + add, adaptive pools and resizes) mixed with v1 layers, on 1 to 3 axes.
Each graph is written as convshape text *and* run in torch from the same drawn program
(never from convshape's code): torch's own modules, ``torch.add``/``mul``/``cat``,
torchvision's ``center_crop`` for 2-D crops (its own formula, int(round(d / 2.0)), on the
other axes), ``F.pad`` for pads and ``F.interpolate`` for resizes. It records every
row's shape, or the first failing row and torch's message, and receptive fields from
gradients of central output units through all-one weights (avgpool standing in for
maxpool), as torch_golden.py does. Costs too: each row's ``sum(p.numel())`` and what
``FlopCounterMode`` counts for it. Norms, activations, dropout, ``nobias`` and ``dw`` are
drawn by a second generator seeded from each case's program (see torch_golden.py).

Regenerate (needs torch; `pip install torch==2.13.0 torchvision==0.28.0 pillow`):
    python tests/golden/graph_golden.py            # writes tests/golden/graph_cases.json
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

import torch_golden as tg  # noqa: E402  (the v1 generator: its layers and their torch modules)

GOLDEN = HERE / "graph_cases.json"
SEED = 20261130
COUNT = 1100

BLOCKS = ["layer", "layer", "residual", "projection", "inception", "se", "unet", "fpn", "adaptive", "resize"]
TAILS = [[], [], [], ["gap"], ["flatten", "linear"], ["gap", "flatten", "linear"]]


def _conv(dims: int, k: int, s: int = 1, p: int = 0, c: int | None = None) -> dict:
    return {"kind": "conv", "repeat": 1, "k": [k] * dims, "s": [s] * dims, "d": None, "p": [(p, p)] * dims,
            "c": c, "g": 1}


def _layer(layer: dict) -> dict:
    return {"op": "layer", "layer": layer}


def _mode(rng: random.Random, crop_or_pad: float = 0.4):
    return rng.choice(["crop", "pad"]) if rng.random() < crop_or_pad else None


def draw_block(rng: random.Random, block: str, dims: int, invalid: bool, fresh) -> list[dict]:
    """One building block as a program of ops: layer, bind, from, merge, adaptive, resize, like."""
    if block == "layer":
        return [_layer(tg.draw_layer(rng, dims, invalid))]
    a = fresh()
    if block == "residual":
        p = rng.choice([1, 1, 1, 0])  # p0 shrinks the main path: a mismatch, unless cropped or padded
        return [{"op": "bind", "name": a}, _layer(_conv(dims, 3, 1, 1)), _layer(_conv(dims, 3, 1, p)),
                {"op": "merge", "kind": "add", "names": [a], "mode": _mode(rng, 0.5 if p == 0 else 0.2)}]
    if block == "projection":
        b = fresh()
        c = rng.choice([4, 8])
        k, p = rng.choice([(3, 1), (3, 1), (2, 0), (3, 0)])
        shortcut_k = rng.choice([1, 1, 2])
        return [{"op": "bind", "name": a}, _layer(_conv(dims, k, 2, p, c)), _layer(_conv(dims, 3, 1, 1)),
                {"op": "bind", "name": b}, {"op": "from", "name": a},
                _layer(_conv(dims, shortcut_k, 2, 0, c if not invalid or rng.random() < 0.7 else c + 1)),
                {"op": "merge", "kind": "add", "names": [b], "mode": _mode(rng, 0.2)}]
    if block == "inception":
        b1, b2 = fresh(), fresh()
        pool = {"kind": "maxpool", "repeat": 1, "k": [3] * dims, "s": [1] * dims, "d": None,
                "p": [(1, 1)] * dims, "ceil": False}
        return [{"op": "bind", "name": a}, _layer(_conv(dims, 1, 1, 0, rng.choice([2, 4]))), {"op": "bind", "name": b1},
                {"op": "from", "name": a}, _layer(_conv(dims, 3, 1, rng.choice([1, 1, 0]), 4)), {"op": "bind", "name": b2},
                {"op": "from", "name": a}, _layer(pool),
                {"op": "merge", "kind": "cat", "names": [b1, b2], "mode": _mode(rng, 0.3)}]
    if block == "se":
        gate = rng.choice([None, None, 1])  # conv k1 keeps the channels; c1 is a spatial gate
        return [{"op": "bind", "name": a}, _layer({"kind": "gap", "repeat": 1}), _layer(_conv(dims, 1, 1, 0, 2)),
                _layer(_conv(dims, 1, 1, 0, gate)), {"op": "merge", "kind": "mul", "names": [a], "mode": None}] if gate \
            else [{"op": "bind", "name": a}, _layer({"kind": "gap", "repeat": 1}), _layer(_conv(dims, 1, 1, 0)),
                  {"op": "merge", "kind": "mul", "names": [a], "mode": None}]
    if block == "unet":
        p = rng.choice([0, 1])
        ops = [_layer(_conv(dims, 3, 1, p)), {"op": "bind", "name": a},
               _layer({"kind": "maxpool", "repeat": 1, "k": [2] * dims, "s": None, "d": None, "p": None, "ceil": False}),
               _layer(_conv(dims, 3, 1, p))]
        if rng.random() < 0.6:
            up = {"kind": "convt", "repeat": 1, "k": [2] * dims, "s": [2] * dims, "d": None, "p": None, "c": None, "g": 1}
            if rng.random() < 0.2:
                up["op"] = [1] * dims
            ops.append(_layer(up))
        else:
            ops.append(_layer({"kind": "up", "repeat": 1, "s": None}))
        return ops + [{"op": "merge", "kind": "cat", "names": [a], "mode": _mode(rng, 0.7)}]
    if block == "fpn":
        ops = [{"op": "bind", "name": a}, _layer(_conv(dims, 3, 2, 1)), _layer(_conv(dims, 1))]
        ops.append({"op": "like", "name": a} if rng.random() < 0.5 else _layer({"kind": "up", "repeat": 1, "s": None}))
        return ops + [{"op": "merge", "kind": "add", "names": [a], "mode": None}]
    if block == "adaptive":
        out = tg._axis_values(rng, dims, 1, 9, vary=0.4)
        return [{"op": "adaptive", "kind": rng.choice(["adaptiveavgpool", "adaptivemaxpool"]), "out": out}]
    if block == "resize":
        return [{"op": "resize", "out": tg._axis_values(rng, dims, 2, 40, vary=0.3)}]
    raise ValueError(block)


def op_text(op: dict) -> str:
    kind = op["op"]
    if kind == "layer":
        return tg.layer_text(op["layer"])
    if kind == "bind":
        return "@" + op["name"]
    if kind == "from":
        return "from " + op["name"]
    if kind == "merge":
        return " ".join([op["kind"], *op["names"], *([op["mode"]] if op["mode"] else [])])
    if kind == "adaptive":
        return f"{op['kind']} o{tg._fmt(op['out'])}"
    if kind == "resize":
        return f"up o{tg._fmt(op['out'])}"
    if kind == "like":
        return f"up like {op['name']}"
    raise ValueError(kind)


def _with_costs_drawn(ops: list[dict]) -> list[dict]:
    """The program with biases dropped, depthwise convs and shape-keeping rows added, drawn
    from a generator seeded by the program itself."""
    extra = random.Random(json.dumps(ops, default=str, sort_keys=True))
    out, flat = [], False
    for op in ops:
        out.append(op)
        if op["op"] == "layer":
            layer = op["layer"]
            flat = flat or layer["kind"] in ("flatten", "linear")
            if layer["kind"] in ("conv", "convt", "linear"):
                layer["bias"] = extra.random() < 0.6
            if layer["kind"] in ("conv", "convt") and layer.get("g", 1) == 1 and extra.random() < 0.1:
                layer["dw"] = True
        if op["op"] in ("layer", "merge") and extra.random() < 0.3:
            kind = extra.choice(tg.FLAT_KEEPING if flat else tg.KEEPING)
            keep = {"kind": kind, "repeat": 1, **({"g": extra.choice([1, 2, 4])} if kind == "gn" else {})}
            out.append(_layer(keep))
    return out


def draw_case(rng: random.Random) -> dict:
    dims = rng.choice([1, 2, 2, 2, 3])
    low, high = {1: (8, 90), 2: (6, 48), 3: (4, 16)}[dims]
    size = tg._axis_values(rng, dims, low, high, vary=0.3)
    invalid = rng.random() < 0.2
    count = [0]

    def fresh() -> str:
        count[0] += 1
        return f"t{count[0]}"

    ops: list[dict] = []
    for _ in range(rng.randint(1, 4)):
        ops += draw_block(rng, rng.choice(BLOCKS), dims, invalid, fresh)
    ops += [_layer(tg.draw_layer(rng, dims, invalid, kind)) for kind in rng.choice(TAILS)]
    ops = _with_costs_drawn(ops)
    # Commas between some rows, none between others: both are the same stack.
    text = ""
    for op in ops:
        text += (", " if text and op["op"] != "bind" and rng.random() < 0.5 else " " if text else "") + op_text(op)
    return {"stack": text, "input": "x".join(map(str, size)), "dims": dims,
            "channels": rng.choice([2, 3, 4, 8]), "ops": ops}


# --------------------------------------------------------------------- torch
def _centre_crop(x, target: list[int]):
    """torchvision's center_crop on 2-D maps; its formula on the other axes."""
    dims = len(target)
    if dims == 2:
        from torchvision.transforms.functional import center_crop

        return center_crop(x, list(target))
    index = [slice(None), slice(None)]
    for axis, want in enumerate(target):
        have = x.shape[2 + axis]
        top = int(round((have - want) / 2.0))
        index.append(slice(top, top + want))
    return x[tuple(index)]


def _pad_to(x, target: list[int]):
    import torch.nn.functional as F

    flat = []
    for axis in reversed(range(len(target))):
        diff = target[axis] - x.shape[2 + axis]
        flat += [diff // 2, diff - diff // 2]
    return F.pad(x, flat)


def _merge(op: dict, tensors: list):
    import torch

    dims = tensors[0].dim() - 2
    if op["mode"] and dims > 0:
        pick = min if op["mode"] == "crop" else max
        target = [pick(t.shape[2 + axis] for t in tensors) for axis in range(dims)]
        tensors = [(_centre_crop if op["mode"] == "crop" else _pad_to)(t, target) for t in tensors]
    if op["kind"] == "cat":
        return torch.cat(tensors, dim=1)
    y = tensors[0]
    for t in tensors[1:]:
        y = torch.add(y, t) if op["kind"] == "add" else torch.mul(y, t)
    return y


def _steps(op: dict, x, env: dict, dims: int, for_field: bool) -> list:
    """The callables one row applies (a layer op with repeats gives several rows)."""
    from torch import nn
    import torch.nn.functional as F

    nd = {1: "1d", 2: "2d", 3: "3d"}[dims]
    if op["op"] == "adaptive":
        average = op["kind"] == "adaptiveavgpool" or for_field
        module = getattr(nn, ("AdaptiveAvgPool" if average else "AdaptiveMaxPool") + nd)(tuple(op["out"]))
        return [module]
    if op["op"] == "resize":
        return [lambda t, size=tuple(op["out"]): F.interpolate(t, size=size, mode="nearest")]
    if op["op"] == "like":
        return [lambda t, other=env[op["name"]]: F.interpolate(t, size=tuple(other.shape[2:]), mode="nearest")]
    raise ValueError(op["op"])


def _rows(case: dict, for_field: bool):
    """Run the program; yield (row, output) for each row in order, raising at the failing one."""
    import torch

    dims = case["dims"]
    size = [int(v) for v in case["input"].split("x")]
    size = size * dims if len(size) == 1 else size
    dtype = torch.float64 if for_field else torch.float32
    x0 = torch.ones(1, case["channels"], *size, dtype=dtype, requires_grad=for_field)
    x, env = x0, {}
    yield 0, x0, 0
    row = 0
    for op in case["ops"]:
        kind = op["op"]
        if kind == "bind":
            env[op["name"]] = x
            continue
        if kind == "from":
            x = env[op["name"]]
            continue
        repeats = op["layer"]["repeat"] if kind == "layer" else 1
        for _ in range(repeats):
            row += 1
            params = 0
            if kind == "merge":
                x = _merge(op, [env[name] for name in op["names"]] + [x])
            else:
                steps = tg._module(op["layer"], tuple(x.shape), dims, for_field) if kind == "layer" \
                    else _steps(op, x, env, dims, for_field)
                for step in steps:
                    if isinstance(step, torch.nn.Module):
                        step.to(dtype)
                        params += sum(p.numel() for p in step.parameters())
                    x = step(x)
            if x.numel() == 0:
                raise RuntimeError(f"empty output {tuple(x.shape)}")
            yield row, x, params


def run_torch(case: dict) -> dict:
    import torch

    from torch.utils.flop_counter import FlopCounterMode

    shapes, error, params, flops = [], None, [], []
    rows = _rows(case, for_field=False)
    with torch.no_grad():
        try:
            while True:
                with FlopCounterMode(display=False) as counter:  # the row runs inside next()
                    row, x, numel = next(rows, (None, None, None))
                if row is None:
                    break
                if row:
                    shapes.append(list(x.shape[1:]))
                    params.append(numel)
                    flops.append(counter.get_total_flops())
        except NotImplementedError as exc:
            error = {"layer": len(shapes) + 1, "message": f"not expressible in torch: {exc}"}
        except (RuntimeError, ValueError) as exc:
            error = {"layer": len(shapes) + 1, "message": str(exc).splitlines()[0][:200]}
    return {"shapes": shapes, "error": error, "fields": _fields(case, len(shapes)) if shapes else [],
            "params": params, "flops": flops}


def _fields(case: dict, count: int) -> list:
    """Per computed row: for a few central output units, (unit, first, last) per axis, from gradients."""
    import torch

    dims = case["dims"]
    outputs, x0 = [], None
    try:
        for row, y, _ in _rows(case, for_field=True):
            if row == 0:
                x0 = y
                continue
            if row > count:
                break
            outputs.append(y)
    except (NotImplementedError, RuntimeError, ValueError):
        pass
    fields = []
    for y in outputs:
        if y.dim() != 2 + dims:
            fields.append(None)
            continue
        units = []
        for offset in range(3):
            unit = [n // 2 + offset for n in y.shape[2:]]
            if any(u >= n for u, n in zip(unit, y.shape[2:])):
                break
            x0.grad = None
            y[(0, slice(None), *unit)].sum().backward(retain_graph=True)  # every channel: cat joins fields
            grad = x0.grad[0].abs().sum(0)
            per_axis = []
            for axis in range(dims):
                other = tuple(a for a in range(dims) if a != axis)
                line = grad.sum(other) if other else grad
                nonzero = torch.nonzero(line > 0).flatten().tolist()
                per_axis.append([unit[axis], nonzero[0], nonzero[-1]] if nonzero else [unit[axis], None, None])
            units.append(per_axis)
        fields.append(units)
    return fields


def _refused_on_purpose(case: dict, result: dict) -> bool:
    """Rows torch runs that convshape refuses on purpose (see torch_golden): Linear on an
    unflattened map, a spatial layer on a flat tensor."""
    shapes = result["shapes"]
    rows = [op for op in case["ops"] if op["op"] not in ("bind", "from")
            for _ in range(op["layer"]["repeat"] if op["op"] == "layer" else 1)]
    incoming = [case["channels"], 0]
    for index, op in enumerate(rows[: len(shapes)]):
        kind = op["layer"]["kind"] if op["op"] == "layer" else op["op"]
        flat_in = len(incoming) == 1
        if kind == "linear" and not flat_in:
            return True
        if kind not in ("linear", "flatten", "merge", *tg.KEEPING) and flat_in:
            return True
        incoming = shapes[index]
    return False


def _install_torchvision_stub_ops() -> None:
    """torchvision's only wheel for torch 2.13 is a CUDA build; its two detection ops must be
    defined before it imports on CPU torch (the transforms never call them)."""
    import torch

    try:
        lib = torch.library.Library("torchvision", "DEF")
        lib.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        lib.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        _install_torchvision_stub_ops.lib = lib  # keep the definitions alive
    except RuntimeError:
        pass  # already defined


def generate(count: int = COUNT, seed: int = SEED) -> list[dict]:
    from drawing import collect

    _install_torchvision_stub_ops()
    return collect(draw_case, run_torch, _refused_on_purpose, count, seed, "ops")


def main() -> None:
    from drawing import write

    cases = generate()
    import torch
    import torchvision

    write(GOLDEN, "tests/golden/graph_golden.py", {"torch": torch.__version__, "torchvision": torchvision.__version__},
          SEED, cases)


if __name__ == "__main__":
    main()
