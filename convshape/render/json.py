"""JSON output: one object for the whole result. Keys are documented in the README."""

from __future__ import annotations

from ..calc import Result, Row, flat_features
from ..counts import groups_of
from ..diagnostics import Diagnostic
from ..layers import layer_label
from .common import number


def _numbers(values):
    if values is None:
        return None
    return [v if type(v) is int else number(v) for v in values]  # ints, the common case, as they are


def _diagnostic(diagnostic: Diagnostic) -> dict:
    return {"code": diagnostic.code.value, "message": diagnostic.message, "axes": list(diagnostic.axes)}


def _layer_values(layer) -> tuple:
    """What a row's JSON says of its layer alone: the same for every row it makes."""
    return (layer.kind.value, None if layer.mode is None else layer.mode.value, _numbers(layer.kernel),
            _numbers(layer.kind.op.stride_values(layer)), _numbers(layer.dilation),
            layer.bias if layer.kind.value in ("conv", "convt", "linear") else None,
            _numbers(layer.output_padding), layer.ceil if layer.kind.is_pool else None)


def _row(row: Row, result: Result, cost=None, flops: bool = False, known: dict | None = None) -> dict:
    """One row as JSON; ``known`` keeps each layer's own values across the rows it makes."""
    layer = row.layer
    if known is None:
        values = _layer_values(layer)
    else:
        values = known.get(id(layer))
        if values is None:
            values = known[id(layer)] = _layer_values(layer)
    kind, mode, kernel, stride, dilation, bias, output_padding, ceil = values
    index = row.index
    padding = row.padding
    tokens = row.tokens
    warnings, notes, error = row.warnings, row.notes, row.error
    value = {
        "index": index,
        "spec": layer_label(layer, index),
        "kind": kind,
        "inputs": list(result.inputs(index)),
        "names": list(result.binds.get(index, ())),
        "mode": mode,
        "computed": row.computed,
        "kernel": kernel,
        "stride": stride,
        "padding": None if padding is None else [list(pair) for pair in padding],
        "dilation": dilation,
        "groups": groups_of(layer, row.in_channels) if kind in ("conv", "convt", "gn") else None,
        "bias": bias,
        "output_padding": output_padding,
        "ceil": ceil,
        "in_size": _numbers(row.in_size),
        "out_size": _numbers(row.out_size),
        "in_channels": row.in_channels,
        "out_channels": row.out_channels,
        "features": row.features,
        "tokens": tokens,
        "width": None if tokens is None else row.out_channels,
        "rf": _field(row) if row.computed else None,
        "warnings": [_diagnostic(d) for d in warnings] if warnings else [],
        "notes": [_diagnostic(d) for d in notes] if notes else [],
        "error": None if error is None else _diagnostic(error),
    }
    if cost is not None:
        value["params"] = cost.params
        value["buffers"] = cost.buffers
        value["macs"] = cost.macs
        if flops:
            value["flops"] = None if cost.macs is None else 2 * cost.macs
        value["output_bytes"] = cost.output_bytes
    return value


def _field(row: Row) -> dict | None:
    """A row's receptive field, as ``Row.field`` and ``Row.min_size`` say it, each axis's
    numbers worked out once where the axes share one field (a square layer on a square map)."""
    fields = row.axis_fields
    if not fields or None in fields:
        return None
    sizes, jumps, starts = [], [], []
    previous = None
    for field in fields:
        if field is not previous:
            previous = field
            size, jump, start = field.size, number(field.jump), number(field.start)
        sizes.append(size)
        jumps.append(jump)
        starts.append(start)
    return {"size": sizes, "jump": jumps, "start": starts, "min_size": list(row.min_size or sizes)}


def _not_json(value):
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _encoder():
    """``json.JSONEncoder(ensure_ascii=False).encode``, without importing json: its package
    compiles the decoder's regular expressions, which a run never uses (about 1.2 ms of every
    start). This is the C encoder that json itself calls, where Python has one."""
    try:
        from _json import encode_basestring, make_encoder

        encode = make_encoder(None, _not_json, encode_basestring, None, ": ", ", ", False, False, True)
    except (ImportError, TypeError):  # another Python, or another signature: json's own
        import json

        return json.JSONEncoder(ensure_ascii=False).encode
    return lambda value: "".join(encode(value, 0))


dump = _encoder()


def _head(result: Result) -> dict:
    return {
        "input": {"size": list(result.input_size), "channels": result.input_channels,
                  "names": list(result.binds.get(0, ()))},
        "convention": result.convention.value,
        "axes": list(result.axes),
        "axes_from": result.axes_from,
        "notes": list(result.notes),
    }


def _totals(costs) -> dict:
    totals = costs.totals
    counted = None if totals is None else {
        "params": totals.params, "buffers": totals.buffers, "macs": totals.macs,
        **({"flops": 2 * totals.macs} if costs.flops else {}),
        "bytes": {"params": totals.param_bytes, "buffers": totals.buffer_bytes, "input": totals.input_bytes,
                  "outputs": totals.output_bytes, "inference_peak": totals.peak_bytes,
                  "torchinfo_total": totals.torchinfo_bytes},
    }
    return {"counting": {"macs": costs.profile.value, "batch": costs.batch, "dtype": costs.dtype},
            "totals": counted}


def _output(result: Result, index: int) -> dict:
    """One of the tensors that leave the network, as ``output`` says the last one."""
    row = result.rows[index - 1]
    return {"row": index, "names": list(result.binds.get(index, ())), "size": _numbers(row.out_size),
            "channels": row.out_channels,
            "features": None if row.tokens is not None else flat_features(row.out_channels, row.out_size),
            "tokens": row.tokens}


def _tail(result: Result, costs=None) -> dict:
    output = result.output
    return {
        "output": None
        if output is None
        else {"size": _numbers(output.size), "channels": output.channels, "features": output.features,
              "tokens": output.tokens},
        "outputs": None if output is None else [_output(result, row) for row in result.output_rows],
        "valid": result.valid,
        **({} if costs is None else _totals(costs)),
    }


def _cost_of(costs, row: Row):
    return None if costs is None else costs.rows[row.index - 1]


def as_dict(result: Result, costs=None) -> dict:
    flops = costs is not None and costs.flops
    return {**_head(result), "layers": [_row(row, result, _cost_of(costs, row), flops) for row in result.rows],
            **_tail(result, costs)}


def chunks(result: Result, costs=None):
    """The JSON text in pieces, one layer per line, so a long stack streams in constant memory.

    The same object as ``json.dumps(as_dict(result))``, laid out for reading.
    """
    flops = costs is not None and costs.flops
    yield "{\n"
    for key, value in _head(result).items():
        yield f"  {dump(key)}: {dump(value)},\n"
    yield '  "layers": [\n'
    last = len(result.rows) - 1
    known: dict = {}  # the rows alive with the result keep their layers alive: ids stay theirs
    for position, row in enumerate(result.rows):
        yield f"    {dump(_row(row, result, _cost_of(costs, row), flops, known))}{',' if position < last else ''}\n"
    yield "  ],\n"
    tail = list(_tail(result, costs).items())
    for position, (key, value) in enumerate(tail):
        yield f"  {dump(key)}: {dump(value)}{',' if position < len(tail) - 1 else ''}\n"
    yield "}\n"


def render(result: Result, costs=None) -> str:
    return "".join(chunks(result, costs))
