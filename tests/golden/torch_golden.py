"""Golden cases from PyTorch itself.

Draws random stacks, writes each as convshape text *and* builds it as torch modules
from the same drawn parameters (never from convshape's code), runs a tensor through,
and records what torch gives: each layer's output shape, or the first failing layer
and torch's message. Receptive fields come from torch too: the gradient of a few
central output units, through a copy of the network with all-one weights (avgpool
standing in for maxpool), gives the first and last input pixel each unit sees.

Regenerate (needs torch; `pip install torch==2.13.0`):
    python tests/golden/torch_golden.py            # writes tests/golden/torch_cases.json
"""

from __future__ import annotations

import json
import random
import sys
from fractions import Fraction
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
GOLDEN = HERE / "torch_cases.json"
SEED = 20261128
COUNT = 1200

SPATIAL_KINDS = ["conv", "conv", "conv", "convt", "maxpool", "maxpool", "avgpool", "up", "pad"]
KEEPING = ["bn", "bn", "relu", "relu", "ln", "gn", "in", "layerscale", "gelu", "silu", "sigmoid", "tanh", "hardswish",
           "lrelu", "relu6", "dropout"]
FLAT_KEEPING = ["bn", "relu", "ln", "gn", "layerscale", "gelu", "dropout", "tanh"]  # InstanceNorm needs a map
# How stacks end: mostly the usual heads, sometimes a mistake people make.
TAILS = [[], [], [], ["flatten"], ["flatten", "linear"], ["gap", "flatten", "linear"], ["gap"],
         ["gap", "linear"], ["linear"], ["flatten", "conv"]]


# --------------------------------------------------------------------- drawing
def _axis_values(rng: random.Random, dims: int, low: int, high: int, vary: float = 0.25) -> list[int]:
    if dims > 1 and rng.random() < vary:
        return [rng.randint(low, high) for _ in range(dims)]
    return [rng.randint(low, high)] * dims


def _fmt(values: list) -> str:
    if len(set(values)) == 1:
        return _num(values[0])
    return "x".join(_num(v) for v in values)


def _num(value) -> str:
    value = Fraction(value)
    if value.denominator == 1:
        return str(value.numerator)
    return str(float(value))


