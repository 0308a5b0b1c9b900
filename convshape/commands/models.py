"""`convshape export` (a stack as PyTorch or Keras code) and `convshape import` (a model
as a stack)."""

import sys
from enum import Enum
from typing import List, Optional

import typer

from ..layers import Convention
from .common import CHANNELS_OPTION, ConventionName, DIMS_OPTION, EXIT_INVALID, FILE_OPTION, STACK_ARGUMENT, _check_digits, _fail, _import, _imported_dims, _imported_input, _parse_stack, _read_bytes, _read_stack, _report, _save, _sized_run, _write


class Target(str, Enum):
    torch = "torch"
    keras = "keras"


EXPORT_EPILOG = """\
Examples:

  convshape export --to torch -f examples/unet.stack -c 1 -i 572 > unet.py && python unet.py

  convshape export --to keras -i 224 -c 3 conv k3 s2 psame c32, bn, relu, gap, flatten, linear c10

Exit status: 0 written; 1 the stack is invalid under the convention (nothing written
without --force), or the file cannot be written; 2 usage or parse error.
"""


def export(
    stack: Optional[List[str]] = STACK_ARGUMENT,
    to: Target = typer.Option(..., "--to", case_sensitive=False, help="The framework whose code to write."),
    input: Optional[str] = typer.Option(
        None, "--input", "-i", metavar="SIZE", show_default=False,
        help="Spatial input size: the comments give shapes (without it: formulas).",
    ),
    channels: Optional[int] = CHANNELS_OPTION,
    file: Optional[List[str]] = FILE_OPTION,
    dims: Optional[int] = DIMS_OPTION,
    convention: Optional[ConventionName] = typer.Option(
        None, "--convention", case_sensitive=False, show_default=False,
        help="torch for --to torch, tf for --to keras (the default for each).",
    ),
    force: bool = typer.Option(False, "--force", help="Write the code even when a layer is invalid."),
    output: Optional[str] = typer.Option(None, "--output", "-o", metavar="PATH", show_default=False,
                                         help="Write to this file instead of stdout."),
) -> None:
    """Write the stack as PyTorch or Keras code, with every channel count filled in."""
    wanted = Convention.TORCH if to is Target.torch else Convention.TF
    if convention is not None and convention.convention is not wanted:
        _fail(f"--to {to.value} writes code with {wanted.value} semantics: --convention {convention.value} cannot be"
              f" exported to it (use --convention {wanted.value}, or leave it out)")
    _check_digits("--channels", channels, "count", "values")
    pieces = _read_stack(stack or [], file)
    input, channels = _imported_input(input, channels)
    dims = _imported_dims(dims)
    command = " ".join(["convshape export", *sys.argv[2:]]) if sys.argv[1:2] == ["export"] else "convshape export"
    from ..export import ExportError, plan_from_formulas, plan_from_result

    if input is None:
        from ..symbolic import symbolic_calc

        parsed = _parse_stack(pieces, None, dims)
        result = symbolic_calc(parsed, wanted, channels)
        problem = None if result.valid else result.fit.error
        plan = plan_from_formulas(result, parsed, command)
    else:
        parsed, result = _sized_run(pieces, input, channels, dims, wanted)
        problem = None if result.valid else (result.error_row.index, result.error_row.error)
        plan = plan_from_result(result, parsed, command)
        for row in result.rows:
            for warning in row.warnings:
                sys.stderr.write(f"convshape: warning: layer {row.index} ({row.layer.text}): {warning.message}\n")
    if problem is not None and not force:
        index, diagnostic = problem
        _fail(f"layer {index} ({parsed.layers[index - 1].text}): {diagnostic.message}\n"
              f"convshape: the stack is invalid under --convention {wanted.value}, so the model would fail: nothing"
              " written (--force writes it anyway)",
              EXIT_INVALID)
    if to is Target.torch:
        from ..export.pytorch import write
    else:
        from ..export.keras import write
    try:
        code, notes = write(plan)
    except ExportError as exc:
        _fail(f"cannot export to {to.value}: {exc}", EXIT_INVALID)
    for note in notes:
        sys.stderr.write(f"convshape: note: {note}\n")
    if output is None:
        _write(code)
    else:
        _save(code.encode("utf-8"), output)


