"""A plan as a PyTorch module: ``nn.Sequential`` for a single path, an ``nn.Module`` whose
``forward`` wires the branches and merges otherwise. One top-level module per row, so
``model[i]`` (or ``model.l7``) is row i+1 (row 7) of the stack."""

from __future__ import annotations

from ..layers import PaddingRule
from ..ops.base import give
from . import ExportError, Plan, RowPlan, docstring_text, full_padding, number_text, per_axis, variable_names

_CROP = '''

def crop_to_smallest(*tensors):
    """Centre-crop every tensor to the smallest spatial size, as torchvision's center_crop."""
    target = [min(t.shape[axis] for t in tensors) for axis in range(2, tensors[0].dim())]
    cropped = []
    for t in tensors:
        for axis, want in enumerate(target, start=2):
            excess = t.shape[axis] - want
            t = t.narrow(axis, int(round(excess / 2.0)), want)
        cropped.append(t)
    return cropped
'''

_PAD = '''

def pad_to_largest(*tensors):
    """Zero-pad every tensor to the largest spatial size, the smaller half before."""
    target = [max(t.shape[axis] for t in tensors) for axis in range(2, tensors[0].dim())]
    padded = []
    for t in tensors:
        pads = []
        for axis in reversed(range(2, t.dim())):
            missing = target[axis - 2] - t.shape[axis]
            pads += [missing // 2, missing - missing // 2]
        padded.append(F.pad(t, pads))
    return padded
'''


def _pad_args(pairs) -> str:
    """torch's pad order: the last axis first, before then after."""
    return "(" + ", ".join(f"{before}, {after}" for before, after in reversed(pairs)) + ")"


def _window_padding(row: RowPlan):
    """The padding argument and the pairs to pad apart (asymmetric padding), for a windowed layer."""
    layer = row.layer
    if layer.padding_rule is PaddingRule.SAME:
        return "'same'", None
    if layer.padding_rule is PaddingRule.FULL:
        return per_axis(full_padding(layer)), None
    pairs = layer.padding or ((0, 0),) * layer.dims
    if layer.padding_rule is PaddingRule.VALID or all(p == (0, 0) for p in pairs):
        return None, None
    if all(before == after for before, after in pairs):
        return per_axis(tuple(before for before, _ in pairs)), None
    return None, pairs


class _Writer:
    """What a kind's ``torch_module`` writes with: the argument texts, and the notes and
    helper classes the module gathers."""

    per_axis = staticmethod(per_axis)
    number_text = staticmethod(number_text)
    pad_args = staticmethod(_pad_args)
    window_padding = staticmethod(_window_padding)

    def __init__(self, lazy_notes: list, helpers: set):
        self.lazy_notes, self.helpers = lazy_notes, helpers

    def lazy(self, row: RowPlan, name: str) -> str:
        """A module torch sizes at its first call: said in a note."""
        self.lazy_notes.append((row.index, name, row.unknown or f"{give(row)} to write it"))
        return name

    def helper(self, text: str) -> None:
        self.helpers.add(text)

    @staticmethod
    def error(message: str, row: RowPlan) -> ExportError:
        return ExportError(message, row.index, row.layer)


def module_text(row: RowPlan, lazy_notes: list, helpers: set) -> str:
    """The module that computes row ``row`` (not for merges, which ``forward`` writes)."""
    module = row.layer.kind.op.torch_module(row, _Writer(lazy_notes, helpers))
    if module is None:
        raise ExportError(f"PyTorch export has no module for {row.layer.kind.value}", row.index, row.layer)
    return module


def _comment(row: RowPlan) -> str:
    return f"  # {row.index}: {row.layer.text} -> {row.shape}"


def _merge_lines(row: RowPlan, target: str, names: dict, helpers: set) -> list[str]:
    """The lines of ``forward`` that compute a merge into ``target``."""
    tensors = [names[source] for source in row.inputs]
    lines = []
    if row.layer.mode is not None:
        helper = "crop_to_smallest" if row.layer.mode.value == "crop" else "pad_to_largest"
        helpers.add(_CROP if row.layer.mode.value == "crop" else _PAD)
        lines.append(f"{target} = {helper}({', '.join(tensors)})")
        tensors = [f"{target}[{position}]" for position in range(len(tensors))]
    lines.append(f"{target} = {row.layer.kind.op.torch_expression(tensors)}")
    lines[-1] += _comment(row)
    return [f"        {line}" for line in lines]


def write(plan: Plan, class_name: str = "Net") -> tuple[str, list[str]]:
    """The module's text, and notes for the user (layers left for torch to size)."""
    lazy_notes: list = []
    helpers: set = set()
    if plan.is_chain:
        lines = ["model = nn.Sequential("]
        for row in plan.rows:
            lines.append(f"    {module_text(row, lazy_notes, helpers)},{_comment(row)}")
        lines.append(")")
        body = "\n".join(lines)
        model_line = ""
    else:
        names = variable_names(plan)
        init, forward = [], []
        for row in plan.rows:
            layer = row.layer
            target = names[row.index]
            if layer.kind.is_merge:
                forward += _merge_lines(row, target, names, helpers)
            elif layer.like is not None:
                source, like = names[row.inputs[0]], names[row.inputs[-1]]  # up like reads (current, like)
                forward.append(f"        {target} = F.interpolate({source}, size={like}.shape[2:]){_comment(row)}")
            else:
                init.append(f"        self.l{row.index} = {module_text(row, lazy_notes, helpers)}{_comment(row)}")
                forward.append(f"        {target} = self.l{row.index}({names[row.inputs[-1]]}){_comment(row)}")
        forward.append(f"        return {', '.join(names[row] for row in plan.output_rows)}")
        body = "\n".join([
            f"class {class_name}(nn.Module):",
            "    def __init__(self):",
            "        super().__init__()",
            *(init or ["        pass"]),
            "",
            f"    def forward(self, {names[0]}):",
            *forward,
        ])
        model_line = f"\n\n\nmodel = {class_name}()"
    notes = [f"row {index}: {module} will take its input size from the first forward: {advice}"
             for index, module, advice in lazy_notes]
    return _module(plan, body + model_line, helpers, "F." in body or _PAD in helpers), notes


def _module(plan: Plan, body: str, helpers: set, uses_functional: bool) -> str:
    channels = plan.input_channels if plan.input_channels is not None else 3
    size = plan.input_size or plan.sample_size
    shape = ", ".join(map(str, (1, channels, *size)))
    given = " × ".join(map(str, plan.input_size)) if plan.input_size else "any size that runs"
    header = [
        f'"""Generated by convshape: {docstring_text(plan.command)}',
        "",
        f"Input: N × {plan.input_channels if plan.input_channels is not None else 'C'} × {given}.",
        "Each row's comment is the shape convshape computed for it.",
        '"""',
        "",
        "import torch",
        "from torch import nn",
    ]
    if uses_functional:
        header.append("from torch.nn import functional as F")
    helper_text = "".join("\n\n\n" + helper.strip("\n") for helper in sorted(helpers))
    main = [
        "",
        "",
        'if __name__ == "__main__":',
        "    model.eval()",
        "    with torch.no_grad():",
        f"        print(tuple(model(torch.zeros({shape})).shape))" if len(plan.output_rows) == 1 else
        f"        print([tuple(output.shape) for output in model(torch.zeros({shape}))])",
    ]
    return "\n".join(header) + helper_text + "\n\n\n" + body + "\n" + "\n".join(main) + "\n"