def draw_layer(rng: random.Random, dims: int, invalid: bool, kind: str | None = None) -> dict:
    """One layer's parameters; with ``invalid``, sometimes a value frameworks refuse."""
    kind = kind or rng.choice(SPATIAL_KINDS)
    layer: dict = {"kind": kind, "repeat": 2 if rng.random() < 0.08 else 1}
    if kind in ("conv", "convt", "maxpool", "avgpool"):
        layer["k"] = _axis_values(rng, dims, 1, 5)
        default_stride = layer["k"] if kind in ("maxpool", "avgpool") else [1] * dims
        layer["s"] = _axis_values(rng, dims, 1, 3) if rng.random() < 0.6 else None
        layer["d"] = _axis_values(rng, dims, 1, 3) if kind in ("conv", "convt", "maxpool") and rng.random() < 0.25 else None
        stride = layer["s"] or default_stride
        dilation = layer["d"] or [1] * dims
        choice = rng.random()
        if kind in ("maxpool", "avgpool"):
            limit = [(d * (k - 1) + 1) // 2 for k, d in zip(layer["k"], dilation)]
            if choice < 0.5:
                layer["p"] = [(p, p) for p in (rng.randint(0, m) for m in limit)]
            elif choice < 0.55:
                layer["p"] = "valid"
            else:
                layer["p"] = None
            if invalid and rng.random() < 0.3:
                layer["p"] = [(m + 1, m + 1) for m in limit]
            layer["ceil"] = rng.random() < 0.3
        else:
            if choice < 0.45:
                layer["p"] = [(p, p) for p in _axis_values(rng, dims, 0, 3)]
            elif choice < 0.6 and kind == "conv":
                layer["p"] = [(rng.randint(0, 2), rng.randint(0, 2)) for _ in range(dims)]
            elif choice < 0.7 and kind == "conv":
                layer["p"] = "same" if (all(s == 1 for s in stride) or invalid) else "valid"
            elif choice < 0.75 and kind == "conv":
                layer["p"] = "full"
            elif choice < 0.85 and kind == "convt":
                layer["p"] = [(rng.randint(0, 2), rng.randint(0, 2)) for _ in range(dims)]
            else:
                layer["p"] = None
        if kind in ("conv", "convt"):
            layer["c"] = rng.choice([None, 4, 6, 8, 12])
            layer["g"] = rng.choice([1, 1, 1, 2, 3]) if rng.random() < 0.3 else 1
        if kind == "convt" and rng.random() < 0.3:
            layer["op"] = [rng.randint(0, max(s, d) - 1) for s, d in zip(stride, dilation)]
            if invalid and rng.random() < 0.3:
                layer["op"] = [max(s, d) for s, d in zip(stride, dilation)]
        if invalid and rng.random() < 0.15:
            key = rng.choice(["k", "s", "d"] if kind != "avgpool" else ["k", "s"])
            layer[key] = [0] * dims
        if invalid and rng.random() < 0.1 and kind == "conv":
            layer["p"] = [(-1, -1)] * dims
    elif kind == "up":
        layer["s"] = [rng.choice([Fraction(2), Fraction(2), Fraction(3), Fraction(1, 2), Fraction(3, 2), Fraction(5, 2)])] * dims
        if rng.random() < 0.3:
            layer["s"] = None
    elif kind == "pad":
        layer["p"] = [(rng.randint(0, 3), rng.randint(0, 3)) for _ in range(dims)]
    elif kind == "linear":
        layer["c"] = rng.choice([10, 16, 100])
    return layer


def layer_text(layer: dict) -> str:
    parts = [layer["kind"]]
    if layer.get("k") is not None:
        parts.append("k" + _fmt(layer["k"]))
    if layer.get("s") is not None and layer["kind"] != "linear":
        parts.append("s" + _fmt(layer["s"]))
    p = layer.get("p")
    if isinstance(p, str):
        parts.append("p" + p)
    elif p is not None:
        if all(b == a for b, a in p):
            parts.append("p" + _fmt([b for b, _ in p]))
        else:
            parts.append("p" + "x".join(f"{b}:{a}" for b, a in p))
    if layer.get("d") is not None:
        parts.append("d" + _fmt(layer["d"]))
    if layer.get("c") is not None:
        parts.append(f"c{layer['c']}")
    if layer.get("g", 1) != 1 or layer["kind"] == "gn":
        parts.append(f"g{layer['g']}")
    if layer.get("dw"):
        parts.append("dw")
    if layer.get("bias") is False:
        parts.append("nobias")
    if layer.get("op") is not None:
        parts.append("op" + _fmt(layer["op"]))
    if layer.get("ceil"):
        parts.append("ceil")
    if layer["repeat"] > 1:
        parts.append(f"x{layer['repeat']}")
    return " ".join(parts)


def draw_case(rng: random.Random) -> dict:
    dims = rng.choice([1, 2, 2, 2, 3])
    low, high = {1: (8, 80), 2: (6, 40), 3: (4, 14)}[dims]
    size = _axis_values(rng, dims, low, high, vary=0.3)
    invalid = rng.random() < 0.3
    layers = [draw_layer(rng, dims, invalid) for _ in range(rng.randint(1, 6))]
    layers += [draw_layer(rng, dims, invalid, kind) for kind in rng.choice(TAILS)]
    channels = rng.choice([1, 2, 3, 4, 6, 12])
    layers = with_costs_drawn(layers)
    return {
        "stack": ", ".join(layer_text(layer) for layer in layers),
        "input": "x".join(map(str, size)),
        "dims": dims,
        "channels": channels,
        "layers": layers,
    }


def with_costs_drawn(layers: list[dict]) -> list[dict]:
    """The layers with biases dropped, depthwise convs and shape-keeping layers added, drawn
    from a generator seeded by the layers themselves."""
    extra = random.Random(json.dumps(layers, default=str, sort_keys=True))
    out = []
    flat = False
    for layer in layers:
        flat = flat or layer["kind"] in ("flatten", "linear")
        if layer["kind"] in ("conv", "convt", "linear"):
            layer["bias"] = extra.random() < 0.6
        if layer["kind"] in ("conv", "convt") and layer.get("g", 1) == 1 and extra.random() < 0.12:
            layer["dw"] = True
        out.append(layer)
        if extra.random() < 0.35:
            kind = extra.choice(FLAT_KEEPING if flat else KEEPING)
            keep = {"kind": kind, "repeat": 1}
            if kind == "gn":
                keep["g"] = extra.choice([1, 2, 3, 4])
            out.append(keep)
    return out


# --------------------------------------------------------------------- torch
class LayerScale:
    """ConvNeXt's layer scale: a learned factor per channel (all ones here)."""

    def __new__(cls, channels: int, axes: int):
        import torch
        from torch import nn

        class _Scale(nn.Module):
            def __init__(self):
                super().__init__()
                self.gamma = nn.Parameter(torch.ones(channels, *([1] * axes)))

            def forward(self, x):
                return self.gamma * x

        return _Scale()


def _keeping(layer: dict, in_shape: tuple, dims: int, for_field: bool):
    """A shape-keeping layer as torch writes it. For receptive fields it is the identity: a
    norm's statistics read the whole map, and fields, as everyone counts them, leave them out."""
    from torch import nn

    kind = layer["kind"]
    if for_field:
        return []
    channels = in_shape[1]
    spatial = len(in_shape) > 2
    nd = {1: "1d", 2: "2d", 3: "3d"}[dims] if spatial else "1d"
    if kind == "bn":
        return [getattr(nn, "BatchNorm" + nd)(channels).eval()]
    if kind == "ln":  # over channels at each position, as ConvNeXt's LayerNorm2d
        norm = nn.LayerNorm(channels)
        return [lambda x: x.movedim(1, -1), norm, lambda x: x.movedim(-1, 1)]
    if kind == "gn":
        return [nn.GroupNorm(layer["g"], channels)]
    if kind == "in":
        return [getattr(nn, "InstanceNorm" + nd)(channels).eval()]
    if kind == "layerscale":
        return [LayerScale(channels, len(in_shape) - 2)]
    activations = {"relu": nn.ReLU, "gelu": nn.GELU, "silu": nn.SiLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh,
                   "hardswish": nn.Hardswish, "lrelu": nn.LeakyReLU, "relu6": nn.ReLU6, "dropout": nn.Dropout}
    return [activations[kind]().eval()]
def _module(layer: dict, in_shape: tuple, dims: int, for_field: bool):
    """The torch module for one drawn layer, given the incoming shape (N, C, *spatial)."""
    import torch
    from torch import nn
    import torch.nn.functional as F

    kind = layer["kind"]
    channels = in_shape[1] if len(in_shape) > 1 else None
    nd = {1: "1d", 2: "2d", 3: "3d"}[dims]
    if kind not in SPATIAL_KINDS + ["gap", "flatten", "linear"]:
        return _keeping(layer, in_shape, dims, for_field)
    bias = layer.get("bias", True) and not for_field
    groups = channels if layer.get("dw") else layer.get("g", 1)
    if kind in ("conv", "convt", "maxpool", "avgpool"):
        k = tuple(layer["k"])
        s = tuple(layer["s"]) if layer.get("s") is not None else (k if kind in ("maxpool", "avgpool") else (1,) * dims)
        d = tuple(layer["d"]) if layer.get("d") is not None else (1,) * dims
        p = layer.get("p")
        pre = None
        crop = None
        if p is None or p == "valid":
            padding = (0,) * dims
        elif p == "full":
            padding = tuple(dd * (kk - 1) for kk, dd in zip(k, d))
        elif p == "same":
            padding = "same"
        elif all(b == a for b, a in p):
            padding = tuple(b for b, _ in p)
        elif kind == "conv":
            # nn.Conv has one padding per axis: an asymmetric one is F.pad first, as torch's own 'same' does.
            flat = []
            for b, a in reversed(p):
                flat += [b, a]
            pre = lambda x, flat=flat: F.pad(x, flat)
            padding = (0,) * dims
        elif kind == "convt":
            crop = p
            padding = (0,) * dims
        else:
            raise NotImplementedError("PyTorch pools take one padding per axis")
        if kind == "conv":
            out_c = layer.get("c") or channels
            module = getattr(nn, "Conv" + nd)(channels, out_c, k, s, padding, d, groups=groups, bias=bias)
        elif kind == "convt":
            out_c = layer.get("c") or channels
            op = tuple(layer["op"]) if layer.get("op") is not None else (0,) * dims
            module = getattr(nn, "ConvTranspose" + nd)(
                channels, out_c, k, s, padding, op, groups=groups, bias=bias, dilation=d
            )
        elif kind == "maxpool" and not (for_field and d == (1,) * dims):
            if for_field:
                raise NotImplementedError("no all-positive stand-in for a dilated maxpool")
            module = getattr(nn, "MaxPool" + nd)(k, s, padding, d, ceil_mode=layer.get("ceil", False))
        else:
            module = getattr(nn, "AvgPool" + nd)(k, s, padding, ceil_mode=layer.get("ceil", False))
        if for_field and hasattr(module, "weight"):
            with torch.no_grad():
                module.weight.fill_(1.0)
        steps = [m for m in (pre, module) if m is not None]
        if crop is not None:
            def cropper(x, crop=crop):
                index = [slice(None), slice(None)] + [slice(b, x.shape[2 + i] - a) for i, (b, a) in enumerate(crop)]
                return x[tuple(index)]
            steps.append(cropper)
        return steps
    if kind == "up":
        scale = tuple(float(v) for v in (layer.get("s") or [2] * dims))
        return [nn.Upsample(scale_factor=scale, mode="nearest")]
    if kind == "pad":
        flat = []
        for b, a in reversed(layer["p"]):
            flat += [b, a]
        return [lambda x, flat=flat: F.pad(x, flat)]
    if kind == "gap":
        return [getattr(nn, "AdaptiveAvgPool" + nd)(1)]
    if kind == "flatten":
        return [nn.Flatten()]
    if kind == "linear":
        in_features = in_shape[-1] if len(in_shape) == 2 else int(torch.tensor(in_shape[1:]).prod())
        module = nn.Linear(in_features, layer["c"], bias=bias)
        if for_field:
            with torch.no_grad():
                module.weight.fill_(1.0)
        return [module]
    raise ValueError(kind)


def _expanded(case: dict) -> list[dict]:
    return [layer for layer in case["layers"] for _ in range(layer["repeat"])]


def run_torch(case: dict) -> dict:
    """What torch gives for a drawn case: per-layer shapes, or the failing layer and message."""
    import torch

    dims = case["dims"]
    size = [int(v) for v in case["input"].split("x")]
    size = size * dims if len(size) == 1 else size
    layers = _expanded(case)
    x = torch.ones(1, case["channels"], *size)
    shapes: list[list[int]] = []
    params: list[int] = []
    flops: list[int] = []
    error = None
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad():
        for index, layer in enumerate(layers, 1):
            try:
                steps = _module(layer, tuple(x.shape), dims, for_field=False)
                with FlopCounterMode(display=False) as counter:
                    for step in steps:
                        x = step(x)
                if x.numel() == 0:
                    raise RuntimeError(f"empty output {tuple(x.shape)}")
            except NotImplementedError as exc:
                error = {"layer": index, "message": f"not expressible in torch: {exc}"}
                break
            except (RuntimeError, ValueError) as exc:
                error = {"layer": index, "message": str(exc).splitlines()[0][:200]}
                break
            shapes.append(list(x.shape[1:]))
            params.append(sum(p.numel() for step in steps if isinstance(step, torch.nn.Module) for p in step.parameters()))
            flops.append(counter.get_total_flops())
    fields = _fields(case, layers[: len(shapes)], size) if shapes else []
    return {"shapes": shapes, "error": error, "fields": fields, "params": params, "flops": flops}


def _fields(case: dict, layers: list[dict], size: list[int]) -> list:
    """Per computed layer: for a few central output units, (unit, first, last) per axis, from gradients."""
    import torch

    dims = case["dims"]
    torch.manual_seed(0)
    x = torch.ones(1, case["channels"], *size, dtype=torch.float64, requires_grad=True)
    fields = []
    steps: list = []
    shape = tuple(x.shape)
    for layer in layers:
        try:
            new_steps = _module(layer, shape, dims, for_field=True)
        except NotImplementedError:
            break
        for step in new_steps:
            if isinstance(step, torch.nn.Module):
                step.double()
        steps += new_steps
        y = x
        try:
            for step in steps:
                y = step(y)
        except RuntimeError:  # the stand-in refuses what the real layer took (avg_pool3d's own size check)
            break
        shape = tuple(y.shape)
        if y.dim() != 2 + dims:  # flat: no spatial unit to pick
            fields.append(None)
            continue
        units = []
        for offset in range(3):
            unit = [n // 2 + offset for n in y.shape[2:]]
            if any(u >= n for u, n in zip(unit, y.shape[2:])):
                break
            if x.grad is not None:
                x.grad = None
            # A unit is a position with all its channels: each channel of a pixel unshuffle reads
            # one pixel of its block, and together they read the block (as the next conv does).
            y[(0, slice(None), *unit)].sum().backward(retain_graph=True)
            grad = x.grad[0].abs().sum(0)
            per_axis = []
            for axis in range(dims):
                other = tuple(a for a in range(dims) if a != axis)
                line = grad.sum(other) if other else grad
                nonzero = torch.nonzero(line > 0).flatten().tolist()
                per_axis.append([unit[axis], nonzero[0], nonzero[-1]] if nonzero else [unit[axis], None, None])
            units.append(per_axis)
        fields.append(units)
    return fields


def generate(count: int = COUNT, seed: int = SEED) -> list[dict]:
    from drawing import collect

    return collect(draw_case, run_torch, _linear_on_last_axis, count, seed, "layers")


def _linear_on_last_axis(case: dict, result: dict) -> bool:
    """True where torch ran a layer that convshape refuses on purpose: Linear applied to the last
    spatial axis of an unflattened tensor, or a 1-D conv reading a flat (N, F) tensor as unbatched."""
    layers = _expanded(case)
    shapes = result["shapes"]
    for index, layer in enumerate(layers[: len(shapes)]):
        incoming = shapes[index - 1] if index else [case["channels"], 0]
        if layer["kind"] == "linear" and len(incoming) > 1:
            return True
        if layer["kind"] in SPATIAL_KINDS + ["gap"] and len(incoming) == 1:
            return True
    return False


def main() -> None:
    import torch
    from drawing import write

    write(GOLDEN, "tests/golden/torch_golden.py", {"torch": torch.__version__}, SEED, generate())


if __name__ == "__main__":
    main()
