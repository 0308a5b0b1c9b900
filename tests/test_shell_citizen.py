"""convshape in pipes and scripts: no colour, no wrapping, a schema for its JSON, manners."""

import json
import re
import shlex
import shutil

from pathlib import Path

import pytest
from conftest import convshape_command, have

ROOT = Path(__file__).resolve().parent.parent

ANSI = re.compile(r"\x1b\[")



@pytest.mark.parametrize("fmt", ["csv", "tsv", "json"])
def test_machine_formats_never_wrap_even_at_40_columns(run, fmt):
    result = run("calc", "-i", "224", "-c", "3", "--format", fmt, "conv k7 s2 p3 c64, maxpool k3 s2 p1, conv k3 p1 c64 x200",
                 env={"COLUMNS": "40"})
    assert result.returncode == 0 and not ANSI.search(result.stdout)
    lines = result.stdout.splitlines()
    if fmt == "json":
        data = json.loads(result.stdout)
        assert len(data["layers"]) == 202
        assert len(lines) == 202 + 14  # one line per layer, never wrapped
    else:
        assert len(lines) == 1 + 202
        sep = "," if fmt == "csv" else "\t"
        assert {len(line.split(sep)) for line in lines} == {26}


def test_piped_table_is_never_wrapped_or_cut_at_40_columns(run):
    result = run("calc", "-i", "224", "-c", "3", "conv k7 s2 p3 c64, maxpool k3 s2 p1, conv k3 p1 c64 x200", env={"COLUMNS": "40"})
    rows = [line for line in result.stdout.splitlines() if line.startswith("│")]
    assert len(rows) == 202  # one line per layer: nothing folded
    assert "│ 202 │ conv k3 p1 c64 (200/200) │   64×56×56 │   64×56×56 │ 1611 │    4 │     0 │" in result.stdout
    assert not ANSI.search(result.stdout)