IMPORT_EPILOG = """\
Reads PyTorch's print(model) text, a Keras model's to_json(), or an ONNX file
(pip install 'convshape[onnx]'), judging the format by content. calc, fit and export
read the same files with -f.

MODULE:ATTR imports a live PyTorch model (pip install 'convshape[torch]'): ATTR is an
nn.Module class or a factory with no required arguments, or an instance, in a module
(torchvision.models:resnet18) or a file (nets.py:UNet). This runs that Python code,
as python -c would. The model is built on torch's meta device (no weights, no
arithmetic), its forward captured with torch.fx, and every row checked against
torch's own shapes and parameter counts at -i (default 224): anything convshape
cannot follow exactly stops the import, named.

Examples:

  python -c "import torchvision; print(torchvision.models.resnet18())" | convshape import -

  convshape import model.json > model.stack && convshape calc -i 224 -f model.stack

  convshape import torchvision.models:mobilenet_v3_small | convshape calc -i 224 -f -

Exit status: 0 read; 1 the model has a layer convshape cannot read, or torch fails
on it at the size given; 2 usage error.
"""


def import_(
    file: str = typer.Argument("-", metavar="[FILE|-|MODULE:ATTR]",
                               help="The model file; '-' or nothing reads stdin; MODULE:ATTR a live PyTorch model."),
    input: Optional[str] = typer.Option(
        None, "--input", "-i", metavar="SIZE", show_default=False,
        help="MODULE:ATTR only: the spatial size the model is captured and checked at (default 224)."),
    channels: Optional[int] = typer.Option(
        None, "--channels", "-c", metavar="C", show_default=False,
        help="MODULE:ATTR only: the input channels (default: the first conv's)."),
) -> None:
    """Print the stack a model stands for: print(model), Keras JSON, ONNX, or a live PyTorch module."""
    from ..importers.torch_module import looks_like_spec

    if looks_like_spec(file):
        _write_imported(_import_live(file, input, channels))
        return
    if input is not None or channels is not None:
        _fail("-i and -c are for a live module (MODULE:ATTR); a model file gives its own input")
    data, name = _read_bytes(file)
    if not data.strip():
        _fail(f"{name} is empty: paste a print(model), or give a Keras JSON or ONNX file")
    imported = _import(data, name)
    if imported is None:
        _fail(f"{name} is neither a print(model) text, a Keras model's JSON nor an ONNX file"
              " (a stack is read by calc -f as it is)", EXIT_INVALID)
    _write_imported(imported)


def _import_live(spec: str, input: Optional[str], channels: Optional[int]):
    """A live module's stack, its notes written to stderr."""
    from ..grammar import ParseError, parse_size
    from ..importers import ImportFailure
    from ..importers.torch_module import read_module

    _check_digits("--channels", channels, "count", "values")
    if channels is not None and channels < 1:
        _fail(f"--channels {channels}: a tensor has at least 1 channel")
    size = None
    if input is not None:
        try:
            size = parse_size(input, "--input")
        except ParseError as exc:
            _fail(str(exc))
        if len(size) > 3:
            _fail(f"--input {input}: at most three spatial axes (224, 224x320, 16x112x112)")
    try:
        imported = read_module(spec, size, channels).imported
    except ImportFailure as exc:
        _fail(f"{spec}: {exc}", EXIT_INVALID)
    _report(imported, spec)
    return imported


def _write_imported(imported) -> None:
    lines = [imported.stack.rstrip("\n")]
    if imported.input_size is not None or imported.input_channels is not None:
        options = " ".join(option for option in (
            f"-i {'x'.join(map(str, imported.input_size))}" if imported.input_size else "",
            f"-c {imported.input_channels}" if imported.input_channels is not None else "") if option)
        lines.insert(0, f"# the model's input: calc {options}")
    _write("\n".join(lines) + "\n")
