"""Renderers for the inverse questions: `fit`, `solve`, and `calc` without an input size.

Each has a plain-data form (for JSON), a quiet one-line form, and a Rich table (Rich
is imported only inside the table functions).
"""

from __future__ import annotations

import json

from ..diagnostics import factor_text
from ..explain import explain_step
from ..fit import Fit
from ..layers import layer_label
from ..kinds import Kind
from ..solve import AxisAnswer, Solution
from ..symbolic import SymbolicResult, coefficients, text
from .common import axes_text


def dumps(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def error_label(diagnostic, usual: str) -> str:
    """How a fit error is introduced: ``usual``, or "not answered" where the question is
    one fit does not answer yet (a sequence of tokens), not one no size passes."""
    from ..ops.tokens import UNANSWERED

    return "not answered" if diagnostic.code == UNANSWERED else usual


def _error(fit: Fit) -> dict | None:
    if fit.error is None:
        return None
    index, diagnostic = fit.error
    return {"layer": index, "code": diagnostic.code.value, "message": diagnostic.message}


# ----------------------------------------------------------------------------- fit


def fit_dict(fit: Fit, near: int | None = None, span: tuple[int, int] | None = None, listed: int = 1000) -> dict:
    rules = []
    for rule in fit.rules:
        item = {
            "axis": rule.axis,
            "rule": rule.describe(),
            "modulus": rule.modulus,
            "residues": list(rule.residues),
            "minimum_valid": rule.minimum_valid,
            "smallest_clean": rule.smallest_clean,
            "valid_rule": rule.describe_valid(),
            "small": list(rule.small),
        }
        if near is not None:
            below, above = rule.nearest(near)
            item["near"] = {"size": near, "below": below, "above": above}
        if span is not None:
            sizes = []
            for size in rule.clean_sizes(*span):
                if len(sizes) == listed:
                    break
                sizes.append(size)
            item["range"] = {"start": span[0], "stop": span[1], "count": rule.count(*span), "first": sizes}
        rules.append(item)
    return {"axes": [r.axis for r in fit.rules], "rules": rules, "valid": fit.valid, "error": _error(fit)}


def fit_quiet(fit: Fit, near: int | None = None) -> str:
    """The smallest clean size per axis (``140x140``), or with ``near`` the clean sizes around it."""
    if near is not None:
        pairs = [rule.nearest(near) for rule in fit.rules]
        if len(set(pairs)) == 1:
            pairs = pairs[:1]
        return " ".join("x".join("-" if v is None else str(v) for v in values) for values in zip(*pairs))
    values = [rule.smallest_clean for rule in fit.rules]
    return axes_text(values if len(set(values)) > 1 else values[:1]) if None not in values else "-"


def fit_table(console, fit: Fit, near: int | None, span: tuple[int, int] | None, explain: bool,
              piped: bool = True) -> None:
    from rich.table import Table
    from rich.text import Text

    from rich.cells import cell_len

    from .table import print_fitted

    if fit.error is not None:
        index, diagnostic = fit.error
        console.print(Text(f"{error_label(diagnostic, 'no input size works')}: layer {index}: {diagnostic.message}", style="bold red"))
        return
    names = ["axis", "clean input sizes", "smallest valid", "smallest clean"]
    if near is not None:
        names.append(f"near {near}")
    if span is not None:
        names.append(f"in {span[0]}:{span[1]}")
    rows = []
    for rule in fit.rules:
        cells = [rule.axis, rule.describe(), str(rule.minimum_valid), str(rule.smallest_clean or "none")]
        if near is not None:
            below, above = rule.nearest(near)
            cells.append(f"{below if below is not None else '-'} / {above if above is not None else '-'}")
        if span is not None:
            count = rule.count(*span)
            first = list(zip(range(6), rule.clean_sizes(*span)))
            shown = ", ".join(str(size) for _, size in first) + (", …" if count > 6 else "")
            cells.append(f"{count:,}: {shown}" if count else "none")
        rows.append(dict(zip(names, cells)))

    def make(shown: list[str]):
        table = Table(header_style="bold")
        for name in shown:  # a rule is never split: only the list of sizes in a range wraps
            folds = name.startswith("in ")
            width = None if folds else max(cell_len(text) for text in [name] + [cells[name] for cells in rows])
            table.add_column(name, no_wrap=not folds, min_width=width)
        for cells in rows:
            table.add_row(*[Text(cells[name]) for name in shown])
        return table

    if piped:
        console.print(make(names))
    else:
        print_fitted(console, make, names, ["smallest valid", "smallest clean"], "--format json")
    if explain:
        for axis, index, line in fit.steps:
            console.print(Text(f"{axis} · layer {index} ← {line}", style="cyan"), soft_wrap=True)


# ----------------------------------------------------------------------------- solve


def _solution_dict(kind: Kind, solution: Solution) -> dict:
    row = solution.row
    return {
        "tokens": solution.tokens(kind),
        "kernel": solution.kernel,
        "stride": solution.stride,
        "dilation": solution.dilation,
        "padding": list(row.padding[0]) if row.padding else None,
        "output_padding": solution.output_padding,
        "ceil": solution.ceil,
        "clean": solution.clean,
        "warnings": [{"code": d.code.value, "message": d.message} for d in row.warnings],
        "notes": [{"code": d.code.value, "message": d.message} for d in row.notes],
    }


def solve_dict(kind: Kind, answers: list[AxisAnswer], convention: str) -> dict:
    return {
        "kind": kind.value,
        "convention": convention,
        "axes": [
            {
                "axis": answer.axis,
                "in_size": answer.in_size,
                "out_size": answer.out_size,
                "solutions": [_solution_dict(kind, s) for s in answer.solutions],
                "nearest": None if answer.solutions else {"below": answer.nearest[0], "above": answer.nearest[1]},
            }
            for answer in answers
        ],
        "solved": all(answer.solutions for answer in answers),
    }


def combined_tokens(kind: Kind, answers: list[AxisAnswer], extra: str = "") -> str:
    """The first solution on every axis as one set of tokens (``k3 s2x1 p1x0``)."""
    firsts = [answer.solutions[0].tokens(kind).split() for answer in answers]
    if len({tuple(f) for f in firsts}) == 1:
        words = firsts[0]
    else:
        words = _merge_per_axis([answer.solutions[0] for answer in answers])
    return " ".join(words + ([extra] if extra else []))


def _merge_per_axis(solutions: list[Solution]) -> list[str]:
    def joined(values):
        values = [str(v) for v in values]
        return values[0] if len(set(values)) == 1 else "x".join(values)

    words = [f"k{joined(s.kernel for s in solutions)}", f"s{joined(s.stride for s in solutions)}"]
    pads = [s.row.padding[0] for s in solutions]
    if any(p != (0, 0) for p in pads):
        words.append("p" + joined(f"{b}" if b == a else f"{b}:{a}" for b, a in pads))
    if any(s.dilation != 1 for s in solutions):
        words.append(f"d{joined(s.dilation for s in solutions)}")
    if any(s.output_padding for s in solutions):
        words.append(f"op{joined(s.output_padding or 0 for s in solutions)}")
    if any(s.ceil for s in solutions):
        words.append("ceil")
    return words


def solve_table(console, kind: Kind, answers: list[AxisAnswer], limit: int, explain: bool) -> None:
    from rich.table import Table
    from rich.text import Text

    for answer in answers:
        title = f"{kind.value}: {answer.in_size} → {answer.out_size}" + (f" on {answer.axis}" if len(answers) > 1 else "")
        if not answer.solutions:
            below, above = answer.nearest
            reach = " and ".join(f"{v}" for v in (below, above) if v is not None) or "nothing"
            console.print(Text(f"{title}: no configuration within the bounds; nearest reachable outputs: {reach}",
                               style="bold red"), soft_wrap=True)
            continue
        console.print(Text(title, style="italic"))  # above the table, not padded to its width
        table = Table(header_style="bold")
        for name in ["#", "tokens", "padding", "diagnostics"]:
            table.add_column(name, no_wrap=name != "diagnostics")
        for number, solution in enumerate(answer.solutions[:limit], 1):
            row = solution.row
            layer_text = Text(solution.tokens(kind))
            if explain:
                layer_text.append("\n" + explain_step(kind, row.steps[0]), style="cyan")
            # "clean" as JSON's `clean` says it (no warning), the notes beside it.
            found = Text(", ".join(d.code.value for d in row.warnings), style="yellow") if row.warnings else Text(
                "clean", style="green")
            if row.notes:
                found.append(", " + ", ".join(d.code.value for d in row.notes), style="dim")
            table.add_row(
                Text(str(number)),
                layer_text,
                Text(f"{row.padding[0][0]}:{row.padding[0][1]}" if row.padding else ""),
                found,
            )
        console.print(table)
        hidden = len(answer.solutions) - limit
        if hidden > 0:
            console.print(Text(f"{hidden} more: --limit {len(answer.solutions)} shows them all", style="dim"))


# ----------------------------------------------------------------------------- calc without -i


def formula_shape(result: SymbolicResult, row) -> str:
    """A row's output as its channels and a formula per axis: ``64 × (H − 2) × (W − 2)``."""
    channels = row.row.out_channels
    parts = [factor_text(text(step.expr, name)) for step, name in zip(row.steps, result.axes)]
    return " × ".join(["?" if channels is None else str(channels), *parts])


def _shape_text(result: SymbolicResult, row) -> str:
    if row.features is not None:
        return f"{row.features} features"
    if row.steps is None:  # past a row that fails at every size: the probe ran it, no formula does
        return "not computed"
    return formula_shape(result, row)


def symbolic_dict(result: SymbolicResult) -> dict:
    from ..counts import symbolic_costs

    layers = []
    for row, (params, macs) in zip(result.rows, symbolic_costs(result)):
        calc_row = row.row
        error = calc_row.error
        field = calc_row.field if calc_row.computed and row.size_fixed else None
        layers.append(
            {
                "index": row.index,
                "spec": layer_label(row.layer, row.index),
                "kind": row.layer.kind.value,
                "out_size": None
                if row.steps is None
                else [
                    {"formula": text(step.expr, name), "coefficients": coefficients(step.expr), "exact": step.exact}
                    for step, name in zip(row.steps, result.axes)
                ],
                "out_channels": None if row.features is not None else calc_row.out_channels,
                "features": row.features,
                "rf": None
                if field is None
                else {"size": [int(v) for v in field.size], "jump": [float(v) if v != int(v) else int(v) for v in field.jump],
                      "start": [None if v is None else float(v) if v != int(v) else int(v) for v in field.start]
                      if row.start_fixed else None},
                "fits": row.fits,
                "error": None if error is None else {"code": error.code.value, "message": error.message},
                "params": params,
                "macs": macs,
            }
        )
    return {
        "input": {"size": None, "channels": result.input_channels},
        "convention": result.convention.value,
        "axes": list(result.axes),
        "axes_from": result.axes_from,
        "notes": list(result.notes),
        "layers": layers,
        "fit": fit_dict(result.fit),
        "valid": result.valid,
    }


def symbolic_quiet(result: SymbolicResult) -> str:
    last = result.rows[-1]
    if last.features is not None:
        return last.features
    parts = [factor_text(text(step.expr, name)) for step, name in zip(last.steps, result.axes)]
    channels = last.row.out_channels
    return "x".join(([] if channels is None else [str(channels)]) + parts)


def _count_text(value) -> str:
    """A count without an input size: a number in readable units, a formula, or ? (unknown)."""
    from .common import readable

    return value if isinstance(value, str) else readable(value)


def symbolic_table(console, result: SymbolicResult, explain: bool) -> None:
    from rich.table import Table
    from rich.text import Text

    from ..counts import symbolic_costs

    costs = symbolic_costs(result) if result.input_channels is not None else None
    table = Table(header_style="bold")
    names = ["#", "layer", "out", "rf", "jump", "start"] + (["params", "MACs"] if costs else []) + ["diagnostics"]
    for name in names:
        table.add_column(name, no_wrap=name not in ("layer", "out", "MACs"))
    for position, row in enumerate(result.rows):
        calc_row = row.row
        field = calc_row.field if calc_row.computed and row.size_fixed else None
        layer_text = Text(layer_label(row.layer, row.index))
        if explain and row.steps is not None and any(step.how for step in row.steps):
            hows = [step.how for step in row.steps]
            for how, name in zip(hows, result.axes):
                layer_text.append(f"\n{name}: {how}" if len(set(hows)) > 1 or len(hows) == 1 else f"\n{how}", style="cyan")
                if len(set(hows)) == 1 and len(hows) > 1:
                    break
        out = Text(_shape_text(result, row) if calc_row.computed else "not computed")
        if row.fits:
            out.append(f"  (fits where {row.fits})", style="yellow")
        if not row.exact and row.layer.kind.is_merge:
            what = "the smaller" if row.layer.mode.value == "crop" else "the larger"
            out.append(f"  (where its inputs agree; else {what})", style="yellow")
        elif not row.exact:
            out.append("  (ceil mode: may be 1 less)", style="yellow")
        notes = Text(calc_row.error.code.value, style="bold red") if calc_row.error else Text("")
        table.add_row(Text(str(row.index)), layer_text, out,
                      Text(axes_text(field.size[:1] if len(set(field.size)) == 1 else field.size)) if field else Text(""),
                      Text(axes_text(field.jump[:1] if len(set(field.jump)) == 1 else field.jump)) if field else Text(""),
                      Text(axes_text(field.start[:1] if len(set(field.start)) == 1 else field.start))
                      if field and row.start_fixed else Text(""),
                      *([Text(_count_text(value)) for value in costs[position]] if costs else []),
                      notes)
    console.print(table)
    for note in result.notes:
        console.print(Text(f"note: {note}", style="dim"), soft_wrap=True)
    moving = [row.index for row in result.rows if row.row.computed and row.row.field and not row.size_fixed]
    if moving:
        console.print(Text(f"note: the receptive field of row{'s' if len(moving) > 1 else ''} "
                           f"{', '.join(map(str, moving[:8]))}{' ...' if len(moving) > 8 else ''} depends on the input "
                           "size (where its inputs' fields start): -i gives it", style="dim"), soft_wrap=True)
    fit = result.fit
    if fit.error is not None:
        index, diagnostic = fit.error
        console.print(Text(f"{error_label(diagnostic, 'invalid at any size')}: layer {index}: {diagnostic.message}", style="bold red"), soft_wrap=True)
        return
    minimum = [rule.minimum_valid for rule in fit.rules]
    if all(rule.describe_valid().startswith("every") for rule in fit.rules):
        console.print(Text(f"valid for input ≥ {axes_text(minimum[:1] if len(set(minimum)) == 1 else minimum)}"),
                      soft_wrap=True)
    else:  # merges that must fit, or a layer that takes only some sizes: only some sizes run
        why = " (every merge fits)" if any(row.layer.kind.is_merge for row in result.rows) else ""
        for rule in fit.rules:
            console.print(Text(f"valid{why}: {rule.describe_valid()}"), soft_wrap=True)
    for rule in fit.rules:
        console.print(Text(f"clean (no floor rounding): {rule.describe()}"), soft_wrap=True)
    if costs:
        from .common import count_text

        params = [value for value, _ in costs]
        if all(isinstance(value, int) for value in params):
            console.print(Text(f"params: {count_text(sum(params))}, whatever the input size"), soft_wrap=True)
        console.print(Text("MACs per row as formulas of the input size (torch's FlopCounterMode count, halved; "
                           "one image); -i gives the totals"), style="dim", soft_wrap=True)