@pytest.mark.skipif(not have("jsonschema"), reason="jsonschema is not installed (pip install -e '.[test]')")
@pytest.mark.parametrize(
    "args",
    [
        ["-i", "224", "-c", "3", "conv k7 s2 p3 c64, maxpool k3 s2 p1, conv k3 p1 c64 x2, gap, flatten, linear c10"],
        ["-i", "5", "conv k3, conv k9, conv k1"],  # invalid: errors and layers not computed
        ["-i", "16x16x16", "convt k3 s2 p1 op1, up s1.5, avgpool k2 ceil, pad p0:1"],
        ["-i", "7", "--convention", "tf", "-c", "1", "conv k3 s2 psame, gap, linear c4"],
        ["-i", "6", "conv k3 s2, conv k1 s3"],  # warnings
        ["-c", "3", "conv k3 s2 p1 c8 x3, maxpool k2 ceil, flatten, linear c10"],  # no -i: formulas
        ["conv k3 d0"],  # no -i, invalid
        # whole networks: names, merges, adaptive pools, resizes
        ["-i", "56", "-c", "64", "conv k3 p1 @x conv k3 p1 conv k3 p1 add x"],
        ["-i", "57", "-c", "3", "@a conv k3 p1 c8 @s maxpool k2 conv k3 p1 up cat s pad, adaptiveavgpool o7x5"],
        ["-i", "9", "-c", "3", "conv k3 @a conv k3 add a"],  # a merge that fails
        ["-c", "3", "@a conv k3 p1 c8 @s maxpool k2 conv k3 p1 up like s, cat s"],  # no -i, through merges
        # costs: every kind, --flops, a batch and a dtype; and an error in a norm
        ["-i", "32", "-c", "3", "--flops", "--batch", "8", "--dtype", "bfloat16", "--macs", "torchinfo",
         "conv k3 p1 c16 nobias, bn, relu, conv k3 dw, ln, gn g4, in, layerscale, gelu, silu, sigmoid, tanh, "
         "hardswish, lrelu, relu6, dropout, convt k2 s2 c8, gap, flatten, linear c10"],
        ["-i", "8", "-c", "2", "gap, gn g2"],
        ["-c", "3", "conv k3 s2 c8, bn, flatten, bn, linear c10"],  # no -i: counts as formulas
    ],
)
def test_json_output_validates_against_the_shipped_schema(run, args):
    import jsonschema

    schema = json.loads(run("schema").stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    output = json.loads(run("calc", "--format", "json", *args).stdout)
    jsonschema.validate(output, schema, cls=jsonschema.Draft202012Validator)


@pytest.mark.skipif(not have("jsonschema"), reason="jsonschema is not installed")
def test_the_schema_rejects_what_is_not_convshape_output(run):
    import jsonschema

    schema = json.loads(run("schema").stdout)
    output = json.loads(run("calc", "--format", "json", "-i", "8", "conv k3").stdout)
    output["layers"][0]["kind"] = "attention"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(output, schema)
    formulas = json.loads(run("calc", "--format", "json", "conv k3").stdout)
    formulas["layers"][0]["out_size"][0]["exact"] = "yes"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(formulas, schema)


@pytest.mark.skipif(not have("jsonschema"), reason="jsonschema is not installed")
@pytest.mark.parametrize(
    "args",
    [
        ["fit", "-f", "examples/unet-encoder.stack"],
        ["fit", "-f", "examples/unet-encoder.stack", "--near", "570"],
        ["fit", "-f", "examples/resnet50.stack", "--range", "1:1000"],
        ["fit", "conv k3 s2, conv k3 s2", "--near", "1", "--range", "1:2"],
        ["fit", "conv k3, linear c4"],  # invalid at any size
        ["fit", "--convention", "tf", "conv k3 s2 psame, maxpool k2 pvalid", "--dims", "3"],
        ["solve", "-i", "224", "-o", "112"],
        ["solve", "-i", "224x160", "-o", "112x80", "conv", "k3"],
        ["solve", "-i", "7", "-o", "14", "convt"],
        ["solve", "-i", "16", "-o", "8", "--convention", "tf", "maxpool"],
        ["solve", "-i", "17", "-o", "8", "avgpool", "ceil"],
        ["solve", "-i", "10", "-o", "100"],  # nothing fits
    ],
)
def test_fit_and_solve_json_validate_against_their_schemas(run, args):
    import jsonschema

    schema = json.loads(run("schema", args[0]).stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    result = run(*args, "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    jsonschema.validate(json.loads(result.stdout), schema, cls=jsonschema.Draft202012Validator)


@pytest.mark.skipif(not have("jsonschema"), reason="jsonschema is not installed")
def test_fit_and_solve_schemas_reject_what_is_not_their_output(run):
    import jsonschema

    fit_schema, solve_schema = (json.loads(run("schema", name).stdout) for name in ("fit", "solve"))
    fit = json.loads(run("fit", "conv k3 s2", "--near", "9", "--format", "json").stdout)
    solve = json.loads(run("solve", "-i", "9", "-o", "4", "--format", "json").stdout)
    jsonschema.validate(fit, fit_schema)
    jsonschema.validate(solve, solve_schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(solve, fit_schema)
    fit["rules"][0]["near"]["below"] = "7"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(fit, fit_schema)
    solve["axes"][0]["solutions"][0]["padding"] = [1]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(solve, solve_schema)


@pytest.mark.parametrize("command", [[], ["calc"], ["schema"], ["completions"]])
@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help_on_every_command(run, command, flag):
    result = run(*command, flag)
    assert result.returncode == 0 and "Usage:" in result.stdout
    assert "Examples:" in result.stdout


@pytest.mark.parametrize("command", [[], ["calc"]])
def test_help_documents_exit_statuses(run, command):
    text = " ".join(run(*command, "--help").stdout.split())
    assert "Exit status: 0" in text and "2 usage or parse error" in text


def test_errors_in_machine_formats_are_data_on_stdout_and_usage_errors_go_to_stderr(run):
    invalid = run("calc", "--format", "csv", "-i", "5", "conv k9")
    assert invalid.returncode == 1 and "kernel_too_large" in invalid.stdout and invalid.stderr == ""
    usage = run("calc", "--format", "csv", "-i", "5", "conv kk9")
    assert usage.returncode == 2 and usage.stdout == "" and "unknown token" in usage.stderr


def test_version_is_cheap_and_plain(run):
    result = run("--version")
    assert re.fullmatch(r"convshape \d+\.\d+\.\d+\n", result.stdout)


@pytest.mark.parametrize("width, expect_columns, hidden", [
    (200, ["in", "out", "rf", "jump", "start", "diagnostics"], ""),
    (80, ["in", "out", "rf", "diagnostics"], "(start, jump hidden: 80 columns; widen the terminal or use --format csv)"),
    (60, ["in", "out", "rf"], "(start, jump, diagnostics hidden: 60 columns; widen the terminal or use --format csv)"),
    (40, ["out"], "(start, jump, diagnostics, rf, in hidden: 40 columns; widen the terminal or use --format csv)"),
])
def test_a_narrow_terminal_drops_minor_columns_and_says_so(width, expect_columns, hidden):
    import io

    from rich.console import Console

    from convshape import calc
    from convshape.render.table import COLUMNS, render

    result = calc((ROOT / "examples" / "resnet50.stack").read_text(), 224, channels=3)
    out = io.StringIO()
    render(result, Console(file=out, width=width, force_terminal=True, color_system=None), False)
    text = out.getvalue()
    header = next(line for line in text.splitlines() if "layer" in line)
    shown = [name for name, _ in COLUMNS if f" {name} " in header]
    assert shown == ["#", "layer", *expect_columns]
    said = " ".join(text.split())
    assert said.count(" ".join(hidden.split())) == 1 if hidden else "hidden" not in said  # once (the line may wrap)
    rows = [line for line in text.splitlines() if line.startswith("│")]
    whole = {"×".join(map(str, [row.out_channels, *row.out_size])) for row in result.rows if row.out_size}
    drawn = [shape for line in rows for shape in re.findall(r"\d[\d×]*×[\d×]*", line)]
    assert drawn and set(drawn) <= whole | {"3×224×224"}  # no shape is ever split or cut
    assert sum("2048×7×7" in line for line in rows) >= 3
    assert max(len(line) for line in text.splitlines()) <= width


@pytest.mark.parametrize("width", [80, 60, 40])
def test_a_fit_rule_is_never_squeezed(width):
    import io

    from rich.console import Console

    from convshape.fit import analyse
    from convshape.grammar import parse_stack
    from convshape.render.answers import fit_table

    fit = analyse(parse_stack((ROOT / "examples" / "unet-encoder.stack").read_text()))
    out = io.StringIO()
    fit_table(Console(file=out, width=width, force_terminal=True, color_system=None), fit, 570, None, False, piped=False)
    text = out.getvalue()
    assert "H ≡ 12 (mod 16), H ≥ 140" in text and "556 / 572" in text and "…" not in text
    assert "(smallest valid" in text and "hidden:" in text


def test_force_color_in_a_pipe_keeps_the_natural_width(run):
    plain = run("calc", "-i", "224", "-c", "3", "-f", str(ROOT / "examples" / "resnet50.stack"))
    forced = run("calc", "-i", "224", "-c", "3", "-f", str(ROOT / "examples" / "resnet50.stack"),
                 env={"FORCE_COLOR": "1", "TERM": "xterm-256color", "COLUMNS": "80"})
    assert "\x1b[" in forced.stdout
    assert re.sub(r"\x1b\[[0-9;]*m", "", forced.stdout) == plain.stdout
    assert "hidden" not in forced.stdout and not any(line.endswith(" ") for line in plain.stdout.splitlines())


def test_the_installed_version_is_the_one_the_cli_prints(run):
    from importlib.metadata import version

    assert run("--version").stdout == f"convshape {version('convshape')}\n"


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_a_real_terminal_is_measured_even_where_rich_assumes_80_columns(tmp_path):
    """TERM=dumb: Rich lays out for 80 columns; convshape asks the terminal (here 60 wide)."""
    import subprocess
    import time
    import uuid

    server = f"convshape-width-{uuid.uuid4().hex[:8]}"
    script = tmp_path / "show.sh"
    script.write_text(f"TERM=dumb COLUMNS= {shlex.quote(convshape_command()[0])} calc -i 224 -c 3 "
                      f"-f {shlex.quote(str(ROOT / 'examples' / 'resnet50.stack'))} --no-color; sleep 30\n")
    subprocess.run(["tmux", "-L", server, "new-session", "-d", "-x", "60", "-y", "300", f"bash {script}"], check=True)
    try:
        screen = ""
        for _ in range(50):
            time.sleep(0.2)
            screen = subprocess.run(["tmux", "-L", server, "capture-pane", "-p", "-S", "-300"], capture_output=True,
                                    text=True).stdout
            if "output:" in screen:
                break
        assert "hidden: 60 columns" in " ".join(screen.split()), screen
    finally:
        subprocess.run(["tmux", "-L", server, "kill-server"], capture_output=True)
